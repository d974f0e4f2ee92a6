/*
 * status.c: the state machine as tables (see status.h).
 */
#include "status.h"

#include <string.h>
#include "banned.h"

static const char *const names[SG_STATUS_COUNT] = {
    "", "REQUESTED", "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELED"};
static const char *const states[SG_STATUS_COUNT] = {
    "", "STARTED", "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELED"};
static const char *const steps[SG_STATUS_COUNT] = {
    "", "IDENTITY_CHECK", "RISK_CHECK", "DONE", "DONE", "DONE"};

const char *sg_status_name(enum sg_status s)
{
    return s < SG_STATUS_COUNT ? names[s] : "?";
}

enum sg_status sg_status_parse(const char *s)
{
    for (int i = 0; i < SG_STATUS_COUNT; i++)
        if (strcmp(names[i], s) == 0) return (enum sg_status)i;
    return SG_STATUS_COUNT;
}

bool sg_status_terminal(enum sg_status s)
{
    return s == SG_STATUS_COMPLETED || s == SG_STATUS_FAILED || s == SG_STATUS_CANCELED;
}

bool sg_transition_legal(enum sg_status from, enum sg_status to)
{
    if (from >= SG_STATUS_COUNT || to >= SG_STATUS_COUNT) return false;
    switch (from) {
    case SG_STATUS_NONE: return to == SG_STATUS_REQUESTED;
    case SG_STATUS_REQUESTED:
        return to == SG_STATUS_IN_PROGRESS || to == SG_STATUS_FAILED || to == SG_STATUS_CANCELED;
    case SG_STATUS_IN_PROGRESS:
        return to == SG_STATUS_COMPLETED || to == SG_STATUS_FAILED || to == SG_STATUS_CANCELED;
    default: return false;
    }
}

const char *sg_saga_state_of(enum sg_status s)
{
    return s < SG_STATUS_COUNT ? states[s] : "?";
}

const char *sg_saga_step_of(enum sg_status s)
{
    return s < SG_STATUS_COUNT ? steps[s] : "?";
}

static const char *const step_names[SG_STEP_COUNT] = {
    "IDENTITY_CHECK", "RISK_CHECK", "LEDGER_HOLD", "PAYOUT", "SETTLE", "RELEASE", "DONE"};

const char *sg_step_name(enum sg_step s)
{
    return s < SG_STEP_COUNT ? step_names[s] : "?";
}

enum sg_step sg_step_parse(const char *s)
{
    for (int i = 0; i < SG_STEP_COUNT; i++)
        if (strcmp(step_names[i], s) == 0) return (enum sg_step)i;
    return SG_STEP_COUNT;
}

bool sg_step_agrees(enum sg_status s, enum sg_step step)
{
    switch (s) {
    case SG_STATUS_REQUESTED: return step == SG_STEP_IDENTITY_CHECK;
    case SG_STATUS_IN_PROGRESS: return step >= SG_STEP_RISK_CHECK && step <= SG_STEP_RELEASE;
    case SG_STATUS_COMPLETED:
    case SG_STATUS_FAILED:
    case SG_STATUS_CANCELED: return step == SG_STEP_DONE;
    default: return false;
    }
}
