/*
 * idem_program.c: an idempotency program on a simulated system (see idem_program.h).
 */
#include "idem_program.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assert.h"
#include "codes.h"
#include "scenario.h"
#include "wire.h"
#include "world.h"
#include "banned.h"

#define MS ((int64_t)1000000)

enum {
    CLIENTS = 8,          /* creates use clients 0..3; concurrent duplicates up to 8 */
    USERS = 2,
    KEYS = 3,
    SLOTS = USERS * KEYS, /* (user, key) pairs */
    PAYLOADS = 3,
    CALLS_MAX = 1024,
    JUMPS_MAX = SG_IDEM_OPS_MAX + 1,
    SETTLE_ROUNDS = 12,
};

static const char *const users[USERS] = {"6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab",
                                          "0b7e1c9a-2d3f-4e5a-9b8c-7d6e5f4a3b2c"};
static const char *const keys[KEYS] = {"key-a", "key-b", "key-c"};
static const int64_t amounts[PAYLOADS] = {100, 250, 400};

struct call {
    uint64_t msg_id;
    uint32_t client;
    int slot, payload;     /* slot -1: a GetWithdrawal */
    int64_t sent_ns;
    size_t hist;           /* its history record */
    bool answered;
};

struct prog {
    struct sg_world *w;
    struct sg_config cfg;
    struct sg_history hist;
    struct call calls[CALLS_MAX];
    size_t n_calls;
    uint64_t msg_counter;
    int last_slot[CLIENTS], last_payload[CLIENTS];
    char ok_wid[SLOTS][SG_UUID_LEN + 1];
    int ok_payload[SLOTS];
    bool fault_seen;
    struct { int64_t at_ns, offset_ns; } jumps[JUMPS_MAX];
    size_t n_jumps;
    struct sg_idem_result *out;
    size_t op;             /* the operation running */
};

void sg_idem_decode(const uint8_t *data, size_t len, struct sg_idem_program *p)
{
    memset(p, 0, sizeof *p);
    for (size_t at = 0; at < len && p->n < SG_IDEM_OPS_MAX; at += 4) {
        uint8_t b[4] = {0, 0, 0, 0};
        for (size_t i = 0; i < 4 && at + i < len; i++) b[i] = data[at + i];
        p->ops[p->n++] = (struct sg_idem_op){(uint8_t)(b[0] % SG_IDEM_OPCODES), b[1], b[2],
                                             b[3]};
    }
}

static size_t orch_points(const struct sg_crashpoint **out)
{
    size_t n = 0, k = 0;
    const struct sg_crashpoint *cp = sg_crashpoints(&n);
    static const struct sg_crashpoint *none = NULL;
    *out = none;
    for (size_t i = 0; i < n; i++)
        if (cp[i].role == SG_ROLE_ORCH) {
            if (!*out) *out = &cp[i];
            k++;
        }
    return k; /* the orchestrator's points are contiguous in sg_crashpoints' order */
}

void sg_idem_describe(const struct sg_idem_op *op, char *buf, size_t cap)
{
    const struct sg_crashpoint *cp = NULL;
    size_t np = orch_points(&cp);
    int slot = op->b % SLOTS;
    switch ((enum sg_idem_opcode)op->code) {
    case SG_IDEM_CREATE:
        snprintf(buf, cap, "create client=%d user=%d key=%s payload=%d", op->a % 4, slot / KEYS,
                 keys[slot % KEYS], op->c % PAYLOADS);
        break;
    case SG_IDEM_RETRY: snprintf(buf, cap, "retry client=%d", op->a % 4); break;
    case SG_IDEM_DUPS:
        snprintf(buf, cap, "duplicates n=%d user=%d key=%s payload=%d", 2 + op->a % 7,
                 slot / KEYS, keys[slot % KEYS], op->c % PAYLOADS);
        break;
    case SG_IDEM_GET: snprintf(buf, cap, "get user=%d key=%s", slot / KEYS, keys[slot % KEYS]); break;
    case SG_IDEM_LEASE: snprintf(buf, cap, "wait past the lease"); break;
    case SG_IDEM_DEADLINE: snprintf(buf, cap, "wait past the saga deadline"); break;
    case SG_IDEM_CLOCK:
        snprintf(buf, cap, "orchestrator clock jumps %+d ms", ((int)op->a - 128) * 40);
        break;
    case SG_IDEM_CRASH:
        if (np && op->a % (np + 1) < np)
            snprintf(buf, cap, "orchestrator crashes at %s", cp[op->a % (np + 1)].point);
        else snprintf(buf, cap, "orchestrator loses power now");
        break;
    case SG_IDEM_FSYNC: snprintf(buf, cap, "orchestrator's next fsync fails"); break;
    case SG_IDEM_WAIT: snprintf(buf, cap, "wait %d ms", 1 + op->a); break;
    default: snprintf(buf, cap, "?"); break;
    }
}

