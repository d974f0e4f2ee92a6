/*
 * test_orch.c: the orchestrator's API: CreateWithdrawal validation, idempotency, the
 * one-transaction outbox, outcome-unknown commits, GetWithdrawal and trace ids
 * (DESIGN §1, §8 "Identifiers and validation", "Idempotency protocol", §8.1).
 *
 * Why: the orchestrator is the only place a client's call turns into rows; every promise
 * the API makes (INVALID_ARGUMENT writes nothing, an exact retry answers the same id and
 * the current status, a failed COMMIT answers UNAVAILABLE and a retry settles it) is
 * checked here against the node's own tables, through a simulated system (simtest.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "codes.h"
#include "simtest.h"

#define USER_B "0a0b0c0d-1e1f-4a2b-9c3d-abcdefabcdef"

/* ---- helpers ---- */

static const struct st_reply *create_and_wait(struct simtest *t, const char *user,
                                              const char *asset, int64_t amount,
                                              const char *dest, const char *key,
                                              const char *trace_id)
{
    const struct st_reply *r = st_create_await(t, user, asset, amount, dest, key, trace_id);
    assert_non_null(r);
    return r;
}

static bool is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Lower-case UUIDv4 text: version nibble 4, variant 10xx. */
static bool is_uuid_v4(const char *s)
{
    if (strlen(s) != 36) return false;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_lower_hex(s[i])) return false;
    }
    return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
static bool is_rfc3339(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (strlen(s) != sizeof shape - 1) return false;
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i]) return false;
    }
    return true;
}

static void assert_nothing_written(struct simtest *t)
{
    sqlite3 *db = st_node_db(t, SG_ROLE_ORCH);
    assert_non_null(db);
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM withdrawals"), 0);
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM idempotency"), 0);
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM outbox"), 0);
}

static void expect_invalid(struct simtest *t, const char *user, const char *asset,
                           int64_t amount, const char *dest, const char *key)
{
    const struct st_reply *r = create_and_wait(t, user, asset, amount, dest, key, NULL);
    assert_int_equal(r->code, SG_CODE_INVALID_ARGUMENT);
    assert_string_equal(r->withdrawal_id, "");
}

/* A string of n copies of c (n < cap). */
static const char *repeat(char *buf, size_t cap, char c, size_t n)
{
    assert_true(n < cap);
    memset(buf, c, n);
    buf[n] = '\0';
    return buf;
}

/* ---- validation ---- */

static void orch__create_invalid__missing_field(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(11);
    expect_invalid(t, "", "BTC", 100, "addr", "k1");
    expect_invalid(t, "   ", "BTC", 100, "addr", "k1");   /* blank after trimming */
    expect_invalid(t, NULL, "BTC", 100, "addr", "k1");    /* proto3: unset = "" */
    expect_invalid(t, ST_USER_A, "", 100, "addr", "k1");
    expect_invalid(t, ST_USER_A, " \t", 100, "addr", "k1");
    expect_invalid(t, ST_USER_A, "BTC", 100, "", "k1");
    expect_invalid(t, ST_USER_A, "BTC", 100, "addr", "");
    expect_invalid(t, ST_USER_A, "BTC", 100, "addr", "  \n ");
    assert_nothing_written(t);
    st_free(t);
}

static void orch__create_invalid__amount_not_positive(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(12);
    expect_invalid(t, ST_USER_A, "BTC", 0, "addr", "k1");
    expect_invalid(t, ST_USER_A, "BTC", -1, "addr", "k2");
    expect_invalid(t, ST_USER_A, "BTC", INT64_MIN, "addr", "k3");
    assert_nothing_written(t);
    st_free(t);
}

static void orch__create_invalid__user_id_not_uuid(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(13);
    expect_invalid(t, "not-a-uuid", "BTC", 100, "addr", "k1");
    expect_invalid(t, "{6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab}", "BTC", 100, "addr", "k1");
    expect_invalid(t, "6f1c2d3e4a5b4c6d8e7f0123456789ab", "BTC", 100, "addr", "k1");
    expect_invalid(t, "6f1c2d3e-4a5b-4c6d-8e7f-0123456789ag", "BTC", 100, "addr", "k1");
    expect_invalid(t, "6f1c2d3e-4a5b-4c6d-8e7f-0123456789a", "BTC", 100, "addr", "k1");
    assert_nothing_written(t);
    st_free(t);
}

