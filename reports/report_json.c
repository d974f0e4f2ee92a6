/*
 * report_json.c: report.json, the machine-readable report, built with jansson.
 *
 * Layout (every object's keys sorted on output):
 *   build_id, sqlite_source_id, scenario, scenario_digest (16 hex: XXH3 of the scenario
 *   file's bytes; null when none), config {bugs [name ...], swarm, withdrawals (per run)},
 *   command, jobs, wall_seconds, seed_range ({from, to} or null), shard ({index, count} or
 *   null), verdict, seed_count, failing_seed_count, panicked_seed_count,
 *   seeds: [ { seed, crash_at ("NODE:POINT:N" or null), hash (16 hex), verdict, panicked,
 *              invariants {I<n>: {checked, failed}},
 *              first_violation (null when none), replay (null when none),
 *              faults {counter: n}, coverage {path: n},
 *              withdrawals {total, by_status {STATUS: n}},
 *              money ({accounts, holds_open, payouts, assets {ASSET: {opening, available,
 *              held, paid_out}}} or null without a ledger), wall_seconds } ... ] in seed order,
 *   invariants: {I<n>: {title, checked, failed, seeds_failing, failing_seeds [seed ...]}},
 *   faults: {counter: total}, withdrawals: {total, by_status}, money (summed, as per seed),
 *   coverage: {required, totals {path: n}, seeds_reaching {path: n}, unreached [path ...]},
 *   timeline: {seed, title, html (the picture as index.html shows it)} or null,
 *   merged_from: [ {report, command, shard, seed_count, wall_seconds, jobs} ... ] (empty
 *   unless the report was made by report merge).
 * The per-seed records, the settings and the timeline are everything the three files are
 * made from: report_read.c reads them back for report merge; the totals are recomputed.
 * Unsigned 64-bit numbers above INT64_MAX (jansson's integer range) are written as decimal
 * strings; every other count is a JSON integer.
 *
 * Determinism: json_object_seed(1) before the first object (else jansson reads
 * /dev/urandom; the seed does not change the output), JSON_SORT_KEYS, and
 * JSON_REAL_PRECISION(15) for the wall times.
 */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "assert.h"
#include "bugs.h"
#include "report_int.h"
#include "status.h"

/* Building stays simple: every helper tolerates a NULL argument and a failed insertion
 * marks the whole document as failed (out of memory). */
struct jb {
    bool ok;
};

static void put(struct jb *b, json_t *obj, const char *key, json_t *v)
{
    if (obj == NULL || v == NULL || json_object_set_new(obj, key, v) != 0) b->ok = false;
}

static void push(struct jb *b, json_t *arr, json_t *v)
{
    if (arr == NULL || v == NULL || json_array_append_new(arr, v) != 0) b->ok = false;
}

static json_t *jstr(const char *s)
{
    if (s == NULL) return json_null();
    size_t cap = strlen(s) * 4 + 1; /* each invalid byte grows to "\xNN" */
    char *clean = malloc(cap);
    if (clean == NULL) return NULL;
    size_t n = rp_utf8_clean(s, clean, cap);
    json_t *v = json_stringn(clean, n);
    free(clean);
    return v;
}

static json_t *jstr_or_null(const char *s)
{
    return s && s[0] ? jstr(s) : json_null();
}

static json_t *ju64(uint64_t v)
{
    if (v <= (uint64_t)INT64_MAX) return json_integer((json_int_t)v);
    char text[24];
    snprintf(text, sizeof text, "%" PRIu64, v);
    return json_string(text);
}

static json_t *jreal(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *faults_json(struct jb *b, const uint64_t values[RP_FAULT_STATS])
{
    json_t *o = json_object();
    for (size_t i = 0; i < RP_FAULT_STATS; i++) put(b, o, rp_fault_stats[i].name, ju64(values[i]));
    return o;
}

static json_t *coverage_json(struct jb *b, const uint64_t counts[SG_COV_COUNT])
{
    json_t *o = json_object();
    for (int c = 0; c < SG_COV_COUNT; c++)
        put(b, o, sg_coverage_name((enum sg_coverage)c), ju64(counts[c]));
    return o;
}

static json_t *withdrawals_json(struct jb *b, uint64_t total, const uint64_t by_status[8])
{
    json_t *o = json_object();
    json_t *by = json_object();
    put(b, o, "total", ju64(total));
    for (int k = SG_STATUS_REQUESTED; k < SG_STATUS_COUNT; k++)
        put(b, by, sg_status_name((enum sg_status)k), ju64(by_status[k]));
    put(b, o, "by_status", by);
    return o;
}

static json_t *ji64(int64_t v)
{
    return json_integer((json_int_t)v);
}

/* {judged, accounts, holds_open, payouts, assets {ASSET: {opening, available, held,
 * paid_out}}}, or null when the run had no money half. */
static json_t *money_json(struct jb *b, const struct sg_money *m)
{
    if (!m->judged) return json_null();
    json_t *o = json_object(), *assets = json_object();
    put(b, o, "accounts", ju64(m->accounts));
    put(b, o, "holds_open", ju64(m->holds_open));
    put(b, o, "payouts", ju64(m->payouts));
    for (size_t i = 0; i < m->n_assets; i++) {
        const struct sg_money_asset *a = &m->assets[i];
        json_t *one = json_object();
        put(b, one, "opening", ji64(a->opening));
        put(b, one, "available", ji64(a->available));
        put(b, one, "held", ji64(a->held));
        put(b, one, "paid_out", ji64(a->paid_out));
        put(b, assets, a->asset, one);
    }
    put(b, o, "assets", assets);
    return o;
}

static json_t *jhex(uint64_t v)
{
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, v);
    return json_string(hex);
}

