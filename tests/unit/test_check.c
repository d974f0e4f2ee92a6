/*
 * test_check.c: unit tests for check/, the invariant checker.
 *
 * Why: every verdict of the simulator and of live chaos runs is the checker's. It must
 * pass a consistent world (so a clean run is green) and name the right invariant when
 * exactly one property is broken (so a planted bug shows as the invariant it breaks).
 *
 * Each test builds the four databases on real files in a fresh temporary directory, with
 * the services' own schemas (every migration step of core/migrate.c), and a small world
 * written by hand the way the services write it: three withdrawals (one COMPLETED, one
 * FAILED by identity, one FAILED by risk), their outbox rows packed with sg_event_pack and
 * produced to the broker log, the consumers' inbox rows, the decisions as core/decide.h
 * computes them, committed group offsets at the log ends, and a client history. A test then
 * breaks one property with a single SQL statement or history edit and checks which
 * invariants report.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "check.h"
#include "decider.h"
#include "decide.h"
#include "ids.h"
#include "migrate.h"
#include "orch.h"
#include "outbox.h"
#include "status.h"
#include "wire.h"

enum { DB_ORCH, DB_IDENTITY, DB_RISK, DB_BROKER, DB_COUNT };
/* Each database's file name and tables, as the services make them (core/migrate.c). */
static const struct sg_schema *const db_schemas[DB_COUNT] = {
    &sg_schema_orch, &sg_schema_identity, &sg_schema_risk, &sg_schema_broker};

/* A withdrawal of the world: stored (normalised) fields and what the client sent. */
struct wspec {
    const char *wid, *user, *key, *asset, *dest, *trace;
    int64_t amount;
    const char *raw_user, *raw_key, *raw_asset;
};

static const struct wspec specs[] = {
    {"a1000000-0000-4000-8000-000000000001", "6f1c2a9e-1b2c-4d3e-8f40-5a6b7c8d9e01", "key-1",
     "BTC", "bc1qdest1", "0123456789abcdef0123456789abcdef", 1000,
     "6F1C2A9E-1B2C-4D3E-8F40-5A6B7C8D9E01", " key-1 ", " btc"},
    {"a2000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-00000000dead", "key-2",
     "ETH", "0xdest2", "11111111111111111111111111111111", 2000,
     "00000000-0000-4000-8000-00000000dead", "key-2", "ETH"},
    {"a3000000-0000-4000-8000-000000000003", "3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d", "key-3",
     "BTC", "bc1qdest3", "22222222222222222222222222222222", 600000000,
     "3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d", "key-3", "BTC"},
};
enum { W1, W2, W3, W_COUNT };

/* One event as published: where its record sits in the log. */
struct evref {
    char id[SG_UUID_LEN + 1];
    char topic[40];
    uint32_t partition;
    int64_t offset;
    enum sg_event_type type;
    int wi;
};

struct fx {
    char dir[64];
    char path[DB_COUNT][128];
    sqlite3 *db[DB_COUNT];
    struct sg_config cfg;
    struct sg_history hist;
    int64_t now_ns;
    uint32_t ids;
    int64_t next_off[SG_TOPIC_COUNT][SG_PARTITIONS_MAX];
    struct evref ev[64];
    size_t n_ev;
    struct sg_check_report out; /* of the last expect() */
    struct sg_lease_bounds lease; /* what the "run" guarantees (default: not known) */
};

/* ---- SQL helpers ---- */

static void exec_sql(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) print_error("%s: %s\n", sql, err ? err : "?");
    sqlite3_free(err);
    assert_int_equal(rc, SQLITE_OK);
}

/* sqlite3_mprintf formatting (%Q quotes a string). */
static void execf(sqlite3 *db, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    assert_non_null(sql);
    exec_sql(db, sql);
    sqlite3_free(sql);
}

/* Opens one database of the built world, runs one statement, closes it. */
static void mutate(struct fx *f, int db, const char *fmt, ...)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(f->path[db], &h), SQLITE_OK);
    va_list ap;
    va_start(ap, fmt);
    char *sql = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    assert_non_null(sql);
    exec_sql(h, sql);
    sqlite3_free(sql);
    if (strncmp(fmt, "UPDATE", 6) == 0 || strncmp(fmt, "DELETE", 6) == 0)
        assert_true(sqlite3_changes(h) > 0); /* the mutation hit something */
    sqlite3_close(h);
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

/* ---- building the world ---- */

static void new_event_id(struct fx *f, char out[SG_UUID_LEN + 1])
{
    snprintf(out, SG_UUID_LEN + 1, "e%07x-0000-4000-8000-000000000000", ++f->ids & 0xfffffffu);
}

