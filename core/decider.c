/*
 * decider.c: consume a command, decide (decide.h), record and announce (see decider.h).
 */
#include "decider.h"

#include <string.h>

#include "assert.h"
#include "migrate.h"
#include "bugs.h"
#include "db.h"
#include "decide.h"
#include "ids.h"
#include "ledger.h"
#include "outbox.h"
#include "payout.h"
#include "trace_rec.h"
#include "banned.h"

struct role_desc {
    const struct sg_schema *schema;
    const char *group, *topic;
    enum sg_event_type command, yes, no; /* identity and risk */
    sg_consume_fn consume;               /* NULL: decide (consume() below) */
};

static const struct role_desc roles[] = {
    [SG_DECIDER_IDENTITY] = {&sg_schema_identity, "cbsaga-identity", "cbsaga.cmd.identity",
                             SG_EVT_VERIFY_IDENTITY_REQUESTED, SG_EVT_IDENTITY_VERIFIED,
                             SG_EVT_IDENTITY_REJECTED, NULL},
    [SG_DECIDER_RISK] = {&sg_schema_risk, "cbsaga-risk", "cbsaga.cmd.risk",
                         SG_EVT_RISK_CHECK_REQUESTED, SG_EVT_RISK_APPROVED,
                         SG_EVT_RISK_REJECTED, NULL},
    [SG_DECIDER_LEDGER] = {&sg_schema_ledger, "cbsaga-ledger", "cbsaga.cmd.ledger",
                           SG_EVT_COUNT, SG_EVT_COUNT, SG_EVT_COUNT, sg_ledger_consume},
    [SG_DECIDER_PAYOUT] = {&sg_schema_payout, "cbsaga-payout", "cbsaga.cmd.payout",
                           SG_EVT_COUNT, SG_EVT_COUNT, SG_EVT_COUNT, sg_payout_consume},
};

const char *sg_decider_db_name(enum sg_decider_role role)
{
    return roles[role].schema->db_name;
}

static enum sg_err already_decided(struct sg_decider *d, struct sg_db *db, const char *wid,
                                   bool *out)
{
    sqlite3_stmt *st = sg_db_stmtf(d->svc.env, db,
                                   "SELECT 1 FROM decisions WHERE withdrawal_id = ?", "t", wid);
    if (!st) return SG_ERR_IO;
    int rc = sqlite3_step(st);
    sg_db_done(st);
    *out = rc == SQLITE_ROW;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SG_OK : SG_ERR_IO;
}

static enum sg_err consume(void *ctx, struct sg_db *db, const SgRecord *rec, const SgEvent *ev,
                           enum sg_inbox_result *result)
{
    (void)rec;
    struct sg_decider *d = ctx;
    const struct role_desc *r = &roles[d->role];
    const struct sg_env *env = d->svc.env;
    const SgWithdrawalRef *w = sg_event_ref(ev);
    *result = SG_INBOX_REJECTED;
    if (sg_event_type_of(ev) != r->command || !w || !w->withdrawal_id[0]) return SG_OK;
    uint64_t bugs = d->svc.cfg->bugs;
    bool decided = false;
    enum sg_err err = already_decided(d, db, w->withdrawal_id, &decided);
    if (err != SG_OK) return err;
    *result = SG_INBOX_IGNORED;
    /* PLANTED BUG no-inbox-dedup: a redelivered command is decided and announced again. */
    if (decided && !sg_bug_on(bugs, SG_BUG_NO_INBOX_DEDUP)) return SG_OK;
    struct sg_decision dec = d->role == SG_DECIDER_IDENTITY
        ? sg_decide_identity(d->svc.cfg, w->withdrawal_id, w->user_id)
        : sg_decide_risk(d->svc.cfg, w->withdrawal_id, w->asset, w->amount_minor);
    int64_t now = env->now_wall_ns(env->ctx);
    err = sg_db_runf(env, db, NULL,
                     "INSERT OR REPLACE INTO decisions(withdrawal_id, decision, reason, cause_event_id,"
                     " trace_id, at_ns) VALUES(?, ?, ?, ?, ?, ?)",
                     "ttttti", w->withdrawal_id,
                     dec.approved ? "APPROVED" : "REJECTED", dec.reason, ev->event_id,
                     ev->trace_id, now);
    if (err != SG_OK) return err;
    struct sg_event_fields f = {.withdrawal_id = w->withdrawal_id, .user_id = w->user_id,
                                .asset = w->asset, .amount_minor = w->amount_minor,
                                .destination_addr = w->destination_addr, .reason = dec.reason};
    /* PLANTED BUG wrong-key: the decision is keyed by the command's event id. */
    if (sg_bug_on(bugs, SG_BUG_WRONG_KEY)) f.aggregate_id = ev->event_id;
    const char *trace_id = ev->trace_id;
    char fresh[SG_TRACE_ID_LEN + 1];
    if (sg_bug_on(bugs, SG_BUG_DROP_TRACE)) { /* PLANTED BUG drop-trace: a new trace id */
        sg_trace_id_new(env, fresh);
        trace_id = fresh;
    }
    err = sg_outbox_put(env, db, dec.approved ? r->yes : r->no, &f, trace_id, now);
    if (err != SG_OK) return err;
    d->decided++;
    *result = SG_INBOX_APPLIED;
    return SG_OK;
}

enum sg_err sg_decider_start(struct sg_decider *d, enum sg_decider_role role,
                             const struct sg_env *env, const struct sg_config *cfg)
{
    memset(d, 0, sizeof *d);
    d->role = role;
    const char *topics[] = {roles[role].topic, NULL};
    sg_consume_fn fn = roles[role].consume ? roles[role].consume : consume;
    enum sg_err err = sg_service_open(&d->svc, env, cfg, roles[role].schema,
                                      roles[role].group, topics, fn, d);
    if (err != SG_OK) return err;
    /* The rail knows nothing of our event ids (payout.h). PLANTED BUGS hold-twice and
     * release-twice: the ledger's commands reach it again on redelivery. */
    uint64_t bugs = cfg->bugs;
    d->svc.consumer.no_dedup = role == SG_DECIDER_PAYOUT ||
        (role == SG_DECIDER_LEDGER &&
         (sg_bug_on(bugs, SG_BUG_HOLD_TWICE) || sg_bug_on(bugs, SG_BUG_RELEASE_TWICE)));
    return sg_service_start(&d->svc);
}

enum sg_err sg_decider_on_message(struct sg_decider *d, const SgEnvelope *e)
{
    bool handled = false;
    enum sg_err err = sg_service_on_message(&d->svc, e, &handled);
    if (!handled) SG_TRACE(d->svc.env, SG_TR_DECIDER_IGNORES, .i = {e->payload_case});
    return err;
}

enum sg_err sg_decider_on_timer(struct sg_decider *d, uint64_t tag)
{
    bool handled = false;
    enum sg_err err = sg_service_on_timer(&d->svc, tag, &handled);
    SG_ASSERT(d->svc.env, handled);
    return err;
}

void sg_decider_stop(struct sg_decider *d)
{
    sg_service_close(&d->svc);
}
