/*
 * sqlite_share.h: how much of a stretch of CPU time is spent inside SQLite (for `bench`).
 *
 * A sampling profiler: while started, SIGPROF fires every 200 us of CPU time (the kernel
 * may round that up to its tick, 4 ms here: ~100 samples for the default bench) and the
 * handler unwinds the interrupted stack (backtrace); a sample is "in SQLite" when any
 * frame lies in the code of the loaded SQLite library. Inclusive, like callgrind's
 * inclusive cost of sqlite3_step: what SQLite calls (malloc, memcpy, the simulated disk
 * through its VFS) counts as SQLite. harness share = 1 - in SQLite / all samples.
 *
 * Contract: one profile at a time per process; start/stop pair up; the figures are
 * statistical (a few hundred to a few thousand samples per CPU second). Linux/glibc only: elsewhere
 * sg_sqlite_share_start returns false and the bench omits the figure.
 */
#ifndef SG_SQLITE_SHARE_H
#define SG_SQLITE_SHARE_H

#include <stdbool.h>
#include <stdint.h>

struct sg_sqlite_share {
    uint64_t samples;
    uint64_t in_sqlite;
};

/* Starts sampling; false when it cannot (then stop returns zeros). */
bool sg_sqlite_share_start(void);
/* Stops sampling and returns the counts since start. */
struct sg_sqlite_share sg_sqlite_share_stop(void);

#endif
