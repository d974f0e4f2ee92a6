/*
 * orch.h: the orchestrator: the gRPC API's logic, the idempotency protocol and the saga
 * (DESIGN §1, §8, §8.1).
 *
 * CreateWithdrawal spans two steps. The reservation step (one transaction) looks up
 * (user_id, key): none -> reserve {RESERVED, hash, new withdrawal_id, owner, lease, fence 1};
 * other hash -> FAILED_PRECONDITION; COMPLETED -> OK with the current status; RESERVED with
 * a live lease -> ABORTED carrying the withdrawal_id; RESERVED expired or FAILED -> take
 * over (new owner, fence + 1, same withdrawal_id). The work step, scheduled as its own
 * event, finalises the key fenced by owner + fence, and inserts the withdrawal, the saga
 * row, the transition-log row and the outbox rows: ONE transaction. Any failed COMMIT is
 * outcome-unknown -> UNAVAILABLE (retry with the same key).
 *
 * The saga consumes cbsaga.evt.identity and cbsaga.evt.risk (group cbsaga-orchestrator):
 * identity verified -> IN_PROGRESS and RiskCheckRequested; risk approved -> COMPLETED;
 * either rejected -> FAILED with the reason; the deadline timer -> CANCELED. Each change
 * updates the withdrawal and saga rows, appends a transition-log row and an
 * evt.withdrawal outbox row in one transaction. Decisions out of state are IGNORED.
 */
#ifndef SG_ORCH_H
#define SG_ORCH_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "env.h"
#include "err.h"
#include "ids.h"
#include "service.h"

enum { SG_ORCH_WORK_MAX = 64 };

/* A create between its reservation step and its work step (volatile). */
struct sg_orch_work {
    bool active;
    uint64_t gen;
    struct sg_request req;
    uint8_t hash[SG_HASH_LEN];
    char withdrawal_id[SG_UUID_LEN + 1];
    char owner[SG_UUID_LEN + 1];
    int64_t fence;
    uint32_t client;
    uint64_t correlation_id;
    char trace_id[SG_TRACE_ID_LEN + 1];
};

struct sg_orch_stats {
    uint64_t created, transitions, ignored, takeovers, unknown_commits;
};

struct sg_orch {
    struct sg_service svc;
    struct sg_orch_work work[SG_ORCH_WORK_MAX];
    uint64_t work_gen;
    struct sg_orch_stats stats;
};

/* The orchestrator's tables (idempotency, withdrawals, sagas, transitions, and the
 * service tables of outbox.h) are created and migrated by core/migrate.c. */

SG_MUST_USE enum sg_err sg_orch_start(struct sg_orch *o, const struct sg_env *env,
                                      const struct sg_config *cfg);
SG_MUST_USE enum sg_err sg_orch_on_message(struct sg_orch *o, const SgEnvelope *e);
SG_MUST_USE enum sg_err sg_orch_on_timer(struct sg_orch *o, uint64_t tag);
void sg_orch_stop(struct sg_orch *o);

#endif
