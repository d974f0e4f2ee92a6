/*
 * orch_create.c: CreateWithdrawal: validation, the reservation step and the work step
 * (DESIGN §8 "Idempotency protocol", §8.1 "Work step order").
 *
 * Why two steps: the services are single-threaded, so the only race window between two
 * creates with one key is between steps; the reservation's lease, owner and fence make
 * that window safe. The work step is its own event so that a crash (or a competing
 * request) can fall between the two.
 */
#include <string.h>

#include "assert.h"
#include "bugs.h"
#include "codes.h"
#include "db.h"
#include "orch_int.h"
#include "timer.h"
#include "trace_rec.h"
#include "banned.h"

/* The idempotency row of (user_id, key). */
struct idem_row {
    bool found;
    uint8_t hash[SG_HASH_LEN];
    char status[16];
    char withdrawal_id[SG_UUID_LEN + 1];
    char owner[SG_UUID_LEN + 1];
    int64_t fence, lease_expires_ns;
};

static enum sg_err idem_load(struct sg_orch *o, const struct sg_request *r, struct idem_row *row)
{
    memset(row, 0, sizeof *row);
    sqlite3_stmt *st = sg_db_stmtf(o->svc.env, o->svc.db,
        "SELECT request_hash, status, withdrawal_id, owner, fence, lease_expires_ns"
        " FROM idempotency WHERE user_id = ? AND idem_key = ?", "tt", r->user_id, r->key);
    if (!st) return SG_ERR_IO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        row->found = true;
        if (sqlite3_column_bytes(st, 0) == SG_HASH_LEN)
            memcpy(row->hash, sqlite3_column_blob(st, 0), SG_HASH_LEN);
        sg_db_col_text(st, 1, row->status, sizeof row->status);
        sg_db_col_text(st, 2, row->withdrawal_id, sizeof row->withdrawal_id);
        sg_db_col_text(st, 3, row->owner, sizeof row->owner);
        row->fence = sqlite3_column_int64(st, 4);
        row->lease_expires_ns = sqlite3_column_int64(st, 5);
    }
    sg_db_done(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SG_OK : SG_ERR_IO;
}

static struct sg_orch_work *work_slot(struct sg_orch *o)
{
    for (size_t i = 0; i < SG_ORCH_WORK_MAX; i++)
        if (!o->work[i].active) return &o->work[i];
    return NULL;
}

/* Answers from an existing row without taking it over. Returns true when answered. */
static bool answer_existing(struct sg_orch *o, const struct sg_orch_work *w,
                            const struct idem_row *row, int64_t now)
{
    if (memcmp(row->hash, w->hash, SG_HASH_LEN) != 0) {
        if (sg_bug_on(o->svc.cfg->bugs, SG_BUG_MISMATCH_CREATES)) return false;
        sg_orch_reply(o, w->client, w->correlation_id, w->trace_id,
                      SG_CODE_FAILED_PRECONDITION,
                      "idempotency_key was used with a different request", NULL, NULL);
        return true;
    }
    if (strcmp(row->status, "COMPLETED") == 0) {
        struct sg_wrow wr;
        enum sg_err err = sg_orch_load(o, row->withdrawal_id, &wr);
        if (err == SG_OK)
            sg_orch_reply(o, w->client, w->correlation_id, w->trace_id, SG_CODE_OK, "",
                          row->withdrawal_id, sg_status_name(wr.status));
        else
            sg_orch_reply(o, w->client, w->correlation_id, w->trace_id, SG_CODE_UNAVAILABLE,
                          "storage unavailable", NULL, NULL);
        return true;
    }
    /* PLANTED BUG expired-lease-aborts: an expired lease is answered like a live one, so
     * a reservation whose owner crashed is never taken over and its key is stuck. */
    bool live = now < row->lease_expires_ns ||
                sg_bug_on(o->svc.cfg->bugs, SG_BUG_EXPIRED_LEASE_ABORTS);
    if (strcmp(row->status, "RESERVED") == 0 && live) {
        sg_orch_reply(o, w->client, w->correlation_id, w->trace_id, SG_CODE_ABORTED,
                      "a request with this idempotency_key is in progress",
                      row->withdrawal_id, NULL);
        return true;
    }
    return false;
}

