/*
 * cmd_sweep.c: `sagasim sweep`: many seeds, judged, in parallel processes (DESIGN §8.1).
 *
 * Seeds A..B (optionally one shard of them) are dealt round-robin to --jobs worker
 * processes (fork); each worker runs its seeds and writes one line per seed to a pipe:
 * "<seed> <ok> <hash> <first violation>". The parent collects the lines, shows progress on
 * stderr (a live line on a terminal, plain lines otherwise), and prints, in seed order
 * whatever the job count, one violation= and one replay= line per failing seed, then
 * seeds= and violations=. With --crashpoints every seed is run once per named fault point
 * (crashed at its first hit), so the sweep visits every point.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "report.h"
#include "scenario.h"

static const char usage[] =
    "usage: sagasim sweep [--scenario NAME] --seeds A..B [--bug NAME]... [--swarm]\n"
    "                     [--withdrawals K] [--crashpoints] [--jobs N] [--shard i/n]\n"
    "                     [--report DIR] [--timeline SEED] [--require-coverage]\n"
    "\n"
    "Runs every seed of A..B (inclusive) and judges each run.\n"
    "  --jobs N        run seeds in N parallel processes (output order does not change)\n"
    "  --shard i/n     run only the seeds s with ((s - A) mod n) + 1 == i\n"
    "  --crashpoints   run each seed once per fault point, crashing there at its first hit\n"
    "  --report DIR    write DIR/report.json, DIR/junit.xml and DIR/index.html\n"
    "  --timeline SEED draw this seed's run in the report (default: the first failing seed)\n"
    "  --require-coverage  fail when a rare path (sagasim coverage) was never reached\n"
    "stdout: per failing seed a violation= and a replay= line (seed order), then\n"
    "seeds=<n> and violations=<failing seeds>. Progress and wall time go to stderr.\n"
    "exit: 0 all hold, 1 a violation, 2 bad usage.\n";

static const char allowed[] =
    "scenario,seeds,withdrawals,bug,swarm,crashpoints,jobs,shard,report,require-coverage,"
    "timeline";

/* One unit of work: a seed, and the crash point index (or -1), and its judgement. */
struct unit {
    uint64_t seed;
    int point;
    bool done;
    struct sg_report_seed rep;
};

/* What a worker writes to its pipe per unit. */
struct unit_msg {
    size_t index;
    struct sg_report_seed rep;
};

static void unit_opts(const struct sg_cli_opts *o, const struct unit *u, struct sg_cli_opts *out)
{
    *out = *o;
    if (u->point < 0) return;
    out->crash_point = u->point;
    out->crash_hit = 1;
}

static void run_unit(const struct sg_cli_opts *o, const struct unit *u, struct sg_report_seed *rep)
{
    struct sg_cli_opts uo;
    unit_opts(o, u, &uo);
    struct sg_run_config rc;
    sg_cli_config(&uo, u->seed, &rc);
    struct sg_run_result res;
    double t0 = sg_cli_wall_seconds();
    if (!sg_run(&rc, &res)) {
        memset(rep, 0, sizeof *rep);
        rep->seed = u->seed;
        snprintf(rep->first_violation, sizeof rep->first_violation, "OOM out of memory");
        return;
    }
    sg_cli_seed_report(&uo, &rc, &res, sg_cli_wall_seconds() - t0, rep);
}

static void write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) _exit(2);
        off += (size_t)w;
    }
}

static void worker(const struct sg_cli_opts *o, struct unit *units, size_t n, uint32_t k,
                   uint32_t jobs, int fd)
{
    struct unit_msg msg;
    for (size_t i = k; i < n; i += jobs) {
        memset(&msg, 0, sizeof msg);
        msg.index = i;
        run_unit(o, &units[i], &msg.rep);
        sg_report_seed_deinit(&msg.rep); /* a pointer means nothing to the parent */
        write_all(fd, &msg, sizeof msg);
    }
    close(fd);
    _exit(0);
}

