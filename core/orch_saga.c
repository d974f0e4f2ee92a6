/*
 * orch_saga.c: advancing the saga on decisions and deadlines (see orch.h).
 *
 * Every change is one call to sg_orch_transition inside the caller's transaction: the
 * withdrawal row (guarded by its current status), the saga row, a transition-log row and
 * the evt.withdrawal event, so the log and the outbox can never disagree with the rows.
 */
#include <string.h>

#include "assert.h"
#include "bugs.h"
#include "db.h"
#include "orch_int.h"
#include "trace_rec.h"
#include "banned.h"

static enum sg_event_type status_event(enum sg_status to)
{
    switch (to) {
    case SG_STATUS_IN_PROGRESS: return SG_EVT_WITHDRAWAL_IN_PROGRESS;
    case SG_STATUS_COMPLETED: return SG_EVT_WITHDRAWAL_COMPLETED;
    case SG_STATUS_FAILED: return SG_EVT_WITHDRAWAL_FAILED;
    case SG_STATUS_CANCELED: return SG_EVT_WITHDRAWAL_CANCELED;
    default: return SG_EVT_COUNT;
    }
}

/* force: skip the state machine (only PLANTED BUG branches pass true). */
static enum sg_err transition(struct sg_orch *o, struct sg_wrow *w, enum sg_status to,
                              const char *reason, const char *cause_event_id,
                              int64_t now_wall_ns, bool force)
{
    const struct sg_env *env = o->svc.env;
    struct sg_db *db = o->svc.db;
    if (!force && !sg_transition_legal(w->status, to)) return SG_ERR_INVALID;
    SG_ASSERT(env, status_event(to) != SG_EVT_COUNT);
    int changed = 0;
    enum sg_err err = sg_db_runf(env, db, &changed,
        "UPDATE withdrawals SET status = ?, failure_reason = ?, updated_at_ns = ?"
        " WHERE withdrawal_id = ? AND status = ?", "ttitt",
        sg_status_name(to), reason, now_wall_ns, w->withdrawal_id, sg_status_name(w->status));
    if (err == SG_OK && changed != 1) return SG_ERR_INVALID;
    /* PLANTED BUG saga-lag: completion leaves the saga row behind. */
    bool lag = to == SG_STATUS_COMPLETED && sg_bug_on(o->svc.cfg->bugs, SG_BUG_SAGA_LAG);
    if (err == SG_OK && !lag)
        err = sg_db_runf(env, db, NULL,
            "UPDATE sagas SET state = ?, current_step = ? WHERE withdrawal_id = ?", "ttt",
            sg_saga_state_of(to), sg_saga_step_of(to), w->withdrawal_id);
    if (err == SG_OK)
        err = sg_db_runf(env, db, NULL,
            "INSERT INTO transitions(withdrawal_id, seq, from_status, to_status,"
            " cause_event_id, at_ns) SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?"
            " FROM transitions WHERE withdrawal_id = ?", "ttttit", w->withdrawal_id,
            sg_status_name(w->status), sg_status_name(to), cause_event_id, now_wall_ns,
            w->withdrawal_id);
    struct sg_event_fields f = {w->withdrawal_id, w->user_id, w->asset, w->amount_minor,
                                w->destination_addr, reason, NULL};
    if (err == SG_OK) err = sg_outbox_put(env, db, status_event(to), &f, w->trace_id, now_wall_ns);
    if (err != SG_OK) return err;
    SG_TRACE(env, SG_TR_TRANSITION,
             .s = {w->withdrawal_id, sg_status_name(w->status), sg_status_name(to)});
    w->status = to;
    o->stats.transitions++;
    return SG_OK;
}

enum sg_err sg_orch_transition(struct sg_orch *o, struct sg_wrow *w, enum sg_status to,
                               const char *reason, const char *cause_event_id,
                               int64_t now_wall_ns)
{
    return transition(o, w, to, reason, cause_event_id, now_wall_ns, false);
}

/* What a decision asks for: the status it requires and the status it leads to. */
struct decision_rule {
    enum sg_event_type type;
    enum sg_status from, to;
};

static const struct decision_rule rules[] = {
    {SG_EVT_IDENTITY_VERIFIED, SG_STATUS_REQUESTED, SG_STATUS_IN_PROGRESS},
    {SG_EVT_IDENTITY_REJECTED, SG_STATUS_REQUESTED, SG_STATUS_FAILED},
    {SG_EVT_RISK_APPROVED, SG_STATUS_IN_PROGRESS, SG_STATUS_COMPLETED},
    {SG_EVT_RISK_REJECTED, SG_STATUS_IN_PROGRESS, SG_STATUS_FAILED},
};