static void orch__create_invalid__field_too_long(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(14);
    char buf[700];
    expect_invalid(t, ST_USER_A, repeat(buf, sizeof buf, 'A', 17), 100, "addr", "k1");
    expect_invalid(t, ST_USER_A, "BTC", 100, repeat(buf, sizeof buf, 'd', 129), "k1");
    expect_invalid(t, ST_USER_A, "BTC", 100, "addr", repeat(buf, sizeof buf, 'k', 129));
    expect_invalid(t, ST_USER_A, "BTC", 100, "addr", repeat(buf, sizeof buf, 'k', 600));
    char longer_user[64];
    snprintf(longer_user, sizeof longer_user, "%s0", ST_USER_A);
    expect_invalid(t, longer_user, "BTC", 100, "addr", "k1");
    assert_nothing_written(t);
    /* The limits themselves are allowed: 16, 128 and 128 bytes. */
    char asset[20], dest[140], key[140];
    repeat(asset, sizeof asset, 'A', 16);
    repeat(dest, sizeof dest, 'd', 128);
    repeat(key, sizeof key, 'k', 128);
    const struct st_reply *r = create_and_wait(t, ST_USER_A, asset, 100, dest, key, NULL);
    assert_int_equal(r->code, SG_CODE_OK);
    st_free(t);
}

/* ---- create and idempotency ---- */

static void orch__create_ok__new_key(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(21);
    const struct st_reply *r = create_and_wait(t, ST_USER_A, "BTC", 1000, "addr-1", "key-1", NULL);
    assert_int_equal(r->code, SG_CODE_OK);
    assert_string_equal(r->status, "REQUESTED");
    assert_true(is_uuid_v4(r->withdrawal_id));
    sqlite3 *db = st_node_db(t, SG_ROLE_ORCH);
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM withdrawals"), 1);
    assert_int_equal(st_qint(db, "SELECT COUNT(*) FROM idempotency WHERE withdrawal_id = '%s'"
                                 " AND status = 'COMPLETED' AND fence = 1", r->withdrawal_id), 1);
    char s[64];
    assert_true(st_qtext(db, s, sizeof s,
                         "SELECT user_id FROM withdrawals WHERE withdrawal_id = '%s'",
                         r->withdrawal_id));
    assert_string_equal(s, ST_USER_A);
    st_free(t);
}

static void orch__create_retry__same_id_current_status(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(22);
    const struct st_reply *r1 = create_and_wait(t, ST_USER_A, "BTC", 1000, "addr-1", "key-1", NULL);
    assert_int_equal(r1->code, SG_CODE_OK);
    char wid[40];
    snprintf(wid, sizeof wid, "%s", r1->withdrawal_id);
    assert_string_equal(st_settle(t, wid, 5 * SG_SEC), "COMPLETED");
    const struct st_reply *r2 = create_and_wait(t, ST_USER_A, "BTC", 1000, "addr-1", "key-1", NULL);
    assert_int_equal(r2->code, SG_CODE_OK);
    assert_string_equal(r2->withdrawal_id, wid);
    assert_string_equal(r2->status, "COMPLETED"); /* the current status, not REQUESTED */
    sqlite3 *db = st_node_db(t, SG_ROLE_ORCH);
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM withdrawals"), 1);
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM idempotency"), 1);
    st_free(t);
}

static void orch__create_retry__normalised_payload(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(23);
    const struct st_reply *r1 = create_and_wait(t, ST_USER_A, "BTC", 1000, "addr-1", "key-1", NULL);
    assert_int_equal(r1->code, SG_CODE_OK);
    char wid[40];
    snprintf(wid, sizeof wid, "%s", r1->withdrawal_id);
    /* Upper-case user id, lower-case asset, whitespace everywhere: the same request. */
    const struct st_reply *r2 = create_and_wait(t, " 6F1C2D3E-4A5B-4C6D-8E7F-0123456789AB\t",
                                                " btc ", 1000, "\naddr-1 ", "  key-1 ", NULL);
    assert_int_equal(r2->code, SG_CODE_OK);
    assert_string_equal(r2->withdrawal_id, wid);
    sqlite3 *db = st_node_db(t, SG_ROLE_ORCH);
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM withdrawals"), 1);
    char s[64];
    assert_true(st_qtext(db, s, sizeof s,
                         "SELECT asset || '|' || destination_addr || '|' || idem_key"
                         " FROM withdrawals WHERE withdrawal_id = '%s'", wid));
    assert_string_equal(s, "BTC|addr-1|key-1");
    st_free(t);
}