/* Writes an outbox row of service db and produces it to the broker log. */
static const struct evref *publish(struct fx *f, int db, enum sg_event_type t, int wi,
                                   const char *reason)
{
    const struct wspec *w = &specs[wi];
    struct evref *e = &f->ev[f->n_ev++];
    assert_true(f->n_ev <= sizeof f->ev / sizeof f->ev[0]);
    new_event_id(f, e->id);
    e->type = t;
    e->wi = wi;
    snprintf(e->topic, sizeof e->topic, "cbsaga.%s", sg_event_route(t));
    struct sg_event_fields ef = {w->wid, w->user, w->asset, w->amount, w->dest, reason, NULL,
                                 NULL};
    uint8_t *buf = NULL;
    size_t len = 0;
    enum sg_err err = sg_event_pack(t, &ef, e->id, w->trace, "2026-01-01T00:00:00.000Z", &buf,
                                    &len);
    assert_int_equal(err, SG_OK);
    char *value = malloc(2 * len + 1);
    assert_non_null(value);
    hex(buf, len, value);
    execf(f->db[db], "INSERT INTO outbox(event_id, event_type, aggregate_type, aggregate_id,"
          " route_key, trace_id, created_at_ns, payload) VALUES(%Q, %Q, 'withdrawal', %Q, %Q,"
          " %Q, %lld, X'%s')", e->id, sg_event_name(t), w->wid, sg_event_route(t), w->trace,
          (long long)f->now_ns, value);
    int ti = sg_topic_index(e->topic);
    assert_true(ti >= 0);
    e->partition = sg_partition_of(w->wid, f->cfg.partitions);
    e->offset = f->next_off[ti][e->partition]++;
    execf(f->db[DB_BROKER], "INSERT INTO records(topic, partition, offset, key, value, injected)"
          " VALUES(%Q, %u, %lld, %Q, X'%s', 0)", e->topic, e->partition, (long long)e->offset,
          w->wid, value);
    free(value);
    free(buf);
    return e;
}

/* The consumer of db records e in its inbox. */
static void consume(struct fx *f, int db, const struct evref *e)
{
    execf(f->db[db], "INSERT INTO inbox(key, event_id, event_type, topic, partition, offset,"
          " result, trace_id, at_ns) VALUES(%Q, %Q, %Q, %Q, %u, %lld, 'APPLIED', %Q, %lld)",
          e->id, e->id, sg_event_name(e->type), e->topic, e->partition, (long long)e->offset,
          specs[e->wi].trace, (long long)f->now_ns);
}

static void decide(struct fx *f, int db, int wi, struct sg_decision d, const struct evref *cause)
{
    execf(f->db[db], "INSERT INTO decisions(withdrawal_id, decision, reason, cause_event_id,"
          " trace_id, at_ns) VALUES(%Q, %Q, %Q, %Q, %Q, %lld)", specs[wi].wid,
          d.approved ? "APPROVED" : "REJECTED", d.reason, cause->id, specs[wi].trace,
          (long long)f->now_ns);
}

static void transition(struct fx *f, int wi, int seq, enum sg_status from, enum sg_status to,
                       const char *cause, const char *reason)
{
    const char *wid = specs[wi].wid;
    execf(f->db[DB_ORCH], "UPDATE withdrawals SET status = %Q, failure_reason = %Q WHERE"
          " withdrawal_id = %Q", sg_status_name(to), reason, wid);
    execf(f->db[DB_ORCH], "UPDATE sagas SET state = %Q, current_step = %Q WHERE"
          " withdrawal_id = %Q", sg_saga_state_of(to), sg_saga_step_of(to), wid);
    execf(f->db[DB_ORCH], "INSERT INTO transitions(withdrawal_id, seq, from_status, to_status,"
          " cause_event_id, at_ns) VALUES(%Q, %d, %Q, %Q, %Q, %lld)", wid, seq,
          sg_status_name(from), sg_status_name(to), cause, (long long)f->now_ns);
    static const enum sg_event_type events[SG_STATUS_COUNT] = {
        SG_EVT_COUNT, SG_EVT_WITHDRAWAL_REQUESTED, SG_EVT_WITHDRAWAL_IN_PROGRESS,
        SG_EVT_WITHDRAWAL_COMPLETED, SG_EVT_WITHDRAWAL_FAILED, SG_EVT_WITHDRAWAL_CANCELED};
    publish(f, DB_ORCH, events[to], wi, reason);
}

/* The create's work step: the orchestrator's one transaction. */
static void create_withdrawal(struct fx *f, int wi)
{
    const struct wspec *w = &specs[wi];
    struct sg_request req;
    const char *why = NULL;
    assert_true(sg_request_normalise(w->user, w->asset, w->amount, w->dest, w->key, &req, &why));
    uint8_t hash[SG_HASH_LEN];
    char hash_hex[2 * SG_HASH_LEN + 1];
    sg_request_hash(&req, hash);
    hex(hash, SG_HASH_LEN, hash_hex);
    execf(f->db[DB_ORCH], "INSERT INTO idempotency(user_id, idem_key, request_hash, status,"
          " withdrawal_id, owner, fence, lease_expires_ns, updated_at_ns) VALUES(%Q, %Q,"
          " X'%s', 'COMPLETED', %Q, 'owner', 1, 0, 0)", w->user, w->key, hash_hex, w->wid);
    execf(f->db[DB_ORCH], "INSERT INTO withdrawals(withdrawal_id, user_id, asset, amount_minor,"
          " destination_addr, idem_key, status, failure_reason, trace_id, created_at_ns,"
          " updated_at_ns) VALUES(%Q, %Q, %Q, %lld, %Q, %Q, 'REQUESTED', '', %Q, 0, 0)", w->wid,
          w->user, w->asset, (long long)w->amount, w->dest, w->key, w->trace);
    execf(f->db[DB_ORCH], "INSERT INTO sagas(withdrawal_id, state, current_step, deadline_ns)"
          " VALUES(%Q, 'STARTED', 'IDENTITY_CHECK', 0)", w->wid);
    execf(f->db[DB_ORCH], "INSERT INTO transitions(withdrawal_id, seq, from_status, to_status,"
          " cause_event_id, at_ns) VALUES(%Q, 1, '', 'REQUESTED', '', 0)", w->wid);
    publish(f, DB_ORCH, SG_EVT_WITHDRAWAL_REQUESTED, wi, "");
}