/* {first_key: a, second_key: b}, or null when absent. */
static json_t *pair_or_null(struct jb *b, bool present, const char *first_key, uint64_t a,
                            const char *second_key, uint64_t c)
{
    if (!present) return json_null();
    json_t *o = json_object();
    put(b, o, first_key, ju64(a));
    put(b, o, second_key, ju64(c));
    return o;
}

static json_t *seed_json(struct jb *b, const struct sg_report_seed *s)
{
    json_t *o = json_object();
    put(b, o, "seed", ju64(s->seed));
    put(b, o, "crash_at", jstr_or_null(s->crash_at));
    put(b, o, "hash", jhex(s->hash));
    put(b, o, "verdict", json_string(sg_report_seed_failing(s) ? "violation" : "ok"));
    put(b, o, "panicked", json_boolean(s->panicked));
    json_t *inv = json_object();
    for (int i = SG_I1; i < SG_INV_COUNT; i++) {
        json_t *one = json_object();
        put(b, one, "checked", ju64(s->checked[i]));
        put(b, one, "failed", ju64(s->failed[i]));
        put(b, inv, sg_inv_name((enum sg_inv)i), one);
    }
    put(b, o, "invariants", inv);
    put(b, o, "first_violation", jstr_or_null(s->first_violation));
    put(b, o, "replay", jstr_or_null(s->replay));
    uint64_t faults[RP_FAULT_STATS];
    for (size_t f = 0; f < RP_FAULT_STATS; f++) faults[f] = rp_fault_value(&s->faults, f);
    put(b, o, "faults", faults_json(b, faults));
    put(b, o, "coverage", coverage_json(b, s->coverage));
    put(b, o, "withdrawals", withdrawals_json(b, s->withdrawals, s->by_status));
    put(b, o, "money", money_json(b, &s->money));
    put(b, o, "wall_seconds", jreal(s->wall_seconds));
    return o;
}

static json_t *invariants_json(struct jb *b, const struct sg_report *r, const struct rp_totals *t)
{
    json_t *o = json_object();
    for (int i = SG_I1; i < SG_INV_COUNT; i++) {
        json_t *one = json_object();
        json_t *seeds = json_array();
        put(b, one, "title", json_string(sg_inv_title((enum sg_inv)i)));
        put(b, one, "checked", ju64(t->checked[i]));
        put(b, one, "failed", ju64(t->failed[i]));
        put(b, one, "seeds_failing", ju64(t->seeds_failing[i]));
        for (size_t k = 0; k < r->n_seeds; k++)
            if (r->seeds[k].failed[i]) push(b, seeds, ju64(r->seeds[k].seed));
        put(b, one, "failing_seeds", seeds);
        put(b, o, sg_inv_name((enum sg_inv)i), one);
    }
    return o;
}

static json_t *coverage_totals_json(struct jb *b, const struct sg_report *r,
                                    const struct rp_totals *t)
{
    json_t *o = json_object();
    json_t *reaching = json_object();
    json_t *unreached = json_array();
    put(b, o, "required", json_boolean(r->require_coverage));
    put(b, o, "totals", coverage_json(b, t->coverage));
    for (int c = 0; c < SG_COV_COUNT; c++) {
        const char *name = sg_coverage_name((enum sg_coverage)c);
        put(b, reaching, name, ju64(t->coverage_seeds[c]));
        if (t->coverage_seeds[c] == 0) push(b, unreached, json_string(name));
    }
    put(b, o, "seeds_reaching", reaching);
    put(b, o, "unreached", unreached);
    return o;
}

