/*
 * cmd_live.c: `sagasim live <command>`: live mode's commands (live/live.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bugs.h"
#include "cli.h"
#include "live.h"

static const char usage[] =
    "usage: sagasim live <command> [--data DIR] [options]\n"
    "\n"
    "The saga's core as real processes on loopback: a broker, an orchestrator (with its\n"
    "gRPC API), identity and risk, each with its SQLite files under DIR/<role>/.\n"
    "\n"
    "commands:\n"
    "  up      start every node that is not running, wait until each is healthy, print\n"
    "          grpc= and data= (after a kill -9 of a node, `up` brings it back)\n"
    "  status  one line per node: pid, up/down, address; exit 0 when all are up, else 1\n"
    "  logs    print the nodes' logs (JSON lines) [--follow] [ROLE]\n"
    "  down    stop every node gracefully (SIGTERM, then SIGKILL after 10 s)\n"
    "  demo    up, then the reference README's calls, one withdrawal followed to its end,\n"
    "          and how to call the service from other clients [--once: down at the end]\n"
    "  load    drive the gRPC API (new keys, exact retries, concurrent duplicates, gets),\n"
    "          record the client history to DIR/history.jsonl, print rate and latency\n"
    "          [--rate R] [--duration T] [--clients C] [--dup-rate PCT] [--seed N]\n"
    "  chaos   up + load + a nemesis that SIGKILLs (and restarts) or SIGSTOPs a node every\n"
    "          --kill-every (default 2s); then heal, settle, stop, and judge I1-I10 with the\n"
    "          simulator's checker [--duration T] [--seed N] [--bug NAME] [--report DIR]\n"
    "          (exit 0 every invariant held, 1 violation)\n"
    "  bench   end-to-end withdrawals/s (create acknowledged -> terminal) and create\n"
    "          latency p50/p99/max at synchronous=FULL, as fast as --clients (16) go for\n"
    "          --duration (10s); starts and stops the nodes unless they were running;\n"
    "          then the same at synchronous=NORMAL on DIR/bench-normal (normal_* lines)\n"
    "  console run the read-only web console in the foreground (what `up` starts)\n"
    "  node    run one node in the foreground (what `up` starts): --role ROLE\n"
    "\n"
    "options:\n"
    "  --data DIR        data directory (default ./sagasim-live)\n"
    "  --base-port P     node ports P+1..P+4 (default 9100, or the one `up` recorded)\n"
    "  --grpc HOST:PORT  the gRPC address (default 127.0.0.1:9000, or the recorded one)\n"
    "  --bug NAME        start the nodes with a planted bug (sagasim bugs), repeatable\n"
    "  --console ADDR    the read-only web console (default 127.0.0.1:8080; off: none)\n"
    "\n"
    "exit codes: 0 ok, 1 failure (a node did not come up, a call failed), 2 bad usage\n";

static int bad(const char *what, const char *arg)
{
    fprintf(stderr, "sagasim live: %s '%s' (see sagasim live --help)\n", what, arg ? arg : "");
    return SG_EXIT_USAGE;
}

/* "30s", "500ms", "5m", or plain seconds; -1 when malformed. */
static int64_t parse_duration_ms(const char *s)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (end == s || v <= 0 || v > 86400000LL) return -1;
    if (strcmp(end, "") == 0 || strcmp(end, "s") == 0) return v * 1000;
    if (strcmp(end, "ms") == 0) return v;
    if (strcmp(end, "m") == 0) return v * 60000;
    return -1;
}

static int parse_role(const char *s)
{
    for (int r = 0; r < SG_ROLE_COUNT; r++)
        if (strcmp(s, sg_role_name((enum sg_role)r)) == 0) return r;
    return -1;
}

/* Appends a bug name to the comma-separated list (heap). */
static char *append_name(char *list, const char *name)
{
    size_t n = (list ? strlen(list) + 1 : 0) + strlen(name) + 1;
    char *out = realloc(list, n);
    if (!out) abort();
    if (list) strcat(strcat(out, ","), name);
    else strcpy(out, name);
    return out;
}

