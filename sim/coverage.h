/*
 * coverage.h: "sometimes" coverage (DESIGN §6; the FoundationDB idea): rare paths a run
 * should reach for its verdict to mean something. The world counts each path as it
 * happens, from the trace records of the nodes (core stays unaware); a sweep reports the
 * paths no seed reached, and --require-coverage makes such a gap fail the sweep.
 */
#ifndef SG_COVERAGE_H
#define SG_COVERAGE_H

#include <stdint.h>

enum sg_coverage {
    SG_COV_DUPLICATE_SKIPPED,     /* a redelivered record was de-duplicated by an inbox */
    SG_COV_RELAY_REPUBLISHED,     /* a relay crashed between ack and persist, re-published */
    SG_COV_LEASE_TAKEOVER,        /* an idempotency lease was taken over (fence > 1) */
    SG_COV_FENCED_OUT,            /* a work step lost its reservation to a takeover */
    SG_COV_UNKNOWN_COMMIT,        /* a COMMIT failed: outcome unknown, answered UNAVAILABLE */
    SG_COV_UNKNOWN_SETTLED,       /* ... and a retry with the same key settled it: OK */
    SG_COV_DEADLINE_CANCELED,     /* a saga was CANCELED by its deadline */
    SG_COV_LATE_DECISION_IGNORED, /* a decision arrived out of state and was IGNORED */
    SG_COV_POISON_SKIPPED,        /* an undecodable record was recorded REJECTED, skipped */
    SG_COV_CONSUMER_MID_BATCH,    /* a consumer crashed after its effect, before its commit */
    SG_COV_RECOVERY_CRASH,        /* power was lost during a node's start-up and recovery */
    SG_COV_HOLD_REJECTED,         /* the ledger rejected a hold: insufficient funds */
    SG_COV_PAYOUT_RELEASED,       /* a payout failed and the saga released the hold */
    SG_COV_DEADLINE_RELEASE,      /* a deadline passed with a hold pending: released */
    SG_COV_SETTLE_REDELIVERED,    /* a redelivered SettleHold was answered by the inbox */
    SG_COV_COUNT,
};

const char *sg_coverage_name(enum sg_coverage c);

#endif
