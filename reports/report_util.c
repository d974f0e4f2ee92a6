/*
 * report_util.c: totals, escaping, UTF-8 cleaning and file handling shared by the report
 * writers (see report_int.h).
 *
 * Why escaping is strict: violation summaries, replay commands and trace records are
 * free text assembled from client input and database rows; a stray '<' or an invalid
 * byte must not turn junit.xml into something CI refuses to parse. XML 1.0 forbids most
 * control characters even as character references, so those become visible "\xNN" text.
 */
#include "report_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "assert.h"

const struct rp_fault_stat rp_fault_stats[RP_FAULT_STATS] = {
    {"events", offsetof(struct sg_world_stats, events)},
    {"messages", offsetof(struct sg_world_stats, messages)},
    {"timers", offsetof(struct sg_world_stats, timers)},
    {"crashes", offsetof(struct sg_world_stats, crashes)},
    {"restarts", offsetof(struct sg_world_stats, restarts)},
    {"dropped", offsetof(struct sg_world_stats, dropped)},
    {"duplicated", offsetof(struct sg_world_stats, duplicated)},
    {"delayed", offsetof(struct sg_world_stats, delayed)},
    {"partitions", offsetof(struct sg_world_stats, partitions)},
    {"crash_points", offsetof(struct sg_world_stats, crash_points)},
    {"fsync_faults", offsetof(struct sg_world_stats, fsync_faults)},
    {"clock_jumps", offsetof(struct sg_world_stats, clock_jumps)},
    {"poison", offsetof(struct sg_world_stats, poison)},
    {"down_crashes", offsetof(struct sg_world_stats, down_crashes)},
};
/* A counter added to struct sg_world_stats must be named above. */
_Static_assert(sizeof(struct sg_world_stats) == RP_FAULT_STATS * sizeof(uint64_t),
               "rp_fault_stats must name every counter of struct sg_world_stats");

uint64_t rp_fault_value(const struct sg_world_stats *s, size_t i)
{
    SG_ASSERT_PURE(s != NULL);
    SG_ASSERT_PURE(i < RP_FAULT_STATS);
    uint64_t v;
    memcpy(&v, (const unsigned char *)s + rp_fault_stats[i].offset, sizeof v);
    return v;
}

bool sg_report_seed_failing(const struct sg_report_seed *s)
{
    SG_ASSERT_PURE(s != NULL);
    if (!s->ok || s->panicked) return true;
    for (int i = SG_I1; i < SG_INV_COUNT; i++)
        if (s->failed[i]) return true;
    return false;
}

bool rp_seed_unjudged(const struct sg_report_seed *s)
{
    SG_ASSERT_PURE(s != NULL);
    if (!sg_report_seed_failing(s) || s->panicked) return false;
    for (int i = SG_I1; i < SG_INV_COUNT; i++)
        if (s->failed[i]) return false;
    return true;
}

static void add_seed(struct rp_totals *t, const struct sg_report_seed *s)
{
    for (int i = SG_I1; i < SG_INV_COUNT; i++) {
        t->checked[i] += s->checked[i];
        t->failed[i] += s->failed[i];
        t->seeds_failing[i] += s->failed[i] > 0;
    }
    for (int c = 0; c < SG_COV_COUNT; c++) {
        t->coverage[c] += s->coverage[c];
        t->coverage_seeds[c] += s->coverage[c] > 0;
    }
    for (size_t f = 0; f < RP_FAULT_STATS; f++) t->faults[f] += rp_fault_value(&s->faults, f);
    t->withdrawals += s->withdrawals;
    for (size_t k = 0; k < 8; k++) t->by_status[k] += s->by_status[k];
    if (s->money.judged) {
        t->money.judged = true;
        t->money_seeds++;
        t->money_failing += s->failed[SG_I11] > 0;
        for (size_t a = 0; a < s->money.n_assets; a++) {
            const struct sg_money_asset *m = &s->money.assets[a];
            sg_money_add(&t->money, m->asset, m->opening, m->available, m->held, m->paid_out);
        }
        t->money.accounts += s->money.accounts;
        t->money.holds_open += s->money.holds_open;
        t->money.payouts += s->money.payouts;
    }
    t->failing_seeds += sg_report_seed_failing(s);
    t->panicked_seeds += s->panicked;
    t->unjudged_seeds += rp_seed_unjudged(s);
}

