/*
 * test_idem.c: the orchestrator's idempotency protocol (DESIGN §8 "Idempotency protocol",
 * §8.1 "Work step order", "Clocks") and the recovery properties it promises.
 *
 * Why: a create spans two steps (the reservation, then the work step as its own event at
 * the same virtual time), so the only race window between two requests with one key, a
 * crash, a clock jump or a failed fsync falls between those steps. These tests open that
 * window on purpose: they step the world one event at a time (sg_world_step) and check the
 * rows between the steps, crash nodes at every named fault point, move the orchestrator's
 * wall clock, and fail its next fsync. Every outcome of the protocol's table is pinned:
 * OK (fresh, exact retry, takeover), FAILED_PRECONDITION, ABORTED (with the id), and
 * UNAVAILABLE (outcome unknown, settled by the retry), together with the cross-row
 * properties the checker judges (one withdrawal per key, legal contiguous transitions,
 * at most one decision per withdrawal, every outbox row in the broker log, trace ids).
 *
 * The system is simtest's: four nodes started at time 0, exactly 1 ms per message. The
 * identity and risk rejection rates are set to zero so every saga ends COMPLETED unless a
 * test cancels it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "simtest.h"
#include "status.h"
#include "timer.h"

#define USER_A "7f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
#define USER_B "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d"
#define ORCH_DISK "/n1/"

/* ---- the system and the requests ---- */

struct req {
    const char *user, *asset;
    int64_t amount;
    const char *dest, *key, *trace;
};

static const struct req req_a = {USER_A, "BTC", 12345, "bc1qdestination", "key-1", NULL};

/* Orchestrator trace records that tell the protocol's story (survive restarts). */
struct orch_log {
    unsigned reserves, takeovers, fenced_out, created;
};

static void orch_log_sink(void *ctx, int64_t at_ns, uint32_t node, const char *text)
{
    (void)at_ns;
    struct orch_log *log = ctx;
    if (node != SG_NODE_ORCH) return;
    if (strncmp(text, "reserve wid=", 12) == 0) {
        log->reserves++;
        if (strstr(text, " fence=1") == NULL) log->takeovers++;
    }
    if (strncmp(text, "fenced out ", 11) == 0) log->fenced_out++;
    if (strncmp(text, "created wid=", 12) == 0) log->created++;
}

/* The system lives in cmocka's state so the teardown frees it even when a test fails. */
static struct simtest *sys_new(void **state, uint64_t seed, const struct sg_config *cfg,
                               struct orch_log *log)
{
    struct sg_config c;
    if (cfg) c = *cfg;
    else st_config_approving(&c);
    struct simtest *t = st_new_cfg(seed, &c);
    assert_non_null(t);
    *state = t;
    if (log) {
        memset(log, 0, sizeof *log);
        t->w->trace.sink = orch_log_sink;
        t->w->trace.sink_ctx = log;
    }
    return t;
}

static uint64_t send_req(struct simtest *t, const struct req *r)
{
    return st_create(t, r->user, r->asset, r->amount, r->dest, r->key, r->trace);
}

static void arm_crash(struct simtest *t, const char *point, enum sg_role role)
{
    t->w->opt.crash_at_count = 0;
    memset(t->w->crash_hits, 0, sizeof t->w->crash_hits);
    assert_true(sg_world_add_crash_at(&t->w->opt, role, point, 1));
}

static const struct st_reply *reply_of(const struct simtest *t, uint64_t id, uint32_t code)
{
    const struct st_reply *r = st_reply_to(t, id);
    assert_non_null(r);
    assert_int_equal(r->code, code);
    return r;
}

/* How many replies a request got (each request must get at most one). */
static size_t replies_to(const struct simtest *t, uint64_t id)
{
    size_t n = 0;
    for (size_t i = 0; i < t->reply_count; i++)
        if (t->replies[i].correlation_id == id) n++;
    return n;
}

/* ---- stepping the world one event at a time ---- */

static bool is_client_delivery(const struct sg_event *ev)
{
    return ev->kind == SG_EV_DELIVER && ev->node == SG_NODE_ORCH && ev->from == SG_NODE_CLIENT0;
}

static bool is_orch_work(const struct sg_event *ev)
{
    return ev->kind == SG_EV_TIMER && ev->node == SG_NODE_ORCH &&
           sg_tag_kind(ev->tag) == SG_TIMER_ORCH_WORK;
}

static const struct sg_event *peek(struct simtest *t)
{
    const struct sg_event *ev = sg_sched_peek(&t->w->sched);
    assert_non_null(ev);
    return ev;
}

static void step_one(struct simtest *t)
{
    assert_true(sg_world_step(t->w, INT64_MAX));
}

/* Runs events until the next one satisfies pred (which is not run). */
static void step_until(struct simtest *t, bool (*pred)(const struct sg_event *))
{
    for (int i = 0; i < 100000; i++) {
        if (pred(peek(t))) return;
        step_one(t);
    }
    fail_msg("the awaited event never came");
}

/* ---- reading the nodes' tables ---- */

static sqlite3 *db_of(struct simtest *t, enum sg_role role)
{
    sqlite3 *db = st_node_db(t, role);
    assert_non_null(db);
    return db;
}

__attribute__((format(printf, 3, 4))) static int64_t q_int(struct simtest *t, enum sg_role role,
                                                         const char *fmt, ...)
{
    char sql[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof sql);
    int64_t v = st_int(db_of(t, role), sql);
    assert_true(v != -2); /* the SQL prepared */
    return v;
}

static void col_copy(sqlite3_stmt *st, int i, char *out, size_t cap)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    snprintf(out, cap, "%s", s ? (const char *)s : "");
}

struct idem_row {
    bool found;
    char status[16], withdrawal_id[40], owner[40];
    int64_t fence;
};

static struct idem_row idem_get(struct simtest *t, const char *user, const char *key)
{
    struct idem_row row;
    memset(&row, 0, sizeof row);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db_of(t, SG_ROLE_ORCH),
                                        "SELECT status, withdrawal_id, owner, fence FROM"
                                        " idempotency WHERE user_id = ? AND idem_key = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, user, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        row.found = true;
        col_copy(st, 0, row.status, sizeof row.status);
        col_copy(st, 1, row.withdrawal_id, sizeof row.withdrawal_id);
        col_copy(st, 2, row.owner, sizeof row.owner);
        row.fence = sqlite3_column_int64(st, 3);
    }
    sqlite3_finalize(st);
    return row;
}

