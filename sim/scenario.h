/*
 * scenario.h: the named fault points a node can be crashed at (--crash-at NODE:POINT[:N],
 * `sweep --crashpoints`, a scenario file's crash_at).
 *
 * The scenario catalogue itself is data: scenarios/<name>.yaml, loaded by scenarios/ (see
 * scenario_file.h), which sets a struct sg_run_config (run.h).
 */
#ifndef SG_SCENARIO_H
#define SG_SCENARIO_H

#include <stddef.h>

#include "node.h"

struct sg_crashpoint {
    enum sg_role role;
    const char *point;
};
/* Every named fault point, in a fixed order. */
const struct sg_crashpoint *sg_crashpoints(size_t *count);
/* The index of (role, point) in sg_crashpoints' order, or -1 when it is not listed. */
int sg_crashpoint_find(enum sg_role role, const char *point);

#endif
