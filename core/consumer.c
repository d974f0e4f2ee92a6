/*
 * consumer.c: fetch -> apply + inbox (one transaction) -> commit offset (see consumer.h).
 */
#include "consumer.h"

#include <stdio.h>
#include <string.h>

#include "assert.h"
#include "bugs.h"
#include "db.h"
#include "timer.h"
#include "trace_rec.h"
#include "banned.h"

void sg_consumer_init(struct sg_consumer *c, const struct sg_env *env,
                      const struct sg_config *cfg, struct sg_db *db, uint64_t *msg_counter,
                      const char *group, const char *const *topics, sg_consume_fn fn,
                      void *fn_ctx)
{
    memset(c, 0, sizeof *c);
    c->env = env;
    c->cfg = cfg;
    c->db = db;
    c->msg_counter = msg_counter;
    c->group = group;
    c->fn = fn;
    c->fn_ctx = fn_ctx;
    for (size_t t = 0; topics[t]; t++) {
        for (uint32_t p = 0; p < cfg->partitions; p++) {
            SG_ASSERT(env, c->sub_count < SG_CONSUMER_SUBS_MAX);
            struct sg_consumer_sub *s = &c->subs[c->sub_count++];
            SG_ASSERT(env, strlen(topics[t]) < sizeof s->topic);
            strcpy(s->topic, topics[t]);
            s->partition = p;
        }
    }
}

_Static_assert((int)SG_CONSUMER_SUBS_MAX <= (int)SG_FETCH_PARTS_MAX,
               "one fetch carries every subscription of a consumer");

static void arm_timeout(struct sg_consumer *c)
{
    c->gen++;
    int64_t at = c->env->now_mono_ns(c->env->ctx) + c->cfg->fetch_poll_ns +
                 c->cfg->request_timeout_ns;
    c->env->timer_at(c->env->ctx, at, sg_tag(SG_TIMER_CONSUMER, c->gen & 0xffffffffu));
}

/* One fetch for every subscription, each from its position (or the committed offset) and
 * carrying the commit of a position not yet confirmed. */
static void send_fetch(struct sg_consumer *c)
{
    SG_ASSERT(c->env, c->sub_count >= 1 && c->sub_count <= SG_CONSUMER_SUBS_MAX);
    Sagasim__Node__V1__FetchPart part[SG_CONSUMER_SUBS_MAX];
    Sagasim__Node__V1__FetchPart *parts[SG_CONSUMER_SUBS_MAX];
    /* PLANTED BUG no-offset-commit: the group offset never moves. */
    bool commits = !sg_bug_on(c->cfg->bugs, SG_BUG_NO_OFFSET_COMMIT);
    for (uint32_t i = 0; i < c->sub_count; i++) {
        const struct sg_consumer_sub *s = &c->subs[i];
        sagasim__node__v1__fetch_part__init(&part[i]);
        part[i].topic = (char *)s->topic;
        part[i].partition = s->partition;
        part[i].offset = s->next_offset;
        part[i].from_committed = !s->positioned;
        part[i].commit = commits && s->positioned && s->commit_pending;
        parts[i] = &part[i];
    }
    Sagasim__Node__V1__FetchRequest f = SAGASIM__NODE__V1__FETCH_REQUEST__INIT;
    f.group = (char *)c->group;
    f.max_records = c->cfg->batch_max;
    f.n_parts = c->sub_count;
    f.parts = parts;
    SgEnvelope e = SAGASIM__NODE__V1__ENVELOPE__INIT;
    e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_FETCH;
    e.fetch = &f;
    sg_wire_send(c->env, c->msg_counter, SG_NODE_BROKER, &e, &c->msg_id);
    c->fetching = true;
    arm_timeout(c);
}

void sg_consumer_start(struct sg_consumer *c)
{
    send_fetch(c);
}

struct sg_consumer_sub *sg_consumer_sub_of(struct sg_consumer *c, const char *topic,
                                           uint32_t partition)
{
    for (uint32_t i = 0; i < c->sub_count; i++) {
        struct sg_consumer_sub *s = &c->subs[i];
        if (s->partition == partition && topic && strcmp(s->topic, topic) == 0) return s;
    }
    return NULL;
}

static bool inbox_has(struct sg_consumer *c, const char *key, enum sg_err *err)
{
    sqlite3_stmt *st = sg_db_stmtf(c->env, c->db, "SELECT 1 FROM inbox WHERE key = ?", "t", key);
    if (!st) {
        *err = SG_ERR_IO;
        return false;
    }
    int rc = sqlite3_step(st);
    sg_db_done(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) *err = SG_ERR_IO;
    return rc == SQLITE_ROW;
}

static enum sg_err inbox_put(struct sg_consumer *c, const char *key, const SgRecord *rec,
                             const SgEvent *ev, enum sg_inbox_result result)
{
    return sg_db_runf(c->env, c->db, NULL,
                      "INSERT OR REPLACE INTO inbox(key, event_id, event_type, topic, partition, offset,"
                      " result, trace_id, at_ns) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      "ttttiitti", key, ev ? ev->event_id : "", ev ? ev->event_type : "",
                      rec->topic, (int64_t)rec->partition, (int64_t)rec->offset,
                      sg_inbox_result_name(result), ev ? ev->trace_id : "",
                      c->env->now_wall_ns(c->env->ctx));
}

enum { INBOX_KEY_MAX = 96 };

/* An undecodable record, or one whose event id no node of this system would make: recorded
 * REJECTED under its position, once, and skipped. */
