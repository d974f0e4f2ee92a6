/*
 * check.c: sg_check_run, the invariant names, and violation recording (check.h).
 *
 * The run is: load the four databases (check_load.c), index them with the history
 * (check_index.c), count the withdrawals by status, then judge I1..I10 in that order. The
 * report keeps the first SG_VIOLATIONS_MAX violations in check order and counts all of
 * them per invariant. Summaries are one line of evidence and do not repeat the invariant
 * name: a report line is `I<n> <summary>` (DESIGN §8.1 "CLI, complete").
 *
 * I5 and I8 need the heal phase. Without one (in->liveness false) I8 is not run at all
 * and I5 runs muted: its items are counted, its findings are not reported.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "assert.h"
#include "check_int.h"

static const char *const inv_names[SG_INV_COUNT] = {
    "?", "I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8", "I9", "I10", "I11", "I12", "I13",
    "I14"};
static const char *const inv_titles[SG_INV_COUNT] = {
    "?", "idempotent-create", "no-phantom", "legal-transitions", "saga-consistent",
    "outbox-delivered", "effect-once", "decision-agreement", "liveness", "durability",
    "trace-propagated", "money-conserved", "hold-lifecycle", "no-stuck-money", "paid-once"};

const char *sg_inv_name(enum sg_inv inv)
{
    return inv >= SG_I1 && inv < SG_INV_COUNT ? inv_names[inv] : "?";
}

const char *sg_inv_title(enum sg_inv inv)
{
    return inv >= SG_I1 && inv < SG_INV_COUNT ? inv_titles[inv] : "?";
}

void ck_violation(struct ck_ctx *c, enum sg_inv inv, const char *wid, const char *fmt, ...)
{
    SG_ASSERT_PURE(inv >= SG_I1 && inv < SG_INV_COUNT);
    SG_ASSERT_PURE(c->out->count <= SG_VIOLATIONS_MAX);
    if (c->mute[inv]) return;
    c->out->failed[inv]++;
    if (c->out->count >= SG_VIOLATIONS_MAX) return;
    struct sg_violation *v = &c->out->v[c->out->count++];
    memset(v, 0, sizeof *v);
    v->inv = inv;
    v->liveness = inv == SG_I8;
    snprintf(v->withdrawal_id, sizeof v->withdrawal_id, "%s", wid ? wid : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->summary, sizeof v->summary, fmt, ap);
    va_end(ap);
}

static void count_statuses(const struct ck_world *w, struct sg_check_report *out)
{
    out->withdrawals = w->n_wd;
    for (size_t i = 0; i < w->n_wd; i++) {
        enum sg_status s = w->wd[i].status;
        if (s < SG_STATUS_COUNT && (size_t)s < sizeof out->by_status / sizeof out->by_status[0])
            out->by_status[s]++;
    }
}

static void judge(struct ck_ctx *c)
{
    c->mute[SG_I5] = !c->in->liveness;
    for (int i = SG_I1; i < SG_INV_COUNT; i++)
        if (c->in->skip_mask & (1u << i)) c->mute[i] = true;
    ck_check_i1(c);
    ck_check_i2(c);
    ck_check_i3(c);
    ck_check_i4(c);
    ck_check_i5(c);
    ck_check_i6(c);
    ck_check_i7(c);
    if (c->in->liveness) {
        ck_check_i8(c);
        ck_check_i8_creates(c);
    }
    ck_check_i9(c);
    ck_check_i10(c);
    ck_check_i11(c);
    ck_check_i12(c);
    ck_check_i13(c);
    ck_check_i14(c);
}

bool sg_check_run(const struct sg_check_input *in, struct sg_check_report *out)
{
    SG_ASSERT_PURE(in != NULL);
    SG_ASSERT_PURE(out != NULL);
    memset(out, 0, sizeof *out);
    struct ck_world w;
    ck_world_init(&w);
    bool ok = ck_world_load(&w, in, out->error, sizeof out->error);
    if (ok && !ck_world_index(&w, in->history)) {
        snprintf(out->error, sizeof out->error, "checker: out of memory while indexing");
        ok = false;
    }
    if (ok) {
        struct ck_ctx c;
        memset(&c, 0, sizeof c);
        c.in = in;
        c.out = out;
        c.w = &w;
        count_statuses(&w, out);
        judge(&c);
    }
    ck_world_deinit(&w);
    if (!ok) return false;
    for (int i = SG_I1; i < SG_INV_COUNT; i++)
        if (out->failed[i] > 0) return false;
    return true;
}