static void orch__create_conflict__same_key_other_payload(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(24);
    const struct st_reply *r1 = create_and_wait(t, ST_USER_A, "BTC", 1000, "addr-1", "key-1", NULL);
    assert_int_equal(r1->code, SG_CODE_OK);
    const struct st_reply *r;
    r = create_and_wait(t, ST_USER_A, "BTC", 1001, "addr-1", "key-1", NULL);
    assert_int_equal(r->code, SG_CODE_FAILED_PRECONDITION);
    r = create_and_wait(t, ST_USER_A, "ETH", 1000, "addr-1", "key-1", NULL);
    assert_int_equal(r->code, SG_CODE_FAILED_PRECONDITION);
    r = create_and_wait(t, ST_USER_A, "BTC", 1000, "addr-2", "key-1", NULL);
    assert_int_equal(r->code, SG_CODE_FAILED_PRECONDITION);
    assert_string_equal(r->withdrawal_id, "");
    sqlite3 *db = st_node_db(t, SG_ROLE_ORCH);
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM withdrawals"), 1);
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM idempotency"), 1);
    st_free(t);
}

static void orch__create_independent__same_key_other_user(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(25);
    const struct st_reply *ra = create_and_wait(t, ST_USER_A, "BTC", 1000, "addr-1", "key-1", NULL);
    const struct st_reply *rb = create_and_wait(t, USER_B, "ETH", 7, "addr-9", "key-1", NULL);
    assert_int_equal(ra->code, SG_CODE_OK);
    assert_int_equal(rb->code, SG_CODE_OK);
    assert_string_not_equal(ra->withdrawal_id, rb->withdrawal_id);
    sqlite3 *db = st_node_db(t, SG_ROLE_ORCH);
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM withdrawals"), 2);
    assert_int_equal(st_int(db, "SELECT COUNT(DISTINCT user_id) FROM idempotency"
                                " WHERE idem_key = 'key-1'"), 2);
    st_free(t);
}

static void orch__create_aborted__concurrent_duplicate(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(26);
    /* Both arrive at the same instant: the second's reservation step runs before the
     * first's work step, so it meets a live lease. */
    uint64_t m1 = st_create(t, ST_USER_A, "BTC", 1000, "addr-1", "key-1", NULL);
    uint64_t m2 = st_create(t, ST_USER_A, "BTC", 1000, "addr-1", "key-1", NULL);
    const struct st_reply *r1 = st_await_reply(t, m1, 100 * SG_MS);
    const struct st_reply *r2 = st_await_reply(t, m2, 100 * SG_MS);
    assert_non_null(r1);
    assert_non_null(r2);
    assert_int_equal(r1->code, SG_CODE_OK);
    assert_int_equal(r2->code, SG_CODE_ABORTED);
    assert_string_equal(r2->withdrawal_id, r1->withdrawal_id); /* ABORTED carries the id */
    assert_int_equal(st_int(st_node_db(t, SG_ROLE_ORCH), "SELECT COUNT(*) FROM withdrawals"), 1);
    st_free(t);
}

