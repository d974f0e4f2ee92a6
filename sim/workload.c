/*
 * workload.c: simulated clients (see workload.h).
 */
#include "workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assert.h"
#include "wire.h"
#include "banned.h"

enum { TAG_WAKE = 1, TAG_TIMEOUT = 2, STREAM_CLIENT = 300 };

static uint64_t client_tag(uint32_t kind, uint64_t gen)
{
    return ((uint64_t)kind << 56) | (gen & 0x00ffffffffffffffULL);
}

void sg_workload_config_default(struct sg_workload_config *c)
{
    memset(c, 0, sizeof *c);
    c->clients = 5;
    c->withdrawals = 200;
    c->users = 20;
    c->retry_pct = 10;
    c->mismatch_pct = 3;
    c->invalid_pct = 3;
    c->get_pct = 20;
    c->trace_pct = 50;
    c->twin_pct = 5;
    c->think_max_ns = 20000000;
    c->client_timeout_ns = 1000000000;
    c->backoff_min_ns = 100000000;
    c->backoff_max_ns = 2000000000;
    c->stop_new_at_ns = 20000000000LL;
}

static void on_client(void *ctx, uint32_t client, const uint8_t *bytes, size_t len,
                      uint64_t tag);

static void wake_later(struct sg_workload *wl, struct sg_client *c, int64_t delay_ns)
{
    c->gen++;
    sg_world_client_timer(wl->world, c->id, wl->world->now_ns + delay_ns,
                          client_tag(TAG_WAKE, c->gen));
}

void sg_workload_init(struct sg_workload *wl, struct sg_world *w,
                      const struct sg_workload_config *cfg)
{
    memset(wl, 0, sizeof *wl);
    wl->world = w;
    wl->cfg = *cfg;
    SG_ASSERT_PURE(cfg->clients > 0 && cfg->clients <= SG_WORLD_CLIENTS_MAX);
    uint32_t fanout = cfg->shared_key_fanout > 1 ? cfg->shared_key_fanout : 1;
    SG_ASSERT_PURE(cfg->clients % fanout == 0);
    uint32_t groups = cfg->clients / fanout;
    sg_history_init(&wl->history);
    for (uint32_t i = 0; i < cfg->clients; i++) {
        struct sg_client *c = &wl->clients[i];
        c->id = SG_NODE_CLIENT0 + i;
        sg_prng_init(&c->prng, w->seed, STREAM_CLIENT + i);
        c->msg_counter = (uint64_t)i << 40;
        if (fanout > 1 && i % fanout != 0) { /* a member: sends what its leader picks */
            c->leader = i - i % fanout;
            continue;
        }
        c->leader = i;
        c->todo = cfg->withdrawals / groups + (i / fanout < cfg->withdrawals % groups);
        wake_later(wl, c, sg_prng_range(&c->prng, 0, cfg->think_max_ns));
    }
    sg_world_set_client(w, on_client, wl);
}

void sg_workload_deinit(struct sg_workload *wl)
{
    sg_history_deinit(&wl->history);
}

bool sg_workload_idle(const struct sg_workload *wl)
{
    for (uint32_t i = 0; i < wl->cfg.clients; i++)
        if (wl->clients[i].busy || wl->clients[i].todo) return false;
    return true;
}

/* ---- request fields ---- */

static void user_id_of(struct sg_client *c, uint32_t users, char out[SG_UUID_LEN + 1])
{
    uint32_t u = (uint32_t)sg_prng_below(&c->prng, users ? users : 1);
    if (sg_prng_chance(&c->prng, 3, 100)) {
        strcpy(out, "00000000-0000-4000-8000-00000000dead"); /* the default deny list */
        return;
    }
    snprintf(out, SG_UUID_LEN + 1, "%08x-%04x-4%03x-8%03x-%012x", u * 2654435761u, u & 0xffff,
             u & 0xfff, (u * 7) & 0xfff, u + 1);
}

