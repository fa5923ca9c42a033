/* Shared by the C driver programs of tests/postgres (libpq_login.c, odbc_login.c).
 *
 * Each program logs in again and again for SECONDS seconds, one new
 * connection every INTERVAL_MS milliseconds, each with a fresh call to
 * credchain_rds_auth_token (credchain hands back its cached token until the
 * credentials rotate), runs SELECT current_user, checks it is USER and closes.
 * At the end it prints one JSON line:
 *   {"path": ..., "logins": N, "failures": F, "keys": ["ASIA...", ...],
 *    "token_bytes": MAX, "errors": ["...", ...]}
 * where keys are the distinct access key ids the tokens were signed with, in
 * the order first seen (read from the token's X-Amz-Credential). */
#ifndef CREDCHAIN_PG_DRIVERS_COMMON_H
#define CREDCHAIN_PG_DRIVERS_COMMON_H


#include <credchain.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* {value} with every } doubled: an ODBC connection-string value that may
 * hold ; { } = & and % (the ODBC drivers' quoting; the caller frees it). */
static inline char *odbc_quote(const char *value) {
    size_t n = strlen(value);
    char *out = malloc(2 * n + 3), *o = out;
    if (out == NULL) return NULL;
    *o++ = '{';
    for (const char *s = value; *s; s++) {
        if (*s == '}') *o++ = '}';
        *o++ = *s;
    }
    *o++ = '}';
    *o = '\0';
    return out;
}

#define MAX_KEYS 64
#define MAX_ERRORS 5

struct login_args {
    const char *host;
    unsigned port;
    const char *user;
    const char *region;
    double seconds;
    long interval_ms;
};

struct tally {
    const char *path;
    long logins;
    long failures;
    size_t token_bytes;
    char keys[MAX_KEYS][64];
    int nkeys;
    char errors[MAX_ERRORS][512];
    int nerrors;
};

static inline int parse_args(int argc, char **argv, struct login_args *a) {
    if (argc != 7) {
        fprintf(stderr, "usage: %s HOST PORT USER REGION SECONDS INTERVAL_MS\n", argv[0]);
        return 0;
    }
    a->host = argv[1];
    a->port = (unsigned)strtoul(argv[2], NULL, 10);
    a->user = argv[3];
    a->region = argv[4];
    a->seconds = strtod(argv[5], NULL);
    a->interval_ms = strtol(argv[6], NULL, 10);
    return a->port > 0 && a->port < 65536;
}

static inline double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static inline void note_error(struct tally *t, const char *what, const char *detail) {
    t->failures++;
    if (t->nerrors < MAX_ERRORS) {
        snprintf(t->errors[t->nerrors++], sizeof t->errors[0], "%s: %s", what, detail ? detail : "");
    }
}

/* The access key id of a token: X-Amz-Credential=AKID%2F... */
static inline void note_key(struct tally *t, const char *token) {
    const char *p = strstr(token, "X-Amz-Credential=");
    char key[64] = {0};
    if (p == NULL) return;
    p += strlen("X-Amz-Credential=");
    size_t n = 0;
    while (p[n] && p[n] != '%' && p[n] != '/' && p[n] != '&' && n < sizeof key - 1) n++;
    memcpy(key, p, n);
    for (int i = 0; i < t->nkeys; i++)
        if (strcmp(t->keys[i], key) == 0) return;
    if (t->nkeys < MAX_KEYS) strcpy(t->keys[t->nkeys++], key);
}

/* A fresh credchain token for args (profile NULL: the default profile), or NULL with the error noted. */
static inline char *fresh_token(struct tally *t, const struct login_args *a) {
    char *token = NULL;
    struct credchain_error *error = NULL;
    credchain_result rc = credchain_rds_auth_token(NULL, a->host, (uint16_t)a->port, a->user, a->region, 0,
                                                   &token, &error);
    if (rc != CREDCHAIN_OK) {
        note_error(t, "credchain_rds_auth_token", error ? credchain_error_message(error) : "(no message)");
        credchain_error_free(error);
        return NULL;
    }
    note_key(t, token);
    if (strlen(token) > t->token_bytes) t->token_bytes = strlen(token);
    return token;
}

static inline void json_string(const char *s) {
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

static inline void print_tally(const struct tally *t) {
    printf("{\"path\": ");
    json_string(t->path);
    printf(", \"logins\": %ld, \"failures\": %ld, \"token_bytes\": %zu, \"keys\": [", t->logins, t->failures,
           t->token_bytes);
    for (int i = 0; i < t->nkeys; i++) {
        if (i) printf(", ");
        json_string(t->keys[i]);
    }
    printf("], \"errors\": [");
    for (int i = 0; i < t->nerrors; i++) {
        if (i) printf(", ");
        json_string(t->errors[i]);
    }
    printf("]}\n");
    fflush(stdout);
}

#endif