/* A text column of the first row of a query with one text parameter ("" when none). */
static void q_text(struct simtest *t, enum sg_role role, const char *sql, const char *arg,
                   char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db_of(t, role), sql, -1, &st, NULL), SQLITE_OK);
    if (arg) sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
    out[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW) col_copy(st, 0, out, cap);
    sqlite3_finalize(st);
}

static int64_t withdrawal_count(struct simtest *t)
{
    return q_int(t, SG_ROLE_ORCH, "SELECT COUNT(*) FROM withdrawals");
}

static void withdrawal_status(struct simtest *t, const char *wid, char out[16])
{
    q_text(t, SG_ROLE_ORCH, "SELECT status FROM withdrawals WHERE withdrawal_id = ?", wid, out,
           16);
}

/* ---- cross-row checks (what check/ judges as I1, I3-I6) ---- */

/* The transition log of wid is contiguous from seq 1, starts at REQUESTED, follows the
 * state machine, ends at the withdrawal's status, and the saga row agrees (I3, I4).
 * Returns the number of transitions. */
static int64_t assert_transitions(struct simtest *t, const char *wid)
{
    char status[16];
    withdrawal_status(t, wid, status);
    enum sg_status final = sg_status_parse(status);
    assert_true(final != SG_STATUS_COUNT && final != SG_STATUS_NONE);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db_of(t, SG_ROLE_ORCH),
                                        "SELECT seq, from_status, to_status FROM transitions"
                                        " WHERE withdrawal_id = ? ORDER BY seq",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, wid, -1, SQLITE_TRANSIENT);
    enum sg_status prev = SG_STATUS_NONE;
    int64_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW && n < 16) {
        n++;
        char from[16], to[16];
        assert_int_equal(sqlite3_column_int64(st, 0), n);
        col_copy(st, 1, from, sizeof from);
        col_copy(st, 2, to, sizeof to);
        assert_string_equal(from, sg_status_name(prev));
        enum sg_status next = sg_status_parse(to);
        assert_true(sg_transition_legal(prev, next));
        prev = next;
    }
    sqlite3_finalize(st);
    assert_true(n >= 1);
    assert_int_equal(prev, final);
    char state[16], step[20];
    q_text(t, SG_ROLE_ORCH, "SELECT state FROM sagas WHERE withdrawal_id = ?", wid, state,
           sizeof state);
    q_text(t, SG_ROLE_ORCH, "SELECT current_step FROM sagas WHERE withdrawal_id = ?", wid, step,
           sizeof step);
    assert_string_equal(state, sg_saga_state_of(final));
    assert_string_equal(step, sg_saga_step_of(final));
    /* One evt.withdrawal outbox row per transition-log row. */
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM outbox WHERE route_key = 'evt.withdrawal'"
             " AND aggregate_id = '%s'", wid);
    assert_int_equal(st_int(db_of(t, SG_ROLE_ORCH), sql), n);
    return n;
}

/* Every event id the broker's log holds (decoded from the record values; injected poison
 * records skipped). Caller frees. */
struct id_set {
    char (*ids)[40];
    size_t n, cap;
};

static void id_set_add(struct id_set *s, const char *id)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->ids = realloc(s->ids, s->cap * sizeof *s->ids);
        assert_non_null(s->ids);
    }
    snprintf(s->ids[s->n++], sizeof s->ids[0], "%s", id);
}

static bool id_set_has(const struct id_set *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], id) == 0) return true;
    return false;
}

static struct id_set broker_event_ids(struct simtest *t, const char *want_trace)
{
    struct id_set s = {NULL, 0, 0};
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db_of(t, SG_ROLE_BROKER),
                                        "SELECT value FROM records WHERE injected = 0"
                                        " ORDER BY topic, partition, offset",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        SgEvent *ev = sg_event_decode(sqlite3_column_blob(st, 0),
                                      (size_t)sqlite3_column_bytes(st, 0));
        assert_non_null(ev);
        assert_true(ev->event_id[0] != '\0');
        if (want_trace) assert_string_equal(ev->trace_id, want_trace);
        id_set_add(&s, ev->event_id);
        sg_event_free(ev);
    }
    sqlite3_finalize(st);
    return s;
}

/* Every outbox row of a service is in the broker log (I5). Returns the rows checked. */
static size_t assert_outbox_published(struct simtest *t, enum sg_role role,
                                      const struct id_set *log)
{
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    assert_int_equal(
        sqlite3_prepare_v2(db_of(t, role), "SELECT event_id FROM outbox ORDER BY seq", -1, &st,
                           NULL),
        SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        assert_non_null(id);
        if (!id_set_has(log, id)) fail_msg("outbox event %s of role %d is not in the broker log",
                                           id, (int)role);
        n++;
    }
    sqlite3_finalize(st);
    return n;
}

/* Every outbox row of `producer` on route_key has been consumed by `consumer`: an inbox
 * row with its event id exists (DESIGN §8 "Invariant data": every command is consumed). */
static void assert_consumed(struct simtest *t, enum sg_role producer, const char *route_key,
                            enum sg_role consumer)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db_of(t, producer),
                                        "SELECT event_id FROM outbox WHERE route_key = ?", -1,
                                        &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, route_key, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        assert_non_null(id);
        if (q_int(t, consumer, "SELECT COUNT(*) FROM inbox WHERE event_id = '%s'", id) != 1)
            fail_msg("%s event %s was not consumed once", route_key, id);
    }
    sqlite3_finalize(st);
}

/* The whole system holds exactly one withdrawal, wid, for (user, key), in a terminal
 * status, with a legal history, at most one decision per service, and every outbox row of
 * every service in the broker log. */
