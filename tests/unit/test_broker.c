/*
 * test_broker.c: unit tests for core/broker.c, the Kafka role, driven over the
 * deterministic simulator from a scripted test client (DESIGN §1 "Broker", §8 "Topics and
 * groups", §8.1 "Polling cost").
 *
 * Why: every delivery guarantee of the saga rests on the broker: per-key order needs one
 * partition per key and consecutive offsets in produce order; at-least-once needs records
 * synced before the ack and group offsets that survive restarts; the long poll must
 * answer neither too early (busy polling) nor too late (a produce must wake it). The other
 * services run too and consume their own topics, so these tests use their own group names
 * and mostly the topic no service consumes (cbsaga.evt.withdrawal).
 */
#define _DEFAULT_SOURCE /* open_memstream */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "broker.h"
#include "simtest.h"

enum { TOPIC_WD = 4 }; /* index of cbsaga.evt.withdrawal in sg_topics */
static const char GROUP[] = "test-group";
static const uint32_t NPART = 3;
enum { NPART_MAX = 3 };

static const char *topic_wd(void)
{
    assert_string_equal(sg_topics[TOPIC_WD], "cbsaga.evt.withdrawal");
    return sg_topics[TOPIC_WD];
}

/* ---- the test client's side of the broker protocol ---- */

struct rec {
    const char *topic, *key, *value;
};

static uint64_t produce(struct simtest *t, const struct rec *recs, size_t n)
{
    SgRecord *r = calloc(n ? n : 1, sizeof *r);
    SgRecord **rp = calloc(n ? n : 1, sizeof *rp);
    assert_non_null(r);
    assert_non_null(rp);
    for (size_t i = 0; i < n; i++) {
        sagasim__node__v1__record__init(&r[i]);
        r[i].topic = (char *)recs[i].topic;
        r[i].key = (char *)recs[i].key;
        r[i].value.data = (uint8_t *)recs[i].value;
        r[i].value.len = strlen(recs[i].value);
        rp[i] = &r[i];
    }
    Sagasim__Node__V1__ProduceRequest pr = SAGASIM__NODE__V1__PRODUCE_REQUEST__INIT;
    pr.n_records = n;
    pr.records = rp;
    SgEnvelope e = SAGASIM__NODE__V1__ENVELOPE__INIT;
    e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_PRODUCE;
    e.produce = &pr;
    uint64_t id = st_send(t, SG_NODE_BROKER, &e);
    free(rp);
    free(r);
    return id;
}

static uint64_t fetch(struct simtest *t, const char *group, const char *topic, uint32_t part,
                      uint32_t max)
{
    Sagasim__Node__V1__FetchRequest f = SAGASIM__NODE__V1__FETCH_REQUEST__INIT;
    f.group = (char *)group;
    f.topic = (char *)topic;
    f.partition = part;
    f.max_records = max;
    f.from_committed = 1; /* a consumer without a position: the group's committed offset */
    SgEnvelope e = SAGASIM__NODE__V1__ENVELOPE__INIT;
    e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_FETCH;
    e.fetch = &f;
    return st_send(t, SG_NODE_BROKER, &e);
}

/* A fetch from `offset` that carries the commit of `offset` (a consumer after a batch). */
static uint64_t fetch_committing(struct simtest *t, const char *group, const char *topic,
                                 uint32_t part, uint64_t offset)
{
    Sagasim__Node__V1__FetchRequest f = SAGASIM__NODE__V1__FETCH_REQUEST__INIT;
    f.group = (char *)group;
    f.topic = (char *)topic;
    f.partition = part;
    f.max_records = 64;
    f.offset = offset;
    f.commit = 1;
    SgEnvelope e = SAGASIM__NODE__V1__ENVELOPE__INIT;
    e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_FETCH;
    e.fetch = &f;
    return st_send(t, SG_NODE_BROKER, &e);
}

/* One fetch of every partition of `topic` from offset 0 (FetchRequest.parts), at most max
 * records in all. */
