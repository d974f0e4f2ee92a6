/*
 * test_saga.c: the withdrawal saga end to end: identity and risk decisions drive the
 * withdrawal to COMPLETED or FAILED, the deadline to CANCELED; every transition is logged,
 * announced on cbsaga.evt.withdrawal, and decisions out of state are IGNORED
 * (DESIGN §1 "States", §8 "Saga rows", §8.1 "Events and routes").
 *
 * Why: the saga's rows (withdrawal status, saga state and step, transition log, outbox)
 * must agree at every step; the checker judges that over random runs, these tests pin the
 * individual paths with known decisions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "simtest.h"

#define USER_DENIED "00000000-0000-4000-8000-00000000dead" /* on the default deny list */

/* ---- helpers ---- */

/* Creates a withdrawal, asserts OK and copies its id into wid. */
static void create_ok(struct simtest *t, const char *user, const char *asset, int64_t amount,
                      const char *key, char wid[40])
{
    const struct st_reply *r = st_create_await(t, user, asset, amount, "addr", key, NULL);
    assert_non_null(r);
    assert_int_equal(r->code, SG_CODE_OK);
    snprintf(wid, 40, "%s", r->withdrawal_id);
}

/* "from->to,from->to,..." of the transition log, in seq order. */
static void transitions_of(struct simtest *t, const char *wid, char *out, size_t cap)
{
    assert_true(st_qtext(st_node_db(t, SG_ROLE_ORCH), out, cap,
                         "SELECT group_concat(from_status || '->' || to_status, ',') FROM"
                         " (SELECT * FROM transitions WHERE withdrawal_id = '%s' ORDER BY seq)",
                         wid));
}

static void saga_of(struct simtest *t, const char *wid, char *out, size_t cap)
{
    assert_true(st_qtext(st_node_db(t, SG_ROLE_ORCH), out, cap,
                         "SELECT state || '/' || current_step FROM sagas"
                         " WHERE withdrawal_id = '%s'", wid));
}

static void reason_of(struct simtest *t, const char *wid, char *out, size_t cap)
{
    assert_true(st_qtext(st_node_db(t, SG_ROLE_ORCH), out, cap,
                         "SELECT failure_reason FROM withdrawals WHERE withdrawal_id = '%s'", wid));
}

/* The event types of a withdrawal's records on one topic in the broker log, in offset
 * order, comma-separated. Also checks that each decodes and names the withdrawal. */
static void log_events(struct simtest *t, const char *topic, const char *wid, char *out,
                       size_t cap)
{
    sqlite3 *db = st_node_db(t, SG_ROLE_BROKER);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
        "SELECT value FROM records WHERE topic = ? AND key = ? ORDER BY partition, offset",
        -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, topic, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, wid, -1, SQLITE_TRANSIENT);
    out[0] = '\0';
    size_t used = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        SgEvent *ev = sg_event_decode(sqlite3_column_blob(st, 0),
                                      (size_t)sqlite3_column_bytes(st, 0));
        assert_non_null(ev);
        assert_string_equal(sg_event_withdrawal_id(ev), wid);
        int n = snprintf(out + used, cap - used, "%s%s", used ? "," : "", ev->event_type);
        assert_true(n > 0 && (size_t)n < cap - used);
        used += (size_t)n;
        sg_event_free(ev);
    }
    sqlite3_finalize(st);
}

/* ---- the paths ---- */

static void saga__completes__deciders_approve(void **state)
{
    (void)state;
    struct sg_config cfg;
    st_config_approving(&cfg);
    struct simtest *t = st_new_cfg(101, &cfg);
    char wid[40], s[256];
    create_ok(t, ST_USER_A, "BTC", 1000, "k1", wid);
    assert_string_equal(st_settle(t, wid, 5 * SG_SEC), "COMPLETED");
    transitions_of(t, wid, s, sizeof s);
    assert_string_equal(s, "->REQUESTED,REQUESTED->IN_PROGRESS,IN_PROGRESS->COMPLETED");
    saga_of(t, wid, s, sizeof s);
    assert_string_equal(s, "COMPLETED/DONE");
    reason_of(t, wid, s, sizeof s);
    assert_string_equal(s, "");
    /* Each decision was made once and consumed once. */
    assert_int_equal(st_qint(st_node_db(t, SG_ROLE_IDENTITY), "SELECT COUNT(*) FROM decisions"
                             " WHERE withdrawal_id = '%s' AND decision = 'APPROVED'", wid), 1);
    assert_int_equal(st_qint(st_node_db(t, SG_ROLE_RISK), "SELECT COUNT(*) FROM decisions"
                             " WHERE withdrawal_id = '%s' AND decision = 'APPROVED'", wid), 1);
    /* identity, risk, hold placed, payout succeeded, hold settled */
    assert_int_equal(st_int(st_node_db(t, SG_ROLE_ORCH),
                            "SELECT COUNT(*) FROM inbox WHERE result = 'APPLIED'"), 5);
    /* The transitions name the answers that caused them. */
    assert_int_equal(st_int(st_node_db(t, SG_ROLE_ORCH),
                            "SELECT COUNT(*) FROM transitions t JOIN inbox i"
                            " ON i.event_id = t.cause_event_id WHERE t.seq > 1"), 2);
    st_free(t);
}

