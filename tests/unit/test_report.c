/*
 * test_report.c: unit tests for reports/ (DESIGN §6): report.json, junit.xml, index.html.
 *
 * Why: the reports are what CI and people read after a sweep; a report that parses wrong
 * hides a violation, and one that changes between identical runs breaks the comparison of
 * two CI runs. Each test builds a struct sg_report by hand (two seeds, seed 2 failing I5
 * with a replay command, one rare path never reached, a 24-record timeline with message
 * pairs, a duplicate, a loss, a drop, a crash, a partition and a highlight), writes it into
 * a fresh mkdtemp directory and reads the files back: JSON with jansson, XML with a small
 * strict checker below (and xmllint when /usr/bin/xmllint exists), HTML by content.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"
#include "simtest.h"

static const char *const TRACE[] = {
    "0 0 world seed=2 sqlite=abc",
    "0 0 faults on",
    "1000 0 start broker OK",
    "1000 1 start orchestrator OK",
    "2000 4 send 4->1 len=100 h=0000000000000001 copies=1",
    "2500 1 timer 0100000000000000",
    "3000 1 deliver 4->1 len=100",
    "3100 1 send 1->0 len=50 h=0000000000000002 copies=2",
    "3500 0 deliver 1->0 len=50",
    "3600 0 deliver 1->0 len=50",
    "4000 1 send 1->4 len=20 h=0000000000000003 copies=0",
    "5000 0 partition isolate 2",
    "5100 0 send 0->2 len=60 h=0000000000000004 copies=1",
    "5200 2 deliver 0->2 len=60 dropped",
    "6000 2 fsync failure armed",
    "7000 1 fault_point orch.after_reserve crash",
    "7000 1 crash",
    "8000 0 partition healed",
    "9000 3 clock shift 1500000000",
    "200000000 1 control restart",
    "200000000 1 start orchestrator OK",
    "200000100 1 transition wid=w-1 REQUESTED->IN_PROGRESS <&\">",
    "200000200 1 reply to=4 code=OK",
    "300000000 0 heal",
};
enum { TRACE_N = sizeof TRACE / sizeof TRACE[0], HIGHLIGHT = 21, SEND_DELIVER_PAIRS = 4 };

#define REPLAY "sagasim run --scenario default --seed 2 --withdrawals 20 --bug lost-outbox"
#define VIOLATION "I5 outbox row evt-7 <&\"> missing from the broker log"

struct fx {
    char dir[64];
    char texts[TRACE_N][96];
    char *records[TRACE_N];
    struct sg_report_seed seeds[2];
    struct sg_report_timeline timeline;
    struct sg_report report;
};

static void fill_seed(struct sg_report_seed *s, uint64_t seed, uint64_t hash)
{
    memset(s, 0, sizeof *s);
    s->seed = seed;
    s->hash = hash;
    s->ok = true;
    for (int i = SG_I1; i < SG_INV_COUNT; i++) s->checked[i] = 10u + (uint64_t)i;
    for (int c = 0; c < SG_COV_COUNT - 1; c++) s->coverage[c] = 1; /* the last is never hit */
    s->faults.events = 1000;
    s->faults.dropped = 3;
    s->faults.fsync_faults = 2;
    s->withdrawals = 20;
    s->by_status[3] = 15;
    s->by_status[4] = 5;
    s->wall_seconds = 0.25;
}

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/sg-report-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    for (size_t k = 0; k < TRACE_N; k++) {
        snprintf(fx->texts[k], sizeof fx->texts[k], "%s", TRACE[k]);
        fx->records[k] = fx->texts[k];
    }
    fill_seed(&fx->seeds[0], 1, 0x0123456789abcdefu);
    fill_seed(&fx->seeds[1], 2, 0xdeadbeefu);
    fx->seeds[1].ok = false;
    fx->seeds[1].failed[SG_I5] = 2;
    snprintf(fx->seeds[1].first_violation, sizeof fx->seeds[1].first_violation, VIOLATION);
    static char replay[] = REPLAY;
    fx->seeds[1].replay = replay;
    fx->timeline = (struct sg_report_timeline){2, "default, seed 2: the violation", fx->records,
                                               TRACE_N, HIGHLIGHT, NULL, NULL};
    fx->report = (struct sg_report){.scenario = "default",
                                    .command = "sagasim sweep --seeds 1..2",
                                    .build_id = "sagasim 0.1.0 test",
                                    .sqlite_source_id = "2022-12-28 sqlite-id",
                                    .seeds = fx->seeds, .n_seeds = 2,
                                    .timeline = &fx->timeline, .wall_seconds = 1.5, .jobs = 2};
    *state = fx;
    return 0;
}