/* One withdrawal's whole saga, every consumer step applied once. */
static void run_saga(struct fx *f, int wi)
{
    const struct wspec *w = &specs[wi];
    create_withdrawal(f, wi);
    const struct evref *cmd = publish(f, DB_ORCH, SG_EVT_VERIFY_IDENTITY_REQUESTED, wi, "");
    f->now_ns += 100;
    struct sg_decision d = sg_decide_identity(&f->cfg, w->wid, w->user);
    consume(f, DB_IDENTITY, cmd);
    decide(f, DB_IDENTITY, wi, d, cmd);
    const struct evref *ans = publish(f, DB_IDENTITY, d.approved ? SG_EVT_IDENTITY_VERIFIED
                                                                 : SG_EVT_IDENTITY_REJECTED,
                                      wi, d.reason);
    f->now_ns += 100;
    consume(f, DB_ORCH, ans);
    if (!d.approved) {
        transition(f, wi, 2, SG_STATUS_REQUESTED, SG_STATUS_FAILED, ans->id, d.reason);
        return;
    }
    transition(f, wi, 2, SG_STATUS_REQUESTED, SG_STATUS_IN_PROGRESS, ans->id, "");
    cmd = publish(f, DB_ORCH, SG_EVT_RISK_CHECK_REQUESTED, wi, "");
    f->now_ns += 100;
    d = sg_decide_risk(&f->cfg, w->wid, w->asset, w->amount);
    consume(f, DB_RISK, cmd);
    decide(f, DB_RISK, wi, d, cmd);
    ans = publish(f, DB_RISK, d.approved ? SG_EVT_RISK_APPROVED : SG_EVT_RISK_REJECTED, wi,
                  d.reason);
    f->now_ns += 100;
    consume(f, DB_ORCH, ans);
    transition(f, wi, 3, SG_STATUS_IN_PROGRESS,
               d.approved ? SG_STATUS_COMPLETED : SG_STATUS_FAILED, ans->id, d.reason);
}

/* Every consumer group committed at the log end. */
static void commit_groups(struct fx *f)
{
    static const char *const groups[SG_TOPIC_COUNT] = {
        "cbsaga-identity", "cbsaga-orchestrator", "cbsaga-risk", "cbsaga-orchestrator", NULL};
    for (int t = 0; t < SG_TOPIC_COUNT; t++)
        for (uint32_t p = 0; groups[t] && p < f->cfg.partitions; p++)
            if (f->next_off[t][p] > 0)
                execf(f->db[DB_BROKER], "INSERT INTO group_offsets(grp, topic, partition, offset)"
                      " VALUES(%Q, %Q, %u, %lld)", groups[t], sg_topics[t], p,
                      (long long)f->next_off[t][p]);
}

static struct sg_hist_rec *hist_add(struct fx *f, enum sg_op op, int wi, enum sg_outcome outcome,
                                    const char *status)
{
    const struct wspec *w = &specs[wi];
    struct sg_hist_rec *r = sg_history_add(&f->hist);
    assert_non_null(r);
    r->client = (uint32_t)wi + 1;
    r->op = op;
    snprintf(r->key, sizeof r->key, "%s", w->raw_key);
    snprintf(r->user_id, sizeof r->user_id, "%s", w->raw_user);
    snprintf(r->asset, sizeof r->asset, "%s", w->raw_asset);
    r->amount_minor = w->amount;
    snprintf(r->destination_addr, sizeof r->destination_addr, "%s", w->dest);
    r->invoke_ns = f->now_ns;
    r->complete_ns = f->now_ns + 5;
    f->now_ns += 10;
    r->outcome = outcome;
    r->code = outcome == SG_OUTCOME_OK ? SG_CODE_OK : SG_CODE_FAILED_PRECONDITION;
    if (outcome == SG_OUTCOME_OK) {
        snprintf(r->withdrawal_id, sizeof r->withdrawal_id, "%s", w->wid);
        snprintf(r->status, sizeof r->status, "%s", status);
    }
    return r;
}

static void build_history(struct fx *f)
{
    static const char *const final[W_COUNT] = {"COMPLETED", "FAILED", "FAILED"};
    f->now_ns = 1000;
    for (int wi = 0; wi < W_COUNT; wi++) hist_add(f, SG_OP_CREATE, wi, SG_OUTCOME_OK, "REQUESTED");
    /* the same key with another payload: refused */
    hist_add(f, SG_OP_CREATE, W1, SG_OUTCOME_FAIL, "")->amount_minor = 999;
    f->now_ns = 100000;
    for (int wi = 0; wi < W_COUNT; wi++) hist_add(f, SG_OP_GET, wi, SG_OUTCOME_OK, final[wi]);
    /* an exact retry after completion answers the current status */
    hist_add(f, SG_OP_CREATE, W1, SG_OUTCOME_OK, "COMPLETED");
}