static uint64_t fetch_all_parts(struct simtest *t, const char *group, const char *topic,
                                uint32_t max)
{
    Sagasim__Node__V1__FetchPart part[NPART_MAX];
    Sagasim__Node__V1__FetchPart *parts[NPART_MAX];
    for (uint32_t p = 0; p < NPART; p++) {
        sagasim__node__v1__fetch_part__init(&part[p]);
        part[p].topic = (char *)topic;
        part[p].partition = p;
        parts[p] = &part[p];
    }
    Sagasim__Node__V1__FetchRequest f = SAGASIM__NODE__V1__FETCH_REQUEST__INIT;
    f.group = (char *)group;
    f.max_records = max;
    f.n_parts = NPART;
    f.parts = parts;
    SgEnvelope e = SAGASIM__NODE__V1__ENVELOPE__INIT;
    e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_FETCH;
    e.fetch = &f;
    return st_send(t, SG_NODE_BROKER, &e);
}

static uint64_t commit(struct simtest *t, const char *group, const char *topic, uint32_t part,
                       uint64_t offset)
{
    Sagasim__Node__V1__CommitRequest c = SAGASIM__NODE__V1__COMMIT_REQUEST__INIT;
    c.group = (char *)group;
    c.topic = (char *)topic;
    c.partition = part;
    c.offset = offset;
    SgEnvelope e = SAGASIM__NODE__V1__ENVELOPE__INIT;
    e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_COMMIT;
    e.commit = &c;
    return st_send(t, SG_NODE_BROKER, &e);
}

/* Runs in 1 ms steps until the reply to id arrives (at most limit); decodes it. */
static SgEnvelope *await(struct simtest *t, uint64_t id, int64_t limit, int expected_case)
{
    const struct st_reply *r = st_await_reply(t, id, limit);
    if (!r) fail_msg("no reply to msg %llu within %lld ns", (unsigned long long)id,
                     (long long)limit);
    assert_int_equal(r->from, SG_NODE_BROKER);
    assert_true(r->len > 0); /* the reply fitted the recorder's buffer */
    SgEnvelope *e = sg_wire_decode(r->bytes, r->len);
    assert_non_null(e);
    assert_int_equal((int)e->payload_case, expected_case);
    return e;
}

static void expect_ack(struct simtest *t, uint64_t id, uint32_t count)
{
    SgEnvelope *e = await(t, id, 50 * SG_MS, SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_PRODUCE_ACK);
    assert_int_equal(e->produce_ack->code, 0);
    assert_int_equal(e->produce_ack->count, count);
    sg_wire_free(e);
}

static SgEnvelope *fetch_now(struct simtest *t, const char *group, const char *topic,
                             uint32_t part, uint32_t max)
{
    uint64_t id = fetch(t, group, topic, part, max);
    SgEnvelope *e = await(t, id, 2 * SG_SEC, SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_FETCH_RESPONSE);
    const Sagasim__Node__V1__FetchResponse *fr = e->fetch_response;
    assert_string_equal(fr->group, group);
    assert_string_equal(fr->topic, topic);
    assert_int_equal(fr->partition, part);
    assert_int_equal(fr->code, 0);
    for (size_t i = 0; i < fr->n_records; i++) {
        assert_string_equal(fr->records[i]->topic, topic);
        assert_int_equal(fr->records[i]->partition, part);
    }
    return e;
}

static void expect_commit_ack(struct simtest *t, uint64_t id, uint64_t offset)
{
    SgEnvelope *e = await(t, id, 50 * SG_MS, SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_COMMIT_ACK);
    assert_int_equal(e->commit_ack->code, 0);
    assert_true(e->commit_ack->offset == offset);
    sg_wire_free(e);
}

static bool value_is(const SgRecord *r, const char *v)
{
    return r->value.len == strlen(v) && memcmp(r->value.data, v, r->value.len) == 0;
}

/* A key whose partition is (or is not, when want_other) `part`. */
static void key_in(uint32_t part, bool want_other, char out[32])
{
    for (int i = 0; i < 1000; i++) {
        snprintf(out, 32, "key-%d", i);
        if ((sg_partition_of(out, NPART) == part) != want_other) return;
    }
    fail_msg("no key found");
}

static struct simtest *start(uint64_t seed)
{
    struct simtest *t = st_new(seed);
    assert_non_null(t);
    assert_int_equal(t->cfg.partitions, NPART);
    st_run_for(t, 10 * SG_MS); /* let the services' start-up traffic pass */
    return t;
}

/* ---- cases ---- */