static void assert_one_settled_withdrawal(struct simtest *t, const struct req *r, const char *wid,
                                          const char *want_status)
{
    assert_int_equal(withdrawal_count(t), 1);
    struct idem_row row = idem_get(t, r->user, r->key);
    assert_true(row.found);
    assert_string_equal(row.status, "COMPLETED");
    assert_string_equal(row.withdrawal_id, wid);
    char status[16];
    withdrawal_status(t, wid, status);
    assert_true(sg_status_terminal(sg_status_parse(status)));
    if (want_status) assert_string_equal(status, want_status);
    assert_transitions(t, wid);
    const enum sg_role deciders[] = {SG_ROLE_IDENTITY, SG_ROLE_RISK};
    for (size_t i = 0; i < 2; i++) {
        assert_true(q_int(t, deciders[i], "SELECT COUNT(*) FROM decisions") <= 1);
        assert_true(q_int(t, deciders[i],
                          "SELECT COUNT(*) FROM decisions WHERE withdrawal_id <> '%s'", wid) == 0);
    }
    if (strcmp(status, "COMPLETED") == 0) {
        assert_int_equal(q_int(t, SG_ROLE_IDENTITY, "SELECT COUNT(*) FROM decisions"
                                                    " WHERE decision = 'APPROVED'"), 1);
        assert_int_equal(q_int(t, SG_ROLE_RISK, "SELECT COUNT(*) FROM decisions"
                                                " WHERE decision = 'APPROVED'"), 1);
    }
    struct id_set log = broker_event_ids(t, NULL);
    assert_true(assert_outbox_published(t, SG_ROLE_ORCH, &log) >= 2);
    (void)assert_outbox_published(t, SG_ROLE_IDENTITY, &log);
    (void)assert_outbox_published(t, SG_ROLE_RISK, &log);
    free(log.ids);
    assert_consumed(t, SG_ROLE_ORCH, "cmd.identity", SG_ROLE_IDENTITY);
    assert_consumed(t, SG_ROLE_ORCH, "cmd.risk", SG_ROLE_RISK);
    assert_consumed(t, SG_ROLE_IDENTITY, "evt.identity", SG_ROLE_ORCH);
    assert_consumed(t, SG_ROLE_RISK, "evt.risk", SG_ROLE_ORCH);
}

/* The test client's retry loop: sends the create, and every second until some attempt got
 * a definite answer sends it again, for total_ns. Every OK must carry the same id (I1).
 * Returns the OK id in wid ("" when none came). */
static void create_until_definite(struct simtest *t, const struct req *r, int64_t total_ns,
                                  char wid[40])
{
    uint64_t sent[64];
    size_t n = 0;
    int64_t end = t->w->now_ns + total_ns;
    bool definite = false;
    wid[0] = '\0';
    while (t->w->now_ns < end) {
        if (!definite && n < 64) sent[n++] = send_req(t, r);
        int64_t left = end - t->w->now_ns;
        st_run_for(t, left < SG_SEC ? left : SG_SEC);
        for (size_t i = 0; i < n; i++) {
            const struct st_reply *rep = st_reply_to(t, sent[i]);
            if (!rep) continue;
            assert_true(replies_to(t, sent[i]) == 1);
            assert_true(rep->code != SG_CODE_FAILED_PRECONDITION);
            assert_true(rep->code != SG_CODE_INVALID_ARGUMENT);
            if (rep->code == SG_CODE_ABORTED) assert_true(rep->withdrawal_id[0] != '\0');
            if (rep->code != SG_CODE_OK) continue;
            if (wid[0]) assert_string_equal(rep->withdrawal_id, wid);
            else snprintf(wid, 40, "%s", rep->withdrawal_id);
            definite = true;
        }
    }
}

static int sys_free(void **state)
{
    struct simtest *t = *state;
    if (t) t->w->trace.sink = NULL; /* the test's orch_log is gone with its frame */
    st_free(t);
    *state = NULL;
    return 0;
}

/* ---- fresh keys and exact retries ---- */

static void idem__answers_ok_requested__for_fresh_key(void **state)
{
    struct simtest *t = sys_new(state, 1, NULL, NULL);
    uint64_t id = send_req(t, &req_a);
    st_run_for(t, 3 * SG_MS);
    const struct st_reply *r = reply_of(t, id, SG_CODE_OK);
    assert_string_equal(r->status, "REQUESTED");
    assert_int_equal(strlen(r->withdrawal_id), 36);
    struct idem_row row = idem_get(t, USER_A, "key-1");
    assert_true(row.found);
    assert_string_equal(row.status, "COMPLETED");
    assert_int_equal(row.fence, 1);
    assert_string_equal(row.withdrawal_id, r->withdrawal_id);
    assert_int_equal(withdrawal_count(t), 1);
    assert_int_equal(q_int(t, SG_ROLE_ORCH, "SELECT amount_minor FROM withdrawals"), 12345);
}

static void idem__answers_ok_with_same_id_and_current_status__for_exact_retry(void **state)
{
    struct simtest *t = sys_new(state, 2, NULL, NULL);
    uint64_t first = send_req(t, &req_a);
    st_run_for(t, 3 * SG_MS);
    char wid[40];
    snprintf(wid, sizeof wid, "%s", reply_of(t, first, SG_CODE_OK)->withdrawal_id);
    assert_string_equal(st_settle(t, wid, 10 * SG_SEC), "COMPLETED");
    uint64_t retry = send_req(t, &req_a);
    st_run_for(t, 3 * SG_MS);
    const struct st_reply *r = reply_of(t, retry, SG_CODE_OK);
    assert_string_equal(r->withdrawal_id, wid);
    assert_string_equal(r->status, "COMPLETED"); /* the current status, not REQUESTED */
    assert_int_equal(withdrawal_count(t), 1);
    assert_int_equal(idem_get(t, USER_A, "key-1").fence, 1);
}

static void idem__answers_ok_with_same_id__for_retry_equal_after_normalisation(void **state)
{
    struct simtest *t = sys_new(state, 3, NULL, NULL);
    const struct req raw = {"  7F1C2A3B-4D5E-4F60-8A7B-9C0D1E2F3A4B ", " btc", 12345,
                            "bc1qdestination  ", "\tkey-1 ", NULL};
    uint64_t first = send_req(t, &raw);
    st_run_for(t, 3 * SG_MS);
    char wid[40];
    snprintf(wid, sizeof wid, "%s", reply_of(t, first, SG_CODE_OK)->withdrawal_id);
    uint64_t retry = send_req(t, &req_a);
    st_run_for(t, 3 * SG_MS);
    assert_string_equal(reply_of(t, retry, SG_CODE_OK)->withdrawal_id, wid);
    assert_true(idem_get(t, USER_A, "key-1").found);
    assert_int_equal(withdrawal_count(t), 1);
}

static void idem__creates_independent_withdrawals__for_same_key_of_other_users(void **state)
{
    struct simtest *t = sys_new(state, 4, NULL, NULL);
    struct req b = req_a;
    b.user = USER_B;
    uint64_t ia = send_req(t, &req_a);
    uint64_t ib = send_req(t, &b);
    st_run_for(t, 3 * SG_MS);
    const struct st_reply *ra = reply_of(t, ia, SG_CODE_OK);
    const struct st_reply *rb = reply_of(t, ib, SG_CODE_OK);
    assert_string_not_equal(ra->withdrawal_id, rb->withdrawal_id);
    assert_int_equal(withdrawal_count(t), 2);
}

