/*
 * token_test: IAM database auth tokens through the C ABI. Run with
 * AWS_ACCESS_KEY_ID=akid AWS_SECRET_ACCESS_KEY=secret and no region set.
 * Prints "N passed, N failed".
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "credchain.h"


static int has_prefix(const char *text, const char *prefix);

/* The AWS SDKs' published test vector. */
static const char *VECTOR =
    "prod-instance.us-east-1.rds.amazonaws.com:3306/?Action=connect&DBUser=peccy&X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=akid%2F20240826%2Fus-east-1%2Frds-db%2Faws4_request&X-Amz-Date=20240826T220000Z"
    "&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=dd0cba843009474347af724090233265628ace491ea17ce3eb3da098b983ad89";

static void test_published_vector(void) {
    char *token = NULL;
    CHECK(credchain_rds_auth_token(NULL, "prod-instance.us-east-1.rds.amazonaws.com", 3306, "peccy", NULL, 1724709600,
                                   &token, NULL) == CREDCHAIN_OK);
    CHECK(token != NULL && strcmp(token, VECTOR) == 0);
    credchain_string_free(token);
}

static void test_dsql_actions(void) {
    char *admin = NULL, *user = NULL;
    CHECK(credchain_dsql_auth_token(NULL, "abcdefghijklmnop.dsql.us-east-1.on.aws", NULL, true, 1724709600, &admin,
                                    NULL) == CREDCHAIN_OK);
    CHECK(credchain_dsql_auth_token(NULL, "abcdefghijklmnop.dsql.us-east-1.on.aws", NULL, false, 1724709600, &user,
                                    NULL) == CREDCHAIN_OK);
    CHECK(has_prefix(admin, "abcdefghijklmnop.dsql.us-east-1.on.aws/?Action=DbConnectAdmin&"));
    CHECK(has_prefix(user, "abcdefghijklmnop.dsql.us-east-1.on.aws/?Action=DbConnect&"));
    CHECK(admin != NULL && strstr(admin, "%2Fus-east-1%2Fdsql%2Faws4_request") != NULL);
    credchain_string_free(admin);
    credchain_string_free(user);
}

static void test_tokens_signed_now_are_reused(void) {
    char *first = NULL, *second = NULL;
    const char *host = "db.cluster-abc.eu-west-1.rds.amazonaws.com";
    struct timespec pause = {1, 100000000L};
    CHECK(credchain_rds_auth_token(NULL, host, 5432, "app", NULL, 0, &first, NULL) == CREDCHAIN_OK);
    /* A token signed anew after this pause would carry a later X-Amz-Date. */
    nanosleep(&pause, NULL);
    CHECK(credchain_rds_auth_token(NULL, host, 5432, "app", NULL, 0, &second, NULL) == CREDCHAIN_OK);
    CHECK(first != NULL && second != NULL && strcmp(first, second) == 0);
    CHECK(has_prefix(first, "db.cluster-abc.eu-west-1.rds.amazonaws.com:5432/?Action=connect&DBUser=app&"));
    credchain_string_free(first);
    credchain_string_free(second);
}

static int has_prefix(const char *text, const char *prefix) {
    return text != NULL && strncmp(text, prefix, strlen(prefix)) == 0;
}

static void expect_error(credchain_result code, credchain_error *error, credchain_result want, const char *message) {
    CHECK(code == want);
    CHECK(credchain_error_message(error) != NULL && strcmp(credchain_error_message(error), message) == 0);
    if (credchain_error_message(error) != NULL && strcmp(credchain_error_message(error), message) != 0) {
        fprintf(stderr, "  got: %s\n", credchain_error_message(error));
    }
    credchain_error_free(error);
}

static void test_bad_arguments(void) {
    char *token = NULL;
    credchain_error *e = NULL;
    credchain_result code;
    code = credchain_rds_auth_token(NULL, "db.example.com", 5432, "app", NULL, 0, &token, &e);
    expect_error(code, e, CREDCHAIN_INVALID_ARGUMENT,
                 "no region: hostname 'db.example.com' names none and neither AWS_REGION, AWS_DEFAULT_REGION nor the "
                 "profile sets one; pass a region");
    e = NULL;
    code = credchain_rds_auth_token(NULL, NULL, 5432, "app", "us-east-1", 0, &token, &e);
    expect_error(code, e, CREDCHAIN_INVALID_ARGUMENT, "hostname must not be NULL");
    e = NULL;
    code = credchain_rds_auth_token(NULL, "db.example.com", 5432, "app", "us-east-1", 0, NULL, &e);
    expect_error(code, e, CREDCHAIN_INVALID_ARGUMENT, "token must not be NULL");
    e = NULL;
    code = credchain_dsql_auth_token(NULL, "x.dsql.us-east-1.on.aws", NULL, false, -5, &token, &e);
    expect_error(code, e, CREDCHAIN_INVALID_ARGUMENT,
                 "signing_time -5 is out of range: pass 0 for now, or Unix seconds between 1 and 253402300799");
    CHECK(token == NULL);
    credchain_string_free(NULL);
}

int main(void) {
    test_published_vector();
    test_dsql_actions();
    test_tokens_signed_now_are_reused();
    test_bad_arguments();
    printf("token_test: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
