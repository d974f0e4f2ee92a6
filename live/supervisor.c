/*
 * supervisor.c (live): `live up`, `status`, `down` and `logs` (see live.h).
 *
 * Nodes run detached (their own session, stdin from /dev/null, stderr to
 * DATA/<role>/stderr.log) so they outlive the command that started them. Whether a node
 * runs is decided by its lock (flock held by the live process), never by a pid file
 * alone, so a stale pid file after a kill -9 is harmless and a reused pid is never
 * signalled: `down` signals a pid only while its lock is held.
 */
#include "live.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bugs.h"
#include "net.h"
#include "paths.h"
#include "supervisor.h"

enum { UP_TIMEOUT_MS = 15000, DOWN_TIMEOUT_MS = 10000, POLL_MS = 20 };

static const enum sg_role start_order[SG_ROLE_COUNT] = {
    SG_ROLE_BROKER, SG_ROLE_IDENTITY, SG_ROLE_RISK, SG_ROLE_LEDGER, SG_ROLE_PAYOUT, SG_ROLE_ORCH};

void sg_live_sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static void reap(void)
{
    while (waitpid(-1, NULL, WNOHANG) > 0) {}
}

/* ---- live.conf: the ports `up` chose ---- */

void sg_live_resolve(const struct sg_live_opts *in, struct sg_live_opts *out, char **grpc_owned)
{
    *out = *in;
    *grpc_owned = NULL;
    static char console_buf[64]; /* one data directory per process */
    console_buf[0] = '\0';
    char *conf = sg_live_path(in->data_dir, NULL, "live.conf");
    FILE *f = fopen(conf, "r");
    free(conf);
    char line[512];
    int port = 0;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "base_port=", 10) == 0) port = atoi(line + 10);
        if (strncmp(line, "grpc=", 5) == 0 && !*grpc_owned) *grpc_owned = strdup(line + 5);
        if (strncmp(line, "console=", 8) == 0 && !in->console_addr && strlen(line + 8) < 64)
            snprintf(console_buf, sizeof console_buf, "%s", line + 8);
    }
    if (f) fclose(f);
    if (!out->base_port) out->base_port = port ? port : SG_LIVE_BASE_PORT;
    if (!out->grpc_addr) out->grpc_addr = *grpc_owned ? *grpc_owned : "127.0.0.1:9000";
    if (!out->console_addr) out->console_addr = console_buf[0] ? console_buf : "127.0.0.1:8080";
}

static bool write_conf(const struct sg_live_opts *o)
{
    char *conf = sg_live_path(o->data_dir, NULL, "live.conf");
    FILE *f = fopen(conf, "w");
    free(conf);
    if (!f) return false;
    fprintf(f, "base_port=%d\ngrpc=%s\nconsole=%s\nbugs=%s\n", o->base_port, o->grpc_addr,
            o->console_addr, o->bug_names ? o->bug_names : "");
    return fclose(f) == 0;
}

/* ---- starting nodes ---- */

static pid_t spawn(const struct sg_live_opts *o, const char *name, const char *const *argv);

static pid_t spawn_node(const struct sg_live_opts *o, enum sg_role role)
{
    const char *name = sg_role_name(role);
    char port[16];
    snprintf(port, sizeof port, "%d", o->base_port);
    const char *argv[8 + 2 * 64];
    size_t n = 0;
    argv[n++] = o->self_exe;
    argv[n++] = "live";
    argv[n++] = "node";
    argv[n++] = "--role";
    argv[n++] = name;
    argv[n++] = "--data";
    argv[n++] = o->data_dir;
    argv[n++] = "--base-port";
    argv[n++] = port;
    argv[n++] = "--grpc";
    argv[n++] = o->grpc_addr;
    if (o->sync_normal) argv[n++] = "--synchronous-normal";
    for (int b = 0; b < SG_BUG_COUNT && b < 64; b++)
        if (o->bugs & (1ULL << b)) {
            argv[n++] = "--bug";
            argv[n++] = sg_bug_info((enum sg_bug)b)->name;
        }
    argv[n] = NULL;
    return spawn(o, name, argv);
}

/* Starts argv detached: its own session, stdin from /dev/null, stdout and stderr to
 * DATA/<name>/stderr.log. */
static pid_t spawn(const struct sg_live_opts *o, const char *name, const char *const *argv)
{
    char *err = sg_live_path(o->data_dir, name, "stderr.log");
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        int in = open("/dev/null", O_RDONLY);
        int out = open(err, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (in < 0 || out < 0) _exit(127);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        execv(o->self_exe, (char *const *)argv);
        _exit(127);
    }
    free(err);
    return pid;
}

bool sg_live_port_open(const char *host, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    bool ok = inet_pton(AF_INET, host, &a.sin_addr) == 1 &&
              connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

bool sg_live_split_addr(const char *addr, char *host, size_t cap, int *port)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= cap || colon == addr) return false;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    char *end = NULL;
    long p = strtol(colon + 1, &end, 10);
    if (!end || *end || p <= 0 || p > 65535) return false;
    *port = (int)p;
    return true;
}