static int parse(int argc, char **argv, struct sg_live_opts *o, char **bug_names)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = strcmp(a, "--data") == 0 || strcmp(a, "--base-port") == 0 ||
                     strcmp(a, "--grpc") == 0 || strcmp(a, "--bug") == 0 ||
                     strcmp(a, "--role") == 0 || strcmp(a, "--rate") == 0 ||
                     strcmp(a, "--duration") == 0 || strcmp(a, "--clients") == 0 ||
                     strcmp(a, "--dup-rate") == 0 || strcmp(a, "--seed") == 0 ||
                     strcmp(a, "--kill-every") == 0 || strcmp(a, "--report") == 0 ||
                     strcmp(a, "--console") == 0;
        if (takes && !val) return bad("missing value for", a);
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return -1;
        } else if (strcmp(a, "--data") == 0) {
            if (!*val) return bad("empty", a);
            o->data_dir = val;
        } else if (strcmp(a, "--base-port") == 0) {
            uint64_t p = 0;
            if (!sg_cli_parse_u64(val, &p) || p < 1 || p > 65530) return bad("bad port", val);
            o->base_port = (int)p;
        } else if (strcmp(a, "--grpc") == 0) {
            o->grpc_addr = val;
        } else if (strcmp(a, "--bug") == 0) {
            enum sg_bug b = sg_bug_parse(val);
            if (b == SG_BUG_COUNT) return bad("unknown bug (try: sagasim bugs)", val);
            o->bugs |= 1ULL << b;
            *bug_names = append_name(*bug_names, val);
        } else if (strcmp(a, "--role") == 0) {
            int r = parse_role(val);
            if (r < 0) return bad("unknown role (broker, orchestrator, identity, risk, ledger, payout)", val);
            o->role = (enum sg_role)r;
        } else if (strcmp(a, "--rate") == 0 || strcmp(a, "--clients") == 0 ||
                   strcmp(a, "--dup-rate") == 0 || strcmp(a, "--seed") == 0) {
            uint64_t v = 0;
            if (!sg_cli_parse_u64(val, &v) || v > 1000000) return bad("bad number", val);
            if (a[2] == 'r') o->rate = (double)v;
            else if (a[2] == 'c') {
                if (v == 0 || v > 256) return bad("--clients must be 1..256, got", val);
                o->clients = (uint32_t)v;
            } else if (a[2] == 'd') {
                if (v > 100) return bad("--dup-rate is a percentage (0..100), got", val);
                o->dup_pct = (uint32_t)v;
            } else o->seed = v;
        } else if (strcmp(a, "--duration") == 0 || strcmp(a, "--kill-every") == 0) {
            int64_t ms = parse_duration_ms(val);
            if (ms <= 0) return bad("bad duration (e.g. 30s, 500ms, 5m)", val);
            if (a[2] == 'd') o->duration_ms = ms;
            else o->kill_every_ms = ms;
        } else if (strcmp(a, "--report") == 0) {
            o->report_dir = val;
        } else if (strcmp(a, "--console") == 0) {
            o->console_addr = val;
        } else if (strcmp(a, "--follow") == 0 || strcmp(a, "-f") == 0) {
            o->follow = true;
        } else if (strcmp(a, "--synchronous-normal") == 0) {
            o->sync_normal = true;
        } else if (strcmp(a, "--once") == 0) {
            o->once = true;
        } else if (a[0] != '-' && strcmp(argv[1], "logs") == 0 && o->role_filter < 0) {
            o->role_filter = parse_role(a);
            if (o->role_filter < 0) return bad("unknown role", a);
            continue;
        } else {
            return bad("unknown option", a);
        }
        if (takes) i++;
    }
    o->bug_names = *bug_names;
    return 0;
}

/* This program's own path (nodes are started from it), of any length; NULL when unknown
 * (the caller falls back to /proc/self/exe). Heap; the caller frees. */
static char *self_exe(void)
{
    for (size_t cap = 256; cap <= ((size_t)1 << 20); cap *= 2) {
        char *buf = malloc(cap);
        if (!buf) return NULL;
        ssize_t n = readlink("/proc/self/exe", buf, cap);
        if (n > 0 && (size_t)n < cap) { /* n == cap: it may have been cut; try larger */
            buf[n] = '\0';
            return buf;
        }
        free(buf);
        if (n <= 0) return NULL;
    }
    return NULL;
}

int sg_cmd_live(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? SG_EXIT_USAGE : SG_EXIT_OK;
    }
    struct sg_live_opts o = {.data_dir = "sagasim-live", .role = SG_ROLE_COUNT,
                             .role_filter = -1, .self_exe = "/proc/self/exe", .rate = -1,
                             .duration_ms = 0, .clients = 0, .dup_pct = 5, .seed = 1,
                             .kill_every_ms = 2000};
    char *self = self_exe();
    if (self) o.self_exe = self;
    char *bug_names = NULL;
    int rc = parse(argc, argv, &o, &bug_names);
    if (rc != 0) {
        free(bug_names);
        free(self);
        return rc < 0 ? SG_EXIT_OK : rc;
    }
    const char *cmd = argv[1];
    bool bench = strcmp(cmd, "bench") == 0; /* as fast as 16 clients go, for 10 s */
    if (o.rate < 0) o.rate = bench ? 0 : 100;
    if (!o.clients) o.clients = bench ? 16 : 8;
    if (!o.duration_ms) o.duration_ms = bench ? 10000 : 30000;
    if (bench) o.dup_pct = 0;
    if (strcmp(cmd, "up") == 0) rc = sg_live_up(&o, false);
    else if (strcmp(cmd, "status") == 0) rc = sg_live_status(&o);
    else if (strcmp(cmd, "down") == 0) rc = sg_live_down(&o);
    else if (strcmp(cmd, "logs") == 0) rc = sg_live_logs(&o);
    else if (strcmp(cmd, "demo") == 0) rc = sg_live_demo(&o);
    else if (strcmp(cmd, "load") == 0) rc = sg_live_load_cmd(&o);
    else if (bench) rc = sg_live_bench_cmd(&o);
    else if (strcmp(cmd, "console") == 0) {
        if (!o.console_addr) o.console_addr = "127.0.0.1:8080";
        rc = sg_live_console_main(&o);
    }
    else if (strcmp(cmd, "chaos") == 0) rc = sg_cmd_live_chaos(&o, argc, argv);
    else if (strcmp(cmd, "node") == 0) {
        if (o.role == SG_ROLE_COUNT) rc = bad("live node needs", "--role");
        else {
            if (!o.base_port) o.base_port = SG_LIVE_BASE_PORT;
            if (!o.grpc_addr) o.grpc_addr = "127.0.0.1:9000";
            rc = sg_live_node_main(&o);
        }
    } else rc = bad("unknown command", cmd);
    free(bug_names);
    free(self);
    return rc;
}