/* ---- same key, other payload ---- */

static void idem__answers_failed_precondition__for_other_payload_while_reserved(void **state)
{
    struct orch_log log;
    struct simtest *t = sys_new(state, 5, NULL, &log);
    struct req other = req_a;
    other.amount = 99999;
    uint64_t ia = send_req(t, &req_a);
    uint64_t ib = send_req(t, &other); /* same instant: delivered right after A */
    step_until(t, is_client_delivery);
    step_one(t); /* A's reservation step */
    struct idem_row row = idem_get(t, USER_A, "key-1");
    assert_string_equal(row.status, "RESERVED");
    assert_int_equal(withdrawal_count(t), 0);
    assert_true(is_client_delivery(peek(t))); /* B arrives while A holds the reservation */
    step_one(t);
    assert_true(is_orch_work(peek(t)));
    st_run_for(t, 3 * SG_MS);
    const struct st_reply *rb = reply_of(t, ib, SG_CODE_FAILED_PRECONDITION);
    assert_string_equal(rb->status, "");
    const struct st_reply *ra = reply_of(t, ia, SG_CODE_OK);
    assert_string_equal(ra->withdrawal_id, row.withdrawal_id);
    assert_int_equal(withdrawal_count(t), 1);
    assert_int_equal(q_int(t, SG_ROLE_ORCH, "SELECT amount_minor FROM withdrawals"), 12345);
    row = idem_get(t, USER_A, "key-1");
    assert_string_equal(row.status, "COMPLETED");
    assert_int_equal(row.fence, 1);
    assert_int_equal(log.reserves, 1);
}

static void idem__answers_failed_precondition__for_other_payload_after_completion(void **state)
{
    struct simtest *t = sys_new(state, 6, NULL, NULL);
    uint64_t ia = send_req(t, &req_a);
    st_run_for(t, 3 * SG_MS);
    char wid[40];
    snprintf(wid, sizeof wid, "%s", reply_of(t, ia, SG_CODE_OK)->withdrawal_id);
    struct req others[3] = {req_a, req_a, req_a};
    others[0].dest = "bc1qelsewhere";
    others[1].asset = "ETH";
    others[2].amount = 12346;
    for (size_t i = 0; i < 3; i++) {
        uint64_t id = send_req(t, &others[i]);
        st_run_for(t, 3 * SG_MS);
        reply_of(t, id, SG_CODE_FAILED_PRECONDITION);
    }
    assert_int_equal(withdrawal_count(t), 1);
    struct idem_row row = idem_get(t, USER_A, "key-1");
    assert_string_equal(row.status, "COMPLETED");
    assert_string_equal(row.withdrawal_id, wid);
    assert_int_equal(row.fence, 1);
}

/* ---- interleaving between the steps ---- */

static void idem__creates_one_and_aborts_loser_with_id__for_interleaved_duplicates(void **state)
{
    struct orch_log log;
    struct simtest *t = sys_new(state, 7, NULL, &log);
    uint64_t ia = send_req(t, &req_a);
    uint64_t ib = send_req(t, &req_a); /* the same instant, the same payload */
    step_until(t, is_client_delivery);
    int64_t at = peek(t)->at_ns;
    step_one(t); /* A: reservation */
    struct idem_row row = idem_get(t, USER_A, "key-1");
    assert_string_equal(row.status, "RESERVED");
    assert_int_equal(row.fence, 1);
    /* B is delivered in the same millisecond, between A's reservation and A's work step. */
    assert_true(is_client_delivery(peek(t)));
    assert_int_equal(peek(t)->at_ns, at);
    step_one(t);
    assert_true(is_orch_work(peek(t)));
    assert_int_equal(peek(t)->at_ns, at);
    assert_int_equal(withdrawal_count(t), 0);
    step_one(t); /* A: work step */
    assert_int_equal(withdrawal_count(t), 1);
    st_run_for(t, 3 * SG_MS);
    const struct st_reply *ra = reply_of(t, ia, SG_CODE_OK);
    const struct st_reply *rb = reply_of(t, ib, SG_CODE_ABORTED);
    assert_string_equal(ra->withdrawal_id, row.withdrawal_id);
    assert_string_equal(rb->withdrawal_id, row.withdrawal_id);
    assert_int_equal(withdrawal_count(t), 1);
    row = idem_get(t, USER_A, "key-1");
    assert_string_equal(row.status, "COMPLETED");
    assert_int_equal(row.fence, 1);
    assert_int_equal(log.reserves, 1);
    assert_int_equal(log.created, 1);
}

static void idem__fences_out_old_owner__for_takeover_after_lease_expiry(void **state)
{
    struct orch_log log;
    struct sg_config cfg;
    st_config_approving(&cfg);
    struct simtest *t = sys_new(state, 8, &cfg, &log);
    uint64_t ia = send_req(t, &req_a);
    uint64_t ib = send_req(t, &req_a);
    step_until(t, is_client_delivery);
    step_one(t); /* A reserves: fence 1 */
    struct idem_row a_row = idem_get(t, USER_A, "key-1");
    assert_string_equal(a_row.status, "RESERVED");
    assert_int_equal(a_row.fence, 1);
    /* Before A's work step, the orchestrator's clock passes A's lease. */
    sg_world_clock_shift(t->w, SG_ROLE_ORCH, cfg.lease_ttl_ns + SG_SEC);
    assert_true(is_client_delivery(peek(t)));
    step_one(t); /* B takes over: fence 2, same id, new owner */
    struct idem_row b_row = idem_get(t, USER_A, "key-1");
    assert_string_equal(b_row.status, "RESERVED");
    assert_int_equal(b_row.fence, 2);
    assert_string_equal(b_row.withdrawal_id, a_row.withdrawal_id);
    assert_string_not_equal(b_row.owner, a_row.owner);
    assert_true(is_orch_work(peek(t)));
    step_one(t); /* A's work step: fenced out, zero rows */
    assert_int_equal(log.fenced_out, 1);
    assert_int_equal(withdrawal_count(t), 0);
    struct idem_row mid = idem_get(t, USER_A, "key-1");
    assert_string_equal(mid.status, "RESERVED");
    assert_int_equal(mid.fence, 2);
    assert_string_equal(mid.owner, b_row.owner);
    assert_true(is_orch_work(peek(t)));
    step_one(t); /* B's work step completes */
    assert_int_equal(withdrawal_count(t), 1);
    st_run_for(t, 3 * SG_MS);
    const struct st_reply *ra = reply_of(t, ia, SG_CODE_ABORTED);
    assert_string_equal(ra->withdrawal_id, a_row.withdrawal_id);
    const struct st_reply *rb = reply_of(t, ib, SG_CODE_OK);
    assert_string_equal(rb->withdrawal_id, a_row.withdrawal_id);
    assert_int_equal(withdrawal_count(t), 1);
    struct idem_row end = idem_get(t, USER_A, "key-1");
    assert_string_equal(end.status, "COMPLETED");
    assert_int_equal(end.fence, 2);
    assert_string_equal(end.owner, b_row.owner);
    assert_int_equal(log.takeovers, 1);
    assert_int_equal(log.created, 1);
}

