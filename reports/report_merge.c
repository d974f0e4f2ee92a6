/*
 * report_merge.c: many reports into one (sg_report_merge, report_merge.h).
 *
 * Steps: refuse inputs that do not describe the same kind of runs (settings compared as
 * text, so the message can quote both values); refuse an incomplete set of shards unless
 * asked for a partial merge; collect every seed record, sort them by run (seed, then crash
 * point) with ties broken by input and position, and keep one record per run after
 * checking that every copy has the same hash; choose the timeline; sum jobs and wall time.
 * Nothing depends on addresses: the sort key ends in (input, position).
 */
#include "report_merge.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assert.h"
#include "bugs.h"
#include "report_int.h"
#include "scenario.h"

/* ---- the same kind of runs ---- */

enum { SETTINGS = 8 };
static const char *const SETTING_WHAT[SETTINGS] = {
    "different builds (build_id)",
    "different SQLite versions (sqlite_source_id)",
    "different scenarios",
    "different versions of the scenario (scenario_digest: its text changed between the runs)",
    "different planted bugs (--bug)",
    "different swarm settings (--swarm)",
    "different withdrawals per run (--withdrawals)",
    "different coverage requirements (--require-coverage)",
};

static char *bug_names(uint64_t bugs)
{
    char *s = rp_strf("%s", "");
    for (int k = 0; k < SG_BUG_COUNT; k++) {
        if (!sg_bug_on(bugs, (enum sg_bug)k)) continue;
        char *more = rp_strf("%s%s%s", s, s[0] ? "," : "", sg_bug_info((enum sg_bug)k)->name);
        free(s);
        s = more;
    }
    if (s[0]) return s;
    free(s);
    return rp_strf("none");
}

/* The k-th setting of r as text (heap). */
static char *setting(const struct sg_report *r, int k)
{
    switch (k) {
    case 0: return rp_strf("%s", r->build_id);
    case 1: return rp_strf("%s", r->sqlite_source_id);
    case 2: return rp_strf("%s", r->scenario);
    case 3: return r->scenario_digest ? rp_strf("%016" PRIx64, r->scenario_digest)
                                      : rp_strf("none");
    case 4: return bug_names(r->bugs);
    case 5: return rp_strf("%s", r->swarm ? "on" : "off");
    case 6: return rp_strf("%" PRIu32, r->withdrawals);
    default: return rp_strf("%s", r->require_coverage ? "required" : "not required");
    }
}

static bool same_kind(const struct sg_report_doc *a, const struct sg_report_doc *b, char **err)
{
    bool same = true;
    for (int k = 0; k < SETTINGS && same; k++) {
        char *x = setting(&a->r, k), *y = setting(&b->r, k);
        same = strcmp(x, y) == 0;
        if (!same)
            *err = rp_strf("cannot merge '%s' with '%s': %s: '%s' vs '%s'", b->path, a->path,
                           SETTING_WHAT[k], y, x);
        free(x);
        free(y);
    }
    return same;
}

/* ---- complete sets of shards ---- */

static bool same_range(const struct sg_report *a, const struct sg_report *b)
{
    return a->has_seed_range == b->has_seed_range && a->seed_from == b->seed_from &&
           a->seed_to == b->seed_to;
}

/* Shards 1..n of docs[k]'s range; false (with *err, unless partial) when some are missing.
 * An input of the same range that is no shard (the whole sweep, or a merged report of
 * it) holds every shard. done[j] marks the docs of this set. */
static bool shard_set_complete(const struct sg_report_doc *docs, size_t n_docs, size_t k,
                               bool *done, bool partial, char **err)
{
    const struct sg_report *r = &docs[k].r;
    bool *present = calloc(r->shard_n + 1, sizeof *present);
    if (present == NULL) abort();
    for (size_t j = 0; j < n_docs; j++) {
        const struct sg_report *o = &docs[j].r;
        if (!same_range(o, r)) continue;
        if (o->shard_n == 0)
            for (uint32_t i = 1; i <= r->shard_n; i++) present[i] = true;
        if (o->shard_n != r->shard_n) continue;
        present[o->shard_i] = true;
        done[j] = true;
    }
    size_t missing = 0;
    char *list = rp_strf("%s", "");
    for (uint32_t i = 1; i <= r->shard_n; i++) {
        if (present[i]) continue;
        if (++missing <= 8) {
            char *more = rp_strf("%s%s%" PRIu32 "/%" PRIu32, list, missing > 1 ? ", " : "", i,
                                 r->shard_n);
            free(list);
            list = more;
        }
    }
    if (missing && !partial)
        *err = rp_strf("shard%s %s%s of seeds %" PRIu64 "..%" PRIu64 " (the shards of '%s') "
                       "missing: the merge would not cover the sweep (give every shard's "
                       "report, or --partial to merge what is there)",
                       missing > 1 ? "s" : "", list, missing > 8 ? ", ..." : "", r->seed_from,
                       r->seed_to, docs[k].path);
    free(list);
    free(present);
    return missing == 0;
}

