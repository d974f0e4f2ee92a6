/*
 * payout.c: the payment rail's behaviour (see payout.h).
 */
#include "payout.h"

#include <stdio.h>
#include <string.h>

#include "assert.h"
#include "decide.h"
#include "decider.h"
#include "trace_rec.h"
#include "banned.h"

/* The outcome already given for key, if any ("" when new). */
static enum sg_err known_outcome(const struct sg_env *env, struct sg_db *db, const char *key,
                                 char outcome[16], char reason[64])
{
    outcome[0] = reason[0] = '\0';
    sqlite3_stmt *st = sg_db_stmtf(env, db,
        "SELECT outcome, reason FROM payouts WHERE idem_key = ?", "t", key);
    if (!st) return SG_ERR_IO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        sg_db_col_text(st, 0, outcome, 16);
        sg_db_col_text(st, 1, reason, 64);
    }
    sg_db_done(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SG_OK : SG_ERR_IO;
}

static enum sg_err record(const struct sg_decider *d, struct sg_db *db, const SgEvent *ev,
                          const SgWithdrawalRef *w, const char *key, bool paid,
                          const char *reason, int64_t now)
{
    const struct sg_env *env = d->svc.env;
    enum sg_err err = SG_OK;
    if (key[0])
        err = sg_db_runf(env, db, NULL,
            "INSERT INTO payouts(idem_key, withdrawal_id, outcome, reason, amount_minor,"
            " requests, at_ns) VALUES(?, ?, ?, ?, ?, 1, ?)", "ttttii", key, w->withdrawal_id,
            paid ? "SUCCEEDED" : "FAILED", reason, w->amount_minor, now);
    if (err == SG_OK && paid) /* the money leaves: the one effect I14 counts */
        err = sg_db_runf(env, db, NULL,
            "INSERT INTO effects(withdrawal_id, amount_minor, cause_event_id, at_ns)"
            " VALUES(?, ?, ?, ?)", "titi", w->withdrawal_id, w->amount_minor, ev->event_id,
            now);
    return err;
}

enum sg_err sg_payout_consume(void *ctx, struct sg_db *db, const SgRecord *rec,
                              const SgEvent *ev, enum sg_inbox_result *result)
{
    (void)rec;
    struct sg_decider *d = ctx;
    const struct sg_env *env = d->svc.env;
    SG_ASSERT(env, db == d->svc.db);
    const SgWithdrawalRef *w = sg_event_ref(ev);
    *result = SG_INBOX_REJECTED;
    if (sg_event_type_of(ev) != SG_EVT_PAYOUT_REQUESTED || !w || !w->withdrawal_id[0] ||
        w->amount_minor <= 0)
        return SG_OK;
    const char *key = sg_event_payout_key(ev);
    char outcome[16], reason[64];
    enum sg_err err = known_outcome(env, db, key, outcome, reason);
    if (err != SG_OK) return err;
    int64_t now = env->now_wall_ns(env->ctx);
    bool repeat = outcome[0] != '\0';
    bool paid = repeat ? strcmp(outcome, "SUCCEEDED") == 0 : false;
    if (repeat) {
        err = sg_db_runf(env, db, NULL,
            "UPDATE payouts SET requests = requests + 1 WHERE idem_key = ?", "t", key);
    } else {
        struct sg_decision dec = sg_decide_payout(d->svc.cfg, w->withdrawal_id);
        paid = dec.approved;
        snprintf(reason, sizeof reason, "%s", dec.reason);
        err = record(d, db, ev, w, key, paid, reason, now);
    }
    struct sg_event_fields f = {w->withdrawal_id, w->user_id, w->asset, w->amount_minor,
                                w->destination_addr, reason, NULL, NULL};
    if (err == SG_OK)
        err = sg_outbox_put(env, db, paid ? SG_EVT_PAYOUT_SUCCEEDED : SG_EVT_PAYOUT_FAILED, &f,
                            ev->trace_id, now);
    if (err != SG_OK) return err;
    SG_TRACE(env, SG_TR_PAYOUT,
             .s = {repeat ? "repeat" : "new", w->withdrawal_id, paid ? "SUCCEEDED" : "FAILED"});
    if (!repeat) d->decided++;
    *result = repeat ? SG_INBOX_IGNORED : SG_INBOX_APPLIED;
    return SG_OK;
}