/* ---- crashes and failed attempts ---- */

static void idem__keeps_reserved_id_across_takeover__for_crash_after_reserve(void **state)
{
    struct orch_log log;
    struct sg_config cfg;
    st_config_approving(&cfg);
    struct simtest *t = sys_new(state, 9, &cfg, &log);
    arm_crash(t, "orch.after_reserve", SG_ROLE_ORCH);
    uint64_t first = send_req(t, &req_a);
    st_run_for(t, 1100 * SG_MS); /* crash at 1 ms, restart at 1.001 s */
    assert_null(st_reply_to(t, first));
    assert_int_equal(t->w->nodes[SG_ROLE_ORCH].crashes, 1);
    struct idem_row row = idem_get(t, USER_A, "key-1");
    assert_string_equal(row.status, "RESERVED");
    assert_int_equal(row.fence, 1);
    assert_int_equal(withdrawal_count(t), 0);
    /* Within the lease: ABORTED with the reserved id, nothing taken over. */
    uint64_t early = send_req(t, &req_a);
    st_run_for(t, 3 * SG_MS);
    assert_string_equal(reply_of(t, early, SG_CODE_ABORTED)->withdrawal_id, row.withdrawal_id);
    assert_int_equal(idem_get(t, USER_A, "key-1").fence, 1);
    /* Past the lease: one takeover, the same id. */
    st_run_for(t, cfg.lease_ttl_ns - 1000 * SG_MS);
    uint64_t late = send_req(t, &req_a);
    st_run_for(t, 3 * SG_MS);
    assert_string_equal(reply_of(t, late, SG_CODE_OK)->withdrawal_id, row.withdrawal_id);
    struct idem_row end = idem_get(t, USER_A, "key-1");
    assert_string_equal(end.status, "COMPLETED");
    assert_int_equal(end.fence, 2);
    assert_string_equal(end.withdrawal_id, row.withdrawal_id);
    assert_int_equal(withdrawal_count(t), 1);
    assert_int_equal(log.takeovers, 1);
    assert_string_equal(st_settle(t, row.withdrawal_id, 10 * SG_SEC), "COMPLETED");
    assert_one_settled_withdrawal(t, &req_a, row.withdrawal_id, "COMPLETED");
}

static void idem__takes_over_with_same_id__for_failed_reservation(void **state)
{
    struct orch_log log;
    struct simtest *t = sys_new(state, 10, NULL, &log);
    arm_crash(t, "orch.after_reserve", SG_ROLE_ORCH);
    uint64_t first = send_req(t, &req_a);
    st_run_for(t, 1100 * SG_MS);
    assert_null(st_reply_to(t, first));
    struct idem_row row = idem_get(t, USER_A, "key-1");
    assert_string_equal(row.status, "RESERVED");
    /* Simulate a definitely failed attempt (§8.1: fenced UPDATE to FAILED), lease still live. */
    assert_int_equal(sqlite3_exec(db_of(t, SG_ROLE_ORCH),
                                  "UPDATE idempotency SET status = 'FAILED'", NULL, NULL, NULL),
                     SQLITE_OK);
    struct req other = req_a;
    other.dest = "bc1qelsewhere";
    uint64_t bad = send_req(t, &other);
    st_run_for(t, 3 * SG_MS);
    reply_of(t, bad, SG_CODE_FAILED_PRECONDITION);
    struct idem_row mid = idem_get(t, USER_A, "key-1");
    assert_string_equal(mid.status, "FAILED");
    assert_int_equal(mid.fence, 1);
    uint64_t retry = send_req(t, &req_a);
    st_run_for(t, 3 * SG_MS);
    const struct st_reply *r = reply_of(t, retry, SG_CODE_OK);
    assert_string_equal(r->withdrawal_id, row.withdrawal_id);
    assert_string_equal(r->status, "REQUESTED");
    struct idem_row end = idem_get(t, USER_A, "key-1");
    assert_string_equal(end.status, "COMPLETED");
    assert_int_equal(end.fence, 2);
    assert_string_not_equal(end.owner, row.owner);
    assert_int_equal(withdrawal_count(t), 1);
    /* After the takeover completed, another payload still gets FAILED_PRECONDITION. */
    uint64_t bad2 = send_req(t, &other);
    st_run_for(t, 3 * SG_MS);
    reply_of(t, bad2, SG_CODE_FAILED_PRECONDITION);
    assert_int_equal(withdrawal_count(t), 1);
}

/* A's work step's COMMIT fails its fsync: outcome unknown -> UNAVAILABLE. Then retries
 * with the same key settle it (after a crash of the orchestrator when crash_after). */
static void unknown_commit_then_retry(void **state, uint64_t seed, bool crash_after)
{
    struct orch_log log;
    struct simtest *t = sys_new(state, seed, NULL, &log);
    uint64_t first = send_req(t, &req_a);
    step_until(t, is_client_delivery);
    step_one(t); /* reservation committed */
    struct idem_row row = idem_get(t, USER_A, "key-1");
    assert_string_equal(row.status, "RESERVED");
    assert_true(is_orch_work(peek(t)));
    uint64_t failures = t->w->vfs.stats.sync_failures;
    sg_vfs_fail_next_sync(&t->w->vfs, ORCH_DISK, 1);
    step_one(t); /* the work step: its COMMIT's fsync fails */
    assert_int_equal(t->w->vfs.stats.sync_failures, failures + 1);
    st_run_for(t, 3 * SG_MS);
    const struct st_reply *r = reply_of(t, first, SG_CODE_UNAVAILABLE);
    assert_string_equal(r->status, "");
    if (crash_after) {
        sg_world_crash(t->w, SG_ROLE_ORCH, true);
        st_run_for(t, 1100 * SG_MS);
    }
    char wid[40];
    create_until_definite(t, &req_a, 12 * SG_SEC, wid);
    assert_string_equal(wid, row.withdrawal_id); /* the one reserved id, either way */
    assert_int_equal(replies_to(t, first), 1);   /* the failed attempt never got an OK */
    assert_int_equal(st_reply_to(t, first)->code, SG_CODE_UNAVAILABLE);
    assert_int_equal(withdrawal_count(t), 1);
    assert_true(log.created <= 2); /* the unknown commit and at most one more */
    assert_string_equal(st_settle(t, wid, 10 * SG_SEC), "COMPLETED");
    st_run_for(t, 2 * SG_SEC);
    assert_one_settled_withdrawal(t, &req_a, wid, "COMPLETED");
}