/* Up when its pid file names a live locked process and its ports accept connections. */
static bool node_healthy(const struct sg_live_opts *o, enum sg_role role)
{
    if (sg_live_running_pid(o->data_dir, sg_role_name(role)) <= 0) return false;
    if (!sg_live_port_open("127.0.0.1", sg_live_net_port(o->base_port, sg_role_node_id(role))))
        return false;
    if (role != SG_ROLE_ORCH) return true;
    char host[64];
    int port = 0;
    return sg_live_split_addr(o->grpc_addr, host, sizeof host, &port) &&
           sg_live_port_open(host, port);
}

static void print_tail(const char *dir, const char *role, const char *file)
{
    char *p = sg_live_path(dir, role, file);
    FILE *f = fopen(p, "r");
    free(p);
    if (!f) return;
    char line[1024];
    char tail[8][1024];
    size_t n = 0;
    while (fgets(line, sizeof line, f)) snprintf(tail[n++ % 8], sizeof tail[0], "%s", line);
    fclose(f);
    for (size_t i = n > 8 ? n - 8 : 0; i < n; i++) fprintf(stderr, "  %s", tail[i % 8]);
}

/* Starts the node whenever its lock is free (also when a node that held it dies while we
 * wait: a kill -9 takes a moment to land) and waits until it is healthy. *started_out
 * says whether this call started it. */
static bool bring_up(const struct sg_live_opts *o, enum sg_role role, bool *started_out)
{
    pid_t pid = 0;
    *started_out = false;
    for (int waited = 0; waited < UP_TIMEOUT_MS; waited += POLL_MS) {
        if (node_healthy(o, role)) return true;
        if (pid == 0 && sg_live_running_pid(o->data_dir, sg_role_name(role)) == 0) {
            pid = spawn_node(o, role);
            if (pid < 0) {
                fprintf(stderr, "sagasim live up: fork: %s\n", strerror(errno));
                return false;
            }
            *started_out = true;
            continue;
        }
        int status;
        if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "sagasim live up: %s exited during start-up (%s %d); its stderr:\n",
                    sg_role_name(role), WIFEXITED(status) ? "exit" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
            print_tail(o->data_dir, sg_role_name(role), "stderr.log");
            return false;
        }
        sg_live_sleep_ms(POLL_MS);
    }
    fprintf(stderr, "sagasim live up: %s not healthy after %d ms\n", sg_role_name(role),
            UP_TIMEOUT_MS);
    return false;
}

static bool console_off(const struct sg_live_opts *o)
{
    return strcmp(o->console_addr, "off") == 0;
}

/* The console: started when its lock is free, healthy when its port answers. */
static bool console_up(const struct sg_live_opts *o, bool quiet)
{
    if (console_off(o)) return true;
    char host[64];
    int port = 0;
    if (!sg_live_split_addr(o->console_addr, host, sizeof host, &port)) {
        fprintf(stderr, "sagasim live up: bad --console '%s' (HOST:PORT or off)\n",
                o->console_addr);
        return false;
    }
    pid_t pid = 0;
    if (sg_live_running_pid(o->data_dir, "console") == 0) {
        if (!sg_live_mkdirs(o->data_dir, "console")) return false;
        const char *argv[] = {o->self_exe, "live", "console", "--data", o->data_dir,
                              "--console", o->console_addr, NULL};
        pid = spawn(o, "console", argv);
    }
    for (int waited = 0; waited < UP_TIMEOUT_MS; waited += POLL_MS) {
        if (sg_live_running_pid(o->data_dir, "console") > 0 && sg_live_port_open(host, port)) {
            if (!quiet) fprintf(stderr, "sagasim live up: console on http://%s/\n",
                                o->console_addr);
            return true;
        }
        int status;
        if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) break;
        sg_live_sleep_ms(POLL_MS);
    }
    fprintf(stderr, "sagasim live up: the console did not come up; its stderr:\n");
    print_tail(o->data_dir, "console", "stderr.log");
    return false;
}

int sg_live_up(const struct sg_live_opts *in, bool quiet)
{
    char *grpc_owned = NULL;
    struct sg_live_opts o;
    sg_live_resolve(in, &o, &grpc_owned);
    int code = 0;
    if (!sg_live_mkdirs(o.data_dir, NULL) || !write_conf(&o)) {
        fprintf(stderr, "sagasim live up: cannot write %s/live.conf: %s\n", o.data_dir,
                strerror(errno));
        code = 2;
        goto done;
    }
    for (size_t i = 0; i < SG_ROLE_COUNT && code == 0; i++) {
        enum sg_role role = start_order[i];
        const char *name = sg_role_name(role);
        if (!sg_live_mkdirs(o.data_dir, name)) {
            fprintf(stderr, "sagasim live up: cannot create %s/%s: %s\n", o.data_dir, name,
                    strerror(errno));
            code = 2;
            break;
        }
        bool started = false;
        if (!bring_up(&o, role, &started)) code = 1;
        else if (!quiet)
            fprintf(stderr, "sagasim live up: %s %s (pid %d, 127.0.0.1:%d)\n", name,
                    started ? "started" : "already running",
                    sg_live_running_pid(o.data_dir, name),
                    sg_live_net_port(o.base_port, sg_role_node_id(role)));
    }
    if (code == 0 && !console_up(&o, quiet)) code = 1;
    reap();
    if (code == 0) {
        if (!quiet) {
            printf("grpc=%s\ndata=%s\n", o.grpc_addr, o.data_dir);
            if (!console_off(&o)) printf("console=http://%s/\n", o.console_addr);
        }
    } else fprintf(stderr, "sagasim live up: failed; `sagasim live down --data %s` stops the "
                         "nodes that did start\n", o.data_dir);
done:
    free(grpc_owned);
    return code;
}

