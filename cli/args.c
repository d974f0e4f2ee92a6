/*
 * args.c: the options run, sweep and bench share (see cli.h), and the replay command that
 * names them all again.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bugs.h"
#include "cli.h"
#include "scenario.h"
#include "scenario_file.h"

static int bad(const char *cmd, const char *what, const char *arg)
{
    fprintf(stderr, "sagasim %s: %s '%s' (see sagasim %s --help)\n", cmd, what,
            arg ? arg : "", cmd);
    return SG_EXIT_USAGE;
}

static bool allowed_opt(const char *allowed, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = allowed; (p = strstr(p, name)) != NULL; p += n)
        if ((p == allowed || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) return true;
    return false;
}

static bool parse_range(const char *s, uint64_t *a, uint64_t *b)
{
    const char *dots = strstr(s, "..");
    if (!dots) return sg_cli_parse_u64(s, a) && (*b = *a, true);
    char left[32];
    size_t n = (size_t)(dots - s);
    if (n == 0 || n >= sizeof left) return false;
    memcpy(left, s, n);
    left[n] = '\0';
    return sg_cli_parse_u64(left, a) && sg_cli_parse_u64(dots + 2, b) && *a <= *b;
}

static bool parse_crash_at(const char *s, struct sg_cli_opts *o)
{
    char buf[96];
    if (strlen(s) >= sizeof buf) return false;
    strcpy(buf, s);
    char *point = strchr(buf, ':');
    if (!point) return false;
    *point++ = '\0';
    char *hit = strchr(point, ':');
    uint64_t n = 1;
    if (hit) {
        *hit++ = '\0';
        if (!sg_cli_parse_u64(hit, &n) || n == 0 || n > 1000000) return false;
    }
    o->crash_point = -1;
    for (int r = 0; r < SG_ROLE_COUNT; r++)
        if (strcmp(buf, sg_role_name((enum sg_role)r)) == 0)
            o->crash_point = sg_crashpoint_find((enum sg_role)r, point);
    o->crash_hit = (uint32_t)n;
    return o->crash_point >= 0;
}

/* --scenario X: a catalogue name or a file (DESIGN §8.1), validated by loading it once;
 * sg_cli_config loads it again for each seed. A file's errors go to stderr as they are
 * ("file:line:col: message", the form editors jump to). */
static int parse_scenario(const char *cmd, const char *val, struct sg_cli_opts *o)
{
    bool path = sg_scenario_is_path(val);
    struct sg_run_config probe;
    char err[SG_SCENARIO_ERR_LEN];
    enum sg_scenario_status st = sg_scenario_load(val, 1, &probe, NULL, err, sizeof err);
    if (st == SG_SCENARIO_NOT_FOUND && !path)
        return bad(cmd, "unknown scenario (try: sagasim scenarios)", val);
    if (st != SG_SCENARIO_OK) {
        fprintf(stderr, "%s\n", err);
        return SG_EXIT_USAGE;
    }
    /* A file is named by its absolute path from here on (scenario=, replay=, reports,
     * tapes), so every command printed works from any directory. */
    char *abs = path ? realpath(val, NULL) : NULL;
    o->scenario = abs ? sg_cli_keep(abs) : val;
    free(abs);
    return 0;
}

