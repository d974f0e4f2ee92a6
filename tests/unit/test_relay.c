/*
 * test_relay.c: the outbox relay: at-least-once publication in commit order, a position
 * persisted only after the broker's ack, retries when the broker does not answer
 * (DESIGN §1 "Relay", §8 "Topics and groups"; core/relay.h).
 *
 * Why: the relay is where "exactly once" becomes "at least once": a crash between the
 * broker's ack and the persisted position must re-publish (never lose), and the consumers'
 * inboxes must make the duplicate harmless. A clean restart must not re-publish at all.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "codes.h"
#include "simtest.h"


/* ---- helpers ---- */

static void create_ok(struct simtest *t, const char *key, char wid[40])
{
    const struct st_reply *r = st_create_await(t, ST_USER_A, "BTC", 1000, "addr", key, NULL);
    assert_non_null(r);
    assert_int_equal(r->code, SG_CODE_OK);
    snprintf(wid, 40, "%s", r->withdrawal_id);
}

/* How many broker records carry an event with this id (decoding every value). */
static int64_t log_count_event(struct simtest *t, const char *event_id)
{
    sqlite3 *db = st_node_db(t, SG_ROLE_BROKER);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM records", -1, &st, NULL),
                     SQLITE_OK);
    int64_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        SgEvent *ev = sg_event_decode(sqlite3_column_blob(st, 0),
                                      (size_t)sqlite3_column_bytes(st, 0));
        if (ev && strcmp(ev->event_id, event_id) == 0) n++;
        sg_event_free(ev);
    }
    sqlite3_finalize(st);
    return n;
}

static void assert_position_at_end(struct simtest *t, enum sg_role role)
{
    sqlite3 *db = st_node_db(t, role);
    assert_non_null(db);
    int64_t max_seq = st_int(db, "SELECT COALESCE(MAX(seq), 0) FROM outbox");
    assert_true(max_seq > 0);
    assert_int_equal(st_int(db, "SELECT last_seq FROM relay_position WHERE id = 1"), max_seq);
}

/* ---- tests ---- */

static void relay__republishes__crash_after_ack(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(201);
    assert_true(sg_world_add_crash_at(&t->w->opt, SG_ROLE_ORCH, "relay.after_ack", 1));
    char wid[40];
    create_ok(t, "k1", wid);
    char verify_id[40], requested_id[40];
    sqlite3 *orch = st_node_db(t, SG_ROLE_ORCH);
    assert_true(st_qtext(orch, verify_id, sizeof verify_id,
                         "SELECT event_id FROM outbox"
                         " WHERE event_type = 'VerifyIdentityRequested'"));
    assert_true(st_qtext(orch, requested_id, sizeof requested_id,
                         "SELECT event_id FROM outbox WHERE event_type = 'WithdrawalRequested'"));
    struct st_watch dup;
    st_watch_start(t, &dup, SG_NODE_IDENTITY, "consume duplicate ");
    snprintf(dup.needle, sizeof dup.needle, "consume duplicate VerifyIdentityRequested %s",
             verify_id);

    assert_string_equal(st_settle(t, wid, 5 * SG_SEC), "COMPLETED");
    st_run_for(t, SG_SEC);
    assert_int_equal(t->w->nodes[SG_ROLE_ORCH].crashes, 1);
    assert_int_equal(t->w->nodes[SG_ROLE_ORCH].restarts, 1);
    /* The first batch was acknowledged, then published again after the restart. */
    assert_int_equal(log_count_event(t, verify_id), 2);
    assert_int_equal(log_count_event(t, requested_id), 2);
    assert_int_equal(st_int(st_node_db(t, SG_ROLE_BROKER), "SELECT COUNT(*) FROM records"
                            " WHERE topic = 'cbsaga.cmd.identity'"), 2);
    /* Identity applied the command once and skipped the copy. */
    sqlite3 *id = st_node_db(t, SG_ROLE_IDENTITY);
    assert_int_equal(st_int(id, "SELECT COUNT(*) FROM decisions"), 1);
    assert_int_equal(st_qint(id, "SELECT COUNT(*) FROM inbox WHERE event_id = '%s'", verify_id), 1);
    assert_int_equal(st_int(id, "SELECT COUNT(*) FROM inbox"), 1);
    assert_int_equal(dup.hits, 1);
    struct sg_node *idn = sg_world_node(t->w, SG_ROLE_IDENTITY);
    assert_non_null(idn);
    assert_int_equal(idn->u.decider.svc.consumer.stats.duplicates, 1);
    assert_int_equal(idn->u.decider.svc.consumer.stats.applied, 1);
    /* Nothing else was duplicated: the orchestrator saw each answer once (identity, risk,
     * hold placed, payout succeeded, hold settled). */
    assert_int_equal(st_int(st_node_db(t, SG_ROLE_ORCH), "SELECT COUNT(*) FROM inbox"), 5);
    assert_position_at_end(t, SG_ROLE_ORCH);
    st_free(t);
}

