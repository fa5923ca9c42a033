/*
 * A database "driver" as vendors ship them: a shared library linked against
 * libcredchain (DT_NEEDED), loaded into a host that may hold another copy
 * of libcredchain (a Python wheel's, a jar's). Tests load it with ctypes or
 * JNA and call these functions.
 */
#include <stdio.h>
#include <string.h>

#include "credchain.h"

static char last_key[128];

/* The default profile's access key as this driver sees it ("" on error). */
const char *driver_access_key(void) {
    const struct credchain_credentials *creds = NULL;
    last_key[0] = '\0';
    if (credchain_get_credentials(NULL, &creds, NULL) == CREDCHAIN_OK) {
        snprintf(last_key, sizeof last_key, "%s", creds->access_key_id);
        credchain_free_credentials(creds);
    }
    return last_key;
}

/* Drops the default profile's credentials, as after a failed login. */
int driver_invalidate(void) {
    return (int)credchain_invalidate(NULL, NULL);
}

/* The driver's own log subscriber: counts messages containing `needle`. */
static const char *needle = "now come from";
static int matching_messages;

static void on_log(credchain_log_level level, const char *message, void *userdata) {
    (void)level;
    if (strstr(message, needle) != NULL) {
        __atomic_add_fetch((int *)userdata, 1, __ATOMIC_SEQ_CST);
    }
}

static uint64_t subscription;

/* Subscribes the driver at INFO; 0 on success. */
int driver_subscribe(void) {
    return (int)credchain_log_subscribe(CREDCHAIN_LOG_INFO, on_log, &matching_messages, &subscription, NULL);
}

/* Ends the driver's subscription; 0 on success. */
int driver_unsubscribe(void) {
    return (int)credchain_log_unsubscribe(subscription, NULL);
}

/* Refresh messages the driver's subscriber has received. */
int driver_log_count(void) {
    return __atomic_load_n(&matching_messages, __ATOMIC_SEQ_CST);
}
