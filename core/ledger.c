/*
 * ledger.c: holds, settlement and release on accounts (see ledger.h).
 */
#include "ledger.h"

#include <string.h>

#include "assert.h"
#include "bugs.h"
#include "decide.h"
#include "decider.h"
#include "ids.h"
#include "trace_rec.h"
#include "banned.h"

enum { STATE_LEN = 12 };

struct hold {
    bool found;
    char state[STATE_LEN];      /* PLACED, REJECTED, SETTLED, RELEASED */
    int64_t amount_minor;
};

static enum sg_err load_hold(const struct sg_env *env, struct sg_db *db, const char *wid,
                             struct hold *h)
{
    memset(h, 0, sizeof *h);
    sqlite3_stmt *st = sg_db_stmtf(env, db,
        "SELECT state, amount_minor FROM holds WHERE withdrawal_id = ?", "t", wid);
    if (!st) return SG_ERR_IO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        h->found = true;
        sg_db_col_text(st, 0, h->state, sizeof h->state);
        h->amount_minor = sqlite3_column_int64(st, 1);
    }
    sg_db_done(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SG_OK : SG_ERR_IO;
}

/* The account's available balance; opens the account (opening balance) on first use. */
static enum sg_err available_of(const struct sg_decider *d, struct sg_db *db,
                                const SgWithdrawalRef *w, int64_t *out)
{
    const struct sg_env *env = d->svc.env;
    int64_t opening = sg_opening_balance(d->svc.cfg, w->user_id);
    SG_ASSERT(env, opening >= 0);
    enum sg_err err = sg_db_runf(env, db, NULL,
        "INSERT OR IGNORE INTO accounts(user_id, asset, opening, available, held, paid_out)"
        " VALUES(?, ?, ?, ?, 0, 0)", "ttii", w->user_id, w->asset, opening, opening);
    if (err != SG_OK) return err;
    sqlite3_stmt *st = sg_db_stmtf(env, db,
        "SELECT available FROM accounts WHERE user_id = ? AND asset = ?", "tt", w->user_id,
        w->asset);
    if (!st) return SG_ERR_IO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    sg_db_done(st);
    return rc == SQLITE_ROW ? SG_OK : SG_ERR_IO;
}

/* Moves money between the account's columns (the deltas sum to zero: conserved). The
 * UPDATE refuses a result past int64 (SQLite raises an integer overflow as an error only
 * for its own arithmetic, so the bounds are checked in the WHERE clause). */
static enum sg_err move(const struct sg_env *env, struct sg_db *db, const SgWithdrawalRef *w,
                        int64_t d_available, int64_t d_held, int64_t d_paid, bool *done)
{
    SG_ASSERT(env, d_available + d_held + d_paid == 0);
    int changed = 0;
    enum sg_err err = sg_db_runf(env, db, &changed,
        "UPDATE accounts SET available = available + ?1, held = held + ?2,"
        " paid_out = paid_out + ?3 WHERE user_id = ?4 AND asset = ?5"
        " AND (?1 <= 0 OR available <= 9223372036854775807 - ?1)"
        " AND (?2 <= 0 OR held <= 9223372036854775807 - ?2)"
        " AND (?3 <= 0 OR paid_out <= 9223372036854775807 - ?3)",
        "iiitt", d_available, d_held, d_paid, w->user_id, w->asset);
    *done = changed == 1;
    return err;
}

static enum sg_err journal(const struct sg_env *env, struct sg_db *db, const SgWithdrawalRef *w,
                           const char *kind, int64_t amount, const char *cause, int64_t now)
{
    return sg_db_runf(env, db, NULL,
        "INSERT INTO journal(withdrawal_id, kind, user_id, asset, amount_minor,"
        " cause_event_id, at_ns) VALUES(?, ?, ?, ?, ?, ?, ?)", "ttttiti", w->withdrawal_id,
        kind, w->user_id, w->asset, amount, cause, now);
}

static enum sg_err set_hold(const struct sg_env *env, struct sg_db *db, const SgWithdrawalRef *w,
                            const char *state, int64_t amount, const char *trace_id,
                            int64_t now)
{
    return sg_db_runf(env, db, NULL,
        "INSERT INTO holds(withdrawal_id, user_id, asset, amount_minor, state, trace_id,"
        " updated_at_ns) VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(withdrawal_id) DO UPDATE"
        " SET state = excluded.state, updated_at_ns = excluded.updated_at_ns",
        "tttitti", w->withdrawal_id, w->user_id, w->asset, amount, state, trace_id, now);
}

/* One ledger action: the hold's new state, the money moved, the journal row, the answer. */
struct action {
    const char *state, *kind;
    int64_t amount, d_available, d_held, d_paid;
    enum sg_event_type answer;
    const char *reason;
};