static void relay__resends__broker_crash_after_append(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(205);
    assert_true(sg_world_add_crash_at(&t->w->opt, SG_ROLE_BROKER, "broker.after_append", 1));
    char wid[40], verify_id[40];
    create_ok(t, "k1", wid);
    assert_true(st_qtext(st_node_db(t, SG_ROLE_ORCH), verify_id, sizeof verify_id,
                         "SELECT event_id FROM outbox"
                         " WHERE event_type = 'VerifyIdentityRequested'"));
    assert_string_equal(st_settle(t, wid, 10 * SG_SEC), "COMPLETED");
    st_run_for(t, SG_SEC);
    assert_int_equal(t->w->nodes[SG_ROLE_BROKER].crashes, 1);
    /* The append was durable but never acknowledged: the relay sent the batch again. */
    assert_int_equal(log_count_event(t, verify_id), 2);
    sqlite3 *id = st_node_db(t, SG_ROLE_IDENTITY);
    assert_int_equal(st_int(id, "SELECT COUNT(*) FROM decisions"), 1);
    assert_int_equal(st_qint(id, "SELECT COUNT(*) FROM inbox WHERE event_id = '%s'", verify_id), 1);
    assert_int_equal(sg_world_node(t->w, SG_ROLE_IDENTITY)->u.decider.svc.consumer.stats.duplicates,
                     1);
    assert_position_at_end(t, SG_ROLE_ORCH);
    st_free(t);
}

static void relay__position__reaches_max_outbox_seq(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(202);
    char wid[5][40];
    for (int i = 0; i < 5; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        create_ok(t, key, wid[i]);
    }
    for (int i = 0; i < 5; i++) assert_string_equal(st_settle(t, wid[i], 5 * SG_SEC), "COMPLETED");
    st_run_for(t, SG_SEC);
    assert_position_at_end(t, SG_ROLE_ORCH);
    assert_position_at_end(t, SG_ROLE_IDENTITY);
    assert_position_at_end(t, SG_ROLE_RISK);
    /* 8 per withdrawal at the orchestrator (4 status events, 4 commands), one answer
     * each at identity and risk and the rail, two at the ledger (placed, settled). */
    assert_int_equal(st_int(st_node_db(t, SG_ROLE_ORCH), "SELECT MAX(seq) FROM outbox"), 40);
    /* Fault-free: every outbox row is in the log exactly once. */
    int64_t rows = st_int(st_node_db(t, SG_ROLE_ORCH), "SELECT COUNT(*) FROM outbox") +
                   st_int(st_node_db(t, SG_ROLE_IDENTITY), "SELECT COUNT(*) FROM outbox") +
                   st_int(st_node_db(t, SG_ROLE_RISK), "SELECT COUNT(*) FROM outbox") +
                   st_int(st_node_db(t, SG_ROLE_LEDGER), "SELECT COUNT(*) FROM outbox") +
                   st_int(st_node_db(t, SG_ROLE_PAYOUT), "SELECT COUNT(*) FROM outbox");
    assert_int_equal(rows, 65);
    assert_int_equal(st_int(st_node_db(t, SG_ROLE_BROKER), "SELECT COUNT(*) FROM records"), rows);
    st_free(t);
}

static void relay__publishes_nothing__clean_restart(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(203);
    char wid[3][40];
    for (int i = 0; i < 3; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        create_ok(t, key, wid[i]);
    }
    for (int i = 0; i < 3; i++) assert_string_equal(st_settle(t, wid[i], 5 * SG_SEC), "COMPLETED");
    st_run_for(t, SG_SEC);
    int64_t records0 = st_int(st_node_db(t, SG_ROLE_BROKER), "SELECT COUNT(*) FROM records");
    int64_t last_seq0 = st_int(st_node_db(t, SG_ROLE_ORCH),
                               "SELECT last_seq FROM relay_position WHERE id = 1");
    uint64_t appended0 = sg_world_node(t->w, SG_ROLE_BROKER)->u.broker.appended;
    assert_int_equal(records0, 39); /* 13 per withdrawal: 8 + identity, risk, rail, ledger x2 */

    sg_world_stop(t->w, SG_ROLE_ORCH);
    assert_null(st_node_db(t, SG_ROLE_ORCH));
    st_run_for(t, 100 * SG_MS);
    assert_int_equal(sg_world_start(t->w, SG_ROLE_ORCH), SG_OK);
    st_run_for(t, 3 * SG_SEC); /* several relay polls and consumer long polls */

    assert_int_equal(st_int(st_node_db(t, SG_ROLE_BROKER), "SELECT COUNT(*) FROM records"),
                     records0);
    assert_int_equal(sg_world_node(t->w, SG_ROLE_BROKER)->u.broker.appended, appended0);
    struct sg_node *o = sg_world_node(t->w, SG_ROLE_ORCH);
    assert_non_null(o);
    assert_int_equal(o->u.orch.svc.relay.published, 0);
    assert_int_equal(st_int(st_node_db(t, SG_ROLE_ORCH),
                            "SELECT last_seq FROM relay_position WHERE id = 1"), last_seq0);
    /* The consumer resumed at its committed offsets: no decision consumed twice. */
    assert_int_equal(o->u.orch.svc.consumer.stats.duplicates, 0);
    assert_int_equal(o->u.orch.svc.consumer.stats.applied, 0);
    st_free(t);
}

