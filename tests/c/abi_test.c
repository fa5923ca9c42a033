/*
 * abi_test: the C ABI's contract, checked from C against the header alone.
 * Run with static credentials in the environment:
 *   AWS_ACCESS_KEY_ID=AKIDABITEST AWS_SECRET_ACCESS_KEY=abi-secret AWS_SESSION_TOKEN=abi-token
 * and no other AWS configuration (HOME pointing at an empty directory).
 * Prints "N passed, N failed" and exits non-zero on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "credchain.h"


static void test_env_credentials(void) {
    const credchain_credentials *c = NULL;
    credchain_error *e = NULL;
    CHECK(credchain_get_credentials(NULL, &c, &e) == CREDCHAIN_OK);
    CHECK(e == NULL);
    CHECK(c != NULL);
    if (c != NULL) {
        CHECK(strcmp(c->source, "env") == 0);
        CHECK(strcmp(c->access_key_id, "AKIDABITEST") == 0);
        CHECK(strcmp(c->secret_access_key, "abi-secret") == 0);
        CHECK(c->session_token != NULL && strcmp(c->session_token, "abi-token") == 0);
        CHECK(c->account_id == NULL);
        CHECK(c->expiration == 0);
        CHECK(c->reuse_until == 0); /* static: good until the generation moves */
    }
    credchain_free_credentials(c);
}

static void test_null_out_pointer(void) {
    credchain_error *e = NULL;
    CHECK(credchain_get_credentials(NULL, NULL, &e) == CREDCHAIN_INVALID_ARGUMENT);
    CHECK(credchain_error_code(e) == CREDCHAIN_INVALID_ARGUMENT);
    CHECK(strcmp(credchain_error_message(e), "out must not be NULL") == 0);
    CHECK(credchain_error_source(e) == NULL);
    credchain_error_free(e);
    /* No error slot at all is allowed too. */
    CHECK(credchain_get_credentials(NULL, NULL, NULL) == CREDCHAIN_INVALID_ARGUMENT);
}

static void test_invalid_utf8_profile(void) {
    const credchain_credentials *c = NULL;
    credchain_error *e = NULL;
    const char bad[] = {'p', (char)0xff, 'x', '\0'};
    CHECK(credchain_get_credentials(bad, &c, &e) == CREDCHAIN_INVALID_ARGUMENT);
    CHECK(c == NULL); /* outputs are written only on success */
    CHECK(strcmp(credchain_error_message(e), "profile is not valid UTF-8") == 0);
    credchain_error_free(e);
}

static void test_huge_profile(void) {
    const credchain_credentials *c = NULL;
    credchain_error *e = NULL;
    size_t size = 1024 * 1024;
    char *huge = malloc(size + 1);
    if (huge == NULL) {
        failed++;
        return;
    }
    memset(huge, 'a', size);
    huge[size] = '\0';
    CHECK(credchain_get_credentials(huge, &c, &e) == CREDCHAIN_INVALID_ARGUMENT);
    CHECK(c == NULL);
    CHECK(strcmp(credchain_error_message(e), "profile is longer than 4096 bytes") == 0);
    credchain_error_free(e);
    free(huge);
}

static void test_empty_profile(void) {
    const credchain_credentials *c = NULL;
    credchain_error *e = NULL;
    CHECK(credchain_get_credentials("", &c, &e) == CREDCHAIN_INVALID_ARGUMENT);
    CHECK(strcmp(credchain_error_message(e), "profile is empty") == 0);
    credchain_error_free(e);
}

static void test_missing_profile(void) {
    const credchain_credentials *c = NULL;
    credchain_error *e = NULL;
    CHECK(credchain_get_credentials("no-such-profile", &c, &e) == CREDCHAIN_PROFILE_NOT_FOUND);
    CHECK(c == NULL);
    CHECK(strcmp(credchain_error_message(e), "the config profile (no-such-profile) could not be found") == 0);
    credchain_error_free(e);
}

