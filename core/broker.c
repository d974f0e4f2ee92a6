/*
 * broker.c: append-only partitioned logs and group offsets (broker.h); fetches and their long
 * polls are in broker_fetch.c.
 */
#include "broker.h"
#include "broker_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "assert.h"
#include "migrate.h"
#include "bugs.h"
#include "db.h"
#include "timer.h"
#include "trace_rec.h"
#include "banned.h"

const char *const sg_topics[SG_TOPIC_COUNT] = {
    "cbsaga.cmd.identity", "cbsaga.evt.identity", "cbsaga.cmd.risk", "cbsaga.evt.risk",
    "cbsaga.evt.withdrawal", "cbsaga.cmd.ledger", "cbsaga.evt.ledger", "cbsaga.cmd.payout",
    "cbsaga.evt.payout",
};

int sg_topic_index(const char *topic)
{
    for (int i = 0; i < SG_TOPIC_COUNT; i++)
        if (strcmp(sg_topics[i], topic) == 0) return i;
    return -1;
}

uint32_t sg_partition_of(const char *key, uint32_t partitions)
{
    SG_ASSERT_PURE(partitions > 0);
    return (uint32_t)(XXH3_64bits(key, strlen(key)) % partitions);
}

/* Each partition's log end: one index seek per partition (MAX over the primary key), not a
 * scan of the whole log (that was most of a broker restart). */
static enum sg_err load_log_ends(struct sg_broker *b)
{
    memset(b->next_offset, 0, sizeof b->next_offset);
    for (uint32_t t = 0; t < SG_TOPIC_COUNT; t++) {
        for (uint32_t p = 0; p < b->cfg->partitions; p++) {
            sqlite3_stmt *st = sg_db_stmtf(b->env, b->db,
                "SELECT MAX(offset) + 1 FROM records WHERE topic = ? AND partition = ?", "ti",
                sg_topics[t], (int64_t)p);
            if (!st) return SG_ERR_IO;
            int rc = sqlite3_step(st);
            if (rc == SQLITE_ROW) b->next_offset[t][p] = (uint64_t)sqlite3_column_int64(st, 0);
            sg_db_done(st);
            if (rc != SQLITE_ROW) return SG_ERR_IO;
        }
    }
    return SG_OK;
}

enum sg_err sg_broker_start(struct sg_broker *b, const struct sg_env *env,
                            const struct sg_config *cfg)
{
    memset(b, 0, sizeof *b);
    b->env = env;
    b->cfg = cfg;
    SG_ASSERT(env, cfg->partitions > 0 && cfg->partitions <= SG_PARTITIONS_MAX);
    b->msg_counter = env->random_u64(env->ctx) >> 16;
    enum sg_err err = sg_db_open(env, &sg_schema_broker, (enum sg_db_mode)cfg->db_mode, &b->db);
    if (err == SG_OK) err = load_log_ends(b);
    if (err != SG_OK) sg_db_close(&b->db);
    if (err == SG_OK)
        env->timer_at(env->ctx, env->now_mono_ns(env->ctx) + cfg->relay_poll_ns,
                      sg_tag(SG_TIMER_BROKER_FLUSH, 0));
    return err;
}

/* Writes every changed group offset in one transaction (broker.h). A failure leaves them
 * changed for the next flush. */
static enum sg_err flush_offsets(struct sg_broker *b)
{
    size_t dirty = 0;
    for (size_t i = 0; i < b->n_goff; i++) dirty += b->goff[i].dirty;
    if (dirty == 0) return SG_OK;
    enum sg_err err = sg_db_begin(b->env, b->db);
    for (size_t i = 0; err == SG_OK && i < b->n_goff; i++) {
        const struct sg_group_offset *g = &b->goff[i];
        if (!g->dirty) continue;
        err = sg_db_runf(b->env, b->db, NULL,
            "INSERT INTO group_offsets(grp, topic, partition, offset) VALUES(?, ?, ?, ?)"
            " ON CONFLICT(grp, topic, partition) DO UPDATE"
            " SET offset = MAX(offset, excluded.offset)",
            "ttii", g->group, sg_topics[g->topic], (int64_t)g->partition, (int64_t)g->offset);
    }
    if (err != SG_OK) {
        sg_db_rollback(b->db);
        return err;
    }
    err = sg_db_commit(b->env, b->db);
    if (err != SG_OK) return err; /* outcome unknown: the next flush writes them (MAX) */
    for (size_t i = 0; i < b->n_goff; i++) b->goff[i].dirty = false;
    return SG_OK;
}

void sg_broker_stop(struct sg_broker *b)
{
    for (uint32_t t = 0; t < SG_TOPIC_COUNT; t++)
        for (uint32_t p = 0; p < SG_PARTITIONS_MAX; p++) {
            if (!b->tail[t][p]) continue;
            sg_tail_clear(b->tail[t][p]);
            free(b->tail[t][p]);
            b->tail[t][p] = NULL;
        }
    if (b->db && b->db->h) (void)flush_offsets(b); /* a crashed disk refuses: harmless */
    sg_db_close(&b->db);
}

