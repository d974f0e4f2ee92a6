/*
 * scenario_file.h: scenario files: named, seeded configurations of a run, written in YAML
 * (scenarios/<name>.yaml; the format is described in scenarios/README.md).
 *
 * A scenario file sets any part of a struct sg_run_config: the workload, the services'
 * configuration, the fault rates, scheduled faults, a crash point, the phases and the
 * invariants that apply. Every key is optional; an omitted key keeps the built-in default
 * (sg_run_config_default), so a scenario reads as its difference from `default`.
 *
 * The catalogue is the set of scenarios/<name>.yaml files, embedded into the binary at build
 * time (works from any working directory). `--scenario X` names a file instead when X
 * contains '/' or ends in ".yaml" (DESIGN §8.1).
 *
 * Loading is strict, because a scenario silently meaning something else than its author
 * wrote would waste every run made with it: unknown keys, duplicate keys, wrong types,
 * malformed or out-of-range numbers, durations and ratios, anchors, aliases, tags and YAML
 * syntax errors are all errors. Numbers are plain decimal ("010" is rejected, never read
 * as octal); durations and ratios are converted with integer arithmetic only. An error is
 * one line, "<file>:<line>:<column>: <message>" (1-based), naming the key.
 *
 * The loader is deterministic and takes no randomness of its own: swarm files derive their
 * fault rates from the seed (sg_faults_swarm), nothing else depends on it.
 */
#ifndef SG_SCENARIO_FILE_H
#define SG_SCENARIO_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "run.h"

enum {
    SG_SCENARIO_NAME_MAX = 63,      /* bytes of a scenario's `name` (paths have no limit) */
    SG_SCENARIO_PURPOSE_MAX = 159,  /* bytes of the one-line purpose */
    SG_SCENARIO_FILE_MAX = 1 << 20, /* bytes of a scenario file */
    SG_SCENARIO_ERR_LEN = 8192,     /* an error buffer this large holds any path the OS
                                       takes (PATH_MAX 4096) and the message */
};

enum sg_scenario_status {
    SG_SCENARIO_OK,
    SG_SCENARIO_NOT_FOUND, /* no catalogue entry of that name, or the file cannot be read */
    SG_SCENARIO_INVALID,   /* the file is not a valid scenario (err says where and why) */
};

/* What a file says about itself. */
struct sg_scenario_info {
    char name[SG_SCENARIO_NAME_MAX + 1];       /* the `name` key, "" when absent */
    char purpose[SG_SCENARIO_PURPOSE_MAX + 1]; /* the `purpose` key, "" when absent */
};

/* True when arg names a file rather than a catalogue entry: it contains '/' or ends in
 * ".yaml" (DESIGN §8.1). */
bool sg_scenario_is_path(const char *arg);

/* Loads the scenario arg (a catalogue name, or a path when sg_scenario_is_path) for seed.
 * On success *rc is sg_run_config_default(seed) changed by the file's keys, with
 * rc->scenario = arg (borrowed: arg must outlive *rc), and *info (when not NULL) the file's name and purpose. On failure
 * *rc and *info are unchanged and err holds one line without a newline (truncated to
 * cap; cap > 0). Catalogue files must also carry `name` (equal to the file name) and
 * `purpose`. */
SG_MUST_USE enum sg_scenario_status sg_scenario_load(const char *arg, uint64_t seed,
                                                     struct sg_run_config *rc,
                                                     struct sg_scenario_info *info, char *err,
                                                     size_t cap);

/* The same for a file's text in memory (len bytes; no NUL needed). origin names the text
 * in error messages. rc->scenario becomes origin (borrowed); the file's `name` key is in
 * info. Never returns SG_SCENARIO_NOT_FOUND. */
SG_MUST_USE enum sg_scenario_status sg_scenario_load_text(const char *origin, const char *text,
                                                          size_t len, uint64_t seed,
                                                          struct sg_run_config *rc,
                                                          struct sg_scenario_info *info,
                                                          char *err, size_t cap);

/* The scenario's version: XXH3-64 of the bytes it is loaded from (a catalogue entry's
 * embedded file, or the file arg names), so two runs of one scenario name agree on it
 * exactly when they ran the same text. Reports record it (report.json scenario_digest) and
 * `report merge` refuses reports whose digests differ. The text is not parsed. When arg
 * names no catalogue entry, or its file cannot be read (or is larger than
 * SG_SCENARIO_FILE_MAX), returns that status with err set and *digest_out unchanged. */
SG_MUST_USE enum sg_scenario_status sg_scenario_digest(const char *arg, uint64_t *digest_out,
                                                       char *err, size_t cap);

/* The catalogue, sorted by name: how many entries, and the i-th name (i < count). */
size_t sg_scenario_count(void);
const char *sg_scenario_name(size_t i);
/* The i-th entry's name and purpose (loads the file; i < count). */
SG_MUST_USE enum sg_scenario_status sg_scenario_info_at(size_t i, struct sg_scenario_info *info,
                                                        char *err, size_t cap);

#endif