static void test_frees_accept_null(void) {
    credchain_free_credentials(NULL);
    credchain_error_free(NULL);
    CHECK(credchain_error_code(NULL) == CREDCHAIN_INVALID_ARGUMENT);
    CHECK(credchain_error_message(NULL) == NULL);
    CHECK(credchain_error_source(NULL) == NULL);
}

static void test_version_matches_macros(void) {
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", CREDCHAIN_VERSION_MAJOR, CREDCHAIN_VERSION_MINOR,
             CREDCHAIN_VERSION_PATCH);
    CHECK(strcmp(credchain_version(), expected) == 0);
    CHECK(strcmp(credchain_version(), CREDCHAIN_VERSION) == 0);
}

static void test_invalidate_bumps_generation(void) {
    const uint64_t *counter = credchain_generation_counter();
    uint64_t before = __atomic_load_n(counter, __ATOMIC_ACQUIRE);
    const credchain_credentials *c = NULL;
    CHECK(credchain_invalidate(NULL, NULL) == CREDCHAIN_OK);
    CHECK(__atomic_load_n(counter, __ATOMIC_ACQUIRE) > before);
    CHECK(credchain_get_credentials(NULL, &c, NULL) == CREDCHAIN_OK);
    CHECK(c != NULL && strcmp(c->access_key_id, "AKIDABITEST") == 0);
    credchain_free_credentials(c);
    CHECK(credchain_invalidate("\xc3\x28", NULL) == CREDCHAIN_INVALID_ARGUMENT);
}

#define THREADS 16
#define CALLS_PER_THREAD 2000

static void *hammer(void *result) {
    int i;
    long bad = 0;
    for (i = 0; i < CALLS_PER_THREAD; i++) {
        const credchain_credentials *c = NULL;
        if (credchain_get_credentials(NULL, &c, NULL) != CREDCHAIN_OK || strcmp(c->access_key_id, "AKIDABITEST") != 0 ||
            strcmp(c->source, "env") != 0) {
            bad++;
        }
        credchain_free_credentials(c);
        if (i % 500 == 0) {
            credchain_invalidate(NULL, NULL); /* invalidations racing with readers */
        }
    }
    *(long *)result = bad;
    return NULL;
}

static void test_sixteen_threads(void) {
    pthread_t ids[THREADS];
    long bad[THREADS];
    int i;
    for (i = 0; i < THREADS; i++) {
        bad[i] = -1;
        CHECK(pthread_create(&ids[i], NULL, hammer, &bad[i]) == 0);
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(ids[i], NULL);
        CHECK(bad[i] == 0);
    }
}

static void on_log(credchain_log_level level, const char *message) {
    (void)level;
    (void)message;
}

static void test_log_callback_and_shutdown(void) {
    const credchain_credentials *c = NULL;
    CHECK(credchain_set_log_callback(CREDCHAIN_LOG_TRACE, on_log) == CREDCHAIN_OK);
    CHECK(credchain_set_log_callback(99, NULL) == CREDCHAIN_OK);
    credchain_shutdown();
    /* A call after shutdown starts a new runtime. */
    CHECK(credchain_invalidate(NULL, NULL) == CREDCHAIN_OK);
    CHECK(credchain_get_credentials(NULL, &c, NULL) == CREDCHAIN_OK);
    credchain_free_credentials(c);
}

static void test_abi_version_matches_the_header(void) {
    uint32_t version = credchain_abi_version();
    CHECK(version >> 16 == CREDCHAIN_ABI_MAJOR);
    CHECK((version & 0xffff) == CREDCHAIN_ABI_MINOR);
}

typedef struct {
    int refreshes;
    int messages;
} seen_log;

