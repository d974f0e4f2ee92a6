/*
 * bugs.h: planted bugs (DESIGN §5): runtime switches that break one property on purpose,
 * so that a test can prove the checker catches each invariant's violation. One build
 * serves every bug: each is a bit in sg_config.bugs, off unless `--bug NAME` sets it, and
 * each lives in a small branch marked `PLANTED BUG:` with the defect it reproduces.
 * Several reproduce real defects of the reference system.
 */
#ifndef SG_BUGS_H
#define SG_BUGS_H

#include <stdbool.h>
#include <stdint.h>

enum sg_bug {
    SG_BUG_RESERVE_OUTSIDE_TX,   /* I1 */
    SG_BUG_IGNORE_FENCE,         /* I1 */
    SG_BUG_MISMATCH_CREATES,     /* I2 */
    SG_BUG_TERMINAL_MUTABLE,     /* I3 */
    SG_BUG_UNGUARDED_STATUS,     /* I3 (reference) */
    SG_BUG_SAGA_LAG,             /* I4 */
    SG_BUG_NEW_GROUP_LATEST,     /* I5 (reference) */
    SG_BUG_WRONG_KEY,            /* I5 (reference) */
    SG_BUG_RELAY_PERSIST_EARLY,  /* I5 */
    SG_BUG_OUTBOX_SEPARATE_TX,   /* I5 */
    SG_BUG_NO_INBOX_DEDUP,       /* I6 */
    SG_BUG_IGNORE_RISK_REJECT,   /* I7 */
    SG_BUG_NO_OFFSET_COMMIT,     /* I8 (reference) */
    SG_BUG_POISON_STOPS_CONSUMER,/* I8 (reference) */
    SG_BUG_ACK_BEFORE_COMMIT,    /* I9 */
    SG_BUG_JOURNAL_NORMAL,       /* I9 */
    SG_BUG_DROP_TRACE,           /* I10 */
    SG_BUG_EXPIRED_LEASE_ABORTS, /* I8 */
    SG_BUG_RELEASE_TWICE,        /* I11 */
    SG_BUG_SETTLE_AFTER_RELEASE, /* I12 */
    SG_BUG_HOLD_TWICE,           /* I12 */
    SG_BUG_DEADLINE_NO_RELEASE,  /* I13 */
    SG_BUG_PAYOUT_NO_KEY,        /* I14 */
    SG_BUG_COUNT,
};

struct sg_bug_info {
    const char *name;      /* the --bug NAME */
    int invariant;         /* the I<n> it violates */
    const char *scenario;  /* a scenario that catches it */
    const char *defect;    /* one line: what the code does wrong */
};

/* Every bug, sorted by name. */
const struct sg_bug_info *sg_bug_info(enum sg_bug bug);
/* SG_BUG_COUNT when no bug has that name. */
enum sg_bug sg_bug_parse(const char *name);

static inline bool sg_bug_on(uint64_t bugs, enum sg_bug bug)
{
    return (bugs >> bug) & 1u;
}

#endif
