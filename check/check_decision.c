/*
 * check_decision.c: I7 decision-agreement (DESIGN §1 "Decisions", §5).
 *
 * Decisions are pure (core/decide.h), so the checker recomputes each one from the
 * withdrawal row and the run's configuration and compares it with the stored row. Per
 * withdrawal: COMPLETED needs identity APPROVED and risk APPROVED; FAILED carries the
 * reason of the rejecting decision (identity's when identity rejected, else risk's); a
 * risk decision exists only after identity approved. A decision row for a withdrawal that
 * does not exist is reported too (nothing could have commanded it).
 */
#include <inttypes.h>
#include <string.h>

#include "check_int.h"
#include "decide.h"

static bool approved(const struct ck_decision *d)
{
    return d && strcmp(d->decision, "APPROVED") == 0;
}

static bool rejected(const struct ck_decision *d)
{
    return d && strcmp(d->decision, "REJECTED") == 0;
}

static const char *shown(const struct ck_decision *d)
{
    return d ? d->decision : "missing";
}

/* A FAILED withdrawal that both decisions approved failed in the money half: the ledger
 * rejected its hold ("insufficient_funds") or the rail failed its payout ("payout_failed",
 * a pure function of the withdrawal id like the decisions: recomputed). */
static bool money_failure(const struct ck_ctx *c, const struct ck_wd *wd)
{
    const struct ck_money *m = &c->w->money;
    if (!m->judged) return false;
    const struct ck_hold *h = ck_money_find(m->hold, m->n_hold, sizeof *m->hold, wd->id);
    const struct ck_paid *p = ck_money_find(m->paid, m->n_paid, sizeof *m->paid, wd->id);
    if (strcmp(wd->reason, "insufficient_funds") == 0) return h && !strcmp(h->state, "REJECTED");
    if (strcmp(wd->reason, "payout_failed") != 0) return false;
    if (c->in->cfg) return !sg_decide_payout(c->in->cfg, wd->id).approved; /* recomputed */
    return p && !strcmp(p->outcome, "FAILED");
    return false;
}

static void i7_withdrawal(struct ck_ctx *c, const struct ck_wd *wd)
{
    const struct ck_decision *idd = ck_dec_find(c->w, CK_IDENTITY, wd->id);
    const struct ck_decision *rd = ck_dec_find(c->w, CK_RISK, wd->id);
    c->out->checked[SG_I7]++;
    if (wd->status == SG_STATUS_COMPLETED && (!approved(idd) || !approved(rd)))
        ck_violation(c, SG_I7, wd->id, "withdrawal %s COMPLETED but identity %s, risk %s",
                     wd->id, shown(idd), shown(rd));
    if (wd->status == SG_STATUS_FAILED) {
        const struct ck_decision *rej = rejected(idd) ? idd : rejected(rd) ? rd : NULL;
        if (!rej && money_failure(c, wd)) return;
        if (!rej)
            ck_violation(c, SG_I7, wd->id, "withdrawal %s FAILED ('%s') but no decision"
                         " rejected it (identity %s, risk %s)", wd->id, wd->reason,
                         shown(idd), shown(rd));
        else if (strcmp(rej->reason, wd->reason) != 0)
            ck_violation(c, SG_I7, wd->id, "withdrawal %s FAILED with reason '%s' but %s"
                         " rejected with '%s'", wd->id, wd->reason,
                         rej == idd ? "identity" : "risk", rej->reason);
    }
    if (rd && !approved(idd))
        ck_violation(c, SG_I7, wd->id, "withdrawal %s has a risk decision (%s) but identity"
                     " is %s", wd->id, rd->decision, shown(idd));
}

/* Every stored decision equals the recomputed one. */
static void i7_recompute(struct ck_ctx *c, enum ck_svc s)
{
    const struct ck_service *v = &c->w->svc[s];
    for (size_t i = 0; i < v->n_dec; i++) {
        const struct ck_decision *d = &v->dec[i];
        const struct ck_wd *wd = ck_wd_find(c->w, d->wid);
        c->out->checked[SG_I7]++;
        if (!wd) {
            ck_violation(c, SG_I7, d->wid, "%s decision %s for withdrawal %s, which does not"
                         " exist", ck_svc_name(s), d->decision, d->wid);
            continue;
        }
        if (!c->in->cfg) continue;
        struct sg_decision want = s == CK_IDENTITY
            ? sg_decide_identity(c->in->cfg, wd->id, wd->user_id)
            : sg_decide_risk(c->in->cfg, wd->id, wd->asset, wd->amount);
        const char *want_text = want.approved ? "APPROVED" : "REJECTED";
        if (strcmp(d->decision, want_text) != 0 || strcmp(d->reason, want.reason) != 0)
            ck_violation(c, SG_I7, wd->id, "withdrawal %s: %s decided %s '%s' but the"
                         " decision recomputes to %s '%s'", wd->id, ck_svc_name(s),
                         d->decision, d->reason, want_text, want.reason);
    }
}

void ck_check_i7(struct ck_ctx *c)
{
    for (size_t i = 0; i < c->w->n_wd; i++) i7_withdrawal(c, &c->w->wd[i]);
    i7_recompute(c, CK_IDENTITY);
    i7_recompute(c, CK_RISK);
}
