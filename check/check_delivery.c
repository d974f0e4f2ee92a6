/*
 * check_delivery.c: the messaging family: I5 outbox-delivered, I6 effect-once and
 * I8 liveness (DESIGN §5, §8 "Invariant data", §8.1 "Invariant terms", "Poison records").
 *
 * Broker records with injected=1 (poison from the simulated broker) and records whose
 * value does not decode to an Event with an event_id take no part in I5: they have no
 * outbox row by design. At-least-once delivery means one event id may sit in the log more
 * than once; order is judged on each event id's first occurrence.
 *
 * - I5: every outbox row (orch, identity, risk) is in the log; every record has an outbox
 *   row; its topic is "cbsaga." + route_key and its key the aggregate id; one withdrawal's
 *   records on one topic share one partition (XXH3(key) mod partitions) and first appear
 *   in outbox seq order; each transition-log row has its evt.withdrawal record (the k-th
 *   distinct event of the withdrawal matches the k-th transition); every command record
 *   was consumed (an inbox row in identity.db / risk.db).
 * - I6: a decider applied at most one command per withdrawal, and as many commands as it
 *   has decisions; no decision event caused two orchestrator transitions.
 * - I8 (only after a heal phase): every withdrawal is terminal, and every consumer group's
 *   committed offset is at the log end of every partition that has records.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "check_int.h"

/* ---- I5 ---- */

/* Every outbox row is in the log, on its topic, keyed by its aggregate. */
static void i5_outbox_in_log(struct ck_ctx *c, enum ck_svc s)
{
    const struct ck_world *w = c->w;
    for (size_t i = 0; i < w->svc[s].n_outbox; i++) {
        const struct ck_outbox *o = &w->svc[s].outbox[i];
        char topic[160];
        snprintf(topic, sizeof topic, "cbsaga.%s", o->route_key);
        c->out->checked[SG_I5]++;
        size_t pos = ck_index_lower(&w->rec_by_id, o->event_id, NULL);
        if (!ck_index_at(&w->rec_by_id, pos, o->event_id, NULL)) {
            ck_violation(c, SG_I5, o->aggregate_id, "%s outbox seq %" PRId64 " event %s (%s of"
                         " withdrawal %s) is not in the broker log", ck_svc_name(s), o->seq,
                         o->event_id, o->event_type, o->aggregate_id);
            continue;
        }
        for (; ck_index_at(&w->rec_by_id, pos, o->event_id, NULL); pos++) {
            const struct ck_record *r = &w->rec[w->rec_by_id.k[pos].idx];
            /* The key is the withdrawal the event concerns (its payload), always. */
            if (strcmp(r->topic, topic) == 0 && strcmp(r->key, o->aggregate_id) == 0 &&
                strcmp(r->key, r->wid) == 0)
                continue;
            ck_violation(c, SG_I5, r->wid, "event %s (%s of withdrawal %s) is in %s"
                         " partition %" PRId64 " offset %" PRId64 " with key %s; expected %s"
                         " with key %s", o->event_id, o->event_type, r->wid,
                         r->topic, r->partition, r->offset, r->key, topic, r->wid);
            break;
        }
    }
}

