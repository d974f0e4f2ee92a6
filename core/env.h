/*
 * env.h: the seam between the saga logic and the world (DESIGN §3).
 *
 * Core code reaches time, randomness, storage, the network, timers, tracing and fault
 * injection only through a `struct sg_env` that its caller provides. The simulator (sim/)
 * implements it over virtual time, a seeded PRNG, an in-memory SQLite VFS and in-process
 * delivery; live mode implements it over the real clock, getrandom, the default VFS and
 * sockets. Core never calls anything on STYLE.md's banned list; CI checks the symbols.
 *
 * Contract:
 * - Every callback is non-NULL and non-blocking; `ctx` is passed back unchanged.
 * - now_wall_ns() may skew and jump (persisted times: created_at, lease expiry, deadlines);
 *   now_mono_ns() never goes back within one process life (timers and timeouts).
 * - send() takes the bytes of one encoded sagasim.node.v1.Envelope and copies them.
 * - timer_at() arms a one-shot timer at a monotonic time; when it fires, the node's
 *   on_timer is called with `tag`. Timers die with the node (a crash forgets them).
 * - trace() receives one record (trace_rec.h: a kind, integers and borrowed strings; no
 *   addresses, no wall-clock noise); it renders text only if it needs text.
 * - fault_point() returns true when the node must crash right there: the caller returns
 *   SG_ERR_CRASHED at once and the environment tears the node down.
 * - panic() does not return.
 * - commit_count (may be NULL) is incremented on every SQLite commit of this node: the
 *   "transactions per saga" figure.
 * - vfs_name is the SQLite VFS to open databases with (NULL: SQLite's default);
 *   data_dir prefixes every database path of this node ("/n1" in the sim).
 */
#ifndef SG_ENV_H
#define SG_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sg_trace_rec;

struct sg_env {
    void *ctx;
    uint32_t node_id;
    const char *vfs_name;
    const char *data_dir;
    uint64_t *commit_count;
    int64_t (*now_wall_ns)(void *ctx);
    int64_t (*now_mono_ns)(void *ctx);
    uint64_t (*random_u64)(void *ctx);
    void (*send)(void *ctx, uint32_t to, const uint8_t *bytes, size_t len);
    void (*timer_at)(void *ctx, int64_t mono_ns, uint64_t tag);
    void (*trace)(void *ctx, const struct sg_trace_rec *record);
    bool (*fault_point)(void *ctx, const char *point);
    void (*panic)(void *ctx, const char *file, int line, const char *expr)
        __attribute__((noreturn));
};

/* Node ids are fixed in both modes. Clients take ids from SG_NODE_CLIENT0 on; the
 * broker marks records produced by SG_NODE_INJECTOR as injected (sim-only metadata). */
enum sg_node_id {
    SG_NODE_BROKER = 0,
    SG_NODE_ORCH = 1,
    SG_NODE_IDENTITY = 2,
    SG_NODE_RISK = 3,
    SG_NODE_LEDGER = 4,
    SG_NODE_PAYOUT = 5,
    SG_NODE_CLIENT0 = 6,
    SG_NODE_INJECTOR = 255, /* the simulator's fault injector (poison records) */
};

/* sg_fault: true when the environment crashes the node at the named point. */
bool sg_fault(const struct sg_env *env, const char *point);

#endif
