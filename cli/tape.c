/*
 * tape.c: fault tapes on disk (see tape.h).
 */
#include "tape.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bugs.h"

void sg_tape_apply(const struct sg_tape *t, struct sg_run_config *rc)
{
    sg_cli_config(&t->opts, t->opts.seed, rc);
    if (t->io_off) rc->world.faults.io_error_ppm = 0;
    if (t->skew_off) {
        rc->world.faults.clock_skew_max_ns = 0;
        rc->world.faults.drift_ppm_max = 0;
    }
    rc->world.tape_active = !t->unmasked;
    rc->world.tape_keep = t->faults;
    rc->world.tape_keep_count = t->n_faults;
}

bool sg_tape_write(const struct sg_tape *t, const char *path, char *err, size_t cap)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, cap, "cannot write '%s'", path);
        return false;
    }
    fprintf(f, "sagasim-tape 1\nscenario %s\nseed %" PRIu64 "\n", t->opts.scenario,
            t->opts.seed);
    if (t->opts.withdrawals) fprintf(f, "withdrawals %u\n", t->opts.withdrawals);
    for (int b = 0; b < SG_BUG_COUNT; b++)
        if (sg_bug_on(t->opts.bugs, (enum sg_bug)b))
            fprintf(f, "bug %s\n", sg_bug_info((enum sg_bug)b)->name);
    fprintf(f, "io %s\nskew %s\ntotal %" PRIu64 "\nfaults", t->io_off ? "off" : "on",
            t->skew_off ? "off" : "on", t->total);
    for (size_t i = 0; i < t->n_faults; i++) fprintf(f, " %" PRIu64, t->faults[i]);
    fprintf(f, "\n");
    bool ok = fclose(f) == 0;
    if (!ok) snprintf(err, cap, "cannot write '%s'", path);
    return ok;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool parse_faults(struct sg_tape *t, char *list)
{
    t->faults = calloc(SG_TAPE_FAULTS_MAX, sizeof *t->faults);
    if (!t->faults) return false;
    for (char *tok = strtok(list, " \t\n"); tok; tok = strtok(NULL, " \t\n")) {
        if (t->n_faults == SG_TAPE_FAULTS_MAX || !sg_cli_parse_u64(tok, &t->faults[t->n_faults]))
            return false;
        t->n_faults++;
    }
    qsort(t->faults, t->n_faults, sizeof *t->faults, cmp_u64);
    return true;
}

/* One `key value` line; false when it is not valid. */
static bool parse_line(struct sg_tape *t, char *key, char *val, bool *magic)
{
    uint64_t n = 0;
    if (strcmp(key, "sagasim-tape") == 0) return *magic = strcmp(val, "1") == 0;
    if (strcmp(key, "scenario") == 0) {
        if (!*val) return false;
        t->opts.scenario = sg_cli_keep(val);
        return true;
    }
    if (strcmp(key, "seed") == 0) return sg_cli_parse_u64(val, &t->opts.seed);
    if (strcmp(key, "total") == 0) return sg_cli_parse_u64(val, &t->total);
    if (strcmp(key, "withdrawals") == 0) {
        if (!sg_cli_parse_u64(val, &n) || n == 0 || n > 1000000) return false;
        t->opts.withdrawals = (uint32_t)n;
        return true;
    }
    if (strcmp(key, "bug") == 0) {
        enum sg_bug b = sg_bug_parse(val);
        if (b == SG_BUG_COUNT) return false;
        t->opts.bugs |= 1ull << b;
        return true;
    }
    if (strcmp(key, "io") == 0 || strcmp(key, "skew") == 0) {
        bool off = strcmp(val, "off") == 0;
        if (!off && strcmp(val, "on") != 0) return false;
        *(strcmp(key, "io") == 0 ? &t->io_off : &t->skew_off) = off;
        return true;
    }
    if (strcmp(key, "faults") == 0) return parse_faults(t, val);
    return false;
}

bool sg_tape_read(struct sg_tape *t, const char *path, char *err, size_t cap)
{
    memset(t, 0, sizeof *t);
    t->opts.scenario = "default";
    t->opts.crash_point = -1;
    t->opts.jobs = 1;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, cap, "cannot read '%s'", path);
        return false;
    }
    size_t line_cap = 1u << 21; /* a tape line can list many ordinals */
    char *line = malloc(line_cap);
    bool magic = false, ok = line != NULL;
    if (!ok) snprintf(err, cap, "out of memory");
    for (unsigned no = 1; ok && fgets(line, (int)line_cap, f); no++) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        if (line[0] == '\0' || line[0] == '#') continue;
        char *sp = strchr(line, ' ');
        char *val = sp ? sp + 1 : line + strlen(line);
        if (sp) *sp = '\0';
        ok = (magic || strcmp(line, "sagasim-tape") == 0) && parse_line(t, line, val, &magic);
        if (!ok) snprintf(err, cap, "%s:%u: invalid tape line '%s'", path, no, line);
    }
    fclose(f);
    free(line);
    if (ok && !magic) snprintf(err, cap, "%s: not a sagasim tape (no 'sagasim-tape 1' line)", path);
    if (!ok || !magic) sg_tape_free(t);
    return ok && magic;
}

void sg_tape_free(struct sg_tape *t)
{
    free(t->faults);
    t->faults = NULL;
    t->n_faults = 0;
}