static void remove_dir(const char *dir)
{
    static const char *const names[3] = {"report.json", "junit.xml", "index.html"};
    char path[256];
    for (size_t k = 0; k < 3; k++) {
        int n = snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        if (n > 0 && (size_t)n < sizeof path) unlink(path);
    }
    rmdir(dir);
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    remove_dir(fx->dir);
    free(fx);
    return 0;
}

/* The whole file as a string (caller frees). */
static char *read_text(const char *path)
{
    char *text = st_read_file(path);
    assert_non_null(text);
    return text;
}

/* Writes the fixture's report and returns the text of one of its files (caller frees). */
static char *write_and_read(struct fx *fx, const char *name)
{
    char err[256] = "", path[160];
    assert_true(sg_report_write_all(&fx->report, fx->dir, err, sizeof err));
    assert_string_equal(err, "");
    snprintf(path, sizeof path, "%s/%s", fx->dir, name);
    return read_text(path);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* ---- a small strict XML checker ---- */

struct xml_stats {
    size_t testcases, depth_max;
    long tests, failures;        /* from the <testsuite> element */
};

/* An entity reference at p ("&amp;", "&#10;", ...); returns its length, 0 if invalid. */
static size_t entity_len(const char *p)
{
    static const char *const named[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (size_t k = 0; k < 5; k++)
        if (strncmp(p, named[k], strlen(named[k])) == 0) return strlen(named[k]);
    if (strncmp(p, "&#", 2) != 0) return 0;
    size_t n = 2;
    while (p[n] >= '0' && p[n] <= '9') n++;
    return n > 2 && p[n] == ';' ? n + 1 : 0;
}

/* Character data up to the next '<': no raw '>' (we escape it), entities valid, no
 * control characters other than tab, newline, CR. */
static const char *check_text(const char *p, char stop)
{
    while (*p && *p != stop && *p != '<') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') fail_msg("control byte 0x%02x", c);
        if (*p == '>' && stop == '<') fail_msg("raw '>' in text near: %.40s", p);
        if (*p == '&') {
            size_t n = entity_len(p);
            if (n == 0) fail_msg("bad entity near: %.40s", p);
            p += n;
            continue;
        }
        p++;
    }
    return p;
}

static long attr_long(const char *tag, const char *name)
{
    char key[32];
    snprintf(key, sizeof key, " %s=\"", name);
    const char *p = strstr(tag, key);
    return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* One tag at p ('<' ...); pushes/pops the element stack. Returns the end of the tag. */
static const char *check_tag(const char *p, char stack[][32], size_t *depth,
                             struct xml_stats *st)
{
    bool closing = p[1] == '/';
    const char *name = p + 1 + closing, *q = name;
    while (*q && strchr(" />\n", *q) == NULL) q++;
    size_t n = (size_t)(q - name);
    if (n == 0 || n >= 32) fail_msg("bad tag name near: %.40s", p);
    while (*q && *q != '>' && *q != '/') { /* attributes: name="value" */
        while (*q == ' ' || *q == '\n') q++;
        if (*q == '>' || *q == '/') break;
        const char *eq = strchr(q, '=');
        if (eq == NULL || eq[1] != '"') fail_msg("bad attribute near: %.40s", q);
        q = check_text(eq + 2, '"');
        if (*q != '"') fail_msg("unterminated attribute near: %.40s", eq);
        q++;
    }
    bool empty = *q == '/';
    if (empty) q++;
    if (*q != '>') fail_msg("unterminated tag near: %.40s", p);
    if (!closing && strncmp(name, "testcase", n) == 0 && n == 8) st->testcases++;
    if (!closing && strncmp(name, "testsuite", n) == 0 && n == 9) {
        st->tests = attr_long(p, "tests");
        st->failures = attr_long(p, "failures");
    }
    if (closing) {
        if (*depth == 0 || strncmp(stack[*depth - 1], name, n) != 0 || stack[*depth - 1][n])
            fail_msg("unbalanced </%.*s>", (int)n, name);
        (*depth)--;
    } else if (!empty) {
        if (*depth >= 16) fail_msg("nesting too deep");
        snprintf(stack[(*depth)++], 32, "%.*s", (int)n, name);
        if (*depth > st->depth_max) st->depth_max = *depth;
    }
    return q + 1;
}

static struct xml_stats check_xml(const char *doc)
{
    struct xml_stats st = {0, 0, -1, -1};
    char stack[16][32];
    size_t depth = 0, roots = 0;
    const char *p = doc;
    const char *decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    assert_true(strncmp(p, decl, strlen(decl)) == 0);
    p += strlen(decl);
    while (*p) {
        p = check_text(p, '<');
        if (*p == '\0') break;
        if (depth == 0) roots++;
        p = check_tag(p, stack, &depth, &st);
    }
    assert_int_equal(depth, 0);
    assert_int_equal(roots, 1);
    return st;
}

/* ---- report.json ---- */

static json_t *load_json(struct fx *fx)
{
    char path[160];
    json_error_t e;
    free(write_and_read(fx, "report.json"));
    snprintf(path, sizeof path, "%s/report.json", fx->dir);
    json_t *root = json_load_file(path, 0, &e);
    if (root == NULL) fail_msg("report.json line %d: %s", e.line, e.text);
    return root;
}

static void report__json__parses_with_expected_counts(void **state)
{
    json_t *root = load_json(*state);
    json_t *i5 = json_object_get(json_object_get(root, "invariants"), "I5");
    assert_string_equal(json_string_value(json_object_get(root, "verdict")), "violation");
    assert_string_equal(json_string_value(json_object_get(root, "scenario")), "default");
    assert_int_equal(json_integer_value(json_object_get(root, "seed_count")), 2);
    assert_int_equal(json_integer_value(json_object_get(root, "failing_seed_count")), 1);
    assert_int_equal(json_integer_value(json_object_get(root, "jobs")), 2);
    assert_int_equal(json_integer_value(json_object_get(i5, "failed")), 2);
    assert_int_equal(json_integer_value(json_object_get(i5, "seeds_failing")), 1);
    assert_int_equal(json_integer_value(json_object_get(i5, "checked")), 30);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(i5, "failing_seeds"), 0)),
                     2);
    assert_true(json_real_value(json_object_get(root, "wall_seconds")) == 1.5);
    json_decref(root);
}

