/*
 * report_read.c: report.json back into the struct sg_report it was written from
 * (sg_report_read, report_merge.h): the inverse of report_json.c for every key the writers
 * are made from. Totals are skipped; the writers recompute them from the seeds.
 *
 * Every getter records the first failure (file, key path, what was wrong) and returns
 * false, so a reader is a chain of `&&` that stops at the first bad key; nothing is
 * asserted about the file's content, which may be anything.
 */
#include "report_merge.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assert.h"
#include "bugs.h"
#include "report_int.h"
#include "status.h"

enum { WHERE_LEN = 96 }; /* a key path: schema names and indices, never file content */

struct rd {
    const char *path;
    char *err; /* the first failure (heap) */
};

/* "prefix.key" into out[WHERE_LEN]. A key path is schema names and indices, far below
 * WHERE_LEN; one cut short would still name the place in a message. */
static void join(char *out, const char *prefix, const char *key)
{
    const char *const parts[3] = {prefix, prefix[0] && key[0] ? "." : "", key};
    size_t used = 0;
    for (size_t k = 0; k < 3; k++)
        for (const char *c = parts[k]; *c && used + 1 < WHERE_LEN; c++) out[used++] = *c;
    out[used] = '\0';
}

static bool fail(struct rd *d, const char *prefix, const char *key, const char *what)
{
    char where[WHERE_LEN];
    join(where, prefix, key);
    if (d->err == NULL) d->err = rp_strf("'%s': %s%s%s", d->path, where, where[0] ? ": " : "", what);
    return false;
}

static bool parse_decimal(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0') return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        uint64_t digit = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - digit) / 10) return false;
        v = v * 10 + digit;
    }
    *out = v;
    return true;
}

static bool get_u64(struct rd *d, json_t *o, const char *prefix, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return true;
    }
    if (json_is_string(v) && parse_decimal(json_string_value(v), out)) return true;
    return fail(d, prefix, key, v ? "not a count (an integer >= 0)" : "missing");
}

static bool get_u32(struct rd *d, json_t *o, const char *prefix, const char *key, uint32_t *out)
{
    uint64_t v = 0;
    if (!get_u64(d, o, prefix, key, &v)) return false;
    if (v > UINT32_MAX) return fail(d, prefix, key, "too large");
    *out = (uint32_t)v;
    return true;
}

static bool get_hex(struct rd *d, json_t *o, const char *prefix, const char *key, uint64_t *out)
{
    const char *s = json_string_value(json_object_get(o, key));
    uint64_t v = 0;
    bool ok = s != NULL && strlen(s) == 16;
    for (size_t i = 0; ok && i < 16; i++) {
        char c = s[i];
        uint64_t digit = c >= '0' && c <= '9' ? (uint64_t)(c - '0')
                         : c >= 'a' && c <= 'f' ? (uint64_t)(c - 'a' + 10)
                                                : 16;
        ok = digit < 16;
        v = v << 4 | (digit & 15);
    }
    if (!ok) return fail(d, prefix, key, "missing or not 16 hex digits");
    *out = v;
    return true;
}

static bool get_bool(struct rd *d, json_t *o, const char *prefix, const char *key, bool *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_boolean(v)) return fail(d, prefix, key, "missing or not true/false");
    *out = json_is_true(v);
    return true;
}

/* A number, or null for a time that was not finite (NAN). */
static bool get_seconds(struct rd *d, json_t *o, const char *prefix, const char *key, double *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v) && !json_is_null(v))
        return fail(d, prefix, key, "missing or not a number");
    *out = json_is_null(v) ? NAN : json_number_value(v);
    return true;
}

/* A string; null gives NULL when nullable. */
static bool get_str(struct rd *d, json_t *o, const char *prefix, const char *key, bool nullable,
                    const char **out)
{
    json_t *v = json_object_get(o, key);
    *out = json_string_value(v);
    if (*out || (nullable && json_is_null(v))) return true;
    return fail(d, prefix, key, nullable ? "missing or not a string or null"
                                         : "missing or not a string");
}