static void broker__produce_then_fetch__gives_consecutive_offsets_from_zero(void **state)
{
    (void)state;
    struct simtest *t = start(1);
    const char *topic = topic_wd();
    const char *key = "3b2a1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d";
    const struct rec recs[] = {{topic, key, "v0"}, {topic, key, "v1"}, {topic, key, "v2"}};
    expect_ack(t, produce(t, recs, 3), 3);
    uint32_t p = sg_partition_of(key, NPART);
    SgEnvelope *e = fetch_now(t, GROUP, topic, p, 64);
    const Sagasim__Node__V1__FetchResponse *fr = e->fetch_response;
    assert_int_equal(fr->n_records, 3);
    assert_true(fr->committed_offset == 0);
    assert_true(fr->log_end == 3);
    for (size_t i = 0; i < 3; i++) {
        char v[8];
        snprintf(v, sizeof v, "v%zu", i);
        assert_true(fr->records[i]->offset == i);
        assert_string_equal(fr->records[i]->key, key);
        assert_true(value_is(fr->records[i], v));
    }
    sg_wire_free(e);
    /* the other partitions of the topic got nothing */
    sqlite3 *db = st_node_db(t, SG_ROLE_BROKER);
    assert_non_null(db);
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM records WHERE topic = 'cbsaga.evt.withdrawal'"), 3);
    assert_int_equal(st_int(db, "SELECT COUNT(DISTINCT partition) FROM records"
                                " WHERE topic = 'cbsaga.evt.withdrawal'"), 1);
    st_free(t);
}

static void broker__records_of_one_key__keep_produce_order__across_requests(void **state)
{
    (void)state;
    struct simtest *t = start(2);
    const char *topic = topic_wd();
    static const char *const keys[3] = {"wd-a", "wd-b", "wd-c"};
    char vals[4][4][16];
    for (int req = 0; req < 4; req++) {
        struct rec recs[4];
        for (int k = 0; k < 4; k++) {
            const char *key = keys[(req + k) % 3]; /* interleave keys within a request */
            snprintf(vals[req][k], sizeof vals[req][k], "%s#%d.%d", key + 3, req, k);
            recs[k] = (struct rec){topic, key, vals[req][k]};
        }
        expect_ack(t, produce(t, recs, 4), 4); /* stop-and-wait, as the relay does */
    }
    for (int k = 0; k < 3; k++) {
        uint32_t p = sg_partition_of(keys[k], NPART);
        SgEnvelope *e = fetch_now(t, GROUP, topic, p, 64);
        const Sagasim__Node__V1__FetchResponse *fr = e->fetch_response;
        /* offsets in the partition are consecutive from 0 */
        for (size_t i = 0; i < fr->n_records; i++) assert_true(fr->records[i]->offset == i);
        assert_true(fr->log_end == fr->n_records);
        /* this key's records appear in exactly the order they were produced */
        size_t seen = 0;
        for (int req = 0; req < 4; req++)
            for (int kk = 0; kk < 4; kk++) {
                if (keys[(req + kk) % 3] != keys[k]) continue;
                while (seen < fr->n_records && strcmp(fr->records[seen]->key, keys[k]) != 0)
                    seen++;
                assert_true(seen < fr->n_records);
                assert_true(value_is(fr->records[seen], vals[req][kk]));
                seen++;
            }
        while (seen < fr->n_records) assert_string_not_equal(fr->records[seen++]->key, keys[k]);
        sg_wire_free(e);
    }
    st_free(t);
}

static void broker__partition__is_xxh3_of_key_mod_partitions(void **state)
{
    (void)state;
    struct simtest *t = start(3);
    const char *topic = topic_wd();
    enum { N = 24 };
    char keys[N][40];
    struct rec recs[N];
    uint32_t per_part[3] = {0, 0, 0};
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "%08x-0000-4000-8000-0000000000%02d",
                 (unsigned)i * 2654435761u, i);
        recs[i] = (struct rec){topic, keys[i], keys[i]};
        uint32_t p = (uint32_t)(XXH3_64bits(keys[i], strlen(keys[i])) % NPART);
        assert_int_equal(sg_partition_of(keys[i], NPART), p);
        per_part[p]++;
    }
    expect_ack(t, produce(t, recs, N), N);
    size_t total = 0;
    for (uint32_t p = 0; p < NPART; p++) {
        assert_true(per_part[p] > 0); /* the keys above cover every partition */
        SgEnvelope *e = fetch_now(t, GROUP, topic, p, 64);
        const Sagasim__Node__V1__FetchResponse *fr = e->fetch_response;
        assert_int_equal(fr->n_records, per_part[p]);
        int last = -1;
        for (size_t i = 0; i < fr->n_records; i++) {
            const SgRecord *r = fr->records[i];
            assert_int_equal(r->partition, p);
            assert_int_equal(sg_partition_of(r->key, NPART), p);
            assert_true(r->offset == i);
            assert_true(value_is(r, r->key));
            /* within the partition, produce order */
            int idx = -1;
            for (int k = 0; k < N; k++)
                if (!strcmp(keys[k], r->key)) idx = k;
            assert_true(idx > last);
            last = idx;
        }
        total += fr->n_records;
        sg_wire_free(e);
    }
    assert_int_equal(total, N);
    st_free(t);
}

