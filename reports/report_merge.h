/*
 * report_merge.h: reading report.json back, and merging reports (`sagasim report merge`).
 *
 * Why: a sweep split into shards (`sweep --shard i/n --report DIR`) runs on many machines
 * and leaves one report directory per shard. Merging reads each report.json back into the
 * struct sg_report it was written from and combines them into one, which the ordinary
 * writers (report.h) turn into report.json, junit.xml and index.html. The merge of every
 * shard of a sweep is the report of the unsharded sweep, seed by seed: only the command,
 * jobs, the wall times and merged_from (the inputs) differ.
 *
 * Reading (sg_report_read) is strict: the file must be JSON with every key the writer
 * writes and the merge needs, each of its type (counts: integers >= 0 or decimal strings;
 * hashes and digests: 16 hex digits); seed_count must equal the seeds listed. Totals are
 * not read: the writers recompute them from the seeds. Text longer than a seed record's
 * field (first_violation) is cut at a character boundary, as the writer's own input was.
 * Any failure is one message naming the file and the key: "'PATH': seeds[3].hash: missing".
 *
 * Merging (sg_report_merge) refuses, naming both files and both values, reports that
 * differ in: build_id (version, source commit, compiler), sqlite_source_id, scenario,
 * scenario_digest (the scenario's text changed), planted bugs, swarm, withdrawals per run,
 * or coverage.required. It also refuses a run (seed and crash point) present in two inputs
 * with two different hashes, and, unless `partial`, an incomplete set of shards: inputs
 * that are shards i/n of one seed range must include every i in 1..n.
 *   - Seeds: sorted by seed, then crash point (sg_crashpoints order, then hit): the order of
 *     `sweep`, also with --crashpoints. A run present twice with one hash is kept once
 *     (the record of the first input that has it, in argument order).
 *   - Timeline: the drawn timeline of the merged report's first failing seed when an input
 *     has it (a sweep draws its first failing seed, so the shard holding that seed has
 *     it); else the first input's timeline (in argument order; e.g. `--timeline SEED`,
 *     which every shard draws alike); else none. It is taken as drawn (report.json keeps
 *     the picture), never re-run.
 *   - jobs and wall_seconds are the sums over the inputs; seed_range is the inputs' range
 *     when they all share one and every set of shards is complete, else absent; shard is
 *     absent; command is the merge's own command line.
 * Errors are heap strings (*err_out; the caller frees), so paths of any length fit.
 */
#ifndef SG_REPORT_MERGE_H
#define SG_REPORT_MERGE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "report.h"

/* A report read back from report.json: r points into the storage the doc owns. */
struct sg_report_doc {
    struct sg_report r;
    char *path;                        /* the file read */
    char *scenario, *command, *build_id, *sqlite_source_id;
    struct sg_report_seed *seeds;      /* r.n_seeds records; each owns its replay */
    struct sg_report_timeline timeline;
    char *timeline_title, *timeline_html;
    struct sg_report_input *inputs;    /* r.n_inputs; each owns report and command */
};

/* Reads path (a report.json) into *doc. On failure returns false with *err_out set and
 * *doc holding nothing (no deinit needed; deinit is harmless). */
SG_MUST_USE bool sg_report_read(const char *path, struct sg_report_doc *doc, char **err_out);
/* Frees what the doc owns; safe twice. */
void sg_report_doc_deinit(struct sg_report_doc *doc);

/* A merged report: r's seeds and inputs are arrays this struct owns; every text in them
 * (replay commands, paths, the timeline) is borrowed from the input docs, which must
 * outlive it. */
struct sg_report_merged {
    struct sg_report r;
    struct sg_report_seed *seeds;
    struct sg_report_input *inputs;
};

/* Merges docs[0..n) (n >= 1) into *out, with command as the merged report's command.
 * Returns false with *err_out set when the inputs must not be merged (see above); then
 * *out holds nothing. */
SG_MUST_USE bool sg_report_merge(const struct sg_report_doc *docs, size_t n, const char *command,
                                 bool partial, struct sg_report_merged *out, char **err_out);
/* Frees the merged report's arrays; safe twice. */
void sg_report_merged_deinit(struct sg_report_merged *m);

#endif
