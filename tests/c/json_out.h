/* Minimal JSON string output for the C test programs. */
#ifndef CREDCHAIN_TEST_JSON_OUT_H
#define CREDCHAIN_TEST_JSON_OUT_H

#include <stdio.h>

/* Prints `text` as a JSON string, or null for NULL. */
static void json_string(FILE *out, const char *text) {
    const unsigned char *p;
    if (text == NULL) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (p = (const unsigned char *)text; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            fprintf(out, "\\%c", *p);
        } else if (*p < 0x20) {
            fprintf(out, "\\u%04x", *p);
        } else {
            fputc(*p, out);
        }
    }
    fputc('"', out);
}

#endif
