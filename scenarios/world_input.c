/*
 * world_input.c: fuzzer bytes as a scenario run with a fault tape (see world_input.h).
 */
#include "world_input.h"

#include <stdlib.h>
#include <string.h>

#include "scenario_file.h"

/* Byte 0's scenarios (byte 0 mod the list's size), in a fixed order: a byte 0 below the
 * size names the same scenario however the list grows, so kept findings (fuzz/finds/world)
 * use such a byte, and a new catalogue scenario is appended, never inserted (a test checks
 * that every catalogue scenario is here). */
static const char *const scenarios[] = {
    "broker-restarts", "calm", "clock-skew", "correlated-power-loss", "coverage",
    "crash-storm", "default", "disk-faults", "duplicate-storm", "late-group",
    "lease-expiry", "lease-race", "partition-heal", "poison-head", "poison", "power-loss",
    "reference-flows", "reordering", "slow-identity", "swarm",
    /* appended since: */
    "shared-key-storm", "underfunded", "payout-flaky", "ledger-crashes",
};

size_t sg_world_input_scenarios(const char *const **names)
{
    *names = scenarios;
    return sizeof scenarios / sizeof scenarios[0];
}

bool sg_world_input_decode(const uint8_t *data, size_t len, struct sg_world_input *in)
{
    memset(in, 0, sizeof *in);
    size_t n = sizeof scenarios / sizeof scenarios[0];
    in->scenario = scenarios[len > 0 ? data[0] % n : 0];
    in->seed = len > 2 ? (uint64_t)data[1] << 8 | data[2] : 0;
    size_t bits = len > 3 ? (len - 3) * 8 : 0;
    if (bits > SG_WORLD_INPUT_FAULTS_MAX) bits = SG_WORLD_INPUT_FAULTS_MAX;
    in->keep = malloc((bits ? bits : 1) * sizeof *in->keep);
    if (!in->keep) return false;
    for (size_t k = 0; k < bits; k++)
        if ((unsigned)data[3 + k / 8] >> (k % 8) & 1u) in->keep[in->n_keep++] = k;
    return true;
}

void sg_world_input_free(struct sg_world_input *in)
{
    free(in->keep);
    in->keep = NULL;
    in->n_keep = 0;
}

bool sg_world_input_config(const struct sg_world_input *in, uint64_t bugs,
                           struct sg_run_config *rc, char *err, size_t cap)
{
    if (sg_scenario_load(in->scenario, in->seed, rc, NULL, err, cap) != SG_SCENARIO_OK)
        return false;
    rc->wl.withdrawals = SG_WORLD_INPUT_WITHDRAWALS;
    rc->cfg.bugs = bugs;
    rc->world.tape_active = true;
    rc->world.tape_keep = in->keep;
    rc->world.tape_keep_count = in->n_keep;
    return true;
}