/* A string (or null: NULL) copied to the heap. */
static bool get_heap(struct rd *d, json_t *o, const char *prefix, const char *key, bool nullable,
                     char **out)
{
    const char *s = NULL;
    if (!get_str(d, o, prefix, key, nullable, &s)) return false;
    *out = s ? rp_strf("%s", s) : NULL;
    return true;
}

/* A string or null ("") into a fixed field, cut at a character boundary. */
static bool get_text(struct rd *d, json_t *o, const char *prefix, const char *key, char *out,
                     size_t cap)
{
    const char *s = NULL;
    if (!get_str(d, o, prefix, key, true, &s)) return false;
    rp_utf8_clean(s ? s : "", out, cap);
    return true;
}

static bool get_obj(struct rd *d, json_t *o, const char *prefix, const char *key, bool nullable,
                    json_t **out)
{
    json_t *v = json_object_get(o, key);
    *out = json_is_object(v) ? v : NULL;
    if (*out || (nullable && json_is_null(v))) return true;
    return fail(d, prefix, key, nullable ? "missing or not an object or null"
                                         : "missing or not an object");
}

typedef const char *(*name_of)(size_t i);
static const char *fault_name(size_t i) { return rp_fault_stats[i].name; }
static const char *coverage_name(size_t i) { return sg_coverage_name((enum sg_coverage)i); }
static const char *status_name(size_t i) { return sg_status_name((enum sg_status)i); }

/* o[key] = {name(i): count} for i in [from, to). */
static bool get_counts(struct rd *d, json_t *o, const char *prefix, const char *key, name_of name,
                       size_t from, size_t to, uint64_t *out)
{
    json_t *obj = NULL;
    char where[WHERE_LEN];
    join(where, prefix, key);
    if (!get_obj(d, o, prefix, key, false, &obj)) return false;
    for (size_t i = from; i < to; i++)
        if (!get_u64(d, obj, where, name(i), &out[i])) return false;
    return true;
}

static bool get_invariants(struct rd *d, json_t *o, const char *prefix, struct sg_report_seed *s)
{
    json_t *inv = NULL, *one = NULL;
    char where[WHERE_LEN], at[WHERE_LEN];
    join(where, prefix, "invariants");
    if (!get_obj(d, o, prefix, "invariants", false, &inv)) return false;
    for (int i = SG_I1; i < SG_INV_COUNT; i++) {
        const char *name = sg_inv_name((enum sg_inv)i);
        join(at, where, name);
        if (!get_obj(d, inv, where, name, false, &one) ||
            !get_u64(d, one, at, "checked", &s->checked[i]) ||
            !get_u64(d, one, at, "failed", &s->failed[i]))
            return false;
    }
    return true;
}

static bool get_i64(struct rd *d, json_t *o, const char *prefix, const char *key, int64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v)) return fail(d, prefix, key, v ? "not an integer" : "missing");
    *out = (int64_t)json_integer_value(v);
    return true;
}

/* o.money: null (no ledger in the run; absent in older reports) or the books per asset. */
static bool get_money(struct rd *d, json_t *o, const char *prefix, struct sg_money *m)
{
    memset(m, 0, sizeof *m);
    json_t *mo = json_object_get(o, "money"), *assets = NULL, *one = NULL;
    if (mo == NULL || json_is_null(mo)) return true;
    char w[WHERE_LEN], wa[WHERE_LEN], at[WHERE_LEN];
    join(w, prefix, "money");
    if (!get_obj(d, o, prefix, "money", true, &mo) || !get_u64(d, mo, w, "accounts", &m->accounts) ||
        !get_u64(d, mo, w, "holds_open", &m->holds_open) ||
        !get_u64(d, mo, w, "payouts", &m->payouts) || !get_obj(d, mo, w, "assets", false, &assets))
        return false;
    m->judged = true;
    const char *name = NULL;
    join(wa, w, "assets");
    json_object_foreach(assets, name, one) {
        int64_t v[4] = {0};
        join(at, wa, name);
        if (strlen(name) >= sizeof m->assets[0].asset) return fail(d, wa, name, "name too long");
        if (!json_is_object(one)) return fail(d, wa, name, "not an object");
        if (!get_i64(d, one, at, "opening", &v[0]) || !get_i64(d, one, at, "available", &v[1]) ||
            !get_i64(d, one, at, "held", &v[2]) || !get_i64(d, one, at, "paid_out", &v[3]))
            return false;
        sg_money_add(m, name, v[0], v[1], v[2], v[3]);
    }
    return true;
}

