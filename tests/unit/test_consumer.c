/*
 * test_consumer.c: consumer groups: fetch from the committed offset, apply + inbox in one
 * transaction, then commit the offset; duplicates are no-ops, undecodable and unexpected
 * records are REJECTED and skipped (DESIGN §1 "Consumers", §8.1 "Poison records";
 * core/consumer.h).
 *
 * Why: at-least-once delivery is only safe if the inbox makes every redelivery a no-op and
 * no bad record can stop a partition. Each test drives one of those paths through the real
 * broker protocol and then checks the three places that must agree: the service's inbox,
 * its effects (decisions), and the group's committed offsets in the broker.
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

#include "broker.h"
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

/* Creates n withdrawals with keys <prefix><i>. */
static void create_n(struct simtest *t, const char *prefix, int n, char wid[][40])
{
    for (int i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "%s%d", prefix, i);
        create_ok(t, key, wid[i]);
    }
}

/* The group's committed offset equals the log end (max offset + 1) in every partition of
 * the topic that holds records, in broker.db (after the broker's next flush, broker.h). */
static void assert_group_at_end(struct simtest *t, const char *group, const char *topic)
{
    st_run_for(t, t->cfg.relay_poll_ns + SG_MS);
    sqlite3 *b = st_node_db(t, SG_ROLE_BROKER);
    assert_true(st_qint(b, "SELECT COUNT(*) FROM records WHERE topic = '%s'", topic) > 0);
    assert_int_equal(st_qint(b,
        "SELECT COUNT(*) FROM (SELECT partition, MAX(offset) + 1 AS log_end FROM records"
        " WHERE topic = '%s' GROUP BY partition) r LEFT JOIN group_offsets g"
        " ON g.grp = '%s' AND g.topic = '%s' AND g.partition = r.partition"
        " WHERE g.offset IS NOT r.log_end", topic, group, topic), 0);
}

/* Produces one record to the broker from the test client and waits for its ack. */
static void produce(struct simtest *t, const char *topic, const char *key, const void *value,
                    size_t len)
{
    uint64_t id = st_produce(t, topic, key, value, len);
    const struct st_reply *r = st_await_reply(t, id, 100 * SG_MS);
    assert_non_null(r);
    assert_int_equal(r->payload_case, SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_PRODUCE_ACK);
}

static void produce_event(struct simtest *t, const char *topic, enum sg_event_type type,
                          const char *wid, const char *event_id)
{
    struct sg_event_fields f = {wid, ST_USER_A, "BTC", 1000, "addr", "", NULL, NULL};
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(sg_event_pack(type, &f, event_id, "trace", "2025-11-25T00:00:00.000Z",
                                   &buf, &len), SG_OK);
    produce(t, topic, wid, buf, len);
    free(buf);
}

static const struct sg_consumer_stats *stats_of(struct simtest *t, enum sg_role role)
{
    struct sg_node *n = sg_world_node(t->w, role);
    assert_non_null(n);
    return role == SG_ROLE_ORCH ? &n->u.orch.svc.consumer.stats
                                : &n->u.decider.svc.consumer.stats;
}

/* ---- tests ---- */

static void consumer__resumes__committed_offset_after_restart(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(301);
    char wid[6][40];
    create_n(t, "a", 3, wid);
    for (int i = 0; i < 3; i++) assert_string_equal(st_settle(t, wid[i], 5 * SG_SEC), "COMPLETED");
    st_run_for(t, 100 * SG_MS);
    assert_group_at_end(t, "cbsaga-identity", "cbsaga.cmd.identity");

    sg_world_stop(t->w, SG_ROLE_IDENTITY);
    create_n(t, "b", 3, wid + 3);
    st_run_for(t, SG_SEC);
    sqlite3 *b = st_node_db(t, SG_ROLE_BROKER);
    assert_int_equal(st_int(b, "SELECT COUNT(*) FROM records WHERE topic = 'cbsaga.cmd.identity'"),
                     6);
    char s[32];
    assert_true(st_qtext(st_node_db(t, SG_ROLE_ORCH), s, sizeof s,
                         "SELECT status FROM withdrawals WHERE withdrawal_id = '%s'", wid[3]));
    assert_string_equal(s, "REQUESTED"); /* stalled while identity is down */

    struct st_watch dup;
    st_watch_start(t, &dup, SG_NODE_IDENTITY, "consume duplicate");
    assert_int_equal(sg_world_start(t->w, SG_ROLE_IDENTITY), SG_OK);
    for (int i = 3; i < 6; i++) assert_string_equal(st_settle(t, wid[i], 5 * SG_SEC), "COMPLETED");
    st_run_for(t, SG_SEC);

    /* This life fetched from the committed offset: only the three new commands. */
    const struct sg_consumer_stats *cs = stats_of(t, SG_ROLE_IDENTITY);
    assert_int_equal(cs->applied, 3);
    assert_int_equal(cs->duplicates, 0);
    assert_int_equal(dup.hits, 0);
    sqlite3 *id = st_node_db(t, SG_ROLE_IDENTITY);
    int64_t commands = st_int(st_node_db(t, SG_ROLE_BROKER),
                              "SELECT COUNT(*) FROM records WHERE topic = 'cbsaga.cmd.identity'");
    assert_int_equal(commands, 6);
    assert_int_equal(st_int(id, "SELECT COUNT(*) FROM inbox"), commands);
    assert_int_equal(st_int(id, "SELECT COUNT(*) FROM decisions"), commands);
    assert_int_equal(st_int(id, "SELECT COUNT(*) FROM inbox WHERE result = 'APPLIED'"), commands);
    assert_group_at_end(t, "cbsaga-identity", "cbsaga.cmd.identity");
    assert_group_at_end(t, "cbsaga-risk", "cbsaga.cmd.risk");
    assert_group_at_end(t, "cbsaga-orchestrator", "cbsaga.evt.identity");
    assert_group_at_end(t, "cbsaga-orchestrator", "cbsaga.evt.risk");
    st_free(t);
}

