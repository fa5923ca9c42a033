/* libpq: PQconnectdbParams with a credchain token as the password, a new
 * connection every INTERVAL_MS for SECONDS seconds (see common.h).
 *
 *   libpq_login HOST PORT USER REGION SECONDS INTERVAL_MS
 *
 * The token goes in as a separate keyword/value pair, so no quoting is
 * needed; PQconnectdb's single string would need the value in single quotes
 * with ' and \ backslash-escaped (a token has neither). The program also
 * logs in once through PQconnectdb with such a string.
 *
 *   libpq_login --probe HOST PORT USER PASSWORD
 *
 * makes one attempt with PASSWORD quoted in a conninfo string (see probe). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep under -std=c11 */
#include <libpq-fe.h>

#include "common.h"

/* 'value' for a libpq conninfo string: ' and \ escaped with a backslash. */
static char *conninfo_quote(const char *value) {
    size_t n = strlen(value);
    char *out = malloc(2 * n + 3), *o = out;
    if (out == NULL) return NULL;
    *o++ = '\'';
    for (const char *s = value; *s; s++) {
        if (*s == '\'' || *s == '\\') *o++ = '\\';
        *o++ = *s;
    }
    *o++ = '\'';
    *o = '\0';
    return out;
}

static int login_once(struct tally *t, const struct login_args *a, int as_string) {
    char *token = fresh_token(t, a);
    if (token == NULL) return 0;
    char port[16];
    snprintf(port, sizeof port, "%u", a->port);
    PGconn *conn;
    if (as_string) {
        char *quoted = conninfo_quote(token);
        size_t len = strlen(quoted) + strlen(a->host) + strlen(a->user) + 128;
        char *conninfo = malloc(len);
        snprintf(conninfo, len, "host=%s port=%s dbname=postgres user=%s sslmode=disable connect_timeout=20 "
                 "password=%s", a->host, port, a->user, quoted);
        conn = PQconnectdb(conninfo);
        free(conninfo);
        free(quoted);
    } else {
        const char *keys[] = {"host", "port", "dbname", "user", "password", "sslmode", "connect_timeout", NULL};
        const char *values[] = {a->host, port, "postgres", a->user, token, "disable", "20", NULL};
        conn = PQconnectdbParams(keys, values, 0);
    }
    credchain_string_free(token);
    int ok = 0;
    if (PQstatus(conn) != CONNECTION_OK) {
        note_error(t, "PQconnectdb", PQerrorMessage(conn));
    } else {
        PGresult *res = PQexec(conn, "SELECT current_user");
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            note_error(t, "SELECT current_user", PQresultErrorMessage(res));
        } else if (strcmp(PQgetvalue(res, 0, 0), a->user) != 0) {
            note_error(t, "current_user", PQgetvalue(res, 0, 0));
        } else {
            t->logins++;
            ok = 1;
        }
        PQclear(res);
    }
    PQfinish(conn);
    return ok;
}

/* libpq_login --probe HOST PORT USER PASSWORD: one PQconnectdb with PASSWORD quoted in the
 * conninfo string; prints libpq's message. The test reads what the server's verifier received. */
static int probe(char **argv) {
    char *quoted = conninfo_quote(argv[5]);
    size_t len = strlen(quoted) + strlen(argv[2]) + strlen(argv[4]) + 128;
    char *conninfo = malloc(len);
    snprintf(conninfo, len, "host=%s port=%s dbname=postgres user=%s sslmode=disable password=%s", argv[2],
             argv[3], argv[4], quoted);
    PGconn *conn = PQconnectdb(conninfo);
    printf("%s\n", PQstatus(conn) == CONNECTION_OK ? "connected" : PQerrorMessage(conn));
    PQfinish(conn);
    free(conninfo);
    free(quoted);
    return 0;
}

int main(int argc, char **argv) {
    struct login_args a;
    struct tally t = {.path = "libpq"};
    if (argc == 6 && strcmp(argv[1], "--probe") == 0) return probe(argv);
    if (!parse_args(argc, argv, &a)) return 2;
    {
        char *q = conninfo_quote("it's a\\b");
        if (strcmp(q, "'it\\'s a\\\\b'") != 0) note_error(&t, "conninfo_quote", q);
        free(q);
    }
    double end = now_seconds() + a.seconds;
    login_once(&t, &a, 1);
    while (now_seconds() < end) {
        login_once(&t, &a, 0);
        sleep_ms(a.interval_ms);
    }
    print_tally(&t);
    return t.failures == 0 ? 0 : 1;
}