static void report__json_seeds__have_hash_violation_and_replay(void **state)
{
    json_t *root = load_json(*state);
    json_t *seeds = json_object_get(root, "seeds");
    assert_int_equal(json_array_size(seeds), 2);
    json_t *ok = json_array_get(seeds, 0), *bad = json_array_get(seeds, 1);
    assert_string_equal(json_string_value(json_object_get(ok, "hash")), "0123456789abcdef");
    assert_string_equal(json_string_value(json_object_get(bad, "hash")), "00000000deadbeef");
    assert_string_equal(json_string_value(json_object_get(ok, "verdict")), "ok");
    assert_true(json_is_null(json_object_get(ok, "first_violation")));
    assert_string_equal(json_string_value(json_object_get(bad, "first_violation")), VIOLATION);
    assert_string_equal(json_string_value(json_object_get(bad, "replay")), REPLAY);
    json_t *inv = json_object_get(json_object_get(bad, "invariants"), "I5");
    assert_int_equal(json_integer_value(json_object_get(inv, "failed")), 2);
    json_t *by = json_object_get(json_object_get(bad, "withdrawals"), "by_status");
    assert_int_equal(json_integer_value(json_object_get(by, "COMPLETED")), 15);
    json_t *faults = json_object_get(bad, "faults");
    assert_int_equal(json_object_size(faults), 14);
    assert_int_equal(json_integer_value(json_object_get(faults, "fsync_faults")), 2);
    assert_int_equal(json_integer_value(json_object_get(faults, "dropped")), 3);
    json_decref(root);
}

static void report__json_coverage__lists_the_unreached_path(void **state)
{
    json_t *root = load_json(*state);
    json_t *cov = json_object_get(root, "coverage");
    json_t *unreached = json_object_get(cov, "unreached");
    assert_int_equal(json_array_size(unreached), 1);
    assert_string_equal(json_string_value(json_array_get(unreached, 0)),
                        sg_coverage_name(SG_COV_COUNT - 1));
    json_t *totals = json_object_get(cov, "totals");
    assert_int_equal(json_object_size(totals), SG_COV_COUNT);
    assert_int_equal(json_integer_value(json_object_get(totals, "duplicate-skipped")), 2);
    assert_false(json_boolean_value(json_object_get(cov, "required")));
    json_decref(root);
}

