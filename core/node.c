/*
 * node.c: role dispatch (see node.h).
 */
#include "node.h"

#include <string.h>

#include "assert.h"
#include "trace_rec.h"
#include "banned.h"

static const char *const role_names[SG_ROLE_COUNT] = {"broker", "orchestrator", "identity",
                                                      "risk", "ledger", "payout"};
static const uint32_t role_ids[SG_ROLE_COUNT] = {SG_NODE_BROKER, SG_NODE_ORCH,
                                                 SG_NODE_IDENTITY, SG_NODE_RISK,
                                                 SG_NODE_LEDGER, SG_NODE_PAYOUT};
static const struct sg_schema *const role_schemas[SG_ROLE_COUNT] = {
    &sg_schema_broker, &sg_schema_orch,   &sg_schema_identity,
    &sg_schema_risk,   &sg_schema_ledger, &sg_schema_payout};
/* The decider role of each service that has one (decider.h). */
static const enum sg_decider_role decider_roles[SG_ROLE_COUNT] = {
    [SG_ROLE_IDENTITY] = SG_DECIDER_IDENTITY, [SG_ROLE_RISK] = SG_DECIDER_RISK,
    [SG_ROLE_LEDGER] = SG_DECIDER_LEDGER, [SG_ROLE_PAYOUT] = SG_DECIDER_PAYOUT};

const char *sg_role_name(enum sg_role role)
{
    return role < SG_ROLE_COUNT ? role_names[role] : "?";
}

uint32_t sg_role_node_id(enum sg_role role)
{
    SG_ASSERT_PURE(role < SG_ROLE_COUNT);
    return role_ids[role];
}

const struct sg_schema *sg_role_schema(enum sg_role role)
{
    SG_ASSERT_PURE(role < SG_ROLE_COUNT);
    return role_schemas[role];
}

static const struct sg_env *node_env(const struct sg_node *n)
{
    switch (n->role) {
    case SG_ROLE_BROKER: return n->u.broker.env;
    case SG_ROLE_ORCH: return n->u.orch.svc.env;
    default: return n->u.decider.svc.env;
    }
}

enum sg_err sg_node_start(struct sg_node *n, enum sg_role role, const struct sg_env *env,
                          const struct sg_config *cfg)
{
    SG_ASSERT(env, role < SG_ROLE_COUNT);
    memset(n, 0, sizeof *n);
    n->role = role;
    enum sg_err err;
    switch (role) {
    case SG_ROLE_BROKER: err = sg_broker_start(&n->u.broker, env, cfg); break;
    case SG_ROLE_ORCH: err = sg_orch_start(&n->u.orch, env, cfg); break;
    default: err = sg_decider_start(&n->u.decider, decider_roles[role], env, cfg); break;
    }
    n->up = err == SG_OK;
    SG_TRACE(env, SG_TR_START, .s = {sg_role_name(role), sg_err_name(err)});
    return err;
}

enum sg_err sg_node_on_message(struct sg_node *n, const uint8_t *bytes, size_t len)
{
    const struct sg_env *env = node_env(n);
    SG_ASSERT(env, n->up);
    SgEnvelope *e = sg_wire_decode(bytes, len);
    if (!e) {
        SG_TRACE(env, SG_TR_DROP_UNDECODABLE, .i = {(int64_t)len});
        return SG_OK;
    }
    enum sg_err err;
    switch (n->role) {
    case SG_ROLE_BROKER: err = sg_broker_on_message(&n->u.broker, e); break;
    case SG_ROLE_ORCH: err = sg_orch_on_message(&n->u.orch, e); break;
    default: err = sg_decider_on_message(&n->u.decider, e); break;
    }
    sg_wire_free(e);
    return err;
}

enum sg_err sg_node_on_timer(struct sg_node *n, uint64_t tag)
{
    SG_ASSERT(node_env(n), n->up);
    switch (n->role) {
    case SG_ROLE_BROKER: return sg_broker_on_timer(&n->u.broker, tag);
    case SG_ROLE_ORCH: return sg_orch_on_timer(&n->u.orch, tag);
    default: return sg_decider_on_timer(&n->u.decider, tag);
    }
}

void sg_node_stop(struct sg_node *n)
{
    switch (n->role) {
    case SG_ROLE_BROKER: sg_broker_stop(&n->u.broker); break;
    case SG_ROLE_ORCH: sg_orch_stop(&n->u.orch); break;
    default: sg_decider_stop(&n->u.decider); break;
    }
    n->up = false;
}