/* The broker persists group offsets lazily (broker.h): a power loss right after it
 * acknowledged a commit takes the group back; the consumer sees that in its next fetch
 * answer and commits its position again, so the group reaches the log end (I8). */
static void consumer__recommits__an_offset_the_broker_lost(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(307);
    st_run_for(t, 2 * t->cfg.relay_poll_ns + 10 * SG_MS); /* just after a flush tick */
    produce_event(t, "cbsaga.cmd.identity", SG_EVT_VERIFY_IDENTITY_REQUESTED, "w-lost",
                  "ev-lost-1");
    st_run_for(t, 20 * SG_MS); /* consumed, committed, acknowledged; not flushed */
    sg_world_crash(t->w, SG_ROLE_BROKER, true);
    st_run_for(t, t->cfg.relay_poll_ns * 2 + SG_SEC); /* restart_delay is 1 s */
    sqlite3 *b = st_node_db(t, SG_ROLE_BROKER);
    assert_non_null(b);
    uint32_t p = sg_partition_of("w-lost", t->cfg.partitions);
    assert_int_equal(st_qint(b, "SELECT offset FROM group_offsets WHERE grp = 'cbsaga-identity'"
                                " AND topic = 'cbsaga.cmd.identity' AND partition = %u", p), 1);
    assert_group_at_end(t, "cbsaga-identity", "cbsaga.cmd.identity");
    assert_int_equal(stats_of(t, SG_ROLE_IDENTITY)->applied, 1); /* applied once */
    st_free(t);
}

static void consumer__redelivers__crash_after_effect(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(302);
    assert_true(sg_world_add_crash_at(&t->w->opt, SG_ROLE_IDENTITY, "consumer.after_effect", 1));
    char wid[40], verify_id[40], needle[96];
    create_ok(t, "k1", wid);
    assert_true(st_qtext(st_node_db(t, SG_ROLE_ORCH), verify_id, sizeof verify_id,
                         "SELECT event_id FROM outbox"
                         " WHERE event_type = 'VerifyIdentityRequested'"));
    snprintf(needle, sizeof needle, "consume duplicate VerifyIdentityRequested %s", verify_id);
    struct st_watch dup;
    st_watch_start(t, &dup, SG_NODE_IDENTITY, needle);

    assert_string_equal(st_settle(t, wid, 5 * SG_SEC), "COMPLETED");
    st_run_for(t, SG_SEC);
    assert_int_equal(t->w->nodes[SG_ROLE_IDENTITY].crashes, 1);
    /* The effect survived the crash; the offset did not, so the batch came again. */
    assert_int_equal(dup.hits, 1);
    const struct sg_consumer_stats *cs = stats_of(t, SG_ROLE_IDENTITY);
    assert_int_equal(cs->duplicates, 1);
    assert_int_equal(cs->applied, 0);
    sqlite3 *id = st_node_db(t, SG_ROLE_IDENTITY);
    assert_int_equal(st_int(id, "SELECT COUNT(*) FROM decisions"), 1);
    assert_int_equal(st_int(id, "SELECT COUNT(*) FROM inbox"), 1);
    assert_int_equal(st_qint(id, "SELECT COUNT(*) FROM inbox WHERE key = '%s'"
                                 " AND result = 'APPLIED'", verify_id), 1);
    assert_int_equal(st_int(id, "SELECT COUNT(*) FROM outbox"), 1); /* one decision event */
    /* Redelivery came from the log, not from a second publication. */
    assert_int_equal(st_int(st_node_db(t, SG_ROLE_BROKER), "SELECT COUNT(*) FROM records"
                            " WHERE topic = 'cbsaga.cmd.identity'"), 1);
    assert_group_at_end(t, "cbsaga-identity", "cbsaga.cmd.identity");
    st_free(t);
}