static void report__json__keeps_invalid_utf8_parseable(void **state)
{
    struct fx *fx = *state;
    snprintf(fx->seeds[1].first_violation, sizeof fx->seeds[1].first_violation,
             "I5 bad \xff\xfe bytes");
    json_t *root = load_json(fx);
    json_t *bad = json_array_get(json_object_get(root, "seeds"), 1);
    assert_string_equal(json_string_value(json_object_get(bad, "first_violation")),
                        "I5 bad \\xff\\xfe bytes");
    json_decref(root);
}

/* ---- junit.xml ---- */

static void report__junit__is_well_formed_with_one_case_per_invariant(void **state)
{
    char *xml = write_and_read(*state, "junit.xml");
    struct xml_stats st = check_xml(xml);
    assert_int_equal(st.testcases, SG_INV_COUNT - 1);
    assert_int_equal(st.tests, SG_INV_COUNT - 1);
    assert_int_equal(st.failures, 1);
    assert_int_equal(count(xml, "<failure "), 1);
    assert_non_null(strstr(xml, "<testsuite name=\"sagasim.default\""));
    assert_non_null(strstr(xml, "classname=\"sagasim.default\" name=\"I5 outbox-delivered\">"));
    assert_non_null(strstr(xml, REPLAY));
    assert_non_null(strstr(xml, "seed 2"));
    free(xml);
}

static void report__junit_text__is_escaped(void **state)
{
    char *xml = write_and_read(*state, "junit.xml");
    assert_null(strstr(xml, "<&\">"));
    assert_non_null(strstr(xml, "evt-7 &lt;&amp;&quot;&gt; missing"));
    free(xml);
}

static void report__junit_coverage__adds_a_failing_case_when_required(void **state)
{
    struct fx *fx = *state;
    fx->report.require_coverage = true;
    char *xml = write_and_read(fx, "junit.xml");
    struct xml_stats st = check_xml(xml);
    assert_int_equal(st.testcases, SG_INV_COUNT);
    assert_int_equal(st.tests, SG_INV_COUNT);
    assert_int_equal(st.failures, 2);
    assert_non_null(strstr(xml, "name=\"coverage\""));
    assert_non_null(strstr(xml, sg_coverage_name(SG_COV_COUNT - 1)));
    free(xml);
}

static void report__junit_assert__adds_a_case_when_a_seed_panicked(void **state)
{
    struct fx *fx = *state;
    fx->seeds[0].ok = false;
    fx->seeds[0].panicked = true;
    snprintf(fx->seeds[0].first_violation, sizeof fx->seeds[0].first_violation,
             "ASSERT orch.c:12: n < cap");
    char *xml = write_and_read(fx, "junit.xml");
    struct xml_stats st = check_xml(xml);
    assert_int_equal(st.testcases, SG_INV_COUNT);
    assert_int_equal(st.failures, 2);
    assert_non_null(strstr(xml, "name=\"ASSERT\""));
    assert_non_null(strstr(xml, "orch.c:12: n &lt; cap"));
    free(xml);
}

