/*
 * coverage.c: names of the rare paths (see coverage.h).
 */
#include "coverage.h"

#include "assert.h"
#include "banned.h"

static const char *const names[SG_COV_COUNT] = {
    [SG_COV_DUPLICATE_SKIPPED] = "duplicate-skipped",
    [SG_COV_RELAY_REPUBLISHED] = "relay-republished",
    [SG_COV_LEASE_TAKEOVER] = "lease-takeover",
    [SG_COV_FENCED_OUT] = "fenced-out",
    [SG_COV_UNKNOWN_COMMIT] = "unknown-commit",
    [SG_COV_UNKNOWN_SETTLED] = "unknown-commit-settled",
    [SG_COV_DEADLINE_CANCELED] = "deadline-canceled",
    [SG_COV_LATE_DECISION_IGNORED] = "late-decision-ignored",
    [SG_COV_POISON_SKIPPED] = "poison-skipped",
    [SG_COV_CONSUMER_MID_BATCH] = "consumer-crash-mid-batch",
    [SG_COV_RECOVERY_CRASH] = "crash-during-recovery",
    [SG_COV_HOLD_REJECTED] = "hold-rejected",
    [SG_COV_PAYOUT_RELEASED] = "payout-failed-released",
    [SG_COV_DEADLINE_RELEASE] = "deadline-release",
    [SG_COV_SETTLE_REDELIVERED] = "settle-redelivered",
};

const char *sg_coverage_name(enum sg_coverage c)
{
    SG_ASSERT_PURE(c < SG_COV_COUNT);
    return names[c];
}