/* ---- verdicts ---- */

static void fail(struct prog *p, const char *fmt, ...) __attribute__((format(__printf__, 2, 3)));
static void fail(struct prog *p, const char *fmt, ...)
{
    if (!p->out->ok) return; /* the first failure is the verdict */
    p->out->ok = false;
    p->out->failed_op = p->op;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->out->violation, sizeof p->out->violation, fmt, ap);
    va_end(ap);
}

/* The orchestrator's wall-clock offset for an event at virtual time t (its clock jumps
 * only). A jump made at time j lands after every event at j has run (the operation runs
 * between steps), so it counts for events after j only. */
static int64_t offset_at(const struct prog *p, int64_t t)
{
    int64_t off = 0;
    for (size_t i = 0; i < p->n_jumps && p->jumps[i].at_ns < t; i++) off = p->jumps[i].offset_ns;
    return off;
}

/* ABORTED at decision time d is allowed while another attempt for the key holds a live
 * lease: one arrived (1 ms after it was sent) no more than lease_ttl earlier by the
 * orchestrator's own wall clock, or one arrived while this call's work step was pending
 * and took the key over (this attempt is fenced out and told to retry). */
static bool lease_could_be_live(const struct prog *p, const struct call *c, int64_t d)
{
    int64_t arrived = c->sent_ns + 1 * MS;
    for (size_t i = 0; i < p->n_calls; i++) {
        const struct call *o = &p->calls[i];
        if (o == c || o->slot != c->slot) continue;
        int64_t r = o->sent_ns + 1 * MS;
        if (r > d) continue;
        if (r >= arrived) return true; /* a takeover under this call's pending work */
        if (d + offset_at(p, d) < r + offset_at(p, r) + p->cfg.lease_ttl_ns + 1 * MS) return true;
    }
    return false;
}

static void judge_reply(struct prog *p, struct call *c, const Sagasim__Node__V1__ClientReply *r)
{
    const char *who = c->slot >= 0 ? keys[c->slot % KEYS] : "-";
    if (c->slot < 0) return; /* a GetWithdrawal: the checker judges what it saw */
    if (r->code == SG_CODE_OK) {
        if (!p->ok_wid[c->slot][0]) {
            snprintf(p->ok_wid[c->slot], sizeof p->ok_wid[c->slot], "%s", r->withdrawal_id);
            p->ok_payload[c->slot] = c->payload;
        } else if (strcmp(p->ok_wid[c->slot], r->withdrawal_id) != 0) {
            fail(p, "I1 key %s (user %d) answered OK with %s and with %s", who,
                 c->slot / KEYS, p->ok_wid[c->slot], r->withdrawal_id);
        } else if (p->ok_payload[c->slot] != c->payload) {
            fail(p, "I1 key %s (user %d): payload %d got OK after payload %d did", who,
                 c->slot / KEYS, c->payload, p->ok_payload[c->slot]);
        }
    } else if (r->code == SG_CODE_UNAVAILABLE && !p->fault_seen) {
        fail(p, "CONTRACT key %s answered UNAVAILABLE ('%s') though no fault was injected", who,
             r->message);
    } else if (r->code == SG_CODE_ABORTED &&
               !lease_could_be_live(p, c, p->w->now_ns - 1 * MS)) {
        fail(p, "I1 key %s (user %d) answered ABORTED at %" PRId64 " ms though no other "
             "attempt's lease can be live", who, c->slot / KEYS, (int64_t)(p->w->now_ns / MS));
    }
}

