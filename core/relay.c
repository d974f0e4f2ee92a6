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

enum sg_err sg_relay_start(struct sg_relay *r)
{
    r->env->timer_at(r->env->ctx, r->env->now_mono_ns(r->env->ctx) + r->cfg->relay_poll_ns,
                     sg_tag(SG_TIMER_RELAY_POLL, 0));
    return sg_relay_kick(r);
}

struct batch {
    SgRecord recs[256];
    SgRecord *ptrs[256];
    char topics[256][40];
    size_t n;
    int64_t last_seq;
};

static void batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->recs[i].key);
        free(b->recs[i].value.data);
    }
}

static char *dup_bytes(const void *p, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        if (n) memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

static enum sg_err batch_read(struct sg_relay *r, struct batch *b)
{
    uint32_t max = r->cfg->batch_max < 256 ? r->cfg->batch_max : 256;
    sqlite3_stmt *st = sg_db_stmtf(r->env, r->db,
        "SELECT seq, route_key, aggregate_id, payload FROM outbox"
        " WHERE seq > (SELECT last_seq FROM relay_position WHERE id = 1)"
        " ORDER BY seq LIMIT ?", "i", (int64_t)max);
    if (!st) return SG_ERR_IO;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && b->n < max) {
        SgRecord *rec = &b->recs[b->n];
        sagasim__node__v1__record__init(rec);
        b->last_seq = sqlite3_column_int64(st, 0);
        char route[32];
        sg_db_col_text(st, 1, route, sizeof route);
        memcpy(b->topics[b->n], "cbsaga.", 7);
        memcpy(b->topics[b->n] + 7, route, strlen(route) + 1);
        rec->topic = b->topics[b->n];
        rec->key = dup_bytes(sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2));
        size_t len = (size_t)sqlite3_column_bytes(st, 3);
        rec->value.data = (uint8_t *)dup_bytes(sqlite3_column_blob(st, 3), len);
        rec->value.len = len;
        b->ptrs[b->n++] = rec;
        SG_ASSERT(r->env, rec->key && rec->value.data);
    }
    sg_db_done(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        sg_db_trace_err(r->env, r->db->h, rc, "relay read");
        batch_free(b);
        b->n = 0;
        return SG_ERR_IO;
    }
    return SG_OK;
}

enum sg_err sg_relay_kick(struct sg_relay *r)
{
    if (r->in_flight) return SG_OK;
    struct batch *b = calloc(1, sizeof *b);
    SG_ASSERT(r->env, b != NULL);
    enum sg_err err = batch_read(r, b);
    if (err == SG_OK && b->n > 0) {
        Sagasim__Node__V1__ProduceRequest pr = SAGASIM__NODE__V1__PRODUCE_REQUEST__INIT;
        pr.n_records = b->n;
        pr.records = b->ptrs;
        SgEnvelope e = SAGASIM__NODE__V1__ENVELOPE__INIT;
        e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_PRODUCE;
        e.produce = &pr;
        sg_wire_send(r->env, r->msg_counter, SG_NODE_BROKER, &e, &r->msg_id);
        r->in_flight = true;
        r->batch_last_seq = b->last_seq;
        r->gen++;
        SG_TRACE(r->env, SG_TR_RELAY_PRODUCE, .i = {(int64_t)b->n, b->last_seq});
        if (sg_bug_on(r->cfg->bugs, SG_BUG_RELAY_PERSIST_EARLY)) /* PLANTED BUG */
            err = sg_db_runf(r->env, r->db, NULL,
                             "UPDATE relay_position SET last_seq = ? WHERE id = 1", "i",
                             b->last_seq);
        r->env->timer_at(r->env->ctx,
                         r->env->now_mono_ns(r->env->ctx) + r->cfg->request_timeout_ns,
                         sg_tag(SG_TIMER_RELAY_RETRY, r->gen));
    }
    batch_free(b);
    free(b);
    return err;
}

enum sg_err sg_relay_on_ack(struct sg_relay *r, const SgEnvelope *e)
{
    if (!r->in_flight || e->correlation_id != r->msg_id) return SG_OK; /* stale */
    if (e->produce_ack->code != 0) return SG_OK; /* rejected: the retry timer resends */
    if (sg_fault(r->env, "relay.after_ack")) return SG_ERR_CRASHED;
    enum sg_err err = sg_db_runf(r->env, r->db, NULL,
                                 "UPDATE relay_position SET last_seq = ? WHERE id = 1", "i",
                                 r->batch_last_seq);
    if (err != SG_OK) return err; /* autocommit failed: keep in flight; the retry resends */
    SG_TRACE(r->env, SG_TR_RELAY_PERSISTED, .i = {r->batch_last_seq});
    r->published += e->produce_ack->count;
    r->in_flight = false;
    return sg_relay_kick(r);
}

enum sg_err sg_relay_on_timer(struct sg_relay *r, uint64_t tag)
{
    switch (sg_tag_kind(tag)) {
    case SG_TIMER_RELAY_POLL:
        r->env->timer_at(r->env->ctx,
                         r->env->now_mono_ns(r->env->ctx) + r->cfg->relay_poll_ns, tag);
        return sg_relay_kick(r);
    case SG_TIMER_RELAY_RETRY:
        if (!r->in_flight || sg_tag_arg(tag) != (r->gen & 0x00ffffffffffffffULL)) return SG_OK;
        SG_TRACE(r->env, SG_TR_RELAY_RETRY);
        r->in_flight = false;
        return sg_relay_kick(r);
    default: SG_UNREACHABLE(r->env, "not a relay timer");
    }
}