/* The fallback poll: a row committed without a kick (a service that forgot to wake its
 * relay) is published by the next poll, though the relay's last read found the outbox
 * drained and the polls before it skipped their reads (nothing had changed). */
static void relay__poll_publishes__row_committed_without_kick(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(204);
    char wid[40];
    create_ok(t, "k0", wid);
    assert_string_equal(st_settle(t, wid, 5 * SG_SEC), "COMPLETED");
    st_run_for(t, 2 * SG_SEC); /* idle: several polls with nothing to read */
    struct sg_node *o = sg_world_node(t->w, SG_ROLE_ORCH);
    assert_true(o->u.orch.svc.relay.drained);
    uint64_t published0 = o->u.orch.svc.relay.published;

    assert_int_equal(sqlite3_exec(st_node_db(t, SG_ROLE_ORCH),
                                  "INSERT INTO outbox(event_id, event_type, aggregate_type,"
                                  " aggregate_id, route_key, trace_id, created_at_ns, payload)"
                                  " VALUES('e-unkicked', 'WithdrawalCompleted', 'withdrawal',"
                                  " 'w-unkicked', 'evt.withdrawal', 't', 0, x'')",
                                  NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(st_int(st_node_db(t, SG_ROLE_BROKER),
                            "SELECT COUNT(*) FROM records WHERE key = 'w-unkicked'"), 0);
    st_run_for(t, SG_SEC); /* two polls */
    assert_int_equal(st_int(st_node_db(t, SG_ROLE_BROKER),
                            "SELECT COUNT(*) FROM records WHERE key = 'w-unkicked'"), 1);
    assert_int_equal(o->u.orch.svc.relay.published, published0 + 1);
    assert_position_at_end(t, SG_ROLE_ORCH);
    st_free(t);
}

static void relay__retries__broker_down(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(204);
    sg_world_stop(t->w, SG_ROLE_BROKER);
    struct st_watch retry;
    st_watch_start(t, &retry, SG_NODE_ORCH, "relay retry");
    char wid[40];
    create_ok(t, "k1", wid); /* the orchestrator answers without the broker */
    int64_t produced_at = t->w->now_ns;
    st_run_for(t, 300 * SG_MS);
    assert_int_equal(sg_world_start(t->w, SG_ROLE_BROKER), SG_OK);
    /* The broker is back, but the lost produce is only re-sent after the timeout. */
    st_run_for(t, 900 * SG_MS - (t->w->now_ns - produced_at));
    assert_int_equal(st_int(st_node_db(t, SG_ROLE_BROKER), "SELECT COUNT(*) FROM records"), 0);
    assert_int_equal(retry.hits, 0);
    st_run_for(t, 300 * SG_MS);
    assert_int_equal(retry.hits, 1);
    assert_true(retry.first_at_ns - produced_at >= t->cfg.request_timeout_ns - 2 * SG_MS);
    sqlite3 *b = st_node_db(t, SG_ROLE_BROKER);
    assert_int_equal(st_int(b, "SELECT COUNT(*) FROM records"), 2);
    assert_int_equal(st_qint(b, "SELECT COUNT(*) FROM records WHERE key = '%s'"
                                " AND topic = 'cbsaga.cmd.identity'", wid), 1);
    assert_string_equal(st_settle(t, wid, 10 * SG_SEC), "COMPLETED");
    st_run_for(t, SG_SEC);
    assert_position_at_end(t, SG_ROLE_ORCH);
    st_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(relay__republishes__crash_after_ack),
        cmocka_unit_test(relay__resends__broker_crash_after_append),
        cmocka_unit_test(relay__position__reaches_max_outbox_seq),
        cmocka_unit_test(relay__publishes_nothing__clean_restart),
        cmocka_unit_test(relay__poll_publishes__row_committed_without_kick),
        cmocka_unit_test(relay__retries__broker_down),
    };
    return cmocka_run_group_tests_name("relay", tests, NULL, NULL);
}
