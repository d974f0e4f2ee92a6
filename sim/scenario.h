/*
 * scenario.h: the catalogue of built-in scenarios: named, seeded configurations of a run
 * (workload, services, faults, phases). A scenario is a function of the seed, so swarm
 * scenarios can let the seed pick their fault classes.
 */
#ifndef SG_SCENARIO_H
#define SG_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>

#include "run.h"

struct sg_scenario {
    const char *name;
    const char *purpose;   /* one line */
    void (*apply)(struct sg_run_config *rc);
};

/* Every scenario, in catalogue order. */
const struct sg_scenario *sg_scenarios(size_t *count);
/* Sets rc to the scenario's configuration for rc->seed (keeps rc->seed). False when no
 * scenario has that name. */
bool sg_scenario_apply(const char *name, struct sg_run_config *rc);

/* Named fault points a node can be crashed at (--crash-at NODE:POINT[:N]). */
struct sg_crashpoint {
    enum sg_role role;
    const char *point;
};
const struct sg_crashpoint *sg_crashpoints(size_t *count);

#endif