static void fresh_request(struct sg_workload *wl, struct sg_client *c)
{
    static const char *const assets[] = {"BTC", "ETH", "USDC", "btc"};
    struct sg_request *r = &c->req;
    memset(r, 0, sizeof *r);
    user_id_of(c, wl->cfg.users, r->user_id);
    strcpy(r->asset, assets[sg_prng_below(&c->prng, 4)]);
    r->amount_minor = sg_prng_range(&c->prng, 1, 600000000);
    snprintf(r->destination_addr, sizeof r->destination_addr, "addr-%016llx",
             (unsigned long long)sg_prng_next(&c->prng));
    snprintf(r->key, sizeof r->key, "k-%u-%u", c->id, wl->started);
    c->trace_id[0] = '\0';
    if (sg_prng_chance(&c->prng, wl->cfg.trace_pct, 100)) {
        /* Two draws in two statements: argument evaluation order is unspecified in C, and
         * gcc and clang differ — one expression would break cross-compiler determinism. */
        unsigned long long hi = sg_prng_next(&c->prng);
        unsigned long long lo = sg_prng_next(&c->prng);
        snprintf(c->trace_id, sizeof c->trace_id, "%016llx%016llx", hi, lo);
    }
}

static void invalid_request(struct sg_workload *wl, struct sg_client *c)
{
    fresh_request(wl, c);
    switch (sg_prng_below(&c->prng, 4)) {
    case 0: c->req.amount_minor = -(int64_t)sg_prng_below(&c->prng, 1000); break;
    case 1: strcpy(c->req.user_id, "{not-a-uuid}"); break;
    case 2: strcpy(c->req.asset, "  "); break;
    default: c->req.key[0] = '\0'; break;
    }
}

/* ---- calls ---- */

/* Appends the invoke record of the call in flight; returns its history index. */
static size_t record_invoke(struct sg_workload *wl, struct sg_client *c)
{
    struct sg_hist_rec *h = sg_history_add(&wl->history);
    SG_ASSERT_PURE(h != NULL);
    h->client = c->id;
    h->op = c->kind == SG_CALL_GET ? SG_OP_GET : SG_OP_CREATE;
    snprintf(h->key, sizeof h->key, "%s", c->req.key);
    snprintf(h->user_id, sizeof h->user_id, "%s", c->req.user_id);
    snprintf(h->asset, sizeof h->asset, "%s", c->req.asset);
    h->amount_minor = c->req.amount_minor;
    snprintf(h->destination_addr, sizeof h->destination_addr, "%s", c->req.destination_addr);
    if (c->kind == SG_CALL_GET) snprintf(h->withdrawal_id, sizeof h->withdrawal_id, "%s", c->get_id);
    h->invoke_ns = wl->world->now_ns;
    h->outcome = SG_OUTCOME_UNKNOWN;
    wl->stats.attempts++;
    return wl->history.count - 1;
}

/* Sends the client's call with a new msg id (the id goes to *msg_id). */
static void send_envelope(struct sg_workload *wl, struct sg_client *c, uint64_t *msg_id)
{
    SgEnvelope e = SAGASIM__NODE__V1__ENVELOPE__INIT;
    Cbsaga__Orchestrator__V1__CreateWithdrawalRequest cr =
        CBSAGA__ORCHESTRATOR__V1__CREATE_WITHDRAWAL_REQUEST__INIT;
    Cbsaga__Orchestrator__V1__GetWithdrawalRequest gr =
        CBSAGA__ORCHESTRATOR__V1__GET_WITHDRAWAL_REQUEST__INIT;
    e.msg_id = ++c->msg_counter;
    e.from = c->id;
    e.to = SG_NODE_ORCH;
    e.trace_id = c->trace_id;
    if (c->kind == SG_CALL_GET) {
        gr.withdrawal_id = c->get_id;
        e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_GET;
        e.get = &gr;
    } else {
        cr.user_id = c->req.user_id;
        cr.asset = c->req.asset;
        cr.amount_minor = c->req.amount_minor;
        cr.destination_addr = c->req.destination_addr;
        cr.idempotency_key = c->req.key;
        e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_CREATE;
        e.create = &cr;
    }
    *msg_id = e.msg_id;
    sg_world_client_send_envelope(wl->world, &e);
}

/* A concurrent duplicate: the same create once more, at the same instant. */
static void send_twin(struct sg_workload *wl, struct sg_client *c)
{
    c->twin_rec = record_invoke(wl, c);
    send_envelope(wl, c, &c->twin_msg_id);
}

