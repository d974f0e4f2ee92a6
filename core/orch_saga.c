/*
 * orch_saga.c: advancing the saga on decisions, ledger and payout answers, and deadlines
 * (see orch.h; DESIGN §8 "Saga rows" has the table the rules below encode).
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
                                w->destination_addr, reason, NULL, NULL};
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

/* Sends command `cmd` for w (inside the open transaction): the withdrawal as every command
 * carries it, and for the payout the rail's idempotency key. */
static enum sg_err command(struct sg_orch *o, const struct sg_wrow *w, enum sg_event_type cmd,
                           int64_t now)
{
    /* PLANTED BUG payout-no-key: the rail gets no key to de-duplicate by. */
    bool keyless = sg_bug_on(o->svc.cfg->bugs, SG_BUG_PAYOUT_NO_KEY);
    struct sg_event_fields f = {w->withdrawal_id, w->user_id, w->asset, w->amount_minor,
                                w->destination_addr, "", NULL,
                                cmd == SG_EVT_PAYOUT_REQUESTED && !keyless ? w->withdrawal_id
                                                                           : NULL};
    return sg_outbox_put(o->svc.env, o->svc.db, cmd, &f, w->trace_id, now);
}

/* Moves the saga of an IN_PROGRESS withdrawal from its step to `next` (guarded by the
 * step it was read at) and sends the next step's command. */
static enum sg_err advance(struct sg_orch *o, struct sg_wrow *w, enum sg_step next,
                           const char *compensation, enum sg_event_type cmd, int64_t now)
{
    const struct sg_env *env = o->svc.env;
    SG_ASSERT(env, w->status == SG_STATUS_IN_PROGRESS);
    SG_ASSERT(env, next > SG_STEP_RISK_CHECK && next < SG_STEP_DONE);
    int changed = 0;
    enum sg_err err = sg_db_runf(env, o->svc.db, &changed,
        "UPDATE sagas SET current_step = ?, compensation = ? WHERE withdrawal_id = ?"
        " AND current_step = ?", "tttt", sg_step_name(next), compensation, w->withdrawal_id,
        sg_step_name(w->step));
    if (err == SG_OK && changed != 1) return SG_ERR_INVALID;
    if (err == SG_OK) err = command(o, w, cmd, now);
    if (err != SG_OK) return err;
    SG_TRACE(env, SG_TR_SAGA_STEP, .s = {w->withdrawal_id, sg_step_name(w->step),
                                         sg_step_name(next)});
    w->step = next;
    return SG_OK;
}

/* What an answer asks for: the status and step it requires, then either a new status
 * (to != SG_STATUS_NONE) or the next step and its command. */
struct answer_rule {
    enum sg_event_type type;
    enum sg_status status;
    enum sg_step step;
    enum sg_status to;
    enum sg_step next;
    enum sg_event_type cmd;
    const char *compensation;
};

static const struct answer_rule rules[] = {
    {SG_EVT_IDENTITY_VERIFIED, SG_STATUS_REQUESTED, SG_STEP_IDENTITY_CHECK,
     SG_STATUS_IN_PROGRESS, SG_STEP_RISK_CHECK, SG_EVT_RISK_CHECK_REQUESTED, ""},
    {SG_EVT_IDENTITY_REJECTED, SG_STATUS_REQUESTED, SG_STEP_IDENTITY_CHECK, SG_STATUS_FAILED,
     SG_STEP_DONE, SG_EVT_COUNT, ""},
    {SG_EVT_RISK_APPROVED, SG_STATUS_IN_PROGRESS, SG_STEP_RISK_CHECK, SG_STATUS_NONE,
     SG_STEP_LEDGER_HOLD, SG_EVT_PLACE_HOLD, ""},
    {SG_EVT_RISK_REJECTED, SG_STATUS_IN_PROGRESS, SG_STEP_RISK_CHECK, SG_STATUS_FAILED,
     SG_STEP_DONE, SG_EVT_COUNT, ""},
    {SG_EVT_HOLD_PLACED, SG_STATUS_IN_PROGRESS, SG_STEP_LEDGER_HOLD, SG_STATUS_NONE,
     SG_STEP_PAYOUT, SG_EVT_PAYOUT_REQUESTED, ""},
    {SG_EVT_HOLD_REJECTED, SG_STATUS_IN_PROGRESS, SG_STEP_LEDGER_HOLD, SG_STATUS_FAILED,
     SG_STEP_DONE, SG_EVT_COUNT, ""},
    {SG_EVT_PAYOUT_SUCCEEDED, SG_STATUS_IN_PROGRESS, SG_STEP_PAYOUT, SG_STATUS_NONE,
     SG_STEP_SETTLE, SG_EVT_SETTLE_HOLD, ""},
    {SG_EVT_PAYOUT_FAILED, SG_STATUS_IN_PROGRESS, SG_STEP_PAYOUT, SG_STATUS_NONE,
     SG_STEP_RELEASE, SG_EVT_RELEASE_HOLD, "payout_failed"},
    {SG_EVT_HOLD_SETTLED, SG_STATUS_IN_PROGRESS, SG_STEP_SETTLE, SG_STATUS_COMPLETED,
     SG_STEP_DONE, SG_EVT_COUNT, ""},
    /* to: FAILED "payout_failed" or CANCELED by the saga's compensation (apply_rule) */
    {SG_EVT_HOLD_RELEASED, SG_STATUS_IN_PROGRESS, SG_STEP_RELEASE, SG_STATUS_FAILED,
     SG_STEP_DONE, SG_EVT_COUNT, ""},
};

