/*
 * host: a long-lived C host that runs a list of steps against the C ABI and
 * prints one JSON object per step on standard output (line-buffered), so a
 * test can watch it while it stays alive.
 *
 *   host STEP...
 *
 * Steps (PROFILE empty or absent: NULL, the default profile):
 *   get[:PROFILE]            credchain_get_credentials
 *                            {"op":"get","code":N,"ms":F,"message":..,"message_len":N,"source":..,"akid":..}
 *   invalidate[:PROFILE]     credchain_invalidate                    {"op":"invalidate","code":N}
 *   diagnose[:PROFILE]       credchain_diagnose                      {"op":"diagnose","code":N,"ms":F,"json":..}
 *   setenv:NAME=VALUE        setenv() on this (the calling) thread   {"op":"setenv"}
 *   unsetenv:NAME            unsetenv()
 *   reload                   credchain_reload_environment            {"op":"reload"}
 *   sleep:MS                 nanosleep
 *   wait                     read one line from standard input (EOF: go on)
 *   logcb:LEVEL              install a log callback up to LEVEL (0 removes it); every message is
 *                            printed as {"log":LEVEL,"len":N,"msg":..}
 *   rss                      {"op":"rss","vmrss_kb":N,"vmhwm_kb":N}
 *   unknown:N:PREFIX         N calls with the distinct missing profiles PREFIX0..PREFIX(N-1): counts of
 *                            each result code, VmRSS before/after and per-call times of the first and
 *                            last ten calls (printed, never judged here)
 *   limit-as:MB              setrlimit(RLIMIT_AS) so a runaway read aborts instead of eating the machine
 *   sigchld:ign|reap         SIGCHLD set to SIG_IGN, or to a handler that reaps with waitpid(-1)
 *                            {"op":"sigchld"}
 *   children:N               fork N children that exit at once, wait 300 ms, then count those left
 *                            as zombies and report whether SIGCHLD is still SIG_IGN
 *                            {"op":"children","zombies":N,"ignored":B,"reaped_by_handler":N}
 *   forker:EVERY_MS:LIFE_MS  a thread that forks, every EVERY_MS, a child that sleeps LIFE_MS and exits
 *                            (a prefork server)                     {"op":"forker"}
 *   bgget[:PROFILE]          credchain_get_credentials on a new thread (its record comes when it ends)
 *   closestd:PATH            move the records to a duplicate of stdout, close 0, 1 and 2, and open
 *                            PATH three times (a host data file that takes the lowest descriptors;
 *                            PATH "-": leave them closed)          {"op":"closestd"}
 *   cycle:N[:PROFILE]        N rounds of get then invalidate        {"op":"cycle","n":N,"codes":{"0":N,..}}
 *   exhaust-fds              open /dev/null until EMFILE            {"op":"exhaust-fds","held":N}
 *   release-fds              close what exhaust-fds opened          {"op":"release-fds"}
 *
 * Exit status 0 (the test judges the printed records), 2 on a bad step.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "credchain.h"
#include "common.h"

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *arg_profile(const char *step, size_t oplen) {
    if (step[oplen] == ':' && step[oplen + 1] != '\0') return step + oplen + 1;
    return NULL;
}

static void on_log(credchain_log_level level, const char *message) {
    pthread_mutex_lock(&out_lock);
    printf("{\"log\":%u,\"len\":%zu,\"msg\":", (unsigned)level, message ? strlen(message) : (size_t)0);
    hostile_json_string(stdout, message);
    printf("}\n");
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
}

static void step_get(const char *profile) {
    credchain_credentials *c = NULL;
    credchain_error *e = NULL;
    double t0 = hostile_now_ms();
    credchain_result rc = credchain_get_credentials(profile, HOSTILE_OUT(&c), &e);
    double ms = hostile_now_ms() - t0;
    const char *msg = rc == CREDCHAIN_OK ? NULL : credchain_error_message(e);
    pthread_mutex_lock(&out_lock);
    printf("{\"op\":\"get\",\"profile\":");
    hostile_json_string(stdout, profile);
    printf(",\"code\":%u,\"ms\":%.1f,\"message_len\":%zu,\"message\":", (unsigned)rc, ms, msg ? strlen(msg) : (size_t)0);
    hostile_json_string(stdout, msg);
    printf(",\"source\":");
    hostile_json_string(stdout, rc == CREDCHAIN_OK ? c->source : credchain_error_source(e));
    printf(",\"akid\":");
    hostile_json_string(stdout, rc == CREDCHAIN_OK ? c->access_key_id : NULL);
    printf(",\"expiration\":%lld}\n", rc == CREDCHAIN_OK ? (long long)c->expiration : 0LL);
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
    credchain_free_credentials(c);
    credchain_error_free(e);
}

static void step_invalidate(const char *profile) {
    credchain_error *e = NULL;
    credchain_result rc = credchain_invalidate(profile, &e);
    pthread_mutex_lock(&out_lock);
    printf("{\"op\":\"invalidate\",\"code\":%u}\n", (unsigned)rc);
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
    credchain_error_free(e);
}

static void step_diagnose(const char *profile) {
    char *json = NULL;
    credchain_error *e = NULL;
    double t0 = hostile_now_ms();
    credchain_result rc = credchain_diagnose(profile, &json, &e);
    double ms = hostile_now_ms() - t0;
    pthread_mutex_lock(&out_lock);
    printf("{\"op\":\"diagnose\",\"code\":%u,\"ms\":%.1f,\"message\":", (unsigned)rc, ms);
    hostile_json_string(stdout, rc == CREDCHAIN_OK ? NULL : credchain_error_message(e));
    printf(",\"json_len\":%zu,\"json\":", json ? strlen(json) : (size_t)0);
    hostile_json_string(stdout, json);
    printf("}\n");
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
    credchain_string_free(json);
    credchain_error_free(e);
}

static void print_rss(const char *op) {
    pthread_mutex_lock(&out_lock);
    printf("{\"op\":\"%s\",\"vmrss_kb\":%ld,\"vmhwm_kb\":%ld}\n", op, hostile_status_kb("VmRSS"),
           hostile_status_kb("VmHWM"));
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
}

static void step_unknown(long n, const char *prefix) {
    char name[512];
    long i, codes[16] = {0};
    double first[10], last[10];
    long rss_before, rss_after, rss_mid = 0;
    double t_start, total;
    /* Warm the runtime on the first name so its one-off allocations are not counted: RSS is
     * measured from after call 0 on. */
    rss_before = hostile_status_kb("VmRSS");
    t_start = hostile_now_ms();
    for (i = 0; i < n; i++) {
        credchain_credentials *c = NULL;
        credchain_error *e = NULL;
        double t0, ms;
        credchain_result rc;
        snprintf(name, sizeof name, "%s%ld", prefix, i);
        t0 = hostile_now_ms();
        rc = credchain_get_credentials(name, HOSTILE_OUT(&c), &e);
        ms = hostile_now_ms() - t0;
        if (i < 10) first[i] = ms;
        if (i >= n - 10) last[i - (n - 10)] = ms;
        codes[rc < 16 ? rc : 15]++;
        credchain_free_credentials(c);
        credchain_error_free(e);
        if (i == 9) rss_before = hostile_status_kb("VmRSS");
        if (i == n / 2) rss_mid = hostile_status_kb("VmRSS");
    }
    total = hostile_now_ms() - t_start;
    rss_after = hostile_status_kb("VmRSS");
    pthread_mutex_lock(&out_lock);
    printf("{\"op\":\"unknown\",\"n\":%ld,\"codes\":{", n);
    for (i = 0; i < 16; i++) printf("%s\"%ld\":%ld", i ? "," : "", i, codes[i]);
    printf("},\"rss_after_10_kb\":%ld,\"rss_mid_kb\":%ld,\"rss_after_kb\":%ld,\"total_ms\":%.1f,\"first_ms\":[",
           rss_before, rss_mid, rss_after, total);
    for (i = 0; i < 10 && i < n; i++) printf("%s%.3f", i ? "," : "", first[i]);
    printf("],\"last_ms\":[");
    for (i = 0; i < 10 && i < n; i++) printf("%s%.3f", i ? "," : "", last[i]);
    printf("]}\n");
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
}