static void orch__create_fenced_out__lease_taken_over(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(27);
    uint64_t m1 = st_create(t, ST_USER_A, "BTC", 1000, "addr-1", "key-1", NULL);
    uint64_t m2 = st_create(t, ST_USER_A, "BTC", 1000, "addr-1", "key-1", NULL);
    sqlite3 *db = st_node_db(t, SG_ROLE_ORCH);
    /* Step until the first reservation exists; its work step is still queued behind the
     * second request's delivery. */
    for (int i = 0; i < 10000 && st_int(db, "SELECT COUNT(*) FROM idempotency") < 1; i++)
        assert_true(sg_world_step(t->w, INT64_MAX));
    assert_int_equal(st_int(db, "SELECT fence FROM idempotency"), 1);
    assert_null(st_reply_to(t, m1));
    /* The orchestrator's wall clock jumps past the lease: the second request takes over. */
    sg_world_clock_shift(t->w, SG_ROLE_ORCH, t->cfg.lease_ttl_ns + SG_SEC);
    const struct st_reply *r1 = st_await_reply(t, m1, 100 * SG_MS);
    const struct st_reply *r2 = st_await_reply(t, m2, 100 * SG_MS);
    assert_non_null(r1);
    assert_non_null(r2);
    /* The first work step is fenced out (fence 1 < 2) and answers by the current row. */
    assert_int_equal(r1->code, SG_CODE_ABORTED);
    assert_int_equal(r2->code, SG_CODE_OK);
    assert_string_equal(r1->withdrawal_id, r2->withdrawal_id); /* the takeover kept the id */
    db = st_node_db(t, SG_ROLE_ORCH);
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM withdrawals"), 1);
    assert_int_equal(st_int(db, "SELECT fence FROM idempotency WHERE status = 'COMPLETED'"), 2);
    assert_int_equal(sg_world_node(t->w, SG_ROLE_ORCH)->u.orch.stats.takeovers, 1);
    st_free(t);
}

/* ---- GetWithdrawal ---- */

static SgEnvelope *decode_reply(const struct st_reply *r)
{
    assert_true(r->len > 0);
    SgEnvelope *e = sg_wire_decode(r->bytes, r->len);
    assert_non_null(e);
    assert_int_equal(e->payload_case, SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_REPLY);
    return e;
}

static void orch__get_ok__all_fields(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(31);
    const struct st_reply *rc =
        create_and_wait(t, ST_USER_A, " eth ", 12345, " addr-7 ", "k", NULL);
    assert_int_equal(rc->code, SG_CODE_OK);
    char wid[40];
    snprintf(wid, sizeof wid, "%s", rc->withdrawal_id);

    const struct st_reply *r = st_await_reply(t, st_get(t, wid), 100 * SG_MS);
    assert_non_null(r);
    assert_int_equal(r->code, SG_CODE_OK);
    SgEnvelope *e = decode_reply(r);
    assert_int_equal(e->reply->body_case, SAGASIM__NODE__V1__CLIENT_REPLY__BODY_GET);
    const Cbsaga__Orchestrator__V1__GetWithdrawalResponse *g = e->reply->get;
    assert_string_equal(g->withdrawal_id, wid);
    assert_string_equal(g->user_id, ST_USER_A);
    assert_string_equal(g->asset, "ETH");
    assert_int_equal(g->amount_minor, 12345);
    assert_string_equal(g->destination_addr, "addr-7");
    assert_true(strcmp(g->status, "REQUESTED") == 0 || strcmp(g->status, "IN_PROGRESS") == 0);
    assert_string_equal(g->failure_reason, "");
    assert_true(is_rfc3339(g->created_at));
    assert_true(is_rfc3339(g->updated_at));
    /* Created by the work step at virtual 1 ms after the world's wall-clock start. */
    assert_string_equal(g->created_at, "2025-11-25T00:00:00.001Z");
    sg_wire_free(e);

    assert_string_equal(st_settle(t, wid, 5 * SG_SEC), "COMPLETED");
    r = st_await_reply(t, st_get(t, wid), 100 * SG_MS);
    assert_non_null(r);
    e = decode_reply(r);
    g = e->reply->get;
    assert_string_equal(g->status, "COMPLETED");
    assert_string_equal(g->created_at, "2025-11-25T00:00:00.001Z");
    assert_true(is_rfc3339(g->updated_at));
    assert_true(strcmp(g->updated_at, g->created_at) > 0);
    sg_wire_free(e);
    st_free(t);
}

static void orch__get_not_found__unknown_uuid(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(32);
    const struct st_reply *r =
        st_await_reply(t, st_get(t, "11111111-2222-4333-8444-555555555555"), 100 * SG_MS);
    assert_non_null(r);
    assert_int_equal(r->code, SG_CODE_NOT_FOUND);
    st_free(t);
}

static void orch__get_invalid__non_uuid(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(33);
    static const char *const bad[] = {"nope", "", "   ", "11111111222243338444555555555555",
                                      "{11111111-2222-4333-8444-555555555555}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const struct st_reply *r = st_await_reply(t, st_get(t, bad[i]), 100 * SG_MS);
        assert_non_null(r);
        assert_int_equal(r->code, SG_CODE_INVALID_ARGUMENT);
    }
    st_free(t);
}

