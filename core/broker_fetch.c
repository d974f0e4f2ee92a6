/*
 * broker_fetch.c: fetches (one partition or several), their long polls and the answers
 * (broker.h), read from a partition's tail in memory or from broker.db.
 */
#include "broker.h"
#include "broker_int.h"

#include <stdlib.h>
#include <string.h>

#include "assert.h"
#include "db.h"
#include "timer.h"
#include "trace_rec.h"
#include "banned.h"

/* Reads up to max records from `from` on from broker.db into out[] (each key and value
 * allocated: answer_free). */
static size_t read_records_db(struct sg_broker *b, uint32_t t, uint32_t p, uint64_t from,
                              uint32_t max, SgRecord *out, enum sg_err *err)
{
    sqlite3_stmt *st = sg_db_stmtf(b->env, b->db,
        "SELECT offset, key, value FROM records WHERE topic = ? AND partition = ?"
        " AND offset >= ? ORDER BY offset LIMIT ?", "tiii", sg_topics[t], (int64_t)p,
        (int64_t)from, (int64_t)max);
    if (!st) {
        *err = SG_ERR_IO;
        return 0;
    }
    size_t n = 0;
    int rc;
    while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        SgRecord *r = &out[n++];
        sagasim__node__v1__record__init(r);
        r->offset = (uint64_t)sqlite3_column_int64(st, 0);
        size_t klen = (size_t)sqlite3_column_bytes(st, 1);
        r->key = malloc(klen + 1);
        size_t vlen = (size_t)sqlite3_column_bytes(st, 2);
        r->value.data = malloc(vlen ? vlen : 1);
        SG_ASSERT(b->env, r->key && r->value.data);
        memcpy(r->key, sqlite3_column_text(st, 1), klen + 1);
        if (vlen) memcpy(r->value.data, sqlite3_column_blob(st, 2), vlen);
        r->value.len = vlen;
    }
    sg_db_done(st);
    return n;
}

/* Every part fetches from a known position at or past its log end: nothing to answer yet,
 * and the disk need not be touched to know it. */
static bool all_at_end(const struct sg_broker *b, const struct sg_parked_fetch *f)
{
    for (uint32_t k = 0; k < f->n_parts; k++) {
        const struct sg_fetch_part *fp = &f->part[k];
        if (fp->from_committed || fp->offset < b->next_offset[fp->topic][fp->partition])
            return false;
    }
    return true;
}

/* Reads up to max records of part fp from `from` into out[] (the tail's memory, or
 * allocated: *owned). */
static size_t read_part(struct sg_broker *b, const struct sg_fetch_part *fp, uint64_t from,
                        uint32_t max, SgRecord *out, bool *owned, enum sg_err *err)
{
    uint32_t t = fp->topic, p = fp->partition;
    size_t n = 0;
    *owned = false;
    if (from >= b->next_offset[t][p] || max == 0) return 0;
    const struct sg_tail *tail = b->tail[t][p];
    *owned = !tail || !sg_tail_get(b->env, tail, from, max, out, &n);
    if (*owned) n = read_records_db(b, t, p, from, max, out, err);
    for (size_t i = 0; i < n; i++) {
        out[i].topic = (char *)sg_topics[t];
        out[i].partition = p;
    }
    return n;
}

/* An answer being built: its records (the tail's memory, or allocated where owned[i]) and
 * every part's state. */
struct fetch_answer {
    SgRecord *store;
    SgRecord **recs;
    bool *owned;
    Sagasim__Node__V1__FetchPartState *state;
    Sagasim__Node__V1__FetchPartState **states;
    size_t n;
};

static void answer_free(struct fetch_answer *a)
{
    for (size_t i = 0; i < a->n; i++) {
        if (!a->owned[i]) continue;
        free(a->store[i].key);
        free(a->store[i].value.data);
    }
    free(a->store);
    free(a->recs);
    free(a->owned);
    free(a->state);
    free(a->states);
}

/* Fills *a with every part's state and the records of every part (at most max_records in
 * all, the first part to fill taking turns); SG_ERR_IO when a read failed. */