static void saga__fails__user_denied(void **state)
{
    (void)state;
    struct sg_config cfg;
    st_config_approving(&cfg);
    struct simtest *t = st_new_cfg(102, &cfg);
    char wid[40], s[256];
    create_ok(t, USER_DENIED, "BTC", 1000, "k1", wid);
    assert_string_equal(st_settle(t, wid, 5 * SG_SEC), "FAILED");
    reason_of(t, wid, s, sizeof s);
    assert_string_equal(s, "identity: user denied");
    saga_of(t, wid, s, sizeof s);
    assert_string_equal(s, "FAILED/DONE");
    transitions_of(t, wid, s, sizeof s);
    assert_string_equal(s, "->REQUESTED,REQUESTED->FAILED");
    st_run_for(t, SG_SEC); /* give a wrong risk step every chance to show */
    sqlite3 *risk = st_node_db(t, SG_ROLE_RISK);
    assert_int_equal(st_int(risk, "SELECT COUNT(*) FROM decisions"), 0);
    assert_int_equal(st_int(risk, "SELECT COUNT(*) FROM inbox"), 0);
    assert_int_equal(st_qint(st_node_db(t, SG_ROLE_ORCH), "SELECT COUNT(*) FROM outbox"
                             " WHERE event_type = 'RiskCheckRequested'"), 0);
    assert_int_equal(st_qint(st_node_db(t, SG_ROLE_IDENTITY), "SELECT COUNT(*) FROM decisions"
                             " WHERE decision = 'REJECTED' AND reason = 'identity: user denied'"),
                     1);
    /* The deny list matches the normalised (lower-case) user id. */
    create_ok(t, "00000000-0000-4000-8000-00000000DEAD", "BTC", 1000, "k2", wid);
    assert_string_equal(st_settle(t, wid, 5 * SG_SEC), "FAILED");
    reason_of(t, wid, s, sizeof s);
    assert_string_equal(s, "identity: user denied");
    st_free(t);
}

static void saga__fails__amount_over_limit(void **state)
{
    (void)state;
    struct sg_config cfg;
    st_config_approving(&cfg);
    struct simtest *t = st_new_cfg(103, &cfg);
    char wid[40], s[256];
    create_ok(t, ST_USER_A, "btc", 500000001, "k1", wid); /* BTC limit is 500000000 */
    assert_string_equal(st_settle(t, wid, 5 * SG_SEC), "FAILED");
    reason_of(t, wid, s, sizeof s);
    assert_string_equal(s, "risk: amount exceeds limit");
    transitions_of(t, wid, s, sizeof s);
    assert_string_equal(s, "->REQUESTED,REQUESTED->IN_PROGRESS,IN_PROGRESS->FAILED");
    saga_of(t, wid, s, sizeof s);
    assert_string_equal(s, "FAILED/DONE");
    /* The limit itself passes. */
    create_ok(t, ST_USER_A, "BTC", 500000000, "k2", wid);
    assert_string_equal(st_settle(t, wid, 5 * SG_SEC), "COMPLETED");
    st_free(t);
}

static void saga__fails__identity_rejects_all(void **state)
{
    (void)state;
    struct sg_config cfg;
    st_config_approving(&cfg);
    cfg.identity_reject_num = 100;
    cfg.identity_reject_den = 100;
    struct simtest *t = st_new_cfg(104, &cfg);
    char wid[40], s[256];
    create_ok(t, ST_USER_A, "BTC", 1000, "k1", wid);
    assert_string_equal(st_settle(t, wid, 5 * SG_SEC), "FAILED");
    reason_of(t, wid, s, sizeof s);
    assert_string_equal(s, "identity: verification failed");
    transitions_of(t, wid, s, sizeof s);
    assert_string_equal(s, "->REQUESTED,REQUESTED->FAILED");
    saga_of(t, wid, s, sizeof s);
    assert_string_equal(s, "FAILED/DONE");
    st_free(t);
}

