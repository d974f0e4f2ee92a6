/*
 * world_coverage.c: counting rare paths from the trace records (see coverage.h).
 *
 * The nodes already say what they do in their trace records; matching a handful of
 * prefixes here keeps core free of test-only counters. Cost: a few byte compares per
 * record. Paths that need the client history (an unknown commit settled by a retry) are
 * counted by run.c after the run.
 */
#include <stdlib.h>
#include <string.h>

#include "world.h"
#include "banned.h"

static bool starts(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

static bool ends(const char *text, const char *suffix)
{
    size_t n = strlen(text), m = strlen(suffix);
    return n >= m && strcmp(text + n - m, suffix) == 0;
}

void sg_world_cover(struct sg_world *w, const char *text)
{
    uint64_t *c = w->coverage;
    switch (text[0]) {
    case 'c':
        if (starts(text, "consume duplicate SettleHold")) c[SG_COV_SETTLE_REDELIVERED]++;
        if (starts(text, "consume duplicate")) c[SG_COV_DUPLICATE_SKIPPED]++;
        else if (starts(text, "consume poison")) c[SG_COV_POISON_SKIPPED]++;
        else if (starts(text, "consume ") && ends(text, " IGNORED")) c[SG_COV_LATE_DECISION_IGNORED]++;
        break;
    case 'f':
        if (starts(text, "fault_point relay.after_ack")) c[SG_COV_RELAY_REPUBLISHED]++;
        else if (starts(text, "fault_point consumer.after_effect")) c[SG_COV_CONSUMER_MID_BATCH]++;
        else if (starts(text, "fenced out")) c[SG_COV_FENCED_OUT]++;
        break;
    case 'l':
        if (starts(text, "ledger REJECT ")) c[SG_COV_HOLD_REJECTED]++;
        break;
    case 'r':
        if (starts(text, "reserve wid=")) {
            const char *fence = strstr(text, "fence=");
            if (fence && strtoll(fence + 6, NULL, 10) > 1) c[SG_COV_LEASE_TAKEOVER]++;
        }
        break;
    case 's':
        if (starts(text, "sqlite_error") && ends(text, "at=commit")) c[SG_COV_UNKNOWN_COMMIT]++;
        else if (starts(text, "step ") && ends(text, " PAYOUT->RELEASE")) c[SG_COV_PAYOUT_RELEASED]++;
        else if (starts(text, "step ") && ends(text, " LEDGER_HOLD->RELEASE"))
            c[SG_COV_DEADLINE_RELEASE]++;
        break;
    case 't':
        if (starts(text, "transition ") && ends(text, "->CANCELED")) c[SG_COV_DEADLINE_CANCELED]++;
        break;
    default: break;
    }
}
