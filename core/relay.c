/*
 * relay.c: outbox -> broker, at least once, in commit order (see relay.h).
 */
#include "relay.h"

#include <stdlib.h>
#include <string.h>

#include "assert.h"
#include "bugs.h"
#include "db.h"
#include "timer.h"
#include "trace_rec.h"
#include "banned.h"

void sg_relay_init(struct sg_relay *r, const struct sg_env *env, const struct sg_config *cfg,
                   struct sg_db *db, uint64_t *msg_counter)
{
    memset(r, 0, sizeof *r);
    r->env = env;
    r->cfg = cfg;
    r->db = db;
    r->msg_counter = msg_counter;
}

static enum sg_err read_position(struct sg_relay *r)
{
    sqlite3_stmt *st = sg_db_prepare(r->env, r->db,
                                     "SELECT last_seq FROM relay_position WHERE id = 1");
    if (!st) return SG_ERR_IO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) r->persisted_seq = r->acked_seq = sqlite3_column_int64(st, 0);
    sg_db_done(st);
    if (rc == SQLITE_ROW) return SG_OK;
    sg_db_trace_err(r->env, r->db->h, rc, "relay position");
    return SG_ERR_IO;
}

static enum sg_err publish(struct sg_relay *r);

enum sg_err sg_relay_start(struct sg_relay *r)
{
    enum sg_err err = read_position(r);
    if (err != SG_OK) return err;
    r->env->timer_at(r->env->ctx, r->env->now_mono_ns(r->env->ctx) + r->cfg->relay_poll_ns,
                     sg_tag(SG_TIMER_RELAY_POLL, 0));
    return publish(r);
}

/* Writes the acknowledged position in its own transaction, when it moved. */
static enum sg_err persist(struct sg_relay *r)
{
    if (r->acked_seq == r->persisted_seq) return SG_OK;
    enum sg_err err = sg_db_runf(r->env, r->db, NULL,
                                 "UPDATE relay_position SET last_seq = ? WHERE id = 1", "i",
                                 r->acked_seq);
    if (err != SG_OK) return err; /* outcome unknown: written again next time */
    r->persisted_seq = r->acked_seq;
    SG_TRACE(r->env, SG_TR_RELAY_PERSISTED, .i = {r->acked_seq});
    return SG_OK;
}

void sg_relay_close(struct sg_relay *r)
{
    if (r->db && r->db->h) (void)persist(r);
    free(r->batch.bytes);
    r->batch.bytes = NULL;
    r->batch.bytes_cap = 0;
}

/* Room for need more bytes after used; the buffer only grows. */
static void bytes_reserve(struct sg_relay *r, size_t used, size_t need)
{
    struct sg_relay_batch *b = &r->batch;
    if (used + need <= b->bytes_cap) return;
    size_t cap = b->bytes_cap ? b->bytes_cap : 4096;
    while (cap < used + need) cap *= 2;
    uint8_t *p = realloc(b->bytes, cap);
    SG_ASSERT(r->env, p != NULL);
    b->bytes = p;
    b->bytes_cap = cap;
}

