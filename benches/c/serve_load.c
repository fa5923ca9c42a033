/* The load client of benches/serve_load.py: N threads, each with one keep-alive HTTP/1.1 connection to
 * 127.0.0.1:PORT, sending GET PATH back to back for S seconds and timing every request.
 *
 *   serve_load --port P --path /credentials --token-file F --connections 50 --seconds 60
 *
 * Prints one JSON line: requests, errors (a status other than 200, a body without "AccessKeyId", a
 * connection that failed or closed; the connection is opened again), reconnects, the distinct access key
 * ids seen, latency p50/p90/p99/p99.9/max in microseconds, and the client's own CPU seconds.
 * Only ever connects to 127.0.0.1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_KEYS 64

static int port;
static const char *path = "/credentials";
static char token[256];
static int connections = 50;
static double seconds = 60;
static char request[1024];
static size_t request_len;
static volatile int stop_flag;

static pthread_mutex_t keys_lock = PTHREAD_MUTEX_INITIALIZER;
static char keys[MAX_KEYS][64];
static int nkeys;

typedef struct {
    uint32_t *lat; /* microseconds, one per successful request */
    size_t n, cap;
    uint64_t requests, errors, reconnects;
    char last_key[64];
    char first_error[160];
} worker;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void note_error(worker *w, const char *what) {
    w->errors++;
    if (!w->first_error[0]) snprintf(w->first_error, sizeof w->first_error, "%s", what);
}

static int connect_once(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void note_key(worker *w, const char *body, size_t len) {
    static const char field[] = "\"AccessKeyId\":\"";
    const char *p = memmem(body, len, field, sizeof field - 1);
    if (!p) return;
    p += sizeof field - 1;
    const char *end = memchr(p, '"', len - (size_t)(p - body));
    if (!end || end - p >= 63) return;
    size_t n = (size_t)(end - p);
    if (strncmp(w->last_key, p, n) == 0 && w->last_key[n] == 0) return;
    memcpy(w->last_key, p, n);
    w->last_key[n] = 0;
    pthread_mutex_lock(&keys_lock);
    int seen = 0;
    for (int i = 0; i < nkeys; i++) seen |= strcmp(keys[i], w->last_key) == 0;
    if (!seen && nkeys < MAX_KEYS) strcpy(keys[nkeys++], w->last_key);
    pthread_mutex_unlock(&keys_lock);
}

/* One request on fd; 0 on a 200 with credentials, -1 when the connection is unusable, 1 on a bad answer. */
static int one_request(worker *w, int fd, char *buf, size_t cap) {
    size_t off = 0;
    while (off < request_len) {
        ssize_t n = send(fd, request + off, request_len - off, MSG_NOSIGNAL);
        if (n <= 0) return -1;
        off += (size_t)n;
    }
    size_t have = 0;
    char *head_end = NULL;
    while (!head_end) {
        if (have == cap - 1) return -1;
        ssize_t n = recv(fd, buf + have, cap - 1 - have, 0);
        if (n <= 0) return -1;
        have += (size_t)n;
        buf[have] = 0;
        head_end = memmem(buf, have, "\r\n\r\n", 4);
    }
    size_t head_len = (size_t)(head_end - buf) + 4;
    int status = 0;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) return -1;
    long length = -1;
    for (char *line = strstr(buf, "\r\n"); line && line < head_end; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0) length = strtol(line + 17, NULL, 10);
    }
    if (length < 0 || head_len + (size_t)length > cap - 1) return -1;
    while (have < head_len + (size_t)length) {
        ssize_t n = recv(fd, buf + have, cap - 1 - have, 0);
        if (n <= 0) return -1;
        have += (size_t)n;
    }
    if (have != head_len + (size_t)length) return -1; /* nothing is pipelined: extra bytes are a framing error */
    if (status != 200) {
        char what[64];
        snprintf(what, sizeof what, "HTTP status %d", status);
        note_error(w, what);
        return 1;
    }
    if (!memmem(buf + head_len, (size_t)length, "\"AccessKeyId\"", 13)) {
        note_error(w, "a 200 without AccessKeyId");
        return 1;
    }
    note_key(w, buf + head_len, (size_t)length);
    return 0;
}