static void consumer__rejects__poison_record(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(303);
    static const uint8_t poison[] = {0xff, 0xff, 0xff};
    assert_null(sg_event_decode(poison, sizeof poison)); /* really undecodable */
    /* One poison record at the head of every partition, so every later command has to
     * get past one. */
    char keys[3][32];
    bool have[3] = {false, false, false};
    for (int i = 0; i < 1000 && !(have[0] && have[1] && have[2]); i++) {
        char key[32];
        snprintf(key, sizeof key, "poison-%d", i);
        uint32_t p = sg_partition_of(key, t->cfg.partitions);
        if (have[p]) continue;
        have[p] = true;
        memcpy(keys[p], key, sizeof key);
    }
    for (uint32_t p = 0; p < 3; p++) {
        assert_true(have[p]);
        produce(t, "cbsaga.cmd.identity", keys[p], poison, sizeof poison);
    }
    st_run_for(t, 100 * SG_MS);
    sqlite3 *id = st_node_db(t, SG_ROLE_IDENTITY);
    for (uint32_t p = 0; p < 3; p++) {
        int64_t off = st_qint(st_node_db(t, SG_ROLE_BROKER), "SELECT offset FROM records"
                              " WHERE key = '%s'", keys[p]);
        assert_int_equal(off, 0);
        char s[64];
        assert_true(st_qtext(id, s, sizeof s, "SELECT result || '/' || event_id FROM inbox"
                             " WHERE key = 'poison:cbsaga.cmd.identity:%u:%lld'",
                             p, (long long)off));
        assert_string_equal(s, "REJECTED/");
    }
    assert_int_equal(stats_of(t, SG_ROLE_IDENTITY)->rejected, 3);
    assert_group_at_end(t, "cbsaga-identity", "cbsaga.cmd.identity");

    /* The consumer keeps going: real commands after the poison are applied. */
    char wid[6][40];
    create_n(t, "k", 6, wid);
    for (int i = 0; i < 6; i++) assert_string_equal(st_settle(t, wid[i], 5 * SG_SEC), "COMPLETED");
    st_run_for(t, SG_SEC);
    id = st_node_db(t, SG_ROLE_IDENTITY);
    assert_int_equal(st_int(id, "SELECT COUNT(*) FROM decisions"), 6);
    assert_int_equal(st_int(id, "SELECT COUNT(*) FROM inbox WHERE result = 'REJECTED'"), 3);
    assert_int_equal(st_int(id, "SELECT COUNT(*) FROM inbox WHERE result = 'APPLIED'"), 6);
    assert_int_equal(st_int(st_node_db(t, SG_ROLE_BROKER), "SELECT COUNT(*) FROM records"
                            " WHERE topic = 'cbsaga.cmd.identity' AND offset > 0"), 6);
    assert_group_at_end(t, "cbsaga-identity", "cbsaga.cmd.identity");
    st_free(t);
}

/* CORE BUG (core/broker.c, on_produce): a record with an empty value arrives with
 * value.data == NULL; sqlite3_bind_blob64(NULL, 0) binds SQL NULL, the NOT NULL constraint
 * on records.value fails, the produce rolls back and is never acknowledged, so a
 * stop-and-wait producer would retry it forever. An empty value is a valid (empty) Event:
 * it should be appended and acked, and the consumer should record it REJECTED (no
 * event id) and move on. This test asserts that and fails until the broker binds a
 * zero-length blob. */
static void consumer__rejects__empty_record(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(306);
    produce(t, "cbsaga.cmd.identity", "empty-1", NULL, 0);
    st_run_for(t, 100 * SG_MS);
    int64_t p = (int64_t)sg_partition_of("empty-1", t->cfg.partitions);
    assert_int_equal(st_qint(st_node_db(t, SG_ROLE_IDENTITY), "SELECT COUNT(*) FROM inbox"
                             " WHERE key = 'poison:cbsaga.cmd.identity:%lld:0'"
                             " AND result = 'REJECTED'", (long long)p), 1);
    char wid[40];
    create_ok(t, "k1", wid);
    assert_string_equal(st_settle(t, wid, 5 * SG_SEC), "COMPLETED");
    st_free(t);
}