static void count_log(credchain_log_level level, const char *message, void *userdata) {
    seen_log *seen = userdata;
    (void)level;
    __atomic_add_fetch(&seen->messages, 1, __ATOMIC_SEQ_CST);
    if (strstr(message, "now come from env") != NULL) __atomic_add_fetch(&seen->refreshes, 1, __ATOMIC_SEQ_CST);
}

static void refresh_once(void) {
    const credchain_credentials *c = NULL;
    CHECK(credchain_invalidate(NULL, NULL) == CREDCHAIN_OK);
    CHECK(credchain_get_credentials(NULL, &c, NULL) == CREDCHAIN_OK);
    credchain_free_credentials(c);
}

static void test_log_subscriptions_are_independent(void) {
    seen_log info = {0, 0}, error_only = {0, 0}, second = {0, 0};
    uint64_t a = 0, b = 0, c = 0;
    CHECK(credchain_log_subscribe(CREDCHAIN_LOG_INFO, count_log, &info, &a, NULL) == CREDCHAIN_OK);
    CHECK(credchain_log_subscribe(CREDCHAIN_LOG_ERROR, count_log, &error_only, &b, NULL) == CREDCHAIN_OK);
    CHECK(credchain_log_subscribe(CREDCHAIN_LOG_INFO, count_log, &second, &c, NULL) == CREDCHAIN_OK);
    CHECK(a != b && b != c && a != c);
    refresh_once();
    CHECK(info.refreshes == 1 && second.refreshes == 1);
    CHECK(error_only.messages == 0);
    /* One host leaving silences only itself; so does the old callback's "off". */
    CHECK(credchain_log_unsubscribe(a, NULL) == CREDCHAIN_OK);
    CHECK(credchain_set_log_callback(CREDCHAIN_LOG_OFF, NULL) == CREDCHAIN_OK);
    refresh_once();
    CHECK(info.refreshes == 1 && second.refreshes == 2);
    credchain_error *e = NULL;
    CHECK(credchain_log_unsubscribe(a, &e) == CREDCHAIN_INVALID_ARGUMENT);
    char expected[128];
    snprintf(expected, sizeof expected, "there is no log subscription %llu (never made, or already ended)",
             (unsigned long long)a);
    CHECK(e != NULL && strcmp(credchain_error_message(e), expected) == 0);
    credchain_error_free(e);
    e = NULL;
    CHECK(credchain_log_subscribe(CREDCHAIN_LOG_INFO, NULL, NULL, &a, &e) == CREDCHAIN_INVALID_ARGUMENT);
    CHECK(e != NULL && strcmp(credchain_error_message(e), "callback is NULL") == 0);
    credchain_error_free(e);
    e = NULL;
    CHECK(credchain_log_subscribe(CREDCHAIN_LOG_OFF, count_log, NULL, &a, &e) == CREDCHAIN_INVALID_ARGUMENT);
    CHECK(e != NULL && strstr(credchain_error_message(e), "CREDCHAIN_LOG_OFF") != NULL);
    credchain_error_free(e);
    e = NULL;
    CHECK(credchain_log_subscribe(CREDCHAIN_LOG_INFO, count_log, NULL, NULL, &e) == CREDCHAIN_INVALID_ARGUMENT);
    CHECK(e != NULL && strcmp(credchain_error_message(e), "subscription must not be NULL") == 0);
    credchain_error_free(e);
    CHECK(credchain_log_unsubscribe(b, NULL) == CREDCHAIN_OK);
    CHECK(credchain_log_unsubscribe(c, NULL) == CREDCHAIN_OK);
}

int main(void) {
    test_env_credentials();
    test_null_out_pointer();
    test_invalid_utf8_profile();
    test_huge_profile();
    test_empty_profile();
    test_missing_profile();
    test_frees_accept_null();
    test_version_matches_macros();
    test_invalidate_bumps_generation();
    test_sixteen_threads();
    test_abi_version_matches_the_header();
    test_log_subscriptions_are_independent();
    test_log_callback_and_shutdown();
    printf("abi_test: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
