/*
 * node.h: one server node of the system (broker, orchestrator, identity, risk, ledger,
 * payout) behind a
 * single interface, so the simulator and live mode drive every role alike.
 *
 * Lifecycle: sg_node_start (open the database, recover, arm timers, send first requests),
 * then any number of sg_node_on_message / sg_node_on_timer steps, then sg_node_stop
 * (close cleanly; also used after a crash, once the disk refuses I/O). A step returning
 * SG_ERR_CRASHED means a fault point crashed the node: the environment must tear it down.
 * Bytes that do not decode as an Envelope are traced and dropped (never a crash).
 */
#ifndef SG_NODE_H
#define SG_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "config.h"
#include "decider.h"
#include "env.h"
#include "err.h"
#include "migrate.h"
#include "orch.h"

enum sg_role { SG_ROLE_BROKER, SG_ROLE_ORCH, SG_ROLE_IDENTITY, SG_ROLE_RISK, SG_ROLE_LEDGER,
               SG_ROLE_PAYOUT, SG_ROLE_COUNT };

struct sg_node {
    enum sg_role role;
    bool up;
    union {
        struct sg_broker broker;
        struct sg_orch orch;
        struct sg_decider decider;
    } u;
};

const char *sg_role_name(enum sg_role role);
/* The role's node id (enum sg_node_id). */
uint32_t sg_role_node_id(enum sg_role role);
/* The schema of the role's one database (migrate.h). */
const struct sg_schema *sg_role_schema(enum sg_role role);

SG_MUST_USE enum sg_err sg_node_start(struct sg_node *n, enum sg_role role,
                                      const struct sg_env *env, const struct sg_config *cfg);
SG_MUST_USE enum sg_err sg_node_on_message(struct sg_node *n, const uint8_t *bytes, size_t len);
SG_MUST_USE enum sg_err sg_node_on_timer(struct sg_node *n, uint64_t tag);
void sg_node_stop(struct sg_node *n);

#endif