static uint64_t zero_random(void *ctx)
{
    (void)ctx;
    return 0;
}

/* A power loss of the orchestrator in which every pending write survives (a legal outcome
 * of sim/vfs.h's fault model): sg_world_crash's steps with a keep-all policy. */
static void crash_orch_keeping_pending_writes(struct simtest *t)
{
    struct sg_world_node *n = &t->w->nodes[SG_ROLE_ORCH];
    assert_true(n->up);
    sg_vfs_set_down(&t->w->vfs, ORCH_DISK, true);
    sg_node_stop(&n->node);
    sg_vfs_set_down(&t->w->vfs, ORCH_DISK, false);
    const struct sg_vfs_crash_faults keep_all = {zero_random, NULL, 1, 1, 0, 0};
    sg_vfs_crash(&t->w->vfs, ORCH_DISK, &keep_all);
    n->up = false;
    n->incarnation++; /* its timers die */
    n->crashes++;
}

/* The unknown commit did reach the disk: after the crash the key is COMPLETED, so the
 * retry gets OK with the one id, no takeover, and the saga runs on from the recovered
 * outbox and the re-armed deadline. */
static void idem__answers_ok_without_takeover__for_unknown_commit_that_survived(void **state)
{
    struct orch_log log;
    struct simtest *t = sys_new(state, 14, NULL, &log);
    uint64_t first = send_req(t, &req_a);
    step_until(t, is_client_delivery);
    step_one(t);
    struct idem_row row = idem_get(t, USER_A, "key-1");
    assert_true(is_orch_work(peek(t)));
    sg_vfs_fail_next_sync(&t->w->vfs, ORCH_DISK, 1);
    step_one(t);
    st_run_for(t, 3 * SG_MS);
    reply_of(t, first, SG_CODE_UNAVAILABLE);
    assert_int_equal(withdrawal_count(t), 0); /* not visible to this life */
    crash_orch_keeping_pending_writes(t);
    st_run_for(t, SG_SEC);
    assert_int_equal(sg_world_start(t->w, SG_ROLE_ORCH), SG_OK);
    struct idem_row after = idem_get(t, USER_A, "key-1");
    assert_string_equal(after.status, "COMPLETED");
    assert_int_equal(after.fence, 1);
    assert_int_equal(withdrawal_count(t), 1);
    uint64_t retry = send_req(t, &req_a);
    st_run_for(t, 3 * SG_MS);
    assert_string_equal(reply_of(t, retry, SG_CODE_OK)->withdrawal_id, row.withdrawal_id);
    assert_int_equal(log.takeovers, 0);
    assert_string_equal(st_settle(t, row.withdrawal_id, 10 * SG_SEC), "COMPLETED");
    st_run_for(t, 2 * SG_SEC);
    assert_one_settled_withdrawal(t, &req_a, row.withdrawal_id, "COMPLETED");
    assert_int_equal(replies_to(t, first), 1);
}

static void idem__settles_by_retry__for_unknown_commit_outcome(void **state)
{
    unknown_commit_then_retry(state, 11, false);
}

static void idem__settles_by_retry__for_unknown_commit_outcome_then_crash(void **state)
{
    unknown_commit_then_retry(state, 12, true);
}

static void idem__answers_ok_with_same_id_on_retry__for_crash_after_commit(void **state)
{
    struct simtest *t = sys_new(state, 13, NULL, NULL);
    arm_crash(t, "orch.after_commit", SG_ROLE_ORCH);
    uint64_t first = send_req(t, &req_a);
    st_run_for(t, 1100 * SG_MS);
    assert_null(st_reply_to(t, first)); /* committed, no reply sent */
    assert_int_equal(t->w->nodes[SG_ROLE_ORCH].crashes, 1);
    struct idem_row row = idem_get(t, USER_A, "key-1");
    assert_string_equal(row.status, "COMPLETED");
    assert_int_equal(withdrawal_count(t), 1);
    uint64_t retry = send_req(t, &req_a);
    st_run_for(t, 3 * SG_MS);
    const struct st_reply *r = reply_of(t, retry, SG_CODE_OK);
    assert_string_equal(r->withdrawal_id, row.withdrawal_id);
    assert_int_equal(idem_get(t, USER_A, "key-1").fence, 1);
    assert_string_equal(st_settle(t, row.withdrawal_id, 10 * SG_SEC), "COMPLETED");
    st_run_for(t, 2 * SG_SEC);
    assert_one_settled_withdrawal(t, &req_a, row.withdrawal_id, "COMPLETED");
    assert_null(st_reply_to(t, first));
}

/* ---- a restart at every step boundary of a create and of a decision ---- */

static void recovers_after_crash_at(void **state, uint64_t seed, const char *point,
                                    enum sg_role role)
{
    struct simtest *t = sys_new(state, seed, NULL, NULL);
    arm_crash(t, point, role);
    char wid[40];
    create_until_definite(t, &req_a, 40 * SG_SEC, wid);
    if (t->w->nodes[role].crashes != 1) fail_msg("%s never crashed %s", point, sg_role_name(role));
    assert_int_equal(t->w->nodes[role].restarts, 1);
    assert_true(wid[0] != '\0');
    assert_one_settled_withdrawal(t, &req_a, wid, "COMPLETED");
}

static void idem__recovers_one_withdrawal__for_crash_at_orch_after_reserve(void **state)
{
    recovers_after_crash_at(state, 21, "orch.after_reserve", SG_ROLE_ORCH);
}

static void idem__recovers_one_withdrawal__for_crash_at_orch_after_commit(void **state)
{
    recovers_after_crash_at(state, 22, "orch.after_commit", SG_ROLE_ORCH);
}

static void idem__recovers_one_withdrawal__for_crash_at_orch_relay_after_ack(void **state)
{
    recovers_after_crash_at(state, 23, "relay.after_ack", SG_ROLE_ORCH);
}

static void idem__recovers_one_withdrawal__for_crash_at_identity_relay_after_ack(void **state)
{
    recovers_after_crash_at(state, 24, "relay.after_ack", SG_ROLE_IDENTITY);
}

