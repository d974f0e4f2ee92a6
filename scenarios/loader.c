/*
 * loader.c: loading scenario files (see scenario_file.h): the walker over libyaml events
 * (walker.h), the document frame around the schema, files on disk and the embedded
 * catalogue.
 *
 * Invariants: a load either succeeds completely or leaves the caller's configuration
 * untouched (the file is applied to a copy); every parser event is deleted exactly once;
 * the first error is the one reported.
 */
#include "scenario_file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "assert.h"
#include "catalogue.h"
#include "values.h"
#include "walker.h"

/* ---- errors ---- */

bool sg_walk_fail(struct sg_walker *w, yaml_mark_t mark, const char *fmt, ...)
{
    SG_ASSERT_PURE(w != NULL && fmt != NULL);
    SG_ASSERT_PURE(w->cap > 0);
    if (w->failed) return false;
    w->failed = true;
    int n = snprintf(w->err, w->cap, "%s:%zu:%zu: ", w->origin, mark.line + 1, mark.column + 1);
    if (n < 0 || (size_t)n >= w->cap) return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err + n, w->cap - (size_t)n, fmt, ap);
    va_end(ap);
    for (char *c = w->err; *c; c++)
        if ((unsigned char)*c < 0x20) *c = ' '; /* one line, even when quoting a value */
    return false;
}

/* libyaml's reader errors (bad UTF-8, control characters) carry a byte offset only. */
static yaml_mark_t mark_of_offset(const struct sg_walker *w, size_t offset)
{
    SG_ASSERT_PURE(w != NULL);
    yaml_mark_t m = {offset, 0, 0};
    size_t end = offset < w->len ? offset : w->len;
    for (size_t i = 0; i < end; i++) {
        if (w->text[i] == '\n') {
            m.line++;
            m.column = 0;
        } else if (((unsigned char)w->text[i] & 0xc0) != 0x80) {
            m.column++; /* count characters, not UTF-8 continuation bytes */
        }
    }
    SG_ASSERT_PURE(m.line <= end);
    return m;
}

static bool syntax_error(struct sg_walker *w)
{
    const yaml_parser_t *p = &w->parser;
    SG_ASSERT_PURE(p->error != YAML_NO_ERROR);
    yaml_mark_t mark = p->problem_mark;
    if (p->error == YAML_READER_ERROR) mark = mark_of_offset(w, p->problem_offset);
    if (p->error == YAML_MEMORY_ERROR) return sg_walk_fail(w, mark, "out of memory");
    const char *problem = p->problem ? p->problem : "malformed YAML";
    if (mark.index < w->len && w->text[mark.index] == '\t')
        return sg_walk_fail(w, mark, "YAML syntax error: a tab (indent with spaces)");
    if (p->context)
        return sg_walk_fail(w, mark, "YAML syntax error: %s (%s at line %zu)", problem,
                            p->context, p->context_mark.line + 1);
    return sg_walk_fail(w, mark, "YAML syntax error: %s", problem);
}

/* ---- events ---- */

bool sg_walk_next(struct sg_walker *w, yaml_event_t *ev)
{
    SG_ASSERT_PURE(w != NULL && ev != NULL);
    memset(ev, 0, sizeof *ev);
    if (w->failed) return false;
    if (!yaml_parser_parse(&w->parser, ev)) return syntax_error(w);
    const char *bad = NULL;
    if (ev->type == YAML_ALIAS_EVENT) bad = "aliases (*name) are not supported: write it out";
    if (ev->type == YAML_SCALAR_EVENT) {
        if (ev->data.scalar.anchor) bad = "anchors (&name) are not supported";
        if (ev->data.scalar.tag) bad = "tags (!tag) are not supported";
    }
    if (ev->type == YAML_MAPPING_START_EVENT) {
        if (ev->data.mapping_start.anchor) bad = "anchors (&name) are not supported";
        if (ev->data.mapping_start.tag) bad = "tags (!tag) are not supported";
    }
    if (ev->type == YAML_SEQUENCE_START_EVENT) {
        if (ev->data.sequence_start.anchor) bad = "anchors (&name) are not supported";
        if (ev->data.sequence_start.tag) bad = "tags (!tag) are not supported";
    }
    if (!bad) return true;
    yaml_mark_t mark = ev->start_mark;
    yaml_event_delete(ev);
    return sg_walk_fail(w, mark, "%s", bad);
}

