/*
 * chaos.h (live): `sagasim live chaos`: the load generator plus a nemesis of real signals,
 * judged by the simulator's checker (DESIGN §7 "Chaos"; Jepsen's shape).
 *
 * Nodes come up (with the planted bugs asked for); the load runs for the duration; every
 * kill_every a node drawn from the seeded stream is SIGKILLed (3 times in 4) or paused
 * with SIGSTOP for 300-1000 ms and resumed with SIGCONT (a GC stall, or a partition as its
 * peers see it), and a killed node is started again after a 200-600 ms pause. Then the
 * run heals: every node up, the open calls settle, every acknowledged withdrawal is polled
 * until terminal (bounded: what is not terminal by then is the checker's I8 to report),
 * the nodes stop gracefully and check/ judges the databases and the client history, which
 * is also written to DATA/history.jsonl (and read back through the checker's loader).
 */
#ifndef SG_LIVE_CHAOS_H
#define SG_LIVE_CHAOS_H

#include <stdbool.h>
#include <stdint.h>

#include "check.h"
#include "live.h"
#include "load.h"

enum { SG_CHAOS_EVENTS_MAX = 4096 };

struct sg_chaos_event {
    int64_t at_ns;          /* since the run's start (monotonic) */
    enum sg_role role;
    enum sg_chaos_what { SG_CHAOS_KILL, SG_CHAOS_RESTART, SG_CHAOS_PAUSE, SG_CHAOS_RESUME } what;
};

struct sg_chaos_result {
    struct sg_live_load_result load;
    struct sg_check_report report;
    bool judged;                  /* the checker ran (false: setup failed, err says why) */
    bool ok;
    uint64_t kills, pauses, restarts_failed;
    uint64_t terminal_timeouts;   /* acknowledged withdrawals not terminal when polling ended */
    struct sg_chaos_event events[SG_CHAOS_EVENTS_MAX];
    size_t n_events;
    double seconds;
};

/* Runs it all; false (with err) when the nodes could not be brought up or judged. */
bool sg_live_chaos(const struct sg_live_opts *o, struct sg_chaos_result *out, char *err,
                   size_t cap);
void sg_live_chaos_result_free(struct sg_chaos_result *r);

#endif
