/*
 * simtest.c: the scripted test system (see simtest.h).
 */
#include "simtest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assert.h"

static void on_client(void *ctx, uint32_t client, const uint8_t *bytes, size_t len,
                      uint64_t tag)
{
    (void)client;
    (void)tag;
    struct simtest *t = ctx;
    if (!bytes || t->reply_count == ST_REPLIES_MAX) return;
    SgEnvelope *e = sg_wire_decode(bytes, len);
    if (!e) return;
    struct st_reply *r = &t->replies[t->reply_count++];
    memset(r, 0, sizeof *r);
    r->correlation_id = e->correlation_id;
    r->at_ns = t->w->now_ns;
    r->from = e->from;
    r->payload_case = (int)e->payload_case;
    snprintf(r->trace_id, sizeof r->trace_id, "%s", e->trace_id);
    if (e->payload_case == SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_REPLY) {
        r->code = e->reply->code;
        snprintf(r->withdrawal_id, sizeof r->withdrawal_id, "%s", e->reply->withdrawal_id);
        if (e->reply->body_case == SAGASIM__NODE__V1__CLIENT_REPLY__BODY_CREATE)
            snprintf(r->status, sizeof r->status, "%s", e->reply->create->status);
        if (e->reply->body_case == SAGASIM__NODE__V1__CLIENT_REPLY__BODY_GET)
            snprintf(r->status, sizeof r->status, "%s", e->reply->get->status);
    }
    if (len <= sizeof r->bytes) {
        memcpy(r->bytes, bytes, len);
        r->len = len;
    }
    sg_wire_free(e);
}

struct simtest *st_new_cfg(uint64_t seed, const struct sg_config *cfg)
{
    struct simtest *t = calloc(1, sizeof *t);
    SG_ASSERT_PURE(t != NULL);
    t->w = calloc(1, sizeof *t->w);
    SG_ASSERT_PURE(t->w != NULL);
    if (cfg) t->cfg = *cfg;
    else sg_config_default(&t->cfg);
    t->cfg.work_delay_max_ns = 0; /* work steps at the reservation's instant: exact timing */
    struct sg_world_options opt;
    sg_world_options_default(&opt);
    opt.latency_min_ns = opt.latency_max_ns = SG_MS;
    SG_ASSERT_PURE(sg_world_init(t->w, seed, &t->cfg, &opt));
    sg_world_set_client(t->w, on_client, t);
    for (int r = 0; r < SG_ROLE_COUNT; r++)
        SG_ASSERT_PURE(sg_world_start(t->w, (enum sg_role)r) == SG_OK);
    return t;
}

struct simtest *st_new(uint64_t seed)
{
    return st_new_cfg(seed, NULL);
}

void st_free(struct simtest *t)
{
    if (!t) return;
    sg_world_deinit(t->w);
    free(t->w);
    free(t);
}

void st_config_approving(struct sg_config *cfg)
{
    sg_config_default(cfg);
    cfg->identity_reject_num = 0;
    cfg->risk_reject_num = 0;
    cfg->payout_fail_num = 0;
}

struct simtest *st_new_approving(uint64_t seed)
{
    struct sg_config cfg;
    st_config_approving(&cfg);
    return st_new_cfg(seed, &cfg);
}

uint64_t st_send(struct simtest *t, uint32_t to, SgEnvelope *e)
{
    e->msg_id = ++t->msg_counter;
    e->from = SG_NODE_CLIENT0;
    e->to = to;
    sg_world_client_send_envelope(t->w, e);
    return e->msg_id;
}

uint64_t st_create(struct simtest *t, const char *user_id, const char *asset, int64_t amount,
                   const char *dest, const char *key, const char *trace_id)
{
    Cbsaga__Orchestrator__V1__CreateWithdrawalRequest c =
        CBSAGA__ORCHESTRATOR__V1__CREATE_WITHDRAWAL_REQUEST__INIT;
    c.user_id = (char *)user_id;
    c.asset = (char *)asset;
    c.amount_minor = amount;
    c.destination_addr = (char *)dest;
    c.idempotency_key = (char *)key;
    SgEnvelope e = SAGASIM__NODE__V1__ENVELOPE__INIT;
    e.trace_id = (char *)(trace_id ? trace_id : "");
    e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_CREATE;
    e.create = &c;
    return st_send(t, SG_NODE_ORCH, &e);
}

uint64_t st_get(struct simtest *t, const char *withdrawal_id)
{
    Cbsaga__Orchestrator__V1__GetWithdrawalRequest g =
        CBSAGA__ORCHESTRATOR__V1__GET_WITHDRAWAL_REQUEST__INIT;
    g.withdrawal_id = (char *)withdrawal_id;
    SgEnvelope e = SAGASIM__NODE__V1__ENVELOPE__INIT;
    e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_GET;
    e.get = &g;
    return st_send(t, SG_NODE_ORCH, &e);
}

