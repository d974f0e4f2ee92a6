/*
 * test_status.c: unit tests for core/status.c, the withdrawal state machine
 * (DESIGN §1 "States", §8 "Saga rows").
 *
 * Why: the orchestrator refuses illegal transitions and the checker (I3, I4) judges them
 * with the same table; a wrong entry would either let a terminal withdrawal change or make
 * the checker blind to it. The whole from x to matrix is compared with the one the design
 * states, and the saga row of every status is pinned.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "status.h"

/* DESIGN §1: REQUESTED -> IN_PROGRESS -> COMPLETED; any non-terminal -> FAILED or
 * CANCELED; creation is NONE -> REQUESTED. Nothing else. */
static bool expected_legal(enum sg_status from, enum sg_status to)
{
    switch (from) {
    case SG_STATUS_NONE: return to == SG_STATUS_REQUESTED;
    case SG_STATUS_REQUESTED:
        return to == SG_STATUS_IN_PROGRESS || to == SG_STATUS_FAILED ||
               to == SG_STATUS_CANCELED;
    case SG_STATUS_IN_PROGRESS:
        return to == SG_STATUS_COMPLETED || to == SG_STATUS_FAILED ||
               to == SG_STATUS_CANCELED;
    default: return false;
    }
}

static void status__transition_legal__matches_design_matrix__for_every_pair(void **state)
{
    (void)state;
    size_t legal = 0;
    for (int f = 0; f < SG_STATUS_COUNT; f++) {
        for (int t = 0; t < SG_STATUS_COUNT; t++) {
            enum sg_status from = (enum sg_status)f, to = (enum sg_status)t;
            bool got = sg_transition_legal(from, to);
            if (got != expected_legal(from, to))
                fail_msg("transition %s -> %s: got %d", sg_status_name(from),
                         sg_status_name(to), (int)got);
            legal += got;
        }
    }
    assert_int_equal(legal, 7);
}

static void status__transition_legal__refuses__named_illegal_moves(void **state)
{
    (void)state;
    /* skipping a step */
    assert_false(sg_transition_legal(SG_STATUS_REQUESTED, SG_STATUS_COMPLETED));
    assert_false(sg_transition_legal(SG_STATUS_NONE, SG_STATUS_IN_PROGRESS));
    assert_false(sg_transition_legal(SG_STATUS_NONE, SG_STATUS_COMPLETED));
    /* going back */
    assert_false(sg_transition_legal(SG_STATUS_IN_PROGRESS, SG_STATUS_REQUESTED));
    /* self transitions */
    for (int s = 0; s < SG_STATUS_COUNT; s++)
        assert_false(sg_transition_legal((enum sg_status)s, (enum sg_status)s));
    /* to NONE, from anywhere */
    for (int s = 0; s < SG_STATUS_COUNT; s++)
        assert_false(sg_transition_legal((enum sg_status)s, SG_STATUS_NONE));
    /* terminal states never change */
    static const enum sg_status terminal[] = {SG_STATUS_COMPLETED, SG_STATUS_FAILED,
                                              SG_STATUS_CANCELED};
    for (size_t i = 0; i < 3; i++)
        for (int t = 0; t < SG_STATUS_COUNT; t++)
            assert_false(sg_transition_legal(terminal[i], (enum sg_status)t));
    /* out-of-range values (SG_STATUS_COUNT) on either side */
    assert_false(sg_transition_legal(SG_STATUS_COUNT, SG_STATUS_REQUESTED));
    assert_false(sg_transition_legal(SG_STATUS_REQUESTED, SG_STATUS_COUNT));
    assert_false(sg_transition_legal(SG_STATUS_NONE, SG_STATUS_COUNT));
}

static void status__terminal__is_exactly_completed_failed_canceled(void **state)
{
    (void)state;
    assert_false(sg_status_terminal(SG_STATUS_NONE));
    assert_false(sg_status_terminal(SG_STATUS_REQUESTED));
    assert_false(sg_status_terminal(SG_STATUS_IN_PROGRESS));
    assert_true(sg_status_terminal(SG_STATUS_COMPLETED));
    assert_true(sg_status_terminal(SG_STATUS_FAILED));
    assert_true(sg_status_terminal(SG_STATUS_CANCELED));
    assert_false(sg_status_terminal(SG_STATUS_COUNT));
    /* consistency: a status is terminal iff no transition leaves it (NONE aside, which
     * only leads to creation) */
    for (int f = SG_STATUS_REQUESTED; f < SG_STATUS_COUNT; f++) {
        bool any = false;
        for (int t = 0; t < SG_STATUS_COUNT; t++)
            any = any || sg_transition_legal((enum sg_status)f, (enum sg_status)t);
        assert_true(any == !sg_status_terminal((enum sg_status)f));
    }
}

static void status__parse_name__round_trip__for_every_status(void **state)
{
    (void)state;
    static const char *const names[SG_STATUS_COUNT] = {
        "", "REQUESTED", "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELED"};
    for (int s = 0; s < SG_STATUS_COUNT; s++) {
        assert_string_equal(sg_status_name((enum sg_status)s), names[s]);
        assert_int_equal(sg_status_parse(names[s]), s);
        assert_int_equal(sg_status_parse(sg_status_name((enum sg_status)s)), s);
    }
}

static void status__parse__returns_count__for_unknown_text(void **state)
{
    (void)state;
    static const char *const unknown[] = {
        "requested", "Requested", "REQUESTED ", " FAILED", "DONE", "STARTED",
        "CANCELLED", "IN-PROGRESS", "COMPLETE", "?", "NONE",
    };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        assert_int_equal(sg_status_parse(unknown[i]), SG_STATUS_COUNT);
}

static void status__saga_row__matches_design__for_every_status(void **state)
{
    (void)state;
    static const struct {
        enum sg_status s;
        const char *state_, *step;
    } rows[] = {
        {SG_STATUS_REQUESTED, "STARTED", "IDENTITY_CHECK"},
        {SG_STATUS_IN_PROGRESS, "IN_PROGRESS", "RISK_CHECK"},
        {SG_STATUS_COMPLETED, "COMPLETED", "DONE"},
        {SG_STATUS_FAILED, "FAILED", "DONE"},
        {SG_STATUS_CANCELED, "CANCELED", "DONE"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        assert_string_equal(sg_saga_state_of(rows[i].s), rows[i].state_);
        assert_string_equal(sg_saga_step_of(rows[i].s), rows[i].step);
    }
    /* every terminal status ends the saga at DONE, and only those */
    for (int s = SG_STATUS_REQUESTED; s < SG_STATUS_COUNT; s++)
        assert_true((strcmp(sg_saga_step_of((enum sg_status)s), "DONE") == 0) ==
                    sg_status_terminal((enum sg_status)s));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status__transition_legal__matches_design_matrix__for_every_pair),
        cmocka_unit_test(status__transition_legal__refuses__named_illegal_moves),
        cmocka_unit_test(status__terminal__is_exactly_completed_failed_canceled),
        cmocka_unit_test(status__parse_name__round_trip__for_every_status),
        cmocka_unit_test(status__parse__returns_count__for_unknown_text),
        cmocka_unit_test(status__saga_row__matches_design__for_every_status),
    };
    return cmocka_run_group_tests_name("status", tests, NULL, NULL);
}
