/*
 * probe: calls credchain_get_credentials and prints one JSON object per call.
 *
 *   probe [--profile NAME] [--repeat N] [--interval-ms M] [--threads T] [--invalidate-first]
 *         [--invalidate-each]
 *
 * Success: {"ok":true,"source":..,"access_key_id":..,"secret_access_key":..,
 *           "session_token":..|null,"account_id":..|null,"expiration":N,"elapsed_us":N}
 * Failure: {"ok":false,"code":N,"message":..,"source":..|null,"elapsed_us":N}
 * Exit status 0 when every call succeeded, 1 otherwise, 2 on bad usage.
 * Written only against include/credchain.h. Test credentials only: it prints secrets.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "credchain.h"
#include "json_out.h"

static const char *profile = NULL;
static long repeat = 1;
static long interval_ms = 0;
static long threads = 1;
static int failures = 0;
static int invalidate_each = 0;
static pthread_mutex_t output_lock = PTHREAD_MUTEX_INITIALIZER;

static long long now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void print_success(const credchain_credentials *c, long long elapsed) {
    printf("{\"ok\":true,\"source\":");
    json_string(stdout, c->source);
    printf(",\"access_key_id\":");
    json_string(stdout, c->access_key_id);
    printf(",\"secret_access_key\":");
    json_string(stdout, c->secret_access_key);
    printf(",\"session_token\":");
    json_string(stdout, c->session_token);
    printf(",\"account_id\":");
    json_string(stdout, c->account_id);
    printf(",\"expiration\":%lld,\"elapsed_us\":%lld}\n", (long long)c->expiration, elapsed);
}

static void print_failure(credchain_result code, const credchain_error *error, long long elapsed) {
    printf("{\"ok\":false,\"code\":%u,\"message\":", (unsigned)code);
    json_string(stdout, credchain_error_message(error));
    printf(",\"source\":");
    json_string(stdout, credchain_error_source(error));
    printf(",\"elapsed_us\":%lld}\n", elapsed);
}

static void call_once(void) {
    const credchain_credentials *creds = NULL;
    credchain_error *error = NULL;
    long long start = now_us();
    credchain_result code = credchain_get_credentials(profile, &creds, &error);
    long long elapsed = now_us() - start;
    pthread_mutex_lock(&output_lock);
    if (code == CREDCHAIN_OK) {
        print_success(creds, elapsed);
    } else {
        print_failure(code, error, elapsed);
        failures++;
    }
    fflush(stdout);
    pthread_mutex_unlock(&output_lock);
    credchain_free_credentials(creds);
    credchain_error_free(error);
}

static void *worker(void *unused) {
    long i;
    (void)unused;
    for (i = 0; i < repeat; i++) {
        if (i > 0 && interval_ms > 0) {
            struct timespec pause;
            pause.tv_sec = interval_ms / 1000;
            pause.tv_nsec = (interval_ms % 1000) * 1000000L;
            nanosleep(&pause, NULL);
        }
        if (invalidate_each) {
            credchain_invalidate(profile, NULL);
        }
        call_once();
    }
    return NULL;
}

static int usage(void) {
    fprintf(stderr, "usage: probe [--profile NAME] [--repeat N] [--interval-ms M] [--threads T] [--invalidate-first] [--invalidate-each]\n");
    return 2;
}

int main(int argc, char **argv) {
    int i;
    int invalidate_first = 0;
    pthread_t ids[256];
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--invalidate-first") == 0) {
            invalidate_first = 1;
        } else if (strcmp(argv[i], "--invalidate-each") == 0) {
            invalidate_each = 1;
        } else if (i + 1 < argc && strcmp(argv[i], "--profile") == 0) {
            profile = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--repeat") == 0) {
            repeat = atol(argv[++i]);
        } else if (i + 1 < argc && strcmp(argv[i], "--interval-ms") == 0) {
            interval_ms = atol(argv[++i]);
        } else if (i + 1 < argc && strcmp(argv[i], "--threads") == 0) {
            threads = atol(argv[++i]);
        } else {
            return usage();
        }
    }
    if (threads < 1 || threads > 256 || repeat < 1) {
        return usage();
    }
    if (invalidate_first && credchain_invalidate(profile, NULL) != CREDCHAIN_OK) {
        fprintf(stderr, "probe: invalidate failed\n");
        return 2;
    }
    for (i = 0; i < threads; i++) {
        if (pthread_create(&ids[i], NULL, worker, NULL) != 0) {
            fprintf(stderr, "probe: cannot start thread\n");
            return 2;
        }
    }
    for (i = 0; i < threads; i++) {
        pthread_join(ids[i], NULL);
    }
    return failures == 0 ? 0 : 1;
}