static volatile sig_atomic_t reaped_by_handler = 0;

static void reap_all(int sig) {
    int saved = errno;
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0) reaped_by_handler++;
    errno = saved;
}

static void step_sigchld(const char *how) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = strcmp(how, "ign") == 0 ? SIG_IGN : reap_all;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
}

/* Forks n children that exit at once; 300 ms later counts those still zombies (/proc/PID/stat
 * state Z): under SIG_IGN the kernel reaps them itself. */
static void step_children(long n) {
    pid_t pids[256];
    long i, zombies = 0;
    struct sigaction now;
    if (n > 256) n = 256;
    for (i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] == 0) _exit(0);
    }
    hostile_sleep_ms(300);
    for (i = 0; i < n; i++) {
        char path[64], stat[256];
        FILE *f;
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pids[i]);
        f = fopen(path, "r");
        if (f == NULL) continue;
        if (fgets(stat, sizeof stat, f) != NULL) {
            char *close_paren = strrchr(stat, ')');
            if (close_paren != NULL && close_paren[1] == ' ' && close_paren[2] == 'Z') zombies++;
        }
        fclose(f);
    }
    sigaction(SIGCHLD, NULL, &now);
    pthread_mutex_lock(&out_lock);
    printf("{\"op\":\"children\",\"zombies\":%ld,\"ignored\":%s,\"reaped_by_handler\":%d}\n", zombies,
           now.sa_handler == SIG_IGN ? "true" : "false", (int)reaped_by_handler);
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
}

