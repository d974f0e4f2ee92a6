/*
 * simtest.c: the scripted test system (see simtest.h).
 */
#include "simtest.h"

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

uint64_t st_send(struct simtest *t, uint32_t to, SgEnvelope *e)
{
    e->msg_id = ++t->msg_counter;
    e->from = SG_NODE_CLIENT0;
    e->to = to;
    size_t n = sagasim__node__v1__envelope__get_packed_size(e);
    uint8_t *buf = malloc(n ? n : 1);
    SG_ASSERT_PURE(buf != NULL);
    sagasim__node__v1__envelope__pack(e, buf);
    sg_world_client_send(t->w, SG_NODE_CLIENT0, to, buf, n);
    free(buf);
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
