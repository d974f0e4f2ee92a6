/*
 * test_report_merge.c: unit tests for reading report.json back and merging reports
 * (reports/report_merge.h).
 *
 * Why: `report merge` is only as good as the round trip: a report read back must write
 * the very same report.json, junit.xml and index.html, or the merged report of a sharded
 * sweep would differ from the unsharded one in ways no seed explains. Each test writes
 * reports with the real writers into a fresh mkdtemp directory, reads them back and merges
 * them in memory; ci/check-merge does the same end to end through the CLI.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bugs.h"
#include "report.h"
#include "report_merge.h"
#include "simtest.h"

static char *const RECORDS[] = {
    "0 0 world seed=2 sqlite=abc",        "1000 0 start broker OK",
    "2000 4 send 4->1 len=100 h=1 copies=1", "3000 1 deliver 4->1 len=100",
    "7000 1 crash",
};
enum { N_RECORDS = sizeof RECORDS / sizeof RECORDS[0], SEEDS = 4 };

struct fx {
    char dir[64];
    struct sg_report_seed seeds[SEEDS];
    struct sg_report_timeline timeline;
    struct sg_report report;
    char *paths[8];
    size_t n_paths;
};

static void fill_seed(struct sg_report_seed *s, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->seed = seed;
    s->hash = 0x1000u + seed;
    s->ok = seed % 2 == 1; /* even seeds fail I6 */
    for (int i = SG_I1; i < SG_INV_COUNT; i++) s->checked[i] = 7u * seed + (uint64_t)i;
    if (!s->ok) {
        s->failed[SG_I6] = seed;
        snprintf(s->first_violation, sizeof s->first_violation, "I6 seed %llu <twice> \xc3\xa9",
                 (unsigned long long)seed);
        static char replay[] = "sagasim run --scenario default --seed N --bug no-inbox-dedup";
        s->replay = replay;
    }
    s->coverage[0] = seed;
    s->faults.crashes = seed;
    s->faults.events = 1000 * seed;
    s->withdrawals = 10;
    s->by_status[3] = 10;
    s->wall_seconds = 0.125 * (double)seed;
}

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/sg-merge-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    for (size_t k = 0; k < SEEDS; k++) fill_seed(&fx->seeds[k], k + 1);
    fx->timeline =
        (struct sg_report_timeline){2, "default, seed 2", RECORDS, N_RECORDS, 3, NULL, NULL};
    fx->report = (struct sg_report){.scenario = "default",
                                    .command = "sagasim sweep --seeds 1..4",
                                    .build_id = "sagasim 0.1.0 (test) gcc",
                                    .sqlite_source_id = "sqlite-id",
                                    .seeds = fx->seeds,
                                    .n_seeds = SEEDS,
                                    .timeline = &fx->timeline,
                                    .wall_seconds = 1.5,
                                    .jobs = 2,
                                    .scenario_digest = 0xfeedu,
                                    .bugs = 1u << SG_BUG_SAGA_LAG,
                                    .withdrawals = 10,
                                    .has_seed_range = true,
                                    .seed_from = 1,
                                    .seed_to = SEEDS};
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    static const char *const names[3] = {"report.json", "junit.xml", "index.html"};
    for (size_t p = 0; p < fx->n_paths; p++) {
        for (size_t k = 0; k < 3; k++) {
            char path[256];
            snprintf(path, sizeof path, "%s/%s", fx->paths[p], names[k]);
            unlink(path);
        }
        rmdir(fx->paths[p]);
        free(fx->paths[p]);
    }
    rmdir(fx->dir);
    free(fx);
    return 0;
}

/* Writes r into the fixture's sub-directory name; returns its report.json (fixture-owned). */
static const char *write_report(struct fx *fx, const struct sg_report *r, const char *name)
{
    char dir[128], err[256] = "";
    snprintf(dir, sizeof dir, "%s/%s", fx->dir, name);
    assert_true(sg_report_write_all(r, dir, err, sizeof err));
    assert_true(fx->n_paths < 8);
    fx->paths[fx->n_paths++] = strdup(dir);
    static char json[8][160];
    snprintf(json[fx->n_paths - 1], sizeof json[0], "%s/report.json", dir);
    return json[fx->n_paths - 1];
}

