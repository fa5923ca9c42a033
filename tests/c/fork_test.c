/*
 * fork_test: a child forked from a process that already holds credentials
 * gets credentials, and again after credchain_invalidate (which needs the
 * fresh runtime the child builds); the parent keeps working afterwards.
 * Expects static credentials in the environment (AWS_ACCESS_KEY_ID=AKIDFORK).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "credchain.h"

static int has_key(const char *expected) {
    const credchain_credentials *c = NULL;
    credchain_error *e = NULL;
    int ok = credchain_get_credentials(NULL, &c, &e) == CREDCHAIN_OK && strcmp(c->access_key_id, expected) == 0;
    if (!ok && e != NULL) {
        fprintf(stderr, "fork_test: %s\n", credchain_error_message(e));
    }
    credchain_free_credentials(c);
    credchain_error_free(e);
    return ok;
}

static int child(void) {
    int failures = 0;
    failures += !has_key("AKIDFORK");
    failures += credchain_invalidate(NULL, NULL) != CREDCHAIN_OK;
    failures += !has_key("AKIDFORK");
    return failures;
}

int main(void) {
    int passed = 0, failed = 0, status = 0, round;
    if (has_key("AKIDFORK")) passed++; else failed++;
    for (round = 0; round < 3; round++) {
        pid_t pid = fork();
        if (pid == 0) {
            _exit(child());
        }
        if (pid < 0 || waitpid(pid, &status, 0) != pid) {
            failed++;
            continue;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) passed++; else failed++;
    }
    if (credchain_invalidate(NULL, NULL) == CREDCHAIN_OK && has_key("AKIDFORK")) passed++; else failed++;
    printf("fork_test: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