static long forker_every_ms, forker_life_ms;

static void *forker_main(void *unused) {
    (void)unused;
    for (;;) {
        pid_t pid = fork();
        if (pid == 0) {
            hostile_sleep_ms(forker_life_ms);
            _exit(0);
        }
        hostile_sleep_ms(forker_every_ms);
        while (waitpid(-1, NULL, WNOHANG) > 0) {
        }
    }
    return NULL;
}

static void *bgget_main(void *profile) {
    step_get((const char *)profile);
    return NULL;
}

static int exhausted_fds[65536];
static long exhausted_count = 0;

static void emit(const char *op);

static void step_cycle(long n, const char *profile) {
    long i, codes[16] = {0};
    for (i = 0; i < n; i++) {
        credchain_credentials *c = NULL;
        credchain_result rc = credchain_get_credentials(profile, HOSTILE_OUT(&c), NULL);
        codes[rc < 16 ? rc : 15]++;
        credchain_free_credentials(c);
        credchain_invalidate(profile, NULL);
    }
    pthread_mutex_lock(&out_lock);
    printf("{\"op\":\"cycle\",\"n\":%ld,\"codes\":{", n);
    for (i = 0; i < 16; i++) printf("%s\"%ld\":%ld", i ? "," : "", i, codes[i]);
    printf("}}\n");
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
}

static void step_closestd(const char *path) {
    int records = dup(1);
    FILE *out;
    if (records < 0 || (out = fdopen(records, "w")) == NULL) exit(2);
    setvbuf(out, NULL, _IOLBF, 0);
    fflush(stdout);
    stdout = out;
    close(0);
    close(1);
    close(2);
    if (strcmp(path, "-") != 0) {
        int i;
        for (i = 0; i < 3; i++) {
            if (open(path, O_RDWR | O_CREAT | O_APPEND, 0600) != i) exit(2);
        }
    }
    emit("closestd");
}

static void emit(const char *op) {
    pthread_mutex_lock(&out_lock);
    printf("{\"op\":\"%s\"}\n", op);
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
}

/* Declared weak so this host still builds against a header without it. */
extern void credchain_reload_environment(void) __attribute__((weak));

