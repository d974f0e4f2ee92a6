/*
 * test_ledger.c: the ledger's and the payout rail's every path, driven by commands produced
 * straight to the broker (as the orchestrator's relay would) and judged on their tables:
 * place, settle, release; a rejected hold; a release of a withdrawal never held (a late
 * PlaceHold is then refused); commands out of state; the int64 guard; the rail's
 * de-duplication by key and its repeated answers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "bugs.h"
#include "simtest.h"

static uint64_t event_seq;

/* Produces command `type` for withdrawal wid (amount, payout key) with a fresh event id. */
static void command(struct simtest *t, enum sg_event_type type, const char *wid, int64_t amount,
                    const char *key)
{
    char event_id[40];
    snprintf(event_id, sizeof event_id, "ev-%llu", (unsigned long long)++event_seq);
    struct sg_event_fields f = {wid, ST_USER_A, "BTC", amount, "addr", "", NULL, key};
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(sg_event_pack(type, &f, event_id, "trace", "2025-11-25T00:00:00.000Z",
                                   &buf, &len), SG_OK);
    const char *topic = type == SG_EVT_PAYOUT_REQUESTED ? "cbsaga.cmd.payout"
                                                        : "cbsaga.cmd.ledger";
    const struct st_reply *r = st_await_reply(t, st_produce(t, topic, wid, buf, len),
                                              100 * SG_MS);
    assert_non_null(r);
    free(buf);
    st_run_for(t, 50 * SG_MS); /* consumed: a fetch is parked on the partition */
}

static struct simtest *ledger_with(int64_t balance, uint64_t bugs)
{
    struct sg_config cfg;
    st_config_approving(&cfg);
    cfg.default_balance_minor = balance;
    cfg.bugs = bugs;
    struct simtest *t = st_new_cfg(71, &cfg);
    st_run_for(t, 10 * SG_MS);
    return t;
}

static int64_t column(struct simtest *t, const char *col)
{
    return st_qint(st_node_db(t, SG_ROLE_LEDGER), "SELECT %s FROM accounts WHERE user_id = '%s'"
                   " AND asset = 'BTC'", col, ST_USER_A);
}

static int64_t journal(struct simtest *t, const char *wid, const char *kind)
{
    return st_qint(st_node_db(t, SG_ROLE_LEDGER), "SELECT COUNT(*) FROM journal"
                   " WHERE withdrawal_id = '%s' AND kind = '%s'", wid, kind);
}

static int64_t inbox_results(struct simtest *t, const char *result)
{
    return st_qint(st_node_db(t, SG_ROLE_LEDGER), "SELECT COUNT(*) FROM inbox WHERE result = '%s'",
                   result);
}

static int64_t answers(struct simtest *t, enum sg_role role, const char *type)
{
    return st_qint(st_node_db(t, role), "SELECT COUNT(*) FROM outbox WHERE event_type = '%s'",
                   type);
}

static void ledger__place_then_settle__moves_the_money_once(void **state)
{
    (void)state;
    struct simtest *t = ledger_with(5000, 0);
    command(t, SG_EVT_PLACE_HOLD, "w1", 1000, NULL);
    assert_int_equal(column(t, "available"), 4000);
    assert_int_equal(column(t, "held"), 1000);
    command(t, SG_EVT_PLACE_HOLD, "w1", 1000, NULL); /* a second command: out of state */
    command(t, SG_EVT_SETTLE_HOLD, "w1", 1000, NULL);
    command(t, SG_EVT_SETTLE_HOLD, "w1", 1000, NULL);
    command(t, SG_EVT_RELEASE_HOLD, "w1", 1000, NULL); /* settled: nothing to release */
    assert_int_equal(column(t, "available"), 4000);
    assert_int_equal(column(t, "held"), 0);
    assert_int_equal(column(t, "paid_out"), 1000);
    assert_int_equal(column(t, "opening"), 5000);
    assert_int_equal(journal(t, "w1", "PLACE"), 1);
    assert_int_equal(journal(t, "w1", "SETTLE"), 1);
    assert_int_equal(journal(t, "w1", "RELEASE"), 0);
    assert_int_equal(answers(t, SG_ROLE_LEDGER, "HoldPlaced"), 1);
    assert_int_equal(answers(t, SG_ROLE_LEDGER, "HoldSettled"), 1);
    assert_int_equal(inbox_results(t, "IGNORED"), 3);
    st_free(t);
}

