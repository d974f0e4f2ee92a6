/*
 * cmd_chaos.c: `sagasim live chaos`: runs live/chaos.h and reports like a simulated run:
 * key=value lines on stdout, the same report.json / junit.xml / index.html with --report
 * (the timeline shows the kills, pauses and restarts), exit codes as `sagasim run`.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "chaos.h"
#include "cli.h"
#include "report.h"
#include "status.h"

static void print_lines(const struct sg_live_opts *o, const struct sg_chaos_result *r)
{
    const struct sg_check_report *c = &r->report;
    printf("seed=%" PRIu64 "\nscenario=live-chaos\nverdict=%s\n", o->seed,
           r->ok ? "ok" : "violation");
    printf("kills=%" PRIu64 "\npauses=%" PRIu64 "\nrestarts_failed=%" PRIu64 "\n", r->kills,
           r->pauses, r->restarts_failed);
    printf("withdrawals=%" PRIu64 "\n", c->withdrawals);
    for (int s = SG_STATUS_REQUESTED; s < SG_STATUS_COUNT; s++)
        printf("status.%s=%" PRIu64 "\n", sg_status_name((enum sg_status)s), c->by_status[s]);
    printf("creates=%" PRIu64 "\nacknowledged=%zu\nunanswered=%" PRIu64
           "\nnot_terminal_after_heal=%" PRIu64 "\nseconds=%.1f\n",
           r->load.creates, r->load.n_acked, r->load.unanswered, r->terminal_timeouts,
           r->seconds);
    if (c->error[0]) printf("violation=CHECK %s\n", c->error);
    for (size_t i = 0; i < c->count; i++)
        printf("violation=%s %s\n", sg_inv_name(c->v[i].inv), c->v[i].summary);
    if (r->restarts_failed) printf("violation=RESTART a node did not come back\n");
}

/* The chaos events as trace lines the timeline draws: kills as crashes, restarts as
 * starts, pauses as world events. */
static char **timeline_records(const struct sg_chaos_result *r, size_t *n)
{
    char **rec = calloc(r->n_events ? r->n_events : 1, sizeof *rec);
    *n = 0;
    for (size_t i = 0; rec && i < r->n_events; i++) {
        const struct sg_chaos_event *e = &r->events[i];
        uint32_t node = sg_role_node_id(e->role);
        const char *name = sg_role_name(e->role);
        switch (e->what) {
        case SG_CHAOS_KILL: rec[*n] = sg_cli_strf("%" PRId64 " %u crash", e->at_ns, node); break;
        case SG_CHAOS_RESTART:
            rec[*n] = sg_cli_strf("%" PRId64 " %u start %s OK", e->at_ns, node, name);
            break;
        case SG_CHAOS_PAUSE:
            rec[*n] = sg_cli_strf("%" PRId64 " 0 world SIGSTOP %s", e->at_ns, name);
            break;
        default: rec[*n] = sg_cli_strf("%" PRId64 " 0 world SIGCONT %s", e->at_ns, name); break;
        }
        (*n)++;
    }
    return rec;
}

static bool write_report(const struct sg_live_opts *o, const struct sg_chaos_result *r,
                         const char *command)
{
    struct sg_report_seed s = {0};
    s.seed = o->seed;
    s.ok = r->ok;
    memcpy(s.checked, r->report.checked, sizeof s.checked);
    memcpy(s.failed, r->report.failed, sizeof s.failed);
    if (r->report.count)
        snprintf(s.first_violation, sizeof s.first_violation, "%s %s",
                 sg_inv_name(r->report.v[0].inv), r->report.v[0].summary);
    if (!r->ok) s.replay = (char *)command;
    s.faults.crashes = r->kills;
    s.faults.restarts = r->kills - r->restarts_failed;
    s.withdrawals = r->report.withdrawals;
    memcpy(s.by_status, r->report.by_status, sizeof s.by_status);
    s.money = r->report.money;
    s.wall_seconds = r->seconds;
    size_t n = 0;
    char **rec = timeline_records(r, &n);
    char *title = sg_cli_strf("live chaos, seed %" PRIu64 ": %" PRIu64 " kills, %" PRIu64
                              " pauses", o->seed, r->kills, r->pauses);
    struct sg_report_timeline tl = {o->seed, title, rec, n, n, NULL, NULL};
    struct sg_report rep = {.scenario = "live-chaos", .command = command,
                            .build_id = sg_cli_build_id(),
                            .sqlite_source_id = sqlite3_sourceid(), .seeds = &s, .n_seeds = 1,
                            .timeline = rec ? &tl : NULL, .wall_seconds = r->seconds, .jobs = 1};
    bool ok = sg_cli_write_report_files(&rep, o->report_dir);
    for (size_t i = 0; i < n; i++) free(rec[i]);
    free(rec);
    free(title);
    return ok;
}

int sg_cmd_live_chaos(const struct sg_live_opts *o, int argc, char **argv)
{
    struct sg_chaos_result *r = calloc(1, sizeof *r);
    if (!r) return SG_EXIT_USAGE;
    char err[SG_CLI_ERR_LEN] = "";
    bool ran = sg_live_chaos(o, r, err, sizeof err);
    int code = SG_EXIT_OK;
    if (!ran) {
        fprintf(stderr, "sagasim live chaos: %s\n", err);
        code = SG_EXIT_USAGE;
    } else {
        print_lines(o, r);
        char *cmd = sg_cli_command_line(argc, argv);
        if (!r->ok) printf("replay=%s\n", cmd);
        if (o->report_dir && !write_report(o, r, cmd)) code = SG_EXIT_USAGE;
        free(cmd);
        if (!r->ok) code = SG_EXIT_VIOLATION;
    }
    sg_live_chaos_result_free(r);
    free(r);
    return code;
}
