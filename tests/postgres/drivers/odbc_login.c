/* ODBC (unixODBC's driver manager, the PostgreSQL ODBC driver): SQLDriverConnect
 * with a credchain token as PWD in a DSN-less connection string, a new
 * connection every INTERVAL_MS for SECONDS seconds (see common.h).
 *
 *   odbc_login DRIVER HOST PORT USER REGION SECONDS INTERVAL_MS
 *
 * DRIVER is the driver's .so path or the name of an odbcinst.ini section.
 * Every value goes into the connection string quoted as ODBC requires:
 * inside braces, with each } doubled, so the token's & = % (and any ; or })
 * cannot end the value early.
 *
 *   odbc_login --probe DRIVER HOST PORT USER PASSWORD
 *
 * makes one attempt with PASSWORD so quoted (see probe). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep under -std=c11 */
#include <sql.h>
#include <sqlext.h>

#include "common.h"

static void odbc_error(struct tally *t, const char *what, SQLSMALLINT type, SQLHANDLE handle) {
    SQLCHAR state[6] = {0}, text[400] = {0};
    SQLINTEGER native = 0;
    SQLSMALLINT len = 0;
    char detail[480];
    if (SQL_SUCCEEDED(SQLGetDiagRec(type, handle, 1, state, &native, text, sizeof text, &len)))
        snprintf(detail, sizeof detail, "%s %s", (char *)state, (char *)text);
    else
        snprintf(detail, sizeof detail, "(no diagnostic)");
    note_error(t, what, detail);
}

static const char *driver;

static int login_once(struct tally *t, SQLHENV env, const struct login_args *a) {
    char *token = fresh_token(t, a);
    if (token == NULL) return 0;
    char port[16];
    snprintf(port, sizeof port, "%u", a->port);
    /* DRIVER (a path) and PWD (the token) braced; SERVER, PORT, UID plain (no ; { } in them). */
    char *q_driver = odbc_quote(driver), *q_pwd = odbc_quote(token);
    credchain_string_free(token);
    size_t len = strlen(q_driver) + strlen(a->host) + strlen(a->user) + strlen(q_pwd) + 160;
    char *cs = malloc(len);
    snprintf(cs, len, "DRIVER=%s;SERVER=%s;PORT=%s;DATABASE=postgres;UID=%s;PWD=%s;SSLMODE=disable",
             q_driver, a->host, port, a->user, q_pwd);
    memset(q_pwd, 0, strlen(q_pwd));
    free(q_driver), free(q_pwd);

    SQLHDBC dbc = SQL_NULL_HDBC;
    int ok = 0;
    SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc);
    SQLSetConnectAttr(dbc, SQL_ATTR_LOGIN_TIMEOUT, (SQLPOINTER)20, 0);
    SQLCHAR out[2048];
    SQLSMALLINT outlen = 0;
    SQLRETURN rc = SQLDriverConnect(dbc, NULL, (SQLCHAR *)cs, SQL_NTS, out, sizeof out, &outlen,
                                    SQL_DRIVER_NOPROMPT);
    memset(cs, 0, strlen(cs));
    free(cs);
    if (!SQL_SUCCEEDED(rc)) {
        odbc_error(t, "SQLDriverConnect", SQL_HANDLE_DBC, dbc);
    } else {
        SQLHSTMT stmt = SQL_NULL_HSTMT;
        SQLCHAR user[128] = {0};
        SQLLEN ind = 0;
        SQLAllocHandle(SQL_HANDLE_STMT, dbc, &stmt);
        if (!SQL_SUCCEEDED(SQLExecDirect(stmt, (SQLCHAR *)"SELECT current_user", SQL_NTS)) ||
            !SQL_SUCCEEDED(SQLFetch(stmt)) ||
            !SQL_SUCCEEDED(SQLGetData(stmt, 1, SQL_C_CHAR, user, sizeof user, &ind))) {
            odbc_error(t, "SELECT current_user", SQL_HANDLE_STMT, stmt);
        } else if (strcmp((char *)user, a->user) != 0) {
            note_error(t, "current_user", (char *)user);
        } else {
            t->logins++;
            ok = 1;
        }
        SQLFreeHandle(SQL_HANDLE_STMT, stmt);
        SQLDisconnect(dbc);
    }
    SQLFreeHandle(SQL_HANDLE_DBC, dbc);
    return ok;
}

/* odbc_login --probe DRIVER HOST PORT USER PASSWORD: one SQLDriverConnect with PWD=odbc_quote(PASSWORD);
 * prints the diagnostic. The test reads what the server's verifier received. */
static int probe(char **argv) {
    char *q_driver = odbc_quote(argv[2]), *q_pwd = odbc_quote(argv[6]);
    size_t len = strlen(q_driver) + strlen(argv[3]) + strlen(argv[5]) + strlen(q_pwd) + 160;
    char *cs = malloc(len);
    snprintf(cs, len, "DRIVER=%s;SERVER=%s;PORT=%s;DATABASE=postgres;UID=%s;PWD=%s;SSLMODE=disable", q_driver,
             argv[3], argv[4], argv[5], q_pwd);
    SQLHENV env = SQL_NULL_HENV;
    SQLHDBC dbc = SQL_NULL_HDBC;
    SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
    SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0);
    SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc);
    SQLRETURN rc = SQLDriverConnect(dbc, NULL, (SQLCHAR *)cs, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    if (SQL_SUCCEEDED(rc)) {
        printf("connected\n");
        SQLDisconnect(dbc);
    } else {
        struct tally t = {.path = "probe"};
        odbc_error(&t, "SQLDriverConnect", SQL_HANDLE_DBC, dbc);
        printf("%s\n", t.errors[0]);
    }
    SQLFreeHandle(SQL_HANDLE_DBC, dbc);
    SQLFreeHandle(SQL_HANDLE_ENV, env);
    free(cs), free(q_driver), free(q_pwd);
    return 0;
}

int main(int argc, char **argv) {
    struct login_args a;
    struct tally t = {.path = "odbc"};
    if (argc == 7 && strcmp(argv[1], "--probe") == 0) return probe(argv);
    if (argc != 8 || !parse_args(argc - 1, argv + 1, &a)) {
        fprintf(stderr, "usage: %s DRIVER HOST PORT USER REGION SECONDS INTERVAL_MS\n", argv[0]);
        return 2;
    }
    driver = argv[1];
    {
        char *q = odbc_quote("a}b;c{d}");
        if (strcmp(q, "{a}}b;c{d}}}") != 0) note_error(&t, "odbc_quote", q);
        free(q);
    }
    SQLHENV env = SQL_NULL_HENV;
    SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
    SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0);
    double end = now_seconds() + a.seconds;
    while (now_seconds() < end) {
        login_once(&t, env, &a);
        sleep_ms(a.interval_ms);
    }
    SQLFreeHandle(SQL_HANDLE_ENV, env);
    print_tally(&t);
    return t.failures == 0 ? 0 : 1;
}