static void ledger__short_balance__rejects_and_releases_nothing(void **state)
{
    (void)state;
    struct simtest *t = ledger_with(500, 0);
    command(t, SG_EVT_PLACE_HOLD, "w2", 1000, NULL);
    command(t, SG_EVT_RELEASE_HOLD, "w2", 1000, NULL);
    assert_int_equal(column(t, "available"), 500);
    assert_int_equal(column(t, "held"), 0);
    assert_int_equal(journal(t, "w2", "REJECT"), 1);
    assert_int_equal(answers(t, SG_ROLE_LEDGER, "HoldRejected"), 1);
    assert_int_equal(answers(t, SG_ROLE_LEDGER, "HoldReleased"), 1);
    assert_int_equal(st_int(st_node_db(t, SG_ROLE_LEDGER),
                            "SELECT COUNT(*) FROM outbox WHERE event_type = 'HoldRejected'"
                            " AND instr(payload, CAST('insufficient_funds' AS BLOB)) > 0"), 1);
    st_free(t);
}

/* A deadline's release may reach the ledger for a withdrawal it never held: it is marked
 * released, answered, and a PlaceHold that comes later is refused. */
static void ledger__release_before_place__refuses_the_late_place(void **state)
{
    (void)state;
    struct simtest *t = ledger_with(5000, 0);
    command(t, SG_EVT_PLACE_HOLD, "w0", 100, NULL); /* opens the account */
    command(t, SG_EVT_RELEASE_HOLD, "w3", 1000, NULL);
    command(t, SG_EVT_PLACE_HOLD, "w3", 1000, NULL);
    assert_int_equal(column(t, "available"), 4900);
    assert_int_equal(column(t, "held"), 100);
    assert_int_equal(journal(t, "w3", "PLACE"), 0);
    assert_int_equal(st_int(st_node_db(t, SG_ROLE_LEDGER),
                            "SELECT amount_minor FROM holds WHERE withdrawal_id = 'w3'"
                            " AND state = 'RELEASED'"), 0);
    st_free(t);
}

/* The int64 guard: with release-twice planted, a second release would push available past
 * INT64_MAX; the ledger refuses it (REJECTED) and nothing moves. */
static void ledger__balance_past_int64__is_refused(void **state)
{
    (void)state;
    uint64_t bug = 1ull << SG_BUG_RELEASE_TWICE;
    struct simtest *t = ledger_with(INT64_MAX, bug);
    command(t, SG_EVT_PLACE_HOLD, "w4", 1000, NULL);
    command(t, SG_EVT_RELEASE_HOLD, "w4", 1000, NULL);
    assert_int_equal(column(t, "available"), INT64_MAX);
    command(t, SG_EVT_RELEASE_HOLD, "w4", 1000, NULL);
    assert_int_equal(column(t, "available"), INT64_MAX);
    assert_int_equal(column(t, "held"), 0);
    assert_int_equal(journal(t, "w4", "RELEASE"), 1);
    assert_int_equal(inbox_results(t, "REJECTED"), 1);
    st_free(t);
}

/* The rail pays once per key and answers every request; without a key it pays each. */
static void payout__dedupes_by_key__and_pays_keyless_requests_each_time(void **state)
{
    (void)state;
    struct simtest *t = ledger_with(5000, 0);
    command(t, SG_EVT_PAYOUT_REQUESTED, "w5", 700, "w5");
    command(t, SG_EVT_PAYOUT_REQUESTED, "w5", 700, "w5");
    command(t, SG_EVT_PAYOUT_REQUESTED, "w6", 300, NULL);
    command(t, SG_EVT_PAYOUT_REQUESTED, "w6", 300, NULL);
    sqlite3 *db = st_node_db(t, SG_ROLE_PAYOUT);
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM effects WHERE withdrawal_id = 'w5'"), 1);
    assert_int_equal(st_int(db, "SELECT requests FROM payouts WHERE idem_key = 'w5'"), 2);
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM effects WHERE withdrawal_id = 'w6'"), 2);
    assert_int_equal(answers(t, SG_ROLE_PAYOUT, "PayoutSucceeded"), 4);
    st_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ledger__place_then_settle__moves_the_money_once),
        cmocka_unit_test(ledger__short_balance__rejects_and_releases_nothing),
        cmocka_unit_test(ledger__release_before_place__refuses_the_late_place),
        cmocka_unit_test(ledger__balance_past_int64__is_refused),
        cmocka_unit_test(payout__dedupes_by_key__and_pays_keyless_requests_each_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