static void *run(void *arg) {
    worker *w = arg;
    char buf[16384];
    int fd = -1;
    while (!stop_flag) {
        if (fd < 0) {
            fd = connect_once();
            if (fd < 0) {
                note_error(w, "connect failed");
                usleep(10000);
                continue;
            }
        }
        double t0 = now();
        int rc = one_request(w, fd, buf, sizeof buf);
        double t1 = now();
        if (rc < 0) {
            if (stop_flag) break;
            note_error(w, "connection failed or closed mid-request");
            close(fd);
            fd = -1;
            w->reconnects++;
            continue;
        }
        w->requests++;
        if (rc == 0) {
            if (w->n == w->cap) {
                w->cap = w->cap ? w->cap * 2 : 65536;
                w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
                if (!w->lat) abort();
            }
            double us = (t1 - t0) * 1e6;
            w->lat[w->n++] = us > 4e9 ? 4000000000u : (uint32_t)us;
        }
    }
    if (fd >= 0) close(fd);
    return NULL;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static uint32_t pct(const uint32_t *v, size_t n, double p) {
    if (n == 0) return 0;
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

int main(int argc, char **argv) {
    const char *token_file = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--path")) path = argv[i + 1];
        else if (!strcmp(argv[i], "--token-file")) token_file = argv[i + 1];
        else if (!strcmp(argv[i], "--connections")) connections = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
        else {
            fprintf(stderr, "serve_load: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (port <= 0 || port > 65535 || connections <= 0 || seconds <= 0) {
        fprintf(stderr, "usage: serve_load --port P [--path /credentials] [--token-file F] [--connections N] "
                        "[--seconds S]\n");
        return 2;
    }
    if (token_file) {
        FILE *f = fopen(token_file, "r");
        if (!f || !fgets(token, sizeof token, f)) {
            fprintf(stderr, "serve_load: cannot read %s\n", token_file);
            return 2;
        }
        fclose(f);
        token[strcspn(token, "\r\n")] = 0;
    }
    int len = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s%s%s\r\n", path, port,
                       token[0] ? "Authorization: " : "", token, token[0] ? "\r\n" : "");
    if (len <= 0 || (size_t)len >= sizeof request) return 2;
    request_len = (size_t)len;

    worker *ws = calloc((size_t)connections, sizeof *ws);
    pthread_t *ts = calloc((size_t)connections, sizeof *ts);
    if (!ws || !ts) return 1;
    double t0 = now();
    for (int i = 0; i < connections; i++) pthread_create(&ts[i], NULL, run, &ws[i]);
    struct timespec nap = {.tv_sec = (time_t)seconds, .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&nap, &nap) != 0 && errno == EINTR) {}
    stop_flag = 1;
    for (int i = 0; i < connections; i++) pthread_join(ts[i], NULL);
    double wall = now() - t0;

    uint64_t requests = 0, errors = 0, reconnects = 0;
    size_t n = 0;
    const char *first_error = "";
    for (int i = 0; i < connections; i++) {
        requests += ws[i].requests;
        errors += ws[i].errors;
        reconnects += ws[i].reconnects;
        n += ws[i].n;
        if (!first_error[0] && ws[i].first_error[0]) first_error = ws[i].first_error;
    }
    uint32_t *all = malloc((n ? n : 1) * sizeof *all);
    if (!all) return 1;
    size_t k = 0;
    for (int i = 0; i < connections; i++) {
        memcpy(all + k, ws[i].lat, ws[i].n * sizeof *all);
        k += ws[i].n;
    }
    qsort(all, n, sizeof *all, cmp_u32);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                 (double)ru.ru_stime.tv_usec / 1e6;
    printf("{\"requests\":%llu,\"errors\":%llu,\"reconnects\":%llu,\"seconds\":%.3f,\"p50_us\":%u,\"p90_us\":%u,"
           "\"p99_us\":%u,\"p999_us\":%u,\"max_us\":%u,\"client_cpu_s\":%.2f,\"distinct_keys\":%d,"
           "\"first_error\":\"%s\"}\n",
           (unsigned long long)requests, (unsigned long long)errors, (unsigned long long)reconnects, wall,
           pct(all, n, 50), pct(all, n, 90), pct(all, n, 99), pct(all, n, 99.9), n ? all[n - 1] : 0, cpu, nkeys,
           first_error);
    return 0;
}