static void report__junit__passes_xmllint__when_installed(void **state)
{
    struct fx *fx = *state;
    if (access("/usr/bin/xmllint", X_OK) != 0) skip();
    fx->report.require_coverage = true;
    free(write_and_read(fx, "junit.xml"));
    char cmd[256];
    snprintf(cmd, sizeof cmd, "/usr/bin/xmllint --noout '%s/junit.xml'", fx->dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- index.html ---- */

static void report__html__shows_summary_and_replay_commands(void **state)
{
    char *html = write_and_read(*state, "index.html");
    assert_non_null(strstr(html, "<!DOCTYPE html>"));
    assert_non_null(strstr(html, "VIOLATION"));
    assert_non_null(strstr(html, "sagasim 0.1.0 test"));
    assert_non_null(strstr(html, "<code>" REPLAY "</code>"));
    assert_non_null(strstr(html, "evt-7 &lt;&amp;&quot;&gt; missing"));
    assert_non_null(strstr(html, "outbox-delivered"));
    assert_non_null(strstr(html, "not reached"));
    assert_non_null(strstr(html, "fsync_faults"));
    assert_true(strstr(html, "</html>") != NULL);
    free(html);
}

static void report__html_timeline__draws_arrows_marks_and_highlight(void **state)
{
    char *html = write_and_read(*state, "index.html");
    const char *svg = strstr(html, "<svg id=\"timeline\"");
    assert_non_null(svg);
    /* 4 send/deliver pairs (one a duplicate: 2 arrows, one dropped), 1 lost send */
    assert_true(count(svg, "class=\"msg ") >= SEND_DELIVER_PAIRS + 1);
    assert_int_equal(count(svg, "class=\"msg lost\""), 2);
    assert_non_null(strstr(svg, "id=\"tl-highlight\""));
    assert_non_null(strstr(svg, "HIGHLIGHT [orch] transition wid=w-1"));
    assert_non_null(strstr(svg, "IN_PROGRESS &lt;&amp;&quot;&gt;"));
    assert_non_null(strstr(svg, "class=\"band\""));           /* the partition */
    assert_non_null(strstr(svg, "identity isolated"));
    assert_non_null(strstr(svg, ">crash</text>"));
    assert_non_null(strstr(svg, "orch.after_reserve"));
    assert_non_null(strstr(svg, "fsync fails"));
    assert_non_null(strstr(svg, "clock +1.500000 s"));
    assert_null(strstr(svg, "timer 0100000000000000"));        /* timers are not drawn */
    assert_non_null(strstr(svg, ">orchestrator</text>"));
    assert_non_null(strstr(svg, ">client 4</text>"));
    free(html);
}

/* The money timeline under the picture lists the violating withdrawal's records that moved
 * it or its money, and nothing of other withdrawals. */
static void report__html_money_timeline__lists_the_withdrawals_money_records(void **state)
{
    struct fx *fx = *state;
    static char *recs[] = {
        (char *)"1000000 1 created wid=w-1",
        (char *)"2000000 1 send 1->0 len=5 h=00 copies=1",
        (char *)"3000000 4 ledger PLACE wid=w-1 amount=70",
        (char *)"3500000 4 ledger PLACE wid=w-2 amount=9",
        (char *)"4000000 1 transition wid=w-1 IN_PROGRESS->CANCELED",
    };
    fx->timeline = (struct sg_report_timeline){2, "money", recs, 5, 4, NULL, "w-1"};
    char *html = write_and_read(fx, "index.html");
    const char *table = strstr(html, "Money timeline of withdrawal <code>w-1</code>");
    assert_non_null(table); /* the picture above may show every record; the table may not */
    assert_non_null(strstr(table, "<td>ledger</td><td><code>ledger PLACE wid=w-1 amount=70"));
    assert_non_null(strstr(table, "IN_PROGRESS-&gt;CANCELED"));
    assert_null(strstr(table, "wid=w-2"));
    assert_null(strstr(table, "send 1-&gt;0"));
    assert_int_equal(count(table, "<tr><td class=\"n\">"), 3);
    free(html);
}

static void report__html__has_no_external_references(void **state)
{
    char *html = write_and_read(*state, "index.html");
    assert_null(strstr(html, "<script src"));
    assert_null(strstr(html, "http"));
    assert_null(strstr(html, "<link"));
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "@import"));
    free(html);
}

static void report__timeline__caps_huge_traces_to_a_window(void **state)
{
    struct fx *fx = *state;
    enum { N = 3000 };
    char(*texts)[80] = calloc(N, sizeof *texts);
    char **recs = calloc(N, sizeof *recs);
    assert_non_null(texts);
    assert_non_null(recs);
    for (size_t k = 0; k < N; k++) {
        if (k % 2 == 0) snprintf(texts[k], 80, "%zu 4 send 4->1 len=%zu h=0 copies=1", k, k);
        else snprintf(texts[k], 80, "%zu 1 deliver 4->1 len=%zu", k, k - 1);
        recs[k] = texts[k];
    }
    fx->timeline = (struct sg_report_timeline){9, "big", recs, N, 2001, NULL, NULL};
    char *html = write_and_read(fx, "index.html");
    const char *svg = strstr(html, "<svg id=\"timeline\"");
    assert_non_null(svg);
    assert_int_equal(count(svg, "class=\"rt\""), 400);
    assert_non_null(strstr(html, "window around the highlighted record"));
    assert_non_null(strstr(svg, "HIGHLIGHT [orch] deliver 4-&gt;1 len=2000"));
    free(html);
    free(recs);
    free(texts);
}

static void report__timeline__survives_malformed_records(void **state)
{
    struct fx *fx = *state;
    char bad[][40] = {"", "garbage", "12 x y", "5 1 send 9->", "7 1 deliver 1->0 len=",
                      "8 300 crash", "9 1 partition isolate", "10 1 bad \xff\xfe byte",
                      "-5 1 stop", "99999999999999999999999 1 x"};
    char *recs[sizeof bad / sizeof bad[0]];
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) recs[k] = bad[k];
    fx->timeline =
        (struct sg_report_timeline){3, "<bad>", recs, sizeof bad / sizeof bad[0], 7, NULL,
                                    NULL};
    char *html = write_and_read(fx, "index.html");
    assert_non_null(strstr(html, "bad \\xff\\xfe byte"));
    assert_non_null(strstr(html, "&lt;bad&gt;"));
    assert_null(strstr(html, "<bad>"));
    free(html);
}