/* Every live record has an outbox row; every command record was consumed. */
static void i5_records(struct ck_ctx *c)
{
    const struct ck_world *w = c->w;
    for (size_t i = 0; i < w->n_rec; i++) {
        const struct ck_record *r = &w->rec[i];
        if (r->injected || !r->decoded) continue;
        c->out->checked[SG_I5]++;
        if (!ck_outbox_find(w, r->event_id, NULL))
            ck_violation(c, SG_I5, r->wid, "record %s partition %" PRId64 " offset %" PRId64
                         " (event %s, %s) has no outbox row", r->topic, r->partition,
                         r->offset, r->event_id, r->event_type);
        enum ck_svc s = strcmp(r->topic, "cbsaga.cmd.identity") == 0 ? CK_IDENTITY
                      : strcmp(r->topic, "cbsaga.cmd.risk") == 0     ? CK_RISK
                      : strcmp(r->topic, "cbsaga.cmd.ledger") == 0   ? CK_LEDGER
                      : strcmp(r->topic, "cbsaga.cmd.payout") == 0   ? CK_PAYOUT
                                                                      : CK_ORCH;
        if (s == CK_ORCH || ((s == CK_LEDGER || s == CK_PAYOUT) && !w->money.judged) || ck_record_first(w, r->event_id) != i) continue;
        c->out->checked[SG_I5]++;
        size_t pos = ck_index_lower(&w->inbox_by_key[s], r->event_id, NULL);
        if (!ck_index_at(&w->inbox_by_key[s], pos, r->event_id, NULL))
            ck_violation(c, SG_I5, r->wid, "command %s (%s of withdrawal %s) at %s partition %"
                         PRId64 " offset %" PRId64 " was never consumed by %s", r->event_id,
                         r->event_type, r->wid, r->topic, r->partition, r->offset,
                         ck_svc_name(s));
    }
}

/* First occurrences in [g0, g1) of rec_by_keytopic (one partition) follow outbox seq. */
static void i5_order(struct ck_ctx *c, size_t g0, size_t g1)
{
    const struct ck_world *w = c->w;
    const struct ck_record *last[CK_SVC_COUNT] = {NULL};
    int64_t last_seq[CK_SVC_COUNT] = {0};
    for (size_t i = g0; i < g1; i++) {
        size_t ri = w->rec_by_keytopic.k[i].idx;
        const struct ck_record *r = &w->rec[ri];
        enum ck_svc s = CK_ORCH;
        const struct ck_outbox *o = ck_outbox_find(w, r->event_id, &s);
        if (!o || ck_record_first(w, r->event_id) != ri) continue;
        if (last[s] && o->seq < last_seq[s]) {
            ck_violation(c, SG_I5, r->key, "withdrawal %s on %s partition %" PRId64 ": event %s"
                         " (%s seq %" PRId64 ") at offset %" PRId64 " comes after event %s"
                         " (seq %" PRId64 ")", r->key, r->topic, r->partition, r->event_id,
                         ck_svc_name(s), o->seq, r->offset, last[s]->event_id, last_seq[s]);
            return;
        }
        last[s] = r;
        last_seq[s] = o->seq;
    }
}

/* One withdrawal's records on one topic: one partition, the key's, in commit order. */
static void i5_partitions(struct ck_ctx *c)
{
    const struct ck_index *ix = &c->w->rec_by_keytopic;
    const struct sg_config *cfg = c->in->cfg;
    for (size_t i = 0; i < ix->n;) {
        size_t j = i + 1;
        while (j < ix->n && !strcmp(ix->k[i].s1, ix->k[j].s1) && !strcmp(ix->k[i].s2, ix->k[j].s2))
            j++;
        const char *key = ix->k[i].s1, *topic = ix->k[i].s2;
        int64_t p0 = ix->k[i].n1, p1 = ix->k[j - 1].n1;
        c->out->checked[SG_I5]++;
        if (p0 != p1)
            ck_violation(c, SG_I5, key, "withdrawal %s has records on %s in partitions %" PRId64
                         " and %" PRId64, key, topic, p0, p1);
        else if (cfg && cfg->partitions > 0 && p0 != (int64_t)sg_partition_of(key, cfg->partitions))
            ck_violation(c, SG_I5, key, "withdrawal %s has records on %s in partition %" PRId64
                         ", not %" PRIu32 " (its key's)", key, topic, p0,
                         sg_partition_of(key, cfg->partitions));
        else
            i5_order(c, i, j);
        i = j;
    }
}