static enum sg_err answer_fill(struct sg_broker *b, const struct sg_parked_fetch *f,
                               struct fetch_answer *a)
{
    uint32_t max = f->max_records ? f->max_records : 1;
    a->state = calloc(f->n_parts, sizeof *a->state);
    a->states = calloc(f->n_parts, sizeof *a->states);
    SG_ASSERT(b->env, a->state && a->states);
    uint32_t first = b->fetch_turn++ % f->n_parts;
    for (uint32_t k = 0; k < f->n_parts; k++) {
        uint32_t j = (first + k) % f->n_parts;
        const struct sg_fetch_part *fp = &f->part[j];
        uint64_t committed = 0;
        enum sg_err err =
            sg_broker_committed_offset(b, f->group, fp->topic, fp->partition, &committed);
        if (err != SG_OK) return err;
        Sagasim__Node__V1__FetchPartState *st = &a->state[j];
        sagasim__node__v1__fetch_part_state__init(st);
        st->topic = (char *)sg_topics[fp->topic];
        st->partition = fp->partition;
        st->committed_offset = committed;
        st->log_end = b->next_offset[fp->topic][fp->partition];
        a->states[j] = st;
        uint64_t from = fp->from_committed ? committed : fp->offset;
        if (from < st->log_end && !a->store) { /* records to send: room for them (only then) */
            a->store = calloc(max, sizeof *a->store);
            a->recs = calloc(max, sizeof *a->recs);
            a->owned = calloc(max, sizeof *a->owned);
            SG_ASSERT(b->env, a->store && a->recs && a->owned);
        }
        bool owned = false;
        size_t got = a->store ? read_part(b, fp, from, (uint32_t)(max - a->n), &a->store[a->n],
                                          &owned, &err)
                              : 0;
        for (size_t i = a->n; i < a->n + got; i++) a->owned[i] = owned;
        a->n += got;
        if (err != SG_OK) return err;
    }
    SG_ASSERT(b->env, a->n <= max);
    for (size_t i = 0; i < a->n; i++) a->recs[i] = &a->store[i];
    return SG_OK;
}

/* Answers the fetch with up to max records from its offset (or the group's committed
 * offset); returns the count sent, or -1 when there was none and answer_empty is false
 * (the caller parks it). */
static int answer_fetch(struct sg_broker *b, const struct sg_parked_fetch *f, bool answer_empty,
                        enum sg_err *err)
{
    SG_ASSERT(b->env, f->n_parts >= 1 && f->n_parts <= SG_FETCH_PARTS_MAX);
    *err = SG_OK;
    if (!answer_empty && all_at_end(b, f)) return -1; /* a long poll at the end parks */
    struct fetch_answer a = {0};
    *err = answer_fill(b, f, &a);
    bool send = *err == SG_OK && (a.n > 0 || answer_empty);
    if (send) {
        Sagasim__Node__V1__FetchResponse fr = SAGASIM__NODE__V1__FETCH_RESPONSE__INIT;
        fr.group = (char *)f->group;
        fr.n_records = a.n;
        fr.records = a.recs;
        if (f->single) { /* the single-partition fields, as asked */
            fr.topic = a.state[0].topic;
            fr.partition = a.state[0].partition;
            fr.committed_offset = a.state[0].committed_offset;
            fr.log_end = a.state[0].log_end;
        } else {
            fr.n_parts = f->n_parts;
            fr.parts = a.states;
        }
        SgEnvelope e = SAGASIM__NODE__V1__ENVELOPE__INIT;
        e.correlation_id = f->correlation_id;
        e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_FETCH_RESPONSE;
        e.fetch_response = &fr;
        sg_wire_send(b->env, &b->msg_counter, f->from, &e, NULL);
    }
    int sent = send ? (int)a.n : -1;
    answer_free(&a);
    return sent;
}

/* A part from a request's topic name and partition; false when either is not the broker's. */
static bool part_parse(const struct sg_broker *b, const char *topic, uint32_t partition,
                       uint64_t offset, bool from_committed, bool commit,
                       struct sg_fetch_part *out)
{
    int t = sg_topic_index(topic);
    if (t < 0 || partition >= b->cfg->partitions) return false;
    *out = (struct sg_fetch_part){(uint32_t)t, partition, offset, from_committed, commit};
    return true;
}