static void open_all(struct fx *f)
{
    for (int i = 0; i < DB_COUNT; i++) {
        const struct sg_schema *s = db_schemas[i];
        snprintf(f->path[i], sizeof f->path[i], "%s/%s", f->dir, s->db_name);
        assert_int_equal(sqlite3_open(f->path[i], &f->db[i]), SQLITE_OK);
        for (uint32_t v = 0; v < s->version; v++) exec_sql(f->db[i], s->steps[v]);
        exec_sql(f->db[i], "BEGIN");
    }
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sg_check_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    sg_config_default(&f->cfg);
    f->cfg.identity_reject_num = 0; /* only the deny list and the limits decide */
    f->cfg.risk_reject_num = 0;
    sg_history_init(&f->hist);
    open_all(f);
    for (int wi = 0; wi < W_COUNT; wi++) run_saga(f, wi);
    commit_groups(f);
    for (int i = 0; i < DB_COUNT; i++) {
        exec_sql(f->db[i], "COMMIT");
        sqlite3_close(f->db[i]);
        f->db[i] = NULL;
    }
    build_history(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    static const char *const suffixes[] = {"", "-journal", "-wal", "-shm"};
    for (int i = 0; i < DB_COUNT; i++) {
        for (size_t s = 0; s < sizeof suffixes / sizeof suffixes[0]; s++) {
            char p[160];
            snprintf(p, sizeof p, "%s%s", f->path[i], suffixes[s]);
            unlink(p);
        }
    }
    rmdir(f->dir);
    sg_history_deinit(&f->hist);
    free(f);
    return 0;
}

/* ---- running and judging ---- */

static bool run(struct fx *f, bool liveness, struct sg_check_report *out)
{
    struct sg_check_input in = {NULL, f->path[DB_ORCH], f->path[DB_IDENTITY], f->path[DB_RISK],
                                f->path[DB_BROKER], NULL, NULL, &f->hist, &f->cfg, liveness, 0,
                                f->lease};
    bool ok = sg_check_run(&in, out);
    for (size_t i = 0; i < out->count && i < 6; i++)
        print_message("  %s %s\n", sg_inv_name(out->v[i].inv), out->v[i].summary);
    return ok;
}

static const struct sg_violation *find(const struct sg_check_report *out, enum sg_inv inv)
{
    for (size_t i = 0; i < out->count; i++)
        if (out->v[i].inv == inv) return &out->v[i];
    return NULL;
}

/* Runs the checker and asserts that inv, and (when only) nothing else, was reported. */
static const struct sg_violation *expect(struct fx *f, bool liveness, enum sg_inv inv,
                                         bool only)
{
    struct sg_check_report *out = &f->out;
    assert_false(run(f, liveness, out));
    assert_string_equal(out->error, "");
    assert_true(out->failed[inv] > 0);
    const struct sg_violation *v = find(out, inv);
    assert_non_null(v);
    assert_true(v->summary[0] != '\0');
    for (int i = SG_I1; only && i < SG_INV_COUNT; i++)
        if (i != (int)inv) assert_int_equal(out->failed[i], 0);
    return v;
}

static const struct evref *event_of(struct fx *f, int wi, enum sg_event_type t)
{
    for (size_t i = 0; i < f->n_ev; i++)
        if (f->ev[i].wi == wi && f->ev[i].type == t) return &f->ev[i];
    fail_msg("no event %s for withdrawal %d", sg_event_name(t), wi);
    return NULL;
}

/* ---- tests ---- */

static void check__consistent_world__passes(void **state)
{
    struct fx *f = *state;
    struct sg_check_report out;
    assert_true(run(f, true, &out));
    assert_string_equal(out.error, "");
    assert_int_equal(out.count, 0);
    for (int i = SG_I1; i < SG_INV_COUNT; i++) {
        /* this world has no money half (ledger_db, payout_db NULL): I11-I14 count nothing */
        if (out.checked[i] == 0 && i < SG_I11)
            fail_msg("%s checked nothing", sg_inv_name((enum sg_inv)i));
        assert_int_equal(out.failed[i], 0);
    }
    assert_int_equal(out.withdrawals, W_COUNT);
    assert_int_equal(out.by_status[SG_STATUS_COMPLETED], 1);
    assert_int_equal(out.by_status[SG_STATUS_FAILED], 2);
}

static void check__consistent_world__passes_without_heal(void **state)
{
    struct fx *f = *state;
    struct sg_check_report out;
    assert_true(run(f, false, &out));
    assert_true(out.checked[SG_I5] > 0);
    assert_int_equal(out.checked[SG_I8], 0);
}

static void check__missing_database__reports_error(void **state)
{
    struct fx *f = *state;
    struct sg_check_report out;
    snprintf(f->path[DB_BROKER], sizeof f->path[DB_BROKER], "%s/absent.db", f->dir);
    assert_false(run(f, true, &out));
    assert_non_null(strstr(out.error, "broker.db"));
    assert_int_equal(out.count, 0);
    snprintf(f->path[DB_BROKER], sizeof f->path[DB_BROKER], "%s/%s", f->dir,
             db_schemas[DB_BROKER]->db_name);
}

static void check__missing_table__reports_error(void **state)
{
    struct fx *f = *state;
    struct sg_check_report out;
    mutate(f, DB_RISK, "DROP TABLE decisions");
    assert_false(run(f, true, &out));
    assert_non_null(strstr(out.error, "risk.db"));
}

static void check__i1__two_oks_for_one_key_carry_different_ids(void **state)
{
    struct fx *f = *state;
    struct sg_hist_rec *r = hist_add(f, SG_OP_CREATE, W1, SG_OUTCOME_OK, "FAILED");
    snprintf(r->withdrawal_id, sizeof r->withdrawal_id, "%s", specs[W3].wid);
    expect(f, true, SG_I1, true);
}

static void check__i1__other_payload_gets_ok(void **state)
{
    struct fx *f = *state;
    hist_add(f, SG_OP_CREATE, W1, SG_OUTCOME_OK, "COMPLETED")->amount_minor = 1001;
    expect(f, true, SG_I1, true);
}

static void check__i1__two_withdrawals_for_one_key(void **state)
{
    struct fx *f = *state;
    mutate(f, DB_ORCH, "UPDATE withdrawals SET user_id = %Q, idem_key = %Q WHERE"
           " withdrawal_id = %Q", specs[W1].user, specs[W1].key, specs[W3].wid);
    const struct sg_violation *v = expect(f, true, SG_I1, false);
    assert_non_null(strstr(v->summary, "2 withdrawals"));
}

/* ---- I1 (e): ABORTED only under a live lease ---- */

#define MS ((int64_t)1000000)

/* A create of W1's payload and key by client, invoked at invoke_ms, answered code 5 ms
 * later. */
static struct sg_hist_rec *attempt(struct fx *f, uint32_t client, int64_t invoke_ms,
                                   uint32_t code)
{
    struct sg_hist_rec *r = hist_add(f, SG_OP_CREATE, W1, sg_outcome_of_code(code), "COMPLETED");
    r->client = client;
    r->code = code;
    r->outcome = sg_outcome_of_code(code);
    r->invoke_ns = invoke_ms * MS;
    r->complete_ns = r->invoke_ns + 5 * MS;
    if (code == SG_CODE_ABORTED) snprintf(r->withdrawal_id, sizeof r->withdrawal_id, "%s",
                                          specs[W1].wid);
    return r;
}

/* A 200 ms lease, 10 ms deliveries, a steady clock, no duplicates. */
static void lease_bounds(struct fx *f)
{
    f->cfg.lease_ttl_ns = 200 * MS;
    f->lease = (struct sg_lease_bounds){.known = true, .msg_delay_max_ns = 10 * MS,
                                        .clock_lag_max_ns = 0, .dup_until_ns = -1};
}

/* The expired-lease-aborts shape: a client retries ABORTED for seconds, each retry long
 * after any lease its earlier attempts could have set, then gets OK. I1 only: the call was
 * answered in the end, so I8 holds. */
static void check__i1__aborted_without_live_lease(void **state)
{
    struct fx *f = *state;
    lease_bounds(f);
    attempt(f, 7, 1000, SG_CODE_TIMEOUT)->outcome = SG_OUTCOME_UNKNOWN;
    attempt(f, 7, 2000, SG_CODE_ABORTED);
    attempt(f, 7, 3000, SG_CODE_ABORTED);
    attempt(f, 7, 3100, SG_CODE_ABORTED); /* 100 ms after an attempt: could be live */
    attempt(f, 7, 4000, SG_CODE_OK);
    const struct sg_violation *v = expect(f, true, SG_I1, true);
    assert_string_equal(v->withdrawal_id, specs[W1].wid);
    assert_non_null(strstr(v->summary, "key 'key-1'"));
    assert_non_null(strstr(v->summary, "2 ABORTED answers while no lease could be live"));
    assert_non_null(strstr(v->summary, "client 7 (invoked 2000000000, done 2005000000"));
    assert_non_null(strstr(v->summary, "the last other invoked at 1000000000"));
    assert_int_equal(f->out.failed[SG_I1], 1); /* one violation per key */
    /* another payload under the key reserves nothing: it excuses no ABORTED */
    attempt(f, 8, 1950, SG_CODE_FAILED_PRECONDITION)->amount_minor = 7;
    expect(f, true, SG_I1, true);
    /* not judged without the run's bounds (live runs) */
    f->lease.known = false;
    struct sg_check_report out;
    assert_true(run(f, true, &out));
}

/* Every way another attempt may hold a live lease excuses ABORTED. */
static void check__i1__aborted_under_possible_live_lease__passes(void **state)
{
    struct fx *f = *state;
    struct sg_check_report out;
    lease_bounds(f);
    attempt(f, 7, 9000, SG_CODE_OK); /* the call's end: I8 holds */
    attempt(f, 7, 1000, SG_CODE_TIMEOUT)->outcome = SG_OUTCOME_UNKNOWN;
    attempt(f, 7, 1205, SG_CODE_ABORTED); /* within lease_ttl + delay of the first */
    assert_true(run(f, true, &out));
    assert_true(out.checked[SG_I1] > 0);
    attempt(f, 7, 3000, SG_CODE_ABORTED); /* a twin of another client meanwhile: a */
    attempt(f, 9, 3002, SG_CODE_OK);      /* takeover fences this one out */
    assert_true(run(f, true, &out));
    attempt(f, 7, 5000, SG_CODE_ABORTED);
    assert_false(run(f, true, &out)); /* nothing near 5 s: wrong ... */
    f->lease.clock_lag_max_ns = 2000 * MS;
    assert_true(run(f, true, &out)); /* ... unless the clock may have stepped back 2 s */
    f->lease.clock_lag_max_ns = 0;
    f->lease.dup_until_ns = 5000 * MS;
    assert_true(run(f, true, &out)); /* ... or the attempt itself may have been duplicated */
}

static void check__i2__withdrawal_without_request(void **state)
{
    struct fx *f = *state;
    size_t n = 0;
    for (size_t i = 0; i < f->hist.count; i++) {
        const struct sg_hist_rec *r = &f->hist.recs[i];
        if (r->op == SG_OP_CREATE && strcmp(r->key, specs[W3].raw_key) == 0) continue;
        f->hist.recs[n++] = *r;
    }
    f->hist.count = n;
    const struct sg_violation *v = expect(f, true, SG_I2, true);
    assert_string_equal(v->withdrawal_id, specs[W3].wid);
}

static void check__i3__illegal_transition(void **state)
{
    struct fx *f = *state;
    mutate(f, DB_ORCH, "INSERT INTO transitions VALUES(%Q, 3, 'FAILED', 'CANCELED', '', 0)",
           specs[W2].wid);
    const struct sg_violation *v = expect(f, false, SG_I3, true);
    assert_non_null(strstr(v->summary, "illegal"));
}

static void check__i3__transition_log_gap(void **state)
{
    struct fx *f = *state;
    mutate(f, DB_ORCH, "UPDATE transitions SET seq = 5 WHERE withdrawal_id = %Q AND seq = 3",
           specs[W1].wid);
    const struct sg_violation *v = expect(f, false, SG_I3, true);
    assert_string_equal(v->withdrawal_id, specs[W1].wid);
}

static void check__i3__observed_status_goes_backwards(void **state)
{
    struct fx *f = *state;
    hist_add(f, SG_OP_GET, W1, SG_OUTCOME_OK, "IN_PROGRESS");
    const struct sg_violation *v = expect(f, true, SG_I3, true);
    assert_non_null(strstr(v->summary, "backwards"));
}

static void check__i3__delayed_old_reply__is_not_a_violation(void **state)
{
    struct fx *f = *state;
    /* invoked before the final read completed, answered late: concurrent, so allowed */
    struct sg_hist_rec *r = hist_add(f, SG_OP_GET, W1, SG_OUTCOME_OK, "IN_PROGRESS");
    r->invoke_ns = 99000;
    struct sg_check_report out;
    assert_true(run(f, true, &out));
}

static void check__i4__saga_disagrees_with_status(void **state)
{
    struct fx *f = *state;
    mutate(f, DB_ORCH, "UPDATE sagas SET state = 'FAILED' WHERE withdrawal_id = %Q",
           specs[W1].wid);
    const struct sg_violation *v = expect(f, true, SG_I4, true);
    assert_non_null(strstr(v->summary, "saga FAILED/DONE"));
}

static void check__i5__outbox_row_missing_from_log(void **state)
{
    struct fx *f = *state;
    const struct evref *e = event_of(f, W1, SG_EVT_WITHDRAWAL_COMPLETED);
    mutate(f, DB_BROKER, "DELETE FROM records WHERE topic = %Q AND partition = %u AND"
           " offset = %lld", e->topic, e->partition, (long long)e->offset);
    expect(f, true, SG_I5, true);
}

static void check__i5__not_judged_without_heal(void **state)
{
    struct fx *f = *state;
    const struct evref *e = event_of(f, W1, SG_EVT_WITHDRAWAL_COMPLETED);
    mutate(f, DB_BROKER, "DELETE FROM records WHERE topic = %Q AND partition = %u AND"
           " offset = %lld", e->topic, e->partition, (long long)e->offset);
    struct sg_check_report out;
    assert_true(run(f, false, &out));
    assert_true(out.checked[SG_I5] > 0);
}

static void check__i5__record_without_outbox_row(void **state)
{
    struct fx *f = *state;
    mutate(f, DB_IDENTITY, "DELETE FROM outbox WHERE event_id = %Q",
           event_of(f, W1, SG_EVT_IDENTITY_VERIFIED)->id);
    const struct sg_violation *v = expect(f, true, SG_I5, true);
    assert_non_null(strstr(v->summary, "no outbox row"));
}

static void check__i5__event_id_in_two_outbox_rows(void **state)
{
    struct fx *f = *state;
    mutate(f, DB_RISK, "UPDATE outbox SET event_id = %Q WHERE event_id = %Q",
           event_of(f, W1, SG_EVT_IDENTITY_VERIFIED)->id,
           event_of(f, W1, SG_EVT_RISK_APPROVED)->id);
    expect(f, true, SG_I5, false); /* the risk event's record now has no outbox row too */
    bool found = false;
    for (size_t i = 0; i < f->out.count; i++)
        found |= f->out.v[i].inv == SG_I5 && strstr(f->out.v[i].summary, "two outbox rows");
    assert_true(found);
}

static void check__i5__command_never_consumed(void **state)
{
    struct fx *f = *state;
    mutate(f, DB_RISK, "DELETE FROM inbox WHERE event_id = %Q",
           event_of(f, W1, SG_EVT_RISK_CHECK_REQUESTED)->id);
    const struct sg_violation *v = expect(f, true, SG_I5, false);
    assert_non_null(strstr(v->summary, "never consumed"));
}

static void check__i5__records_out_of_commit_order(void **state)
{
    struct fx *f = *state;
    const struct evref *a = event_of(f, W1, SG_EVT_WITHDRAWAL_REQUESTED);
    const struct evref *b = event_of(f, W1, SG_EVT_WITHDRAWAL_IN_PROGRESS);
    assert_int_equal(a->partition, b->partition);
    const char *where = sqlite3_mprintf("topic = %Q AND partition = %u", a->topic, a->partition);
    assert_non_null(where);
    mutate(f, DB_BROKER, "UPDATE records SET offset = -1 WHERE %s AND offset = %lld;"
           "UPDATE records SET offset = %lld WHERE %s AND offset = %lld;"
           "UPDATE records SET offset = %lld WHERE %s AND offset = -1", where,
           (long long)a->offset, (long long)a->offset, where, (long long)b->offset,
           (long long)b->offset, where);
    sqlite3_free((void *)where);
    const struct sg_violation *v = expect(f, true, SG_I5, true);
    assert_string_equal(v->withdrawal_id, specs[W1].wid);
}

static void check__i6__decision_event_caused_two_transitions(void **state)
{
    struct fx *f = *state;
    mutate(f, DB_ORCH, "UPDATE transitions SET cause_event_id = %Q WHERE withdrawal_id = %Q"
           " AND seq = 3", event_of(f, W1, SG_EVT_IDENTITY_VERIFIED)->id, specs[W1].wid);
    expect(f, true, SG_I6, true);
}

static void check__i6__command_applied_twice(void **state)
{
    struct fx *f = *state;
    const struct evref *e = event_of(f, W1, SG_EVT_VERIFY_IDENTITY_REQUESTED);
    mutate(f, DB_IDENTITY, "INSERT INTO inbox VALUES('e-extra', 'e-extra', %Q, %Q, %u, 99,"
           " 'APPLIED', %Q, 0)", sg_event_name(e->type), e->topic, e->partition,
           specs[W1].trace);
    expect(f, true, SG_I6, true);
}

static void check__i7__completed_without_identity_approval(void **state)
{
    struct fx *f = *state;
    mutate(f, DB_IDENTITY, "UPDATE decisions SET decision = 'REJECTED', reason ="
           " 'identity: user denied' WHERE withdrawal_id = %Q", specs[W1].wid);
    const struct sg_violation *v = expect(f, true, SG_I7, true);
    assert_string_equal(v->withdrawal_id, specs[W1].wid);
}

static void check__i7__failure_reason_differs(void **state)
{
    struct fx *f = *state;
    mutate(f, DB_ORCH, "UPDATE withdrawals SET failure_reason = 'risk: flagged' WHERE"
           " withdrawal_id = %Q", specs[W3].wid);
    const struct sg_violation *v = expect(f, true, SG_I7, true);
    assert_non_null(strstr(v->summary, "risk: amount exceeds limit"));
}

static void check__i8__group_behind_log_end(void **state)
{
    struct fx *f = *state;
    mutate(f, DB_BROKER, "UPDATE group_offsets SET offset = offset - 1 WHERE"
           " grp = 'cbsaga-identity'");
    const struct sg_violation *v = expect(f, true, SG_I8, true);
    assert_true(v->liveness);
    struct sg_check_report out;
    assert_true(run(f, false, &out)); /* no heal phase: not judged */
}

/* A create turned away for good (every attempt ABORTED: an expired lease never taken
 * over) is a liveness violation; the same chain ended by an OK is not. */
static void check__i8__create_without_definite_answer(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 3; i++) {
        struct sg_hist_rec *r = hist_add(f, SG_OP_CREATE, W1, SG_OUTCOME_FAIL, NULL);
        snprintf(r->key, sizeof r->key, "key-stuck");
        r->client = 9;
        r->code = SG_CODE_ABORTED;
    }
    const struct sg_violation *v = expect(f, true, SG_I8, true);
    assert_non_null(strstr(v->summary, "key-stuck"));
    assert_non_null(strstr(v->summary, "3 attempts, the last answered ABORTED"));
    struct sg_check_report out;
    assert_true(run(f, false, &out)); /* no heal phase: not judged */
}