/* The reservation step: one transaction. Returns SG_OK with *reserved true when the work
 * step must run, or having answered the client. */
static enum sg_err reserve(struct sg_orch *o, struct sg_orch_work *w, bool *reserved)
{
    const struct sg_env *env = o->svc.env;
    int64_t now = env->now_wall_ns(env->ctx);
    *reserved = false;
    struct idem_row row;
    enum sg_err err = sg_db_begin(env, o->svc.db);
    if (err == SG_OK) err = idem_load(o, &w->req, &row);
    if (err != SG_OK) goto unavailable;
    if (row.found && answer_existing(o, w, &row, now)) {
        sg_db_rollback(o->svc.db);
        return SG_OK;
    }
    uint64_t bugs = o->svc.cfg->bugs;
    if (row.found && memcmp(row.hash, w->hash, SG_HASH_LEN) != 0) {
        /* PLANTED BUG mismatch-creates: another payload gets its own withdrawal under a
         * derived key instead of FAILED_PRECONDITION. */
        size_t len = strlen(w->req.key);
        if (len + 2 < sizeof w->req.key) memcpy(w->req.key + len, "#2", 3);
        sg_db_rollback(o->svc.db);
        return reserve(o, w, reserved);
    }
    sg_uuid_v4(env, w->owner);
    if (!row.found && sg_bug_on(bugs, SG_BUG_RESERVE_OUTSIDE_TX)) {
        /* PLANTED BUG reserve-outside-tx: nothing is reserved here; the work step inserts
         * the key without looking again, so two interleaved requests both create. */
        sg_db_rollback(o->svc.db);
        sg_uuid_v4(env, w->withdrawal_id);
        w->fence = 1;
        *reserved = true;
        return SG_OK;
    }
    if (row.found) { /* expired lease or FAILED attempt: take over, keep the id */
        memcpy(w->withdrawal_id, row.withdrawal_id, sizeof w->withdrawal_id);
        /* PLANTED BUG ignore-fence: a takeover mints a new withdrawal id. */
        if (sg_bug_on(bugs, SG_BUG_IGNORE_FENCE)) sg_uuid_v4(env, w->withdrawal_id);
        w->fence = row.fence + 1;
        o->stats.takeovers++;
        err = sg_db_runf(env, o->svc.db, NULL,
            "UPDATE idempotency SET status = 'RESERVED', owner = ?, fence = ?,"
            " lease_expires_ns = ?, updated_at_ns = ?, withdrawal_id = ?"
            " WHERE user_id = ? AND idem_key = ?",
            "tiiittt", w->owner, w->fence, now + o->svc.cfg->lease_ttl_ns, now,
            w->withdrawal_id, w->req.user_id, w->req.key);
    } else {
        sg_uuid_v4(env, w->withdrawal_id);
        w->fence = 1;
        err = sg_db_runf(env, o->svc.db, NULL,
            "INSERT INTO idempotency(user_id, idem_key, request_hash, status, withdrawal_id,"
            " owner, fence, lease_expires_ns, updated_at_ns)"
            " VALUES(?, ?, ?, 'RESERVED', ?, ?, ?, ?, ?)",
            "ttbttiii", w->req.user_id, w->req.key, (const void *)w->hash, (size_t)SG_HASH_LEN,
            w->withdrawal_id, w->owner, w->fence, now + o->svc.cfg->lease_ttl_ns, now);
    }
    if (err != SG_OK) goto unavailable;
    if (sg_db_commit(env, o->svc.db) != SG_OK) goto unknown;
    SG_TRACE(env, SG_TR_RESERVE, .i = {w->fence}, .s = {w->withdrawal_id});
    *reserved = true;
    return SG_OK;
unavailable:
    sg_db_rollback(o->svc.db);
unknown:
    sg_orch_reply(o, w->client, w->correlation_id, w->trace_id, SG_CODE_UNAVAILABLE,
                  "storage unavailable; retry with the same idempotency_key", NULL, NULL);
    return SG_OK;
}

