/*
 * report_int.h: what the report writers share (internal to reports/).
 *
 * - Totals over all seeds, computed once per writer call (rp_totals_compute), so the three
 *   files always agree on counts and verdicts.
 * - The names of struct sg_world_stats' counters, in declaration order (report.json and the
 *   HTML fault table use the same names).
 * - Escaping: every text that reaches XML or HTML goes through rp_put_escaped; every text
 *   that reaches jansson goes through rp_utf8_clean. Both turn bytes that are not valid
 *   UTF-8 (and, for XML/HTML, control characters XML 1.0 forbids) into the visible text
 *   "\xNN", so the output is always well-formed whatever the input bytes are.
 * - Files: rp_open/rp_close put the path and strerror into the caller's message buffer.
 */
#ifndef SG_REPORT_INT_H
#define SG_REPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report.h"

/* Longest list of seeds written in one place (a failure message, an HTML table); the rest
 * is summarised as "N more" and is in report.json. */
enum { RP_LIST_MAX = 200 };

enum { RP_FAULT_STATS = 14 };
struct rp_fault_stat {
    const char *name;
    size_t offset;
};
extern const struct rp_fault_stat rp_fault_stats[RP_FAULT_STATS];
uint64_t rp_fault_value(const struct sg_world_stats *s, size_t i);

struct rp_totals {
    uint64_t checked[SG_INV_COUNT], failed[SG_INV_COUNT];
    size_t seeds_failing[SG_INV_COUNT];      /* seeds with failed[i] > 0 */
    uint64_t coverage[SG_COV_COUNT];
    size_t coverage_seeds[SG_COV_COUNT];     /* seeds that reached the path */
    size_t unreached;                        /* paths no seed reached */
    uint64_t faults[RP_FAULT_STATS];
    uint64_t withdrawals, by_status[8];
    struct sg_money money;                   /* summed over the seeds that judged money */
    size_t money_seeds, money_failing;       /* seeds judging money; of them, I11 failed */
    size_t failing_seeds;                    /* seeds judged "violation" */
    size_t panicked_seeds;
    size_t unjudged_seeds;                   /* failing, not panicked, no invariant failed */
    bool ok;                                 /* overall verdict, coverage included */
};

/* Failing without a panic and without any failed invariant (e.g. a database unreadable). */
bool rp_seed_unjudged(const struct sg_report_seed *s);
void rp_totals_compute(const struct sg_report *r, struct rp_totals *t);

/* printf into a new heap string (aborts when memory runs out, like the CLI's helper). */
char *rp_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes a message "what 'path': strerror" into err (which may be NULL). */
void rp_error(char *err, size_t cap, const char *what, const char *path, int errnum);
FILE *rp_open(const char *path, char *err, size_t cap);
/* Flushes and closes; false (with a message) when any write to f failed. */
bool rp_close(FILE *f, const char *path, char *err, size_t cap);

enum rp_escape {
    RP_ESC_TEXT, /* element content: & < > " ' escaped, tab and newline kept */
    RP_ESC_ATTR, /* attribute values: also tab, newline and CR as character references */
};
void rp_put_escaped(FILE *f, const char *s, enum rp_escape mode);
/* A copy of s (at most cap - 1 bytes, always terminated, never a split character) that
 * is valid UTF-8: each invalid byte becomes "\xNN". Returns the length written. */
size_t rp_utf8_clean(const char *s, char *out, size_t cap);
/* Prints a number of seconds deterministically ("0.000" when not finite or negative). */
void rp_put_seconds(FILE *f, double s);

/* The timeline picture (timeline.c): a caption paragraph plus one inline <svg> (t->html
 * as it is when the picture was drawn before). Returns false only when memory ran out
 * (then nothing was written). */
bool rp_timeline_write(FILE *f, const struct sg_report_timeline *t);
/* The same picture as a heap string (the caller frees); NULL when memory ran out. */
char *rp_timeline_html(const struct sg_report_timeline *t);
/* timeline_money.c: under the picture, the records of t->withdrawal_id that moved it or its
 * money (creation, transitions, saga steps, ledger, payout), in trace order; nothing when
 * t names no withdrawal or none of its records qualifies. */
void rp_money_timeline_write(FILE *f, const struct sg_report_timeline *t);

#endif
