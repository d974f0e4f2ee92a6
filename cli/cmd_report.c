/*
 * cmd_report.c: `sagasim report merge DIR... --out DIR`: the reports of shards (or of any
 * runs and sweeps of one scenario and build) merged into one report (report_merge.h says
 * what is refused and how seeds, the timeline and the totals are merged).
 *
 * stdout is a sweep's: per failing seed of the merged report a violation= and a replay=
 * line in seed order, violation=COVERAGE lines when coverage is required, then merged=,
 * seeds= (distinct seeds) and violations= (distinct failing seeds). Exit: 0 the merged
 * report holds, 1 it has a violation (like sweep, so a CI merge job fails on it), 2 bad
 * usage or an input refused or unreadable.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "report.h"
#include "report_merge.h"

static const char usage[] =
    "usage: sagasim report merge DIR... --out DIR [--partial]\n"
    "\n"
    "Merges report directories (sweep --shard i/n --report DIR on many machines, or any runs\n"
    "and sweeps of one scenario) into one: OUT/report.json, OUT/junit.xml, OUT/index.html.\n"
    "  DIR         a report directory (holding report.json), or a report.json file\n"
    "  --out DIR   where the merged report goes (created if missing)\n"
    "  --partial   merge even when some shards of a sweep are missing\n"
    "Refuses (exit 2) reports of different builds, SQLite versions, scenarios or scenario\n"
    "versions, or with other --bug, --swarm, --withdrawals or --require-coverage settings;\n"
    "a run (seed, crash point) found twice with two hashes; a missing shard i/n. A run found\n"
    "twice with one hash is kept once. Seeds are merged in seed order; the timeline is the\n"
    "first failing seed's when an input drew it, else the first input's. jobs and wall time\n"
    "are summed over the inputs.\n"
    "stdout: per failing seed a violation= and a replay= line (seed order), then merged=<n>,\n"
    "seeds=<n> and violations=<failing seeds>, as sweep prints them.\n"
    "exit: 0 every seed held, 1 the merged report has a violation, 2 bad usage or input.\n";

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "sagasim report merge: %s%s%s%s (see sagasim report --help)\n", what,
            arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
    return SG_EXIT_USAGE;
}

/* DIR/report.json for a directory, the path itself for a file (heap); NULL after saying
 * why when it names neither. */
static char *report_path(const char *arg)
{
    struct stat st;
    if (stat(arg, &st) != 0) {
        fprintf(stderr, "sagasim report merge: '%s': no such report directory\n", arg);
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) return sg_cli_strf("%s", arg);
    size_t n = strlen(arg);
    return sg_cli_strf("%s%sreport.json", arg, n && arg[n - 1] == '/' ? "" : "/");
}

/* The merged report's stdout lines (see the top of the file). */
static void print_summary(const struct sg_report *r, size_t inputs)
{
    size_t seeds = 0, failing = 0;
    uint64_t reached[SG_COV_COUNT] = {0};
    bool failed_before = false; /* a run of the previous record's seed failed */
    for (size_t k = 0; k < r->n_seeds; k++) {
        const struct sg_report_seed *s = &r->seeds[k];
        bool new_seed = k == 0 || r->seeds[k - 1].seed != s->seed;
        seeds += new_seed;
        if (new_seed) failed_before = false;
        for (int c = 0; c < SG_COV_COUNT; c++) reached[c] += s->coverage[c];
        if (!sg_report_seed_failing(s)) continue;
        sg_cli_print_seed_violation(s);
        if (s->replay) printf("replay=%s\n", s->replay);
        failing += !failed_before;
        failed_before = true;
    }
    for (int c = 0; c < SG_COV_COUNT && r->require_coverage; c++)
        if (!reached[c])
            printf("violation=COVERAGE %s never reached\n", sg_coverage_name((enum sg_coverage)c));
    printf("merged=%zu\nseeds=%zu\nviolations=%zu\n", inputs, seeds, failing);
}

static int merge(char **dirs, size_t n, const char *out, bool partial, const char *command)
{
    struct sg_report_doc *docs = calloc(n, sizeof *docs);
    if (docs == NULL) abort();
    int code = SG_EXIT_USAGE;
    size_t read = 0;
    char *err = NULL;
    for (; read < n; read++) {
        char *path = report_path(dirs[read]);
        bool ok = path && sg_report_read(path, &docs[read], &err);
        free(path);
        if (!ok) goto done;
    }
    struct sg_report_merged m;
    if (!sg_report_merge(docs, n, command, partial, &m, &err)) goto done;
    print_summary(&m.r, n);
    bool written = sg_cli_write_report_files(&m.r, out);
    code = !written ? SG_EXIT_USAGE : sg_report_ok(&m.r) ? SG_EXIT_OK : SG_EXIT_VIOLATION;
    sg_report_merged_deinit(&m);
done:
    if (err) fprintf(stderr, "sagasim report merge: %s\n", err);
    free(err);
    for (size_t k = 0; k < read; k++) sg_report_doc_deinit(&docs[k]);
    free(docs);
    return code;
}

int sg_cmd_report(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? SG_EXIT_USAGE : SG_EXIT_OK;
    }
    if (strcmp(argv[1], "merge") != 0) return usage_error("unknown command", argv[1]);
    char **dirs = calloc((size_t)argc, sizeof *dirs);
    if (dirs == NULL) abort();
    size_t n = 0;
    const char *out = NULL;
    bool partial = false;
    int code = -1;
    for (int i = 2; i < argc && code < 0; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            code = SG_EXIT_OK;
        } else if (strcmp(a, "--out") == 0) {
            if (i + 1 >= argc) code = usage_error("missing value for", a);
            else out = argv[++i];
        } else if (strcmp(a, "--partial") == 0) {
            partial = true;
        } else if (strncmp(a, "--", 2) == 0) {
            code = usage_error("unknown option", a);
        } else {
            dirs[n++] = argv[i];
        }
    }
    if (code < 0 && n == 0) code = usage_error("no report directories given", NULL);
    if (code < 0 && out == NULL) code = usage_error("--out DIR is required", NULL);
    if (code < 0) {
        char *command = sg_cli_command_line(argc, argv);
        code = merge(dirs, n, out, partial, command);
        free(command);
    }
    free(dirs);
    return code;
}