enum sg_err sg_orch_on_create(struct sg_orch *o, const SgEnvelope *e)
{
    const struct sg_env *env = o->svc.env;
    const Cbsaga__Orchestrator__V1__CreateWithdrawalRequest *c = e->create;
    struct sg_orch_work *w = work_slot(o);
    if (!w) {
        sg_orch_reply(o, e->from, e->msg_id, e->trace_id, SG_CODE_UNAVAILABLE,
                      "too many requests in progress", NULL, NULL);
        return SG_OK;
    }
    memset(w, 0, sizeof *w);
    w->client = e->from;
    w->correlation_id = e->msg_id;
    char trace[SG_TRACE_ID_LEN + 1];
    if (!sg_trim_copy(e->trace_id, trace, sizeof trace, NULL) || trace[0] == '\0')
        sg_trace_id_new(env, trace);
    memcpy(w->trace_id, trace, sizeof trace);
    const char *why = NULL;
    if (!sg_request_normalise(c->user_id, c->asset, c->amount_minor, c->destination_addr,
                              c->idempotency_key, &w->req, &why)) {
        sg_orch_reply(o, e->from, e->msg_id, w->trace_id, SG_CODE_INVALID_ARGUMENT, why, NULL,
                      NULL);
        return SG_OK;
    }
    sg_request_hash(&w->req, w->hash);
    bool reserved = false;
    enum sg_err err = reserve(o, w, &reserved);
    if (err != SG_OK || !reserved) return err;
    if (sg_fault(env, "orch.after_reserve")) return SG_ERR_CRASHED;
    w->active = true;
    w->gen = ++o->work_gen;
    uint64_t slot = (uint64_t)(w - o->work);
    uint64_t delay = o->svc.cfg->work_delay_max_ns > 0
        ? env->random_u64(env->ctx) % (uint64_t)(o->svc.cfg->work_delay_max_ns + 1) : 0;
    env->timer_at(env->ctx, env->now_mono_ns(env->ctx) + (int64_t)delay,
                  sg_tag(SG_TIMER_ORCH_WORK, (slot << 40) | (w->gen & 0xffffffffffULL)));
    return SG_OK;
}

/* The create's two events: WithdrawalRequested and VerifyIdentityRequested. */
static enum sg_err insert_outbox(struct sg_orch *o, const struct sg_orch_work *w, int64_t now)
{
    struct sg_event_fields f = {w->withdrawal_id, w->req.user_id, w->req.asset,
                                w->req.amount_minor, w->req.destination_addr, "", NULL, NULL};
    enum sg_err err = sg_outbox_put(o->svc.env, o->svc.db, SG_EVT_WITHDRAWAL_REQUESTED, &f,
                                    w->trace_id, now);
    if (err == SG_OK)
        err = sg_outbox_put(o->svc.env, o->svc.db, SG_EVT_VERIFY_IDENTITY_REQUESTED, &f,
                            w->trace_id, now);
    return err;
}

/* PLANTED BUG outbox-separate-tx: the outbox rows follow in their own transaction, after
 * the withdrawal committed and the client heard OK; a crash in between loses them. */
static enum sg_err outbox_later(struct sg_orch *o, const struct sg_orch_work *w, int64_t now)
{
    if (sg_fault(o->svc.env, "orch.before_outbox")) return SG_ERR_CRASHED;
    enum sg_err err = sg_db_begin(o->svc.env, o->svc.db);
    if (err == SG_OK) err = insert_outbox(o, w, now);
    if (err == SG_OK) return sg_db_commit(o->svc.env, o->svc.db);
    sg_db_rollback(o->svc.db);
    return err;
}

