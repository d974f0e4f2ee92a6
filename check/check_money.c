/*
 * check_money.c: the money invariants (DESIGN §5), judged on the ledger's accounts, holds
 * and journal and on the payout rail's effects.
 *
 * I11 money conserved: every account keeps opening = available + held + paid_out, no
 *     balance is negative, held is the sum of its PLACED holds and paid_out of its SETTLED
 *     ones (so money can neither appear, vanish, nor sit in a column no hold explains).
 * I12 hold lifecycle: per withdrawal at most one PLACE, at most one SETTLE, at most one
 *     release of money, never a settle and a release of money both, and no settle without
 *     a payout the rail made.
 * I13 no stuck money: every terminal withdrawal agrees with its hold (COMPLETED: SETTLED;
 *     FAILED or CANCELED: released, rejected, or never held) and, after the heal phase,
 *     no hold is still PLACED.
 * I14 paid once: the rail's effects per withdrawal are at most one, exactly one for a
 *     COMPLETED withdrawal and none for a FAILED or CANCELED one.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "check_int.h"

static const struct ck_hold *hold_of(const struct ck_money *m, const char *wid)
{
    return ck_money_find(m->hold, m->n_hold, sizeof *m->hold, wid);
}

static const struct ck_paid *paid_of(const struct ck_money *m, const char *wid)
{
    return ck_money_find(m->paid, m->n_paid, sizeof *m->paid, wid);
}

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r = 0;
    if (!__builtin_add_overflow(a, b, &r)) return r;
    return b > 0 ? INT64_MAX : INT64_MIN;
}

void sg_money_add(struct sg_money *m, const char *asset, int64_t opening, int64_t available,
                  int64_t held, int64_t paid_out)
{
    size_t i = 0;
    while (i < m->n_assets && strcmp(m->assets[i].asset, asset) != 0) i++;
    if (i == m->n_assets && m->n_assets < SG_MONEY_ASSETS_MAX - 1) {
        snprintf(m->assets[m->n_assets++].asset, sizeof m->assets[0].asset, "%s", asset);
    } else if (i == m->n_assets) { /* the last row sums every further asset, as "*" */
        i = SG_MONEY_ASSETS_MAX - 1;
        snprintf(m->assets[i].asset, sizeof m->assets[i].asset, "*");
        m->n_assets = SG_MONEY_ASSETS_MAX;
    }
    struct sg_money_asset *a = &m->assets[i];
    a->opening = sat_add(a->opening, opening);
    a->available = sat_add(a->available, available);
    a->held = sat_add(a->held, held);
    a->paid_out = sat_add(a->paid_out, paid_out);
}

void ck_check_i11(struct ck_ctx *c)
{
    const struct ck_money *m = &c->w->money;
    struct sg_money *sum = &c->out->money;
    sum->judged = m->judged;
    for (size_t i = 0; i < m->n_acc; i++) {
        const struct ck_account *a = &m->acc[i];
        c->out->checked[SG_I11]++;
        sum->accounts++;
        sg_money_add(sum, a->asset, a->opening, a->available, a->held, a->paid_out);
        int64_t total = 0;
        bool overflow = __builtin_add_overflow(a->available, a->held, &total) ||
                        __builtin_add_overflow(total, a->paid_out, &total);
        if (overflow || total != a->opening)
            ck_violation(c, SG_I11, "", "account %s/%s: opening %" PRId64 " but available %"
                         PRId64 " + held %" PRId64 " + paid_out %" PRId64 " = %s%" PRId64
                         " (money %s)", a->user_id, a->asset, a->opening, a->available,
                         a->held, a->paid_out, overflow ? "overflow " : "", total,
                         !overflow && total < a->opening ? "lost" : "created");
        else if (a->available < 0 || a->held < 0 || a->paid_out < 0)
            ck_violation(c, SG_I11, "", "account %s/%s: a negative balance (available %"
                         PRId64 ", held %" PRId64 ", paid_out %" PRId64 ")", a->user_id,
                         a->asset, a->available, a->held, a->paid_out);
        else if (a->held != a->holds_placed || a->paid_out != a->holds_settled)
            ck_violation(c, SG_I11, "", "account %s/%s: held %" PRId64 " but its placed holds"
                         " sum to %" PRId64 ", paid_out %" PRId64 " but its settled holds to %"
                         PRId64, a->user_id, a->asset, a->held, a->holds_placed, a->paid_out,
                         a->holds_settled);
    }
    for (size_t i = 0; i < m->n_hold; i++)
        sum->holds_open += strcmp(m->hold[i].state, "PLACED") == 0;
    for (size_t i = 0; i < m->n_paid; i++) sum->payouts += (uint64_t)m->paid[i].effects;
}