static void idem__recovers_one_withdrawal__for_crash_at_identity_consumer_after_effect(
    void **state)
{
    recovers_after_crash_at(state, 25, "consumer.after_effect", SG_ROLE_IDENTITY);
}

static void idem__recovers_one_withdrawal__for_crash_at_risk_consumer_after_effect(void **state)
{
    recovers_after_crash_at(state, 26, "consumer.after_effect", SG_ROLE_RISK);
}

static void idem__recovers_one_withdrawal__for_crash_at_orch_consumer_after_effect(void **state)
{
    recovers_after_crash_at(state, 27, "consumer.after_effect", SG_ROLE_ORCH);
}

static void idem__recovers_one_withdrawal__for_crash_at_broker_after_append(void **state)
{
    recovers_after_crash_at(state, 28, "broker.after_append", SG_ROLE_BROKER);
}

/* ---- clocks ---- */

static void idem__waits_out_skewed_lease__for_backwards_clock_jump(void **state)
{
    struct orch_log log;
    struct sg_config cfg;
    st_config_approving(&cfg);
    struct simtest *t = sys_new(state, 30, &cfg, &log);
    arm_crash(t, "orch.after_reserve", SG_ROLE_ORCH);
    uint64_t first = send_req(t, &req_a); /* reserved at 1 ms: lease to wall 5.001 s */
    st_run_for(t, 1100 * SG_MS);
    assert_null(st_reply_to(t, first));
    struct idem_row row = idem_get(t, USER_A, "key-1");
    assert_string_equal(row.status, "RESERVED");
    sg_world_clock_shift(t->w, SG_ROLE_ORCH, -10 * SG_SEC);
    /* The skewed lease ends at true time 15.001 s: retries before it are ABORTED. */
    int64_t lease_end_true = SG_MS + cfg.lease_ttl_ns + 10 * SG_SEC;
    char ok_wid[40] = "";
    int64_t ok_at = 0;
    for (int i = 0; i < 20 && ok_wid[0] == '\0'; i++) {
        uint64_t id = send_req(t, &req_a);
        st_run_for(t, SG_SEC);
        const struct st_reply *r = st_reply_to(t, id);
        assert_non_null(r);
        assert_string_equal(r->withdrawal_id, row.withdrawal_id);
        if (r->code == SG_CODE_OK) {
            snprintf(ok_wid, sizeof ok_wid, "%s", r->withdrawal_id);
            ok_at = r->at_ns;
        } else {
            assert_int_equal(r->code, SG_CODE_ABORTED);
            assert_true(r->at_ns < lease_end_true + 2 * SG_MS);
        }
    }
    assert_string_equal(ok_wid, row.withdrawal_id);
    assert_true(ok_at > lease_end_true);
    assert_true(ok_at < lease_end_true + SG_SEC + 2 * SG_MS);
    struct idem_row end = idem_get(t, USER_A, "key-1");
    assert_string_equal(end.status, "COMPLETED");
    assert_int_equal(end.fence, 2); /* exactly one takeover */
    assert_int_equal(log.takeovers, 1);
    assert_int_equal(log.created, 1); /* never two owners finalise */
    assert_int_equal(withdrawal_count(t), 1);
    assert_string_equal(st_settle(t, ok_wid, 10 * SG_SEC), "COMPLETED");
    st_run_for(t, 2 * SG_SEC);
    assert_one_settled_withdrawal(t, &req_a, ok_wid, "COMPLETED");
}

/* ---- deadlines ---- */

/* A withdrawal stuck IN_PROGRESS one second into a 2 s saga deadline: risk is down. */
static struct simtest *stalled_saga(void **state, uint64_t seed, char wid[40])
{
    struct sg_config cfg;
    st_config_approving(&cfg);
    cfg.saga_deadline_ns = 2 * SG_SEC;
    struct simtest *t = sys_new(state, seed, &cfg, NULL);
    sg_world_stop(t->w, SG_ROLE_RISK);
    uint64_t id = send_req(t, &req_a);
    st_run_for(t, 1 * SG_SEC);
    snprintf(wid, 40, "%s", reply_of(t, id, SG_CODE_OK)->withdrawal_id);
    char status[16];
    withdrawal_status(t, wid, status);
    assert_string_equal(status, "IN_PROGRESS");
    return t;
}

static void idem__cancels_and_ignores_late_decision__for_passed_deadline(void **state)
{
    char wid[40], status[16];
    struct simtest *t = stalled_saga(state, 40, wid);
    st_run_for(t, 1100 * SG_MS);
    withdrawal_status(t, wid, status);
    assert_string_equal(status, "CANCELED");
    assert_int_equal(assert_transitions(t, wid), 3);
    /* The risk service comes back and decides; its decision arrives too late. */
    assert_int_equal(sg_world_start(t->w, SG_ROLE_RISK), SG_OK);
    st_run_for(t, 3 * SG_SEC);
    assert_int_equal(q_int(t, SG_ROLE_RISK, "SELECT COUNT(*) FROM decisions"), 1);
    char result[16];
    q_text(t, SG_ROLE_ORCH, "SELECT result FROM inbox WHERE event_type = ?", "RiskApproved",
           result, sizeof result);
    assert_string_equal(result, "IGNORED");
    withdrawal_status(t, wid, status);
    assert_string_equal(status, "CANCELED");
    assert_int_equal(assert_transitions(t, wid), 3);
    char reason[64];
    q_text(t, SG_ROLE_ORCH, "SELECT failure_reason FROM withdrawals WHERE withdrawal_id = ?",
           wid, reason, sizeof reason);
    assert_true(reason[0] != '\0');
    uint64_t retry = send_req(t, &req_a);
    st_run_for(t, 3 * SG_MS);
    const struct st_reply *r = reply_of(t, retry, SG_CODE_OK);
    assert_string_equal(r->withdrawal_id, wid);
    assert_string_equal(r->status, "CANCELED");
    assert_one_settled_withdrawal(t, &req_a, wid, "CANCELED");
}