/* The inserts of the work transaction, after the fenced finalisation. */
static enum sg_err insert_withdrawal(struct sg_orch *o, const struct sg_orch_work *w,
                                     int64_t now, int64_t *saga_id)
{
    const struct sg_env *env = o->svc.env;
    struct sg_db *db = o->svc.db;
    enum sg_err err = sg_db_runf(env, db, NULL,
        "INSERT INTO withdrawals(withdrawal_id, user_id, asset, amount_minor, destination_addr,"
        " idem_key, status, failure_reason, trace_id, created_at_ns, updated_at_ns)"
        " VALUES(?, ?, ?, ?, ?, ?, 'REQUESTED', '', ?, ?, ?)",
        "tttitttii", w->withdrawal_id, w->req.user_id, w->req.asset, w->req.amount_minor,
        w->req.destination_addr, w->req.key, w->trace_id, now, now);
    if (err == SG_OK)
        err = sg_db_runf(env, db, NULL,
            "INSERT INTO sagas(withdrawal_id, state, current_step, deadline_ns)"
            " VALUES(?, 'STARTED', 'IDENTITY_CHECK', ?)",
            "ti", w->withdrawal_id, now + o->svc.cfg->saga_deadline_ns);
    *saga_id = sqlite3_last_insert_rowid(db->h);
    if (err == SG_OK)
        err = sg_db_runf(env, db, NULL,
            "INSERT INTO transitions(withdrawal_id, seq, from_status, to_status,"
            " cause_event_id, at_ns) VALUES(?, 1, '', 'REQUESTED', '', ?)",
            "ti", w->withdrawal_id, now);
    if (err == SG_OK && !sg_bug_on(o->svc.cfg->bugs, SG_BUG_OUTBOX_SEPARATE_TX))
        err = insert_outbox(o, w, now);
    return err;
}

/* A definite error before COMMIT: mark the attempt FAILED (fenced, own transaction) so a
 * retry with the same payload may take it over. If this fails too, the lease expires and
 * a retry takes over all the same. */
static void mark_failed(struct sg_orch *o, const struct sg_orch_work *w, int64_t now)
{
    enum sg_err err = sg_db_runf(o->svc.env, o->svc.db, NULL,
        "UPDATE idempotency SET status = 'FAILED', updated_at_ns = ? WHERE user_id = ?"
        " AND idem_key = ? AND owner = ? AND fence = ? AND status = 'RESERVED'",
        "ittti", now, w->req.user_id, w->req.key, w->owner, w->fence);
    SG_TRACE(o->svc.env, SG_TR_RESERVE_FAILED, .s = {w->withdrawal_id, sg_err_name(err)});
}

/* Fenced out: someone else owns the key now. Answer by the current row, no takeover. */
static void answer_fenced_out(struct sg_orch *o, const struct sg_orch_work *w, int64_t now)
{
    struct idem_row row;
    SG_TRACE(o->svc.env, SG_TR_FENCED_OUT, .i = {w->fence}, .s = {w->withdrawal_id});
    if (idem_load(o, &w->req, &row) == SG_OK && row.found && answer_existing(o, w, &row, now))
        return;
    sg_orch_reply(o, w->client, w->correlation_id, w->trace_id, SG_CODE_ABORTED,
                  "a request with this idempotency_key is in progress", w->withdrawal_id, NULL);
}

