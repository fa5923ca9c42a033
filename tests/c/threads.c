/*
 * threads: every kind of call a multithreaded host makes, at once, for a
 * while, without forking: the ThreadSanitizer run's stress program
 * (scripts/tsan; any C host may run it).
 *
 *   threads [--threads T] [--seconds S]
 *
 * T threads loop on credchain_get_credentials/free (checking the strings),
 * with an invalidation every 7th call (new snapshots retired under the
 * other threads' leases), an RDS token every 3rd and its fingerprint every
 * 5th; beside them one thread subscribes and unsubscribes log subscribers
 * and swaps the log callback, one reloads the environment and reads the
 * generation counter, and one asks for the diagnosis. Run with static
 * credentials in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (no upstream).
 *
 * Prints {"calls":..,"errors":..,"invalidations":..,"tokens":..,...,"first_error":..}
 * and exits 0 when no call failed.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "credchain.h"

static atomic_int stop;
static atomic_long calls, errors, invalidations, tokens, fingerprints, log_swaps, subscriptions, messages, reloads,
    diagnoses;
static pthread_mutex_t first_error_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_error[256];

static void sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Counts a failed call; keeps the first one's message. */
static void failed(const char *what, credchain_error *error) {
    atomic_fetch_add(&errors, 1);
    pthread_mutex_lock(&first_error_lock);
    if (first_error[0] == '\0') {
        const char *message = credchain_error_message(error);
        snprintf(first_error, sizeof first_error, "%s: %s", what, message ? message : "(no message)");
    }
    pthread_mutex_unlock(&first_error_lock);
    credchain_error_free(error);
}

static void on_log(credchain_log_level level, const char *message) {
    (void)level;
    (void)message;
    atomic_fetch_add(&messages, 1);
}

static void on_subscribed_log(credchain_log_level level, const char *message, void *userdata) {
    (void)level;
    (void)message;
    atomic_fetch_add((atomic_long *)userdata, 1);
}

static void *caller(void *arg) {
    long id = (long)arg, i = 0;
    while (!atomic_load(&stop)) {
        const credchain_credentials *c = NULL;
        credchain_error *error = NULL;
        if (credchain_get_credentials(NULL, &c, &error) != CREDCHAIN_OK) {
            failed("get", error);
        } else if (c->access_key_id == NULL || strncmp(c->access_key_id, "AKID", 4) != 0 || c->secret_access_key == NULL) {
            failed("get: unexpected credentials", NULL);
        }
        credchain_free_credentials(c);
        if ((i + id) % 7 == 0) {
            error = NULL;
            if (credchain_invalidate(NULL, &error) != CREDCHAIN_OK) failed("invalidate", error);
            atomic_fetch_add(&invalidations, 1);
        }
        if ((i + id) % 3 == 0) {
            char *token = NULL;
            error = NULL;
            if (credchain_rds_auth_token(NULL, "mydb.cluster-abc.us-east-1.rds.amazonaws.com", 5432, "app", NULL, 0,
                                         &token, &error) != CREDCHAIN_OK) {
                failed("rds token", error);
            } else {
                atomic_fetch_add(&tokens, 1);
                if ((i + id) % 5 == 0) {
                    char *fingerprint = NULL;
                    error = NULL;
                    if (credchain_token_fingerprint(token, &fingerprint, &error) != CREDCHAIN_OK) {
                        failed("fingerprint", error);
                    }
                    atomic_fetch_add(&fingerprints, 1);
                    credchain_string_free(fingerprint);
                }
            }
            credchain_string_free(token);
        }
        atomic_fetch_add(&calls, 1);
        i++;
    }
    return NULL;
}

