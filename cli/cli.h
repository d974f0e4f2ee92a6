/*
 * cli.h: what the sagasim subcommands share: argument helpers and the output contract of
 * DESIGN §8 / §8.1 (deterministic key=value lines on stdout; wall times and progress on
 * stderr; exit 0 all hold, 1 violation, 2 bad usage or input, 3 nondeterminism).
 */
#ifndef SG_CLI_H
#define SG_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "run.h"

enum { SG_EXIT_OK = 0, SG_EXIT_VIOLATION = 1, SG_EXIT_USAGE = 2, SG_EXIT_NONDETERMINISM = 3 };
/* An error message buffer that holds any path the OS takes (PATH_MAX 4096) and the text. */
enum { SG_CLI_ERR_LEN = 8192 };

/* The options run, sweep and bench share (parsed by sg_cli_parse). */
struct sg_cli_opts {
    const char *scenario;          /* a catalogue name, or a file's absolute path */
    uint64_t seed;
    uint64_t seed_from, seed_to;   /* --seeds A..B (inclusive) */
    bool has_seeds;
    uint32_t withdrawals;          /* 0: the scenario's */
    uint64_t bugs;                 /* --bug NAME, repeatable */
    bool swarm;
    int crash_point;               /* --crash-at NODE:POINT[:N]: index in sg_crashpoints(),
                                      -1 none */
    uint32_t crash_hit;
    const char *trace_path;
    bool check_determinism;
    uint32_t jobs;                 /* --jobs N (sweep) */
    uint32_t repeat;               /* --repeat N (bench); 0: not given */
    uint32_t shard_i, shard_n;     /* --shard i/n (sweep) */
    bool crashpoints;              /* --crashpoints (sweep) */
    const char *report_dir;        /* --report DIR */
    uint64_t perturb;              /* --perturb N (run --check-determinism self-test) */
    bool require_coverage;         /* --require-coverage (sweep) */
    uint64_t timeline_seed;        /* --timeline SEED (sweep: the run drawn in the report) */
    bool has_timeline;
    const char *tape_path;         /* --tape FILE (replay, shrink); replay= names it */
    const char *out_path;          /* --out FILE (shrink) */
};

/* Parses argv[1..] (argv[0] is the subcommand). Accepted options are named in `allowed`
 * (e.g. "seed,scenario,bug"). Returns 0, SG_EXIT_USAGE after printing why, or -1 after
 * printing the usage for --help. */
int sg_cli_parse(int argc, char **argv, const char *cmd, const char *usage,
                 const char *allowed, struct sg_cli_opts *o);
/* The run configuration for one seed: scenario, swarm, bugs, withdrawals, crash point. */
void sg_cli_config(const struct sg_cli_opts *o, uint64_t seed, struct sg_run_config *rc);
/* The command that replays one seed with every flag needed (heap; the caller frees). A
 * scenario file appears by its absolute path, so the command works from any directory.
 * When o->tape_path is set (a run made from a fault tape) it is sg_cli_replay_tape's. */
char *sg_cli_replay(const struct sg_cli_opts *o, uint64_t seed);
/* "sagasim replay --tape PATH" with PATH made absolute (realpath; as given when the file
 * cannot be resolved) and shell-quoted (heap; the caller frees). */
char *sg_cli_replay_tape(const char *path);
/* s as one shell word: as it is when every character is safe, else in single quotes (each
 * ' written as '\''). Heap; the caller frees. */
char *sg_cli_shell_word(const char *s);
/* printf into a new heap string (aborts on out-of-memory). */
char *sg_cli_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A copy of s that lives as long as the process (options that outlive their source). */
const char *sg_cli_keep(const char *s);

/* Parses a u64 in decimal (the whole string); false on junk or overflow. */
bool sg_cli_parse_u64(const char *s, uint64_t *out);
/* Wall-clock seconds since an arbitrary point (the CLI's only clock). */
double sg_cli_wall_seconds(void);
/* Prints the run's stdout lines (seed, scenario, hash, verdict, figures, violations). */
void sg_cli_print_result(const struct sg_cli_opts *o, const struct sg_run_config *rc,
                         const struct sg_run_result *res);

struct sg_report_seed;
struct sg_report;
/* One run's judgement as a report record (report_cli.c). */
void sg_cli_seed_report(const struct sg_cli_opts *o, const struct sg_run_config *rc,
                        const struct sg_run_result *res, double wall,
                        struct sg_report_seed *out);
/* Writes o->report_dir/{report.json,junit.xml,index.html}; re-runs timeline_seed with its
 * trace kept for the timeline picture when with_timeline. Prints where it wrote. */
bool sg_cli_write_report(const struct sg_cli_opts *o, const char *command,
                         const struct sg_report_seed *seeds, size_t n, uint64_t timeline_seed,
                         bool with_timeline, double wall, uint32_t jobs);
/* The same, drawing the timeline of exactly this run configuration (a replayed tape). */
bool sg_cli_write_report_rc(const struct sg_cli_opts *o, const char *command,
                            const struct sg_report_seed *seeds, size_t n,
                            const struct sg_run_config *timeline_rc, double wall, uint32_t jobs);
/* The reports' build_id: version, source commit (cmake/source_id.cmake), compiler. */
const char *sg_cli_build_id(void);
/* sg_report_write_all into dir; prints where it wrote, or why it could not, on stderr. */
bool sg_cli_write_report_files(const struct sg_report *r, const char *dir);
/* The "violation=seed N: I1,I2 <first evidence>" line of a failing seed (sweep, report
 * merge): every invariant that failed, so a test can look for the one it expects even
 * when another fails first. */
void sg_cli_print_seed_violation(const struct sg_report_seed *s);
/* The command line as one string, each argument a shell word (for reports; heap, the
 * caller frees). */
char *sg_cli_command_line(int argc, char **argv);

int sg_cmd_run(int argc, char **argv);
int sg_cmd_sweep(int argc, char **argv);
int sg_cmd_bench(int argc, char **argv);
int sg_cmd_shrink(int argc, char **argv);
int sg_cmd_replay(int argc, char **argv);
int sg_cmd_replay_fuzz(int argc, char **argv); /* replay --fuzz-input TARGET FILE */
int sg_cmd_list(int argc, char **argv); /* bugs, scenarios, crashpoints */
int sg_cmd_report(int argc, char **argv); /* report merge */
int sg_cmd_live(int argc, char **argv); /* live up|status|logs|down|demo|node */
struct sg_live_opts;
int sg_cmd_live_chaos(const struct sg_live_opts *o, int argc, char **argv); /* live chaos */

#endif