static const struct answer_rule *rule_of(enum sg_event_type t)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (rules[i].type == t) return &rules[i];
    return NULL;
}

/* Whether w may take the answer. The planted bugs loosen the guards they name. */
static bool guard(const struct sg_orch *o, const struct answer_rule *r, const struct sg_wrow *w,
                  bool force)
{
    if (force) return w->status != r->to; /* unguarded-status: anything but a repeat */
    if (w->status != r->status) return false;
    /* PLANTED BUG settle-after-release: a late HoldPlaced continues a compensating saga. */
    if (r->type == SG_EVT_HOLD_PLACED && w->step == SG_STEP_RELEASE &&
        sg_bug_on(o->svc.cfg->bugs, SG_BUG_SETTLE_AFTER_RELEASE))
        return true;
    return w->step == r->step;
}

static enum sg_err apply_rule(struct sg_orch *o, struct sg_wrow *w, const struct answer_rule *r,
                              const SgEvent *ev, bool force)
{
    int64_t now = o->svc.env->now_wall_ns(o->svc.env->ctx);
    uint64_t bugs = o->svc.cfg->bugs;
    enum sg_status to = r->to;
    const char *reason = sg_event_reason(ev);
    if (r->type == SG_EVT_RISK_REJECTED && sg_bug_on(bugs, SG_BUG_IGNORE_RISK_REJECT)) {
        to = SG_STATUS_COMPLETED; /* PLANTED BUG ignore-risk-reject */
        reason = "";
    }
    if (r->type == SG_EVT_HOLD_RELEASED) {
        bool canceled = strcmp(w->compensation, "deadline") == 0;
        to = canceled ? SG_STATUS_CANCELED : SG_STATUS_FAILED;
        reason = canceled ? "saga deadline exceeded" : "payout_failed";
    }
    if (to == SG_STATUS_NONE) return advance(o, w, r->next, r->compensation, r->cmd, now);
    enum sg_err err = transition(o, w, to, reason, ev->event_id, now, force);
    if (err == SG_OK && r->cmd != SG_EVT_COUNT && to == SG_STATUS_IN_PROGRESS)
        err = command(o, w, r->cmd, now);
    return err;
}

enum sg_err sg_orch_consume(void *ctx, struct sg_db *db, const SgRecord *rec, const SgEvent *ev,
                            enum sg_inbox_result *result)
{
    (void)rec;
    struct sg_orch *o = ctx;
    SG_ASSERT(o->svc.env, db == o->svc.db);
    enum sg_event_type t = sg_event_type_of(ev);
    const struct answer_rule *rule = rule_of(t);
    *result = SG_INBOX_REJECTED;
    if (!rule) return SG_OK;
    /* PLANTED BUG unguarded-status: identity results skip the saga's state guard. */
    bool force = sg_bug_on(o->svc.cfg->bugs, SG_BUG_UNGUARDED_STATUS) &&
                 (t == SG_EVT_IDENTITY_VERIFIED || t == SG_EVT_IDENTITY_REJECTED);
    struct sg_wrow w;
    enum sg_err err = sg_orch_load(o, sg_event_withdrawal_id(ev), &w);
    *result = SG_INBOX_IGNORED;
    if (err == SG_ERR_NOT_FOUND) return SG_OK;
    if (err != SG_OK) return err;
    if (!guard(o, rule, &w, force)) {
        o->stats.ignored++; /* out of state or after a terminal state */
        return SG_OK;
    }
    err = apply_rule(o, &w, rule, ev, force);
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
    /* Past the deadline: before any money moved, cancel; with a hold that may be placed
     * and no payout sent, compensate first (release, then CANCELED on HoldReleased); once
     * the payout is sent the saga waits for the rail and the ledger, which always answer. */
    bool before_money = err == SG_OK && (sg_status_terminal(w.status) ||
                                         w.step <= SG_STEP_RISK_CHECK);
    /* PLANTED BUG deadline-no-release: the hold is forgotten; the saga just cancels. */
    bool forget = err == SG_OK && w.step == SG_STEP_LEDGER_HOLD &&
                  sg_bug_on(o->svc.cfg->bugs, SG_BUG_DEADLINE_NO_RELEASE);
    if (err == SG_OK && (before_money || forget)) {
        err = transition(o, &w, SG_STATUS_CANCELED, "saga deadline exceeded", "", now,
                         mutable_terminal);
    } else if (err == SG_OK && w.step == SG_STEP_LEDGER_HOLD) {
        err = advance(o, &w, SG_STEP_RELEASE, "deadline", SG_EVT_RELEASE_HOLD, now);
    } else if (err == SG_OK) {
        sg_db_rollback(o->svc.db);
        return SG_OK;
    }
    if (err == SG_OK && sg_db_commit(env, o->svc.db) == SG_OK) return sg_service_committed(&o->svc);
    /* An I/O failure (or a COMMIT of unknown outcome): look again a little later; the
     * next attempt finds the saga terminal if the commit did land. */
    sg_db_rollback(o->svc.db);
    sg_orch_arm_deadline(o, saga_id, now + o->svc.cfg->request_timeout_ns);
    return SG_OK;
}
