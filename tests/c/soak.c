/*
 * soak: threads call credchain_get_credentials without pause for a while and
 * report what they saw, as one JSON object:
 *   {"calls":N,"errors":N,"expired_served":N,"distinct_keys":N,
 *    "p50_us":N,"p99_us":N,"max_us":N,"blocked_calls":N,"max_blocked_us":N,
 *    "max_unpreempted_us":N,"first_error":"..."|null}
 *
 * With more threads than cores, a call's wall time includes the time the
 * kernel kept its thread off the CPU. Each call reads the thread's context
 * switch counts (getrusage) before and after: a call that slept (a voluntary
 * switch: it waited inside the library) counts as blocked; a call that was
 * only preempted is left out of max_unpreempted_us, which is then the
 * library's own worst case.
 *
 *   soak [--threads T] [--seconds S] [--profile NAME] [--warm-up]
 *
 * --warm-up makes one call before the threads start, so that the cold fetch
 * (which must wait for the upstream once) is reported apart, as "warm_up_us",
 * and one untimed call on each thread before its loop, so that a new
 * thread's one-time set-up (its thread-local state, its first allocations,
 * which may sleep on the kernel's memory-map lock while other threads
 * start) is not counted as a wait on the cache.
 *
 * Used by the refresh tests (rotating credential_process credentials) and by
 * the refresh-under-load benchmark. Never prints credentials.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "credchain.h"
#include "json_out.h"

#define BUCKETS 200000 /* one per microsecond; slower calls land in the last */
#define MAX_KEYS 1024

static const char *profile = NULL;
static double seconds = 10;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *keys[MAX_KEYS];
static int key_count = 0;
static char first_error[512];
static int have_error = 0;
static int warm_up = 0;

struct tally {
    long long calls, errors, expired, max_us, blocked, max_blocked_us, max_unpreempted_us;
    long long *histogram;
};