/* The in-memory entry of (group, topic, partition), or NULL. */
static struct sg_group_offset *goff_find(struct sg_broker *b, const char *group, uint32_t t,
                                         uint32_t p)
{
    for (size_t i = 0; i < b->n_goff; i++) {
        struct sg_group_offset *g = &b->goff[i];
        if (g->topic == t && g->partition == p && strcmp(g->group, group) == 0) return g;
    }
    return NULL;
}

static void send_ack(struct sg_broker *b, const SgEnvelope *req, uint32_t count, uint32_t code)
{
    Sagasim__Node__V1__ProduceAck ack = SAGASIM__NODE__V1__PRODUCE_ACK__INIT;
    ack.count = count;
    ack.code = code;
    SgEnvelope e = SAGASIM__NODE__V1__ENVELOPE__INIT;
    e.correlation_id = req->msg_id;
    e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_PRODUCE_ACK;
    e.produce_ack = &ack;
    sg_wire_send(b->env, &b->msg_counter, req->from, &e, NULL);
}

/* Keeps a committed produce's records in their partitions' tails (broker_tail.h); `saved`
 * holds the log ends before the produce (left as it is). */
static void tail_push(struct sg_broker *b, const Sagasim__Node__V1__ProduceRequest *pr,
                      uint64_t saved[SG_TOPIC_COUNT][SG_PARTITIONS_MAX])
{
    uint64_t next[SG_TOPIC_COUNT][SG_PARTITIONS_MAX];
    memcpy(next, saved, sizeof next);
    for (size_t i = 0; i < pr->n_records; i++) {
        const SgRecord *r = pr->records[i];
        uint32_t t = (uint32_t)sg_topic_index(r->topic);
        uint32_t p = sg_partition_of(r->key, b->cfg->partitions);
        if (!b->tail[t][p]) {
            b->tail[t][p] = calloc(1, sizeof *b->tail[t][p]);
            SG_ASSERT(b->env, b->tail[t][p] != NULL);
        }
        sg_tail_push(b->env, b->tail[t][p], next[t][p]++, r->key, r->value.data,
                     r->value.len);
    }
}

static enum sg_err on_produce(struct sg_broker *b, const SgEnvelope *e)
{
    const Sagasim__Node__V1__ProduceRequest *pr = e->produce;
    for (size_t i = 0; i < pr->n_records; i++) {
        if (sg_topic_index(pr->records[i]->topic) < 0) {
            send_ack(b, e, 0, 3); /* INVALID_ARGUMENT: unknown topic */
            return SG_OK;
        }
    }
    uint64_t saved[SG_TOPIC_COUNT][SG_PARTITIONS_MAX];
    memcpy(saved, b->next_offset, sizeof saved);
    enum sg_err err = sg_db_begin(b->env, b->db);
    for (size_t i = 0; err == SG_OK && i < pr->n_records; i++) {
        const SgRecord *r = pr->records[i];
        uint32_t t = (uint32_t)sg_topic_index(r->topic);
        uint32_t p = sg_partition_of(r->key, b->cfg->partitions);
        err = sg_db_runf(b->env, b->db, NULL,
                         "INSERT INTO records(topic, partition, offset, key, value, injected)"
                         " VALUES(?, ?, ?, ?, ?, ?)", "tiitbi", r->topic, (int64_t)p,
                         (int64_t)b->next_offset[t][p], r->key,
                         r->value.len ? (const void *)r->value.data : (const void *)"",
                         r->value.len, (int64_t)(e->from == SG_NODE_INJECTOR));
        b->next_offset[t][p]++;
    }
    if (err == SG_OK) err = sg_db_commit(b->env, b->db);
    else sg_db_rollback(b->db);
    if (err != SG_OK) {
        memcpy(b->next_offset, saved, sizeof saved); /* no ack: the producer retries */
        return SG_OK;
    }
    b->appended += pr->n_records;
    tail_push(b, pr, saved); /* reads it; the caller still needs it to wake fetches */
    SG_TRACE(b->env, SG_TR_BROKER_APPEND, .i = {(int64_t)pr->n_records, e->from});
    if (sg_fault(b->env, "broker.after_append")) return SG_ERR_CRASHED;
    send_ack(b, e, (uint32_t)pr->n_records, 0);
    for (uint32_t t = 0; t < SG_TOPIC_COUNT; t++)
        for (uint32_t p = 0; p < b->cfg->partitions; p++)
            if (b->next_offset[t][p] != saved[t][p]) sg_broker_wake_parked(b, t, p);
    return SG_OK;
}

/* The offset broker.db holds for (group, t, p); *found false when it has none. */
static enum sg_err durable_offset(struct sg_broker *b, const char *group, uint32_t t,
                                  uint32_t p, bool *found, uint64_t *out)
{
    sqlite3_stmt *st = sg_db_stmtf(b->env, b->db,
        "SELECT offset FROM group_offsets WHERE grp = ? AND topic = ? AND partition = ?",
        "tti", group, sg_topics[t], (int64_t)p);
    if (!st) return SG_ERR_IO;
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found) *out = (uint64_t)sqlite3_column_int64(st, 0);
    sg_db_done(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SG_OK : SG_ERR_IO;
}