static void *logs(void *unused) {
    atomic_long seen = 0;
    (void)unused;
    while (!atomic_load(&stop)) {
        uint64_t subscription = 0;
        credchain_error *error = NULL;
        if (credchain_log_subscribe(CREDCHAIN_LOG_TRACE, on_subscribed_log, &seen, &subscription, &error) !=
            CREDCHAIN_OK) {
            failed("log subscribe", error);
            continue;
        }
        atomic_fetch_add(&subscriptions, 1);
        if (credchain_set_log_callback(CREDCHAIN_LOG_TRACE, on_log) != CREDCHAIN_OK) failed("set log callback", NULL);
        sleep_ms(2);
        if (credchain_set_log_callback(CREDCHAIN_LOG_OFF, NULL) != CREDCHAIN_OK) failed("log callback off", NULL);
        atomic_fetch_add(&log_swaps, 1);
        error = NULL;
        /* Returns once calls into the callback have finished: `seen` may then go. */
        if (credchain_log_unsubscribe(subscription, &error) != CREDCHAIN_OK) failed("log unsubscribe", error);
    }
    atomic_fetch_add(&messages, atomic_load(&seen));
    return NULL;
}

static void *environment(void *unused) {
    const uint64_t *generation = credchain_generation_counter();
    uint64_t last = 0;
    (void)unused;
    while (!atomic_load(&stop)) {
        uint64_t now;
        credchain_reload_environment();
        now = __atomic_load_n(generation, __ATOMIC_ACQUIRE);
        if (now < last) failed("the generation counter went back", NULL);
        last = now;
        atomic_fetch_add(&reloads, 1);
        sleep_ms(10);
    }
    return NULL;
}

static void *diagnosis(void *unused) {
    (void)unused;
    while (!atomic_load(&stop)) {
        char *json = NULL;
        credchain_error *error = NULL;
        if (credchain_diagnose(NULL, &json, &error) != CREDCHAIN_OK) failed("diagnose", error);
        credchain_string_free(json);
        atomic_fetch_add(&diagnoses, 1);
        sleep_ms(100);
    }
    return NULL;
}

int main(int argc, char **argv) {
    long threads = 8, i;
    double seconds = 10;
    pthread_t ids[64], helpers[3];
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atol(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) seconds = atof(argv[++i]);
        else return 2;
    }
    if (threads < 1 || threads > 64 || seconds <= 0) return 2;
    for (i = 0; i < threads; i++) pthread_create(&ids[i], NULL, caller, (void *)i);
    pthread_create(&helpers[0], NULL, logs, NULL);
    pthread_create(&helpers[1], NULL, environment, NULL);
    pthread_create(&helpers[2], NULL, diagnosis, NULL);
    sleep_ms((long)(seconds * 1000));
    atomic_store(&stop, 1);
    for (i = 0; i < threads; i++) pthread_join(ids[i], NULL);
    for (i = 0; i < 3; i++) pthread_join(helpers[i], NULL);
    printf("{\"calls\":%ld,\"errors\":%ld,\"invalidations\":%ld,\"tokens\":%ld,\"fingerprints\":%ld,"
           "\"log_swaps\":%ld,\"subscriptions\":%ld,\"log_messages\":%ld,\"reloads\":%ld,\"diagnoses\":%ld,"
           "\"first_error\":",
           atomic_load(&calls), atomic_load(&errors), atomic_load(&invalidations), atomic_load(&tokens),
           atomic_load(&fingerprints), atomic_load(&log_swaps), atomic_load(&subscriptions), atomic_load(&messages),
           atomic_load(&reloads), atomic_load(&diagnoses));
    if (first_error[0] == '\0') {
        printf("null}\n");
    } else {
        const unsigned char *p;
        putchar('"');
        for (p = (const unsigned char *)first_error; *p; p++) {
            if (*p == '"' || *p == '\\') printf("\\%c", *p);
            else if (*p < 0x20) printf("\\u%04x", *p);
            else putchar(*p);
        }
        printf("\"}\n");
    }
    return atomic_load(&errors) == 0 && atomic_load(&calls) > 0 ? 0 : 1;
}
