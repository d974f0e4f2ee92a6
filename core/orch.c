/*
 * orch.c: the orchestrator's lifecycle, dispatch, GetWithdrawal and shared row helpers
 * (see orch.h). Creation lives in orch_create.c, the saga in orch_saga.c.
 */
#include "orch_int.h"

#include <string.h>

#include "assert.h"
#include "db.h"
#include "migrate.h"
#include "codes.h"
#include "timer.h"
#include "trace_rec.h"
#include "banned.h"

static const char *const orch_topics[] = {"cbsaga.evt.identity", "cbsaga.evt.risk",
                                          "cbsaga.evt.ledger", "cbsaga.evt.payout", NULL};

/* Re-arms the deadline of every saga that is not terminal (recovery from disk alone). */
static enum sg_err rearm_deadlines(struct sg_orch *o)
{
    sqlite3_stmt *st = sg_db_prepare(o->svc.env, o->svc.db,
        "SELECT id, deadline_ns FROM sagas WHERE current_step <> 'DONE' ORDER BY id");
    if (!st) return SG_ERR_IO;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        sg_orch_arm_deadline(o, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
    sg_db_done(st);
    return rc == SQLITE_DONE ? SG_OK : SG_ERR_IO;
}

enum sg_err sg_orch_start(struct sg_orch *o, const struct sg_env *env,
                          const struct sg_config *cfg)
{
    memset(o, 0, sizeof *o);
    enum sg_err err = sg_service_open(&o->svc, env, cfg, &sg_schema_orch,
                                      "cbsaga-orchestrator", orch_topics, sg_orch_consume, o);
    if (err != SG_OK) return err;
    err = rearm_deadlines(o);
    if (err != SG_OK) return err;
    return sg_service_start(&o->svc);
}

void sg_orch_stop(struct sg_orch *o)
{
    sg_service_close(&o->svc);
}

void sg_orch_arm_deadline(struct sg_orch *o, int64_t saga_id, int64_t deadline_ns)
{
    const struct sg_env *env = o->svc.env;
    int64_t left = deadline_ns - env->now_wall_ns(env->ctx);
    if (left < 0) left = 0;
    env->timer_at(env->ctx, env->now_mono_ns(env->ctx) + left,
                  sg_tag(SG_TIMER_ORCH_DEADLINE, (uint64_t)saga_id));
}

void sg_orch_reply(struct sg_orch *o, uint32_t to, uint64_t correlation_id,
                   const char *trace_id, uint32_t code, const char *message,
                   const char *withdrawal_id, const char *status)
{
    Sagasim__Node__V1__ClientReply r = SAGASIM__NODE__V1__CLIENT_REPLY__INIT;
    Cbsaga__Orchestrator__V1__CreateWithdrawalResponse body =
        CBSAGA__ORCHESTRATOR__V1__CREATE_WITHDRAWAL_RESPONSE__INIT;
    r.code = code;
    r.message = (char *)(message ? message : "");
    r.withdrawal_id = (char *)(withdrawal_id ? withdrawal_id : "");
    if (status) {
        body.withdrawal_id = r.withdrawal_id;
        body.status = (char *)status;
        r.body_case = SAGASIM__NODE__V1__CLIENT_REPLY__BODY_CREATE;
        r.create = &body;
    }
    SG_TRACE(o->svc.env, SG_TR_REPLY, .i = {to},
             .s = {sg_code_name(code), r.withdrawal_id, status ? status : ""});
    sg_wire_reply(o->svc.env, &o->svc.msg_counter, to, correlation_id, trace_id, &r);
}

enum sg_err sg_orch_load(struct sg_orch *o, const char *withdrawal_id, struct sg_wrow *w)
{
    sqlite3_stmt *st = sg_db_stmtf(o->svc.env, o->svc.db,
        "SELECT w.withdrawal_id, w.user_id, w.asset, w.amount_minor, w.destination_addr,"
        " w.status, s.current_step, w.failure_reason, w.trace_id, w.created_at_ns,"
        " w.updated_at_ns, s.deadline_ns, s.id, s.compensation FROM withdrawals w"
        " JOIN sagas s ON s.withdrawal_id = w.withdrawal_id WHERE w.withdrawal_id = ?",
        "t", withdrawal_id);
    if (!st) return SG_ERR_IO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(w, 0, sizeof *w);
        char status[20];
        sg_db_col_text(st, 0, w->withdrawal_id, sizeof w->withdrawal_id);
        sg_db_col_text(st, 1, w->user_id, sizeof w->user_id);
        sg_db_col_text(st, 2, w->asset, sizeof w->asset);
        w->amount_minor = sqlite3_column_int64(st, 3);
        sg_db_col_text(st, 4, w->destination_addr, sizeof w->destination_addr);
        sg_db_col_text(st, 5, status, sizeof status);
        w->status = sg_status_parse(status);
        char step[20];
        sg_db_col_text(st, 6, step, sizeof step);
        w->step = sg_step_parse(step);
        sg_db_col_text(st, 7, w->failure_reason, sizeof w->failure_reason);
        sg_db_col_text(st, 8, w->trace_id, sizeof w->trace_id);
        w->created_at_ns = sqlite3_column_int64(st, 9);
        w->updated_at_ns = sqlite3_column_int64(st, 10);
        w->deadline_ns = sqlite3_column_int64(st, 11);
        w->saga_id = sqlite3_column_int64(st, 12);
        sg_db_col_text(st, 13, w->compensation, sizeof w->compensation);
    }
    sg_db_done(st);
    if (rc == SQLITE_ROW) return SG_OK;
    return rc == SQLITE_DONE ? SG_ERR_NOT_FOUND : SG_ERR_IO;
}

