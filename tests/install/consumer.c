/*
 * consumer: a C program as a project consuming the installed library writes
 * it (tests/install/test_install.py builds it with pkg-config and with
 * CMake, against libcredchain.so and libcredchain.a). Prints
 * "SOURCE ACCESS_KEY_ID" for the default profile, or the error.
 */
#include <stdio.h>

#include <credchain.h>

int main(void) {
    if (credchain_abi_version() >> 16 != CREDCHAIN_ABI_MAJOR) {
        fprintf(stderr, "consumer: built for ABI %d.%d, loaded %u.%u\n", CREDCHAIN_ABI_MAJOR, CREDCHAIN_ABI_MINOR,
                (unsigned)(credchain_abi_version() >> 16), (unsigned)(credchain_abi_version() & 0xffff));
        return 1;
    }
    const credchain_credentials *creds = NULL;
    credchain_error *error = NULL;
    credchain_result rc = credchain_get_credentials(NULL, &creds, &error);
    if (rc != CREDCHAIN_OK) {
        fprintf(stderr, "consumer: credchain (%u): %s\n", (unsigned)rc, credchain_error_message(error));
        credchain_error_free(error);
        return 1;
    }
    printf("%s %s\n", creds->source, creds->access_key_id);
    credchain_free_credentials(creds);
    return 0;
}