static bool get_verdict(struct rd *d, json_t *o, const char *prefix, bool *ok_out)
{
    const char *v = NULL;
    if (!get_str(d, o, prefix, "verdict", false, &v)) return false;
    if (strcmp(v, "ok") != 0 && strcmp(v, "violation") != 0)
        return fail(d, prefix, "verdict", "neither \"ok\" nor \"violation\"");
    *ok_out = strcmp(v, "ok") == 0;
    return true;
}

static bool read_seed(struct rd *d, json_t *o, size_t index, struct sg_report_seed *s)
{
    char p[WHERE_LEN], w[WHERE_LEN];
    snprintf(p, sizeof p, "seeds[%zu]", index);
    if (!json_is_object(o)) return fail(d, p, "", "not an object");
    uint64_t faults[RP_FAULT_STATS] = {0};
    json_t *wd = NULL;
    join(w, p, "withdrawals");
    bool ok = get_u64(d, o, p, "seed", &s->seed) && get_hex(d, o, p, "hash", &s->hash) &&
              get_verdict(d, o, p, &s->ok) && get_bool(d, o, p, "panicked", &s->panicked) &&
              get_invariants(d, o, p, s) &&
              get_text(d, o, p, "first_violation", s->first_violation,
                       sizeof s->first_violation) &&
              get_heap(d, o, p, "replay", true, &s->replay) &&
              get_counts(d, o, p, "faults", fault_name, 0, RP_FAULT_STATS, faults) &&
              get_counts(d, o, p, "coverage", coverage_name, 0, SG_COV_COUNT, s->coverage) &&
              get_obj(d, o, p, "withdrawals", false, &wd) &&
              get_u64(d, wd, w, "total", &s->withdrawals) &&
              get_counts(d, wd, w, "by_status", status_name, SG_STATUS_REQUESTED,
                         SG_STATUS_COUNT, s->by_status) &&
              get_money(d, o, p, &s->money) &&
              get_seconds(d, o, p, "wall_seconds", &s->wall_seconds) &&
              get_text(d, o, p, "crash_at", s->crash_at, sizeof s->crash_at);
    for (size_t f = 0; f < RP_FAULT_STATS; f++)
        memcpy((unsigned char *)&s->faults + rp_fault_stats[f].offset, &faults[f],
               sizeof faults[f]);
    return ok;
}

static bool read_seeds(struct rd *d, json_t *root, struct sg_report_doc *doc)
{
    json_t *seeds = json_object_get(root, "seeds");
    uint64_t count = 0;
    if (!json_is_array(seeds)) return fail(d, "", "seeds", "missing or not an array");
    if (!get_u64(d, root, "", "seed_count", &count)) return false;
    size_t n = json_array_size(seeds);
    if (count != n) {
        char what[96];
        snprintf(what, sizeof what, "%zu seeds listed, seed_count says %llu (a cut file?)", n,
                 (unsigned long long)count);
        return fail(d, "", "seeds", what);
    }
    doc->seeds = calloc(n ? n : 1, sizeof *doc->seeds);
    if (doc->seeds == NULL) return fail(d, "", "seeds", strerror(ENOMEM));
    doc->r.seeds = doc->seeds;
    for (size_t k = 0; k < n; k++) {
        doc->r.n_seeds = k + 1; /* so deinit frees what was read */
        if (!read_seed(d, json_array_get(seeds, k), k, &doc->seeds[k])) return false;
    }
    doc->r.n_seeds = n;
    return true;
}