static void send_call(struct sg_workload *wl, struct sg_client *c)
{
    c->busy = true;
    c->attempts++;
    c->rec = record_invoke(wl, c);
    send_envelope(wl, c, &c->msg_id);
    if (c->kind == SG_CALL_CREATE && c->attempts == 1 &&
        sg_prng_chance(&c->prng, wl->cfg.twin_pct, 100))
        send_twin(wl, c);
    c->gen++;
    sg_world_client_timer(wl->world, c->id, wl->world->now_ns + wl->cfg.client_timeout_ns,
                          client_tag(TAG_TIMEOUT, c->gen));
}

static void start_call(struct sg_workload *wl, struct sg_client *c, enum sg_call_kind kind)
{
    c->kind = kind;
    c->attempts = 0;
    c->backoff_ns = wl->cfg.backoff_min_ns;
    wl->stats.calls++;
    send_call(wl, c);
}

/* Whether every member of leader c's group (c excluded) is idle. */
static bool group_idle(const struct sg_workload *wl, const struct sg_client *c)
{
    uint32_t i = (uint32_t)(c - wl->clients);
    for (uint32_t m = i + 1; m < wl->cfg.clients && wl->clients[m].leader == i; m++)
        if (wl->clients[m].busy) return false;
    return true;
}

/* Every member of leader c's group sends c's fresh create at this instant. */
static void fan_out(struct sg_workload *wl, struct sg_client *c)
{
    uint32_t i = (uint32_t)(c - wl->clients);
    for (uint32_t m = i + 1; m < wl->cfg.clients && wl->clients[m].leader == i; m++) {
        struct sg_client *member = &wl->clients[m];
        SG_ASSERT_PURE(!member->busy);
        member->req = c->req;
        memcpy(member->trace_id, c->trace_id, sizeof member->trace_id);
        start_call(wl, member, SG_CALL_CREATE);
    }
}

/* A group member has nothing left to do: its leader may go on. */
static void member_idle(struct sg_workload *wl, struct sg_client *c)
{
    struct sg_client *leader = &wl->clients[c->leader];
    if (leader == c || !leader->waiting || !group_idle(wl, leader)) return;
    leader->waiting = false;
    wake_later(wl, leader, 0);
}

/* Picks the client's next call, or ends it. */
static void next_call(struct sg_workload *wl, struct sg_client *c)
{
    const struct sg_workload_config *cfg = &wl->cfg;
    if (!group_idle(wl, c)) { /* a leader: its group still settles the last create */
        c->waiting = true;
        return;
    }
    if (c->last_id[0] && sg_prng_chance(&c->prng, cfg->retry_pct, 100)) {
        c->req = c->last;
        c->last_id[0] = '\0';
        { start_call(wl, c, SG_CALL_RETRY); return; }
    }
    if (c->last_id[0] && sg_prng_chance(&c->prng, cfg->mismatch_pct, 100)) {
        c->req = c->last;
        c->req.amount_minor += 1;
        c->last_id[0] = '\0';
        { start_call(wl, c, SG_CALL_MISMATCH); return; }
    }
    c->last_id[0] = '\0';
    bool may_create = c->todo > 0 && wl->world->now_ns < cfg->stop_new_at_ns;
    if (c->pending_gets && (!may_create || sg_prng_chance(&c->prng, 1, 4))) {
        memcpy(c->get_id, c->pending_get[--c->pending_gets], sizeof c->get_id);
        memset(&c->req, 0, sizeof c->req);
        { start_call(wl, c, SG_CALL_GET); return; }
    }
    if (!may_create) {
        c->todo = 0; /* the safety phase is over (or a member's turn ended) */
        member_idle(wl, c);
        return;
    }
    if (sg_prng_chance(&c->prng, cfg->invalid_pct, 100)) {
        invalid_request(wl, c);
        { start_call(wl, c, SG_CALL_INVALID); return; }
    }
    c->todo--;
    wl->started++;
    fresh_request(wl, c);
    start_call(wl, c, SG_CALL_CREATE);
    fan_out(wl, c);
}

static bool retryable(uint32_t code)
{
    return code == SG_CODE_UNAVAILABLE || code == SG_CODE_ABORTED || code == SG_CODE_TIMEOUT;
}

