/*
 * run.c: phases, shutdown and judgement of one run (see run.h).
 */
#include "run.h"

#include <stdlib.h>
#include <string.h>

#include "assert.h"
#include "banned.h"

void sg_run_config_default(struct sg_run_config *rc, uint64_t seed)
{
    memset(rc, 0, sizeof *rc);
    rc->seed = seed;
    rc->scenario = "default";
    sg_config_default(&rc->cfg);
    sg_workload_config_default(&rc->wl);
    sg_world_options_default(&rc->world);
    rc->safety_ns = 20000000000LL;
    rc->heal_ns = 60000000000LL;
    rc->stagger_max_ns = 5000000000LL;
    for (int r = 0; r < SG_ROLE_COUNT; r++) rc->start_at_ns[r] = -1;
    rc->wl.stop_new_at_ns = rc->safety_ns;
    sg_faults_default(&rc->world.faults);
}

/* Creates answered UNAVAILABLE (outcome unknown) that a later retry of the same key
 * settled with OK. */
static uint64_t unknown_settled(const struct sg_history *h)
{
    uint64_t n = 0;
    for (size_t i = 0; i < h->count; i++) {
        const struct sg_hist_rec *r = &h->recs[i];
        if (r->op != SG_OP_CREATE || r->code != SG_CODE_UNAVAILABLE) continue;
        for (size_t j = i + 1; j < h->count; j++) {
            const struct sg_hist_rec *s = &h->recs[j];
            if (s->client == r->client && s->op == SG_OP_CREATE && s->code == SG_CODE_OK &&
                strcmp(s->key, r->key) == 0) {
                n++;
                break;
            }
        }
    }
    return n;
}

/* What the world guarantees about message delays, duplicates and the orchestrator's clock
 * over this run (check.h): the network duplicates only while faults are on (the safety
 * phase). */
static struct sg_lease_bounds lease_bounds(const struct sg_world *w, int64_t safety_end_ns)
{
    return (struct sg_lease_bounds){
        .known = true,
        .msg_delay_max_ns = sg_world_msg_delay_max_ns(w),
        .clock_lag_max_ns = sg_world_clock_lag_max_ns(w, SG_ROLE_ORCH),
        .dup_until_ns = w->opt.faults.dup_ppm > 0 ? safety_end_ns : -1};
}

/* The safety phase fits the workload (run.h): at least rc->safety_ns, then on until the
 * clients have started every fresh create, at most SAFETY_STRETCH_MAX times as long.
 * Returns false when the run panicked; *end_ns is when the phase ended. */
enum { SAFETY_STRETCH_MAX = 4 };
static bool run_safety(struct sg_world *w, struct sg_workload *wl,
                       const struct sg_run_config *rc, int64_t *end_ns)
{
    int64_t cap_ns = rc->safety_ns * SAFETY_STRETCH_MAX;
    bool alive = sg_world_run_until(w, rc->safety_ns);
    while (alive && wl->started < wl->cfg.withdrawals && w->now_ns < cap_ns)
        if (!sg_world_step(w, cap_ns)) alive = !w->panicked && sg_world_run_until(w, cap_ns);
    *end_ns = w->now_ns;
    wl->cfg.stop_new_at_ns = w->now_ns; /* no new withdrawal from here on */
    return alive;
}

static void judge(struct sg_world *w, struct sg_workload *wl, const struct sg_run_config *rc,
                  int64_t safety_end_ns, struct sg_run_result *out)
{
    for (int r = 0; r < SG_ROLE_COUNT; r++) sg_world_stop(w, (enum sg_role)r);
    struct sg_check_input in = {
        .vfs_name = "sgsim", .orch_db = "/n1/orch.db", .identity_db = "/n2/identity.db",
        .risk_db = "/n3/risk.db", .broker_db = "/n0/broker.db",
        .ledger_db = "/n4/ledger.db", .payout_db = "/n5/payout.db", .history = &wl->history,
        .cfg = &rc->cfg, .liveness = rc->heal_ns > 0, .skip_mask = rc->skip_invariants,
        .lease = lease_bounds(w, safety_end_ns)};
    bool held = sg_check_run(&in, &out->report);
    out->ok = held && !out->panicked;
}

bool sg_run_keep(const struct sg_run_config *rc, struct sg_run_result *out, struct sg_world *w)
{
    memset(out, 0, sizeof *out);
    if (!sg_world_init(w, rc->seed, &rc->cfg, &rc->world)) return false;
    w->trace.sink = rc->trace_sink;
    w->trace.sink_ctx = rc->trace_ctx;
    for (int r = 0; r < SG_ROLE_COUNT; r++) w->nodes[r].env.commit_count = &out->commits;
    struct sg_workload *wl = malloc(sizeof *wl);
    if (!wl) return false;
    struct sg_workload_config wc = rc->wl;
    wc.stop_new_at_ns = rc->safety_ns * SAFETY_STRETCH_MAX; /* run_safety ends it sooner */
    sg_workload_init(wl, w, &wc);
    struct sg_prng stagger;
    sg_prng_init(&stagger, rc->seed, 7);
    for (int r = 0; r < SG_ROLE_COUNT; r++) { /* every draw is made, chosen times or not */
        int64_t at = sg_prng_range(&stagger, 0, rc->stagger_max_ns);
        sg_world_start_at(w, (enum sg_role)r, rc->start_at_ns[r] >= 0 ? rc->start_at_ns[r] : at);
    }
    sg_world_faults_on(w);
    int64_t safety_end_ns = rc->safety_ns;
    bool alive = run_safety(w, wl, rc, &safety_end_ns);
    if (alive) {
        sg_world_heal(w);
        alive = sg_world_run_until(w, safety_end_ns + rc->heal_ns);
    }
    out->panicked = !alive;
    memcpy(out->panic_what, w->panic_what, sizeof out->panic_what);
    out->sim_ns = w->now_ns;
    judge(w, wl, rc, safety_end_ns, out);
    out->hash = sg_world_hash(w);
    out->trace_records = w->trace.count;
    out->world = w->stats;
    memcpy(out->coverage, w->coverage, sizeof out->coverage);
    out->faults_considered = w->fault_ordinal;
    out->faults_injected = w->faults_injected;
    out->coverage[SG_COV_UNKNOWN_SETTLED] = unknown_settled(&wl->history);
    for (int k = 0; k < SG_COV_COUNT; k++) /* a scenario's require_coverage, per seed */
        if ((rc->require_coverage >> k & 1u) && out->coverage[k] == 0)
            out->coverage_missing |= 1u << k;
    if (out->coverage_missing) out->ok = false;
    out->workload = wl->stats;
    out->creates_started = wl->started;
    sg_workload_deinit(wl);
    free(wl);
    return true;
}

bool sg_run(const struct sg_run_config *rc, struct sg_run_result *out)
{
    struct sg_world *w = malloc(sizeof *w);
    if (!w) return false;
    bool ok = sg_run_keep(rc, out, w);
    sg_world_deinit(w);
    free(w);
    return ok;
}