static void broker__fetch__starts_at_earliest__for_a_new_group(void **state)
{
    (void)state;
    struct simtest *t = start(4);
    const char *topic = topic_wd();
    const char *key = "new-group-key";
    uint32_t p = sg_partition_of(key, NPART);
    const struct rec recs[] = {{topic, key, "a"}, {topic, key, "b"}, {topic, key, "c"},
                               {topic, key, "d"}};
    expect_ack(t, produce(t, recs, 4), 4);
    /* another group moves on; that does not affect a new group */
    expect_commit_ack(t, commit(t, "other-group", topic, p, 3), 3);
    SgEnvelope *e = fetch_now(t, "brand-new-group", topic, p, 64);
    assert_true(e->fetch_response->committed_offset == 0);
    assert_int_equal(e->fetch_response->n_records, 4);
    assert_true(e->fetch_response->records[0]->offset == 0);
    assert_true(value_is(e->fetch_response->records[0], "a"));
    sg_wire_free(e);
    /* fetching does not move the group: without a commit the same records come again */
    e = fetch_now(t, "brand-new-group", topic, p, 64);
    assert_int_equal(e->fetch_response->n_records, 4);
    assert_true(e->fetch_response->records[0]->offset == 0);
    sg_wire_free(e);
    e = fetch_now(t, "other-group", topic, p, 64);
    assert_true(e->fetch_response->committed_offset == 3);
    assert_int_equal(e->fetch_response->n_records, 1);
    assert_true(value_is(e->fetch_response->records[0], "d"));
    sg_wire_free(e);
    st_free(t);
}

/* FetchRequest.commit stores the offset before the fetch (the response confirms it), a
 * later fetch from the committed offset starts there, and an older commit riding on a
 * delayed fetch never moves the group back. */
static void broker__fetch_carrying_a_commit__stores_it_and_never_moves_back(void **state)
{
    (void)state;
    struct simtest *t = start(13);
    const char *topic = topic_wd();
    const char *key = "carried-commit-key";
    uint32_t p = sg_partition_of(key, NPART);
    const struct rec recs[] = {{topic, key, "a"}, {topic, key, "b"}, {topic, key, "c"}};
    expect_ack(t, produce(t, recs, 3), 3);
    SgEnvelope *e = await(t, fetch_committing(t, GROUP, topic, p, 2), 2 * SG_SEC,
                          SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_FETCH_RESPONSE);
    assert_true(e->fetch_response->committed_offset == 2);
    assert_int_equal(e->fetch_response->n_records, 1);
    assert_true(value_is(e->fetch_response->records[0], "c"));
    sg_wire_free(e);
    e = fetch_now(t, GROUP, topic, p, 64); /* from the committed offset */
    assert_true(e->fetch_response->committed_offset == 2);
    assert_true(e->fetch_response->records[0]->offset == 2);
    sg_wire_free(e);
    e = await(t, fetch_committing(t, GROUP, topic, p, 1), 2 * SG_SEC,
              SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_FETCH_RESPONSE);
    assert_true(e->fetch_response->committed_offset == 2); /* not back to 1 */
    sg_wire_free(e);
    st_free(t);
}

