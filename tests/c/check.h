/* A counting CHECK for the C test programs: they print "NAME: N passed, N failed". */
#ifndef CREDCHAIN_TEST_CHECK_H
#define CREDCHAIN_TEST_CHECK_H

#include <stdio.h>

static int passed = 0;
static int failed = 0;

#define CHECK(condition)                                                           \
    do {                                                                           \
        if (condition) {                                                           \
            passed++;                                                              \
        } else {                                                                   \
            failed++;                                                              \
            fprintf(stderr, "FAILED %s:%d: %s\n", __FILE__, __LINE__, #condition); \
        }                                                                          \
    } while (0)

#endif