static enum sg_err reject_poison(struct sg_consumer *c, const SgRecord *rec)
{
    char key[INBOX_KEY_MAX];
    enum sg_err err = SG_OK;
    snprintf(key, sizeof key, "poison:%s:%u:%llu", rec->topic, rec->partition,
             (unsigned long long)rec->offset);
    if (!inbox_has(c, key, &err) && err == SG_OK) {
        err = inbox_put(c, key, rec, NULL, SG_INBOX_REJECTED);
        c->stats.rejected++;
        SG_TRACE(c->env, SG_TR_CONSUME_POISON, .s = {key});
    }
    return err;
}

/* One record inside the batch transaction. */
static enum sg_err apply_one(struct sg_consumer *c, const SgRecord *rec)
{
    SgEvent *ev = sg_event_decode(rec->value.data, rec->value.len);
    enum sg_err err = SG_OK;
    if (!ev || ev->event_id[0] == '\0' || strlen(ev->event_id) >= INBOX_KEY_MAX) {
        /* PLANTED BUG poison-stops-consumer: the batch fails, forever. */
        bool stop = sg_bug_on(c->cfg->bugs, SG_BUG_POISON_STOPS_CONSUMER);
        err = stop ? SG_ERR_CORRUPT : reject_poison(c, rec);
        sg_event_free(ev);
        return err;
    }
    const char *key = ev->event_id;
    /* PLANTED BUG no-inbox-dedup: redelivered records are applied again. */
    bool dedup = !sg_bug_on(c->cfg->bugs, SG_BUG_NO_INBOX_DEDUP) && !c->no_dedup;
    if (dedup && inbox_has(c, key, &err)) {
        c->stats.duplicates++;
        SG_TRACE(c->env, SG_TR_CONSUME_DUPLICATE, .s = {ev->event_type, key});
    } else if (err == SG_OK) {
        enum sg_inbox_result result = SG_INBOX_REJECTED;
        err = c->fn(c->fn_ctx, c->db, rec, ev, &result);
        if (err == SG_OK) err = inbox_put(c, key, rec, ev, result);
        if (result == SG_INBOX_APPLIED) c->stats.applied++;
        if (result == SG_INBOX_IGNORED) c->stats.ignored++;
        if (result == SG_INBOX_REJECTED) c->stats.rejected++;
        SG_TRACE(c->env, SG_TR_CONSUME,
                 .s = {ev->event_type, key, sg_inbox_result_name(result)});
    }
    sg_event_free(ev);
    return err;
}

/* Applies every record of ours (a record of a partition we do not hold is skipped) in ONE
 * transaction, then moves each partition's position past its last record. */
static enum sg_err apply_batch(struct sg_consumer *c, const Sagasim__Node__V1__FetchResponse *fr,
                               bool *applied_out)
{
    enum sg_err err = sg_db_begin(c->env, c->db);
    for (size_t k = 0; err == SG_OK && k < fr->n_records; k++)
        if (sg_consumer_sub_of(c, fr->records[k]->topic, fr->records[k]->partition))
            err = apply_one(c, fr->records[k]);
    if (err != SG_OK) {
        sg_db_rollback(c->db);
        return err;
    }
    if (sg_db_commit(c->env, c->db) != SG_OK) return SG_ERR_IO; /* outcome unknown */
    c->stats.batches++;
    *applied_out = true;
    if (sg_fault(c->env, "consumer.after_effect")) return SG_ERR_CRASHED;
    for (size_t k = 0; k < fr->n_records; k++) {
        const SgRecord *rec = fr->records[k];
        struct sg_consumer_sub *s = sg_consumer_sub_of(c, rec->topic, rec->partition);
        if (!s) continue;
        s->positioned = true;
        s->next_offset = rec->offset + 1;
        s->commit_pending = true;
    }
    send_fetch(c); /* it carries the commits */
    return SG_OK;
}

enum sg_err sg_consumer_on_message(struct sg_consumer *c, const SgEnvelope *e,
                                   bool *applied_out)
{
    *applied_out = false;
    SG_ASSERT(c->env, e->payload_case == SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_FETCH_RESPONSE);
    if (!c->fetching || e->correlation_id != c->msg_id) return SG_OK; /* stale or duplicated */
    const Sagasim__Node__V1__FetchResponse *fr = e->fetch_response;
    for (size_t k = 0; fr->code == 0 && k < fr->n_parts; k++) {
        const Sagasim__Node__V1__FetchPartState *ps = fr->parts[k];
        struct sg_consumer_sub *s = sg_consumer_sub_of(c, ps->topic, ps->partition);
        if (!s) continue;
        if (!s->positioned) { /* the committed offset is known now */
            s->positioned = true;
            s->next_offset = ps->committed_offset;
        }
        /* Confirmed, or not: a group offset behind the position (the broker lost a commit
         * in a power loss, broker.h) is committed again by the next fetch. */
        s->commit_pending = ps->committed_offset < s->next_offset;
    }
    if (fr->code != 0 || fr->n_records == 0) {
        send_fetch(c);
        return SG_OK;
    }
    enum sg_err err = apply_batch(c, fr, applied_out);
    if (err == SG_ERR_IO || err == SG_ERR_CORRUPT) c->fetching = false; /* the timeout re-fetches */
    return err == SG_ERR_IO ? SG_OK : err;
}

void sg_consumer_on_timer(struct sg_consumer *c, uint64_t tag)
{
    SG_ASSERT(c->env, sg_tag_kind(tag) == SG_TIMER_CONSUMER);
    if ((c->gen & 0xffffffffu) != sg_tag_arg(tag)) return; /* superseded */
    SG_TRACE(c->env, SG_TR_CONSUMER_TIMEOUT, .i = {c->sub_count}, .s = {c->group});
    send_fetch(c); /* with its commits, where one is pending */
}
