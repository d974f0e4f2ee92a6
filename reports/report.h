/*
 * report.h: the report writers (DESIGN §6): one run or sweep -> report.json (machines),
 * junit.xml (CI: one testsuite per scenario, one testcase per invariant) and index.html
 * (people: summary, per-invariant table, failing seeds with replay commands, a timeline
 * picture of one run, coverage of rare paths). The CLI fills struct sg_report; the writers
 * only format it. All output is deterministic for the same input (sorted keys, no times
 * other than the ones given).
 *
 * report.json carries everything the three files are made from (every seed's record, the
 * run settings, the timeline already drawn), so `sagasim report merge` can read reports
 * back (report_merge.h) and write the merged report with these same writers: the merge of
 * the shards of a sweep is the report of the whole sweep, seed by seed.
 */
#ifndef SG_REPORT_H
#define SG_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "coverage.h"
#include "world.h"

enum { SG_REPORT_CRASH_AT_LEN = 96 }; /* a catalogued fault point (sg_crashpoints) and a hit */

/* One judged run. */
struct sg_report_seed {
    uint64_t seed;
    uint64_t hash;
    bool ok;
    bool panicked;                      /* an assertion failed: violation ASSERT */
    uint64_t checked[SG_INV_COUNT];     /* items examined per invariant (index I<n>) */
    uint64_t failed[SG_INV_COUNT];      /* violations per invariant */
    char first_violation[320];          /* "I5 <evidence>" or "ASSERT <where>", "" if ok */
    char *replay;                       /* the command that replays this run (heap, any
                                           length; NULL when ok): sg_report_seed_deinit */
    struct sg_world_stats faults;       /* how many of each fault were injected */
    uint64_t coverage[SG_COV_COUNT];
    uint64_t withdrawals, by_status[8]; /* index: enum sg_status */
    struct sg_money money;              /* the ledger's books at the end (check.h) */
    double wall_seconds;
    char crash_at[SG_REPORT_CRASH_AT_LEN]; /* "NODE:POINT:N" the run was crashed at
                                              (--crash-at, sweep --crashpoints), "" none;
                                              with the seed, it names the run */
};

/* Frees what a seed record owns (its replay command); safe twice. */
void sg_report_seed_deinit(struct sg_report_seed *s);

/* The trace of one run, drawn as a sequence diagram: a lane per node, messages as arrows
 * (a "send a->b" record to its "deliver a->b" record), crashes, partitions and disk faults
 * marked, and one record highlighted (the violating event). Records are the canonical
 * trace lines "<time_ns> <node> <text>". */
struct sg_report_timeline {
    uint64_t seed;
    const char *title;
    char *const *records;
    size_t count;
    size_t highlight;                   /* index into records; == count: none */
    const char *html;                   /* the picture already drawn (read back from a
                                           report.json); when set, records are not used */
    const char *withdrawal_id;          /* the violating withdrawal (NULL or "": none):
                                           its money timeline is listed under the picture */
};

/* One report a merged report was made from (report merge). */
struct sg_report_input {
    const char *report;                 /* its report.json, as named to report merge */
    const char *command;
    uint32_t shard_i, shard_n;          /* --shard i/n; 0, 0: not a shard */
    size_t n_seeds;
    double wall_seconds;
    uint32_t jobs;
};

struct sg_report {
    const char *scenario;
    const char *command;                /* the command line that produced the report */
    const char *build_id;               /* e.g. "sagasim 0.1.0 gcc 12.2.0" */
    const char *sqlite_source_id;
    const struct sg_report_seed *seeds; /* in seed order */
    size_t n_seeds;
    const struct sg_report_timeline *timeline; /* may be NULL */
    double wall_seconds;
    uint32_t jobs;
    bool require_coverage;              /* an unreached path counts as a failure */
    /* What the runs were made of besides their seeds: report merge refuses to combine
     * reports that differ here (or in scenario, build_id or sqlite_source_id). */
    uint64_t scenario_digest;           /* sg_scenario_digest; 0: no scenario file */
    uint64_t bugs;                      /* planted bugs on: bit (1 << enum sg_bug) */
    bool swarm;
    uint32_t withdrawals;               /* fresh withdrawals per run; 0: not recorded */
    /* Which seeds were asked for: the range (--seeds A..B, or a run's one seed) and the
     * shard of it (--shard i/n: seeds s with ((s - A) mod n) + 1 == i). */
    bool has_seed_range;
    uint64_t seed_from, seed_to;
    uint32_t shard_i, shard_n;          /* 0, 0: not a shard */
    const struct sg_report_input *inputs; /* a merged report's inputs, in argument order */
    size_t n_inputs;
};

/* A seed's verdict: a panic or a failed check makes it a violation whatever ok says. */
bool sg_report_seed_failing(const struct sg_report_seed *s);
/* The report's verdict, as all three files state it: no failing seed, and no rare path
 * unreached when coverage is required. */
bool sg_report_ok(const struct sg_report *r);

/* Writes DIR/report.json, DIR/junit.xml and DIR/index.html (DIR is created if missing).
 * Returns false with a message in err on any I/O error. */
bool sg_report_write_all(const struct sg_report *r, const char *dir, char *err, size_t err_cap);
bool sg_report_write_json(const struct sg_report *r, const char *path, char *err, size_t cap);
bool sg_report_write_junit(const struct sg_report *r, const char *path, char *err, size_t cap);
bool sg_report_write_html(const struct sg_report *r, const char *path, char *err, size_t cap);

#endif