static enum sg_err finalise(struct sg_orch *o, const struct sg_orch_work *w, int64_t now,
                            int *changed)
{
    uint64_t bugs = o->svc.cfg->bugs;
    if (sg_bug_on(bugs, SG_BUG_RESERVE_OUTSIDE_TX)) /* PLANTED BUG: no re-check */
        return sg_db_runf(o->svc.env, o->svc.db, changed,
            "INSERT OR REPLACE INTO idempotency(user_id, idem_key, request_hash, status,"
            " withdrawal_id, owner, fence, lease_expires_ns, updated_at_ns)"
            " VALUES(?, ?, ?, 'COMPLETED', ?, ?, ?, ?, ?)",
            "ttbttiii", w->req.user_id, w->req.key, (const void *)w->hash, (size_t)SG_HASH_LEN,
            w->withdrawal_id, w->owner, w->fence, now, now);
    if (sg_bug_on(bugs, SG_BUG_IGNORE_FENCE)) /* PLANTED BUG: owner and fence ignored */
        return sg_db_runf(o->svc.env, o->svc.db, changed,
            "UPDATE idempotency SET status = 'COMPLETED', updated_at_ns = ? WHERE user_id = ?"
            " AND idem_key = ?", "itt", now, w->req.user_id, w->req.key);
    return sg_db_runf(o->svc.env, o->svc.db, changed,
        "UPDATE idempotency SET status = 'COMPLETED', updated_at_ns = ? WHERE user_id = ?"
        " AND idem_key = ? AND owner = ? AND fence = ? AND status = 'RESERVED'",
        "ittti", now, w->req.user_id, w->req.key, w->owner, w->fence);
}

enum sg_err sg_orch_on_work(struct sg_orch *o, uint64_t slot_gen)
{
    const struct sg_env *env = o->svc.env;
    size_t slot = (size_t)(slot_gen >> 40);
    SG_ASSERT(env, slot < SG_ORCH_WORK_MAX);
    struct sg_orch_work *w = &o->work[slot];
    if (!w->active || (w->gen & 0xffffffffffULL) != (slot_gen & 0xffffffffffULL)) return SG_OK;
    w->active = false;
    int64_t now = env->now_wall_ns(env->ctx), saga_id = 0;
    int changed = 0;
    enum sg_err err = sg_db_begin(env, o->svc.db);
    if (err == SG_OK) err = finalise(o, w, now, &changed);
    if (err == SG_OK && changed == 0) {
        sg_db_rollback(o->svc.db);
        answer_fenced_out(o, w, now);
        return SG_OK;
    }
    if (err == SG_OK) err = insert_withdrawal(o, w, now, &saga_id);
    if (err == SG_OK && sg_bug_on(o->svc.cfg->bugs, SG_BUG_ACK_BEFORE_COMMIT)) {
        /* PLANTED BUG ack-before-commit: OK goes out before the COMMIT's outcome is known. */
        sg_orch_reply(o, w->client, w->correlation_id, w->trace_id, SG_CODE_OK, "",
                      w->withdrawal_id, "REQUESTED");
        if (sg_fault(env, "orch.before_commit")) return SG_ERR_CRASHED;
        if (sg_db_commit(env, o->svc.db) != SG_OK) return SG_OK;
        sg_orch_arm_deadline(o, saga_id, now + o->svc.cfg->saga_deadline_ns);
        return sg_service_committed(&o->svc);
    }
    if (err != SG_OK) {
        sg_db_rollback(o->svc.db);
        mark_failed(o, w, now);
    } else if (sg_db_commit(env, o->svc.db) != SG_OK) {
        o->stats.unknown_commits++; /* outcome unknown: never OK, never "failed" */
    } else {
        o->stats.created++;
        SG_TRACE(env, SG_TR_CREATED, .s = {w->withdrawal_id});
        if (sg_fault(env, "orch.after_commit")) return SG_ERR_CRASHED;
        sg_orch_reply(o, w->client, w->correlation_id, w->trace_id, SG_CODE_OK, "",
                      w->withdrawal_id, "REQUESTED");
        sg_orch_arm_deadline(o, saga_id, now + o->svc.cfg->saga_deadline_ns);
        if (sg_bug_on(o->svc.cfg->bugs, SG_BUG_OUTBOX_SEPARATE_TX)) {
            err = outbox_later(o, w, now);
            if (err == SG_ERR_CRASHED) return err;
        }
        return sg_service_committed(&o->svc);
    }
    sg_orch_reply(o, w->client, w->correlation_id, w->trace_id, SG_CODE_UNAVAILABLE,
                  "storage unavailable; retry with the same idempotency_key", NULL, NULL);
    return SG_OK;
}