static char *read_text(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = st_read_file(path);
    assert_non_null(text);
    return text;
}

static void read_ok(const char *path, struct sg_report_doc *doc)
{
    char *err = NULL;
    bool ok = sg_report_read(path, doc, &err);
    if (!ok) fail_msg("%s", err);
    assert_null(err);
}

static void report_merge__read__writes_back_the_same_three_files(void **state)
{
    struct fx *fx = *state;
    fx->seeds[2].wall_seconds = 0.1; /* a time without an exact binary form */
    snprintf(fx->seeds[1].crash_at, sizeof fx->seeds[1].crash_at, "orchestrator:orch.after_commit:1");
    struct sg_report_doc doc;
    read_ok(write_report(fx, &fx->report, "a"), &doc);
    assert_int_equal(doc.r.n_seeds, SEEDS);
    assert_string_equal(doc.seeds[1].crash_at, "orchestrator:orch.after_commit:1");
    assert_non_null(doc.r.timeline);
    write_report(fx, &doc.r, "b");
    static const char *const names[3] = {"report.json", "junit.xml", "index.html"};
    for (size_t k = 0; k < 3; k++) {
        char *a = read_text(fx->paths[0], names[k]), *b = read_text(fx->paths[1], names[k]);
        assert_string_equal(a, b);
        free(a);
        free(b);
    }
    sg_report_doc_deinit(&doc);
    sg_report_doc_deinit(&doc); /* safe twice */
}

/* Shard i of 2 of the fixture's seeds (1,3 | 2,4), drawn like a sweep: its first failing
 * seed's timeline. */
static const char *write_shard(struct fx *fx, uint32_t i, struct sg_report_seed *buf,
                               struct sg_report_timeline *tl)
{
    struct sg_report r = fx->report;
    size_t n = 0;
    for (size_t k = i - 1; k < SEEDS; k += 2) buf[n++] = fx->seeds[k];
    r.seeds = buf;
    r.n_seeds = n;
    r.shard_i = i;
    r.shard_n = 2;
    *tl = fx->timeline;
    tl->seed = i == 2 ? 2 : 9; /* shard 1 has no failing seed: it drew --timeline 9 */
    r.timeline = tl;
    char name[16];
    snprintf(name, sizeof name, "shard-%u", i);
    return write_report(fx, &r, name);
}

static void merge_shards(struct fx *fx, struct sg_report_doc docs[2], bool reversed)
{
    struct sg_report_seed buf[2][SEEDS];
    struct sg_report_timeline tl[2];
    const char *p1 = write_shard(fx, 1, buf[0], &tl[0]), *p2 = write_shard(fx, 2, buf[1], &tl[1]);
    read_ok(reversed ? p2 : p1, &docs[0]);
    read_ok(reversed ? p1 : p2, &docs[1]);
}