static void orch__get_ok__upper_case_id(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(34);
    const struct st_reply *rc = create_and_wait(t, ST_USER_A, "BTC", 5, "addr", "k", NULL);
    assert_int_equal(rc->code, SG_CODE_OK);
    char wid[40], upper[48];
    snprintf(wid, sizeof wid, "%s", rc->withdrawal_id);
    snprintf(upper, sizeof upper, "  %s ", wid);
    for (char *c = upper; *c; c++)
        if (*c >= 'a' && *c <= 'f') *c = (char)(*c - 'a' + 'A');
    const struct st_reply *r = st_await_reply(t, st_get(t, upper), 100 * SG_MS);
    assert_non_null(r);
    assert_int_equal(r->code, SG_CODE_OK);
    assert_string_equal(r->withdrawal_id, wid); /* answered with the stored lower-case id */
    st_free(t);
}

/* ---- the one-transaction outbox ---- */

static void orch__create_writes__rows_and_outbox_together(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(41);
    uint64_t m = st_create(t, ST_USER_A, "BTC", 1000, "addr-1", "key-1", NULL);
    /* Step event by event: the first moment the reply exists is right after the work
     * step, before any decision could arrive. */
    while (!st_reply_to(t, m)) assert_true(sg_world_step(t->w, INT64_MAX));
    const struct st_reply *r = st_reply_to(t, m);
    assert_int_equal(r->code, SG_CODE_OK);
    const char *wid = r->withdrawal_id;
    sqlite3 *db = st_node_db(t, SG_ROLE_ORCH);
    char s[128];
    assert_true(st_qtext(db, s, sizeof s,
                         "SELECT status FROM withdrawals WHERE withdrawal_id = '%s'", wid));
    assert_string_equal(s, "REQUESTED");
    assert_true(st_qtext(db, s, sizeof s, "SELECT state || '/' || current_step FROM sagas"
                                          " WHERE withdrawal_id = '%s'", wid));
    assert_string_equal(s, "STARTED/IDENTITY_CHECK");
    assert_int_equal(st_qint(db, "SELECT COUNT(*) FROM transitions WHERE withdrawal_id = '%s'",
                             wid), 1);
    assert_true(st_qtext(db, s, sizeof s, "SELECT seq || ':' || from_status || '->' || to_status"
                                          " FROM transitions WHERE withdrawal_id = '%s'", wid));
    assert_string_equal(s, "1:->REQUESTED");
    assert_int_equal(st_qint(db, "SELECT COUNT(*) FROM outbox WHERE aggregate_id = '%s'", wid), 2);
    assert_true(st_qtext(db, s, sizeof s,
                         "SELECT group_concat(event_type || '@' || route_key || '@'"
                         " || aggregate_type, ',') FROM (SELECT * FROM outbox"
                         " WHERE aggregate_id = '%s' ORDER BY seq)", wid));
    assert_string_equal(s, "WithdrawalRequested@evt.withdrawal@withdrawal,"
                           "VerifyIdentityRequested@cmd.identity@withdrawal");
    assert_int_equal(st_qint(db, "SELECT COUNT(DISTINCT event_id) FROM outbox"
                                 " WHERE aggregate_id = '%s'", wid), 2);
    st_free(t);
}

