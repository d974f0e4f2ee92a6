/*
 * config.h: the configuration every service reads (DESIGN §8 "Defaults"); a scenario may
 * override any field. Decisions are pure functions of a message and this struct, so a
 * redelivered message always gets the same decision.
 */
#ifndef SG_CONFIG_H
#define SG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

enum { SG_DENY_MAX = 8, SG_LIMIT_MAX = 8, SG_ASSET_LEN_MAX = 16, SG_ACCOUNT_MAX = 8 };

/* A user whose accounts start with another balance than the default (every asset). */
struct sg_account_seed {
    char user_id[37];
    int64_t balance_minor;
};

struct sg_asset_limit {
    char asset[SG_ASSET_LEN_MAX + 1];
    int64_t amount_minor_max;
};

struct sg_config {
    uint32_t partitions;
    uint32_t batch_max;
    int64_t lease_ttl_ns;
    int64_t saga_deadline_ns;
    int64_t fetch_poll_ns;     /* broker long-poll time */
    int64_t relay_poll_ns;     /* relay fallback poll */
    int64_t request_timeout_ns; /* relay/consumer resend when no answer came */
    int64_t work_delay_max_ns; /* a create's work step runs this long (at most) after its
                                  reservation step: the orchestrator's processing time */
    /* identity: deny list of user ids (lower case) and a rejection ratio keyed by id */
    char deny_users[SG_DENY_MAX][37];
    size_t deny_user_count;
    uint32_t identity_reject_num, identity_reject_den;
    /* risk: per-asset limits and a rejection ratio keyed by withdrawal id */
    struct sg_asset_limit limits[SG_LIMIT_MAX];
    size_t limit_count;
    uint32_t risk_reject_num, risk_reject_den;
    /* ledger: every (user, asset) account starts with default_balance available, but the
     * users listed (lower case) with their own balance */
    int64_t default_balance_minor;
    struct sg_account_seed accounts[SG_ACCOUNT_MAX];
    size_t account_count;
    /* payout: the rail fails a payout with this ratio, keyed by withdrawal id */
    uint32_t payout_fail_num, payout_fail_den;
    uint64_t bugs;             /* planted bugs: bit set of enum sg_bug (bugs.h) */
    int db_mode;               /* enum sg_db_mode (db.h); 0: durable, the only one the
                                  simulator and every test use */
};

void sg_config_default(struct sg_config *c);

#endif