static void report_merge__merge__of_every_shard_is_the_whole_sweep(void **state)
{
    struct fx *fx = *state;
    struct sg_report_doc docs[2];
    merge_shards(fx, docs, true);
    struct sg_report_merged m;
    char *err = NULL;
    assert_true(sg_report_merge(docs, 2, "sagasim report merge", false, &m, &err));
    assert_int_equal(m.r.n_seeds, SEEDS);
    for (size_t k = 0; k < SEEDS; k++) {
        const struct sg_report_seed *a = &fx->seeds[k], *b = &m.r.seeds[k];
        assert_int_equal(b->seed, a->seed);
        assert_int_equal(b->hash, a->hash);
        assert_int_equal(b->ok, a->ok);
        assert_memory_equal(b->checked, a->checked, sizeof a->checked);
        assert_memory_equal(b->failed, a->failed, sizeof a->failed);
        assert_memory_equal(&b->faults, &a->faults, sizeof a->faults);
        assert_string_equal(b->first_violation, a->first_violation);
        assert_true(b->wall_seconds == a->wall_seconds);
    }
    assert_non_null(m.r.timeline);
    assert_int_equal(m.r.timeline->seed, 2); /* the first failing seed's, from input 1 */
    assert_true(m.r.has_seed_range);
    assert_int_equal(m.r.shard_n, 0);
    assert_int_equal(m.r.jobs, 4);
    assert_true(m.r.wall_seconds == 3.0);
    assert_int_equal(m.r.n_inputs, 2);
    assert_int_equal(m.r.inputs[0].shard_i, 2);
    assert_int_equal(m.r.bugs, 1u << SG_BUG_SAGA_LAG);
    assert_false(sg_report_ok(&m.r));
    sg_report_merged_deinit(&m);
    sg_report_merged_deinit(&m);
    for (size_t k = 0; k < 2; k++) sg_report_doc_deinit(&docs[k]);
}

static void expect_refused(struct sg_report_doc *docs, size_t n, bool partial, const char *what)
{
    struct sg_report_merged m;
    char *err = NULL;
    assert_false(sg_report_merge(docs, n, "cmd", partial, &m, &err));
    assert_non_null(err);
    if (strstr(err, what) == NULL) fail_msg("'%s' does not say '%s'", err, what);
    free(err);
    assert_null(m.seeds);
}

static void report_merge__merge__refuses_other_settings(void **state)
{
    struct fx *fx = *state;
    struct sg_report_doc docs[2];
    merge_shards(fx, docs, false);
    docs[1].r.scenario_digest = 0xbeef;
    expect_refused(docs, 2, false, "different versions of the scenario");
    docs[1].r.scenario_digest = docs[0].r.scenario_digest;
    docs[1].r.bugs = 0;
    expect_refused(docs, 2, false, "different planted bugs (--bug): 'none' vs ");
    docs[1].r.bugs = docs[0].r.bugs;
    docs[1].r.build_id = "sagasim 0.2.0";
    expect_refused(docs, 2, false, "shard-2/report.json' with '");
    docs[1].r.build_id = docs[0].r.build_id;
    docs[1].r.withdrawals = 11;
    expect_refused(docs, 2, false, "different withdrawals per run (--withdrawals): '11' vs '10'");
    docs[1].r.withdrawals = docs[0].r.withdrawals;
    expect_refused(docs, 1, false, "shard 2/2 of seeds 1..4");
    struct sg_report_merged m;
    char *err = NULL;
    assert_true(sg_report_merge(docs, 1, "cmd", true, &m, &err));
    assert_false(m.r.has_seed_range); /* a partial merge does not claim the range */
    sg_report_merged_deinit(&m);
    for (size_t k = 0; k < 2; k++) sg_report_doc_deinit(&docs[k]);
}

static void report_merge__merge__keeps_a_run_found_twice_once_unless_hashes_differ(void **state)
{
    struct fx *fx = *state;
    struct sg_report_doc docs[3];
    const char *path = write_report(fx, &fx->report, "whole");
    for (size_t k = 0; k < 3; k++) read_ok(path, &docs[k]);
    docs[1].seeds[3].wall_seconds = 99; /* the first input's record is the one kept */
    struct sg_report_merged m;
    char *err = NULL;
    assert_true(sg_report_merge(docs, 2, "cmd", false, &m, &err));
    assert_int_equal(m.r.n_seeds, SEEDS);
    assert_true(m.r.seeds[3].wall_seconds == fx->seeds[3].wall_seconds);
    sg_report_merged_deinit(&m);
    docs[2].seeds[2].hash ^= 1;
    expect_refused(docs, 3, false, "seed 3 has hash 0000000000001003 in '");
    for (size_t k = 0; k < 3; k++) sg_report_doc_deinit(&docs[k]);
}

