/*
 * decide.h: the identity and risk decisions, pure functions of the withdrawal and the
 * configuration (DESIGN §1 "Decisions"). A redelivered command always gets the same
 * decision, and the checker recomputes them to judge I7 (decision agreement).
 *
 * identity: user on the deny list -> rejected "identity: user denied"; else rejected
 *   "identity: verification failed" when XXH3_64(withdrawal_id, seed 1) mod den < num.
 * risk: amount above the asset's limit -> rejected "risk: amount exceeds limit"; else
 *   rejected "risk: flagged" when XXH3_64(withdrawal_id, seed 2) mod den < num.
 * payout: failed "payout_failed" when XXH3_64(withdrawal_id, seed 3) mod den < num.
 * A ledger account's opening balance: the user's own from cfg->accounts, else the default.
 */
#ifndef SG_DECIDE_H
#define SG_DECIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct sg_decision {
    bool approved;
    const char *reason; /* static text; "" when approved */
};

struct sg_decision sg_decide_identity(const struct sg_config *cfg, const char *withdrawal_id,
                                      const char *user_id);
struct sg_decision sg_decide_risk(const struct sg_config *cfg, const char *withdrawal_id,
                                  const char *asset, int64_t amount_minor);
struct sg_decision sg_decide_payout(const struct sg_config *cfg, const char *withdrawal_id);
int64_t sg_opening_balance(const struct sg_config *cfg, const char *user_id);

#endif
