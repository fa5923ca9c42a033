/*
 * fork_storm: fork() while other threads are inside credchain.
 *
 *   fork_storm [--threads T] [--forks N] [--child-timeout-ms MS] [--rds] [--env-writer]
 *              [--log-toggler] [--max-hung H] [--deadline-s S] [--fork-interval-ms I]
 *
 * T threads call credchain_get_credentials and credchain_invalidate (and,
 * with --rds, credchain_rds_auth_token) in a loop while the main thread
 * forks N times, one child at a time. Each child calls get, invalidate, get
 * and _exit()s 0 when all three succeeded (1 otherwise). The parent waits
 * at most MS for each child, then SIGKILLs it and counts it as hung.
 * --env-writer adds a thread that setenv()s/unsetenv()s non-AWS variables,
 * --log-toggler one that installs and removes a log callback in a loop.
 * After H hung children (default 3) or S seconds (default 100) the parent
 * stops forking, so a broken library cannot keep a CI job for N * MS.
 * Between forks the parent sleeps I ms (default 0) so the threads are busy
 * inside the library, not just starting, when fork() comes.
 *
 * Prints {"forks":..,"succeeded":..,"failed":..,"hung":..,"signalled":..,...}
 * and exits 0 only when all N children succeeded.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "credchain.h"
#include "common.h"

static atomic_int stop;
static atomic_long thread_calls, thread_errors, env_writes, log_toggles, log_messages;
static int use_rds;

static void on_log(credchain_log_level level, const char *message) {
    (void)level;
    (void)message;
    atomic_fetch_add(&log_messages, 1);
}

static void *worker(void *arg) {
    long id = (long)arg, i = 0;
    while (!atomic_load(&stop)) {
        credchain_credentials *c = NULL;
        credchain_result rc = credchain_get_credentials(NULL, HOSTILE_OUT(&c), NULL);
        if (rc != CREDCHAIN_OK) atomic_fetch_add(&thread_errors, 1);
        credchain_free_credentials(c);
        if ((i + id) % 7 == 0) credchain_invalidate(NULL, NULL);
        if (use_rds && (i + id) % 3 == 0) {
            char *token = NULL;
            rc = credchain_rds_auth_token(NULL, "mydb.cluster-abc.us-east-1.rds.amazonaws.com", 5432, "app", NULL,
                                          0, &token, NULL);
            if (rc != CREDCHAIN_OK) atomic_fetch_add(&thread_errors, 1);
            credchain_string_free(token);
        }
        atomic_fetch_add(&thread_calls, 1);
        i++;
    }
    return NULL;
}

static void *env_writer(void *unused) {
    char name[64];
    long round = 0;
    (void)unused;
    while (!atomic_load(&stop)) {
        long i;
        for (i = 0; i < 500 && !atomic_load(&stop); i++) {
            snprintf(name, sizeof name, "HOSTILE_FORK_ENV_%ld", i);
            setenv(name, (i + round) % 2 ? "some-value-of-a-certain-length" : "v", 1);
            atomic_fetch_add(&env_writes, 1);
        }
        for (i = 0; i < 500 && !atomic_load(&stop); i++) {
            snprintf(name, sizeof name, "HOSTILE_FORK_ENV_%ld", i);
            unsetenv(name);
            atomic_fetch_add(&env_writes, 1);
        }
        round++;
    }
    return NULL;
}

static void *log_toggler(void *unused) {
    (void)unused;
    while (!atomic_load(&stop)) {
        credchain_set_log_callback(CREDCHAIN_LOG_TRACE, on_log);
        hostile_sleep_ms(1);
        credchain_set_log_callback(CREDCHAIN_LOG_OFF, NULL);
        atomic_fetch_add(&log_toggles, 1);
    }
    return NULL;
}

static void child_say(const char *what, credchain_error *e) {
    /* No stdio in the child: another thread may have held its lock at fork time. */
    const char *msg = e ? credchain_error_message(e) : NULL;
    ssize_t w = write(2, what, strlen(what));
    if (msg) {
        w = write(2, ": ", 2);
        w = write(2, msg, strlen(msg));
    }
    w = write(2, "\n", 1);
    (void)w;
}

static int child_get(void) {
    credchain_credentials *c = NULL;
    credchain_error *e = NULL;
    credchain_result rc = credchain_get_credentials(NULL, HOSTILE_OUT(&c), &e);
    if (rc != CREDCHAIN_OK) child_say("fork_storm child: get failed", e);
    credchain_free_credentials(c);
    credchain_error_free(e);
    return rc == CREDCHAIN_OK;
}