static void on_reply(void *ctx, uint32_t client, const uint8_t *bytes, size_t len, uint64_t tag)
{
    (void)tag;
    struct prog *p = ctx;
    if (!bytes) return;
    SgEnvelope *e = sg_wire_decode(bytes, len);
    if (!e) return;
    for (size_t i = 0; i < p->n_calls; i++) {
        struct call *c = &p->calls[i];
        if (c->msg_id != e->correlation_id || c->client + SG_NODE_CLIENT0 != client ||
            c->answered || e->payload_case != SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_REPLY)
            continue;
        c->answered = true;
        struct sg_hist_rec *h = &p->hist.recs[c->hist];
        const Sagasim__Node__V1__ClientReply *r = e->reply;
        h->complete_ns = p->w->now_ns;
        h->code = r->code;
        h->outcome = sg_outcome_of_code(r->code);
        snprintf(h->withdrawal_id, sizeof h->withdrawal_id, "%s", r->withdrawal_id);
        if (r->body_case == SAGASIM__NODE__V1__CLIENT_REPLY__BODY_CREATE)
            snprintf(h->status, sizeof h->status, "%s", r->create->status);
        if (r->body_case == SAGASIM__NODE__V1__CLIENT_REPLY__BODY_GET)
            snprintf(h->status, sizeof h->status, "%s", r->get->status);
        judge_reply(p, c, r);
        break;
    }
    sg_wire_free(e);
}

/* ---- calls ---- */

static struct call *new_call(struct prog *p, uint32_t client, int slot, int payload)
{
    if (p->n_calls == CALLS_MAX) return NULL;
    struct sg_hist_rec *h = sg_history_add(&p->hist);
    if (!h) return NULL;
    struct call *c = &p->calls[p->n_calls++];
    *c = (struct call){.msg_id = ++p->msg_counter, .client = client, .slot = slot,
                       .payload = payload, .sent_ns = p->w->now_ns, .hist = p->hist.count - 1};
    h->client = SG_NODE_CLIENT0 + client;
    h->invoke_ns = p->w->now_ns;
    h->complete_ns = p->w->now_ns;
    h->outcome = SG_OUTCOME_UNKNOWN;
    h->code = SG_CODE_TIMEOUT;
    return c;
}

static void send_env(struct prog *p, struct call *c, SgEnvelope *e)
{
    e->msg_id = c->msg_id;
    e->from = SG_NODE_CLIENT0 + c->client;
    e->to = SG_NODE_ORCH;
    sg_world_client_send_envelope(p->w, e);
}

static void create(struct prog *p, uint32_t client, int slot, int payload)
{
    struct call *c = new_call(p, client, slot, payload);
    if (!c) return;
    struct sg_hist_rec *h = &p->hist.recs[c->hist];
    h->op = SG_OP_CREATE;
    snprintf(h->key, sizeof h->key, "%s", keys[slot % KEYS]);
    snprintf(h->user_id, sizeof h->user_id, "%s", users[slot / KEYS]);
    snprintf(h->asset, sizeof h->asset, "BTC");
    h->amount_minor = amounts[payload];
    snprintf(h->destination_addr, sizeof h->destination_addr, "addr-%d", payload);
    Cbsaga__Orchestrator__V1__CreateWithdrawalRequest q =
        CBSAGA__ORCHESTRATOR__V1__CREATE_WITHDRAWAL_REQUEST__INIT;
    q.user_id = h->user_id;
    q.asset = h->asset;
    q.amount_minor = h->amount_minor;
    q.destination_addr = h->destination_addr;
    q.idempotency_key = h->key;
    SgEnvelope e = SAGASIM__NODE__V1__ENVELOPE__INIT;
    e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_CREATE;
    e.create = &q;
    e.trace_id = (char *)"";
    send_env(p, c, &e);
    p->last_slot[client] = slot;
    p->last_payload[client] = payload;
}

static void get(struct prog *p, int slot)
{
    struct call *c = new_call(p, 0, -1, 0);
    if (!c) return;
    struct sg_hist_rec *h = &p->hist.recs[c->hist];
    h->op = SG_OP_GET;
    const char *id = p->ok_wid[slot][0] ? p->ok_wid[slot] : "00000000-0000-4000-8000-000000000000";
    snprintf(h->withdrawal_id, sizeof h->withdrawal_id, "%s", id);
    Sagasim__Node__V1__Envelope e = SAGASIM__NODE__V1__ENVELOPE__INIT;
    Cbsaga__Orchestrator__V1__GetWithdrawalRequest q =
        CBSAGA__ORCHESTRATOR__V1__GET_WITHDRAWAL_REQUEST__INIT;
    q.withdrawal_id = h->withdrawal_id;
    e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_GET;
    e.get = &q;
    e.trace_id = (char *)"";
    send_env(p, c, &e);
}