static void reply_get(struct sg_orch *o, const SgEnvelope *e, const struct sg_wrow *w)
{
    Sagasim__Node__V1__ClientReply r = SAGASIM__NODE__V1__CLIENT_REPLY__INIT;
    Cbsaga__Orchestrator__V1__GetWithdrawalResponse g =
        CBSAGA__ORCHESTRATOR__V1__GET_WITHDRAWAL_RESPONSE__INIT;
    char created[64], updated[64];
    sg_rfc3339(w->created_at_ns, created);
    sg_rfc3339(w->updated_at_ns, updated);
    g.withdrawal_id = (char *)w->withdrawal_id;
    g.user_id = (char *)w->user_id;
    g.asset = (char *)w->asset;
    g.amount_minor = w->amount_minor;
    g.destination_addr = (char *)w->destination_addr;
    g.status = (char *)sg_status_name(w->status);
    g.failure_reason = (char *)w->failure_reason;
    g.created_at = created;
    g.updated_at = updated;
    r.code = SG_CODE_OK;
    r.message = (char *)"";
    r.withdrawal_id = g.withdrawal_id;
    r.body_case = SAGASIM__NODE__V1__CLIENT_REPLY__BODY_GET;
    r.get = &g;
    SG_TRACE(o->svc.env, SG_TR_REPLY_GET, .i = {e->from}, .s = {w->withdrawal_id, g.status});
    sg_wire_reply(o->svc.env, &o->svc.msg_counter, e->from, e->msg_id, e->trace_id, &r);
}

static enum sg_err on_get(struct sg_orch *o, const SgEnvelope *e)
{
    char id[SG_UUID_LEN + 1];
    size_t len = 0;
    bool fits = sg_trim_copy(e->get->withdrawal_id, id, sizeof id, &len);
    if (!fits || !sg_uuid_valid(id, len)) {
        sg_orch_reply(o, e->from, e->msg_id, e->trace_id, SG_CODE_INVALID_ARGUMENT,
                      fits && len == 0 ? "withdrawal_id is required"
                                       : "withdrawal_id must be a UUID",
                      NULL, NULL);
        return SG_OK;
    }
    for (char *c = id; *c; c++)
        if (*c >= 'A' && *c <= 'F') *c = (char)(*c - 'A' + 'a');
    struct sg_wrow w;
    enum sg_err err = sg_orch_load(o, id, &w);
    if (err == SG_OK) reply_get(o, e, &w);
    else if (err == SG_ERR_NOT_FOUND)
        sg_orch_reply(o, e->from, e->msg_id, e->trace_id, SG_CODE_NOT_FOUND,
                      "withdrawal not found", id, NULL);
    else
        sg_orch_reply(o, e->from, e->msg_id, e->trace_id, SG_CODE_UNAVAILABLE,
                      "storage unavailable", NULL, NULL);
    return SG_OK;
}

enum sg_err sg_orch_on_message(struct sg_orch *o, const SgEnvelope *e)
{
    switch (e->payload_case) {
    case SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_CREATE: return sg_orch_on_create(o, e);
    case SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_GET: return on_get(o, e);
    default: {
        bool handled = false;
        enum sg_err err = sg_service_on_message(&o->svc, e, &handled);
        if (!handled) SG_TRACE(o->svc.env, SG_TR_ORCH_IGNORES, .i = {e->payload_case});
        return err;
    }
    }
}

enum sg_err sg_orch_on_timer(struct sg_orch *o, uint64_t tag)
{
    switch (sg_tag_kind(tag)) {
    case SG_TIMER_ORCH_WORK: return sg_orch_on_work(o, sg_tag_arg(tag));
    case SG_TIMER_ORCH_DEADLINE: return sg_orch_on_deadline(o, (int64_t)sg_tag_arg(tag));
    default: {
        bool handled = false;
        enum sg_err err = sg_service_on_timer(&o->svc, tag, &handled);
        SG_ASSERT(o->svc.env, handled);
        return err;
    }
    }
}