/* One option with its value; returns 0, or an exit code. */
static int parse_one(const char *cmd, const char *opt, const char *val, struct sg_cli_opts *o)
{
    uint64_t n = 0, m = 0;
    if (strcmp(opt, "seed") == 0) {
        if (!sg_cli_parse_u64(val, &o->seed)) return bad(cmd, "invalid seed", val);
    } else if (strcmp(opt, "seeds") == 0) {
        if (!parse_range(val, &o->seed_from, &o->seed_to))
            return bad(cmd, "invalid seed range (A..B, A <= B)", val);
        o->has_seeds = true;
    } else if (strcmp(opt, "withdrawals") == 0) {
        if (!sg_cli_parse_u64(val, &n) || n == 0 || n > 1000000)
            return bad(cmd, "invalid --withdrawals (1..1000000)", val);
        o->withdrawals = (uint32_t)n;
    } else if (strcmp(opt, "scenario") == 0) {
        int rc = parse_scenario(cmd, val, o);
        if (rc) return rc;
    } else if (strcmp(opt, "bug") == 0) {
        enum sg_bug b = sg_bug_parse(val);
        if (b == SG_BUG_COUNT) return bad(cmd, "unknown bug (try: sagasim bugs)", val);
        o->bugs |= 1ull << b;
    } else if (strcmp(opt, "crash-at") == 0) {
        if (!parse_crash_at(val, o))
            return bad(cmd, "invalid --crash-at NODE:POINT[:N] (try: sagasim crashpoints)", val);
    } else if (strcmp(opt, "perturb") == 0) {
        if (!sg_cli_parse_u64(val, &o->perturb) || o->perturb == 0)
            return bad(cmd, "invalid --perturb", val);
    } else if (strcmp(opt, "timeline") == 0) {
        if (!sg_cli_parse_u64(val, &o->timeline_seed)) return bad(cmd, "invalid --timeline seed", val);
        o->has_timeline = true;
    } else if (strcmp(opt, "tape") == 0) {
        o->tape_path = val;
    } else if (strcmp(opt, "out") == 0) {
        o->out_path = val;
    } else if (strcmp(opt, "trace") == 0) {
        o->trace_path = val;
    } else if (strcmp(opt, "report") == 0) {
        o->report_dir = val;
    } else if (strcmp(opt, "jobs") == 0) {
        if (!sg_cli_parse_u64(val, &n) || n == 0 || n > 256) return bad(cmd, "invalid --jobs", val);
        o->jobs = (uint32_t)n;
    } else if (strcmp(opt, "repeat") == 0) {
        if (!sg_cli_parse_u64(val, &n) || n == 0 || n > 100)
            return bad(cmd, "invalid --repeat (1..100)", val);
        o->repeat = (uint32_t)n;
    } else if (strcmp(opt, "shard") == 0) {
        const char *slash = strchr(val, '/');
        char left[24];
        size_t len = slash ? (size_t)(slash - val) : 0;
        if (!slash || len == 0 || len >= sizeof left) return bad(cmd, "invalid --shard i/n", val);
        memcpy(left, val, len);
        left[len] = '\0';
        if (!sg_cli_parse_u64(left, &n) || !sg_cli_parse_u64(slash + 1, &m) || n == 0 || n > m ||
            m > 1000000)
            return bad(cmd, "invalid --shard i/n (1 <= i <= n)", val);
        o->shard_i = (uint32_t)n;
        o->shard_n = (uint32_t)m;
    } else {
        return bad(cmd, "unknown option", opt);
    }
    return 0;
}

int sg_cli_parse(int argc, char **argv, const char *cmd, const char *usage,
                 const char *allowed, struct sg_cli_opts *o)
{
    memset(o, 0, sizeof *o);
    o->scenario = "default";
    o->seed = 1;
    o->crash_point = -1;
    o->jobs = 1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(usage, stdout);
            return -1;
        }
        if (strncmp(arg, "--", 2) != 0 || !allowed_opt(allowed, arg + 2))
            return bad(cmd, "unknown option", arg);
        const char *name = arg + 2;
        if (strcmp(name, "swarm") == 0) o->swarm = true;
        else if (strcmp(name, "check-determinism") == 0) o->check_determinism = true;
        else if (strcmp(name, "crashpoints") == 0) o->crashpoints = true;
        else if (strcmp(name, "require-coverage") == 0) o->require_coverage = true;
        else if (i + 1 >= argc) return bad(cmd, "missing value for", arg);
        else {
            int rc = parse_one(cmd, name, argv[++i], o);
            if (rc) return rc;
        }
    }
    return 0;
}