/* ---- files ---- */

static void report__output__is_byte_identical_for_identical_input(void **state)
{
    struct fx *fx = *state;
    static const char *const names[3] = {"report.json", "junit.xml", "index.html"};
    char *first[3];
    for (size_t k = 0; k < 3; k++) first[k] = write_and_read(fx, names[k]);
    char other[64];
    snprintf(other, sizeof other, "/tmp/sg-report-XXXXXX");
    assert_non_null(mkdtemp(other));
    char err[256];
    assert_true(sg_report_write_all(&fx->report, other, err, sizeof err));
    for (size_t k = 0; k < 3; k++) {
        char path[160];
        snprintf(path, sizeof path, "%s/%s", other, names[k]);
        char *second = read_text(path);
        assert_string_equal(first[k], second);
        free(second);
        free(first[k]);
    }
    remove_dir(other);
}

static void report__write_all__fails_with_a_message__when_the_directory_is_unusable(void **state)
{
    struct fx *fx = *state;
    char file[96], dir[128], err[256] = "";
    snprintf(file, sizeof file, "%s/report.json", fx->dir); /* a regular file */
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(dir, sizeof dir, "%s/sub", file);
    assert_false(sg_report_write_all(&fx->report, dir, err, sizeof err));
    assert_non_null(strstr(err, file));
    assert_false(sg_report_write_json(&fx->report, "/nonexistent-dir/x/report.json", err,
                                      sizeof err));
    assert_non_null(strstr(err, "/nonexistent-dir/x/report.json"));
    assert_false(sg_report_write_all(&fx->report, "", err, sizeof err));
    assert_true(err[0] != '\0');
}

static void report__write_all__creates_missing_directories(void **state)
{
    struct fx *fx = *state;
    char dir[128], inner[128], path[160], err[256];
    snprintf(inner, sizeof inner, "%s/a", fx->dir);
    snprintf(dir, sizeof dir, "%s/a/b/", fx->dir);
    assert_true(sg_report_write_all(&fx->report, dir, err, sizeof err));
    snprintf(path, sizeof path, "%s/a/b/index.html", fx->dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size > 0);
    snprintf(path, sizeof path, "%s/a/b", fx->dir);
    remove_dir(path);
    rmdir(inner);
}

static void report__writers__accept_a_report_without_seeds_or_timeline(void **state)
{
    struct fx *fx = *state;
    fx->report.n_seeds = 0;
    fx->report.seeds = NULL;
    fx->report.timeline = NULL;
    char *html = write_and_read(fx, "index.html");
    assert_null(strstr(html, "<svg id=\"timeline\""));
    assert_non_null(strstr(html, ">OK<"));
    free(html);
    char *xml = write_and_read(fx, "junit.xml");
    struct xml_stats st = check_xml(xml);
    assert_int_equal(st.testcases, SG_INV_COUNT - 1);
    assert_int_equal(st.failures, 0);
    free(xml);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(report__json__parses_with_expected_counts),
        T(report__json_seeds__have_hash_violation_and_replay),
        T(report__json_coverage__lists_the_unreached_path),
        T(report__json__keeps_invalid_utf8_parseable),
        T(report__junit__is_well_formed_with_one_case_per_invariant),
        T(report__junit_text__is_escaped),
        T(report__junit_coverage__adds_a_failing_case_when_required),
        T(report__junit_assert__adds_a_case_when_a_seed_panicked),
        T(report__junit__passes_xmllint__when_installed),
        T(report__html__shows_summary_and_replay_commands),
        T(report__html_timeline__draws_arrows_marks_and_highlight),
        T(report__html_money_timeline__lists_the_withdrawals_money_records),
    T(report__html__has_no_external_references),
        T(report__timeline__caps_huge_traces_to_a_window),
        T(report__timeline__survives_malformed_records),
        T(report__output__is_byte_identical_for_identical_input),
        T(report__write_all__fails_with_a_message__when_the_directory_is_unusable),
        T(report__write_all__creates_missing_directories),
        T(report__writers__accept_a_report_without_seeds_or_timeline),
    };
    return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
