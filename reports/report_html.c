/*
 * report_html.c: index.html, the report for people (DESIGN §6).
 *
 * One self-contained file: inline CSS, inline SVG (timeline.c), no external assets and no
 * network references; a few lines of inline script only add "copy" buttons next to the
 * replay commands (without script the commands are still plain selectable <code>).
 * Sections: summary with the verdict, the inputs of a merged report (report merge),
 * invariants table, failing seeds with their replay commands, per-seed table, fault
 * statistics, withdrawals by status, coverage of rare paths, and the timeline picture of
 * one run when the report has one (drawn here, or already drawn when read back).
 *
 * Every text from the report goes through rp_put_escaped; the file carries no time stamp
 * of its own, so the same input gives the same bytes.
 */
#include "report.h"

#include <inttypes.h>
#include <stdio.h>

#include "assert.h"
#include "bugs.h"
#include "report_int.h"
#include "status.h"

static const char STYLE[] =
    "<style>\n"
    ":root{--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--line:#d0d7de;--muted:#57606a}\n"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2328;"
    "margin:0;background:#f6f8fa}\n"
    "main{max-width:1440px;margin:0 auto;padding:20px 28px;background:#fff;"
    "min-height:100vh}\n"
    "h1{font-size:22px;margin:0 0 12px}h2{font-size:17px;margin:28px 0 8px;"
    "border-bottom:1px solid var(--line);padding-bottom:4px}\n"
    "table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid var(--line);"
    "padding:3px 9px;text-align:left;vertical-align:top}\n"
    "th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "table.kv th{width:150px}tr.bad td{background:#ffebe9}tr.miss td{background:#fff8c5}\n"
    ".verdict{display:inline-block;padding:3px 12px;border-radius:14px;color:#fff;"
    "font-weight:600;letter-spacing:.04em}\n"
    ".verdict.ok{background:var(--ok)}.verdict.bad{background:var(--bad)}\n"
    ".yes{color:var(--ok);font-weight:600}.no{color:var(--bad);font-weight:600}"
    ".warn{color:var(--warn);font-weight:600}\n"
    ".muted{color:var(--muted)}code{font:12.5px ui-monospace,Menlo,Consolas,monospace}\n"
    ".seed{border:1px solid var(--line);border-left:4px solid var(--bad);border-radius:4px;"
    "padding:6px 12px;margin:8px 0}\n"
    ".seed h3{margin:2px 0;font-size:14px}.viol{margin:4px 0;color:var(--bad)}\n"
    ".cmd{display:flex;gap:8px;align-items:flex-start}.cmd code{display:block;flex:1;"
    "background:#f6f8fa;border:1px solid var(--line);padding:5px 8px;white-space:pre-wrap;"
    "word-break:break-all}\n"
    "button.copy{font-size:12px;padding:3px 8px;cursor:pointer}\n"
    ".bar{display:inline-block;height:9px;background:#8fb8e6;vertical-align:middle}\n"
    ".cols{display:flex;gap:40px;flex-wrap:wrap;align-items:flex-start}\n"
    ".timeline{overflow-x:auto;border:1px solid var(--line);padding:4px}\n"
    ".legend span{display:inline-block;margin-right:14px}\n"
    "</style>\n";

static const char SCRIPT[] =
    "<script>\n"
    "document.querySelectorAll('button.copy').forEach(function(b){b.addEventListener("
    "'click',function(){var c=b.previousElementSibling;if(navigator.clipboard){"
    "navigator.clipboard.writeText(c.textContent);b.textContent='copied';}});});\n"
    "</script>\n";

static void esc(FILE *f, const char *s)
{
    rp_put_escaped(f, s, RP_ESC_TEXT);
}

static void kv_row(FILE *f, const char *key, const char *value, bool code)
{
    fprintf(f, "<tr><th>%s</th><td>%s", key, code ? "<code>" : "");
    esc(f, value);
    fprintf(f, "%s</td></tr>\n", code ? "</code>" : "");
}

/* The seeds asked for and what every run shared (what report merge compares). */
static void put_settings(FILE *f, const struct sg_report *r)
{
    if (r->has_seed_range)
        fprintf(f, "; seeds %" PRIu64 "..%" PRIu64, r->seed_from, r->seed_to);
    if (r->shard_n) fprintf(f, ", shard %" PRIu32 "/%" PRIu32, r->shard_i, r->shard_n);
    if (r->withdrawals) fprintf(f, "; %" PRIu32 " withdrawals each", r->withdrawals);
    for (int k = 0, n = 0; k < SG_BUG_COUNT; k++)
        if (sg_bug_on(r->bugs, (enum sg_bug)k))
            fprintf(f, "%s%s", n++ ? ", " : "; planted bugs: ", sg_bug_info((enum sg_bug)k)->name);
    if (r->swarm) fputs("; swarm", f);
}

static void put_summary(FILE *f, const struct sg_report *r, const struct rp_totals *t)
{
    fputs("<h1>sagasim report: ", f);
    esc(f, r->scenario);
    fprintf(f, " <span class=\"verdict %s\" id=\"verdict\">%s</span></h1>\n",
            t->ok ? "ok" : "bad", t->ok ? "OK" : "VIOLATION");
    fputs("<table class=\"kv\">\n", f);
    fputs("<tr><th>Scenario</th><td>", f);
    esc(f, r->scenario);
    if (r->scenario_digest)
        fprintf(f, " <span class=\"muted\">digest %016" PRIx64 "</span>", r->scenario_digest);
    fputs("</td></tr>\n", f);
    fprintf(f, "<tr><th>Seeds</th><td>%zu run, <span class=\"%s\">%zu failing</span>", r->n_seeds,
            t->failing_seeds ? "no" : "yes", t->failing_seeds);
    if (t->panicked_seeds) fprintf(f, ", %zu with a failed assertion", t->panicked_seeds);
    put_settings(f, r);
    fputs("</td></tr>\n", f);
    if (r->require_coverage)
        fprintf(f, "<tr><th>Coverage</th><td class=\"%s\">required: %zu rare paths unreached"
                   "</td></tr>\n", t->unreached ? "no" : "yes", t->unreached);
    kv_row(f, "Build", r->build_id, false);
    kv_row(f, "SQLite", r->sqlite_source_id, false);
    kv_row(f, "Command", r->command, true);
    fprintf(f, "<tr><th>Jobs</th><td>%" PRIu32 "</td></tr>\n<tr><th>Wall time</th><td>",
            r->jobs);
    rp_put_seconds(f, r->wall_seconds);
    if (r->n_inputs) fprintf(f, " s, summed over %zu merged reports", r->n_inputs);
    else fputs(" s", f);
    fputs("</td></tr>\n</table>\n", f);
}

/* A merged report's inputs: which report, which shard, how many seeds, its command. */
static void put_inputs(FILE *f, const struct sg_report *r)
{
    if (r->n_inputs == 0) return;
    fputs("<h2>Merged from</h2>\n<table id=\"inputs\">\n<tr><th>Report</th><th>Shard</th>"
          "<th>Seeds</th><th>Jobs</th><th>Wall s</th><th>Command</th></tr>\n", f);
    for (size_t k = 0; k < r->n_inputs; k++) {
        const struct sg_report_input *in = &r->inputs[k];
        fputs("<tr><td><code>", f);
        esc(f, in->report);
        fputs("</code></td><td>", f);
        if (in->shard_n) fprintf(f, "%" PRIu32 "/%" PRIu32, in->shard_i, in->shard_n);
        else fputs("<span class=\"muted\">all</span>", f);
        fprintf(f, "</td><td class=\"n\">%zu</td><td class=\"n\">%" PRIu32
                   "</td><td class=\"n\">", in->n_seeds, in->jobs);
        rp_put_seconds(f, in->wall_seconds);
        fputs("</td><td><code>", f);
        esc(f, in->command);
        fputs("</code></td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void put_invariants(FILE *f, const struct rp_totals *t)
{
    fputs("<h2>Invariants</h2>\n<table id=\"invariants\">\n<tr><th>Invariant</th><th>Title</th>"
          "<th>Checked</th><th>Violations</th><th>Seeds failing</th><th>Result</th></tr>\n", f);
    for (int i = SG_I1; i < SG_INV_COUNT; i++) {
        bool bad = t->seeds_failing[i] > 0;
        fprintf(f, "<tr%s><td>%s</td><td>%s</td><td class=\"n\">%" PRIu64 "</td>"
                   "<td class=\"n\">%" PRIu64 "</td><td class=\"n\">%zu</td>"
                   "<td class=\"%s\">%s</td></tr>\n",
                bad ? " class=\"bad\"" : "", sg_inv_name((enum sg_inv)i),
                sg_inv_title((enum sg_inv)i), t->checked[i], t->failed[i], t->seeds_failing[i],
                bad ? "no" : "yes", bad ? "failed" : "held");
    }
    fputs("</table>\n", f);
}

static void put_command(FILE *f, const char *cmd)
{
    fputs("<div class=\"cmd\"><code>", f);
    esc(f, cmd);
    fputs("</code><button class=\"copy\" type=\"button\">copy</button></div>\n", f);
}

static void put_failing(FILE *f, const struct sg_report *r, const struct rp_totals *t)
{
    fputs("<h2>Failing seeds</h2>\n", f);
    if (t->failing_seeds == 0) {
        fputs("<p class=\"yes\">No seed failed.</p>\n", f);
        return;
    }
    size_t shown = 0;
    for (size_t k = 0; k < r->n_seeds && shown < RP_LIST_MAX; k++) {
        const struct sg_report_seed *s = &r->seeds[k];
        if (!sg_report_seed_failing(s)) continue;
        shown++;
        fprintf(f, "<div class=\"seed\"><h3>seed %" PRIu64 " <span class=\"muted\">hash %016"
                   PRIx64 "%s</span></h3>\n<p class=\"viol\">", s->seed, s->hash,
                s->panicked ? ", assertion failed" : "");
        esc(f, s->first_violation[0] ? s->first_violation : "(no violation text)");
        fputs("</p>\n", f);
        if (s->replay && s->replay[0]) put_command(f, s->replay);
        else fputs("<p class=\"muted\">no replay command recorded</p>\n", f);
        fputs("</div>\n", f);
    }
    if (t->failing_seeds > shown)
        fprintf(f, "<p class=\"muted\">... and %zu more failing seeds (see report.json).</p>\n",
                t->failing_seeds - shown);
}

static void put_seeds(FILE *f, const struct sg_report *r)
{
    fputs("<h2>Seeds</h2>\n<table id=\"seeds\">\n<tr><th>Seed</th><th>Hash</th><th>Verdict</th>"
          "<th>Withdrawals</th>", f);
    for (int k = SG_STATUS_REQUESTED; k < SG_STATUS_COUNT; k++)
        fprintf(f, "<th>%s</th>", sg_status_name((enum sg_status)k));
    fputs("<th>Crashes</th><th>Wall s</th></tr>\n", f);
    size_t n = r->n_seeds < RP_LIST_MAX ? r->n_seeds : RP_LIST_MAX;
    for (size_t k = 0; k < n; k++) {
        const struct sg_report_seed *s = &r->seeds[k];
        bool bad = sg_report_seed_failing(s);
        fprintf(f, "<tr%s><td class=\"n\">%" PRIu64 "</td><td><code>%016" PRIx64 "</code></td>"
                   "<td class=\"%s\">%s</td><td class=\"n\">%" PRIu64 "</td>",
                bad ? " class=\"bad\"" : "", s->seed, s->hash, bad ? "no" : "yes",
                bad ? "violation" : "ok", s->withdrawals);
        for (int st = SG_STATUS_REQUESTED; st < SG_STATUS_COUNT; st++)
            fprintf(f, "<td class=\"n\">%" PRIu64 "</td>", s->by_status[st]);
        fprintf(f, "<td class=\"n\">%" PRIu64 "</td><td class=\"n\">", s->faults.crashes);
        rp_put_seconds(f, s->wall_seconds);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    if (r->n_seeds > n)
        fprintf(f, "<p class=\"muted\">First %zu of %zu seeds shown (all are in report.json)."
                   "</p>\n", n, r->n_seeds);
}

static void put_faults(FILE *f, const struct sg_report *r, const struct rp_totals *t)
{
    uint64_t max = 1;
    for (size_t i = 0; i < RP_FAULT_STATS; i++)
        if (t->faults[i] > max && i > 2) max = t->faults[i]; /* events/messages/timers dwarf */
    fprintf(f, "<div class=\"cols\"><div>\n<h2>Fault statistics</h2>\n"
               "<p class=\"muted\">Totals over %zu seed%s.</p>\n"
               "<table id=\"faults\">\n<tr><th>Counter</th><th>Total</th><th></th></tr>\n",
            r->n_seeds, r->n_seeds == 1 ? "" : "s");
    for (size_t i = 0; i < RP_FAULT_STATS; i++) {
        uint64_t v = t->faults[i];
        unsigned width = i > 2 ? (unsigned)((double)v * 200.0 / (double)max) : 0;
        fprintf(f, "<tr><td>%s</td><td class=\"n\">%" PRIu64 "</td><td>"
                   "<span class=\"bar\" style=\"width:%upx\"></span></td></tr>\n",
                rp_fault_stats[i].name, v, width);
    }
    fputs("</table>\n</div><div>\n<h2>Withdrawals</h2>\n<table id=\"withdrawals\">\n", f);
    fprintf(f, "<tr><th>Total</th><td class=\"n\">%" PRIu64 "</td></tr>\n", t->withdrawals);
    for (int k = SG_STATUS_REQUESTED; k < SG_STATUS_COUNT; k++)
        fprintf(f, "<tr><th>%s</th><td class=\"n\">%" PRIu64 "</td></tr>\n",
                sg_status_name((enum sg_status)k), t->by_status[k]);
    fputs("</table>\n</div></div>\n", f);
}

/* The ledger's books at the end, per asset, summed over the seeds that had a ledger: a row
 * is conserved when opening = available + held + paid out and nothing is negative (I11
 * judges each account). */
static void put_money(FILE *f, const struct rp_totals *t)
{
    const struct sg_money *m = &t->money;
    if (!m->judged) return;
    fprintf(f, "<h2>Money</h2>\n<p class=\"muted\">The ledger's books at the end of each run,"
               " summed over %zu seed%s (minor units); money conserved (I11) in %zu of them."
               " Holds outstanding: %" PRIu64 "; payouts on the rail: %" PRIu64 ".</p>\n"
               "<table id=\"money\">\n<tr><th>Asset</th><th>Opening</th><th>Available</th>"
               "<th>Held</th><th>Paid out</th><th>Conserved</th></tr>\n",
            t->money_seeds, t->money_seeds == 1 ? "" : "s", t->money_seeds - t->money_failing,
            m->holds_open, m->payouts);
    for (size_t i = 0; i < m->n_assets; i++) {
        const struct sg_money_asset *a = &m->assets[i];
        int64_t sum = 0;
        bool ok = !__builtin_add_overflow(a->available, a->held, &sum) &&
                  !__builtin_add_overflow(sum, a->paid_out, &sum) && sum == a->opening &&
                  a->available >= 0 && a->held >= 0 && a->paid_out >= 0;
        fputs("<tr><td>", f);
        esc(f, a->asset);
        fprintf(f, "</td><td class=\"n\">%" PRId64 "</td><td class=\"n\">%" PRId64 "</td>"
                   "<td class=\"n\">%" PRId64 "</td><td class=\"n\">%" PRId64 "</td>"
                   "<td class=\"%s\">%s</td></tr>\n",
                a->opening, a->available, a->held, a->paid_out, ok ? "yes" : "no",
                ok ? "yes" : "no");
    }
    fputs("</table>\n", f);
}

static void put_coverage(FILE *f, const struct sg_report *r, const struct rp_totals *t)
{
    fprintf(f, "<h2>Coverage of rare paths</h2>\n<p class=\"muted\">%zu of %d paths reached"
               "%s.</p>\n<table id=\"coverage\">\n<tr><th>Path</th><th>Hits</th>"
               "<th>Seeds reaching</th><th>Status</th></tr>\n",
            (size_t)SG_COV_COUNT - t->unreached, (int)SG_COV_COUNT,
            r->require_coverage ? "; every path is required" : "");
    for (int c = 0; c < SG_COV_COUNT; c++) {
        bool reached = t->coverage_seeds[c] > 0;
        const char *row = reached ? "" : r->require_coverage ? " class=\"bad\"" : " class=\"miss\"";
        fprintf(f, "<tr%s><td>%s</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%zu</td>"
                   "<td class=\"%s\">%s</td></tr>\n",
                row, sg_coverage_name((enum sg_coverage)c), t->coverage[c], t->coverage_seeds[c],
                reached ? "yes" : r->require_coverage ? "no" : "warn",
                reached ? "reached" : "not reached");
    }
    fputs("</table>\n", f);
}

static bool put_document(FILE *f, const struct sg_report *r, const struct rp_totals *t)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>sagasim: ", f);
    esc(f, r->scenario);
    fprintf(f, " %s</title>\n", t->ok ? "OK" : "VIOLATION");
    fputs(STYLE, f);
    fputs("</head>\n<body>\n<main>\n", f);
    put_summary(f, r, t);
    put_inputs(f, r);
    put_invariants(f, t);
    put_failing(f, r, t);
    put_seeds(f, r);
    put_faults(f, r, t);
    put_money(f, t);
    put_coverage(f, r, t);
    bool ok = true;
    if (r->timeline) {
        fputs("<h2>Timeline</h2>\n", f);
        ok = rp_timeline_write(f, r->timeline);
    }
    fputs("<p class=\"muted\">Written by ", f);
    esc(f, r->build_id);
    fputs(".</p>\n</main>\n", f);
    fputs(SCRIPT, f);
    fputs("</body>\n</html>\n", f);
    return ok;
}

bool sg_report_write_html(const struct sg_report *r, const char *path, char *err, size_t cap)
{
    SG_ASSERT_PURE(r != NULL);
    SG_ASSERT_PURE(path != NULL);
    struct rp_totals t;
    rp_totals_compute(r, &t);
    FILE *f = rp_open(path, err, cap);
    if (f == NULL) return false;
    bool drawn = put_document(f, r, &t);
    bool closed = rp_close(f, path, err, cap);
    if (closed && !drawn) rp_error(err, cap, "out of memory drawing the timeline for", path, 0);
    return closed && drawn;
}
