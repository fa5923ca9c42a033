/*
 * A host with two copies of libcredchain loaded from two files
 * (dlopen, RTLD_LOCAL), as when two drivers each ship their own.
 *
 *   two_copies COPY_A COPY_B race ROUNDS   8 threads, 4 per copy, start their
 *                                          first calls together; then each
 *                                          round invalidates through one copy
 *                                          and races again
 *   two_copies COPY_A COPY_B fork          the child of a fork still has one
 *                                          serving copy
 *   two_copies COPY_A COPY_B apart         copies that cannot share (another
 *                                          ABI major): each its own cache
 *   two_copies COPY_A COPY_B diagnose      prints credchain_diagnose's JSON
 *   two_copies COPY_A COPY_B newer         credchain_token_fingerprint (ABI 1.1)
 *                                          through each copy, then keys: with
 *                                          an older copy (ABI 1.0) serving,
 *                                          the newer copy gets a clear error
 *                                          and still shares the one cache
 *
 * CREDCHAIN_TEST_FIRST_GLOBAL=1 opens copy A with RTLD_GLOBAL (as JNA does, or
 * a program linked against it): copy B must still know itself.
 *
 * The credential source is a credential_process that counts its runs
 * (tests/copies/test_copies.py); every access key seen is printed as
 * "key A|B KEY" so that the test can count distinct keys.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "credchain.h"

typedef struct {
    const char *name;
    void *handle;
    credchain_result (*get)(const char *, const struct credchain_credentials **, struct credchain_error **);
    void (*free_credentials)(const struct credchain_credentials *);
    credchain_result (*invalidate)(const char *, struct credchain_error **);
    credchain_result (*diagnose)(const char *, char **, struct credchain_error **);
    void (*string_free)(char *);
    const char *(*error_message)(const struct credchain_error *);
    void (*error_free)(struct credchain_error *);
    credchain_result (*error_code)(const struct credchain_error *);
    credchain_result (*token_fingerprint)(const char *, char **, struct credchain_error **);
} copy;

static void *need(void *handle, const char *symbol) {
    void *found = dlsym(handle, symbol);
    if (!found) {
        fprintf(stderr, "missing %s: %s\n", symbol, dlerror());
        exit(2);
    }
    return found;
}

static copy open_copy(const char *name, const char *path, int scope) {
    copy c = {.name = name};
    c.handle = dlopen(path, RTLD_NOW | scope);
    if (!c.handle) {
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
        exit(2);
    }
    *(void **)&c.get = need(c.handle, "credchain_get_credentials");
    *(void **)&c.free_credentials = need(c.handle, "credchain_free_credentials");
    *(void **)&c.invalidate = need(c.handle, "credchain_invalidate");
    *(void **)&c.diagnose = need(c.handle, "credchain_diagnose");
    *(void **)&c.string_free = need(c.handle, "credchain_string_free");
    *(void **)&c.error_message = need(c.handle, "credchain_error_message");
    *(void **)&c.error_free = need(c.handle, "credchain_error_free");
    *(void **)&c.error_code = need(c.handle, "credchain_error_code");
    *(void **)&c.token_fingerprint = need(c.handle, "credchain_token_fingerprint");
    return c;
}

/* The access key through `c`, copied into `out`; 0 on success. */
static int key_through(const copy *c, char *out, size_t size) {
    const struct credchain_credentials *creds = NULL;
    struct credchain_error *error = NULL;
    if (c->get(NULL, &creds, &error) != CREDCHAIN_OK) {
        fprintf(stderr, "copy %s: %s\n", c->name, c->error_message(error));
        c->error_free(error);
        return 1;
    }
    snprintf(out, size, "%s", creds->access_key_id);
    c->free_credentials(creds);
    return 0;
}

#define THREADS 8
static copy copies[2];
static pthread_barrier_t start;
static char seen[THREADS][64];

static void *caller(void *arg) {
    intptr_t index = (intptr_t)arg;
    pthread_barrier_wait(&start);
    if (key_through(&copies[index % 2], seen[index], sizeof seen[index]) != 0) {
        seen[index][0] = '\0';
    }
    return NULL;
}

/* 8 threads call at once, half through each copy; all must see one key. */
static int race_once(void) {
    pthread_t threads[THREADS];
    pthread_barrier_init(&start, NULL, THREADS);
    for (intptr_t i = 0; i < THREADS; i++) pthread_create(&threads[i], NULL, caller, (void *)i);
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < THREADS; i++) {
        if (seen[i][0] == '\0' || strcmp(seen[i], seen[0]) != 0) {
            fprintf(stderr, "thread %d saw '%s', thread 0 '%s'\n", i, seen[i], seen[0]);
            return 1;
        }
    }
    printf("key race %s\n", seen[0]);
    return 0;
}

static int race(int rounds) {
    for (int round = 0; round < rounds; round++) {
        if (race_once() != 0) return 1;
        struct credchain_error *error = NULL;
        if (copies[round % 2].invalidate(NULL, &error) != CREDCHAIN_OK) return 1;
    }
    return 0;
}

static int print_keys(const char *who) {
    char a[64], b[64];
    if (key_through(&copies[0], a, sizeof a) || key_through(&copies[1], b, sizeof b)) return 1;
    printf("%s key A %s\n%s key B %s\n", who, a, who, b);
    return 0;
}

static int after_fork(void) {
    if (print_keys("parent")) return 1;
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        struct credchain_error *error = NULL;
        int failed = print_keys("child");
        failed |= copies[1].invalidate(NULL, &error) != CREDCHAIN_OK;
        failed |= print_keys("child-after-invalidate");
        fflush(stdout);
        _exit(failed);
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* Prints "fingerprint A|B RESULT TEXT" for each copy: the fingerprint, or
 * the error's code and message. */
static int newer_and_older(void) {
    for (int i = 0; i < 2; i++) {
        char *fingerprint = NULL;
        struct credchain_error *error = NULL;
        credchain_result result = copies[i].token_fingerprint("a-token", &fingerprint, &error);
        if (result == CREDCHAIN_OK) {
            printf("fingerprint %s ok %s\n", copies[i].name, fingerprint);
            copies[i].string_free(fingerprint);
        } else {
            printf("fingerprint %s %d %d %s\n", copies[i].name, (int)result, (int)copies[i].error_code(error),
                   copies[i].error_message(error));
            copies[i].error_free(error);
        }
    }
    return print_keys("newer");
}

static int diagnose(void) {
    char *json = NULL;
    struct credchain_error *error = NULL;
    if (copies[1].diagnose(NULL, &json, &error) != CREDCHAIN_OK) return 1;
    printf("%s\n", json);
    copies[1].string_free(json);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s COPY_A COPY_B race ROUNDS|fork|apart|diagnose|newer\n", argv[0]);
        return 2;
    }
    const char *first_global = getenv("CREDCHAIN_TEST_FIRST_GLOBAL");
    copies[0] = open_copy("A", argv[1], first_global && *first_global == '1' ? RTLD_GLOBAL : RTLD_LOCAL);
    copies[1] = open_copy("B", argv[2], RTLD_LOCAL);
    const char *mode = argv[3];
    int status = 2;
    if (strcmp(mode, "race") == 0) {
        status = race(argc > 4 ? atoi(argv[4]) : 1);
    } else if (strcmp(mode, "fork") == 0) {
        status = after_fork();
    } else if (strcmp(mode, "apart") == 0) {
        status = print_keys("apart") || diagnose();
    } else if (strcmp(mode, "diagnose") == 0) {
        status = diagnose();
    } else if (strcmp(mode, "newer") == 0) {
        status = newer_and_older();
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
    }
    return status;
}