static void check__i8__create_answered_after_aborts__passes(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 3; i++) {
        struct sg_hist_rec *r = hist_add(f, SG_OP_CREATE, W1, SG_OUTCOME_FAIL, NULL);
        r->code = i == 0 ? SG_CODE_UNAVAILABLE : SG_CODE_ABORTED;
        r->outcome = i == 0 ? SG_OUTCOME_UNKNOWN : SG_OUTCOME_FAIL;
    }
    hist_add(f, SG_OP_CREATE, W1, SG_OUTCOME_OK, "COMPLETED"); /* the same call, answered */
    struct sg_check_report out;
    assert_true(run(f, true, &out));
    assert_true(out.checked[SG_I8] > 0);
}

static void check__i9__ok_create_without_withdrawal(void **state)
{
    struct fx *f = *state;
    struct sg_hist_rec *r = hist_add(f, SG_OP_CREATE, W1, SG_OUTCOME_OK, "REQUESTED");
    snprintf(r->key, sizeof r->key, "key-lost");
    snprintf(r->withdrawal_id, sizeof r->withdrawal_id, "a9000000-0000-4000-8000-000000000009");
    const struct sg_violation *v = expect(f, true, SG_I9, true);
    assert_string_equal(v->withdrawal_id, "a9000000-0000-4000-8000-000000000009");
}

