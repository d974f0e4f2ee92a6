/*
 * tape.h: a fault tape: everything needed to replay a (shrunk) failing run: the scenario,
 * seed, workload size and planted bugs, which background fault classes stay on, and the
 * ordinals of the faults that are injected (every other fault the nemesis considers is
 * skipped; see world.h "Fault tape"). A text file, one `key value` per line:
 *
 *   sagasim-tape 1
 *   scenario default
 *   seed 12
 *   withdrawals 40
 *   bug ignore-fence
 *   io off
 *   skew off
 *   total 351
 *   faults 3 17 22
 */
#ifndef SG_TAPE_H
#define SG_TAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"

enum { SG_TAPE_FAULTS_MAX = 100000 };

struct sg_tape {
    struct sg_cli_opts opts;    /* scenario, seed, withdrawals, bugs */
    bool io_off, skew_off;
    bool unmasked;              /* every fault goes ahead (no tape mask) */
    uint64_t total;             /* faults the original run considered */
    uint64_t *faults;           /* the kept ordinals, sorted */
    size_t n_faults;
};

/* Applies the tape to a run configuration (rc must outlive no tape: it points into it). */
void sg_tape_apply(const struct sg_tape *t, struct sg_run_config *rc);
bool sg_tape_write(const struct sg_tape *t, const char *path, char *err, size_t cap);
/* Reads and validates; errors name the line. */
bool sg_tape_read(struct sg_tape *t, const char *path, char *err, size_t cap);
void sg_tape_free(struct sg_tape *t);

#endif
