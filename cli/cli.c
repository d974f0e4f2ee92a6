/*
 * cli.c: helpers shared by the subcommands (see cli.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "status.h"

bool sg_cli_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+') return false;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9') return false;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return false;
    *out = (uint64_t)v;
    return true;
}

double sg_cli_wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* x / y with two decimals, in integers (no float formatting in deterministic output). */
static void print_ratio(const char *key, uint64_t x, uint64_t y)
{
    uint64_t hundredths = y ? (x * 100 + y / 2) / y : 0;
    printf("%s=%" PRIu64 ".%02" PRIu64 "\n", key, hundredths / 100, hundredths % 100);
}

/* money_conserved=yes|no (I11) and the ledger's books per asset at the end. */
static void print_money(const struct sg_check_report *r)
{
    const struct sg_money *m = &r->money;
    if (!m->judged) return;
    printf("money_conserved=%s\n", r->failed[SG_I11] ? "no" : "yes");
    for (size_t i = 0; i < m->n_assets; i++) {
        const struct sg_money_asset *a = &m->assets[i];
        printf("money.%s=opening:%" PRId64 " available:%" PRId64 " held:%" PRId64
               " paid_out:%" PRId64 "\n", a->asset, a->opening, a->available, a->held,
               a->paid_out);
    }
    printf("money.accounts=%" PRIu64 "\nmoney.holds_open=%" PRIu64 "\nmoney.payouts=%" PRIu64
           "\n", m->accounts, m->holds_open, m->payouts);
}

void sg_cli_print_result(const struct sg_cli_opts *o, const struct sg_run_config *rc,
                         const struct sg_run_result *res)
{
    const struct sg_check_report *r = &res->report;
    printf("seed=%" PRIu64 "\nscenario=%s\nhash=%016" PRIx64 "\nverdict=%s\n", rc->seed,
           o->scenario, res->hash, res->ok ? "ok" : "violation");
    printf("withdrawals=%" PRIu64 "\ncreates_started=%" PRIu64 "\n", r->withdrawals,
           res->creates_started);
    for (int s = SG_STATUS_REQUESTED; s < SG_STATUS_COUNT; s++)
        printf("status.%s=%" PRIu64 "\n", sg_status_name((enum sg_status)s), r->by_status[s]);
    uint64_t terminal = r->by_status[SG_STATUS_COMPLETED] + r->by_status[SG_STATUS_FAILED] +
                        r->by_status[SG_STATUS_CANCELED];
    printf("commits=%" PRIu64 "\n", res->commits);
    print_ratio("commits_per_saga", res->commits, terminal);
    printf("events=%" PRIu64 "\nmessages=%" PRIu64 "\nsim_ms=%" PRId64 "\n", res->world.events,
           res->world.messages, res->sim_ns / 1000000);
    const struct sg_world_stats *f = &res->world;
    printf("faults=dropped:%" PRIu64 " duplicated:%" PRIu64 " delayed:%" PRIu64
           " partitions:%" PRIu64 " crashes:%" PRIu64 " crash_points:%" PRIu64
           " fsync:%" PRIu64 " clock_jumps:%" PRIu64 " poison:%" PRIu64 "\n",
           f->dropped, f->duplicated, f->delayed, f->partitions, f->crashes, f->crash_points,
           f->fsync_faults, f->clock_jumps, f->poison);
    print_money(r);
    if (res->panicked) printf("violation=ASSERT %s\n", res->panic_what);
    if (r->error[0]) printf("violation=CHECK %s\n", r->error);
    for (size_t i = 0; i < r->count; i++)
        printf("violation=%s %s\n", sg_inv_name(r->v[i].inv), r->v[i].summary);
    for (int k = 0; k < SG_COV_COUNT; k++)
        if (res->coverage_missing >> k & 1u)
            printf("violation=COVERAGE %s not reached (the scenario requires it)\n",
                   sg_coverage_name((enum sg_coverage)k));
    if (!res->ok) {
        char *replay = sg_cli_replay(o, rc->seed);
        printf("replay=%s\n", replay);
        free(replay);
    }
}

void sg_cli_print_seed_violation(const struct sg_report_seed *r)
{
    char invs[80] = "";
    for (int i = SG_I1; i < SG_INV_COUNT; i++) {
        if (!r->failed[i]) continue;
        size_t used = strlen(invs);
        snprintf(invs + used, sizeof invs - used, "%s%s", used ? "," : "",
                 sg_inv_name((enum sg_inv)i));
    }
    const char *text = r->first_violation;
    const char *space = strchr(text, ' ');
    if (invs[0] && space && text[0] == 'I') text = space + 1; /* "I5 <evidence>" */
    printf("violation=seed %" PRIu64 ": %s%s%s\n", r->seed, invs, invs[0] ? " " : "", text);
}

char *sg_cli_command_line(int argc, char **argv)
{
    size_t used = strlen("sagasim"), cap = used + 1;
    char *buf = malloc(cap);
    if (!buf) abort();
    memcpy(buf, "sagasim", cap);
    for (int i = 0; i < argc; i++) {
        char *word = sg_cli_shell_word(argv[i]);
        size_t n = strlen(word);
        cap = used + 1 + n + 1;
        char *grown = realloc(buf, cap);
        if (!grown) abort();
        buf = grown;
        buf[used++] = ' ';
        memcpy(buf + used, word, n + 1);
        used += n;
        free(word);
    }
    return buf;
}

char *sg_cli_strf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = malloc(n > 0 ? (size_t)n + 1 : 1);
    if (!s) abort();
    va_start(ap, fmt);
    vsnprintf(s, n > 0 ? (size_t)n + 1 : 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Kept strings: a list reachable from a static, so they live (and are not leaks) until
 * the process ends. */
struct kept {
    struct kept *next;
    char s[];
};
static struct kept *kept_strings;

const char *sg_cli_keep(const char *s)
{
    size_t n = strlen(s) + 1;
    struct kept *k = malloc(sizeof *k + n);
    if (!k) abort();
    memcpy(k->s, s, n);
    k->next = kept_strings;
    kept_strings = k;
    return k->s;
}
