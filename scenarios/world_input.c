/*
 * world_input.c: fuzzer bytes as a scenario run with a fault tape (see world_input.h).
 */
#include "world_input.h"

#include <stdlib.h>
#include <string.h>

#include "scenario_file.h"

bool sg_world_input_decode(const uint8_t *data, size_t len, struct sg_world_input *in)
{
    memset(in, 0, sizeof *in);
    size_t n = sg_scenario_count();
    in->scenario = sg_scenario_name(len > 0 && n ? data[0] % n : 0);
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