static void report_merge__merge__orders_crash_points_like_sweep(void **state)
{
    struct fx *fx = *state;
    static const char *const at[SEEDS] = {"broker:broker.after_append:1",
                                          "orchestrator:orch.after_commit:2",
                                          "orchestrator:orch.after_commit:1", ""};
    for (size_t k = 0; k < SEEDS; k++) {
        fx->seeds[k].seed = 5;
        snprintf(fx->seeds[k].crash_at, sizeof fx->seeds[k].crash_at, "%s", at[k]);
    }
    struct sg_report_doc doc;
    read_ok(write_report(fx, &fx->report, "points"), &doc);
    struct sg_report_merged m;
    char *err = NULL;
    assert_true(sg_report_merge(&doc, 1, "cmd", false, &m, &err));
    assert_int_equal(m.r.n_seeds, SEEDS);
    assert_string_equal(m.r.seeds[0].crash_at, "");
    assert_string_equal(m.r.seeds[1].crash_at, "orchestrator:orch.after_commit:1");
    assert_string_equal(m.r.seeds[2].crash_at, "orchestrator:orch.after_commit:2");
    assert_string_equal(m.r.seeds[3].crash_at, "broker:broker.after_append:1");
    sg_report_merged_deinit(&m);
    sg_report_doc_deinit(&doc);
}

/* Rewrites the report.json at path with the first `from` replaced by `to`. */
static void edit(const char *path, const char *from, const char *to)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char text[1 << 18];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *at = strstr(text, from);
    assert_non_null(at);
    f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(text, 1, (size_t)(at - text), f);
    fputs(to, f);
    fputs(at + strlen(from), f);
    fclose(f);
}

static void expect_unreadable(const char *path, const char *what)
{
    struct sg_report_doc doc;
    char *err = NULL;
    assert_false(sg_report_read(path, &doc, &err));
    assert_non_null(err);
    if (strstr(err, path) == NULL || strstr(err, what) == NULL)
        fail_msg("'%s' does not name the file and say '%s'", err, what);
    free(err);
}

static void report_merge__read__names_the_file_and_the_key_of_a_bad_value(void **state)
{
    struct fx *fx = *state;
    const char *path = write_report(fx, &fx->report, "bad");
    edit(path, "\"panicked\": false", "\"panicked\": 3");
    expect_unreadable(path, "seeds[0].panicked: missing or not true/false");
    edit(path, "\"panicked\": 3", "\"panicked\": false");
    edit(path, "\"checked\": 12,", "\"checked\": -4,"); /* seed 1's I5: 7 * 1 + 5 */
    expect_unreadable(path, "seeds[0].invariants.I5.checked: not a count");
    edit(path, "\"checked\": -4,", "\"checked\": 12,");
    edit(path, "\"saga-lag\"", "\"no-such-bug\"");
    expect_unreadable(path, "config.bugs: names a planted bug this build does not have");
    edit(path, "\"no-such-bug\"", "\"saga-lag\"");
    edit(path, "\"verdict\": \"ok\"", "\"verdict\": \"fine\"");
    expect_unreadable(path, "seeds[0].verdict: neither");
    edit(path, "{", "[");
    expect_unreadable(path, "not valid JSON");
    char missing[160];
    snprintf(missing, sizeof missing, "%s/none/report.json", fx->dir);
    expect_unreadable(missing, "cannot open");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(report_merge__read__writes_back_the_same_three_files),
        T(report_merge__merge__of_every_shard_is_the_whole_sweep),
        T(report_merge__merge__refuses_other_settings),
        T(report_merge__merge__keeps_a_run_found_twice_once_unless_hashes_differ),
        T(report_merge__merge__orders_crash_points_like_sweep),
        T(report_merge__read__names_the_file_and_the_key_of_a_bad_value),
    };
    return cmocka_run_group_tests_name("report_merge", tests, NULL, NULL);
}