uint64_t st_produce(struct simtest *t, const char *topic, const char *key, const void *value,
                    size_t len)
{
    SgRecord rec = SAGASIM__NODE__V1__RECORD__INIT;
    rec.topic = (char *)topic;
    rec.key = (char *)key;
    rec.value.data = (uint8_t *)value;
    rec.value.len = len;
    SgRecord *recs[1] = {&rec};
    Sagasim__Node__V1__ProduceRequest pr = SAGASIM__NODE__V1__PRODUCE_REQUEST__INIT;
    pr.n_records = 1;
    pr.records = recs;
    SgEnvelope e = SAGASIM__NODE__V1__ENVELOPE__INIT;
    e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_PRODUCE;
    e.produce = &pr;
    return st_send(t, SG_NODE_BROKER, &e);
}

void st_run_for(struct simtest *t, int64_t ns)
{
    SG_ASSERT_PURE(sg_world_run_until(t->w, t->w->now_ns + ns));
}

const struct st_reply *st_reply_to(const struct simtest *t, uint64_t msg_id)
{
    for (size_t i = 0; i < t->reply_count; i++)
        if (t->replies[i].correlation_id == msg_id) return &t->replies[i];
    return NULL;
}

const struct st_reply *st_await_reply(struct simtest *t, uint64_t msg_id, int64_t limit)
{
    int64_t end = t->w->now_ns + limit;
    const struct st_reply *r = st_reply_to(t, msg_id);
    while (!r && t->w->now_ns < end) {
        st_run_for(t, SG_MS);
        r = st_reply_to(t, msg_id);
    }
    return r;
}

const struct st_reply *st_create_await(struct simtest *t, const char *user_id,
                                       const char *asset, int64_t amount, const char *dest,
                                       const char *key, const char *trace_id)
{
    uint64_t id = st_create(t, user_id, asset, amount, dest, key, trace_id);
    return st_await_reply(t, id, ST_REPLY_WAIT_NS);
}

sqlite3 *st_node_db(struct simtest *t, enum sg_role role)
{
    struct sg_node *n = sg_world_node(t->w, role);
    if (!n) return NULL;
    switch (role) {
    case SG_ROLE_BROKER: return n->u.broker.db->h;
    case SG_ROLE_ORCH: return n->u.orch.svc.db->h;
    default: return n->u.decider.svc.db->h;
    }
}

int64_t st_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return -2;
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

/* Formats into sql[ST_SQL_MAX]; false when the text does not fit (a cut SQL text could
 * still prepare and answer something else). */
static bool format_sql(char sql[ST_SQL_MAX], const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static bool format_sql(char sql[ST_SQL_MAX], const char *fmt, va_list ap)
{
    int n = vsnprintf(sql, ST_SQL_MAX, fmt, ap);
    return n >= 0 && n < ST_SQL_MAX;
}

int64_t st_qint(sqlite3 *db, const char *fmt, ...)
{
    char sql[ST_SQL_MAX];
    va_list ap;
    va_start(ap, fmt);
    bool fits = format_sql(sql, fmt, ap);
    va_end(ap);
    return fits ? st_int(db, sql) : -2;
}

bool st_qtext(sqlite3 *db, char *out, size_t cap, const char *fmt, ...)
{
    SG_ASSERT_PURE(cap > 0);
    out[0] = '\0';
    char sql[ST_SQL_MAX];
    va_list ap;
    va_start(ap, fmt);
    bool fits = format_sql(sql, fmt, ap);
    va_end(ap);
    if (!fits) return false;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return false;
    }
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return true;
}

static void watch_sink(void *ctx, int64_t at_ns, uint32_t node, const char *text)
{
    struct st_watch *w = ctx;
    if (node != w->node || !strstr(text, w->needle)) return;
    if (w->hits++ == 0) w->first_at_ns = at_ns;
}

void st_watch_start(struct simtest *t, struct st_watch *w, uint32_t node, const char *needle)
{
    memset(w, 0, sizeof *w);
    w->node = node;
    snprintf(w->needle, sizeof w->needle, "%s", needle);
    t->w->trace.sink = watch_sink;
    t->w->trace.sink_ctx = w;
}

const char *st_settle(struct simtest *t, const char *withdrawal_id, int64_t limit)
{
    char *status = t->settle_status;
    int64_t end = t->w->now_ns + limit;
    while (t->w->now_ns < end) {
        st_run_for(t, 10 * SG_MS);
        sqlite3 *db = st_node_db(t, SG_ROLE_ORCH);
        if (!db) continue;
        sqlite3_stmt *st = NULL;
        sqlite3_prepare_v2(db, "SELECT status FROM withdrawals WHERE withdrawal_id = ?", -1,
                           &st, NULL);
        sqlite3_bind_text(st, 1, withdrawal_id, -1, SQLITE_TRANSIENT);
        status[0] = '\0';
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(status, sizeof t->settle_status, "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        if (!strcmp(status, "COMPLETED") || !strcmp(status, "FAILED") ||
            !strcmp(status, "CANCELED"))
            return status;
    }
    return status;
}

char *st_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    char *buf = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
        if (fread(buf, 1, (size_t)n, f) == (size_t)n) {
            buf[n] = '\0';
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}