/* False with *err when a set is incomplete and !partial; *complete says whether all are. */
static bool shards_complete(const struct sg_report_doc *docs, size_t n, bool partial,
                            bool *complete, char **err)
{
    bool *done = calloc(n, sizeof *done);
    if (done == NULL) abort();
    *complete = true;
    for (size_t k = 0; k < n && *err == NULL; k++)
        if (docs[k].r.shard_n && !done[k])
            *complete &= shard_set_complete(docs, n, k, done, partial, err);
    free(done);
    return *err == NULL;
}

/* ---- seeds ---- */

struct item {
    const struct sg_report_seed *s;
    size_t input, pos;  /* where it came from: the tie break */
    size_t point;       /* crash_rank */
    uint64_t hit;
};

/* The crash point's place in sg_crashpoints (+1; 0 for none, count + 1 when unknown) and
 * its hit count, from "NODE:POINT:N". */
static void crash_rank(const char *at, size_t *point_out, uint64_t *hit_out)
{
    *point_out = 0;
    *hit_out = 0;
    if (at[0] == '\0') return;
    size_t count = 0;
    const struct sg_crashpoint *cp = sg_crashpoints(&count);
    const char *last = strrchr(at, ':');
    *point_out = count + 1;
    if (last == NULL) return;
    for (const char *p = last + 1; *p >= '0' && *p <= '9' && *hit_out < UINT64_MAX / 10; p++)
        *hit_out = *hit_out * 10 + (uint64_t)(*p - '0');
    for (size_t i = 0; i < count; i++) {
        const char *role = sg_role_name(cp[i].role);
        size_t nr = strlen(role), np = strlen(cp[i].point);
        if ((size_t)(last - at) == nr + 1 + np && strncmp(at, role, nr) == 0 && at[nr] == ':' &&
            strncmp(at + nr + 1, cp[i].point, np) == 0)
            *point_out = i + 1;
    }
}

static int cmp_u64(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b;
}

/* The run: seed, then crash point (none first), then its text for unknown points. */
static int cmp_run(const struct item *a, const struct item *b)
{
    int c = cmp_u64(a->s->seed, b->s->seed);
    if (c == 0) c = cmp_u64(a->point, b->point);
    if (c == 0) c = cmp_u64(a->hit, b->hit);
    if (c == 0) c = strcmp(a->s->crash_at, b->s->crash_at);
    return c;
}

static int cmp_item(const void *pa, const void *pb)
{
    const struct item *a = pa, *b = pb;
    int c = cmp_run(a, b);
    if (c == 0) c = cmp_u64(a->input, b->input);
    if (c == 0) c = cmp_u64(a->pos, b->pos);
    return c;
}

static char *run_name(const struct sg_report_seed *s)
{
    return s->crash_at[0] ? rp_strf("seed %" PRIu64 " crashed at %s", s->seed, s->crash_at)
                          : rp_strf("seed %" PRIu64, s->seed);
}