static void check__i10__outbox_trace_differs(void **state)
{
    struct fx *f = *state;
    mutate(f, DB_IDENTITY, "UPDATE outbox SET trace_id = 'ffffffffffffffffffffffffffffffff'"
           " WHERE aggregate_id = %Q", specs[W2].wid);
    const struct sg_violation *v = expect(f, true, SG_I10, true);
    assert_string_equal(v->withdrawal_id, specs[W2].wid);
}

static void check__poison_records__are_ignored(void **state)
{
    struct fx *f = *state;
    const struct evref *e = event_of(f, W1, SG_EVT_VERIFY_IDENTITY_REQUESTED);
    int ti = sg_topic_index(e->topic);
    long long off = (long long)f->next_off[ti][e->partition];
    mutate(f, DB_BROKER, "INSERT INTO records VALUES(%Q, %u, %lld, 'junk', X'ff01', 1)",
           e->topic, e->partition, off);
    mutate(f, DB_BROKER, "UPDATE group_offsets SET offset = %lld WHERE grp = 'cbsaga-identity'"
           " AND partition = %u", off + 1, e->partition);
    mutate(f, DB_IDENTITY, "INSERT INTO inbox VALUES('poison:%s:%u:%lld', '', '', %Q, %u, %lld,"
           " 'REJECTED', '', 0)", e->topic, e->partition, off, e->topic, e->partition, off);
    struct sg_check_report out;
    assert_true(run(f, true, &out));
}