static void broker__fetch__returns_from_committed_offset__after_commit(void **state)
{
    (void)state;
    struct simtest *t = start(5);
    const char *topic = topic_wd();
    const char *key = "commit-key";
    uint32_t p = sg_partition_of(key, NPART);
    const struct rec recs[] = {{topic, key, "r0"}, {topic, key, "r1"}, {topic, key, "r2"},
                               {topic, key, "r3"}, {topic, key, "r4"}};
    expect_ack(t, produce(t, recs, 5), 5);
    expect_commit_ack(t, commit(t, GROUP, topic, p, 2), 2);
    SgEnvelope *e = fetch_now(t, GROUP, topic, p, 64);
    const Sagasim__Node__V1__FetchResponse *fr = e->fetch_response;
    assert_true(fr->committed_offset == 2);
    assert_true(fr->log_end == 5);
    assert_int_equal(fr->n_records, 3);
    for (size_t i = 0; i < 3; i++) assert_true(fr->records[i]->offset == 2 + i);
    assert_true(value_is(fr->records[0], "r2"));
    sg_wire_free(e);
    /* max_records bounds the answer */
    e = fetch_now(t, GROUP, topic, p, 2);
    assert_int_equal(e->fetch_response->n_records, 2);
    assert_true(e->fetch_response->records[1]->offset == 3);
    sg_wire_free(e);
    /* the offset is stored for (group, topic, partition), by the next flush (broker.h) */
    st_run_for(t, t->cfg.relay_poll_ns + SG_MS);
    sqlite3 *db = st_node_db(t, SG_ROLE_BROKER);
    assert_non_null(db);
    assert_int_equal(st_int(db, "SELECT offset FROM group_offsets WHERE grp = 'test-group'"
                                " AND topic = 'cbsaga.evt.withdrawal'"), 2);
    /* a later commit replaces it */
    expect_commit_ack(t, commit(t, GROUP, topic, p, 4), 4);
    e = fetch_now(t, GROUP, topic, p, 64);
    assert_int_equal(e->fetch_response->n_records, 1);
    assert_true(value_is(e->fetch_response->records[0], "r4"));
    sg_wire_free(e);
    st_free(t);
}

static void broker__offsets_and_log__survive_restart(void **state)
{
    (void)state;
    struct simtest *t = start(6);
    const char *topic = topic_wd();
    const char *key = "restart-key";
    uint32_t p = sg_partition_of(key, NPART);
    const struct rec recs[] = {{topic, key, "x0"}, {topic, key, "x1"}, {topic, key, "x2"}};
    expect_ack(t, produce(t, recs, 3), 3);
    expect_commit_ack(t, commit(t, GROUP, topic, p, 1), 1);

    sg_world_stop(t->w, SG_ROLE_BROKER);
    assert_null(st_node_db(t, SG_ROLE_BROKER));
    assert_int_equal(sg_world_start(t->w, SG_ROLE_BROKER), SG_OK);

    SgEnvelope *e = fetch_now(t, GROUP, topic, p, 64);
    assert_true(e->fetch_response->committed_offset == 1);
    assert_true(e->fetch_response->log_end == 3);
    assert_int_equal(e->fetch_response->n_records, 2);
    assert_true(e->fetch_response->records[0]->offset == 1);
    assert_true(value_is(e->fetch_response->records[0], "x1"));
    sg_wire_free(e);
    /* the log continues where it ended: offsets do not restart at 0 */
    const struct rec more[] = {{topic, key, "x3"}};
    expect_ack(t, produce(t, more, 1), 1);
    e = fetch_now(t, GROUP, topic, p, 64);
    assert_int_equal(e->fetch_response->n_records, 3);
    assert_true(e->fetch_response->records[2]->offset == 3);
    assert_true(value_is(e->fetch_response->records[2], "x3"));
    assert_true(e->fetch_response->log_end == 4);
    sg_wire_free(e);
    sqlite3 *db = st_node_db(t, SG_ROLE_BROKER);
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM records WHERE key = 'restart-key'"), 4);
    st_free(t);
}

static void broker__empty_fetch__is_answered_after_long_poll_not_before(void **state)
{
    (void)state;
    struct simtest *t = start(7);
    const char *topic = topic_wd();
    assert_true(t->cfg.fetch_poll_ns == 500 * SG_MS);
    int64_t sent = t->w->now_ns;
    uint64_t id = fetch(t, GROUP, topic, 1, 64);
    st_run_for(t, t->cfg.fetch_poll_ns); /* 1 ms there, then 499 ms parked */
    assert_null(st_reply_to(t, id));
    SgEnvelope *e = await(t, id, 20 * SG_MS, SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_FETCH_RESPONSE);
    const struct st_reply *r = st_reply_to(t, id);
    assert_true(r->at_ns >= sent + t->cfg.fetch_poll_ns);
    assert_true(r->at_ns <= sent + t->cfg.fetch_poll_ns + 10 * SG_MS);
    assert_int_equal(e->fetch_response->n_records, 0);
    assert_int_equal(e->fetch_response->partition, 1);
    assert_true(e->fetch_response->log_end == 0);
    assert_string_equal(e->fetch_response->group, GROUP);
    sg_wire_free(e);
    st_free(t);
}