static json_t *config_json(struct jb *b, const struct sg_report *r)
{
    json_t *o = json_object();
    json_t *bugs = json_array();
    for (int k = 0; k < SG_BUG_COUNT; k++)
        if (sg_bug_on(r->bugs, (enum sg_bug)k))
            push(b, bugs, json_string(sg_bug_info((enum sg_bug)k)->name));
    put(b, o, "bugs", bugs);
    put(b, o, "swarm", json_boolean(r->swarm));
    put(b, o, "withdrawals", ju64(r->withdrawals));
    return o;
}

static json_t *timeline_json(struct jb *b, const struct sg_report_timeline *t)
{
    if (t == NULL) return json_null();
    json_t *o = json_object();
    char *html = rp_timeline_html(t);
    if (html == NULL) b->ok = false;
    put(b, o, "seed", ju64(t->seed));
    put(b, o, "title", jstr(t->title));
    put(b, o, "html", html ? jstr(html) : NULL);
    free(html);
    return o;
}

static json_t *inputs_json(struct jb *b, const struct sg_report *r)
{
    json_t *a = json_array();
    for (size_t k = 0; k < r->n_inputs; k++) {
        const struct sg_report_input *in = &r->inputs[k];
        json_t *o = json_object();
        put(b, o, "report", jstr(in->report));
        put(b, o, "command", jstr(in->command));
        put(b, o, "shard", pair_or_null(b, in->shard_n > 0, "index", in->shard_i, "count",
                                        in->shard_n));
        put(b, o, "seed_count", ju64(in->n_seeds));
        put(b, o, "wall_seconds", jreal(in->wall_seconds));
        put(b, o, "jobs", ju64(in->jobs));
        push(b, a, o);
    }
    return a;
}

static json_t *report_json(struct jb *b, const struct sg_report *r, const struct rp_totals *t)
{
    json_t *o = json_object();
    put(b, o, "build_id", jstr(r->build_id));
    put(b, o, "sqlite_source_id", jstr(r->sqlite_source_id));
    put(b, o, "scenario", jstr(r->scenario));
    put(b, o, "scenario_digest", r->scenario_digest ? jhex(r->scenario_digest) : json_null());
    put(b, o, "config", config_json(b, r));
    put(b, o, "command", jstr(r->command));
    put(b, o, "jobs", ju64(r->jobs));
    put(b, o, "wall_seconds", jreal(r->wall_seconds));
    put(b, o, "seed_range", pair_or_null(b, r->has_seed_range, "from", r->seed_from, "to",
                                         r->seed_to));
    put(b, o, "shard", pair_or_null(b, r->shard_n > 0, "index", r->shard_i, "count", r->shard_n));
    put(b, o, "verdict", json_string(t->ok ? "ok" : "violation"));
    put(b, o, "seed_count", ju64(r->n_seeds));
    put(b, o, "failing_seed_count", ju64(t->failing_seeds));
    put(b, o, "panicked_seed_count", ju64(t->panicked_seeds));
    json_t *seeds = json_array();
    for (size_t k = 0; k < r->n_seeds; k++) push(b, seeds, seed_json(b, &r->seeds[k]));
    put(b, o, "seeds", seeds);
    put(b, o, "invariants", invariants_json(b, r, t));
    put(b, o, "faults", faults_json(b, t->faults));
    put(b, o, "withdrawals", withdrawals_json(b, t->withdrawals, t->by_status));
    put(b, o, "money", money_json(b, &t->money));
    put(b, o, "coverage", coverage_totals_json(b, r, t));
    put(b, o, "timeline", timeline_json(b, r->timeline));
    put(b, o, "merged_from", inputs_json(b, r));
    return o;
}

bool sg_report_write_json(const struct sg_report *r, const char *path, char *err, size_t cap)
{
    SG_ASSERT_PURE(r != NULL);
    SG_ASSERT_PURE(path != NULL);
    json_object_seed(1);
    struct rp_totals t;
    rp_totals_compute(r, &t);
    struct jb b = {true};
    json_t *root = report_json(&b, r, &t);
    if (!b.ok || root == NULL) {
        json_decref(root);
        rp_error(err, cap, "out of memory building", path, ENOMEM);
        return false;
    }
    FILE *f = rp_open(path, err, cap);
    if (f == NULL) {
        json_decref(root);
        return false;
    }
    size_t flags = JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15);
    bool dumped = json_dumpf(root, f, flags) == 0;
    fputc('\n', f);
    json_decref(root);
    bool closed = rp_close(f, path, err, cap);
    if (closed && !dumped) rp_error(err, cap, "cannot write", path, 0);
    return closed && dumped;
}
