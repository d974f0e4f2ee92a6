/*
 * decide.c: pure decisions (see decide.h). Integer ratios only, no floats.
 */
#include "decide.h"

#include <string.h>
#include <xxhash.h>
#include "banned.h"

static bool ratio_hit(const char *id, uint64_t seed, uint32_t num, uint32_t den)
{
    if (den == 0 || num == 0) return false;
    return XXH3_64bits_withSeed(id, strlen(id), seed) % den < num;
}

struct sg_decision sg_decide_identity(const struct sg_config *cfg, const char *withdrawal_id,
                                      const char *user_id)
{
    for (size_t i = 0; i < cfg->deny_user_count && i < SG_DENY_MAX; i++)
        if (strcmp(cfg->deny_users[i], user_id) == 0)
            return (struct sg_decision){false, "identity: user denied"};
    if (ratio_hit(withdrawal_id, 1, cfg->identity_reject_num, cfg->identity_reject_den))
        return (struct sg_decision){false, "identity: verification failed"};
    return (struct sg_decision){true, ""};
}

struct sg_decision sg_decide_risk(const struct sg_config *cfg, const char *withdrawal_id,
                                  const char *asset, int64_t amount_minor)
{
    for (size_t i = 0; i < cfg->limit_count && i < SG_LIMIT_MAX; i++)
        if (strcmp(cfg->limits[i].asset, asset) == 0 &&
            amount_minor > cfg->limits[i].amount_minor_max)
            return (struct sg_decision){false, "risk: amount exceeds limit"};
    if (ratio_hit(withdrawal_id, 2, cfg->risk_reject_num, cfg->risk_reject_den))
        return (struct sg_decision){false, "risk: flagged"};
    return (struct sg_decision){true, ""};
}

struct sg_decision sg_decide_payout(const struct sg_config *cfg, const char *withdrawal_id)
{
    if (ratio_hit(withdrawal_id, 3, cfg->payout_fail_num, cfg->payout_fail_den))
        return (struct sg_decision){false, "payout_failed"};
    return (struct sg_decision){true, ""};
}

int64_t sg_opening_balance(const struct sg_config *cfg, const char *user_id)
{
    for (size_t i = 0; i < cfg->account_count && i < SG_ACCOUNT_MAX; i++)
        if (strcmp(cfg->accounts[i].user_id, user_id) == 0) return cfg->accounts[i].balance_minor;
    return cfg->default_balance_minor;
}
