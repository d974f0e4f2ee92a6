/*
 * scenario.c: the built-in scenario catalogue (see scenario.h).
 */
#include "scenario.h"

#include <stdio.h>
#include <string.h>
#include "banned.h"

static void scenario_default(struct sg_run_config *rc)
{
    (void)rc; /* sg_run_config_default is the default scenario */
}

static void scenario_calm(struct sg_run_config *rc)
{
    sg_faults_none(&rc->world.faults);
}

static void scenario_swarm(struct sg_run_config *rc)
{
    sg_faults_swarm(&rc->world.faults, rc->seed);
}

static void scenario_lease_race(struct sg_run_config *rc)
{
    rc->cfg.lease_ttl_ns = 3000000;        /* 3 ms: shorter than many work steps */
    rc->cfg.work_delay_max_ns = 60000000;  /* work steps often outlive the lease */
    rc->wl.twin_pct = 40;
    rc->wl.retry_pct = 30;
}

static void scenario_slow_identity(struct sg_run_config *rc)
{
    rc->cfg.saga_deadline_ns = 1500000000LL;
    rc->world.faults.spike_ppm = 250000;
    rc->world.faults.spike_max_ns = 2500000000LL;
    rc->world.faults.partition_every_ns = 2000000000LL;
}

static void scenario_crash_storm(struct sg_run_config *rc)
{
    rc->world.faults.crash_every_ns = 1000000000LL;
    rc->world.faults.crash_point_ppm = 50000;
    rc->world.faults.fsync_fail_every_ns = 1000000000LL;
}

static void scenario_power_loss(struct sg_run_config *rc)
{
    sg_faults_none(&rc->world.faults);
    rc->world.faults.crash_every_ns = 250000000;   /* a power loss every 250 ms */
    rc->world.faults.restart_max_ns = 300000000;
    rc->world.faults.keep_pending_pct = 50;
    rc->world.faults.torn_pct = 25;
}

static const struct sg_scenario catalogue[] = {
    {"default", "every fault class at a moderate rate, 5 clients, 200 withdrawals",
     scenario_default},
    {"calm", "no faults: the happy path, for baselines and benchmarks", scenario_calm},
    {"swarm", "the seed picks which fault classes are on and their rates", scenario_swarm},
    {"lease-race", "3 ms leases, slow work steps and concurrent duplicates: takeovers and fencing",
     scenario_lease_race},
    {"slow-identity", "long delays and partitions against a 1.5 s saga deadline: CANCELED sagas"
     " and late decisions", scenario_slow_identity},
    {"crash-storm", "a crash a second, crashes at fault points, frequent fsync failures",
     scenario_crash_storm},
    {"power-loss", "only power losses, four a second, with lost and torn unsynced sectors",
     scenario_power_loss},
};

const struct sg_scenario *sg_scenarios(size_t *count)
{
    *count = sizeof catalogue / sizeof catalogue[0];
    return catalogue;
}

bool sg_scenario_apply(const char *name, struct sg_run_config *rc)
{
    for (size_t i = 0; i < sizeof catalogue / sizeof catalogue[0]; i++) {
        if (strcmp(catalogue[i].name, name) != 0) continue;
        uint64_t seed = rc->seed;
        uint64_t bugs = rc->cfg.bugs;
        sg_run_config_default(rc, seed);
        rc->cfg.bugs = bugs;
        snprintf(rc->scenario, sizeof rc->scenario, "%s", name);
        catalogue[i].apply(rc);
        return true;
    }
    return false;
}

static const struct sg_crashpoint points[] = {
    {SG_ROLE_ORCH, "orch.after_reserve"},   {SG_ROLE_ORCH, "orch.after_commit"},
    {SG_ROLE_ORCH, "relay.after_ack"},      {SG_ROLE_ORCH, "consumer.after_effect"},
    {SG_ROLE_IDENTITY, "relay.after_ack"},  {SG_ROLE_IDENTITY, "consumer.after_effect"},
    {SG_ROLE_RISK, "relay.after_ack"},      {SG_ROLE_RISK, "consumer.after_effect"},
    {SG_ROLE_BROKER, "broker.after_append"},
    /* reached only with the planted bugs outbox-separate-tx and ack-before-commit */
    {SG_ROLE_ORCH, "orch.before_outbox"},   {SG_ROLE_ORCH, "orch.before_commit"},
};

const struct sg_crashpoint *sg_crashpoints(size_t *count)
{
    *count = sizeof points / sizeof points[0];
    return points;
}