void sg_cli_config(const struct sg_cli_opts *o, uint64_t seed, struct sg_run_config *rc)
{
    char err[SG_SCENARIO_ERR_LEN];
    if (sg_scenario_load(o->scenario, seed, rc, NULL, err, sizeof err) != SG_SCENARIO_OK) {
        /* It loaded when parsed: a scenario file changed or vanished since. */
        fprintf(stderr, "%s\n", err);
        exit(SG_EXIT_USAGE);
    }
    rc->cfg.bugs = o->bugs;
    if (o->swarm) sg_faults_swarm(&rc->world.faults, seed);
    if (o->withdrawals) rc->wl.withdrawals = o->withdrawals;
    if (o->crash_point >= 0) {
        size_t n = 0;
        const struct sg_crashpoint *cp = &sg_crashpoints(&n)[o->crash_point];
        if (!sg_world_add_crash_at(&rc->world, cp->role, cp->point, o->crash_hit)) {
            fprintf(stderr, "--crash-at: the scenario already names %d crash points\n",
                    SG_CRASH_AT_MAX);
            exit(SG_EXIT_USAGE);
        }
    }
}

char *sg_cli_shell_word(const char *s)
{
    bool plain = *s != '\0';
    for (const char *p = s; *p; p++)
        plain &= (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                 (*p >= '0' && *p <= '9') || strchr("/._-+,:=@%", *p) != NULL;
    char *buf = malloc(4 * strlen(s) + 3);
    if (!buf) abort();
    if (plain) return strcpy(buf, s);
    size_t used = 0;
    buf[used++] = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            memcpy(buf + used, "'\\''", 4); /* close, an escaped quote, reopen */
            used += 4;
        } else {
            buf[used++] = *p;
        }
    }
    buf[used++] = '\'';
    buf[used] = '\0';
    return buf;
}

/* Appends printf output to a heap string. */
static char *append(char *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *append(char *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    size_t have = strlen(s);
    char *out = realloc(s, have + (n > 0 ? (size_t)n : 0) + 1);
    if (!out) abort();
    va_start(ap, fmt);
    vsnprintf(out + have, (n > 0 ? (size_t)n : 0) + 1, fmt, ap);
    va_end(ap);
    return out;
}

char *sg_cli_replay_tape(const char *path)
{
    char *abs = realpath(path, NULL);
    char *word = sg_cli_shell_word(abs ? abs : path);
    char *cmd = sg_cli_strf("sagasim replay --tape %s", word);
    free(word);
    free(abs);
    return cmd;
}

char *sg_cli_replay(const struct sg_cli_opts *o, uint64_t seed)
{
    if (o->tape_path) return sg_cli_replay_tape(o->tape_path);
    char *scenario = sg_cli_shell_word(o->scenario);
    char *buf = sg_cli_strf("sagasim run --scenario %s --seed %" PRIu64, scenario, seed);
    free(scenario);
    if (o->withdrawals) buf = append(buf, " --withdrawals %u", o->withdrawals);
    else {
        struct sg_run_config rc;
        sg_cli_config(o, seed, &rc);
        buf = append(buf, " --withdrawals %u", rc.wl.withdrawals);
    }
    for (int b = 0; b < SG_BUG_COUNT; b++)
        if (sg_bug_on(o->bugs, (enum sg_bug)b))
            buf = append(buf, " --bug %s", sg_bug_info((enum sg_bug)b)->name);
    if (o->swarm) buf = append(buf, " --swarm");
    if (o->crash_point >= 0) {
        size_t n = 0;
        const struct sg_crashpoint *cp = &sg_crashpoints(&n)[o->crash_point];
        buf = append(buf, " --crash-at %s:%s:%u", sg_role_name(cp->role), cp->point,
                     o->crash_hit);
    }
    return buf;
}