static void saga__announces__one_status_event_per_transition(void **state)
{
    (void)state;
    struct sg_config cfg;
    st_config_approving(&cfg);
    struct simtest *t = st_new_cfg(105, &cfg);
    char ok[40], denied[40], over[40], s[512];
    create_ok(t, ST_USER_A, "BTC", 1000, "k1", ok);
    create_ok(t, USER_DENIED, "BTC", 1000, "k2", denied);
    create_ok(t, ST_USER_A, "ETH", 20000000001, "k3", over);
    assert_string_equal(st_settle(t, ok, 5 * SG_SEC), "COMPLETED");
    assert_string_equal(st_settle(t, denied, 5 * SG_SEC), "FAILED");
    assert_string_equal(st_settle(t, over, 5 * SG_SEC), "FAILED");
    st_run_for(t, SG_SEC); /* let the relay publish the last status events */
    log_events(t, "cbsaga.evt.withdrawal", ok, s, sizeof s);
    assert_string_equal(s, "WithdrawalRequested,WithdrawalInProgress,WithdrawalCompleted");
    log_events(t, "cbsaga.evt.withdrawal", denied, s, sizeof s);
    assert_string_equal(s, "WithdrawalRequested,WithdrawalFailed");
    log_events(t, "cbsaga.evt.withdrawal", over, s, sizeof s);
    assert_string_equal(s, "WithdrawalRequested,WithdrawalInProgress,WithdrawalFailed");
    /* Counted the other way: log records on the topic == transition-log rows. */
    assert_int_equal(st_int(st_node_db(t, SG_ROLE_BROKER), "SELECT COUNT(*) FROM records"
                            " WHERE topic = 'cbsaga.evt.withdrawal'"),
                     st_int(st_node_db(t, SG_ROLE_ORCH), "SELECT COUNT(*) FROM transitions"));
    /* One withdrawal's records share one partition: per-key order holds. */
    assert_int_equal(st_qint(st_node_db(t, SG_ROLE_BROKER), "SELECT COUNT(DISTINCT partition)"
                             " FROM records WHERE key = '%s'", ok), 1);
    st_free(t);
}

static void saga__ignores__decision_after_terminal(void **state)
{
    (void)state;
    struct sg_config cfg;
    st_config_approving(&cfg);
    struct simtest *t = st_new_cfg(106, &cfg);
    char wid[40], s[256];
    create_ok(t, ST_USER_A, "BTC", 1000, "k1", wid);
    assert_string_equal(st_settle(t, wid, 5 * SG_SEC), "COMPLETED");
    st_run_for(t, 100 * SG_MS);
    sqlite3 *orch = st_node_db(t, SG_ROLE_ORCH);
    int64_t transitions0 = st_int(orch, "SELECT COUNT(*) FROM transitions");
    int64_t outbox0 = st_int(orch, "SELECT COUNT(*) FROM outbox");

    /* A second IdentityVerified with a fresh event id, as a rogue or replayed producer. */
    static const char event_id[] = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
    struct sg_event_fields f = {wid, ST_USER_A, "BTC", 1000, "addr", "", NULL, NULL};
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(sg_event_pack(SG_EVT_IDENTITY_VERIFIED, &f, event_id, "trace",
                                   "2025-11-25T00:00:01.000Z", &buf, &len), SG_OK);
    uint64_t m = st_produce(t, "cbsaga.evt.identity", wid, buf, len);
    const struct st_reply *r = st_await_reply(t, m, 100 * SG_MS);
    assert_non_null(r);
    assert_int_equal(r->payload_case, SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_PRODUCE_ACK);
    free(buf);
    st_run_for(t, SG_SEC);

    orch = st_node_db(t, SG_ROLE_ORCH);
    assert_true(st_qtext(orch, s, sizeof s,
                         "SELECT result || '/' || event_type FROM inbox WHERE key = '%s'",
                         event_id));
    assert_string_equal(s, "IGNORED/IdentityVerified");
    assert_true(st_qtext(orch, s, sizeof s,
                         "SELECT status FROM withdrawals WHERE withdrawal_id = '%s'", wid));
    assert_string_equal(s, "COMPLETED");
    saga_of(t, wid, s, sizeof s);
    assert_string_equal(s, "COMPLETED/DONE");
    assert_int_equal(st_int(orch, "SELECT COUNT(*) FROM transitions"), transitions0);
    assert_int_equal(st_int(orch, "SELECT COUNT(*) FROM outbox"), outbox0);
    st_free(t);
}

