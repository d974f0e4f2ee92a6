/*
 * world_coverage.c: counting rare paths from the trace records (see coverage.h).
 *
 * The nodes already say what they do in their trace records; matching a handful of record
 * kinds here keeps core free of test-only counters. Cost: a switch and at most one string
 * compare per record. The fault points are announced by the world's own free-text
 * records. Paths that need the client history (an unknown commit settled by a retry) are
 * counted by run.c after the run.
 */
#include <string.h>

#include "world.h"
#include "banned.h"

static bool starts(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

static bool is(const char *text, const char *want)
{
    return text != NULL && strcmp(text, want) == 0;
}

void sg_world_cover(struct sg_world *w, const struct sg_trace_rec *rec)
{
    uint64_t *c = w->coverage;
    switch (rec->kind) {
    case SG_TR_TEXT:
        if (starts(rec->s[0], "fault_point relay.after_ack")) c[SG_COV_RELAY_REPUBLISHED]++;
        else if (starts(rec->s[0], "fault_point consumer.after_effect"))
            c[SG_COV_CONSUMER_MID_BATCH]++;
        break;
    case SG_TR_CONSUME_DUPLICATE:
        c[SG_COV_DUPLICATE_SKIPPED]++;
        if (is(rec->s[0], "SettleHold")) c[SG_COV_SETTLE_REDELIVERED]++;
        break;
    case SG_TR_LEDGER:
        if (is(rec->s[0], "REJECT")) c[SG_COV_HOLD_REJECTED]++;
        break;
    case SG_TR_SAGA_STEP:
        if (is(rec->s[1], "PAYOUT") && is(rec->s[2], "RELEASE")) c[SG_COV_PAYOUT_RELEASED]++;
        if (is(rec->s[1], "LEDGER_HOLD") && is(rec->s[2], "RELEASE")) c[SG_COV_DEADLINE_RELEASE]++;
        break;
    case SG_TR_CONSUME_POISON: c[SG_COV_POISON_SKIPPED]++; break;
    case SG_TR_CONSUME:
        if (is(rec->s[2], "IGNORED")) c[SG_COV_LATE_DECISION_IGNORED]++;
        break;
    case SG_TR_FENCED_OUT: c[SG_COV_FENCED_OUT]++; break;
    case SG_TR_RESERVE:
        if (rec->i[0] > 1) c[SG_COV_LEASE_TAKEOVER]++;
        break;
    case SG_TR_SQLITE_ERROR:
        if (is(rec->s[0], "commit")) c[SG_COV_UNKNOWN_COMMIT]++;
        break;
    case SG_TR_TRANSITION:
        if (is(rec->s[2], "CANCELED")) c[SG_COV_DEADLINE_CANCELED]++;
        break;
    default: break;
    }
}