static void orch__create_unavailable__commit_sync_fails(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(42);
    uint64_t failures0 = t->w->vfs.stats.sync_failures;
    uint64_t m = st_create(t, ST_USER_A, "BTC", 1000, "addr-1", "key-1", NULL);
    sqlite3 *db = st_node_db(t, SG_ROLE_ORCH);
    /* Step until the reservation step has committed; the work step is its own event. */
    for (int i = 0; i < 10000; i++) {
        if (st_int(db, "SELECT COUNT(*) FROM idempotency WHERE status = 'RESERVED'") == 1) break;
        assert_true(sg_world_step(t->w, INT64_MAX));
    }
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM idempotency WHERE status = 'RESERVED'"), 1);
    assert_null(st_reply_to(t, m));
    sg_vfs_fail_next_sync(&t->w->vfs, "/n1/", 1);
    const struct st_reply *r = st_await_reply(t, m, 100 * SG_MS);
    assert_non_null(r);
    assert_int_equal(r->code, SG_CODE_UNAVAILABLE);
    assert_int_equal(t->w->vfs.stats.sync_failures - failures0, 1);
    db = st_node_db(t, SG_ROLE_ORCH);
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM withdrawals"), 0);
    char reserved_id[40];
    assert_true(st_qtext(db, reserved_id, sizeof reserved_id,
                         "SELECT withdrawal_id FROM idempotency"));
    assert_true(is_uuid_v4(reserved_id));

    /* While the lease lives, a retry is ABORTED and names the reserved id. */
    r = create_and_wait(t, ST_USER_A, "BTC", 1000, "addr-1", "key-1", NULL);
    assert_int_equal(r->code, SG_CODE_ABORTED);
    assert_string_equal(r->withdrawal_id, reserved_id);
    /* Retry like a client until a definite answer: after the lease it is taken over. */
    int64_t end = t->w->now_ns + 4 * t->cfg.lease_ttl_ns;
    do {
        st_run_for(t, SG_SEC);
        r = create_and_wait(t, ST_USER_A, "BTC", 1000, "addr-1", "key-1", NULL);
    } while (r->code != SG_CODE_OK && t->w->now_ns < end);
    assert_int_equal(r->code, SG_CODE_OK);
    assert_string_equal(r->withdrawal_id, reserved_id); /* a takeover keeps the id */
    db = st_node_db(t, SG_ROLE_ORCH);
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM withdrawals"), 1);
    assert_int_equal(st_int(db, "SELECT fence FROM idempotency"), 2);
    assert_string_equal(st_settle(t, reserved_id, 5 * SG_SEC), "COMPLETED");
    assert_int_equal(st_int(st_node_db(t, SG_ROLE_ORCH), "SELECT COUNT(*) FROM withdrawals"), 1);
    st_free(t);
}

/* ---- crashes around the two steps ---- */

static void set_crash(struct simtest *t, const char *point, enum sg_role role)
{
    assert_true(sg_world_add_crash_at(&t->w->opt, role, point, 1));
}

static void orch__create_recovers__crash_after_reserve(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(43);
    set_crash(t, "orch.after_reserve", SG_ROLE_ORCH);
    uint64_t m = st_create(t, ST_USER_A, "BTC", 1000, "addr-1", "key-1", NULL);
    st_run_for(t, 100 * SG_MS);
    assert_null(st_reply_to(t, m)); /* the client would time out: outcome unknown */
    assert_int_equal(t->w->nodes[SG_ROLE_ORCH].crashes, 1);
    st_run_for(t, 2 * SG_SEC); /* restarted */
    sqlite3 *db = st_node_db(t, SG_ROLE_ORCH);
    assert_non_null(db);
    /* The reservation was durable; nothing else was written. */
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM idempotency WHERE status = 'RESERVED'"), 1);
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM withdrawals"), 0);
    char reserved_id[40];
    assert_true(st_qtext(db, reserved_id, sizeof reserved_id,
                         "SELECT withdrawal_id FROM idempotency"));
    /* Retry like a client: ABORTED while the lease lives, then a takeover settles it. */
    const struct st_reply *r = create_and_wait(t, ST_USER_A, "BTC", 1000, "addr-1", "key-1", NULL);
    assert_int_equal(r->code, SG_CODE_ABORTED);
    int64_t end = t->w->now_ns + 4 * t->cfg.lease_ttl_ns;
    while (r->code != SG_CODE_OK && t->w->now_ns < end) {
        st_run_for(t, SG_SEC);
        r = create_and_wait(t, ST_USER_A, "BTC", 1000, "addr-1", "key-1", NULL);
    }
    assert_int_equal(r->code, SG_CODE_OK);
    assert_string_equal(r->withdrawal_id, reserved_id);
    assert_string_equal(st_settle(t, reserved_id, 5 * SG_SEC), "COMPLETED");
    assert_int_equal(st_int(st_node_db(t, SG_ROLE_ORCH), "SELECT COUNT(*) FROM withdrawals"), 1);
    st_free(t);
}