static void saga__cancels__deadline_passed(void **state)
{
    (void)state;
    struct sg_config cfg;
    st_config_approving(&cfg);
    cfg.saga_deadline_ns = 50 * SG_MS;
    struct simtest *t = st_new_cfg(107, &cfg);
    sg_world_stop(t->w, SG_ROLE_RISK);
    char wid[40], s[256];
    create_ok(t, ST_USER_A, "BTC", 1000, "k1", wid);
    assert_string_equal(st_settle(t, wid, 5 * SG_SEC), "CANCELED");
    reason_of(t, wid, s, sizeof s);
    assert_string_equal(s, "saga deadline exceeded");
    transitions_of(t, wid, s, sizeof s);
    assert_string_equal(s, "->REQUESTED,REQUESTED->IN_PROGRESS,IN_PROGRESS->CANCELED");
    saga_of(t, wid, s, sizeof s);
    assert_string_equal(s, "CANCELED/DONE");
    sqlite3 *orch = st_node_db(t, SG_ROLE_ORCH);
    assert_int_equal(st_qint(orch, "SELECT COUNT(*) FROM outbox WHERE aggregate_id = '%s'"
                                   " AND event_type = 'WithdrawalCanceled'"
                                   " AND route_key = 'evt.withdrawal'", wid), 1);
    /* Not before the deadline: the cancel came at or after created + 50 ms. */
    assert_true(st_qint(orch, "SELECT MAX(at_ns) - MIN(at_ns) FROM transitions"
                              " WHERE withdrawal_id = '%s'", wid) >= 50 * SG_MS);

    /* Risk comes back and approves late: the orchestrator ignores it. */
    assert_int_equal(sg_world_start(t->w, SG_ROLE_RISK), SG_OK);
    st_run_for(t, 3 * SG_SEC);
    assert_int_equal(st_qint(st_node_db(t, SG_ROLE_RISK), "SELECT COUNT(*) FROM decisions"
                             " WHERE withdrawal_id = '%s' AND decision = 'APPROVED'", wid), 1);
    orch = st_node_db(t, SG_ROLE_ORCH);
    assert_true(st_qtext(orch, s, sizeof s,
                         "SELECT result FROM inbox WHERE event_type = 'RiskApproved'"));
    assert_string_equal(s, "IGNORED");
    assert_true(st_qtext(orch, s, sizeof s,
                         "SELECT status FROM withdrawals WHERE withdrawal_id = '%s'", wid));
    assert_string_equal(s, "CANCELED");
    transitions_of(t, wid, s, sizeof s);
    assert_string_equal(s, "->REQUESTED,REQUESTED->IN_PROGRESS,IN_PROGRESS->CANCELED");
    st_free(t);
}

static void saga__settles__hundred_withdrawals(void **state)
{
    (void)state;
    struct simtest *t = st_new(108); /* default rejection ratios */
    char user[40], key[32];
    for (int i = 0; i < 100; i++) {
        snprintf(user, sizeof user, "6f1c2d3e-4a5b-4c6d-8e7f-%012d", i % 7);
        snprintf(key, sizeof key, "key-%d", i);
        uint64_t m = st_create(t, user, i % 2 ? "BTC" : "ETH", 1000 + i, "addr", key, NULL);
        st_run_for(t, 2 * SG_MS);
        const struct st_reply *r = st_await_reply(t, m, 100 * SG_MS);
        assert_non_null(r);
        assert_int_equal(r->code, SG_CODE_OK);
    }
    sqlite3 *orch = st_node_db(t, SG_ROLE_ORCH);
    for (int i = 0; i < 100 && st_int(orch, "SELECT COUNT(*) FROM withdrawals WHERE status"
                                            " IN ('COMPLETED', 'FAILED', 'CANCELED')") < 100;
         i++)
        st_run_for(t, 100 * SG_MS);
    assert_int_equal(st_int(orch, "SELECT COUNT(*) FROM withdrawals"), 100);
    assert_int_equal(st_int(orch, "SELECT COUNT(*) FROM withdrawals"
                                  " WHERE status IN ('COMPLETED', 'FAILED')"), 100);
    /* Every saga row agrees with its withdrawal. */
    assert_int_equal(st_int(orch, "SELECT COUNT(*) FROM withdrawals w JOIN sagas s"
                                  " USING(withdrawal_id) WHERE s.state = w.status"
                                  " AND s.current_step = 'DONE'"), 100);
    /* Failures carry a decision's reason; completions carry none. */
    assert_int_equal(st_int(orch, "SELECT COUNT(*) FROM withdrawals WHERE (status = 'FAILED')"
                                  " <> (failure_reason <> '')"), 0);
    assert_true(st_int(orch, "SELECT COUNT(*) FROM withdrawals WHERE status = 'COMPLETED'") >
                80);
    st_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(saga__completes__deciders_approve),
        cmocka_unit_test(saga__fails__user_denied),
        cmocka_unit_test(saga__fails__amount_over_limit),
        cmocka_unit_test(saga__fails__identity_rejects_all),
        cmocka_unit_test(saga__announces__one_status_event_per_transition),
        cmocka_unit_test(saga__ignores__decision_after_terminal),
        cmocka_unit_test(saga__cancels__deadline_passed),
        cmocka_unit_test(saga__settles__hundred_withdrawals),
    };
    return cmocka_run_group_tests_name("saga", tests, NULL, NULL);
}