/* One withdrawal's journal entries [e0, e1). */
static void i12_withdrawal(struct ck_ctx *c, size_t e0, size_t e1)
{
    const struct ck_money *m = &c->w->money;
    const char *wid = m->entry[e0].wid;
    int places = 0, settles = 0, releases = 0;
    for (size_t i = e0; i < e1; i++) {
        const struct ck_entry *e = &m->entry[i];
        places += strcmp(e->kind, "PLACE") == 0;
        settles += strcmp(e->kind, "SETTLE") == 0;
        releases += strcmp(e->kind, "RELEASE") == 0 && e->amount > 0;
    }
    const struct ck_paid *p = paid_of(m, wid);
    c->out->checked[SG_I12]++;
    if (places > 1 || settles > 1 || releases > 1)
        ck_violation(c, SG_I12, wid, "withdrawal %s: %d holds placed, %d settled, %d released"
                     " (at most one each)", wid, places, settles, releases);
    else if (settles && releases)
        ck_violation(c, SG_I12, wid, "withdrawal %s: its hold was settled and released", wid);
    else if (settles && !(p && p->effects > 0))
        ck_violation(c, SG_I12, wid, "withdrawal %s: its hold was settled but the rail paid"
                     " nothing", wid);
    else if ((settles || releases) && !places)
        ck_violation(c, SG_I12, wid, "withdrawal %s: a hold settled or released that was"
                     " never placed", wid);
}

void ck_check_i12(struct ck_ctx *c)
{
    const struct ck_money *m = &c->w->money;
    for (size_t i = 0; i < m->n_entry;) {
        size_t j = i + 1;
        while (j < m->n_entry && strcmp(m->entry[j].wid, m->entry[i].wid) == 0) j++;
        i12_withdrawal(c, i, j);
        i = j;
    }
}

void ck_check_i13(struct ck_ctx *c)
{
    const struct ck_world *w = c->w;
    const struct ck_money *m = &w->money;
    if (!m->judged) return;
    for (size_t i = 0; i < w->n_wd; i++) {
        const struct ck_wd *wd = &w->wd[i];
        if (!sg_status_terminal(wd->status)) continue;
        const struct ck_hold *h = hold_of(m, wd->id);
        const char *state = h ? h->state : "none";
        c->out->checked[SG_I13]++;
        bool agrees = wd->status == SG_STATUS_COMPLETED
                          ? h && strcmp(state, "SETTLED") == 0
                          : !h || strcmp(state, "RELEASED") == 0 ||
                                strcmp(state, "REJECTED") == 0;
        if (!agrees)
            ck_violation(c, SG_I13, wd->id, "withdrawal %s is %s but its hold is %s", wd->id,
                         wd->status_text, state);
    }
    if (!c->in->liveness) return;
    for (size_t i = 0; i < m->n_hold; i++) {
        c->out->checked[SG_I13]++;
        if (strcmp(m->hold[i].state, "PLACED") == 0)
            ck_violation(c, SG_I13, m->hold[i].wid, "withdrawal %s: %" PRId64 " %s of %s still"
                         " held after the heal phase", m->hold[i].wid, m->hold[i].amount,
                         m->hold[i].asset, m->hold[i].user_id);
    }
}

void ck_check_i14(struct ck_ctx *c)
{
    const struct ck_world *w = c->w;
    const struct ck_money *m = &w->money;
    if (!m->judged) return;
    for (size_t i = 0; i < m->n_paid; i++) {
        const struct ck_paid *p = &m->paid[i];
        c->out->checked[SG_I14]++;
        if (p->effects > 1)
            ck_violation(c, SG_I14, p->wid, "withdrawal %s was paid out %" PRId64 " times (%"
                         PRId64 " in all)", p->wid, p->effects, p->amount);
    }
    for (size_t i = 0; i < w->n_wd; i++) {
        const struct ck_wd *wd = &w->wd[i];
        if (!sg_status_terminal(wd->status)) continue;
        const struct ck_paid *p = paid_of(m, wd->id);
        int64_t effects = p ? p->effects : 0;
        c->out->checked[SG_I14]++;
        if (wd->status == SG_STATUS_COMPLETED && effects != 1)
            ck_violation(c, SG_I14, wd->id, "withdrawal %s is COMPLETED but was paid out %"
                         PRId64 " times", wd->id, effects);
        else if (wd->status != SG_STATUS_COMPLETED && effects > 0)
            ck_violation(c, SG_I14, wd->id, "withdrawal %s is %s but was paid out %" PRId64
                         " times", wd->id, wd->status_text, effects);
    }
}