static enum sg_event_type status_event(const char *status)
{
    switch (sg_status_parse(status)) {
    case SG_STATUS_REQUESTED: return SG_EVT_WITHDRAWAL_REQUESTED;
    case SG_STATUS_IN_PROGRESS: return SG_EVT_WITHDRAWAL_IN_PROGRESS;
    case SG_STATUS_COMPLETED: return SG_EVT_WITHDRAWAL_COMPLETED;
    case SG_STATUS_FAILED: return SG_EVT_WITHDRAWAL_FAILED;
    case SG_STATUS_CANCELED: return SG_EVT_WITHDRAWAL_CANCELED;
    default: return SG_EVT_COUNT;
    }
}

/* The k-th distinct evt.withdrawal event of a withdrawal announces its k-th transition. */
static void i5_status_events(struct ck_ctx *c, const struct ck_wd *wd)
{
    const struct ck_world *w = c->w;
    const struct ck_index *tx = &w->tr_by_wid, *ex = &w->evtw_by_wid;
    size_t t = ck_index_lower(tx, wd->id, NULL), e = ck_index_lower(ex, wd->id, NULL);
    for (size_t k = 1; ck_index_at(tx, t, wd->id, NULL); t++, k++) {
        const struct ck_trans *tr = &w->tr[tx->k[t].idx];
        c->out->checked[SG_I5]++;
        while (ck_index_at(ex, e, wd->id, NULL) &&
               ck_record_first(w, w->rec[ex->k[e].idx].event_id) != ex->k[e].idx)
            e++; /* a redelivered copy */
        if (!ck_index_at(ex, e, wd->id, NULL)) {
            ck_violation(c, SG_I5, wd->id, "withdrawal %s: transition seq %" PRId64 " (to %s)"
                         " has no cbsaga.evt.withdrawal record (%zu found)", wd->id, tr->seq,
                         tr->to, k - 1);
            return;
        }
        const struct ck_record *r = &w->rec[ex->k[e++].idx];
        if (r->type != status_event(tr->to)) {
            ck_violation(c, SG_I5, wd->id, "withdrawal %s: evt.withdrawal event %zu is %s (%s)"
                         " but transition seq %" PRId64 " went to %s", wd->id, k,
                         r->event_type, r->event_id, tr->seq, tr->to);
            return;
        }
    }
}

/* No event id is in two outbox rows, of one service or of two: ids are fresh random
 * UUIDs, and consumers and the checker tell events apart by them. (The outbox has no
 * UNIQUE index on event_id since migration service_outbox_v2: this is where it is
 * judged.) */
static void i5_unique_event_ids(struct ck_ctx *c)
{
    const struct ck_index *ix = &c->w->ev_by_id;
    for (size_t i = 1; i < ix->n; i++) {
        const struct ck_key *a = &ix->k[i - 1], *b = &ix->k[i];
        c->out->checked[SG_I5]++;
        if (strcmp(a->s1, b->s1) != 0) continue;
        enum ck_svc sa = (enum ck_svc)a->n1, sb = (enum ck_svc)b->n1;
        const struct ck_outbox *oa = &c->w->svc[sa].outbox[a->idx];
        const struct ck_outbox *ob = &c->w->svc[sb].outbox[b->idx];
        ck_violation(c, SG_I5, ob->aggregate_id, "event id %s is in two outbox rows: %s seq %"
                     PRId64 " (%s) and %s seq %" PRId64 " (%s)", b->s1, ck_svc_name(sa),
                     oa->seq, oa->event_type, ck_svc_name(sb), ob->seq, ob->event_type);
    }
}

void ck_check_i5(struct ck_ctx *c)
{
    i5_unique_event_ids(c);
    for (int s = 0; s < CK_SVC_COUNT; s++) i5_outbox_in_log(c, (enum ck_svc)s);
    i5_records(c);
    i5_partitions(c);
    for (size_t i = 0; i < c->w->n_wd; i++) i5_status_events(c, &c->w->wd[i]);
}