int sg_live_status(const struct sg_live_opts *in)
{
    char *grpc_owned = NULL;
    struct sg_live_opts o;
    sg_live_resolve(in, &o, &grpc_owned);
    int up = 0;
    for (int r = 0; r < SG_ROLE_COUNT; r++) {
        const char *name = sg_role_name((enum sg_role)r);
        int pid = sg_live_running_pid(o.data_dir, name);
        bool healthy = pid != 0 && node_healthy(&o, (enum sg_role)r);
        up += healthy;
        printf("node=%s pid=%d state=%s addr=127.0.0.1:%d%s%s\n", name, pid > 0 ? pid : 0,
               healthy ? "up" : pid != 0 ? "starting" : "down",
               sg_live_net_port(o.base_port, sg_role_node_id((enum sg_role)r)),
               r == SG_ROLE_ORCH ? " grpc=" : "", r == SG_ROLE_ORCH ? o.grpc_addr : "");
    }
    int console = sg_live_running_pid(o.data_dir, "console");
    printf("node=console pid=%d state=%s addr=%s\n", console > 0 ? console : 0,
           console > 0 ? "up" : "down", o.console_addr);
    printf("up=%d/%d\n", up, SG_ROLE_COUNT);
    free(grpc_owned);
    return up == SG_ROLE_COUNT ? 0 : 1;
}

/* Whether pid is gone: no such process, or a zombie that only waits to be reaped (by its
 * parent, which for a detached node is init: it may take its time). */
static bool process_gone(int pid)
{
    if (kill(pid, 0) != 0) return true;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return true;
    char state = '?';
    int n = fscanf(f, "%*d (%*[^)]) %c", &state);
    fclose(f);
    return n == 1 && (state == 'Z' || state == 'X');
}

/* SIGTERM (after SIGCONT, in case the node is paused), then SIGKILL at the timeout. */
static bool stop_node(const char *dir, const char *name)
{
    int pid = sg_live_running_pid(dir, name);
    if (pid == 0) return true;
    if (pid < 0) { /* starting: no pid yet; give it a moment to write one */
        for (int w = 0; w < 2000 && (pid = sg_live_running_pid(dir, name)) < 0; w += POLL_MS)
            sg_live_sleep_ms(POLL_MS);
        if (pid <= 0) return pid == 0;
    }
    kill(pid, SIGCONT);
    kill(pid, SIGTERM);
    for (int waited = 0; waited < DOWN_TIMEOUT_MS; waited += POLL_MS) {
        reap();
        if (sg_live_running_pid(dir, name) == 0 && process_gone(pid)) {
            printf("stopped=%s pid=%d\n", name, pid);
            return true;
        }
        sg_live_sleep_ms(POLL_MS);
    }
    fprintf(stderr, "sagasim live down: %s (pid %d) ignored SIGTERM for %d ms: SIGKILL\n", name,
            pid, DOWN_TIMEOUT_MS);
    kill(pid, SIGKILL);
    for (int waited = 0; waited < 2000; waited += POLL_MS) {
        reap();
        if (process_gone(pid)) {
            printf("killed=%s pid=%d\n", name, pid);
            return true;
        }
        sg_live_sleep_ms(POLL_MS);
    }
    return false;
}

int sg_live_down(const struct sg_live_opts *o)
{
    bool ok = stop_node(o->data_dir, "console");
    for (size_t i = SG_ROLE_COUNT; i-- > 0;) /* the orchestrator first, the broker last */
        ok = stop_node(o->data_dir, sg_role_name(start_order[i])) && ok;
    return ok ? 0 : 1;
}

int sg_live_logs(const struct sg_live_opts *o)
{
    long offsets[SG_ROLE_COUNT] = {0};
    bool many = o->role_filter < 0;
    for (;;) {
        for (int r = 0; r < SG_ROLE_COUNT; r++) {
            if (!many && r != o->role_filter) continue;
            const char *name = sg_role_name((enum sg_role)r);
            char *p = sg_live_path(o->data_dir, name, "node.log");
            FILE *f = fopen(p, "r");
            free(p);
            if (!f) continue;
            fseek(f, offsets[r], SEEK_SET);
            char line[8192];
            while (fgets(line, sizeof line, f)) {
                if (many) printf("%-12s | ", name);
                fputs(line, stdout);
            }
            offsets[r] = ftell(f);
            fclose(f);
        }
        fflush(stdout);
        if (!o->follow) return 0;
        sg_live_sleep_ms(200);
    }
}
