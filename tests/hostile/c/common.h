/*
 * Shared helpers of the hostile-host test programs: a monotonic clock, JSON
 * string output and /proc/self/status memory figures. Header-only.
 */
#ifndef HOSTILE_COMMON_H
#define HOSTILE_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The out argument of credchain_get_credentials, through void * so that the programs build against
 * both spellings of the header (`struct credchain_credentials **` and `const struct
 * credchain_credentials **`); credchain_free_credentials takes either pointer. */
#define HOSTILE_OUT(pp) ((void *)(pp))

static inline double hostile_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static inline void hostile_sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Writes `s` as a JSON string (null for NULL). Bytes >= 0x80 pass through. */
static inline void hostile_json_string(FILE *out, const char *s) {
    const unsigned char *p;
    if (s == NULL) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20) {
                fprintf(out, "\\u%04x", *p);
            } else {
                fputc(*p, out);
            }
        }
    }
    fputc('"', out);
}

/* A field of /proc/self/status in kB ("VmRSS", "VmHWM"); -1 when absent. */
static inline long hostile_status_kb(const char *field) {
    char line[256];
    size_t n = strlen(field);
    long value = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            value = strtol(line + n + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return value;
}

#endif
