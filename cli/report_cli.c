/*
 * report_cli.c: from runs to reports: the CLI's side of reports/ (see cli.h).
 *
 * A sweep's workers turn each run into a struct sg_report_seed (the whole judgement in a
 * fixed-size record, so it crosses a pipe as bytes); the parent collects them, re-runs one
 * seed with every trace record kept for the timeline picture, and hands all of it to the
 * report writers, with what report merge compares: the build (version, source commit,
 * compiler), the scenario's digest and the settings every run shared.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"
#include "scenario.h"
#include "scenario_file.h"
#include "source_id.h"

void sg_cli_seed_report(const struct sg_cli_opts *o, const struct sg_run_config *rc,
                        const struct sg_run_result *res, double wall, struct sg_report_seed *s)
{
    memset(s, 0, sizeof *s);
    s->seed = rc->seed;
    s->hash = res->hash;
    s->ok = res->ok;
    s->panicked = res->panicked;
    memcpy(s->checked, res->report.checked, sizeof s->checked);
    memcpy(s->failed, res->report.failed, sizeof s->failed);
    if (res->panicked)
        snprintf(s->first_violation, sizeof s->first_violation, "ASSERT %s", res->panic_what);
    else if (res->report.error[0])
        snprintf(s->first_violation, sizeof s->first_violation, "CHECK %s", res->report.error);
    else if (res->report.count)
        snprintf(s->first_violation, sizeof s->first_violation, "%s %s",
                 sg_inv_name(res->report.v[0].inv), res->report.v[0].summary);
    for (int k = 0; k < SG_COV_COUNT && !s->first_violation[0]; k++)
        if (res->coverage_missing >> k & 1u)
            snprintf(s->first_violation, sizeof s->first_violation,
                     "COVERAGE %s not reached (the scenario requires it)",
                     sg_coverage_name((enum sg_coverage)k));
    if (!res->ok) s->replay = sg_cli_replay(o, rc->seed);
    s->faults = res->world;
    memcpy(s->coverage, res->coverage, sizeof s->coverage);
    s->withdrawals = res->report.withdrawals;
    s->money = res->report.money;
    memcpy(s->by_status, res->report.by_status, sizeof s->by_status);
    s->wall_seconds = wall;
    if (o->crash_point >= 0) {
        size_t n = 0;
        const struct sg_crashpoint *cp = &sg_crashpoints(&n)[o->crash_point];
        snprintf(s->crash_at, sizeof s->crash_at, "%s:%s:%" PRIu32, sg_role_name(cp->role),
                 cp->point, o->crash_hit);
    }
}

/* The last record that names the violating withdrawal (else the last record). */
static size_t highlight_of(const struct sg_world *w, const struct sg_run_result *res)
{
    const char *wid = res->report.count ? res->report.v[0].withdrawal_id : "";
    if (!wid[0]) return res->ok ? w->trace.count : (w->trace.count ? w->trace.count - 1 : 0);
    for (size_t i = w->trace.count; i-- > 0;)
        if (strstr(w->trace.records[i], wid)) return i;
    return w->trace.count;
}

/* The settings every run of the report shared, and the seeds asked for. False (after
 * saying why) when the scenario cannot be read for its digest. */
static bool describe_runs(const struct sg_cli_opts *o, const struct sg_report_seed *seeds,
                          size_t n, struct sg_report *r)
{
    char err[SG_SCENARIO_ERR_LEN];
    if (sg_scenario_digest(o->scenario, &r->scenario_digest, err, sizeof err) !=
        SG_SCENARIO_OK) {
        fprintf(stderr, "sagasim: cannot record the scenario's digest: %s\n", err);
        return false;
    }
    r->bugs = o->bugs;
    r->swarm = o->swarm;
    r->withdrawals = o->withdrawals;
    if (!r->withdrawals) { /* the scenario's own count, as every replay= line names it */
        struct sg_run_config rc;
        sg_cli_config(o, n ? seeds[0].seed : o->seed, &rc);
        r->withdrawals = rc.wl.withdrawals;
    }
    r->has_seed_range = true;
    r->seed_from = o->has_seeds ? o->seed_from : o->seed;
    r->seed_to = o->has_seeds ? o->seed_to : o->seed;
    r->shard_i = o->shard_i;
    r->shard_n = o->shard_n;
    return true;
}

const char *sg_cli_build_id(void)
{
#if defined(__clang__)
    return "sagasim " SG_VERSION " (" SG_SOURCE_ID ") clang " __clang_version__;
#else
    return "sagasim " SG_VERSION " (" SG_SOURCE_ID ") gcc " __VERSION__;
#endif
}

bool sg_cli_write_report_rc(const struct sg_cli_opts *o, const char *command,
                            const struct sg_report_seed *seeds, size_t n,
                            const struct sg_run_config *timeline_rc, double wall, uint32_t jobs)
{
    struct sg_report r = {0};
    if (!describe_runs(o, seeds, n, &r)) return false;
    r.scenario = o->scenario;
    r.command = command;
    r.build_id = sg_cli_build_id();
    r.sqlite_source_id = sqlite3_sourceid();
    r.seeds = seeds;
    r.n_seeds = n;
    r.wall_seconds = wall;
    r.jobs = jobs;
    r.require_coverage = o->require_coverage;
    struct sg_world *w = NULL;
    struct sg_report_timeline tl = {0};
    char *title = NULL;
    char wid[sizeof ((struct sg_violation *)0)->withdrawal_id];
    if (timeline_rc && (w = calloc(1, sizeof *w)) != NULL) {
        struct sg_run_config rc = *timeline_rc;
        rc.world.keep_trace = true;
        struct sg_run_result res;
        if (sg_run_keep(&rc, &res, w)) {
            title = sg_cli_strf("%s, seed %" PRIu64 ": %s", o->scenario, rc.seed,
                                res.ok ? "every invariant held"
                                       : "the first violating event highlighted");
            snprintf(wid, sizeof wid, "%s",
                     res.report.count ? res.report.v[0].withdrawal_id : "");
            tl = (struct sg_report_timeline){rc.seed, title, w->trace.records, w->trace.count,
                                             highlight_of(w, &res), NULL, wid};
            r.timeline = &tl;
        }
    }
    bool ok = sg_cli_write_report_files(&r, o->report_dir);
    if (w) sg_world_deinit(w);
    free(w);
    free(title);
    return ok;
}

bool sg_cli_write_report_files(const struct sg_report *r, const char *dir)
{
    char err[SG_CLI_ERR_LEN] = "";
    bool ok = sg_report_write_all(r, dir, err, sizeof err);
    if (!ok) fprintf(stderr, "sagasim: cannot write the report to '%s': %s\n", dir, err);
    else fprintf(stderr, "report: %s/index.html\n", dir);
    return ok;
}

bool sg_cli_write_report(const struct sg_cli_opts *o, const char *command,
                         const struct sg_report_seed *seeds, size_t n, uint64_t timeline_seed,
                         bool with_timeline, double wall, uint32_t jobs)
{
    struct sg_run_config rc;
    if (with_timeline) sg_cli_config(o, timeline_seed, &rc);
    return sg_cli_write_report_rc(o, command, seeds, n, with_timeline ? &rc : NULL, wall, jobs);
}
