/*
 * live.h: live mode, the same core/ as real processes on loopback (DESIGN §7).
 *
 * A data directory DIR holds one folder per role (DIR/<role>/: the role's SQLite files,
 * node.log with one JSON line per trace record, pid while the node runs, lock held with
 * flock(2) for the node's whole life) and DIR/live.conf (the ports that `live up` chose,
 * so every later command finds the nodes). Node ports are base_port + 1 + node id
 * (default base 9100: broker 9101, orchestrator 9102, identity 9103, risk 9104, ledger
 * 9105, payout 9106); the
 * orchestrator also serves gRPC (default 127.0.0.1:9000).
 *
 * Entry points, each returning a process exit code (0 ok, 1 failure, 2 bad usage/input):
 * sg_live_node_main runs one node in the foreground until SIGTERM/SIGINT (graceful: the
 * gRPC ingress sends GOAWAY and finishes in-flight calls, the database closes cleanly);
 * the supervisor functions start, inspect and stop the nodes of a data directory.
 */
#ifndef SG_LIVE_H
#define SG_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "node.h"

/* SG_LIVE_SQLITE_PATH_MAX: SQLite's unix VFS takes file paths of at most 512 bytes. */
enum { SG_LIVE_BASE_PORT = 9100, SG_LIVE_SQLITE_PATH_MAX = 512 };

struct sg_live_opts {
    const char *data_dir;      /* default "./sagasim-live" */
    int base_port;             /* 0: the one in live.conf, else SG_LIVE_BASE_PORT */
    const char *grpc_addr;     /* NULL: the one in live.conf, else 127.0.0.1:9000 */
    uint64_t bugs;             /* planted bugs, passed to every node */
    const char *bug_names;     /* the same as a comma-separated list (for live.conf) */
    enum sg_role role;         /* live node */
    bool follow;               /* live logs --follow */
    bool once;                 /* live demo --once */
    int role_filter;           /* live logs ROLE: enum sg_role, or -1 for all */
    const char *self_exe;      /* this program, to start nodes with */
    /* live load / chaos / bench */
    double rate;               /* fresh creates per second (0: as fast as possible) */
    int64_t duration_ms;
    uint32_t clients;
    uint32_t dup_pct;
    uint64_t seed;
    int64_t kill_every_ms;     /* live chaos */
    const char *report_dir;    /* live chaos --report DIR */
    const char *console_addr;  /* NULL: the one in live.conf, else 127.0.0.1:8080; "off" */
    bool sync_normal;          /* nodes at synchronous=NORMAL (live bench's comparison) */
};

int sg_live_node_main(const struct sg_live_opts *o);
int sg_live_up(const struct sg_live_opts *o, bool quiet);
int sg_live_status(const struct sg_live_opts *o);
int sg_live_down(const struct sg_live_opts *o);
int sg_live_logs(const struct sg_live_opts *o);
int sg_live_demo(const struct sg_live_opts *o);
int sg_live_load_cmd(const struct sg_live_opts *o);
int sg_live_bench_cmd(const struct sg_live_opts *o);
int sg_live_console_main(const struct sg_live_opts *o);

/* The configuration every live node runs with: DESIGN §8's defaults, no random
 * rejections and no random payout failures (decisions still follow the deny list and the
 * per-asset limits; the ledger still rejects what a balance cannot cover). */
void sg_live_config(struct sg_config *c, uint64_t bugs);

#endif
