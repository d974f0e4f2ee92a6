/*
 * bugs.c: the catalogue of planted bugs (see bugs.h).
 */
#include "bugs.h"

#include <string.h>

#include "assert.h"
#include "banned.h"

static const struct sg_bug_info bugs[SG_BUG_COUNT] = {
    [SG_BUG_RESERVE_OUTSIDE_TX] = {"reserve-outside-tx", 1, "lease-race",
        "idempotency lookup in the request step, insert in the work step with no re-check"},
    [SG_BUG_IGNORE_FENCE] = {"ignore-fence", 1, "shared-key-storm",
        "finalisation ignores owner and fence; a takeover mints a new withdrawal id"},
    [SG_BUG_MISMATCH_CREATES] = {"mismatch-creates", 2, "default",
        "same key with another payload creates a second withdrawal under a derived key"},
    [SG_BUG_TERMINAL_MUTABLE] = {"terminal-mutable", 3, "default",
        "the saga deadline cancels withdrawals that are already terminal"},
    [SG_BUG_UNGUARDED_STATUS] = {"unguarded-status", 3, "slow-identity",
        "a late identity result overwrites the status without the saga guard (reference)"},
    [SG_BUG_SAGA_LAG] = {"saga-lag", 4, "default",
        "completion updates the withdrawal but not the saga row"},
    [SG_BUG_NEW_GROUP_LATEST] = {"new-group-latest", 5, "late-group",
        "a consumer group without a committed offset starts at the latest offset (reference)"},
    [SG_BUG_WRONG_KEY] = {"wrong-key", 5, "default",
        "identity events are keyed by their event id, not the saga's withdrawal id (reference)"},
    [SG_BUG_RELAY_PERSIST_EARLY] = {"relay-persist-early", 5, "default",
        "the relay persists its position when it sends, before the broker's ack"},
    [SG_BUG_OUTBOX_SEPARATE_TX] = {"outbox-separate-tx", 5, "crash-storm",
        "the withdrawal commits first and its outbox rows in a later transaction"},
    [SG_BUG_NO_INBOX_DEDUP] = {"no-inbox-dedup", 6, "default",
        "consumers apply redelivered records again (no inbox de-duplication)"},
    [SG_BUG_IGNORE_RISK_REJECT] = {"ignore-risk-reject", 7, "default",
        "a risk rejection completes the withdrawal as if approved"},
    [SG_BUG_NO_OFFSET_COMMIT] = {"no-offset-commit", 8, "default",
        "consumers never commit their offset after success (reference)"},
    [SG_BUG_POISON_STOPS_CONSUMER] = {"poison-stops-consumer", 8, "poison-head",
        "an undecodable record fails the batch forever and stops the consumer (reference)"},
    [SG_BUG_ACK_BEFORE_COMMIT] = {"ack-before-commit", 9, "default",
        "CreateWithdrawal answers OK before its transaction commits"},
    [SG_BUG_JOURNAL_NORMAL] = {"journal-normal", 9, "crash-storm",
        "the orchestrator's database uses journal_mode=DELETE with synchronous=NORMAL"},
    [SG_BUG_DROP_TRACE] = {"drop-trace", 10, "default",
        "identity and risk emit their decisions under a new trace id"},
    [SG_BUG_EXPIRED_LEASE_ABORTS] = {"expired-lease-aborts", 8, "lease-expiry",
        "a reservation whose lease expired answers ABORTED instead of being taken over"},
    [SG_BUG_RELEASE_TWICE] = {"release-twice", 11, "payout-flaky",
        "a redelivered ReleaseHold is applied again (no inbox, no state check): money reappears"},
    [SG_BUG_SETTLE_AFTER_RELEASE] = {"settle-after-release", 12, "ledger-crashes",
        "a HoldPlaced after the deadline's release still starts the payout, and the ledger"
        " settles the released hold (state checks missing)"},
    [SG_BUG_HOLD_TWICE] = {"hold-twice", 12, "ledger-crashes",
        "a redelivered PlaceHold places a second hold (no inbox, no existing-hold check)"},
    [SG_BUG_DEADLINE_NO_RELEASE] = {"deadline-no-release", 13, "ledger-crashes",
        "the saga deadline cancels a withdrawal whose hold may be placed without releasing it"},
    [SG_BUG_PAYOUT_NO_KEY] = {"payout-no-key", 14, "ledger-crashes",
        "the payout command carries no idempotency key: the rail pays every delivery"},
};

const struct sg_bug_info *sg_bug_info(enum sg_bug bug)
{
    SG_ASSERT_PURE(bug < SG_BUG_COUNT);
    return &bugs[bug];
}

enum sg_bug sg_bug_parse(const char *name)
{
    for (int b = 0; b < SG_BUG_COUNT; b++)
        if (strcmp(bugs[b].name, name) == 0) return (enum sg_bug)b;
    return SG_BUG_COUNT;
}