static void broker__parked_fetch__is_woken_early__by_produce_to_its_partition(void **state)
{
    (void)state;
    struct simtest *t = start(8);
    const char *topic = topic_wd();
    char mine[32], other[32];
    key_in(2, false, mine);
    key_in(2, true, other);
    int64_t sent = t->w->now_ns;
    uint64_t id = fetch(t, GROUP, topic, 2, 64);
    st_run_for(t, 50 * SG_MS);
    assert_null(st_reply_to(t, id));
    /* a produce to another partition does not answer it */
    const struct rec o[] = {{topic, other, "elsewhere"}};
    expect_ack(t, produce(t, o, 1), 1);
    st_run_for(t, 50 * SG_MS);
    assert_null(st_reply_to(t, id));
    /* a produce to its partition does, at once */
    int64_t produced = t->w->now_ns;
    const struct rec m[] = {{topic, mine, "wake"}};
    uint64_t pid = produce(t, m, 1);
    SgEnvelope *e = await(t, id, 20 * SG_MS, SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_FETCH_RESPONSE);
    const struct st_reply *r = st_reply_to(t, id);
    assert_true(r->at_ns <= produced + 5 * SG_MS);
    assert_true(r->at_ns < sent + t->cfg.fetch_poll_ns);
    assert_int_equal(e->fetch_response->partition, 2);
    assert_int_equal(e->fetch_response->n_records, 1);
    assert_string_equal(e->fetch_response->records[0]->key, mine);
    assert_true(value_is(e->fetch_response->records[0], "wake"));
    assert_true(e->fetch_response->records[0]->offset == 0);
    sg_wire_free(e);
    expect_ack(t, pid, 1);
    /* answered once: the poll timer that fires later sends nothing more */
    size_t replies = t->reply_count;
    st_run_for(t, t->cfg.fetch_poll_ns + 10 * SG_MS);
    for (size_t i = replies; i < t->reply_count; i++)
        assert_true(t->replies[i].correlation_id != id);
    st_free(t);
}

static void broker__produce_to_unknown_topic__is_refused_and_appends_nothing(void **state)
{
    (void)state;
    struct simtest *t = start(9);
    const char *topic = topic_wd();
    const struct rec bad[] = {{topic, "k1", "ok-looking"}, {"cbsaga.evt.nope", "k1", "bad"}};
    uint64_t id = produce(t, bad, 2);
    SgEnvelope *e = await(t, id, 50 * SG_MS, SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_PRODUCE_ACK);
    assert_int_not_equal(e->produce_ack->code, 0);
    assert_int_equal(e->produce_ack->count, 0);
    sg_wire_free(e);
    const struct rec only_bad[] = {{"nope", "k2", "bad"}};
    e = await(t, produce(t, only_bad, 1), 50 * SG_MS,
              SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_PRODUCE_ACK);
    assert_int_not_equal(e->produce_ack->code, 0);
    assert_int_equal(e->produce_ack->count, 0);
    sg_wire_free(e);
    sqlite3 *db = st_node_db(t, SG_ROLE_BROKER);
    assert_non_null(db);
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM records"), 0);
    /* no offset was used up: the next good record of k1 is offset 0 */
    const struct rec good[] = {{topic, "k1", "good"}};
    expect_ack(t, produce(t, good, 1), 1);
    e = fetch_now(t, GROUP, topic, sg_partition_of("k1", NPART), 64);
    assert_int_equal(e->fetch_response->n_records, 1);
    assert_true(e->fetch_response->records[0]->offset == 0);
    assert_true(value_is(e->fetch_response->records[0], "good"));
    sg_wire_free(e);
    st_free(t);
}