static long long now_ns(int clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void remember_key(const char *key) {
    int i;
    pthread_mutex_lock(&lock);
    for (i = 0; i < key_count; i++) {
        if (strcmp(keys[i], key) == 0) {
            pthread_mutex_unlock(&lock);
            return;
        }
    }
    if (key_count < MAX_KEYS) {
        keys[key_count] = malloc(strlen(key) + 1);
        if (keys[key_count] != NULL) {
            strcpy(keys[key_count], key);
            key_count++;
        }
    }
    pthread_mutex_unlock(&lock);
}

static void remember_error(const credchain_error *error) {
    pthread_mutex_lock(&lock);
    if (!have_error) {
        const char *message = credchain_error_message(error);
        snprintf(first_error, sizeof first_error, "%s", message != NULL ? message : "(no detail)");
        have_error = 1;
    }
    pthread_mutex_unlock(&lock);
}

static void *worker(void *arg) {
    struct tally *t = arg;
    long long end = now_ns(CLOCK_MONOTONIC) + (long long)(seconds * 1e9);
    char last_key[256] = "";
    if (warm_up) {
        const credchain_credentials *c = NULL;
        credchain_get_credentials(profile, &c, NULL);
        credchain_free_credentials(c);
    }
    while (now_ns(CLOCK_MONOTONIC) < end) {
        const credchain_credentials *c = NULL;
        credchain_error *e = NULL;
        struct rusage before, after;
        long long start, us;
        credchain_result code;
        getrusage(RUSAGE_THREAD, &before);
        start = now_ns(CLOCK_MONOTONIC);
        code = credchain_get_credentials(profile, &c, &e);
        us = (now_ns(CLOCK_MONOTONIC) - start) / 1000;
        getrusage(RUSAGE_THREAD, &after);
        if (after.ru_nvcsw != before.ru_nvcsw) {
            t->blocked++;
            if (us > t->max_blocked_us) t->max_blocked_us = us;
        }
        if (after.ru_nvcsw != before.ru_nvcsw || after.ru_nivcsw == before.ru_nivcsw) {
            if (us > t->max_unpreempted_us) t->max_unpreempted_us = us;
        }
        t->calls++;
        t->histogram[us < BUCKETS ? us : BUCKETS - 1]++;
        if (us > t->max_us) {
            t->max_us = us;
        }
        if (code != CREDCHAIN_OK) {
            t->errors++;
            remember_error(e);
        } else {
            if (c->expiration != 0 && c->expiration * 1000000000LL <= now_ns(CLOCK_REALTIME)) {
                t->expired++;
            }
            if (strncmp(last_key, c->access_key_id, sizeof last_key) != 0) {
                snprintf(last_key, sizeof last_key, "%s", c->access_key_id);
                remember_key(last_key);
            }
        }
        credchain_free_credentials(c);
        credchain_error_free(e);
    }
    return NULL;
}

static long long percentile(const long long *histogram, long long total, double fraction) {
    long long wanted = (long long)(total * fraction);
    long long seen = 0;
    long long i;
    for (i = 0; i < BUCKETS; i++) {
        seen += histogram[i];
        if (seen > wanted) {
            return i;
        }
    }
    return BUCKETS - 1;
}

int main(int argc, char **argv) {
    int threads = 8, i;
    long long warm_up_us = -1;
    long long b;
    pthread_t ids[256];
    struct tally tallies[256];
    struct tally total;
    for (i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--threads") == 0) {
            threads = atoi(argv[++i]);
        } else if (i + 1 < argc && strcmp(argv[i], "--seconds") == 0) {
            seconds = atof(argv[++i]);
        } else if (i + 1 < argc && strcmp(argv[i], "--profile") == 0) {
            profile = argv[++i];
        } else if (strcmp(argv[i], "--warm-up") == 0) {
            warm_up = 1;
        } else {
            fprintf(stderr, "usage: soak [--threads T] [--seconds S] [--profile NAME] [--warm-up]\n");
            return 2;
        }
    }
    if (threads < 1 || threads > 256) {
        return 2;
    }
    if (warm_up) {
        const credchain_credentials *c = NULL;
        long long start = now_ns(CLOCK_MONOTONIC);
        credchain_result code = credchain_get_credentials(profile, &c, NULL);
        warm_up_us = (now_ns(CLOCK_MONOTONIC) - start) / 1000;
        if (code == CREDCHAIN_OK) remember_key(c->access_key_id);
        credchain_free_credentials(c);
    }
    memset(&total, 0, sizeof total);
    total.histogram = calloc(BUCKETS, sizeof(long long));
    for (i = 0; i < threads; i++) {
        memset(&tallies[i], 0, sizeof tallies[i]);
        tallies[i].histogram = calloc(BUCKETS, sizeof(long long));
        if (tallies[i].histogram == NULL || total.histogram == NULL ||
            pthread_create(&ids[i], NULL, worker, &tallies[i]) != 0) {
            fprintf(stderr, "soak: out of resources\n");
            return 2;
        }
    }
    for (i = 0; i < threads; i++) {
        pthread_join(ids[i], NULL);
        total.calls += tallies[i].calls;
        total.errors += tallies[i].errors;
        total.expired += tallies[i].expired;
        total.blocked += tallies[i].blocked;
        if (tallies[i].max_us > total.max_us) total.max_us = tallies[i].max_us;
        if (tallies[i].max_blocked_us > total.max_blocked_us) total.max_blocked_us = tallies[i].max_blocked_us;
        if (tallies[i].max_unpreempted_us > total.max_unpreempted_us) {
            total.max_unpreempted_us = tallies[i].max_unpreempted_us;
        }
        for (b = 0; b < BUCKETS; b++) {
            total.histogram[b] += tallies[i].histogram[b];
        }
        free(tallies[i].histogram);
    }
    printf("{\"calls\":%lld,\"errors\":%lld,\"expired_served\":%lld,\"distinct_keys\":%d,"
           "\"p50_us\":%lld,\"p99_us\":%lld,\"max_us\":%lld,\"blocked_calls\":%lld,\"max_blocked_us\":%lld,"
           "\"max_unpreempted_us\":%lld,\"warm_up_us\":%lld,\"first_error\":",
           total.calls, total.errors, total.expired, key_count, percentile(total.histogram, total.calls, 0.50),
           percentile(total.histogram, total.calls, 0.99), total.max_us, total.blocked, total.max_blocked_us,
           total.max_unpreempted_us, warm_up_us);
    json_string(stdout, have_error ? first_error : NULL);
    printf("}\n");
    free(total.histogram);
    for (i = 0; i < key_count; i++) {
        free(keys[i]);
    }
    return 0;
}