/* ---- the orchestrator's database, through its own connection ---- */

static int64_t orch_int(struct prog *p, const char *sql, const char *arg)
{
    struct sg_node *n = sg_world_node(p->w, SG_ROLE_ORCH);
    if (!n || !n->u.orch.svc.db) return -1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(n->u.orch.svc.db->h, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    if (arg) sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

static void judge_tables(struct prog *p)
{
    if (!sg_world_node(p->w, SG_ROLE_ORCH)) return; /* down: judged once it is back */
    int64_t doubled = orch_int(p, "SELECT COUNT(*) FROM (SELECT 1 FROM withdrawals"
                                  " GROUP BY user_id, idem_key HAVING COUNT(*) > 1)", NULL);
    if (doubled > 0) fail(p, "I1 %" PRId64 " (user, key) pairs have two withdrawals", doubled);
    for (int s = 0; s < SLOTS; s++)
        if (p->ok_wid[s][0] &&
            orch_int(p, "SELECT COUNT(*) FROM withdrawals WHERE withdrawal_id = ?",
                     p->ok_wid[s]) == 0)
            fail(p, "I9 withdrawal %s was answered OK (key %s, user %d) and is gone",
                 p->ok_wid[s], keys[s % KEYS], s / KEYS);
}

/* ---- operations ---- */

static bool run_for(struct prog *p, int64_t ns)
{
    if (sg_world_run_until(p->w, p->w->now_ns + ns)) return true;
    p->out->panicked = true;
    fail(p, "ASSERT %s", p->w->panic_what);
    return false;
}

static void crash(struct prog *p, uint8_t a)
{
    const struct sg_crashpoint *cp = NULL;
    size_t np = orch_points(&cp);
    p->fault_seen = true;
    if (np && a % (np + 1) < np) { /* power loss at the point's next hit */
        p->w->opt.crash_at_count = 0;
        memset(p->w->crash_hits, 0, sizeof p->w->crash_hits);
        SG_ASSERT_PURE(sg_world_add_crash_at(&p->w->opt, SG_ROLE_ORCH, cp[a % (np + 1)].point, 1));
    } else if (sg_world_node(p->w, SG_ROLE_ORCH)) {
        sg_world_crash(p->w, SG_ROLE_ORCH, true);
    }
}

static bool step(struct prog *p, const struct sg_idem_op *op)
{
    int slot = op->b % SLOTS;
    switch ((enum sg_idem_opcode)op->code) {
    case SG_IDEM_CREATE: create(p, op->a % 4u, slot, op->c % PAYLOADS); break;
    case SG_IDEM_RETRY: {
        uint32_t cl = op->a % 4u;
        create(p, cl, p->last_slot[cl], p->last_payload[cl]);
        break;
    }
    case SG_IDEM_DUPS:
        for (uint32_t i = 0; i < 2u + op->a % 7u; i++) create(p, i, slot, op->c % PAYLOADS);
        break;
    case SG_IDEM_GET: get(p, slot); break;
    case SG_IDEM_LEASE: return run_for(p, p->cfg.lease_ttl_ns + 1 * MS);
    case SG_IDEM_DEADLINE: return run_for(p, p->cfg.saga_deadline_ns + 1 * MS);
    case SG_IDEM_CLOCK: {
        int64_t delta = ((int64_t)op->a - 128) * 40 * MS;
        sg_world_clock_shift(p->w, SG_ROLE_ORCH, delta);
        if (p->n_jumps < JUMPS_MAX) {
            int64_t before = p->n_jumps ? p->jumps[p->n_jumps - 1].offset_ns : 0;
            p->jumps[p->n_jumps].at_ns = p->w->now_ns;
            p->jumps[p->n_jumps++].offset_ns = before + delta;
        }
        break;
    }
    case SG_IDEM_CRASH: crash(p, op->a); break;
    case SG_IDEM_FSYNC:
        p->fault_seen = true;
        sg_vfs_fail_next_sync(&p->w->vfs, "/n1/", 1);
        break;
    case SG_IDEM_WAIT: return run_for(p, (1 + (int64_t)op->a) * MS);
    default: sg_panic_default(__FILE_NAME__, __LINE__, "unknown opcode");
    }
    return run_for(p, 1 * MS);
}

/* Retries every create call still without a definite answer, as clients do (DESIGN
 * §8.1), until each has one or the rounds run out (the checker's I8 then says so). */
static bool settle(struct prog *p)
{
    sg_world_heal(p->w);
    p->w->opt.crash_at_count = 0;
    for (int round = 0; round < SETTLE_ROUNDS; round++) {
        bool open = false;
        size_t n = p->n_calls;
        for (size_t i = 0; i < n; i++) {
            const struct call *c = &p->calls[i];
            if (c->slot < 0) continue;
            bool answered = false, newest = true;
            for (size_t j = 0; j < n; j++) {
                const struct call *o = &p->calls[j];
                if (o->client != c->client || o->slot != c->slot || o->payload != c->payload)
                    continue;
                const struct sg_hist_rec *h = &p->hist.recs[o->hist];
                answered |= h->outcome == SG_OUTCOME_OK || h->code == SG_CODE_FAILED_PRECONDITION;
                newest &= j <= i;
            }
            if (answered || !newest) continue;
            open = true;
            create(p, c->client, c->slot, c->payload);
        }
        if (!open) break;
        if (!run_for(p, 1500 * MS)) return false;
    }
    return run_for(p, p->cfg.saga_deadline_ns + 1000 * MS); /* deadlines fire, queues drain */
}

static void judge_end(struct prog *p)
{
    for (int r = 0; r < SG_ROLE_COUNT; r++) sg_world_stop(p->w, (enum sg_role)r);
    struct sg_check_input in = {
        .vfs_name = "sgsim", .orch_db = "/n1/orch.db", .identity_db = "/n2/identity.db",
        .risk_db = "/n3/risk.db", .broker_db = "/n0/broker.db",
        .ledger_db = "/n4/ledger.db", .payout_db = "/n5/payout.db", .history = &p->hist,
        .cfg = &p->cfg, .liveness = true};
    if (!sg_check_run(&in, &p->out->report)) {
        const struct sg_check_report *r = &p->out->report;
        if (r->error[0]) fail(p, "CHECK %s", r->error);
        else if (r->count)
            fail(p, "%s %s", sg_inv_name(r->v[0].inv), r->v[0].summary);
    }
}

bool sg_idem_run(const struct sg_idem_program *prog, uint64_t bugs, struct sg_idem_result *out)
{
    memset(out, 0, sizeof *out);
    out->ok = true;
    struct prog *p = calloc(1, sizeof *p);
    struct sg_world *w = calloc(1, sizeof *w);
    if (!p || !w) {
        free(p);
        free(w);
        return false;
    }
    p->w = w;
    p->out = out;
    sg_config_default(&p->cfg);
    p->cfg.identity_reject_num = 0;
    p->cfg.risk_reject_num = 0;
    p->cfg.lease_ttl_ns = 1000 * MS;
    p->cfg.saga_deadline_ns = 5000 * MS;
    p->cfg.work_delay_max_ns = 10 * MS; /* work steps outlive a few operations: interleavings */
    p->cfg.bugs = bugs;
    struct sg_world_options opt;
    sg_world_options_default(&opt);
    opt.latency_min_ns = opt.latency_max_ns = 1 * MS;
    opt.restart_delay_ns = 100 * MS;
    memset(&opt.faults, 0, sizeof opt.faults);
    sg_history_init(&p->hist);
    bool ok = sg_world_init(w, 1, &p->cfg, &opt);
    if (ok) {
        sg_world_set_client(w, on_reply, p);
        for (int r = 0; r < SG_ROLE_COUNT; r++) sg_world_start_at(w, (enum sg_role)r, 0);
        bool alive = run_for(p, 10 * MS);
        for (size_t i = 0; alive && i < prog->n; i++) {
            p->op = i;
            alive = step(p, &prog->ops[i]);
            if (alive) judge_tables(p);
        }
        p->op = prog->n;
        if (alive && settle(p)) judge_tables(p);
        if (!out->panicked) judge_end(p);
        out->hash = sg_world_hash(w);
        sg_world_deinit(w);
    }
    sg_history_deinit(&p->hist);
    free(w);
    free(p);
    return ok;
}
