/*
 * env_race: a host that writes its own environment while credchain reads it.
 *
 *   env_race [--seconds S] [--writers W] [--vars N]
 *
 * One thread calls credchain_get_credentials(NULL) in a loop (static
 * credentials, CREDCHAIN_STATIC_RECHECK_MS small so the library re-reads its
 * inputs all the time); W threads setenv()/unsetenv() N distinct non-AWS
 * variables (HOSTILE_ENV_<writer>_<i>) in a loop, so glibc reallocates and
 * rewrites `environ` under the library's feet. Hosts do this (a JVM, a Python
 * program writing os.environ) and POSIX lets them.
 *
 * Prints {"calls":..,"ok":..,"failed":..,"env_writes":..,"first_error":..} and exits 0
 * when every call succeeded; a crash shows as a signal.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credchain.h"
#include "common.h"

static atomic_int stop;
static atomic_long env_writes;
static long vars = 2000;

static void *writer(void *arg) {
    long id = (long)arg;
    char name[64], value[160];
    long round = 0;
    while (!atomic_load(&stop)) {
        long i;
        for (i = 0; i < vars && !atomic_load(&stop); i++) {
            int len = (int)((i * 7 + round) % 120) + 1;
            snprintf(name, sizeof name, "HOSTILE_ENV_%ld_%ld", id, i);
            memset(value, 'a' + (int)((i + round) % 26), (size_t)len);
            value[len] = '\0';
            setenv(name, value, 1);
            atomic_fetch_add(&env_writes, 1);
        }
        for (i = 0; i < vars && !atomic_load(&stop); i++) {
            snprintf(name, sizeof name, "HOSTILE_ENV_%ld_%ld", id, i);
            unsetenv(name);
            atomic_fetch_add(&env_writes, 1);
        }
        round++;
    }
    return NULL;
}

int main(int argc, char **argv) {
    double seconds = 60, deadline;
    long writers = 2, i, calls = 0, ok = 0, failed = 0;
    pthread_t threads[16];
    char first_error[512] = "";
    unsigned first_code = 0;
    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--seconds") == 0) seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--writers") == 0) writers = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--vars") == 0) vars = atol(argv[i + 1]);
        else return 2;
    }
    if (writers < 1 || writers > 16) return 2;
    /* The first call resolves the chain before the environment starts moving. */
    {
        credchain_credentials *c = NULL;
        if (credchain_get_credentials(NULL, HOSTILE_OUT(&c), NULL) != CREDCHAIN_OK) {
            fprintf(stderr, "env_race: no credentials before the race\n");
            return 3;
        }
        credchain_free_credentials(c);
    }
    for (i = 0; i < writers; i++) pthread_create(&threads[i], NULL, writer, (void *)i);
    deadline = hostile_now_ms() + seconds * 1000.0;
    /* The main thread is the reader. */
    while (hostile_now_ms() < deadline) {
        credchain_credentials *c = NULL;
        credchain_error *e = NULL;
        credchain_result rc = credchain_get_credentials(NULL, HOSTILE_OUT(&c), &e);
        calls++;
        if (rc == CREDCHAIN_OK) {
            ok++;
        } else {
            if (failed == 0) {
                first_code = (unsigned)rc;
                snprintf(first_error, sizeof first_error, "%s", credchain_error_message(e));
            }
            failed++;
        }
        credchain_free_credentials(c);
        credchain_error_free(e);
    }
    atomic_store(&stop, 1);
    for (i = 0; i < writers; i++) pthread_join(threads[i], NULL);
    printf("{\"calls\":%ld,\"ok\":%ld,\"failed\":%ld,\"env_writes\":%ld,\"first_code\":%u,\"first_error\":", calls,
           ok, failed, atomic_load(&env_writes), first_code);
    hostile_json_string(stdout, failed ? first_error : NULL);
    printf("}\n");
    return failed == 0 ? 0 : 1;
}