int main(int argc, char **argv) {
    int i;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strncmp(s, "get", 3) == 0 && (s[3] == '\0' || s[3] == ':')) {
            step_get(arg_profile(s, 3));
        } else if (strncmp(s, "invalidate", 10) == 0 && (s[10] == '\0' || s[10] == ':')) {
            step_invalidate(arg_profile(s, 10));
        } else if (strncmp(s, "diagnose", 8) == 0 && (s[8] == '\0' || s[8] == ':')) {
            step_diagnose(arg_profile(s, 8));
        } else if (strncmp(s, "setenv:", 7) == 0) {
            char buf[8192];
            char *eq;
            snprintf(buf, sizeof buf, "%s", s + 7);
            eq = strchr(buf, '=');
            if (eq == NULL) return 2;
            *eq = '\0';
            if (setenv(buf, eq + 1, 1) != 0) return 2;
            emit("setenv");
        } else if (strcmp(s, "reload") == 0) {
            /* Weak: the step exists in builds that have the call. */
            if (credchain_reload_environment == NULL) return 2;
            credchain_reload_environment();
            emit("reload");
        } else if (strncmp(s, "unsetenv:", 9) == 0) {
            unsetenv(s + 9);
            emit("unsetenv");
        } else if (strncmp(s, "sleep:", 6) == 0) {
            hostile_sleep_ms(strtol(s + 6, NULL, 10));
        } else if (strcmp(s, "wait") == 0) {
            char line[256];
            emit("waiting");
            if (fgets(line, sizeof line, stdin) == NULL) clearerr(stdin);
            emit("resumed");
        } else if (strncmp(s, "logcb:", 6) == 0) {
            long level = strtol(s + 6, NULL, 10);
            credchain_set_log_callback((uint32_t)level, level > 0 ? on_log : NULL);
            emit("logcb");
        } else if (strcmp(s, "rss") == 0) {
            print_rss("rss");
        } else if (strncmp(s, "unknown:", 8) == 0) {
            char *end = NULL;
            long n = strtol(s + 8, &end, 10);
            if (end == NULL || *end != ':' || n < 20) return 2;
            step_unknown(n, end + 1);
        } else if (strncmp(s, "limit-as:", 9) == 0) {
            struct rlimit rl;
            rl.rlim_cur = rl.rlim_max = (rlim_t)strtol(s + 9, NULL, 10) * 1024 * 1024;
            if (setrlimit(RLIMIT_AS, &rl) != 0) {
                fprintf(stderr, "host: setrlimit: %s\n", strerror(errno));
                return 2;
            }
            emit("limit-as");
        } else if (strncmp(s, "sigchld:", 8) == 0) {
            step_sigchld(s + 8);
            emit("sigchld");
        } else if (strncmp(s, "children:", 9) == 0) {
            step_children(strtol(s + 9, NULL, 10));
        } else if (strncmp(s, "forker:", 7) == 0) {
            pthread_t t;
            char *end = NULL;
            forker_every_ms = strtol(s + 7, &end, 10);
            if (end == NULL || *end != ':') return 2;
            forker_life_ms = strtol(end + 1, NULL, 10);
            if (pthread_create(&t, NULL, forker_main, NULL) != 0) return 2;
            emit("forker");
        } else if (strncmp(s, "bgget", 5) == 0 && (s[5] == '\0' || s[5] == ':')) {
            pthread_t t;
            if (pthread_create(&t, NULL, bgget_main, (void *)arg_profile(s, 5)) != 0) return 2;
        } else if (strncmp(s, "cycle:", 6) == 0) {
            char *end = NULL;
            long n = strtol(s + 6, &end, 10);
            step_cycle(n, end != NULL && *end == ':' && end[1] != '\0' ? end + 1 : NULL);
        } else if (strncmp(s, "closestd:", 9) == 0) {
            step_closestd(s + 9);
        } else if (strcmp(s, "exhaust-fds") == 0) {
            int fd;
            while (exhausted_count < 65536 && (fd = open("/dev/null", O_RDONLY)) >= 0) {
                exhausted_fds[exhausted_count++] = fd;
            }
            pthread_mutex_lock(&out_lock);
            printf("{\"op\":\"exhaust-fds\",\"held\":%ld,\"errno\":%d}\n", exhausted_count, errno);
            fflush(stdout);
            pthread_mutex_unlock(&out_lock);
        } else if (strcmp(s, "release-fds") == 0) {
            while (exhausted_count > 0) close(exhausted_fds[--exhausted_count]);
            emit("release-fds");
        } else {
            fprintf(stderr, "host: unknown step %s\n", s);
            return 2;
        }
    }
    emit("done");
    return 0;
}