/* Every input's seeds, sorted, one record per run. */
static bool merge_seeds(const struct sg_report_doc *docs, size_t n, struct sg_report_merged *m,
                        char **err)
{
    size_t total = 0;
    for (size_t k = 0; k < n; k++) total += docs[k].r.n_seeds;
    struct item *items = calloc(total ? total : 1, sizeof *items);
    m->seeds = calloc(total ? total : 1, sizeof *m->seeds);
    if (items == NULL || m->seeds == NULL) abort();
    size_t used = 0;
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < docs[k].r.n_seeds; i++) {
            struct item *it = &items[used++];
            *it = (struct item){&docs[k].r.seeds[i], k, i, 0, 0};
            crash_rank(it->s->crash_at, &it->point, &it->hit);
        }
    qsort(items, total, sizeof *items, cmp_item);
    size_t kept = 0, start = 0; /* start: the first record of the current run */
    for (size_t i = 0; i < total; i++) {
        const struct item *a = &items[start], *b = &items[i];
        if (i == 0 || cmp_run(a, b) != 0) {
            start = i;
            m->seeds[kept++] = *b->s;
        } else if (a->s->hash != b->s->hash) {
            char *name = run_name(b->s);
            *err = rp_strf("%s has hash %016" PRIx64 " in '%s' but %016" PRIx64 " in '%s': "
                           "two different runs under one name (were both made by this build "
                           "and scenario?)",
                           name, a->s->hash, docs[a->input].path, b->s->hash,
                           docs[b->input].path);
            free(name);
            break;
        }
    }
    free(items);
    m->r.seeds = m->seeds;
    m->r.n_seeds = kept;
    return *err == NULL;
}

/* ---- the rest ---- */

static const struct sg_report_timeline *choose_timeline(const struct sg_report_doc *docs,
                                                        size_t n, const struct sg_report *m)
{
    for (size_t k = 0; k < m->n_seeds; k++) {
        if (!sg_report_seed_failing(&m->seeds[k])) continue;
        for (size_t j = 0; j < n; j++)
            if (docs[j].r.timeline && docs[j].r.timeline->seed == m->seeds[k].seed)
                return docs[j].r.timeline;
        break;
    }
    for (size_t j = 0; j < n; j++)
        if (docs[j].r.timeline) return docs[j].r.timeline;
    return NULL;
}

static void describe(const struct sg_report_doc *docs, size_t n, bool complete,
                     struct sg_report_merged *m)
{
    const struct sg_report *first = &docs[0].r;
    struct sg_report *r = &m->r;
    r->scenario = first->scenario;
    r->build_id = first->build_id;
    r->sqlite_source_id = first->sqlite_source_id;
    r->require_coverage = first->require_coverage;
    r->scenario_digest = first->scenario_digest;
    r->bugs = first->bugs;
    r->swarm = first->swarm;
    r->withdrawals = first->withdrawals;
    r->has_seed_range = complete && first->has_seed_range;
    for (size_t k = 1; k < n; k++) r->has_seed_range &= same_range(&docs[k].r, first);
    r->seed_from = r->has_seed_range ? first->seed_from : 0;
    r->seed_to = r->has_seed_range ? first->seed_to : 0;
    m->inputs = calloc(n, sizeof *m->inputs);
    if (m->inputs == NULL) abort();
    for (size_t k = 0; k < n; k++) {
        const struct sg_report *in = &docs[k].r;
        m->inputs[k] = (struct sg_report_input){docs[k].path, in->command, in->shard_i,
                                                in->shard_n, in->n_seeds, in->wall_seconds,
                                                in->jobs};
        r->wall_seconds += in->wall_seconds;
        r->jobs = r->jobs > UINT32_MAX - in->jobs ? UINT32_MAX : r->jobs + in->jobs;
    }
    r->inputs = m->inputs;
    r->n_inputs = n;
    r->timeline = choose_timeline(docs, n, r);
}

bool sg_report_merge(const struct sg_report_doc *docs, size_t n, const char *command,
                     bool partial, struct sg_report_merged *out, char **err_out)
{
    SG_ASSERT_PURE(docs != NULL && n > 0);
    SG_ASSERT_PURE(out != NULL && err_out != NULL);
    memset(out, 0, sizeof *out);
    *err_out = NULL;
    bool complete = true;
    for (size_t k = 1; k < n; k++)
        if (!same_kind(&docs[0], &docs[k], err_out)) return false;
    if (!shards_complete(docs, n, partial, &complete, err_out)) return false;
    if (!merge_seeds(docs, n, out, err_out)) {
        sg_report_merged_deinit(out);
        return false;
    }
    out->r.command = command;
    describe(docs, n, complete, out);
    SG_ASSERT_PURE(out->r.seeds != NULL);
    SG_ASSERT_PURE(out->r.n_inputs == n);
    return true;
}

void sg_report_merged_deinit(struct sg_report_merged *m)
{
    SG_ASSERT_PURE(m != NULL);
    free(m->seeds);
    free(m->inputs);
    memset(m, 0, sizeof *m);
}
