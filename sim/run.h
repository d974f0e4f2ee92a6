/*
 * run.h: one seeded simulation run, start to verdict (DESIGN §4 "Phases").
 *
 * Builds a world and a workload from the run configuration, starts the four nodes at
 * staggered random times, runs the safety phase (faults on) and the heal phase (faults
 * off, every node up), stops every node cleanly and hands the history and the databases
 * to the checker.
 *
 * The safety phase fits the workload: it lasts safety_ns, and longer while the clients
 * have not yet started every fresh create (wl.withdrawals), up to 4 x safety_ns; no
 * create starts after it (wl.stop_new_at_ns is set by the run to the phase's end). Under
 * faults a client can spend seconds on one call (timeouts, backoff, a crashed
 * reservation's 5 s lease), so a fixed 20 s let only 80-200 of default's 200 creates
 * start, depending on the seed; now every seed exercises the whole workload, and the
 * heal phase (heal_ns) follows wherever the safety phase ended. The result carries the trace hash, the checker's report and the figures
 * the CLI prints. No I/O: the CLI prints, the caller times.
 */
#ifndef SG_RUN_H
#define SG_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "check.h"
#include "config.h"
#include "workload.h"
#include "world.h"

struct sg_run_config {
    uint64_t seed;
    const char *scenario;       /* its name or path (borrowed: outlives the config) */
    struct sg_config cfg;
    struct sg_workload_config wl;
    struct sg_world_options world;
    int64_t safety_ns, heal_ns;
    int64_t stagger_max_ns;
    int64_t start_at_ns[SG_ROLE_COUNT]; /* a node's start time; -1: random in the stagger */
    uint32_t skip_invariants;   /* bit 1 << I<n>: not judged in this scenario */
    uint32_t require_coverage;  /* bit 1 << enum sg_coverage: a seed must reach each */
    /* optional sink for every trace record (--trace FILE) */
    void (*trace_sink)(void *ctx, int64_t at_ns, uint32_t node, const char *text);
    void *trace_ctx;
};

struct sg_run_result {
    uint64_t hash;
    uint64_t trace_records;
    bool ok;                 /* no assertion failed and every invariant held */
    bool panicked;
    char panic_what[160];
    struct sg_check_report report;
    struct sg_world_stats world;
    struct sg_workload_stats workload;
    uint64_t commits;        /* SQLite transactions committed by all nodes */
    uint64_t creates_started; /* fresh creates the clients started (of wl.withdrawals) */
    uint64_t coverage[SG_COV_COUNT]; /* rare paths reached */
    uint64_t faults_considered;      /* fault ordinals the nemesis assigned (tapes) */
    uint64_t faults_injected;
    int64_t sim_ns;          /* simulated time covered */
    uint32_t coverage_missing; /* required rare paths this seed did not reach (fails it) */
};

/* The `default` scenario of DESIGN §8 for a seed. */
void sg_run_config_default(struct sg_run_config *rc, uint64_t seed);
/* Runs to completion. Returns false only on out-of-memory before the run started. */
bool sg_run(const struct sg_run_config *rc, struct sg_run_result *out);
/* Keeps the world alive after the run (trace records kept) for determinism comparison:
 * the caller deinits it. */
bool sg_run_keep(const struct sg_run_config *rc, struct sg_run_result *out, struct sg_world *w);

#endif
