/*
 * report_junit.c: junit.xml for CI (DESIGN §6): one <testsuite name="sagasim.<scenario>">
 * inside <testsuites>, one <testcase> per invariant ("I5 outbox-delivered"), plus
 *   - "coverage" when require_coverage is set (fails when a rare path was never reached),
 *   - "ASSERT" when any seed panicked,
 *   - "CHECK" when a seed failed without a panic and without any failed invariant (the
 *     checker could not read a database), so such a seed is never invisible to CI.
 * A failing testcase holds one <failure>: its message lists the first few failing seeds
 * with their first violation and replay command; its text lists up to RP_LIST_MAX.
 *
 * The XML is written by hand; every attribute value and text goes through rp_put_escaped,
 * and the output has no time stamps, so the same input gives the same bytes.
 */
#include "report.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "assert.h"
#include "report_int.h"

enum { MESSAGE_SEEDS_MAX = 3 };

typedef bool (*seed_pred)(const struct sg_report_seed *s, int arg);

static bool fails_invariant(const struct sg_report_seed *s, int inv)
{
    return s->failed[inv] > 0;
}

static bool panicked(const struct sg_report_seed *s, int unused)
{
    (void)unused;
    return s->panicked;
}

static bool unjudged(const struct sg_report_seed *s, int unused)
{
    (void)unused;
    return rp_seed_unjudged(s);
}

static const char *replay_or_none(const struct sg_report_seed *s)
{
    return s->replay && s->replay[0] ? s->replay : "(no replay command)";
}

/* "seed 7: I5 <evidence>; replay: sagasim run ..." (escaped as an attribute) */
static void put_seed_line(FILE *f, const struct sg_report_seed *s)
{
    char head[48];
    snprintf(head, sizeof head, "seed %" PRIu64 ": ", s->seed);
    rp_put_escaped(f, head, RP_ESC_ATTR);
    rp_put_escaped(f, s->first_violation[0] ? s->first_violation : "(no violation text)",
                   RP_ESC_ATTR);
    rp_put_escaped(f, "; replay: ", RP_ESC_ATTR);
    rp_put_escaped(f, replay_or_none(s), RP_ESC_ATTR);
}

static void put_failure(FILE *f, const struct sg_report *r, const char *type,
                        const char *headline, seed_pred pred, int arg)
{
    size_t n = 0;
    for (size_t k = 0; k < r->n_seeds; k++) n += pred(&r->seeds[k], arg);
    fputs("      <failure type=\"", f);
    rp_put_escaped(f, type, RP_ESC_ATTR);
    fputs("\" message=\"", f);
    rp_put_escaped(f, headline, RP_ESC_ATTR);
    size_t shown = 0;
    for (size_t k = 0; k < r->n_seeds && shown < MESSAGE_SEEDS_MAX; k++) {
        if (!pred(&r->seeds[k], arg)) continue;
        fputs(shown++ ? " | " : ": ", f);
        put_seed_line(f, &r->seeds[k]);
    }
    if (n > shown) fprintf(f, " | and %zu more", n - shown);
    fputs("\">", f);
    shown = 0;
    for (size_t k = 0; k < r->n_seeds && shown < RP_LIST_MAX; k++) {
        if (!pred(&r->seeds[k], arg)) continue;
        const struct sg_report_seed *s = &r->seeds[k];
        char head[64];
        snprintf(head, sizeof head, "seed %" PRIu64 " (hash %016" PRIx64 "): ", s->seed, s->hash);
        rp_put_escaped(f, head, RP_ESC_TEXT);
        rp_put_escaped(f, s->first_violation, RP_ESC_TEXT);
        rp_put_escaped(f, "\n  replay: ", RP_ESC_TEXT);
        rp_put_escaped(f, replay_or_none(s), RP_ESC_TEXT);
        rp_put_escaped(f, "\n", RP_ESC_TEXT);
        shown++;
    }
    if (n > shown) fprintf(f, "... and %zu more seeds (see report.json)\n", n - shown);
    fputs("</failure>\n", f);
}

static void put_case_open(FILE *f, const struct sg_report *r, const char *name)
{
    fputs("    <testcase classname=\"sagasim.", f);
    rp_put_escaped(f, r->scenario, RP_ESC_ATTR);
    fputs("\" name=\"", f);
    rp_put_escaped(f, name, RP_ESC_ATTR);
    fputs("\"", f);
}