static int child(void) {
    credchain_error *e = NULL;
    int ok = child_get();
    if (credchain_invalidate(NULL, &e) != CREDCHAIN_OK) {
        child_say("fork_storm child: invalidate failed", e);
        ok = 0;
    }
    credchain_error_free(e);
    ok = child_get() && ok;
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    long threads = 8, forks = 200, child_timeout_ms = 10000, max_hung = 3, fork_interval_ms = 0, i;
    double deadline_s = 100, t_start, slowest_child_ms = 0;
    int env = 0, logs = 0, parent_after;
    long forked = 0, succeeded = 0, failed = 0, hung = 0, signalled = 0, fork_errors = 0;
    pthread_t tids[64], envt, logt;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atol(argv[++i]);
        else if (strcmp(argv[i], "--forks") == 0 && i + 1 < argc) forks = atol(argv[++i]);
        else if (strcmp(argv[i], "--child-timeout-ms") == 0 && i + 1 < argc) child_timeout_ms = atol(argv[++i]);
        else if (strcmp(argv[i], "--max-hung") == 0 && i + 1 < argc) max_hung = atol(argv[++i]);
        else if (strcmp(argv[i], "--deadline-s") == 0 && i + 1 < argc) deadline_s = atof(argv[++i]);
        else if (strcmp(argv[i], "--fork-interval-ms") == 0 && i + 1 < argc) fork_interval_ms = atol(argv[++i]);
        else if (strcmp(argv[i], "--rds") == 0) use_rds = 1;
        else if (strcmp(argv[i], "--env-writer") == 0) env = 1;
        else if (strcmp(argv[i], "--log-toggler") == 0) logs = 1;
        else return 2;
    }
    if (threads < 0 || threads > 64) return 2;
    if (!child_get()) return 3; /* the parent holds credentials before the first fork */
    for (i = 0; i < threads; i++) pthread_create(&tids[i], NULL, worker, (void *)i);
    if (env) pthread_create(&envt, NULL, env_writer, NULL);
    if (logs) pthread_create(&logt, NULL, log_toggler, NULL);
    hostile_sleep_ms(100); /* let the threads get going */
    t_start = hostile_now_ms();
    for (i = 0; i < forks; i++) {
        pid_t pid, got;
        int status = 0;
        double t0, waited;
        if (hung >= max_hung || hostile_now_ms() - t_start > deadline_s * 1000.0) break;
        if (fork_interval_ms > 0) hostile_sleep_ms(fork_interval_ms);
        t0 = hostile_now_ms();
        pid = fork();
        if (pid == 0) _exit(child());
        if (pid < 0) {
            fork_errors++;
            continue;
        }
        forked++;
        for (;;) {
            got = waitpid(pid, &status, WNOHANG);
            if (got == pid) break;
            if (hostile_now_ms() - t0 > (double)child_timeout_ms) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                got = -1;
                break;
            }
            hostile_sleep_ms(1);
        }
        waited = hostile_now_ms() - t0;
        if (waited > slowest_child_ms) slowest_child_ms = waited;
        if (got != pid) hung++;
        else if (WIFSIGNALED(status)) signalled++;
        else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) succeeded++;
        else failed++;
    }
    atomic_store(&stop, 1);
    for (i = 0; i < threads; i++) pthread_join(tids[i], NULL);
    if (env) pthread_join(envt, NULL);
    if (logs) pthread_join(logt, NULL);
    credchain_set_log_callback(CREDCHAIN_LOG_OFF, NULL);
    parent_after = child_get(); /* the parent keeps working afterwards */
    printf("{\"requested\":%ld,\"forks\":%ld,\"succeeded\":%ld,\"failed\":%ld,\"hung\":%ld,\"signalled\":%ld,"
           "\"fork_errors\":%ld,\"slowest_child_ms\":%.1f,\"seconds\":%.1f,\"thread_calls\":%ld,\"thread_errors\":%ld,"
           "\"env_writes\":%ld,\"log_toggles\":%ld,\"log_messages\":%ld,\"parent_after\":%d}\n",
           forks, forked, succeeded, failed, hung, signalled, fork_errors, slowest_child_ms,
           (hostile_now_ms() - t_start) / 1000.0, atomic_load(&thread_calls), atomic_load(&thread_errors),
           atomic_load(&env_writes), atomic_load(&log_toggles), atomic_load(&log_messages), parent_after);
    return (succeeded == forks && thread_errors == 0 && parent_after) ? 0 : 1;
}
