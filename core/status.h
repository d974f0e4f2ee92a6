/*
 * status.h: the withdrawal state machine (DESIGN §1 "States", §8 "Saga rows").
 *
 * REQUESTED -> IN_PROGRESS -> COMPLETED; any non-terminal -> FAILED or CANCELED.
 * Terminal states never change. The saga row (state, current_step) that goes with each
 * status: REQUESTED/STARTED/IDENTITY_CHECK; IN_PROGRESS/IN_PROGRESS/ one of RISK_CHECK,
 * LEDGER_HOLD, PAYOUT, SETTLE, RELEASE (the money half moves the step, not the status);
 * COMPLETED/COMPLETED/DONE, FAILED/FAILED/DONE, CANCELED/CANCELED/DONE.
 * The orchestrator refuses illegal transitions; the checker judges them too (I3, I4).
 */
#ifndef SG_STATUS_H
#define SG_STATUS_H

#include <stdbool.h>

enum sg_status {
    SG_STATUS_NONE,        /* before creation ("" in the transition log) */
    SG_STATUS_REQUESTED,
    SG_STATUS_IN_PROGRESS,
    SG_STATUS_COMPLETED,
    SG_STATUS_FAILED,
    SG_STATUS_CANCELED,
    SG_STATUS_COUNT,
};

const char *sg_status_name(enum sg_status s);
/* SG_STATUS_COUNT when the text names no status. */
enum sg_status sg_status_parse(const char *s);
bool sg_status_terminal(enum sg_status s);
bool sg_transition_legal(enum sg_status from, enum sg_status to);
/* The saga state and current step that go with a status. */
const char *sg_saga_state_of(enum sg_status s);
const char *sg_saga_step_of(enum sg_status s);

/* The saga's steps (sagas.current_step). */
enum sg_step {
    SG_STEP_IDENTITY_CHECK,
    SG_STEP_RISK_CHECK,
    SG_STEP_LEDGER_HOLD,   /* PlaceHold sent */
    SG_STEP_PAYOUT,        /* the hold is placed; PayoutRequested sent */
    SG_STEP_SETTLE,        /* the payout succeeded; SettleHold sent */
    SG_STEP_RELEASE,       /* compensation: ReleaseHold sent */
    SG_STEP_DONE,
    SG_STEP_COUNT,
};
const char *sg_step_name(enum sg_step s);
/* SG_STEP_COUNT when the text names no step. */
enum sg_step sg_step_parse(const char *s);
/* Whether a saga whose withdrawal has status s may be at step. */
bool sg_step_agrees(enum sg_status s, enum sg_step step);

#endif
