/*
 * load.h (live): a load generator against the gRPC API with the simulator workload's shape
 * (DESIGN §4 "Workload clients", §8.1 "Clients"): C client threads, each with its own
 * connection, sending fresh creates at a paced total rate, exact retries of finished
 * creates, concurrent duplicates (the same create on a second connection at the same
 * moment: "twins", one attempt, never retried), and GetWithdrawal polls. A create answered
 * UNAVAILABLE, ABORTED, or not at all (transport error, 2 s timeout) is retried with the
 * same key and backoff (50 ms doubling to 1 s) until it gets a definite answer or the
 * settle time after the run runs out. Every attempt is one record of the client history
 * (check/history.h), written as JSON lines for the checker.
 *
 * Progress goes to stderr once a second (calls/s, create latency p50/p99, answers by code);
 * the caller prints the figures. Threads are the load's own; they never touch a node.
 */
#ifndef SG_LIVE_LOAD_H
#define SG_LIVE_LOAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "history.h"

struct sg_live_load_opts {
    const char *grpc_addr;
    double rate;                 /* fresh creates per second in all; 0: as fast as possible */
    int64_t duration_ms;
    uint32_t clients;
    uint32_t dup_pct;            /* a fresh create also sent as a concurrent duplicate */
    uint32_t retry_pct;          /* after an OK create: an exact retry */
    uint32_t get_pct;            /* after an OK create: a GetWithdrawal */
    int64_t settle_ms;           /* after the run: time for open calls to get an answer */
    uint64_t seed;
    int64_t t0_mono_ns;          /* history times are relative to this */
    atomic_bool *stop;           /* set by the caller to end early (may be NULL) */
    bool quiet;                  /* no progress lines */
};

struct sg_live_load_result {
    struct sg_history history;   /* every attempt (sg_history_deinit when done) */
    uint64_t creates, gets, ok, by_code[16], transport_errors;
    uint64_t unanswered;         /* creates that never got a definite answer */
    double create_p50_ms, create_p99_ms, create_max_ms;
    double seconds;              /* wall time of the run (without settling) */
    char **acked_ids;            /* withdrawal ids answered OK, distinct */
    size_t n_acked;
};

/* Runs the load to the end (and the settle time); false when no client could connect
 * (err says why). */
bool sg_live_load_run(const struct sg_live_load_opts *o, struct sg_live_load_result *out,
                      char *err, size_t cap);
void sg_live_load_result_free(struct sg_live_load_result *r);
/* Polls every withdrawal answered OK (GetWithdrawal, reconnecting as needed) until it is
 * terminal or bound_ms passes; returns how many are still not terminal. */
uint64_t sg_live_load_await_terminal(const char *grpc_addr, const struct sg_live_load_result *r,
                                     int64_t bound_ms);
/* Writes the history as JSON lines; false with errno on failure. */
bool sg_live_load_write_history(const struct sg_live_load_result *r, const char *path);

#endif
