/*
 * sagasim.c: the `sagasim` command: subcommand dispatch and top-level help.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cli.h"

static const char usage[] =
    "usage: sagasim <command> [options]\n"
    "\n"
    "Deterministic simulation of a withdrawal saga (orchestrator, outbox relay, broker,\n"
    "identity, risk) in one seeded process; every run is judged by invariants I1-I10.\n"
    "\n"
    "commands:\n"
    "  run          run one seeded scenario and judge it (sagasim run --help)\n"
    "  sweep        run a range of seeds in parallel and judge each (sagasim sweep --help)\n"
    "  shrink       cut a failing run down to a minimal fault tape (sagasim shrink --help)\n"
    "  replay       run a fault tape and judge it (sagasim replay --help)\n"
    "  report       merge the reports of shards or runs into one (sagasim report --help)\n"
    "  bench        print speed figures: sagas/s, simulated:wall, cost vs bare SQLite\n"
    "  bugs         list the planted bugs: NAME, invariant, catching scenario, defect\n"
    "  scenarios    list the scenarios with their purpose\n"
    "  crashpoints  list the named fault points (NODE:POINT) for --crash-at\n"
    "  live         the same core as real processes on loopback: up, status, logs, down,\n"
    "               demo (sagasim live --help)\n"
    "  help         this text\n"
    "\n"
    "exit codes: 0 all invariants hold, 1 violation, 2 bad usage or input,\n"
    "            3 nondeterminism found\n";

int main(int argc, char **argv)
{
    /* No memory statistics: nothing reads them (no soft heap limit), and keeping them took
     * a global mutex on every SQLite allocation, ~4% of a simulated run's instructions.
     * Must come before SQLite initialises; a failure only leaves the default. */
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
#ifdef __GLIBC__
    /* Keep freed memory for the next run instead of giving it back to the kernel: a
     * sweep's runs each build and free a world of a few MB (VFS images, WALs), and glibc
     * mmap'ed and unmapped those blocks every time; the page faults were 20% of a
     * sweep's time (sys 2.8 s of 13.5 s for 200 default seeds). Bounded by the largest
     * run's footprint; affects nothing but where memory comes from. */
    (void)mallopt(M_MMAP_THRESHOLD, 64 << 20);
    (void)mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? SG_EXIT_USAGE : SG_EXIT_OK;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") == 0) return sg_cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "sweep") == 0) return sg_cmd_sweep(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0) return sg_cmd_bench(argc - 1, argv + 1);
    if (strcmp(cmd, "shrink") == 0) return sg_cmd_shrink(argc - 1, argv + 1);
    if (strcmp(cmd, "replay") == 0) return sg_cmd_replay(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0) return sg_cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "live") == 0) return sg_cmd_live(argc - 1, argv + 1);
    if (strcmp(cmd, "bugs") == 0 || strcmp(cmd, "scenarios") == 0 ||
        strcmp(cmd, "crashpoints") == 0)
        return sg_cmd_list(argc - 1, argv + 1);
    fprintf(stderr, "sagasim: unknown command '%s' (try: sagasim help)\n", argv[1]);
    return SG_EXIT_USAGE;
}
