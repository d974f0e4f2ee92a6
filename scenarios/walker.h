/*
 * walker.h: a small schema-driven walker over libyaml's event stream (internal to
 * scenarios/).
 *
 * Why events rather than a document tree or libcyaml: every event carries its line and
 * column, so each error points at the exact key or value; scalars arrive as text, so the
 * strict number syntax of values.h applies (no octal, no trailing junk); and the schema
 * is a table of keys with a setter each, so a key is declared once, next to its range.
 *
 * Ownership: a setter receives the first event of its value (a scalar, or the start of a
 * mapping or list), borrowed: the caller deletes it. A setter that descends reads and
 * deletes every further event of its value, up to and including the matching end event.
 * The first error wins: it is formatted into the caller's buffer and every function then
 * returns false, so callers just propagate false.
 */
#ifndef SG_SCENARIO_WALKER_H
#define SG_SCENARIO_WALKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "assert.h"
#include "run.h"
#include "scenario_file.h"

enum { SG_WALK_KEY_LEN = 96, SG_WALK_TABLE_MAX = 32 };

/* A branch that cannot run (a bounded loop that always returns before its bound). */
#define SG_WALK_UNREACHABLE(what) sg_panic_default(__FILE_NAME__, __LINE__, what)

struct sg_walker {
    yaml_parser_t parser;
    const char *origin;            /* names the text in messages */
    const char *text;              /* the text (reader errors carry only an offset) */
    size_t len;
    char *err;
    size_t cap;
    bool failed;
    uint64_t seed;
    struct sg_run_config *rc;      /* being built (a copy: the caller's is set on success) */
    struct sg_scenario_info *info;
    const char *catalogue_name;    /* a catalogue file: its name must match; else NULL */
    char key[SG_WALK_KEY_LEN];     /* the key being read ("workload.clients"), for messages */
    yaml_mark_t at_marks[SG_SCHEDULED_MAX]; /* where each scheduled fault's `at` is */
};

struct sg_key;
typedef bool (*sg_key_fn)(struct sg_walker *w, const struct sg_key *k, void *target,
                          const yaml_event_t *value);

/* One key of a mapping: its setter writes into target + offset. */
struct sg_key {
    const char *name;
    sg_key_fn set;
    size_t offset, offset2;        /* the field; offset2: a ratio's denominator */
    size_t size;                   /* bytes of the field (0: no plain field) */
    int64_t min, max;              /* allowed range of a number or duration */
    bool zero_ok;                  /* 0 (off, never) is allowed besides [min, max] */
    const void *sub;               /* a nested table (struct sg_table), for sections */
};

struct sg_table {
    const struct sg_key *keys;
    size_t count;                  /* <= SG_WALK_TABLE_MAX */
};

/* The next event, or false after a syntax error. Anchors, aliases and tags are errors. */
bool sg_walk_next(struct sg_walker *w, yaml_event_t *ev);
/* Records "origin:line:col: message" (the first error only) and returns false. */
bool sg_walk_fail(struct sg_walker *w, yaml_mark_t mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Reads the key/value pairs of a mapping whose start event was consumed, up to its end:
 * unknown and duplicate keys are errors. prefix names the mapping in messages ("" at the
 * top level). seen_out gets bit i for each key i given, marks_out (count entries, may be
 * NULL) the position of each given key. */
bool sg_walk_mapping(struct sg_walker *w, const struct sg_table *t, const char *prefix,
                     void *target, uint32_t *seen_out, yaml_mark_t *marks_out);

/* A mapping whose keys are data, not schema (asset names, node names, user ids, crash
 * points): v must be its start event; for each key event fn checks the key, names the pair
 * (sg_walk_set_key), reads and checks its value (sg_walk_next) and stores it, or fails.
 * `where` names the mapping in messages. fn must refuse an entry past its own bound, so
 * the walk ends. The key event is deleted here. */
typedef bool (*sg_walk_pair_fn)(struct sg_walker *w, void *ctx, const yaml_event_t *key,
                                const char *where);
bool sg_walk_pairs(struct sg_walker *w, const yaml_event_t *v, sg_walk_pair_fn fn, void *ctx);

/* Names the key being read, prefix + sep + name ("workload" "." "clients"), for messages
 * (truncated if long: it only ever appears in messages). */
void sg_walk_set_key(struct sg_walker *w, const char *prefix, const char *sep,
                     const char *name);
/* The value must be a mapping or list start (reads nothing: checks the type). */
bool sg_walk_expect(struct sg_walker *w, const yaml_event_t *ev, yaml_event_type_t type);
/* A scalar's text, or NULL after an error (wrong type; a NUL byte inside). plain_only:
 * quoted scalars are errors (numbers and booleans are written bare). */
const char *sg_walk_scalar(struct sg_walker *w, const yaml_event_t *ev, bool plain_only);
/* Typed scalars, range-checked against [min, max] (and 0 when zero_ok). */
bool sg_walk_whole(struct sg_walker *w, const yaml_event_t *ev, int64_t min, int64_t max,
                   uint64_t *out);
bool sg_walk_duration(struct sg_walker *w, const yaml_event_t *ev, bool allow_negative,
                      int64_t min, int64_t max, bool zero_ok, int64_t *out_ns);
/* A string of 1..cap-1 bytes of printable ASCII (no control characters). */
bool sg_walk_string(struct sg_walker *w, const yaml_event_t *ev, char *buf, size_t cap);

/* The schema (schema.c): the top-level table, and the checks that need the whole file. */
extern const struct sg_table sg_scenario_schema;
bool sg_scenario_finish(struct sg_walker *w);

#endif