/* {a_key, b_key} or null: present is false for null. */
static bool get_pair(struct rd *d, json_t *o, const char *key, const char *a_key, uint64_t *a,
                     const char *b_key, uint64_t *b, bool *present)
{
    json_t *pair = NULL;
    if (!get_obj(d, o, "", key, true, &pair)) return false;
    *present = pair != NULL;
    return pair == NULL || (get_u64(d, pair, key, a_key, a) && get_u64(d, pair, key, b_key, b));
}

static bool get_shard(struct rd *d, json_t *o, const char *prefix, uint32_t *i, uint32_t *n)
{
    json_t *shard = NULL;
    char where[WHERE_LEN];
    join(where, prefix, "shard");
    *i = *n = 0;
    if (!get_obj(d, o, prefix, "shard", true, &shard)) return false;
    if (shard == NULL) return true;
    if (!get_u32(d, shard, where, "index", i) || !get_u32(d, shard, where, "count", n))
        return false;
    if (*i == 0 || *i > *n) return fail(d, where, "", "not 1 <= index <= count");
    return true;
}

static bool read_config(struct rd *d, json_t *root, struct sg_report *r)
{
    json_t *cfg = NULL, *cov = NULL;
    if (!get_obj(d, root, "", "config", false, &cfg) ||
        !get_bool(d, cfg, "config", "swarm", &r->swarm) ||
        !get_u32(d, cfg, "config", "withdrawals", &r->withdrawals) ||
        !get_obj(d, root, "", "coverage", false, &cov) ||
        !get_bool(d, cov, "coverage", "required", &r->require_coverage))
        return false;
    json_t *bugs = json_object_get(cfg, "bugs");
    if (!json_is_array(bugs)) return fail(d, "config", "bugs", "missing or not an array");
    for (size_t k = 0; k < json_array_size(bugs); k++) {
        const char *name = json_string_value(json_array_get(bugs, k));
        enum sg_bug b = name ? sg_bug_parse(name) : SG_BUG_COUNT;
        if (b == SG_BUG_COUNT)
            return fail(d, "config", "bugs", "names a planted bug this build does not have");
        r->bugs |= 1ull << b;
    }
    return true;
}

static bool read_timeline(struct rd *d, json_t *root, struct sg_report_doc *doc)
{
    json_t *t = NULL;
    if (!get_obj(d, root, "", "timeline", true, &t)) return false;
    if (t == NULL) return true;
    struct sg_report_timeline *tl = &doc->timeline;
    if (!get_u64(d, t, "timeline", "seed", &tl->seed) ||
        !get_heap(d, t, "timeline", "title", false, &doc->timeline_title) ||
        !get_heap(d, t, "timeline", "html", false, &doc->timeline_html))
        return false;
    tl->title = doc->timeline_title;
    tl->html = doc->timeline_html;
    doc->r.timeline = tl;
    return true;
}

