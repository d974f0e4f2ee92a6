/*
 * workload.h: the simulated clients (DESIGN §4 "Workload clients", §8.1 "Clients").
 *
 * Each client works through its share of the withdrawals one call at a time: a create
 * with a fresh key; sometimes an exact retry of a finished create, a same-key request
 * with another payload, or an invalid request; sometimes a GetWithdrawal later. A call
 * that times out, or is answered UNAVAILABLE or ABORTED, is retried with the same key and
 * payload after a backoff (doubling, capped) until a definite answer. Every attempt is one
 * history record (invoke, complete, outcome). No new withdrawal starts after
 * stop_new_at_ns; calls in flight keep settling. With shared_key_fanout, groups of clients
 * send each fresh create together (many concurrent duplicates of one key, each retried).
 *
 * All choices come from the client's own PRNG stream, so a run replays exactly.
 */
#ifndef SG_WORKLOAD_H
#define SG_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "history.h"
#include "ids.h"
#include "prng.h"
#include "world.h"

struct sg_workload_config {
    uint32_t clients;
    uint32_t withdrawals;          /* total fresh creates over all clients */
    uint32_t users;                /* size of the user pool */
    uint32_t retry_pct;            /* after an OK create: exact retry */
    uint32_t mismatch_pct;         /* after an OK create: same key, other payload */
    uint32_t invalid_pct;          /* instead of a create: an invalid request */
    uint32_t get_pct;              /* after an OK create: a GetWithdrawal later */
    uint32_t trace_pct;            /* a create carries its own x-trace-id */
    uint32_t twin_pct;             /* a fresh create is sent twice at once (concurrent
                                      duplicates; the twin is one attempt, never retried) */
    uint32_t shared_key_fanout;    /* > 1: clients work in groups of this many; the first
                                      of a group (its leader) picks each fresh create and
                                      every member sends it at the same instant, same user,
                                      key and payload, each a full call with its own
                                      retries; the leader starts its next call once every
                                      member is idle. clients must be a multiple of it. */
    int64_t think_max_ns;
    int64_t client_timeout_ns;
    int64_t backoff_min_ns, backoff_max_ns;
    int64_t stop_new_at_ns;
};

enum sg_call_kind { SG_CALL_CREATE, SG_CALL_RETRY, SG_CALL_MISMATCH, SG_CALL_INVALID,
                    SG_CALL_GET };

struct sg_client {
    uint32_t id;                   /* node id */
    struct sg_prng prng;
    uint32_t todo;                 /* fresh creates left */
    bool busy;                     /* a call is in flight or backing off */
    bool backing_off;              /* waiting to resend the call in flight */
    enum sg_call_kind kind;
    struct sg_request req;         /* the call's (raw) fields */
    char trace_id[SG_TRACE_ID_LEN + 1];
    char get_id[SG_UUID_LEN + 1];
    uint64_t msg_id, gen, msg_counter;
    size_t rec;                    /* history index of the attempt in flight */
    uint64_t twin_msg_id;          /* the twin's msg id while its reply is awaited */
    size_t twin_rec;
    int64_t backoff_ns;
    uint32_t attempts;
    /* a finished create to follow up on */
    struct sg_request last;
    char last_id[SG_UUID_LEN + 1];
    char pending_get[8][SG_UUID_LEN + 1];
    uint32_t pending_gets;
    uint32_t leader;               /* index of its group's leader (itself without groups) */
    bool waiting;                  /* a leader waiting for its group to be idle */
};

struct sg_workload_stats {
    uint64_t calls, attempts, timeouts, retries, ok, fail, unknown;
};

struct sg_workload {
    struct sg_world *world;
    struct sg_workload_config cfg;
    struct sg_history history;
    struct sg_client clients[SG_WORLD_CLIENTS_MAX];
    struct sg_workload_stats stats;
    uint32_t started;              /* fresh creates started */
};

void sg_workload_config_default(struct sg_workload_config *c);
/* Attaches to the world (its client hook) and schedules each client's first call at a
 * random time in [0, think_max]. */
void sg_workload_init(struct sg_workload *wl, struct sg_world *w,
                      const struct sg_workload_config *cfg);
void sg_workload_deinit(struct sg_workload *wl);
/* True when no call is in flight and no fresh create is left. */
bool sg_workload_idle(const struct sg_workload *wl);

#endif