static void put_invariant_case(FILE *f, const struct sg_report *r, const struct rp_totals *t,
                               int inv)
{
    char name[96], headline[160];
    snprintf(name, sizeof name, "%s %s", sg_inv_name((enum sg_inv)inv),
             sg_inv_title((enum sg_inv)inv));
    put_case_open(f, r, name);
    if (t->seeds_failing[inv] == 0) {
        fputs("/>\n", f);
        return;
    }
    fputs(">\n", f);
    snprintf(headline, sizeof headline, "%s failed in %zu of %zu seeds (%" PRIu64 " violations)",
             name, t->seeds_failing[inv], r->n_seeds, t->failed[inv]);
    put_failure(f, r, sg_inv_name((enum sg_inv)inv), headline, fails_invariant, inv);
    fputs("    </testcase>\n", f);
}

static void put_coverage_case(FILE *f, const struct sg_report *r, const struct rp_totals *t)
{
    put_case_open(f, r, "coverage");
    if (t->unreached == 0) {
        fputs("/>\n", f);
        return;
    }
    fprintf(f, ">\n      <failure type=\"COVERAGE\" message=\"%zu rare paths never reached:",
            t->unreached);
    for (int c = 0; c < SG_COV_COUNT; c++) {
        if (t->coverage_seeds[c]) continue;
        fputc(' ', f);
        rp_put_escaped(f, sg_coverage_name((enum sg_coverage)c), RP_ESC_ATTR);
    }
    fputs("\">", f);
    for (int c = 0; c < SG_COV_COUNT; c++) {
        if (t->coverage_seeds[c]) continue;
        rp_put_escaped(f, sg_coverage_name((enum sg_coverage)c), RP_ESC_TEXT);
        fputs(": reached by no seed\n", f);
    }
    fputs("</failure>\n    </testcase>\n", f);
}

static void put_extra_case(FILE *f, const struct sg_report *r, const char *name,
                           const char *what, seed_pred pred, size_t n)
{
    char headline[160];
    put_case_open(f, r, name);
    fputs(">\n", f);
    snprintf(headline, sizeof headline, "%s in %zu of %zu seeds", what, n, r->n_seeds);
    put_failure(f, r, name, headline, pred, 0);
    fputs("    </testcase>\n", f);
}

static void put_properties(FILE *f, const struct sg_report *r, const struct rp_totals *t)
{
    char num[32];
    const char *names[6] = {"build_id", "sqlite_source_id", "command", "seeds",
                            "failing_seeds", "jobs"};
    char seeds[24], failing[24];
    snprintf(seeds, sizeof seeds, "%zu", r->n_seeds);
    snprintf(failing, sizeof failing, "%zu", t->failing_seeds);
    snprintf(num, sizeof num, "%" PRIu32, r->jobs);
    const char *values[6] = {r->build_id, r->sqlite_source_id, r->command, seeds, failing, num};
    fputs("    <properties>\n", f);
    for (size_t k = 0; k < 6; k++) {
        fprintf(f, "      <property name=\"%s\" value=\"", names[k]);
        rp_put_escaped(f, values[k], RP_ESC_ATTR);
        fputs("\"/>\n", f);
    }
    fputs("    </properties>\n", f);
}

static void put_document(FILE *f, const struct sg_report *r, const struct rp_totals *t)
{
    size_t tests = (size_t)SG_INV_COUNT - 1, failures = 0;
    tests += (size_t)r->require_coverage + (t->panicked_seeds > 0) + (t->unjudged_seeds > 0);
    failures += (size_t)(r->require_coverage && t->unreached > 0) + (t->panicked_seeds > 0) +
                (t->unjudged_seeds > 0);
    for (int i = SG_I1; i < SG_INV_COUNT; i++) failures += t->seeds_failing[i] > 0;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f, "<testsuites name=\"sagasim\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"",
            tests, failures);
    rp_put_seconds(f, r->wall_seconds);
    fputs("\">\n  <testsuite name=\"sagasim.", f);
    rp_put_escaped(f, r->scenario, RP_ESC_ATTR);
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" time=\"", tests,
            failures);
    rp_put_seconds(f, r->wall_seconds);
    fputs("\">\n", f);
    put_properties(f, r, t);
    for (int i = SG_I1; i < SG_INV_COUNT; i++) put_invariant_case(f, r, t, i);
    if (r->require_coverage) put_coverage_case(f, r, t);
    if (t->panicked_seeds)
        put_extra_case(f, r, "ASSERT", "an assertion failed", panicked, t->panicked_seeds);
    if (t->unjudged_seeds)
        put_extra_case(f, r, "CHECK", "the checker could not judge the run", unjudged,
                       t->unjudged_seeds);
    fputs("  </testsuite>\n</testsuites>\n", f);
}

bool sg_report_write_junit(const struct sg_report *r, const char *path, char *err, size_t cap)
{
    SG_ASSERT_PURE(r != NULL);
    SG_ASSERT_PURE(path != NULL);
    struct rp_totals t;
    rp_totals_compute(r, &t);
    FILE *f = rp_open(path, err, cap);
    if (f == NULL) return false;
    put_document(f, r, &t);
    return rp_close(f, path, err, cap);
}