void sg_walk_set_key(struct sg_walker *w, const char *prefix, const char *sep,
                     const char *name)
{
    SG_ASSERT_PURE(prefix != NULL && sep != NULL && name != NULL);
    int n = snprintf(w->key, sizeof w->key, "%s%s%s", prefix, sep, name);
    SG_ASSERT_PURE(n >= 0);
}

/* What a value is, for "expected X, got Y" messages. */
static void describe(const yaml_event_t *ev, char *buf, size_t cap)
{
    SG_ASSERT_PURE(ev != NULL && buf != NULL);
    SG_ASSERT_PURE(cap > 0);
    switch (ev->type) {
    case YAML_MAPPING_START_EVENT: snprintf(buf, cap, "a mapping"); break;
    case YAML_SEQUENCE_START_EVENT: snprintf(buf, cap, "a list"); break;
    case YAML_SCALAR_EVENT:
        if (ev->data.scalar.length == 0) snprintf(buf, cap, "an empty value");
        else snprintf(buf, cap, "'%.40s'", (const char *)ev->data.scalar.value);
        break;
    default: snprintf(buf, cap, "the end of the %s", "enclosing block"); break;
    }
}

bool sg_walk_expect(struct sg_walker *w, const yaml_event_t *ev, yaml_event_type_t type)
{
    SG_ASSERT_PURE(w != NULL && ev != NULL);
    SG_ASSERT_PURE(type == YAML_MAPPING_START_EVENT || type == YAML_SEQUENCE_START_EVENT);
    if (ev->type == type) return true;
    char got[64];
    describe(ev, got, sizeof got);
    const char *want = type == YAML_MAPPING_START_EVENT ? "a mapping (key: value lines)"
                                                         : "a list ([a, b] or '- ' lines)";
    return sg_walk_fail(w, ev->start_mark, "%s: expected %s, got %s", w->key, want, got);
}

const char *sg_walk_scalar(struct sg_walker *w, const yaml_event_t *ev, bool plain_only)
{
    SG_ASSERT_PURE(w != NULL && ev != NULL);
    if (ev->type != YAML_SCALAR_EVENT) {
        char got[64];
        describe(ev, got, sizeof got);
        sg_walk_fail(w, ev->start_mark, "%s: expected a single value, got %s", w->key, got);
        return NULL;
    }
    const char *text = (const char *)ev->data.scalar.value;
    SG_ASSERT_PURE(text != NULL);
    if (strlen(text) != ev->data.scalar.length) {
        sg_walk_fail(w, ev->start_mark, "%s: contains a NUL character", w->key);
        return NULL;
    }
    if (plain_only && ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        sg_walk_fail(w, ev->start_mark, "%s: expected a number or true/false without quotes,"
                     " got the quoted text '%.40s'", w->key, text);
        return NULL;
    }
    return text;
}

/* ---- typed scalars ---- */

/* "250ms": the largest unit that divides exactly. */
static void format_duration(int64_t ns, char *buf, size_t cap)
{
    static const struct { const char *unit; int64_t ns; } units[] = {
        {"m", 60000000000LL}, {"s", 1000000000LL}, {"ms", 1000000LL}, {"us", 1000LL},
    };
    SG_ASSERT_PURE(buf != NULL && cap > 0);
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (ns != 0 && ns % units[i].ns == 0) {
            snprintf(buf, cap, "%lld%s", (long long)(ns / units[i].ns), units[i].unit);
            return;
        }
    }
    snprintf(buf, cap, "%lldns", (long long)ns);
}

bool sg_walk_whole(struct sg_walker *w, const yaml_event_t *ev, int64_t min, int64_t max,
                   uint64_t *out)
{
    SG_ASSERT_PURE(0 <= min && min <= max);
    SG_ASSERT_PURE(out != NULL);
    const char *text = sg_walk_scalar(w, ev, true);
    if (!text) return false;
    uint64_t v = 0;
    const char *why = sg_value_whole(text, &v);
    if (why) return sg_walk_fail(w, ev->start_mark, "%s: '%.40s' %s", w->key, text, why);
    if (v < (uint64_t)min || v > (uint64_t)max)
        return sg_walk_fail(w, ev->start_mark, "%s: %s is out of range (%lld..%lld)", w->key,
                            text, (long long)min, (long long)max);
    *out = v;
    return true;
}

