/*
 * live_env.h: the real implementation of struct sg_env (core/env.h) for one node process.
 *
 * The simulator's env is virtual; this one is the world: now_wall_ns is CLOCK_REALTIME,
 * now_mono_ns CLOCK_MONOTONIC, random_u64 getrandom(2), databases are files under the
 * node's data directory on SQLite's default VFS (WAL + EXCLUSIVE + synchronous=FULL, set by
 * core/db.c exactly as in the simulator), timers live on the process's one libuv loop,
 * trace() writes one JSON line per record to the node's log, fault_point() never fires,
 * panic() logs and aborts.
 *
 * Timers: core arms one-shot timers and never cancels them. They are kept in a min-heap
 * ordered by (due time, sequence number) and served by a single uv_timer_t that is always
 * armed for the earliest one, so a node with thousands of pending polls costs one libuv
 * handle. A fired timer calls the owner's on_timer hook with its tag.
 *
 * send() is handed to the owner's hook (live/node.c routes it to a peer or to the gRPC
 * ingress); the bytes are borrowed for the call.
 *
 * Contract: sg_live_env_init fills *e in place (the caller owns it and the loop);
 * sg_live_env_deinit closes the timer handle and frees the heap (safe twice; the loop must
 * then run once more so libuv can finish closing the handle).
 */
#ifndef SG_LIVE_LIVE_ENV_H
#define SG_LIVE_LIVE_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "env.h"

struct sg_live_timer {
    int64_t at_ns;
    uint64_t seq;
    uint64_t tag;
};

struct sg_live_env;
typedef void (*sg_live_send_fn)(struct sg_live_env *e, uint32_t to, const uint8_t *bytes,
                                size_t len);
typedef void (*sg_live_timer_fn)(struct sg_live_env *e, uint64_t tag);

struct sg_live_env {
    struct sg_env env;
    uv_loop_t *loop;
    uv_timer_t timer;
    bool timer_open;
    struct sg_live_timer *heap;
    size_t heap_len, heap_cap;
    uint64_t timer_seq;
    FILE *log;                  /* JSON lines; not owned */
    const char *role;
    char trace_id[64];          /* the current step's trace id ("" if none) */
    char last_error[256];       /* the latest db_* or sqlite_error trace record (start-up
                                   errors quote it) */
    uint64_t commits;
    sg_live_send_fn on_send;
    sg_live_timer_fn on_timer;
    void *owner;
};

/* Sets up the env of node `node_id` (role name for the log) with its data directory. */
int sg_live_env_init(struct sg_live_env *e, uv_loop_t *loop, uint32_t node_id,
                     const char *role, const char *data_dir, FILE *log,
                     sg_live_send_fn on_send, sg_live_timer_fn on_timer, void *owner);
void sg_live_env_deinit(struct sg_live_env *e);

/* Writes one JSON line {"ts":..., "node":..., "event":..., fields} to the log: the
 * process's own lifecycle lines (start, listen, stop), beside the trace records. */
void sg_live_log(struct sg_live_env *e, const char *event, const char *detail);

/* The clocks, for live/ code outside core. */
int64_t sg_live_wall_ns(void);
int64_t sg_live_mono_ns(void);

#endif