enum sg_err sg_broker_committed_offset(struct sg_broker *b, const char *group, uint32_t t,
                                    uint32_t p, uint64_t *out)
{
    const struct sg_group_offset *g = goff_find(b, group, t, p);
    if (g) { /* newer than (or as new as) broker.db */
        *out = g->offset;
        return SG_OK;
    }
    *out = 0; /* a new group starts at the earliest offset */
    /* PLANTED BUG new-group-latest: a group without a committed offset starts at the end. */
    if (sg_bug_on(b->cfg->bugs, SG_BUG_NEW_GROUP_LATEST)) *out = b->next_offset[t][p];
    bool found = false;
    return durable_offset(b, group, t, p, &found, out);
}

/* Records a commit in the in-memory table (broker.h); false when the table is full or
 * broker.db could not be read for a new entry. */
static bool commit_in_memory(struct sg_broker *b, const char *group, uint32_t t, uint32_t p,
                             uint64_t offset)
{
    if (p >= b->cfg->partitions || strlen(group) >= SG_GROUP_LEN) return false;
    struct sg_group_offset *g = goff_find(b, group, t, p);
    if (!g) {
        uint64_t durable = 0;
        bool found = false;
        if (b->n_goff == SG_GROUP_OFFSETS_MAX ||
            durable_offset(b, group, t, p, &found, &durable) != SG_OK)
            return false;
        g = &b->goff[b->n_goff++];
        snprintf(g->group, sizeof g->group, "%s", group);
        g->topic = t;
        g->partition = p;
        g->offset = found ? durable : 0;
        g->dirty = false;
    }
    if (offset > g->offset) { /* never back: a delayed old commit changes nothing */
        g->offset = offset;
        g->dirty = true;
    }
    SG_ASSERT(b->env, b->n_goff <= SG_GROUP_OFFSETS_MAX);
    return true;
}

/* Stores a group's offset (a CommitRequest, or a fetch that carries its commit): in memory,
 * or written at once when the in-memory table cannot take it. */
enum sg_err sg_broker_store_commit(struct sg_broker *b, const char *group, uint32_t t, uint32_t p,
                                uint64_t offset)
{
    if (commit_in_memory(b, group, t, p, offset)) return SG_OK;
    return sg_db_runf(b->env, b->db, NULL,
        "INSERT INTO group_offsets(grp, topic, partition, offset) VALUES(?, ?, ?, ?)"
        " ON CONFLICT(grp, topic, partition) DO UPDATE"
        " SET offset = MAX(offset, excluded.offset)",
        "ttii", group, sg_topics[t], (int64_t)p, (int64_t)offset);
}


static enum sg_err on_commit(struct sg_broker *b, const SgEnvelope *e)
{
    const Sagasim__Node__V1__CommitRequest *c = e->commit;
    int t = sg_topic_index(c->topic);
    if (t < 0) return SG_OK;
    if (sg_broker_store_commit(b, c->group, (uint32_t)t, c->partition, c->offset) != SG_OK)
        return SG_OK; /* no ack: the consumer re-fetches */
    Sagasim__Node__V1__CommitAck ack = SAGASIM__NODE__V1__COMMIT_ACK__INIT;
    ack.group = c->group;
    ack.topic = c->topic;
    ack.partition = c->partition;
    ack.offset = c->offset;
    SgEnvelope out = SAGASIM__NODE__V1__ENVELOPE__INIT;
    out.correlation_id = e->msg_id;
    out.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_COMMIT_ACK;
    out.commit_ack = &ack;
    sg_wire_send(b->env, &b->msg_counter, e->from, &out, NULL);
    return SG_OK;
}

enum sg_err sg_broker_on_message(struct sg_broker *b, const SgEnvelope *e)
{
    switch (e->payload_case) {
    case SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_PRODUCE: return on_produce(b, e);
    case SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_FETCH: return sg_broker_on_fetch(b, e);
    case SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_COMMIT: return on_commit(b, e);
    default:
        SG_TRACE(b->env, SG_TR_BROKER_IGNORES, .i = {e->payload_case});
        return SG_OK;
    }
}

enum sg_err sg_broker_on_timer(struct sg_broker *b, uint64_t tag)
{
    if (sg_tag_kind(tag) == SG_TIMER_BROKER_FLUSH) {
        b->env->timer_at(b->env->ctx, b->env->now_mono_ns(b->env->ctx) + b->cfg->relay_poll_ns,
                         sg_tag(SG_TIMER_BROKER_FLUSH, 0));
        (void)flush_offsets(b); /* a failure is traced; the next tick writes them again */
        return SG_OK;
    }
    SG_ASSERT(b->env, sg_tag_kind(tag) == SG_TIMER_BROKER_POLL);
    return sg_broker_on_poll(b, sg_tag_arg(tag));
}