bool sg_walk_duration(struct sg_walker *w, const yaml_event_t *ev, bool allow_negative,
                      int64_t min, int64_t max, bool zero_ok, int64_t *out_ns)
{
    SG_ASSERT_PURE(min <= max);
    SG_ASSERT_PURE(out_ns != NULL);
    const char *text = sg_walk_scalar(w, ev, false);
    if (!text) return false;
    int64_t ns = 0;
    const char *why = sg_value_duration(text, allow_negative, &ns);
    if (why) return sg_walk_fail(w, ev->start_mark, "%s: '%.40s' %s", w->key, text, why);
    if ((ns < min || ns > max) && !(zero_ok && ns == 0)) {
        char lo[32], hi[32];
        format_duration(min, lo, sizeof lo);
        format_duration(max, hi, sizeof hi);
        return sg_walk_fail(w, ev->start_mark, "%s: %s is out of range (%s%s..%s)", w->key,
                            text, zero_ok ? "0, or " : "", lo, hi);
    }
    *out_ns = ns;
    return true;
}

bool sg_walk_string(struct sg_walker *w, const yaml_event_t *ev, char *buf, size_t cap)
{
    SG_ASSERT_PURE(buf != NULL);
    SG_ASSERT_PURE(cap > 1);
    const char *text = sg_walk_scalar(w, ev, false);
    if (!text) return false;
    size_t n = strlen(text);
    if (n == 0) return sg_walk_fail(w, ev->start_mark, "%s: is empty", w->key);
    if (n >= cap)
        return sg_walk_fail(w, ev->start_mark, "%s: is too long (at most %zu bytes)", w->key,
                            cap - 1);
    for (size_t i = 0; i < n; i++)
        if (text[i] < 0x20 || text[i] > 0x7e)
            return sg_walk_fail(w, ev->start_mark, "%s: only printable ASCII is allowed"
                                " (character %zu)", w->key, i + 1);
    memcpy(buf, text, n + 1);
    return true;
}

/* ---- mappings ---- */

/* Edit distance, for "did you mean" (names are short; longer texts get no suggestion). */
static size_t distance(const char *a, const char *b)
{
    enum { N = 40 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= N || lb >= N) return N;
    size_t row[N + 1];
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    SG_ASSERT_PURE(row[lb] <= (la > lb ? la : lb));
    return row[lb];
}

static bool unknown_key(struct sg_walker *w, const struct sg_table *t, const char *where,
                        const yaml_event_t *key)
{
    const char *name = (const char *)key->data.scalar.value;
    const char *near = NULL;
    size_t best = 3; /* suggest only within two edits */
    for (size_t i = 0; i < t->count; i++) {
        size_t d = distance(name, t->keys[i].name);
        if (d < best) {
            best = d;
            near = t->keys[i].name;
        }
    }
    size_t len = strlen(name);
    for (size_t i = 0; !near && len >= 3 && i < t->count; i++) /* "torn" -> "torn_pct" */
        if (strncmp(t->keys[i].name, name, len) == 0 ||
            strncmp(name, t->keys[i].name, strlen(t->keys[i].name)) == 0)
            near = t->keys[i].name;
    char hint[SG_WALK_TABLE_MAX * 24 + 32] = "";
    if (near) {
        snprintf(hint, sizeof hint, " (did you mean '%s'?)", near);
    } else { /* no near name: say what the section takes */
        size_t used = (size_t)snprintf(hint, sizeof hint, " (known keys:");
        for (size_t i = 0; i < t->count && used < sizeof hint; i++)
            used += (size_t)snprintf(hint + used, sizeof hint - used, "%s %s", i ? "," : "",
                                     t->keys[i].name);
        if (used < sizeof hint) snprintf(hint + used, sizeof hint - used, ")");
    }
    if (*where)
        return sg_walk_fail(w, key->start_mark, "unknown key '%.40s' in %s%s", name, where, hint);
    return sg_walk_fail(w, key->start_mark, "unknown key '%.40s' at the top level%s", name, hint);
}

/* The index of key's entry in t, or false after an error. */
static bool find_key(struct sg_walker *w, const struct sg_table *t, const char *where,
                     const yaml_event_t *key, size_t *index_out)
{
    SG_ASSERT_PURE(t->count <= SG_WALK_TABLE_MAX);
    if (key->type != YAML_SCALAR_EVENT) {
        char got[64];
        describe(key, got, sizeof got);
        return sg_walk_fail(w, key->start_mark, "%s%sexpected a key (a word before ':'), got %s",
                            where, *where ? ": " : "", got);
    }
    const char *name = (const char *)key->data.scalar.value;
    for (size_t i = 0; i < t->count; i++) {
        if (strcmp(t->keys[i].name, name) != 0) continue;
        *index_out = i;
        return true;
    }
    return unknown_key(w, t, where, key);
}