static void broker__acknowledged_records__survive_a_crash(void **state)
{
    (void)state;
    struct simtest *t = start(10);
    const char *topic = topic_wd();
    const char *key = "crash-key";
    uint32_t p = sg_partition_of(key, NPART);
    const struct rec recs[] = {{topic, key, "d0"}, {topic, key, "d1"}};
    expect_ack(t, produce(t, recs, 2), 2);
    expect_commit_ack(t, commit(t, GROUP, topic, p, 1), 1);
    st_run_for(t, t->cfg.relay_poll_ns + SG_MS); /* the flush: offset 1 is durable */
    expect_commit_ack(t, commit(t, GROUP, topic, p, 2), 2);
    /* power loss right after the acks: whatever was not synced is gone */
    sg_world_crash(t->w, SG_ROLE_BROKER, true);
    assert_null(st_node_db(t, SG_ROLE_BROKER));
    st_run_for(t, 2 * SG_SEC); /* restart_delay is 1 s */
    assert_non_null(st_node_db(t, SG_ROLE_BROKER));
    SgEnvelope *e = fetch_now(t, "after-crash", topic, p, 64);
    assert_int_equal(e->fetch_response->n_records, 2);
    assert_true(value_is(e->fetch_response->records[0], "d0"));
    assert_true(value_is(e->fetch_response->records[1], "d1"));
    assert_true(e->fetch_response->log_end == 2);
    sg_wire_free(e);
    /* the flushed commit survived; the one acknowledged since was lost with the power
     * (group offsets persist lazily: the consumer commits again, consumer.h) */
    e = fetch_now(t, GROUP, topic, p, 64);
    assert_true(e->fetch_response->committed_offset == 1);
    sg_wire_free(e);
    /* and the log continues after the crash */
    const struct rec more[] = {{topic, key, "d2"}};
    expect_ack(t, produce(t, more, 1), 1);
    e = fetch_now(t, "after-crash", topic, p, 64);
    assert_int_equal(e->fetch_response->n_records, 3);
    assert_true(e->fetch_response->records[2]->offset == 2);
    sg_wire_free(e);
    st_free(t);
}

/* The records of a fetch response as text: "offset:key:value;" each, then the log end. */
static char *records_text(const SgEnvelope *e)
{
    const Sagasim__Node__V1__FetchResponse *fr = e->fetch_response;
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);
    assert_non_null(m);
    for (size_t i = 0; i < fr->n_records; i++)
        fprintf(m, "%llu:%s:%.*s;", (unsigned long long)fr->records[i]->offset,
                fr->records[i]->key, (int)fr->records[i]->value.len,
                (const char *)fr->records[i]->value.data);
    fprintf(m, " end=%llu", (unsigned long long)fr->log_end);
    fclose(m);
    return out;
}

/* The newest SG_TAIL_MAX records of a partition are answered from memory (broker_tail.h),
 * older ones from broker.db: both give the same records, and after a restart (the tail is
 * gone, everything comes from disk) the same again. 100 records wrap the 64-record tail;
 * the fetches start before it (0, 30), at its edge (35, 36) and inside it (90, 99). */
static void broker__fetches_from_the_memory_tail__equal_fetches_from_disk(void **state)
{
    (void)state;
    struct simtest *t = start(12);
    const char *topic = topic_wd();
    const char *key = "tail-key";
    uint32_t p = sg_partition_of(key, NPART);
    char values[100][8];
    for (int b = 0; b < 10; b++) {
        struct rec recs[10];
        for (int i = 0; i < 10; i++) {
            snprintf(values[b * 10 + i], sizeof values[0], "v%d", b * 10 + i);
            recs[i] = (struct rec){topic, key, values[b * 10 + i]};
        }
        expect_ack(t, produce(t, recs, 10), 10);
    }
    static const uint64_t from[] = {0, 30, 35, 36, 90, 99};
    enum { N = sizeof from / sizeof *from };
    char *live[N];
    for (size_t i = 0; i < N; i++) {
        char group[32];
        snprintf(group, sizeof group, "g%zu", i);
        if (from[i]) expect_commit_ack(t, commit(t, group, topic, p, from[i]), from[i]);
        SgEnvelope *e = fetch_now(t, group, topic, p, 8);
        assert_int_equal(e->fetch_response->n_records, from[i] + 8 <= 100 ? 8 : 100 - from[i]);
        assert_true(e->fetch_response->records[0]->offset == from[i]);
        assert_true(value_is(e->fetch_response->records[0], values[from[i]]));
        live[i] = records_text(e);
        sg_wire_free(e);
    }
    sg_world_stop(t->w, SG_ROLE_BROKER); /* a clean stop: the group offsets are flushed */
    assert_int_equal(sg_world_start(t->w, SG_ROLE_BROKER), SG_OK);
    for (size_t i = 0; i < N; i++) {
        char group[32];
        snprintf(group, sizeof group, "g%zu", i);
        SgEnvelope *e = fetch_now(t, group, topic, p, 8);
        char *disk = records_text(e);
        assert_string_equal(disk, live[i]);
        free(disk);
        free(live[i]);
        sg_wire_free(e);
    }
    st_free(t);
}