/* A definite answer ends the call; a retryable one backs off and tries again. */
static void record_complete(struct sg_workload *wl, size_t rec, uint32_t code,
                            const char *withdrawal_id, const char *status)
{
    struct sg_hist_rec *h = &wl->history.recs[rec];
    h->complete_ns = wl->world->now_ns;
    h->code = code;
    h->outcome = code == SG_CODE_TIMEOUT ? SG_OUTCOME_UNKNOWN : sg_outcome_of_code(code);
    if (withdrawal_id && withdrawal_id[0])
        snprintf(h->withdrawal_id, sizeof h->withdrawal_id, "%s", withdrawal_id);
    if (status) snprintf(h->status, sizeof h->status, "%s", status);
    wl->stats.ok += h->outcome == SG_OUTCOME_OK;
    wl->stats.fail += h->outcome == SG_OUTCOME_FAIL;
    wl->stats.unknown += h->outcome == SG_OUTCOME_UNKNOWN;
}

static void complete(struct sg_workload *wl, struct sg_client *c, uint32_t code,
                     const char *withdrawal_id, const char *status)
{
    record_complete(wl, c->rec, code, withdrawal_id, status);
    if (c->twin_msg_id) { /* the twin's answer is no longer awaited */
        record_complete(wl, c->twin_rec, SG_CODE_TIMEOUT, NULL, NULL);
        c->twin_msg_id = 0;
    }
    c->busy = false;
    c->gen++; /* the pending timeout is stale now */
    if (retryable(code) && c->kind != SG_CALL_GET) {
        wl->stats.retries++;
        int64_t delay = c->backoff_ns;
        c->backoff_ns = c->backoff_ns * 2 > wl->cfg.backoff_max_ns ? wl->cfg.backoff_max_ns
                                                                   : c->backoff_ns * 2;
        c->busy = true; /* the call continues after the backoff */
        c->backing_off = true;
        wake_later(wl, c, delay);
        return;
    }
    if (code == SG_CODE_OK && c->kind == SG_CALL_CREATE && withdrawal_id) {
        c->last = c->req;
        snprintf(c->last_id, sizeof c->last_id, "%s", withdrawal_id);
        if (c->pending_gets < 8 && sg_prng_chance(&c->prng, wl->cfg.get_pct, 100))
            snprintf(c->pending_get[c->pending_gets++], SG_UUID_LEN + 1, "%s", withdrawal_id);
    }
    wake_later(wl, c, sg_prng_range(&c->prng, 0, wl->cfg.think_max_ns));
}

static void on_reply(struct sg_workload *wl, struct sg_client *c, const uint8_t *bytes,
                     size_t len)
{
    SgEnvelope *e = sg_wire_decode(bytes, len);
    if (!e) return;
    if (e->payload_case != SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_REPLY) {
        sg_wire_free(e);
        return;
    }
    const Sagasim__Node__V1__ClientReply *r = e->reply;
    const char *status = NULL;
    if (r->body_case == SAGASIM__NODE__V1__CLIENT_REPLY__BODY_CREATE) status = r->create->status;
    if (r->body_case == SAGASIM__NODE__V1__CLIENT_REPLY__BODY_GET) status = r->get->status;
    if (c->twin_msg_id && e->correlation_id == c->twin_msg_id) {
        record_complete(wl, c->twin_rec, r->code, r->withdrawal_id, status);
        c->twin_msg_id = 0;
    } else if (c->busy && !c->backing_off && e->correlation_id == c->msg_id) {
        complete(wl, c, r->code, r->withdrawal_id, status);
    }
    sg_wire_free(e);
}

static void on_client(void *ctx, uint32_t client, const uint8_t *bytes, size_t len,
                      uint64_t tag)
{
    struct sg_workload *wl = ctx;
    SG_ASSERT_PURE(client >= SG_NODE_CLIENT0 && client - SG_NODE_CLIENT0 < wl->cfg.clients);
    struct sg_client *c = &wl->clients[client - SG_NODE_CLIENT0];
    if (bytes) { on_reply(wl, c, bytes, len); return; }
    if ((tag & 0x00ffffffffffffffULL) != (c->gen & 0x00ffffffffffffffULL)) return; /* stale */
    if (tag >> 56 == TAG_TIMEOUT) {
        wl->stats.timeouts++;
        { complete(wl, c, SG_CODE_TIMEOUT, NULL, NULL); return; }
    }
    if (c->backing_off) { /* backoff over: resend, same key and payload */
        c->backing_off = false;
        { send_call(wl, c); return; }
    }
    next_call(wl, c);
}