bool sg_walk_pairs(struct sg_walker *w, const yaml_event_t *v, sg_walk_pair_fn fn, void *ctx)
{
    SG_ASSERT_PURE(fn != NULL);
    if (!sg_walk_expect(w, v, YAML_MAPPING_START_EVENT)) return false;
    char where[SG_WALK_KEY_LEN];
    snprintf(where, sizeof where, "%s", w->key);
    for (;;) { /* ends: fn refuses entries past its bound */
        yaml_event_t key;
        if (!sg_walk_next(w, &key)) return false;
        bool end = key.type == YAML_MAPPING_END_EVENT;
        bool ok = end || fn(w, ctx, &key, where);
        yaml_event_delete(&key);
        if (!ok || end) return ok;
    }
}

bool sg_walk_mapping(struct sg_walker *w, const struct sg_table *t, const char *prefix,
                     void *target, uint32_t *seen_out, yaml_mark_t *marks_out)
{
    SG_ASSERT_PURE(t->count <= SG_WALK_TABLE_MAX);
    SG_ASSERT_PURE(prefix != NULL && target != NULL);
    char where[SG_WALK_KEY_LEN];
    snprintf(where, sizeof where, "%s", prefix);
    yaml_mark_t marks[SG_WALK_TABLE_MAX];
    memset(marks, 0, sizeof marks);
    uint32_t seen = 0;
    /* Every round takes a new key or ends: count + 1 rounds suffice. */
    for (size_t round = 0; round <= t->count; round++) {
        yaml_event_t key;
        if (!sg_walk_next(w, &key)) return false;
        if (key.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&key);
            if (seen_out) *seen_out = seen;
            if (marks_out) memcpy(marks_out, marks, t->count * sizeof marks[0]);
            return true;
        }
        size_t i = 0;
        bool known = find_key(w, t, where, &key, &i);
        if (known && (seen >> i & 1u))
            sg_walk_fail(w, key.start_mark, "duplicate key '%s'%s%s (first at line %zu)",
                         t->keys[i].name, *where ? " in " : "", where, marks[i].line + 1);
        yaml_mark_t at = key.start_mark;
        yaml_event_delete(&key);
        if (w->failed) return false;
        seen |= 1u << i;
        marks[i] = at;
        sg_walk_set_key(w, where, *where ? "." : "", t->keys[i].name);
        yaml_event_t value;
        if (!sg_walk_next(w, &value)) return false;
        bool ok = t->keys[i].set(w, &t->keys[i], target, &value);
        yaml_event_delete(&value);
        if (!ok) return false;
    }
    SG_WALK_UNREACHABLE("a mapping yielded more keys than its table holds without an error");
}

/* ---- documents ---- */

/* Syntax first: a YAML error anywhere in the file is reported as such, rather than as the
 * odd value it may make of an earlier line (an unclosed '{' swallows the next lines). */
static bool check_syntax(struct sg_walker *w)
{
    size_t bound = 4 * w->len + 16; /* libyaml makes progress: far fewer events than this */
    for (size_t i = 0; i < bound; i++) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&w->parser, &ev)) return syntax_error(w);
        bool end = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
        if (end) return true;
    }
    yaml_mark_t start = {0, 0, 0};
    return sg_walk_fail(w, start, "YAML syntax error: the parser made no progress");
}

/* Runs one pass of libyaml over the text. */
static bool pass(struct sg_walker *w, bool (*fn)(struct sg_walker *w))
{
    SG_ASSERT_PURE(fn != NULL && !w->failed);
    if (!yaml_parser_initialize(&w->parser)) {
        yaml_mark_t start = {0, 0, 0};
        return sg_walk_fail(w, start, "out of memory");
    }
    yaml_parser_set_input_string(&w->parser, (const unsigned char *)w->text, w->len);
    bool ok = fn(w);
    yaml_parser_delete(&w->parser);
    SG_ASSERT_PURE(ok == !w->failed);
    return ok;
}