/* The request as the broker keeps it; false when it names an unknown topic or partition,
 * too many parts or too long a group. */
static bool fetch_parse(const struct sg_broker *b, const SgEnvelope *e,
                        struct sg_parked_fetch *f)
{
    const Sagasim__Node__V1__FetchRequest *req = e->fetch;
    memset(f, 0, sizeof *f);
    f->active = true;
    f->from = e->from;
    f->correlation_id = e->msg_id;
    /* max_records is a client's word: bounded by batch_max (a fuzzer found 2^32 - 1). */
    f->max_records = req->max_records == 0 || req->max_records > b->cfg->batch_max
                         ? b->cfg->batch_max : req->max_records;
    if (strlen(req->group) >= sizeof f->group || req->n_parts > SG_FETCH_PARTS_MAX) return false;
    strcpy(f->group, req->group);
    f->single = req->n_parts == 0;
    f->n_parts = f->single ? 1 : (uint32_t)req->n_parts;
    if (f->single)
        return part_parse(b, req->topic, req->partition, req->offset, req->from_committed,
                          req->commit, &f->part[0]);
    for (uint32_t k = 0; k < f->n_parts; k++) {
        const Sagasim__Node__V1__FetchPart *fp = req->parts[k];
        if (!part_parse(b, fp->topic, fp->partition, fp->offset, fp->from_committed,
                        fp->commit, &f->part[k]))
            return false;
    }
    return true;
}

enum sg_err sg_broker_on_fetch(struct sg_broker *b, const SgEnvelope *e)
{
    struct sg_parked_fetch f;
    if (!fetch_parse(b, e, &f)) {
        SG_TRACE(b->env, SG_TR_BROKER_REFUSES_FETCH, .i = {e->from}); /* the consumer times out */
        return SG_OK;
    }
    for (uint32_t k = 0; k < f.n_parts; k++) {
        const struct sg_fetch_part *fp = &f.part[k];
        if (fp->commit &&
            sg_broker_store_commit(b, f.group, fp->topic, fp->partition, fp->offset) != SG_OK)
            return SG_OK; /* no answer: the consumer re-sends the fetch and its commits */
    }
    enum sg_err err = SG_OK;
    if (answer_fetch(b, &f, false, &err) >= 0 || err != SG_OK) return err;
    for (size_t i = 0; i < SG_PARKED_MAX; i++) {
        struct sg_parked_fetch *pf = &b->parked[i];
        if (pf->active) continue;
        *pf = f;
        pf->gen = ++b->park_gen;
        b->env->timer_at(b->env->ctx, b->env->now_mono_ns(b->env->ctx) + b->cfg->fetch_poll_ns,
                         sg_tag(SG_TIMER_BROKER_POLL, (i << 40) | (pf->gen & 0xffffffffffULL)));
        return SG_OK;
    }
    /* Every park slot is taken: answer empty now (backpressure, never unbounded growth). */
    answer_fetch(b, &f, true, &err);
    return err;
}


static bool has_part(const struct sg_parked_fetch *f, uint32_t t, uint32_t p)
{
    for (uint32_t k = 0; k < f->n_parts; k++)
        if (f->part[k].topic == t && f->part[k].partition == p) return true;
    return false;
}

void sg_broker_wake_parked(struct sg_broker *b, uint32_t t, uint32_t p)
{
    for (size_t i = 0; i < SG_PARKED_MAX; i++) {
        struct sg_parked_fetch *f = &b->parked[i];
        if (!f->active || !has_part(f, t, p)) continue;
        enum sg_err err = SG_OK;
        if (answer_fetch(b, f, false, &err) >= 0 || err != SG_OK)
            f->active = false;
    }
}

enum sg_err sg_broker_on_poll(struct sg_broker *b, uint64_t arg)
{
    size_t i = (size_t)(arg >> 40);
    SG_ASSERT(b->env, i < SG_PARKED_MAX);
    struct sg_parked_fetch *f = &b->parked[i];
    if (!f->active || (f->gen & 0xffffffffffULL) != (arg & 0xffffffffffULL)) return SG_OK;
    f->active = false;
    enum sg_err err = SG_OK;
    answer_fetch(b, f, true, &err);
    return err;
}