static void consumer__rejects__unexpected_event_type(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(304);
    static const char fake_wid[] = "12345678-1234-4234-8234-123456789abc";
    static const char completed_id[] = "c0000000-0000-4000-8000-000000000001";
    static const char verified_id[] = "c0000000-0000-4000-8000-000000000002";
    produce_event(t, "cbsaga.cmd.identity", SG_EVT_WITHDRAWAL_COMPLETED, fake_wid, completed_id);
    produce_event(t, "cbsaga.cmd.identity", SG_EVT_IDENTITY_VERIFIED, fake_wid, verified_id);
    st_run_for(t, 100 * SG_MS);
    sqlite3 *id = st_node_db(t, SG_ROLE_IDENTITY);
    char s[64];
    assert_true(st_qtext(id, s, sizeof s,
                         "SELECT result || '/' || event_type FROM inbox WHERE key = '%s'",
                         completed_id));
    assert_string_equal(s, "REJECTED/WithdrawalCompleted");
    assert_true(st_qtext(id, s, sizeof s,
                         "SELECT result || '/' || event_type FROM inbox WHERE key = '%s'",
                         verified_id));
    assert_string_equal(s, "REJECTED/IdentityVerified");
    assert_int_equal(st_int(id, "SELECT COUNT(*) FROM decisions"), 0);
    assert_int_equal(st_int(id, "SELECT COUNT(*) FROM outbox"), 0);
    assert_int_equal(stats_of(t, SG_ROLE_IDENTITY)->rejected, 2);

    /* Real commands still go through, also behind the rejected ones in their partition. */
    char wid[4][40];
    create_n(t, "k", 4, wid);
    for (int i = 0; i < 4; i++) assert_string_equal(st_settle(t, wid[i], 5 * SG_SEC), "COMPLETED");
    st_run_for(t, SG_SEC);
    assert_int_equal(st_int(st_node_db(t, SG_ROLE_IDENTITY), "SELECT COUNT(*) FROM decisions"), 4);
    assert_true(st_qint(st_node_db(t, SG_ROLE_BROKER), "SELECT COUNT(*) FROM records"
                        " WHERE topic = 'cbsaga.cmd.identity' AND partition = %u AND offset >= 2",
                        sg_partition_of(fake_wid, t->cfg.partitions)) > 0);
    assert_group_at_end(t, "cbsaga-identity", "cbsaga.cmd.identity");
    st_free(t);
}

static void consumer__rejects__poison_on_orchestrator_topic(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(305);
    char wid[40];
    create_ok(t, "k1", wid);
    /* Poison with the withdrawal's own key: it lands in the partition its decision uses. */
    static const uint8_t poison[] = {0xff, 0xff, 0xff};
    produce(t, "cbsaga.evt.identity", wid, poison, sizeof poison);
    assert_string_equal(st_settle(t, wid, 5 * SG_SEC), "COMPLETED");
    st_run_for(t, SG_SEC);
    uint32_t p = sg_partition_of(wid, t->cfg.partitions);
    int64_t off = st_qint(st_node_db(t, SG_ROLE_BROKER), "SELECT offset FROM records"
                          " WHERE topic = 'cbsaga.evt.identity' AND value = x'ffffff'");
    assert_true(off >= 0);
    sqlite3 *orch = st_node_db(t, SG_ROLE_ORCH);
    assert_int_equal(st_qint(orch, "SELECT COUNT(*) FROM inbox WHERE result = 'REJECTED' AND"
                                   " key = 'poison:cbsaga.evt.identity:%u:%lld'", p,
                             (long long)off), 1);
    /* identity, risk, hold placed, payout succeeded, hold settled */
    assert_int_equal(st_int(orch, "SELECT COUNT(*) FROM inbox WHERE result = 'APPLIED'"), 5);
    assert_group_at_end(t, "cbsaga-orchestrator", "cbsaga.evt.identity");
    st_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(consumer__resumes__committed_offset_after_restart),
        cmocka_unit_test(consumer__recommits__an_offset_the_broker_lost),
        cmocka_unit_test(consumer__redelivers__crash_after_effect),
        cmocka_unit_test(consumer__rejects__poison_record),
        cmocka_unit_test(consumer__rejects__empty_record),
        cmocka_unit_test(consumer__rejects__unexpected_event_type),
        cmocka_unit_test(consumer__rejects__poison_on_orchestrator_topic),
    };
    return cmocka_run_group_tests_name("consumer", tests, NULL, NULL);
}
