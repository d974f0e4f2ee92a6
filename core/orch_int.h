/*
 * orch_int.h: what the orchestrator's files share (orch.c, orch_create.c, orch_saga.c).
 * Not for use outside core/orch*.c.
 */
#ifndef SG_ORCH_INT_H
#define SG_ORCH_INT_H

#include "orch.h"
#include "outbox.h"
#include "status.h"

/* A withdrawal row as the saga reads it. */
struct sg_wrow {
    char withdrawal_id[SG_UUID_LEN + 1];
    char user_id[SG_UUID_LEN + 1];
    char asset[SG_ASSET_MAX + 1];
    int64_t amount_minor;
    char destination_addr[SG_DEST_LEN_MAX + 1];
    enum sg_status status;
    enum sg_step step;
    char compensation[16];         /* RELEASE step: "payout_failed" or "deadline" */
    char failure_reason[128];
    char trace_id[SG_TRACE_ID_LEN + 1];
    int64_t created_at_ns, updated_at_ns, deadline_ns, saga_id;
};

/* Reads a withdrawal with its saga row; SG_ERR_NOT_FOUND when absent. */
SG_MUST_USE enum sg_err sg_orch_load(struct sg_orch *o, const char *withdrawal_id,
                                     struct sg_wrow *w);
/* Moves w to `to` (legal transitions only, else SG_ERR_INVALID) inside an open transaction:
 * withdrawal + saga rows, a transition-log row and the status event. */
SG_MUST_USE enum sg_err sg_orch_transition(struct sg_orch *o, struct sg_wrow *w,
                                           enum sg_status to, const char *reason,
                                           const char *cause_event_id, int64_t now_wall_ns);
/* Arms the saga's deadline timer from its persisted wall-clock deadline. */
void sg_orch_arm_deadline(struct sg_orch *o, int64_t saga_id, int64_t deadline_ns);

SG_MUST_USE enum sg_err sg_orch_on_create(struct sg_orch *o, const SgEnvelope *e);
SG_MUST_USE enum sg_err sg_orch_on_work(struct sg_orch *o, uint64_t slot_gen);
SG_MUST_USE enum sg_err sg_orch_on_deadline(struct sg_orch *o, int64_t saga_id);
SG_MUST_USE enum sg_err sg_orch_consume(void *ctx, struct sg_db *db, const SgRecord *rec,
                                        const SgEvent *ev, enum sg_inbox_result *result);
/* Sends a reply with a code, a message and a withdrawal id (create bodies filled when
 * status is non-NULL). */
void sg_orch_reply(struct sg_orch *o, uint32_t to, uint64_t correlation_id,
                   const char *trace_id, uint32_t code, const char *message,
                   const char *withdrawal_id, const char *status);

#endif