static enum sg_err apply(struct sg_decider *d, struct sg_db *db, const SgEvent *ev,
                         const SgWithdrawalRef *w, const struct action *a,
                         enum sg_inbox_result *result)
{
    const struct sg_env *env = d->svc.env;
    int64_t now = env->now_wall_ns(env->ctx);
    bool moved = true;
    enum sg_err err = SG_OK;
    if (a->d_available || a->d_held || a->d_paid)
        err = move(env, db, w, a->d_available, a->d_held, a->d_paid, &moved);
    if (err != SG_OK) return err;
    if (!moved) { /* past int64: refuse rather than wrap */
        SG_TRACE(env, SG_TR_LEDGER_REFUSES, .s = {a->kind, w->withdrawal_id});
        *result = SG_INBOX_REJECTED;
        return SG_OK;
    }
    err = set_hold(env, db, w, a->state, a->amount, ev->trace_id, now);
    if (err == SG_OK) err = journal(env, db, w, a->kind, a->amount, ev->event_id, now);
    struct sg_event_fields f = {w->withdrawal_id, w->user_id, w->asset, w->amount_minor,
                                w->destination_addr, a->reason, NULL, NULL};
    if (err == SG_OK) err = sg_outbox_put(env, db, a->answer, &f, ev->trace_id, now);
    if (err != SG_OK) return err;
    SG_TRACE(env, SG_TR_LEDGER, .i = {a->amount}, .s = {a->kind, w->withdrawal_id});
    d->decided++;
    *result = SG_INBOX_APPLIED;
    return SG_OK;
}

static enum sg_err place(struct sg_decider *d, struct sg_db *db, const SgEvent *ev,
                         const SgWithdrawalRef *w, const struct hold *h,
                         enum sg_inbox_result *result)
{
    /* PLANTED BUG hold-twice: a redelivered PlaceHold places another hold. */
    if (h->found && !sg_bug_on(d->svc.cfg->bugs, SG_BUG_HOLD_TWICE)) return SG_OK;
    int64_t available = 0;
    enum sg_err err = available_of(d, db, w, &available);
    if (err != SG_OK) return err;
    int64_t amt = w->amount_minor;
    struct action a = {"PLACED", "PLACE", amt, -amt, amt, 0, SG_EVT_HOLD_PLACED, ""};
    if (available < amt)
        a = (struct action){"REJECTED", "REJECT", amt, 0, 0, 0, SG_EVT_HOLD_REJECTED,
                            "insufficient_funds"};
    return apply(d, db, ev, w, &a, result);
}

static enum sg_err settle(struct sg_decider *d, struct sg_db *db, const SgEvent *ev,
                          const SgWithdrawalRef *w, const struct hold *h,
                          enum sg_inbox_result *result)
{
    /* PLANTED BUG settle-after-release: a released hold is settled all the same. */
    bool loose = sg_bug_on(d->svc.cfg->bugs, SG_BUG_SETTLE_AFTER_RELEASE) &&
                 strcmp(h->state, "RELEASED") == 0 && h->amount_minor > 0;
    if (!h->found || (strcmp(h->state, "PLACED") != 0 && !loose)) return SG_OK;
    int64_t amt = h->amount_minor;
    struct action a = {"SETTLED", "SETTLE", amt, 0, -amt, amt, SG_EVT_HOLD_SETTLED, ""};
    return apply(d, db, ev, w, &a, result);
}

static enum sg_err release(struct sg_decider *d, struct sg_db *db, const SgEvent *ev,
                           const SgWithdrawalRef *w, const struct hold *h,
                           enum sg_inbox_result *result)
{
    /* PLANTED BUG release-twice: a released hold is released again. */
    bool again = sg_bug_on(d->svc.cfg->bugs, SG_BUG_RELEASE_TWICE) &&
                 strcmp(h->state, "RELEASED") == 0;
    int64_t amt = h->amount_minor;
    struct action a = {"RELEASED", "RELEASE", amt, amt, -amt, 0, SG_EVT_HOLD_RELEASED, ""};
    if (!h->found || strcmp(h->state, "REJECTED") == 0) /* nothing held: nothing moves */
        a = (struct action){h->found ? "REJECTED" : "RELEASED", "RELEASE", 0, 0, 0, 0,
                            SG_EVT_HOLD_RELEASED, ""};
    else if (strcmp(h->state, "PLACED") != 0 && !again)
        return SG_OK;
    return apply(d, db, ev, w, &a, result);
}

enum sg_err sg_ledger_consume(void *ctx, struct sg_db *db, const SgRecord *rec,
                              const SgEvent *ev, enum sg_inbox_result *result)
{
    (void)rec;
    struct sg_decider *d = ctx;
    SG_ASSERT(d->svc.env, db == d->svc.db);
    const SgWithdrawalRef *w = sg_event_ref(ev);
    enum sg_event_type t = sg_event_type_of(ev);
    *result = SG_INBOX_REJECTED;
    bool command = t == SG_EVT_PLACE_HOLD || t == SG_EVT_SETTLE_HOLD || t == SG_EVT_RELEASE_HOLD;
    if (!command || !w || !w->withdrawal_id[0] || !w->user_id[0] || !w->asset[0] ||
        w->amount_minor <= 0)
        return SG_OK;
    struct hold h;
    enum sg_err err = load_hold(d->svc.env, db, w->withdrawal_id, &h);
    if (err != SG_OK) return err;
    *result = SG_INBOX_IGNORED; /* out of state unless an action applies */
    switch (t) {
    case SG_EVT_PLACE_HOLD: return place(d, db, ev, w, &h, result);
    case SG_EVT_SETTLE_HOLD: return settle(d, db, ev, w, &h, result);
    default: return release(d, db, ev, w, &h, result);
    }
}
