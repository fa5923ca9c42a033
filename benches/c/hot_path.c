/*
 * hot_path: nanoseconds per credchain_get_credentials + credchain_free_credentials
 * pair on a warm cache, on 1 thread and on 8, beside the floor a copying API
 * could not go under: malloc + free of a struct and the same five strings.
 *
 * With --second PATH it also loads PATH, a second file of the library (as
 * a second driver would ship it), and measures the same pair through it: a
 * forwarding copy, whose calls reach the serving copy (the one linked here).
 *
 *   hot_path [--seconds S] [--second PATH]   (static credentials in the environment)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "credchain.h"

static double seconds = 2.0;
static const credchain_credentials *sample;

/* The pair as called: the serving copy's own functions, or a second copy's. */
static credchain_result (*get_fn)(const char *, const credchain_credentials **, credchain_error **) =
    credchain_get_credentials;
static void (*free_fn)(const credchain_credentials *) = credchain_free_credentials;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *copy(const char *text) {
    size_t n;
    char *out;
    if (text == NULL) return NULL;
    n = strlen(text) + 1;
    out = malloc(n);
    if (out != NULL) memcpy(out, text, n);
    return out;
}

/* What a copying API costs at least: one struct and five strings. */
static long long copy_floor(double limit) {
    long long calls = 0;
    double end = now() + limit;
    volatile const char *sink;
    while (now() < end) {
        int i;
        for (i = 0; i < 1000; i++) {
            credchain_credentials *c = malloc(sizeof *c);
            c->access_key_id = copy(sample->access_key_id);
            c->secret_access_key = copy(sample->secret_access_key);
            c->session_token = copy(sample->session_token);
            c->account_id = copy(sample->account_id);
            c->source = copy(sample->source);
            sink = c->access_key_id;
            free((void *)c->access_key_id);
            free((void *)c->secret_access_key);
            free((void *)c->session_token);
            free((void *)c->account_id);
            free((void *)c->source);
            free(c);
        }
        calls += 1000;
    }
    (void)sink;
    return calls;
}

/* The floor the issue tracker measures against: strdup+free of the four
   strings a caller needs (key id, secret, token, source). */
static long long strdup_floor(double limit) {
    long long calls = 0;
    double end = now() + limit;
    volatile const char *sink;
    while (now() < end) {
        int i;
        for (i = 0; i < 1000; i++) {
            char *a = copy(sample->access_key_id), *b = copy(sample->secret_access_key);
            char *c = copy(sample->session_token), *d = copy(sample->source);
            sink = a;
            free(a);
            free(b);
            free(c);
            free(d);
        }
        calls += 1000;
    }
    (void)sink;
    return calls;
}

static long long get_free(double limit) {
    long long calls = 0;
    double end = now() + limit;
    while (now() < end) {
        int i;
        for (i = 0; i < 1000; i++) {
            const credchain_credentials *c = NULL;
            if (get_fn(NULL, &c, NULL) != CREDCHAIN_OK) {
                fprintf(stderr, "hot_path: get failed\n");
                exit(1);
            }
            free_fn(c);
        }
        calls += 1000;
    }
    return calls;
}

struct job { long long (*fn)(double); long long calls; };

static void *run_job(void *arg) {
    struct job *j = arg;
    j->calls = j->fn(seconds);
    return NULL;
}

static double ns_per_call(long long (*fn)(double), int threads) {
    pthread_t ids[64];
    struct job jobs[64];
    long long total = 0;
    int i;
    for (i = 0; i < threads; i++) {
        jobs[i].fn = fn;
        pthread_create(&ids[i], NULL, run_job, &jobs[i]);
    }
    for (i = 0; i < threads; i++) {
        pthread_join(ids[i], NULL);
        total += jobs[i].calls;
    }
    /* Per call as one thread sees it: wall time x threads / calls. */
    return seconds * 1e9 * threads / (double)total;
}

/* Switches the measured pair to the copy of the library at `path`. */
static void use_second_copy(const char *path) {
    void *copy = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (copy == NULL) {
        fprintf(stderr, "hot_path: %s\n", dlerror());
        exit(1);
    }
    *(void **)&get_fn = dlsym(copy, "credchain_get_credentials");
    *(void **)&free_fn = dlsym(copy, "credchain_free_credentials");
}

int main(int argc, char **argv) {
    double get1, get8, floor1, floor8, strdup1;
    const char *second = NULL;
    int i;
    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--seconds") == 0) seconds = atof(argv[i + 1]);
        if (strcmp(argv[i], "--second") == 0) second = argv[i + 1];
    }
    if (credchain_get_credentials(NULL, &sample, NULL) != CREDCHAIN_OK) {
        fprintf(stderr, "hot_path: no credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n");
        return 1;
    }
    get1 = ns_per_call(get_free, 1);
    floor1 = ns_per_call(copy_floor, 1);
    get8 = ns_per_call(get_free, 8);
    floor8 = ns_per_call(copy_floor, 8);
    strdup1 = ns_per_call(strdup_floor, 1);
    printf("warm cache, ns per get+free pair (lower is better)\n");
    printf("%-44s %10s %10s\n", "", "1 thread", "8 threads");
    printf("%-44s %10.1f %10.1f\n", "credchain_get_credentials + free", get1, get8);
    printf("%-44s %10.1f %10.1f\n", "malloc+free of the struct and its 5 strings", floor1, floor8);
    printf("%-44s %10.2f %10.2f\n", "ratio credchain / copy floor", get1 / floor1, get8 / floor8);
    printf("%-44s %10.1f\n", "strdup+free of its 4 strings", strdup1);
    printf("%-44s %10.2f\n", "ratio credchain / strdup floor", get1 / strdup1);
    if (second != NULL) {
        double fwd1, fwd8;
        use_second_copy(second);
        fwd1 = ns_per_call(get_free, 1);
        fwd8 = ns_per_call(get_free, 8);
        printf("%-44s %10.1f %10.1f\n", "the same pair through a forwarding copy", fwd1, fwd8);
        printf("%-44s %+10.1f %+10.1f\n", "forwarding costs (ns)", fwd1 - get1, fwd8 - get8);
    }
    printf("(8 threads share the machine's cores: per-call time as each thread sees it)\n");
    credchain_free_credentials(sample);
    return 0;
}