static void orch__create_durable__crash_after_commit(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(44);
    set_crash(t, "orch.after_commit", SG_ROLE_ORCH);
    uint64_t m = st_create(t, ST_USER_A, "BTC", 1000, "addr-1", "key-1", NULL);
    st_run_for(t, 100 * SG_MS);
    assert_null(st_reply_to(t, m)); /* committed, but the reply never left */
    assert_int_equal(t->w->nodes[SG_ROLE_ORCH].crashes, 1);
    st_run_for(t, 2 * SG_SEC);
    sqlite3 *db = st_node_db(t, SG_ROLE_ORCH);
    assert_non_null(db);
    assert_int_equal(st_int(db, "SELECT COUNT(*) FROM withdrawals"), 1);
    char wid[40];
    assert_true(st_qtext(db, wid, sizeof wid, "SELECT withdrawal_id FROM withdrawals"));
    /* After the restart the relay publishes the committed outbox and the saga runs. */
    assert_string_equal(st_settle(t, wid, 5 * SG_SEC), "COMPLETED");
    const struct st_reply *r = create_and_wait(t, ST_USER_A, "BTC", 1000, "addr-1", "key-1", NULL);
    assert_int_equal(r->code, SG_CODE_OK);
    assert_string_equal(r->withdrawal_id, wid);
    assert_string_equal(r->status, "COMPLETED");
    assert_int_equal(st_int(st_node_db(t, SG_ROLE_ORCH), "SELECT COUNT(*) FROM withdrawals"), 1);
    st_free(t);
}

static void orch__deadline__rearmed_after_restart(void **state)
{
    (void)state;
    struct sg_config cfg;
    st_config_approving(&cfg);
    cfg.saga_deadline_ns = 3 * SG_SEC;
    struct simtest *t = st_new_cfg(45, &cfg);
    sg_world_stop(t->w, SG_ROLE_IDENTITY); /* the saga stalls at REQUESTED */
    const struct st_reply *r = create_and_wait(t, ST_USER_A, "BTC", 1000, "addr-1", "key-1", NULL);
    assert_int_equal(r->code, SG_CODE_OK);
    char wid[40];
    snprintf(wid, sizeof wid, "%s", r->withdrawal_id);
    st_run_for(t, SG_SEC);
    /* A crash forgets the armed timer; recovery re-arms it from the persisted deadline. */
    sg_world_crash(t->w, SG_ROLE_ORCH, true);
    assert_string_equal(st_settle(t, wid, 10 * SG_SEC), "CANCELED");
    char s[64];
    assert_true(st_qtext(st_node_db(t, SG_ROLE_ORCH), s, sizeof s,
                         "SELECT failure_reason FROM withdrawals WHERE withdrawal_id = '%s'", wid));
    assert_string_equal(s, "saga deadline exceeded");
    /* Canceled at the deadline (3 s after creation), not a restart delay later. */
    int64_t created = st_int(st_node_db(t, SG_ROLE_ORCH), "SELECT created_at_ns FROM withdrawals");
    int64_t canceled = st_int(st_node_db(t, SG_ROLE_ORCH), "SELECT updated_at_ns FROM withdrawals");
    assert_true(canceled - created >= 3 * SG_SEC);
    assert_true(canceled - created < 3 * SG_SEC + 50 * SG_MS);
    st_free(t);
}

/* ---- trace ids ---- */

#define TRACE_GIVEN "4bf92f3577b34da6a3ce929d0e0e4736"

static void assert_trace_everywhere(struct simtest *t, const char *wid, const char *trace)
{
    sqlite3 *db = st_node_db(t, SG_ROLE_ORCH);
    char s[64];
    assert_true(st_qtext(db, s, sizeof s,
                         "SELECT trace_id FROM withdrawals WHERE withdrawal_id = '%s'", wid));
    assert_string_equal(s, trace);
    /* REQUESTED, VerifyIdentity, IN_PROGRESS, RiskCheck, PlaceHold, PayoutRequested,
     * SettleHold, COMPLETED */
    assert_int_equal(st_qint(db, "SELECT COUNT(*) FROM outbox WHERE aggregate_id = '%s'", wid), 8);
    assert_int_equal(st_qint(db, "SELECT COUNT(*) FROM outbox WHERE aggregate_id = '%s'"
                                 " AND trace_id <> '%s'", wid, trace), 0);
    assert_int_equal(st_qint(db, "SELECT COUNT(*) FROM inbox WHERE trace_id <> '%s'", trace), 0);
    static const enum sg_role deciders[] = {SG_ROLE_IDENTITY, SG_ROLE_RISK};
    for (size_t i = 0; i < 2; i++) {
        sqlite3 *d = st_node_db(t, deciders[i]);
        assert_int_equal(st_qint(d, "SELECT COUNT(*) FROM outbox WHERE aggregate_id = '%s'"
                                    " AND trace_id = '%s'", wid, trace), 1);
        assert_int_equal(st_qint(d, "SELECT COUNT(*) FROM decisions WHERE trace_id <> '%s'",
                                 trace), 0);
    }
}

