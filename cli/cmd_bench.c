/*
 * cmd_bench.c: `sagasim bench`: the simulator's speed, as figures (never pass/fail).
 *
 * Runs one seeded scenario and reports sagas per wall second, the simulated:wall time
 * ratio and SQLite commits per saga; then, in the same process, commits as many bare
 * SQLite transactions (one small insert each, WAL + EXCLUSIVE + synchronous=FULL) on the
 * same in-memory VFS, and reports the harness's cost relative to that bare SQLite work.
 * Each is timed --repeat times (default 3) and the fastest counts: the run is the same
 * every time (one seed), and a shared machine only ever adds time, so the minimum is the
 * figure least moved by other load.
 * While the run goes, a sampling profiler (sqlite_share.h) measures the share of CPU time
 * spent outside SQLite: harness_share (omitted where the sampler is unavailable). Last, the
 * peak resident memory of the process (max_rss_kb).
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "sqlite_share.h"
#include "vfs.h"

static const char usage[] =
    "usage: sagasim bench [--scenario NAME] [--seed N] [--withdrawals K] [--repeat N]\n"
    "\n"
    "Prints figures: sagas per wall second, the simulated:wall ratio, SQLite commits per\n"
    "saga, and the cost of the whole run relative to as many bare SQLite commits on the\n"
    "same VFS (overhead_vs_bare_sqlite), and the share of the run's CPU time spent outside\n"
    "SQLite, sampled (harness_share), and the process's peak resident memory (max_rss_kb).\n"
    "  --repeat N  time the run and the bare commits N times each (1..100) and report the\n"
    "              fastest of each: the figures least moved by other load on the machine\n"
    "Defaults: --scenario calm --withdrawals 1000 --repeat 3.\n";

static uint64_t bench_random(void *ctx)
{
    uint64_t *state = ctx;
    return sg_splitmix64(state);
}

static int64_t bench_now(void *ctx)
{
    (void)ctx;
    return 1764028800000000000LL;
}

/* Commits n one-row transactions on a fresh simulated disk; wall seconds, < 0 on error. */
static double bare_sqlite(uint64_t n)
{
    uint64_t state = 1;
    struct sg_vfs_hooks hooks = {&state, bench_random, bench_now};
    static struct sg_vfs vfs; /* the VFS points back at it: keep it in place */
    if (!sg_vfs_init(&vfs, "sgbench", &hooks) || sg_vfs_register(&vfs) != SQLITE_OK) return -1;
    sqlite3 *db = NULL;
    double t0 = sg_cli_wall_seconds(), wall = -1;
    if (sqlite3_open_v2("/bench/b.db", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        "sgbench") == SQLITE_OK &&
        sqlite3_exec(db, "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL;"
                         " PRAGMA synchronous=FULL; CREATE TABLE t(k INTEGER PRIMARY KEY,"
                         " v TEXT NOT NULL);", NULL, NULL, NULL) == SQLITE_OK) {
        sqlite3_stmt *ins = NULL, *begin = NULL, *commit = NULL;
        sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES('0123456789abcdef0123456789')", -1,
                           &ins, NULL);
        sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL);
        sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL);
        t0 = sg_cli_wall_seconds();
        for (uint64_t i = 0; i < n && ins && begin && commit; i++) {
            sqlite3_step(begin);
            sqlite3_reset(begin);
            sqlite3_step(ins);
            sqlite3_reset(ins);
            sqlite3_step(commit);
            sqlite3_reset(commit);
        }
        wall = sg_cli_wall_seconds() - t0;
        sqlite3_finalize(ins);
        sqlite3_finalize(begin);
        sqlite3_finalize(commit);
    }
    sqlite3_close_v2(db);
    sg_vfs_deinit(&vfs);
    return wall;
}

int sg_cmd_bench(int argc, char **argv)
{
    struct sg_cli_opts o;
    int p = sg_cli_parse(argc, argv, "bench", usage, "scenario,seed,withdrawals,repeat", &o);
    if (p != 0) return p < 0 ? SG_EXIT_OK : p;
    bool scenario_given = false;
    for (int i = 1; i < argc; i++) scenario_given |= strcmp(argv[i], "--scenario") == 0;
    if (!scenario_given) o.scenario = "calm";
    if (!o.withdrawals) o.withdrawals = 1000;
    struct sg_run_config rc;
    sg_cli_config(&o, o.seed, &rc);
    uint32_t repeat = o.repeat ? o.repeat : 3;
    struct sg_run_result res;
    bool sampled = sg_sqlite_share_start();
    double wall = -1;
    for (uint32_t i = 0; i < repeat; i++) { /* the same run each time: one seed */
        double t0 = sg_cli_wall_seconds();
        if (!sg_run(&rc, &res)) {
            (void)sg_sqlite_share_stop();
            return SG_EXIT_USAGE;
        }
        double w = sg_cli_wall_seconds() - t0;
        if (wall < 0 || w < wall) wall = w;
    }
    struct sg_sqlite_share share = sg_sqlite_share_stop();
    const struct sg_check_report *r = &res.report;
    uint64_t sagas = r->by_status[3] + r->by_status[4] + r->by_status[5];
    double bare = -1;
    for (uint32_t i = 0; i < repeat; i++) {
        double b = bare_sqlite(res.commits);
        if (b >= 0 && (bare < 0 || b < bare)) bare = b;
    }
    printf("scenario=%s\nseed=%" PRIu64 "\nwithdrawals=%" PRIu64 "\nsagas=%" PRIu64 "\n",
           o.scenario, o.seed, r->withdrawals, sagas);
    printf("repeat=%" PRIu32 "\n", repeat);
    printf("verdict=%s\nwall_seconds=%.3f\nsim_seconds=%.1f\n", res.ok ? "ok" : "violation",
           wall, (double)res.sim_ns / 1e9);
    printf("sagas_per_second=%.0f\nsim_to_wall=%.0f\n", wall > 0 ? (double)sagas / wall : 0.0,
           wall > 0 ? (double)res.sim_ns / 1e9 / wall : 0.0);
    printf("events=%" PRIu64 "\nevents_per_second=%.0f\n", res.world.events,
           wall > 0 ? (double)res.world.events / wall : 0.0);
    printf("commits=%" PRIu64 "\ncommits_per_saga=%.2f\n", res.commits,
           sagas ? (double)res.commits / (double)sagas : 0.0);
    printf("bare_sqlite_seconds=%.3f\noverhead_vs_bare_sqlite=%.2f\n", bare,
           bare > 0 ? wall / bare : 0.0);
    if (sampled && share.samples > 0)
        printf("harness_share=%.2f\nprofile_samples=%" PRIu64 "\n",
               1.0 - (double)share.in_sqlite / (double)share.samples, share.samples);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) printf("max_rss_kb=%ld\n", ru.ru_maxrss);
    return SG_EXIT_OK;
}