/* ---- I6 ---- */

/* A decider applied each withdrawal's command once, and once per decision row. */
static void i6_decider(struct ck_ctx *c, enum ck_svc s)
{
    const struct ck_service *v = &c->w->svc[s];
    const char *cmd = sg_event_name(s == CK_IDENTITY ? SG_EVT_VERIFY_IDENTITY_REQUESTED
                                                     : SG_EVT_RISK_CHECK_REQUESTED);
    struct ck_index ix;
    if (!ck_index_alloc(&ix, v->n_inbox)) {
        ck_violation(c, SG_I6, "", "%s inbox not judged: out of memory", ck_svc_name(s));
        return;
    }
    for (size_t i = 0; i < v->n_inbox; i++) {
        const struct ck_inbox *r = &v->inbox[i];
        if (strcmp(r->result, "APPLIED") != 0 || strcmp(r->event_type, cmd) != 0) continue;
        const char *wid = ck_event_wid(c->w, r->event_id);
        *ck_index_push(&ix) = (struct ck_key){wid ? wid : "", NULL, NULL, 0, i, 0};
        c->out->checked[SG_I6]++;
    }
    ck_index_sort(&ix);
    bool dup = false;
    for (size_t i = 1; i < ix.n; i++) {
        if (ix.k[i].s1[0] == '\0' || strcmp(ix.k[i - 1].s1, ix.k[i].s1) != 0) continue;
        if (i >= 2 && strcmp(ix.k[i - 2].s1, ix.k[i].s1) == 0) continue; /* reported */
        dup = true;
        ck_violation(c, SG_I6, ix.k[i].s1, "%s applied %s twice for withdrawal %s: events %s"
                     " and %s", ck_svc_name(s), cmd, ix.k[i].s1,
                     v->inbox[ix.k[i - 1].idx].event_id, v->inbox[ix.k[i].idx].event_id);
    }
    c->out->checked[SG_I6]++;
    if (!dup && ix.n != v->n_dec)
        ck_violation(c, SG_I6, "", "%s inbox has %zu APPLIED %s rows but %zu decisions",
                     ck_svc_name(s), ix.n, cmd, v->n_dec);
    ck_index_free(&ix);
}

/* A decider announced at most one decision per withdrawal (its outbox): a command
 * applied twice shows here even when the decision row was overwritten. */
static void i6_announced(struct ck_ctx *c, enum ck_svc s)
{
    const struct ck_service *v = &c->w->svc[s];
    struct ck_index ix;
    if (!ck_index_alloc(&ix, v->n_outbox)) {
        ck_violation(c, SG_I6, "", "%s outbox not judged: out of memory", ck_svc_name(s));
        return;
    }
    for (size_t i = 0; i < v->n_outbox; i++)
        *ck_index_push(&ix) = (struct ck_key){v->outbox[i].aggregate_id, NULL, NULL, 0, i, 0};
    ck_index_sort(&ix);
    c->out->checked[SG_I6] += ix.n;
    for (size_t i = 1; i < ix.n; i++) {
        if (strcmp(ix.k[i - 1].s1, ix.k[i].s1) != 0) continue;
        if (i >= 2 && strcmp(ix.k[i - 2].s1, ix.k[i].s1) == 0) continue; /* reported */
        ck_violation(c, SG_I6, ix.k[i].s1, "%s announced two decisions for withdrawal %s:"
                     " events %s and %s", ck_svc_name(s), ix.k[i].s1,
                     v->outbox[ix.k[i - 1].idx].event_id, v->outbox[ix.k[i].idx].event_id);
    }
    ck_index_free(&ix);
}