void rp_totals_compute(const struct sg_report *r, struct rp_totals *t)
{
    SG_ASSERT_PURE(r != NULL);
    SG_ASSERT_PURE(t != NULL);
    SG_ASSERT_PURE(r->seeds != NULL || r->n_seeds == 0);
    memset(t, 0, sizeof *t);
    for (size_t k = 0; k < r->n_seeds; k++) add_seed(t, &r->seeds[k]);
    for (int c = 0; c < SG_COV_COUNT; c++) t->unreached += t->coverage_seeds[c] == 0;
    t->ok = t->failing_seeds == 0 && !(r->require_coverage && t->unreached > 0);
}

bool sg_report_ok(const struct sg_report *r)
{
    SG_ASSERT_PURE(r != NULL);
    struct rp_totals t;
    rp_totals_compute(r, &t);
    return t.ok;
}

char *rp_strf(const char *fmt, ...)
{
    SG_ASSERT_PURE(fmt != NULL);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    size_t cap = n > 0 ? (size_t)n + 1 : 1;
    char *s = malloc(cap);
    if (s == NULL) abort();
    va_start(ap, fmt);
    vsnprintf(s, cap, fmt, ap);
    va_end(ap);
    return s;
}

void rp_error(char *err, size_t cap, const char *what, const char *path, int errnum)
{
    SG_ASSERT_PURE(what != NULL);
    if (err == NULL || cap == 0) return;
    snprintf(err, cap, "%s '%s': %s", what, path ? path : "(null)",
             errnum ? strerror(errnum) : "failed");
}

FILE *rp_open(const char *path, char *err, size_t cap)
{
    SG_ASSERT_PURE(path != NULL);
    FILE *f = fopen(path, "wb");
    if (f == NULL) rp_error(err, cap, "cannot create", path, errno);
    return f;
}

bool rp_close(FILE *f, const char *path, char *err, size_t cap)
{
    SG_ASSERT_PURE(f != NULL);
    SG_ASSERT_PURE(path != NULL);
    bool failed = fflush(f) != 0 || ferror(f);
    int errnum = failed ? errno : 0;
    if (fclose(f) != 0 && !failed) {
        failed = true;
        errnum = errno;
    }
    if (failed) rp_error(err, cap, "cannot write", path, errnum);
    return !failed;
}

/* Length of the valid UTF-8 sequence at s (1..4), 0 when s starts an invalid one.
 * Overlong forms, surrogates and code points above U+10FFFF are invalid. */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp_out)
{
    unsigned char c = s[0];
    size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
             : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0) return 0;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1Fu) : n == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0; /* also stops at the terminating NUL */
        cp = cp << 6 | (s[k] & 0x3Fu);
    }
    static const uint32_t min_of[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_of[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    *cp_out = cp;
    return n;
}

size_t rp_utf8_clean(const char *s, char *out, size_t cap)
{
    SG_ASSERT_PURE(out != NULL);
    SG_ASSERT_PURE(cap > 0);
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t used = 0;
    while (*p) {
        uint32_t cp = 0;
        size_t n = utf8_seq(p, &cp);
        char hex[5];
        const char *piece = (const char *)p;
        size_t len = n;
        if (n == 0) {
            snprintf(hex, sizeof hex, "\\x%02x", *p);
            piece = hex;
            len = 4;
            n = 1;
        }
        if (used + len >= cap) break;
        memcpy(out + used, piece, len);
        used += len;
        p += n;
    }
    out[used] = '\0';
    return used;
}

/* Escape of one character for XML/HTML, or NULL when it is written as it is. */
static const char *escape_of(uint32_t cp, enum rp_escape mode)
{
    switch (cp) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    case '\t': return mode == RP_ESC_ATTR ? "&#9;" : NULL;
    case '\n': return mode == RP_ESC_ATTR ? "&#10;" : NULL;
    case '\r': return "&#13;";
    default: return NULL;
    }
}

void rp_put_escaped(FILE *f, const char *s, enum rp_escape mode)
{
    SG_ASSERT_PURE(f != NULL);
    SG_ASSERT_PURE(mode == RP_ESC_TEXT || mode == RP_ESC_ATTR);
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        uint32_t cp = 0;
        size_t n = utf8_seq(p, &cp);
        bool forbidden = n == 0 || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
                         cp == 0x7F || cp == 0xFFFE || cp == 0xFFFF;
        if (forbidden) {
            fprintf(f, "\\x%02x", *p);
            p++;
            continue;
        }
        const char *e = escape_of(cp, mode);
        if (e) fputs(e, f);
        else fwrite(p, 1, n, f);
        p += n;
    }
}

void rp_put_seconds(FILE *f, double s)
{
    SG_ASSERT_PURE(f != NULL);
    if (!isfinite(s) || s < 0) s = 0;
    fprintf(f, "%.3f", s);
}
