/*
 * scenario.c: the named fault points (see scenario.h). The list must match the
 * fault_point() calls in core/: a point missing here cannot be named, one listed here but
 * never reached makes `sweep --crashpoints` runs that crash nothing.
 */
#include "scenario.h"

#include <string.h>

#include "banned.h"

static const struct sg_crashpoint points[] = {
    {SG_ROLE_ORCH, "orch.after_reserve"},   {SG_ROLE_ORCH, "orch.after_commit"},
    {SG_ROLE_ORCH, "relay.after_ack"},      {SG_ROLE_ORCH, "consumer.after_effect"},
    {SG_ROLE_IDENTITY, "relay.after_ack"},  {SG_ROLE_IDENTITY, "consumer.after_effect"},
    {SG_ROLE_RISK, "relay.after_ack"},      {SG_ROLE_RISK, "consumer.after_effect"},
    {SG_ROLE_BROKER, "broker.after_append"},
    {SG_ROLE_LEDGER, "relay.after_ack"},    {SG_ROLE_LEDGER, "consumer.after_effect"},
    {SG_ROLE_PAYOUT, "relay.after_ack"},    {SG_ROLE_PAYOUT, "consumer.after_effect"},
    /* reached only with the planted bugs outbox-separate-tx and ack-before-commit */
    {SG_ROLE_ORCH, "orch.before_outbox"},   {SG_ROLE_ORCH, "orch.before_commit"},
};

const struct sg_crashpoint *sg_crashpoints(size_t *count)
{
    *count = sizeof points / sizeof points[0];
    return points;
}

int sg_crashpoint_find(enum sg_role role, const char *point)
{
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++)
        if (points[i].role == role && strcmp(points[i].point, point) == 0) return (int)i;
    return -1;
}