/* Stream start, one document holding a mapping, stream end. */
static bool walk_document(struct sg_walker *w)
{
    yaml_event_t ev;
    if (!sg_walk_next(w, &ev)) return false; /* the stream start */
    yaml_event_delete(&ev);
    if (!sg_walk_next(w, &ev)) return false;
    bool empty = ev.type == YAML_STREAM_END_EVENT;
    yaml_mark_t mark = ev.start_mark;
    yaml_event_delete(&ev); /* the document start */
    if (empty) return sg_walk_fail(w, mark, "the file is empty (expected key: value lines)");
    if (!sg_walk_next(w, &ev)) return false;
    sg_walk_set_key(w, "", "", "the file");
    bool blank = ev.type == YAML_SCALAR_EVENT && ev.data.scalar.length == 0 &&
                 ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    bool ok = blank ? sg_walk_fail(w, ev.start_mark, "the document is empty"
                                   " (expected key: value lines)")
                    : sg_walk_expect(w, &ev, YAML_MAPPING_START_EVENT);
    yaml_event_delete(&ev);
    if (!ok || !sg_walk_mapping(w, &sg_scenario_schema, "", w->rc, NULL, NULL)) return false;
    if (!sg_walk_next(w, &ev)) return false; /* the document end */
    yaml_event_delete(&ev);
    if (!sg_walk_next(w, &ev)) return false;
    bool more = ev.type != YAML_STREAM_END_EVENT;
    mark = ev.start_mark;
    yaml_event_delete(&ev);
    if (more) return sg_walk_fail(w, mark, "only one document per file (remove the second '---')");
    return true;
}

static enum sg_scenario_status load(const char *origin, const char *catalogue_name,
                                    const char *text, size_t len, uint64_t seed,
                                    struct sg_run_config *rc, struct sg_scenario_info *info,
                                    char *err, size_t cap)
{
    SG_ASSERT_PURE(origin != NULL && text != NULL && rc != NULL);
    SG_ASSERT_PURE(err != NULL && cap > 0);
    err[0] = '\0';
    struct sg_run_config built;
    struct sg_scenario_info found;
    memset(&found, 0, sizeof found);
    sg_run_config_default(&built, seed);
    struct sg_walker w = {.origin = origin, .text = text, .len = len, .err = err, .cap = cap,
                          .seed = seed, .rc = &built, .info = &found,
                          .catalogue_name = catalogue_name};
    bool ok = pass(&w, check_syntax) && pass(&w, walk_document) && sg_scenario_finish(&w);
    SG_ASSERT_PURE(ok == !w.failed);
    if (!ok) return SG_SCENARIO_INVALID;
    built.scenario = origin;
    *rc = built;
    if (info) *info = found;
    return SG_SCENARIO_OK;
}

enum sg_scenario_status sg_scenario_load_text(const char *origin, const char *text, size_t len,
                                              uint64_t seed, struct sg_run_config *rc,
                                              struct sg_scenario_info *info, char *err,
                                              size_t cap)
{
    return load(origin, NULL, text, len, seed, rc, info, err, cap);
}

/* ---- files and the catalogue ---- */

bool sg_scenario_is_path(const char *arg)
{
    SG_ASSERT_PURE(arg != NULL);
    size_t n = strlen(arg);
    return strchr(arg, '/') != NULL || (n >= 5 && strcmp(arg + n - 5, ".yaml") == 0);
}

/* Reads a whole file (at most SG_SCENARIO_FILE_MAX bytes) into *text_out (malloc'd). */
static enum sg_scenario_status read_file(const char *path, char **text_out, size_t *len_out,
                                         char *err, size_t cap)
{
    SG_ASSERT_PURE(path != NULL && text_out != NULL);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, cap, "%s: cannot open: %s", path, strerror(errno));
        return SG_SCENARIO_NOT_FOUND;
    }
    char *text = malloc(SG_SCENARIO_FILE_MAX + 1);
    size_t n = text ? fread(text, 1, SG_SCENARIO_FILE_MAX + 1, f) : 0;
    bool failed = !text || ferror(f);
    int saved = errno;
    fclose(f);
    enum sg_scenario_status st = SG_SCENARIO_OK;
    if (failed) {
        snprintf(err, cap, "%s: cannot read: %s", path, text ? strerror(saved) : "out of memory");
        st = SG_SCENARIO_NOT_FOUND;
    } else if (n > SG_SCENARIO_FILE_MAX) {
        snprintf(err, cap, "%s: larger than %d bytes: not a scenario file", path,
                 SG_SCENARIO_FILE_MAX);
        st = SG_SCENARIO_INVALID;
    }
    if (st != SG_SCENARIO_OK) {
        free(text);
        return st;
    }
    *text_out = text;
    *len_out = n;
    return st;
}