enum sg_err sg_orch_consume(void *ctx, struct sg_db *db, const SgRecord *rec, const SgEvent *ev,
                            enum sg_inbox_result *result)
{
    (void)rec;
    struct sg_orch *o = ctx;
    SG_ASSERT(o->svc.env, db == o->svc.db);
    enum sg_event_type t = sg_event_type_of(ev);
    const struct decision_rule *rule = NULL;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (rules[i].type == t) rule = &rules[i];
    *result = SG_INBOX_REJECTED;
    if (!rule) return SG_OK;
    uint64_t bugs = o->svc.cfg->bugs;
    enum sg_status to = rule->to;
    const char *reason = sg_event_reason(ev);
    if (t == SG_EVT_RISK_REJECTED && sg_bug_on(bugs, SG_BUG_IGNORE_RISK_REJECT)) {
        to = SG_STATUS_COMPLETED; /* PLANTED BUG ignore-risk-reject */
        reason = "";
    }
    /* PLANTED BUG unguarded-status: identity results skip the saga's state guard. */
    bool force = sg_bug_on(bugs, SG_BUG_UNGUARDED_STATUS) &&
                 (t == SG_EVT_IDENTITY_VERIFIED || t == SG_EVT_IDENTITY_REJECTED);
    struct sg_wrow w;
    enum sg_err err = sg_orch_load(o, sg_event_withdrawal_id(ev), &w);
    *result = SG_INBOX_IGNORED;
    if (err == SG_ERR_NOT_FOUND) return SG_OK;
    if (err != SG_OK) return err;
    if (w.status != rule->from && !(force && w.status != to)) {
        o->stats.ignored++; /* out of state or after a terminal state */
        return SG_OK;
    }
    int64_t now = o->svc.env->now_wall_ns(o->svc.env->ctx);
    err = transition(o, &w, to, reason, ev->event_id, now, force);
    if (err == SG_OK && to == SG_STATUS_IN_PROGRESS) {
        struct sg_event_fields f = {w.withdrawal_id, w.user_id, w.asset, w.amount_minor,
                                    w.destination_addr, "", NULL};
        err = sg_outbox_put(o->svc.env, db, SG_EVT_RISK_CHECK_REQUESTED, &f, w.trace_id, now);
    }
    if (err == SG_ERR_INVALID) return SG_OK; /* refused transition: IGNORED */
    if (err == SG_OK) *result = SG_INBOX_APPLIED;
    return err;
}

static enum sg_err load_by_saga(struct sg_orch *o, int64_t saga_id, struct sg_wrow *w)
{
    sqlite3_stmt *st = sg_db_stmtf(o->svc.env, o->svc.db,
                                   "SELECT withdrawal_id FROM sagas WHERE id = ?", "i", saga_id);
    if (!st) return SG_ERR_IO;
    char wid[SG_UUID_LEN + 1] = "";
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) sg_db_col_text(st, 0, wid, sizeof wid);
    sg_db_done(st);
    if (rc == SQLITE_DONE) return SG_ERR_NOT_FOUND;
    if (rc != SQLITE_ROW) return SG_ERR_IO;
    return sg_orch_load(o, wid, w);
}

enum sg_err sg_orch_on_deadline(struct sg_orch *o, int64_t saga_id)
{
    const struct sg_env *env = o->svc.env;
    struct sg_wrow w;
    enum sg_err err = sg_db_begin(env, o->svc.db);
    if (err == SG_OK) err = load_by_saga(o, saga_id, &w);
    /* PLANTED BUG terminal-mutable: the deadline also cancels terminal withdrawals. */
    bool mutable_terminal = sg_bug_on(o->svc.cfg->bugs, SG_BUG_TERMINAL_MUTABLE);
    if (err == SG_ERR_NOT_FOUND ||
        (err == SG_OK && sg_status_terminal(w.status) &&
         (!mutable_terminal || w.status == SG_STATUS_CANCELED))) {
        sg_db_rollback(o->svc.db);
        return SG_OK;
    }
    int64_t now = env->now_wall_ns(env->ctx);
    if (err == SG_OK && now < w.deadline_ns) { /* this node's clock says not yet */
        sg_db_rollback(o->svc.db);
        sg_orch_arm_deadline(o, saga_id, w.deadline_ns);
        return SG_OK;
    }
    if (err == SG_OK)
        err = transition(o, &w, SG_STATUS_CANCELED, "saga deadline exceeded", "", now,
                         mutable_terminal);
    if (err == SG_OK && sg_db_commit(env, o->svc.db) == SG_OK) return sg_service_committed(&o->svc);
    /* An I/O failure (or a COMMIT of unknown outcome): look again a little later; the
     * next attempt finds the saga terminal if the commit did land. */
    sg_db_rollback(o->svc.db);
    sg_orch_arm_deadline(o, saga_id, now + o->svc.cfg->request_timeout_ns);
    return SG_OK;
}