static void check__violations__keeps_the_first_max(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < SG_VIOLATIONS_MAX + 6; i++) {
        struct sg_hist_rec *r = hist_add(f, SG_OP_CREATE, W1, SG_OUTCOME_OK, "REQUESTED");
        snprintf(r->key, sizeof r->key, "lost-%d", i);
        snprintf(r->withdrawal_id, sizeof r->withdrawal_id,
                 "a9000000-0000-4000-8000-%012d", i);
    }
    struct sg_check_report out;
    assert_false(run(f, true, &out));
    assert_int_equal(out.count, SG_VIOLATIONS_MAX);
    assert_int_equal(out.failed[SG_I9], SG_VIOLATIONS_MAX + 6);
    assert_string_equal(out.v[0].withdrawal_id, "a9000000-0000-4000-8000-000000000000");
}

static void check__inv_names__cover_every_invariant(void **state)
{
    (void)state;
    assert_string_equal(sg_inv_name(SG_I1), "I1");
    assert_string_equal(sg_inv_name(SG_I10), "I10");
    assert_string_equal(sg_inv_title(SG_I4), "saga-consistent");
    assert_string_equal(sg_inv_title(SG_I10), "trace-propagated");
    for (int i = SG_I1; i < SG_INV_COUNT; i++)
        assert_string_not_equal(sg_inv_title((enum sg_inv)i), "?");
    assert_string_equal(sg_inv_name((enum sg_inv)0), "?");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(check__consistent_world__passes),
        T(check__consistent_world__passes_without_heal),
        T(check__missing_database__reports_error),
        T(check__missing_table__reports_error),
        T(check__i1__two_oks_for_one_key_carry_different_ids),
        T(check__i1__other_payload_gets_ok),
        T(check__i1__two_withdrawals_for_one_key),
        T(check__i1__aborted_without_live_lease),
        T(check__i1__aborted_under_possible_live_lease__passes),
        T(check__i2__withdrawal_without_request),
        T(check__i3__illegal_transition),
        T(check__i3__transition_log_gap),
        T(check__i3__observed_status_goes_backwards),
        T(check__i3__delayed_old_reply__is_not_a_violation),
        T(check__i4__saga_disagrees_with_status),
        T(check__i5__outbox_row_missing_from_log),
        T(check__i5__not_judged_without_heal),
        T(check__i5__record_without_outbox_row),
        T(check__i5__event_id_in_two_outbox_rows),
        T(check__i5__command_never_consumed),
        T(check__i5__records_out_of_commit_order),
        T(check__i6__decision_event_caused_two_transitions),
        T(check__i6__command_applied_twice),
        T(check__i7__completed_without_identity_approval),
        T(check__i7__failure_reason_differs),
        T(check__i8__group_behind_log_end),
        T(check__i8__create_without_definite_answer),
        T(check__i8__create_answered_after_aborts__passes),
        T(check__i9__ok_create_without_withdrawal),
        T(check__i10__outbox_trace_differs),
        T(check__poison_records__are_ignored),
        T(check__violations__keeps_the_first_max),
        cmocka_unit_test(check__inv_names__cover_every_invariant),
    };
#undef T
    return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