static bool read_inputs(struct rd *d, json_t *root, struct sg_report_doc *doc)
{
    json_t *a = json_object_get(root, "merged_from");
    if (!json_is_array(a)) return fail(d, "", "merged_from", "missing or not an array");
    size_t n = json_array_size(a);
    doc->inputs = calloc(n ? n : 1, sizeof *doc->inputs);
    if (doc->inputs == NULL) return fail(d, "", "merged_from", strerror(ENOMEM));
    doc->r.inputs = doc->inputs;
    for (size_t k = 0; k < n; k++) {
        struct sg_report_input *in = &doc->inputs[k];
        json_t *o = json_array_get(a, k);
        char p[WHERE_LEN];
        uint64_t seeds = 0;
        char *report = NULL, *command = NULL;
        snprintf(p, sizeof p, "merged_from[%zu]", k);
        doc->r.n_inputs = k + 1;
        if (!json_is_object(o)) return fail(d, p, "", "not an object");
        bool texts = get_heap(d, o, p, "report", false, &report) &&
                     get_heap(d, o, p, "command", true, &command);
        in->report = report;
        in->command = command;
        if (!texts || !get_shard(d, o, p, &in->shard_i, &in->shard_n) ||
            !get_u64(d, o, p, "seed_count", &seeds) ||
            !get_seconds(d, o, p, "wall_seconds", &in->wall_seconds) ||
            !get_u32(d, o, p, "jobs", &in->jobs))
            return false;
        in->n_seeds = (size_t)seeds;
    }
    return true;
}

static bool read_root(struct rd *d, json_t *root, struct sg_report_doc *doc)
{
    struct sg_report *r = &doc->r;
    json_t *digest = json_object_get(root, "scenario_digest");
    bool ok = get_heap(d, root, "", "build_id", false, &doc->build_id) &&
              get_heap(d, root, "", "sqlite_source_id", false, &doc->sqlite_source_id) &&
              get_heap(d, root, "", "scenario", false, &doc->scenario) &&
              (json_is_null(digest) ||
               get_hex(d, root, "", "scenario_digest", &r->scenario_digest)) &&
              get_heap(d, root, "", "command", true, &doc->command) &&
              get_u32(d, root, "", "jobs", &r->jobs) &&
              get_seconds(d, root, "", "wall_seconds", &r->wall_seconds) &&
              read_config(d, root, r) &&
              get_pair(d, root, "seed_range", "from", &r->seed_from, "to", &r->seed_to,
                       &r->has_seed_range) &&
              get_shard(d, root, "", &r->shard_i, &r->shard_n) && read_timeline(d, root, doc) &&
              read_inputs(d, root, doc) && read_seeds(d, root, doc);
    r->build_id = doc->build_id;
    r->sqlite_source_id = doc->sqlite_source_id;
    r->scenario = doc->scenario;
    r->command = doc->command;
    return ok;
}

bool sg_report_read(const char *path, struct sg_report_doc *doc, char **err_out)
{
    SG_ASSERT_PURE(path != NULL && doc != NULL);
    SG_ASSERT_PURE(err_out != NULL);
    memset(doc, 0, sizeof *doc);
    *err_out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        *err_out = rp_strf("'%s': cannot open: %s", path, strerror(errno));
        return false;
    }
    json_error_t e;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &e);
    fclose(f);
    if (root == NULL) {
        *err_out = rp_strf("'%s':%d:%d: not valid JSON: %s", path, e.line, e.column, e.text);
        return false;
    }
    doc->path = rp_strf("%s", path);
    struct rd d = {path, NULL};
    bool ok = json_is_object(root) ? read_root(&d, root, doc)
                                   : fail(&d, "", "", "not a JSON object (not a report.json)");
    json_decref(root);
    if (!ok) {
        sg_report_doc_deinit(doc);
        *err_out = d.err;
    }
    return ok;
}

void sg_report_doc_deinit(struct sg_report_doc *doc)
{
    SG_ASSERT_PURE(doc != NULL);
    for (size_t k = 0; doc->seeds && k < doc->r.n_seeds; k++)
        sg_report_seed_deinit(&doc->seeds[k]);
    for (size_t k = 0; doc->inputs && k < doc->r.n_inputs; k++) {
        free((char *)doc->inputs[k].report);
        free((char *)doc->inputs[k].command);
    }
    free(doc->seeds);
    free(doc->inputs);
    free(doc->path);
    free(doc->scenario);
    free(doc->command);
    free(doc->build_id);
    free(doc->sqlite_source_id);
    free(doc->timeline_title);
    free(doc->timeline_html);
    memset(doc, 0, sizeof *doc);
}