/* No event caused two transitions (per withdrawal or across them). */
static void i6_causes(struct ck_ctx *c)
{
    const struct ck_world *w = c->w;
    struct ck_index ix;
    if (!ck_index_alloc(&ix, w->n_tr)) {
        ck_violation(c, SG_I6, "", "transition causes not judged: out of memory");
        return;
    }
    for (size_t i = 0; i < w->n_tr; i++)
        if (w->tr[i].cause[0] != '\0')
            *ck_index_push(&ix) = (struct ck_key){w->tr[i].cause, NULL, NULL, 0, i, 0};
    ck_index_sort(&ix);
    c->out->checked[SG_I6] += ix.n;
    for (size_t i = 1; i < ix.n; i++) {
        if (strcmp(ix.k[i - 1].s1, ix.k[i].s1) != 0) continue;
        if (i >= 2 && strcmp(ix.k[i - 2].s1, ix.k[i].s1) == 0) continue; /* reported */
        const struct ck_trans *a = &w->tr[ix.k[i - 1].idx], *b = &w->tr[ix.k[i].idx];
        ck_violation(c, SG_I6, b->wid, "event %s caused two transitions: withdrawal %s seq %"
                     PRId64 " (to %s) and withdrawal %s seq %" PRId64 " (to %s)", ix.k[i].s1,
                     a->wid, a->seq, a->to, b->wid, b->seq, b->to);
    }
    ck_index_free(&ix);
}

void ck_check_i6(struct ck_ctx *c)
{
    i6_announced(c, CK_IDENTITY);
    i6_announced(c, CK_RISK);
    i6_decider(c, CK_IDENTITY);
    i6_decider(c, CK_RISK);
    i6_causes(c);
}

/* ---- I8 ---- */

static const char *group_of(const char *topic)
{
    if (strcmp(topic, "cbsaga.cmd.identity") == 0) return "cbsaga-identity";
    if (strcmp(topic, "cbsaga.cmd.risk") == 0) return "cbsaga-risk";
    if (strcmp(topic, "cbsaga.cmd.ledger") == 0) return "cbsaga-ledger";
    if (strcmp(topic, "cbsaga.cmd.payout") == 0) return "cbsaga-payout";
    if (strcmp(topic, "cbsaga.evt.identity") == 0 || strcmp(topic, "cbsaga.evt.risk") == 0 ||
        strcmp(topic, "cbsaga.evt.ledger") == 0 || strcmp(topic, "cbsaga.evt.payout") == 0)
        return "cbsaga-orchestrator";
    return NULL;
}

static void i8_groups(struct ck_ctx *c)
{
    const struct ck_world *w = c->w;
    for (size_t i = 0; i < w->n_rec;) {
        size_t j = i + 1;
        while (j < w->n_rec && strcmp(w->rec[i].topic, w->rec[j].topic) == 0 &&
               w->rec[i].partition == w->rec[j].partition)
            j++;
        const struct ck_record *r = &w->rec[j - 1];
        const char *grp = group_of(r->topic);
        i = j;
        if (!grp) continue;
        int64_t end = r->offset + 1, committed = -1;
        for (size_t g = 0; g < w->n_goff; g++)
            if (!strcmp(w->goff[g].grp, grp) && !strcmp(w->goff[g].topic, r->topic) &&
                w->goff[g].partition == r->partition)
                committed = w->goff[g].offset;
        c->out->checked[SG_I8]++;
        if (committed != end)
            ck_violation(c, SG_I8, "", "group %s on %s partition %" PRId64 " committed %" PRId64
                         " but the log ends at %" PRId64, grp, r->topic, r->partition,
                         committed < 0 ? 0 : committed, end);
    }
}

void ck_check_i8(struct ck_ctx *c)
{
    for (size_t i = 0; i < c->w->n_wd; i++) {
        const struct ck_wd *wd = &c->w->wd[i];
        c->out->checked[SG_I8]++;
        if (!sg_status_terminal(wd->status))
            ck_violation(c, SG_I8, wd->id, "withdrawal %s is still %s after the heal phase",
                         wd->id, wd->status_text);
    }
    i8_groups(c);
}