/* A fetch of several partitions (FetchRequest.parts) parks while all are at their end, is
 * woken by a produce to any of them, lists every part's state in the request's order, and
 * gives at most max_records in all; the part that fills first takes turns, so a partition
 * behind a full one is still served by the next fetch. */
static void broker__fetch_of_several_partitions__answers_from_any_and_lists_every_state(
    void **state)
{
    (void)state;
    struct simtest *t = start(14);
    const char *topic = topic_wd();
    uint64_t id = fetch_all_parts(t, GROUP, topic, 4);
    st_run_for(t, 50 * SG_MS);
    assert_null(st_reply_to(t, id)); /* parked: every partition is empty */
    char k1[32];
    key_in(1, false, k1);
    const struct rec one[] = {{topic, k1, "p1-0"}};
    expect_ack(t, produce(t, one, 1), 1);
    SgEnvelope *e = await(t, id, 10 * SG_MS, SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_FETCH_RESPONSE);
    const Sagasim__Node__V1__FetchResponse *fr = e->fetch_response;
    assert_int_equal(fr->n_parts, NPART);
    for (uint32_t p = 0; p < NPART; p++) {
        assert_string_equal(fr->parts[p]->topic, topic);
        assert_int_equal(fr->parts[p]->partition, p);
        assert_true(fr->parts[p]->log_end == (p == 1 ? 1 : 0));
        assert_true(fr->parts[p]->committed_offset == 0);
    }
    assert_int_equal(fr->n_records, 1);
    assert_int_equal(fr->records[0]->partition, 1);
    assert_true(value_is(fr->records[0], "p1-0"));
    sg_wire_free(e);
    /* twelve records in partition 0 and one in partition 2; four at most per answer, every
     * fetch from offset 0: a fixed order would give partition 0's first four every time */
    char k0[32], k2[32];
    key_in(0, false, k0);
    key_in(2, false, k2);
    struct rec more[13];
    for (int i = 0; i < 12; i++) more[i] = (struct rec){topic, k0, "p0"};
    more[12] = (struct rec){topic, k2, "p2-0"};
    expect_ack(t, produce(t, more, 13), 13);
    bool served[3] = {false, false, false};
    for (int round = 0; round < 3; round++) {
        e = await(t, fetch_all_parts(t, GROUP, topic, 4), 10 * SG_MS,
                  SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_FETCH_RESPONSE);
        assert_true(e->fetch_response->n_records <= 4);
        for (size_t i = 0; i < e->fetch_response->n_records; i++)
            served[e->fetch_response->records[i]->partition] = true;
        sg_wire_free(e);
    }
    assert_true(served[0] && served[1] && served[2]);
    st_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(broker__produce_then_fetch__gives_consecutive_offsets_from_zero),
        cmocka_unit_test(broker__records_of_one_key__keep_produce_order__across_requests),
        cmocka_unit_test(broker__partition__is_xxh3_of_key_mod_partitions),
        cmocka_unit_test(broker__fetch__starts_at_earliest__for_a_new_group),
        cmocka_unit_test(broker__fetch__returns_from_committed_offset__after_commit),
        cmocka_unit_test(broker__offsets_and_log__survive_restart),
        cmocka_unit_test(broker__empty_fetch__is_answered_after_long_poll_not_before),
        cmocka_unit_test(broker__parked_fetch__is_woken_early__by_produce_to_its_partition),
        cmocka_unit_test(broker__produce_to_unknown_topic__is_refused_and_appends_nothing),
        cmocka_unit_test(broker__acknowledged_records__survive_a_crash),
        cmocka_unit_test(broker__fetches_from_the_memory_tail__equal_fetches_from_disk),
        cmocka_unit_test(broker__fetch_carrying_a_commit__stores_it_and_never_moves_back),
        cmocka_unit_test(
            broker__fetch_of_several_partitions__answers_from_any_and_lists_every_state),
    };
    return cmocka_run_group_tests_name("broker", tests, NULL, NULL);
}