static void idem__rearms_deadline__for_orch_restart_after_deadline(void **state)
{
    char wid[40], status[16];
    struct simtest *t = stalled_saga(state, 41, wid);
    /* The orchestrator goes down before the deadline (its timers die with it) ... */
    sg_world_crash(t->w, SG_ROLE_ORCH, false);
    st_run_for(t, 2 * SG_SEC);
    /* ... and comes back after it: the deadline is re-armed from the persisted time. */
    int64_t restart_at = t->w->now_ns;
    assert_int_equal(sg_world_start(t->w, SG_ROLE_ORCH), SG_OK);
    st_run_for(t, 20 * SG_MS);
    withdrawal_status(t, wid, status);
    assert_string_equal(status, "CANCELED");
    int64_t canceled_at = q_int(t, SG_ROLE_ORCH,
                                "SELECT at_ns FROM transitions WHERE to_status = 'CANCELED'");
    assert_true(canceled_at >= t->w->opt.start_wall_ns + restart_at);
    assert_true(canceled_at <= t->w->opt.start_wall_ns + restart_at + 20 * SG_MS);
    assert_int_equal(assert_transitions(t, wid), 3);
}

/* ---- trace ids ---- */

static void assert_role_trace(struct simtest *t, enum sg_role role, const char *table,
                              const char *trace, int64_t rows_min)
{
    assert_true(q_int(t, role, "SELECT COUNT(*) FROM %s", table) >= rows_min);
    assert_int_equal(q_int(t, role, "SELECT COUNT(*) FROM %s WHERE trace_id <> '%s'", table,
                           trace),
                     0);
}

static void idem__carries_trace_id_on_every_record__for_create_and_retry(void **state)
{
    static const char trace[] = "t-123-idempotency-trace-01234567"; /* 32 chars: the max */
    struct simtest *t = sys_new(state, 50, NULL, NULL);
    struct req r = req_a;
    r.trace = trace;
    uint64_t id = send_req(t, &r);
    st_run_for(t, 3 * SG_MS);
    char wid[40];
    snprintf(wid, sizeof wid, "%s", reply_of(t, id, SG_CODE_OK)->withdrawal_id);
    assert_string_equal(st_settle(t, wid, 10 * SG_SEC), "COMPLETED");
    st_run_for(t, 2 * SG_SEC);
    char stored[40];
    q_text(t, SG_ROLE_ORCH, "SELECT trace_id FROM withdrawals WHERE withdrawal_id = ?", wid,
           stored, sizeof stored);
    assert_string_equal(stored, trace);
    assert_role_trace(t, SG_ROLE_ORCH, "outbox", trace, 5);
    assert_role_trace(t, SG_ROLE_ORCH, "inbox", trace, 2);
    const enum sg_role deciders[] = {SG_ROLE_IDENTITY, SG_ROLE_RISK};
    for (size_t i = 0; i < 2; i++) {
        assert_role_trace(t, deciders[i], "inbox", trace, 1);
        assert_role_trace(t, deciders[i], "decisions", trace, 1);
        assert_role_trace(t, deciders[i], "outbox", trace, 1);
    }
    struct id_set log = broker_event_ids(t, trace); /* every record's event carries it */
    assert_true(log.n >= 7); /* orch 5, identity 1, risk 1 (duplicates allowed) */
    free(log.ids);
    int64_t outbox_rows = q_int(t, SG_ROLE_ORCH, "SELECT COUNT(*) FROM outbox");
    /* A retry with another x-trace-id changes nothing stored. */
    r.trace = "t-other";
    uint64_t retry = send_req(t, &r);
    st_run_for(t, 2 * SG_SEC);
    assert_string_equal(reply_of(t, retry, SG_CODE_OK)->withdrawal_id, wid);
    q_text(t, SG_ROLE_ORCH, "SELECT trace_id FROM withdrawals WHERE withdrawal_id = ?", wid,
           stored, sizeof stored);
    assert_string_equal(stored, trace);
    assert_int_equal(q_int(t, SG_ROLE_ORCH, "SELECT COUNT(*) FROM outbox"), outbox_rows);
    assert_role_trace(t, SG_ROLE_ORCH, "outbox", trace, 5);
    assert_one_settled_withdrawal(t, &req_a, wid, "COMPLETED");
}

#define IDEM_TEST(f) cmocka_unit_test_teardown(f, sys_free)

int main(void)
{
    const struct CMUnitTest tests[] = {
        IDEM_TEST(idem__answers_ok_requested__for_fresh_key),
        IDEM_TEST(idem__answers_ok_with_same_id_and_current_status__for_exact_retry),
        IDEM_TEST(idem__answers_ok_with_same_id__for_retry_equal_after_normalisation),
        IDEM_TEST(idem__creates_independent_withdrawals__for_same_key_of_other_users),
        IDEM_TEST(idem__answers_failed_precondition__for_other_payload_while_reserved),
        IDEM_TEST(idem__answers_failed_precondition__for_other_payload_after_completion),
        IDEM_TEST(idem__creates_one_and_aborts_loser_with_id__for_interleaved_duplicates),
        IDEM_TEST(idem__fences_out_old_owner__for_takeover_after_lease_expiry),
        IDEM_TEST(idem__keeps_reserved_id_across_takeover__for_crash_after_reserve),
        IDEM_TEST(idem__takes_over_with_same_id__for_failed_reservation),
        IDEM_TEST(idem__settles_by_retry__for_unknown_commit_outcome),
        IDEM_TEST(idem__settles_by_retry__for_unknown_commit_outcome_then_crash),
        IDEM_TEST(idem__answers_ok_without_takeover__for_unknown_commit_that_survived),
        IDEM_TEST(idem__answers_ok_with_same_id_on_retry__for_crash_after_commit),
        IDEM_TEST(idem__recovers_one_withdrawal__for_crash_at_orch_after_reserve),
        IDEM_TEST(idem__recovers_one_withdrawal__for_crash_at_orch_after_commit),
        IDEM_TEST(idem__recovers_one_withdrawal__for_crash_at_orch_relay_after_ack),
        IDEM_TEST(idem__recovers_one_withdrawal__for_crash_at_identity_relay_after_ack),
        IDEM_TEST(idem__recovers_one_withdrawal__for_crash_at_identity_consumer_after_effect),
        IDEM_TEST(idem__recovers_one_withdrawal__for_crash_at_risk_consumer_after_effect),
        IDEM_TEST(idem__recovers_one_withdrawal__for_crash_at_orch_consumer_after_effect),
        IDEM_TEST(idem__recovers_one_withdrawal__for_crash_at_broker_after_append),
        IDEM_TEST(idem__waits_out_skewed_lease__for_backwards_clock_jump),
        IDEM_TEST(idem__cancels_and_ignores_late_decision__for_passed_deadline),
        IDEM_TEST(idem__rearms_deadline__for_orch_restart_after_deadline),
        IDEM_TEST(idem__carries_trace_id_on_every_record__for_create_and_retry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