static size_t catalogue_find(const char *name)
{
    for (size_t i = 0; i < sg_catalogue_file_count; i++)
        if (strcmp(sg_catalogue_files[i].name, name) == 0) return i;
    return sg_catalogue_file_count;
}

static enum sg_scenario_status load_catalogue(size_t i, uint64_t seed, struct sg_run_config *rc,
                                              struct sg_scenario_info *info, char *err,
                                              size_t cap)
{
    SG_ASSERT_PURE(i < sg_catalogue_file_count);
    const struct sg_catalogue_file *f = &sg_catalogue_files[i];
    SG_ASSERT_PURE(f->text[f->len] == '\0');
    return load(f->origin, f->name, (const char *)f->text, f->len, seed, rc, info, err, cap);
}

static void unknown_name(const char *name, char *err, size_t cap)
{
    int n = snprintf(err, cap, "unknown scenario '%s' (the catalogue:", name);
    size_t used = n > 0 ? (size_t)n : 0;
    for (size_t i = 0; i < sg_catalogue_file_count && used < cap; i++) {
        n = snprintf(err + used, cap - used, " %s", sg_catalogue_files[i].name);
        used += n > 0 ? (size_t)n : 0;
    }
    if (used < cap) snprintf(err + used, cap - used, ")");
}

enum sg_scenario_status sg_scenario_load(const char *arg, uint64_t seed, struct sg_run_config *rc,
                                         struct sg_scenario_info *info, char *err, size_t cap)
{
    SG_ASSERT_PURE(arg != NULL && rc != NULL);
    SG_ASSERT_PURE(err != NULL && cap > 0);
    struct sg_run_config built;
    enum sg_scenario_status st = SG_SCENARIO_NOT_FOUND;
    if (sg_scenario_is_path(arg)) {
        char *text = NULL;
        size_t len = 0;
        st = read_file(arg, &text, &len, err, cap);
        if (st == SG_SCENARIO_OK) st = load(arg, NULL, text, len, seed, &built, info, err, cap);
        free(text);
    } else {
        size_t i = catalogue_find(arg);
        if (i < sg_catalogue_file_count) st = load_catalogue(i, seed, &built, info, err, cap);
        else unknown_name(arg, err, cap);
        built.scenario = i < sg_catalogue_file_count ? sg_catalogue_files[i].name : NULL;
    }
    if (st != SG_SCENARIO_OK) return st;
    if (sg_scenario_is_path(arg)) built.scenario = arg;
    *rc = built;
    return st;
}

enum sg_scenario_status sg_scenario_digest(const char *arg, uint64_t *digest_out, char *err,
                                           size_t cap)
{
    SG_ASSERT_PURE(arg != NULL && digest_out != NULL);
    SG_ASSERT_PURE(err != NULL && cap > 0);
    if (!sg_scenario_is_path(arg)) {
        size_t i = catalogue_find(arg);
        if (i == sg_catalogue_file_count) {
            unknown_name(arg, err, cap);
            return SG_SCENARIO_NOT_FOUND;
        }
        *digest_out = XXH3_64bits(sg_catalogue_files[i].text, sg_catalogue_files[i].len);
        return SG_SCENARIO_OK;
    }
    char *text = NULL;
    size_t len = 0;
    enum sg_scenario_status st = read_file(arg, &text, &len, err, cap);
    if (st == SG_SCENARIO_OK) *digest_out = XXH3_64bits(text, len);
    free(text);
    return st;
}

size_t sg_scenario_count(void)
{
    return sg_catalogue_file_count;
}

const char *sg_scenario_name(size_t i)
{
    SG_ASSERT_PURE(i < sg_catalogue_file_count);
    return sg_catalogue_files[i].name;
}

enum sg_scenario_status sg_scenario_info_at(size_t i, struct sg_scenario_info *info, char *err,
                                            size_t cap)
{
    SG_ASSERT_PURE(i < sg_catalogue_file_count);
    SG_ASSERT_PURE(info != NULL);
    struct sg_run_config rc;
    return load_catalogue(i, 1, &rc, info, err, cap);
}