static size_t copy_column(struct sg_relay *r, sqlite3_stmt *st, int col, size_t used)
{
    const void *p = sqlite3_column_blob(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    bytes_reserve(r, used, n + 1);
    if (n) memcpy(r->batch.bytes + used, p, n);
    r->batch.bytes[used + n] = '\0';
    return n;
}

/* Reads up to batch_max rows past the acknowledged position into r->batch. */
static enum sg_err batch_read(struct sg_relay *r)
{
    struct sg_relay_batch *b = &r->batch;
    uint32_t max = r->cfg->batch_max < SG_RELAY_BATCH_MAX ? r->cfg->batch_max
                                                          : SG_RELAY_BATCH_MAX;
    sqlite3_stmt *st = sg_db_stmtf(r->env, r->db,
        "SELECT seq, route_key, aggregate_id, payload FROM outbox WHERE seq > ?"
        " ORDER BY seq LIMIT ?", "ii", r->acked_seq, (int64_t)max);
    if (!st) return SG_ERR_IO;
    size_t key_at[SG_RELAY_BATCH_MAX], value_at[SG_RELAY_BATCH_MAX], used = 0;
    b->n = 0;
    int rc;
    while (b->n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        SgRecord *rec = &b->recs[b->n];
        sagasim__node__v1__record__init(rec);
        b->last_seq = sqlite3_column_int64(st, 0);
        const unsigned char *route = sqlite3_column_text(st, 1);
        size_t route_len = route ? (size_t)sqlite3_column_bytes(st, 1) : 0;
        SG_ASSERT(r->env, route_len + 8 <= sizeof b->topics[0]);
        memcpy(b->topics[b->n], "cbsaga.", 7);
        if (route_len) memcpy(b->topics[b->n] + 7, route, route_len);
        b->topics[b->n][7 + route_len] = '\0';
        rec->topic = b->topics[b->n];
        key_at[b->n] = used;
        used += copy_column(r, st, 2, used) + 1;
        value_at[b->n] = used;
        rec->value.len = copy_column(r, st, 3, used);
        used += rec->value.len + 1;
        b->ptrs[b->n++] = rec;
    }
    sg_db_done(st);
    if (b->n == max) rc = SQLITE_DONE; /* stopped at a full batch, not at an error */
    if (rc != SQLITE_DONE) {
        sg_db_trace_err(r->env, r->db->h, rc, "relay read");
        b->n = 0;
        return SG_ERR_IO;
    }
    /* Pointers only now: the buffer may have moved while it grew. */
    for (size_t i = 0; i < b->n; i++) {
        b->recs[i].key = (char *)b->bytes + key_at[i];
        b->recs[i].value.data = b->bytes + value_at[i];
    }
    r->drained = b->n < max;
    r->drained_changes = sqlite3_total_changes64(r->db->h);
    return SG_OK;
}

/* Sends the batch just read and arms its retry timer. */
static void send_batch(struct sg_relay *r)
{
    Sagasim__Node__V1__ProduceRequest pr = SAGASIM__NODE__V1__PRODUCE_REQUEST__INIT;
    pr.n_records = r->batch.n;
    pr.records = r->batch.ptrs;
    SgEnvelope e = SAGASIM__NODE__V1__ENVELOPE__INIT;
    e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_PRODUCE;
    e.produce = &pr;
    sg_wire_send(r->env, r->msg_counter, SG_NODE_BROKER, &e, &r->msg_id);
    r->in_flight = true;
    r->gen++;
    r->env->timer_at(r->env->ctx,
                     r->env->now_mono_ns(r->env->ctx) + r->cfg->request_timeout_ns,
                     sg_tag(SG_TIMER_RELAY_RETRY, r->gen));
}

static enum sg_err publish(struct sg_relay *r)
{
    if (r->in_flight || r->drained) return SG_OK;
    enum sg_err err = batch_read(r);
    if (err != SG_OK || r->batch.n == 0) return err;
    send_batch(r);
    SG_TRACE(r->env, SG_TR_RELAY_PRODUCE, .i = {(int64_t)r->batch.n, r->batch.last_seq});
    if (sg_bug_on(r->cfg->bugs, SG_BUG_RELAY_PERSIST_EARLY)) { /* PLANTED BUG: the batch */
        r->acked_seq = r->batch.last_seq; /* counts as done before the broker's ack, so */
        err = persist(r);                 /* neither a retry nor a restart resends it */
    }
    return err;
}

enum sg_err sg_relay_kick(struct sg_relay *r)
{
    r->drained = false;
    return publish(r);
}

enum sg_err sg_relay_on_ack(struct sg_relay *r, const SgEnvelope *e)
{
    if (!r->in_flight || e->correlation_id != r->msg_id) return SG_OK; /* stale */
    if (e->produce_ack->code != 0) return SG_OK; /* rejected: the retry timer resends */
    if (sg_fault(r->env, "relay.after_ack")) return SG_ERR_CRASHED;
    r->acked_seq = r->batch.last_seq;
    r->published += e->produce_ack->count;
    r->in_flight = false;
    return publish(r);
}

enum sg_err sg_relay_on_timer(struct sg_relay *r, uint64_t tag)
{
    switch (sg_tag_kind(tag)) {
    case SG_TIMER_RELAY_POLL: {
        r->env->timer_at(r->env->ctx,
                         r->env->now_mono_ns(r->env->ctx) + r->cfg->relay_poll_ns, tag);
        bool idle = r->drained && sqlite3_total_changes64(r->db->h) == r->drained_changes;
        enum sg_err err = persist(r);
        return err != SG_OK || idle ? err : sg_relay_kick(r);
    }
    case SG_TIMER_RELAY_RETRY:
        if (!r->in_flight || sg_tag_arg(tag) != (r->gen & 0x00ffffffffffffffULL)) return SG_OK;
        SG_TRACE(r->env, SG_TR_RELAY_RETRY);
        r->in_flight = false;
        return sg_relay_kick(r); /* re-read from the acknowledged position */
    default: SG_UNREACHABLE(r->env, "not a relay timer");
    }
}
