/*
 * test_determinism.c: one seed, one run: whole simulated runs (sim/run.h) replay to the
 * same trace hash, different seeds explore different runs, and the kept trace names the
 * first record where two runs part ways (DESIGN §4 "Trace", §8 "Trace"; STYLE.md
 * "Determinism").
 *
 * Why: every failing seed is only worth something if it replays; the run hash is the
 * proof. The perturbation test makes sure the comparison is not vacuous: a run that does
 * differ is caught, at a record inside both traces.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "trace.h"
#include "world.h"

enum { WITHDRAWALS = 30 };

static void config(struct sg_run_config *rc, uint64_t seed)
{
    sg_run_config_default(rc, seed);
    rc->wl.withdrawals = WITHDRAWALS;
}

static void run_ok(const struct sg_run_config *rc, struct sg_run_result *res)
{
    assert_true(sg_run(rc, res));
    assert_false(res->panicked);
    assert_true(res->ok);
    assert_true(res->trace_records > 0);
}

static void determinism__same_hash__same_seed(void **state)
{
    (void)state;
    struct sg_run_config rc;
    config(&rc, 7);
    struct sg_run_result *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    run_ok(&rc, a);
    run_ok(&rc, b);
    assert_int_equal(a->hash, b->hash);
    assert_int_equal(a->trace_records, b->trace_records);
    assert_int_equal(a->world.events, b->world.events);
    assert_int_equal(a->commits, b->commits);
    assert_int_equal(a->report.withdrawals, b->report.withdrawals);
    assert_true(a->report.withdrawals > 0); /* the run did real work */
    free(a);
    free(b);
}

static void determinism__different_hash__different_seed(void **state)
{
    (void)state;
    struct sg_run_config rc;
    struct sg_run_result *res = calloc(2, sizeof *res);
    assert_non_null(res);
    for (uint64_t i = 0; i < 2; i++) {
        config(&rc, 100 + i);
        run_ok(&rc, &res[i]);
    }
    assert_int_not_equal(res[0].hash, res[1].hash);
    free(res);
}

/* One run with its trace kept; the caller deinits and frees the world. */
static struct sg_world *kept_run(const struct sg_run_config *rc)
{
    struct sg_world *w = calloc(1, sizeof *w);
    struct sg_run_result *r = calloc(1, sizeof *r);
    assert_non_null(w);
    assert_non_null(r);
    assert_true(sg_run_keep(rc, r, w));
    assert_false(r->panicked);
    assert_true(r->ok);
    assert_true(w->trace.keep);
    assert_int_equal(w->trace.count, r->trace_records);
    assert_int_equal(sg_world_hash(w), r->hash);
    free(r);
    return w;
}

static void drop(struct sg_world *w)
{
    sg_world_deinit(w);
    free(w);
}

/* Whether two kept runs diverge and where; the verdict must agree with the hashes. */
static bool diverge(const struct sg_world *a, const struct sg_world *b, uint64_t *index)
{
    bool d = sg_trace_log_diverge(&a->trace, &b->trace, index);
    if (d) assert_int_not_equal(sg_world_hash(a), sg_world_hash(b));
    else assert_int_equal(sg_world_hash(a), sg_world_hash(b));
    return d;
}

static void determinism__no_divergence__kept_traces(void **state)
{
    (void)state;
    struct sg_run_config rc;
    config(&rc, 11);
    rc.world.keep_trace = true;
    struct sg_world *a = kept_run(&rc), *b = kept_run(&rc);
    uint64_t index = 0;
    assert_false(diverge(a, b, &index));
    assert_int_equal(a->trace.count, b->trace.count);
    assert_int_equal(index, a->trace.count); /* no divergence: the common count */
    drop(b);
    drop(a);
}

static void determinism__divergence_found__perturbed_run(void **state)
{
    (void)state;
    struct sg_run_config rc1, rc2;
    config(&rc1, 11);
    rc1.world.keep_trace = true;
    struct sg_world *a = kept_run(&rc1);
    uint64_t index = 0;

    rc2 = rc1;
    rc2.stagger_max_ns -= 1000000; /* node start times move by a little */
    struct sg_world *b = kept_run(&rc2);
    assert_true(diverge(a, b, &index));
    assert_true(index < a->trace.count);
    assert_true(index < b->trace.count);
    assert_true(index > 0); /* the world header record is the same */
    drop(b);

    /* One nanosecond more of broker long poll: every empty poll answer moves. */
    rc2 = rc1;
    rc2.cfg.fetch_poll_ns += 1;
    b = kept_run(&rc2);
    assert_true(diverge(a, b, &index));
    assert_true(index < a->trace.count);
    assert_true(index < b->trace.count);
    assert_true(index > 0);
    drop(b);
    drop(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(determinism__same_hash__same_seed),
        cmocka_unit_test(determinism__different_hash__different_seed),
        cmocka_unit_test(determinism__no_divergence__kept_traces),
        cmocka_unit_test(determinism__divergence_found__perturbed_run),
    };
    return cmocka_run_group_tests_name("determinism", tests, NULL, NULL);
}