struct collector {
    struct unit *units;
    size_t n, done, failed;
    double t0, last_plain;
    bool tty;
    struct unit_msg buf[64];  /* per worker: a partial record */
    size_t len[64];
};

static void progress(struct collector *c, bool final)
{
    double el = sg_cli_wall_seconds() - c->t0;
    double rate = el > 0 ? (double)c->done / el : 0.0;
    double eta = rate > 0 ? (double)(c->n - c->done) / rate : 0.0;
    if (c->tty) {
        fprintf(stderr, "\rsweep %zu/%zu runs, %zu violations, %.1f runs/s, ETA %.0fs   %s",
                c->done, c->n, c->failed, rate, eta, final ? "\n" : "");
    } else if (final || el - c->last_plain >= 10.0) {
        c->last_plain = el;
        fprintf(stderr, "sweep %zu/%zu runs, %zu violations, %.1f runs/s\n", c->done, c->n,
                c->failed, rate);
    }
}

static void take(struct collector *c, const struct unit_msg *m)
{
    if (m->index >= c->n || c->units[m->index].done) return;
    struct unit *u = &c->units[m->index];
    u->done = true;
    u->rep = m->rep;
    c->done++;
    c->failed += !u->rep.ok;
    progress(c, false);
}

/* Reads what worker k wrote; false at end of file. */
static bool drain(struct collector *c, int fd, size_t k)
{
    char *dst = (char *)&c->buf[k];
    ssize_t r = read(fd, dst + c->len[k], sizeof c->buf[k] - c->len[k]);
    if (r < 0 && errno == EINTR) return true;
    if (r <= 0) return false;
    c->len[k] += (size_t)r;
    if (c->len[k] == sizeof c->buf[k]) {
        take(c, &c->buf[k]);
        c->len[k] = 0;
    }
    return true;
}