static void orch__trace_id__taken_from_envelope(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(51);
    const struct st_reply *r = create_and_wait(t, ST_USER_A, "BTC", 10, "a", "k", TRACE_GIVEN);
    assert_int_equal(r->code, SG_CODE_OK);
    assert_string_equal(r->trace_id, TRACE_GIVEN);
    char wid[40];
    snprintf(wid, sizeof wid, "%s", r->withdrawal_id);
    assert_string_equal(st_settle(t, wid, 5 * SG_SEC), "COMPLETED");
    assert_trace_everywhere(t, wid, TRACE_GIVEN);
    /* A retry carrying another trace id does not change the stored one. */
    r = create_and_wait(t, ST_USER_A, "BTC", 10, "a", "k", "ffffffffffffffffffffffffffffffff");
    assert_int_equal(r->code, SG_CODE_OK);
    char s[64];
    assert_true(st_qtext(st_node_db(t, SG_ROLE_ORCH), s, sizeof s,
                         "SELECT trace_id FROM withdrawals WHERE withdrawal_id = '%s'", wid));
    assert_string_equal(s, TRACE_GIVEN);
    st_free(t);
}

static void orch__trace_id__generated_when_absent(void **state)
{
    (void)state;
    struct simtest *t = st_new_approving(52);
    const struct st_reply *r = create_and_wait(t, ST_USER_A, "BTC", 10, "a", "k", NULL);
    assert_int_equal(r->code, SG_CODE_OK);
    char wid[40];
    snprintf(wid, sizeof wid, "%s", r->withdrawal_id);
    assert_string_equal(st_settle(t, wid, 5 * SG_SEC), "COMPLETED");
    char trace[64];
    assert_true(st_qtext(st_node_db(t, SG_ROLE_ORCH), trace, sizeof trace,
                         "SELECT trace_id FROM withdrawals WHERE withdrawal_id = '%s'", wid));
    assert_int_equal(strlen(trace), 32);
    for (size_t i = 0; i < 32; i++) assert_true(is_lower_hex(trace[i]));
    assert_string_equal(r->trace_id, trace); /* the reply carries it too */
    assert_trace_everywhere(t, wid, trace);
    st_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(orch__create_invalid__missing_field),
        cmocka_unit_test(orch__create_invalid__amount_not_positive),
        cmocka_unit_test(orch__create_invalid__user_id_not_uuid),
        cmocka_unit_test(orch__create_invalid__field_too_long),
        cmocka_unit_test(orch__create_ok__new_key),
        cmocka_unit_test(orch__create_retry__same_id_current_status),
        cmocka_unit_test(orch__create_retry__normalised_payload),
        cmocka_unit_test(orch__create_conflict__same_key_other_payload),
        cmocka_unit_test(orch__create_independent__same_key_other_user),
        cmocka_unit_test(orch__create_aborted__concurrent_duplicate),
        cmocka_unit_test(orch__create_fenced_out__lease_taken_over),
        cmocka_unit_test(orch__get_ok__all_fields),
        cmocka_unit_test(orch__get_not_found__unknown_uuid),
        cmocka_unit_test(orch__get_invalid__non_uuid),
        cmocka_unit_test(orch__get_ok__upper_case_id),
        cmocka_unit_test(orch__create_writes__rows_and_outbox_together),
        cmocka_unit_test(orch__create_unavailable__commit_sync_fails),
        cmocka_unit_test(orch__create_recovers__crash_after_reserve),
        cmocka_unit_test(orch__create_durable__crash_after_commit),
        cmocka_unit_test(orch__deadline__rearmed_after_restart),
        cmocka_unit_test(orch__trace_id__taken_from_envelope),
        cmocka_unit_test(orch__trace_id__generated_when_absent),
    };
    return cmocka_run_group_tests_name("orch", tests, NULL, NULL);
}
