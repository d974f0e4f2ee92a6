/*
 * decider.h: the services that consume one command topic and answer on another: one
 * shape, four roles (DESIGN §1). identity and risk decide; the ledger (ledger.h) and the
 * payout rail (payout.h) move money with the same lifecycle and their own consume function.
 *
 * identity consumes cbsaga.cmd.identity (group cbsaga-identity): VerifyIdentityRequested
 *   -> IdentityVerified | IdentityRejected on cbsaga.evt.identity.
 * risk consumes cbsaga.cmd.risk (group cbsaga-risk): RiskCheckRequested
 *   -> RiskApproved | RiskRejected on cbsaga.evt.risk.
 * The decision row (withdrawal_id primary key: at most one effect per withdrawal), the
 * outbox row and the inbox row commit in one transaction. A second command for a
 * withdrawal already decided is IGNORED; any other event type is REJECTED.
 */
#ifndef SG_DECIDER_H
#define SG_DECIDER_H

#include "config.h"
#include "env.h"
#include "err.h"
#include "service.h"

enum sg_decider_role { SG_DECIDER_IDENTITY, SG_DECIDER_RISK, SG_DECIDER_LEDGER,
                       SG_DECIDER_PAYOUT };

struct sg_decider {
    enum sg_decider_role role;
    struct sg_service svc;
    uint64_t decided; /* decisions made, this life */
};

/* A decider's tables (decisions, and the service tables of outbox.h) are created and
 * migrated by core/migrate.c. */

SG_MUST_USE enum sg_err sg_decider_start(struct sg_decider *d, enum sg_decider_role role,
                                         const struct sg_env *env,
                                         const struct sg_config *cfg);
SG_MUST_USE enum sg_err sg_decider_on_message(struct sg_decider *d, const SgEnvelope *e);
SG_MUST_USE enum sg_err sg_decider_on_timer(struct sg_decider *d, uint64_t tag);
void sg_decider_stop(struct sg_decider *d);
/* "identity.db", "risk.db", "ledger.db" or "payout.db". */
const char *sg_decider_db_name(enum sg_decider_role role);

#endif