static bool spawn_and_collect(const struct sg_cli_opts *o, struct collector *c, uint32_t jobs)
{
    int fds[64];
    pid_t pids[64];
    fflush(stdout);
    fflush(stderr);
    for (uint32_t k = 0; k < jobs; k++) {
        int p[2];
        if (pipe(p) != 0) return false;
        pids[k] = fork();
        if (pids[k] < 0) return false;
        if (pids[k] == 0) {
            close(p[0]);
            for (uint32_t j = 0; j < k; j++) close(fds[j]);
            worker(o, c->units, c->n, k, jobs, p[1]);
        }
        close(p[1]);
        fds[k] = p[0];
    }
    struct pollfd pf[64];
    uint32_t open_count = jobs;
    for (uint32_t k = 0; k < jobs; k++) pf[k] = (struct pollfd){fds[k], POLLIN, 0};
    while (open_count > 0) {
        if (poll(pf, jobs, -1) < 0 && errno != EINTR) break;
        for (uint32_t k = 0; k < jobs; k++) {
            if (pf[k].fd < 0 || !(pf[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            if (!drain(c, pf[k].fd, k)) {
                close(pf[k].fd);
                pf[k].fd = -1;
                open_count--;
            }
        }
    }
    for (uint32_t k = 0; k < jobs; k++) waitpid(pids[k], NULL, 0);
    return true;
}

static size_t build_units(const struct sg_cli_opts *o, struct unit **out)
{
    size_t npoints = 0;
    sg_crashpoints(&npoints);
    size_t per_seed = o->crashpoints ? npoints : 1;
    uint64_t span = o->seed_to - o->seed_from + 1;
    size_t cap = (size_t)(span > 10000000 ? 10000000 : span) * per_seed;
    struct unit *units = calloc(cap ? cap : 1, sizeof *units);
    size_t n = 0;
    if (!units) return 0;
    for (uint64_t s = o->seed_from; n < cap; s++) {
        bool mine = !o->shard_n || (s - o->seed_from) % o->shard_n + 1 == o->shard_i;
        for (size_t p = 0; mine && p < per_seed; p++)
            units[n++] = (struct unit){.seed = s, .point = o->crashpoints ? (int)p : -1};
        if (s == o->seed_to) break;
    }
    *out = units;
    return n;
}

int sg_cmd_sweep(int argc, char **argv)
{
    struct sg_cli_opts o;
    int p = sg_cli_parse(argc, argv, "sweep", usage, allowed, &o);
    if (p != 0) return p < 0 ? SG_EXIT_OK : p;
    if (!o.has_seeds) {
        fprintf(stderr, "sagasim sweep: --seeds A..B is required (see sagasim sweep --help)\n");
        return SG_EXIT_USAGE;
    }
    struct collector c = {0};
    c.n = build_units(&o, &c.units);
    c.t0 = sg_cli_wall_seconds();
    c.tty = isatty(STDERR_FILENO) == 1;
    uint32_t jobs = o.jobs > 64 ? 64 : o.jobs;
    if (jobs > c.n) jobs = c.n ? (uint32_t)c.n : 1;
    if (c.n && !spawn_and_collect(&o, &c, jobs)) {
        fprintf(stderr, "sagasim sweep: cannot start worker processes\n");
        free(c.units);
        return SG_EXIT_USAGE;
    }
    progress(&c, true);
    double wall = sg_cli_wall_seconds() - c.t0;
    size_t failing = 0;
    uint64_t last_failed_seed = UINT64_MAX;
    struct sg_report_seed *reps = calloc(c.n ? c.n : 1, sizeof *reps);
    uint64_t reached[SG_COV_COUNT] = {0};
    for (size_t i = 0; i < c.n; i++) {
        struct unit *u = &c.units[i];
        if (!u->done) { /* a worker died (e.g. a crash outside a step) */
            struct sg_cli_opts uo;
            unit_opts(&o, u, &uo);
            u->rep.seed = u->seed;
            snprintf(u->rep.first_violation, sizeof u->rep.first_violation,
                     "WORKER the worker process died before reporting this run");
        }
        if (!u->rep.ok) { /* the replay command is made here: workers send fixed records */
            struct sg_cli_opts uo;
            unit_opts(&o, u, &uo);
            free(u->rep.replay);
            u->rep.replay = sg_cli_replay(&uo, u->seed);
        }
        if (reps) reps[i] = u->rep;
        for (int k = 0; k < SG_COV_COUNT; k++) reached[k] += u->rep.coverage[k];
        if (u->rep.ok) continue;
        sg_cli_print_seed_violation(&u->rep);
        printf("replay=%s\n", u->rep.replay);
        failing += u->seed != last_failed_seed;
        last_failed_seed = u->seed;
    }
    bool coverage_gap = false, report_failed = false;
    for (int k = 0; k < SG_COV_COUNT && o.require_coverage; k++) {
        if (reached[k]) continue;
        printf("violation=COVERAGE %s never reached\n", sg_coverage_name((enum sg_coverage)k));
        coverage_gap = true;
    }
    size_t npoints = 0;
    sg_crashpoints(&npoints);
    printf("seeds=%zu\nviolations=%zu\n", o.crashpoints ? c.n / npoints : c.n, failing);
    fprintf(stderr, "wall_seconds=%.2f\n", wall);
    if (o.report_dir && reps) {
        char *cmd = sg_cli_command_line(argc, argv);
        size_t first_bad = c.n;
        for (size_t i = 0; i < c.n && first_bad == c.n; i++)
            if (!c.units[i].rep.ok) first_bad = i;
        bool tl = o.has_timeline || first_bad < c.n;
        uint64_t tl_seed = o.has_timeline        ? o.timeline_seed
                           : first_bad < c.n ? c.units[first_bad].seed
                                             : 0;
        report_failed = !sg_cli_write_report(&o, cmd, reps, c.n, tl_seed, tl, wall, jobs);
        free(cmd);
    }
    free(reps);
    for (size_t i = 0; i < c.n; i++) sg_report_seed_deinit(&c.units[i].rep);
    free(c.units);
    if (failing || coverage_gap) return SG_EXIT_VIOLATION;
    return report_failed ? SG_EXIT_USAGE : SG_EXIT_OK;
}
