/* Two C drivers in one shared object, for a host process that also runs Python drivers
 * (tests/postgres/test_shared_process.py, through drivers/shared_host.py and ctypes).
 *
 * Linked against libcredchain (DT_NEEDED, rpath to target/release), as a vendor's
 * driver ships; the Python package in the same process loads another file of the
 * library (CREDCHAIN_LIBRARY). Each call logs in once and returns:
 *
 *   int shared_libpq_login(host, port, user, region, key, key_len, error, error_len)
 *   int shared_odbc_login(driver, host, port, user, region, key, key_len, error, error_len)
 *
 * 1 when the login succeeded and SELECT current_user is USER, with the access key id the
 * token was signed with in KEY; 0 with a message in ERROR. Safe to call from several
 * threads at once (libpq is thread-safe; each ODBC call has its own environment handle). */
#define _POSIX_C_SOURCE 200809L
#include <libpq-fe.h>
#include <sql.h>
#include <sqlext.h>

#include "common.h"

static int token_for(const char *host, unsigned port, const char *user, const char *region, char **token,
                     char *key, size_t key_len, char *error, size_t error_len) {
    struct tally t = {.path = "shared"};
    struct login_args a = {.host = host, .port = port, .user = user, .region = region};
    *token = fresh_token(&t, &a);
    if (*token == NULL) {
        snprintf(error, error_len, "%s", t.errors[0]);
        return 0;
    }
    snprintf(key, key_len, "%s", t.nkeys ? t.keys[0] : "");
    return 1;
}

int shared_libpq_login(const char *host, unsigned port, const char *user, const char *region, char *key,
                       size_t key_len, char *error, size_t error_len) {
    char *token = NULL;
    if (!token_for(host, port, user, region, &token, key, key_len, error, error_len)) return 0;
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%u", port);
    const char *keys[] = {"host", "port", "dbname", "user", "password", "sslmode", "connect_timeout", NULL};
    const char *values[] = {host, port_text, "postgres", user, token, "disable", "20", NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 0);
    credchain_string_free(token);
    int ok = 0;
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(error, error_len, "PQconnectdbParams: %s", PQerrorMessage(conn));
    } else {
        PGresult *res = PQexec(conn, "SELECT current_user");
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            snprintf(error, error_len, "SELECT current_user: %s", PQresultErrorMessage(res));
        else if (strcmp(PQgetvalue(res, 0, 0), user) != 0)
            snprintf(error, error_len, "current_user is %s", PQgetvalue(res, 0, 0));
        else
            ok = 1;
        PQclear(res);
    }
    PQfinish(conn);
    return ok;
}

static void odbc_error(char *error, size_t error_len, const char *what, SQLSMALLINT type, SQLHANDLE handle) {
    SQLCHAR state[6] = {0}, text[400] = {0};
    SQLINTEGER native = 0;
    SQLSMALLINT len = 0;
    if (SQL_SUCCEEDED(SQLGetDiagRec(type, handle, 1, state, &native, text, sizeof text, &len)))
        snprintf(error, error_len, "%s: %s %s", what, (char *)state, (char *)text);
    else
        snprintf(error, error_len, "%s: (no diagnostic)", what);
}

int shared_odbc_login(const char *driver, const char *host, unsigned port, const char *user, const char *region,
                      char *key, size_t key_len, char *error, size_t error_len) {
    char *token = NULL;
    if (!token_for(host, port, user, region, &token, key, key_len, error, error_len)) return 0;
    char *q_driver = odbc_quote(driver), *q_pwd = odbc_quote(token);
    credchain_string_free(token);
    size_t len = strlen(q_driver) + strlen(host) + strlen(user) + strlen(q_pwd) + 160;
    char *cs = malloc(len);
    snprintf(cs, len, "DRIVER=%s;SERVER=%s;PORT=%u;DATABASE=postgres;UID=%s;PWD=%s;SSLMODE=disable", q_driver,
             host, port, user, q_pwd);
    free(q_driver), free(q_pwd);

    SQLHENV env = SQL_NULL_HENV;
    SQLHDBC dbc = SQL_NULL_HDBC;
    int ok = 0;
    SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
    SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0);
    SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc);
    SQLSetConnectAttr(dbc, SQL_ATTR_LOGIN_TIMEOUT, (SQLPOINTER)20, 0);
    SQLRETURN rc = SQLDriverConnect(dbc, NULL, (SQLCHAR *)cs, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    memset(cs, 0, strlen(cs));
    free(cs);
    if (!SQL_SUCCEEDED(rc)) {
        odbc_error(error, error_len, "SQLDriverConnect", SQL_HANDLE_DBC, dbc);
    } else {
        SQLHSTMT stmt = SQL_NULL_HSTMT;
        SQLCHAR current[128] = {0};
        SQLLEN ind = 0;
        SQLAllocHandle(SQL_HANDLE_STMT, dbc, &stmt);
        if (!SQL_SUCCEEDED(SQLExecDirect(stmt, (SQLCHAR *)"SELECT current_user", SQL_NTS)) ||
            !SQL_SUCCEEDED(SQLFetch(stmt)) ||
            !SQL_SUCCEEDED(SQLGetData(stmt, 1, SQL_C_CHAR, current, sizeof current, &ind)))
            odbc_error(error, error_len, "SELECT current_user", SQL_HANDLE_STMT, stmt);
        else if (strcmp((char *)current, user) != 0)
            snprintf(error, error_len, "current_user is %s", (char *)current);
        else
            ok = 1;
        SQLFreeHandle(SQL_HANDLE_STMT, stmt);
        SQLDisconnect(dbc);
    }
    SQLFreeHandle(SQL_HANDLE_DBC, dbc);
    SQLFreeHandle(SQL_HANDLE_ENV, env);
    return ok;
}
