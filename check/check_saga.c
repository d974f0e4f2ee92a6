/*
 * check_saga.c: the state-machine family: I3 legal-transitions and I4 saga-consistent
 * (DESIGN §1 "States", §8 "Saga rows").
 *
 * I3 has two sources. The transition log: per withdrawal, seq 1..n without gaps, the
 * first row '' -> REQUESTED, each row starting where the previous ended, each step legal
 * (sg_transition_legal), the last to_status equal to the withdrawal's status; a log for a
 * withdrawal that does not exist is reported too. The client's observations: statuses
 * read by GetWithdrawal (ok) and returned by CreateWithdrawal (ok), plus the database's
 * final status as a last observation. A status may never go back along REQUESTED <
 * IN_PROGRESS < terminal, and a withdrawal has at most one terminal status.
 *
 * "Goes back" uses real-time order: observation a precedes b only when a completed before
 * b was invoked. Sorting by completion time alone would report a false violation when a
 * reply carrying an older status is delayed in the network past a newer read.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check_int.h"

/* ---- I3: the transition log ---- */

static void i3_log(struct ck_ctx *c, const struct ck_wd *wd)
{
    const struct ck_index *ix = &c->w->tr_by_wid;
    size_t pos = ck_index_lower(ix, wd->id, NULL), n = 0;
    const char *prev_text = "";
    c->out->checked[SG_I3]++;
    for (; ck_index_at(ix, pos, wd->id, NULL); pos++, n++) {
        const struct ck_trans *t = &c->w->tr[ix->k[pos].idx];
        enum sg_status from = sg_status_parse(t->from), to = sg_status_parse(t->to);
        if (t->seq != (int64_t)n + 1) {
            ck_violation(c, SG_I3, wd->id, "withdrawal %s: transition log has seq %" PRId64
                         " where %zu was expected", wd->id, t->seq, n + 1);
            return;
        }
        if (strcmp(t->from, prev_text) != 0) {
            ck_violation(c, SG_I3, wd->id, "withdrawal %s: transition seq %" PRId64
                         " starts from '%s' but the previous row ended at '%s'", wd->id,
                         t->seq, t->from, prev_text);
            return;
        }
        if (!sg_transition_legal(from, to)) {
            ck_violation(c, SG_I3, wd->id, "withdrawal %s: illegal transition '%s' -> '%s'"
                         " at seq %" PRId64, wd->id, t->from, t->to, t->seq);
            return;
        }
        prev_text = t->to;
    }
    if (n == 0)
        ck_violation(c, SG_I3, wd->id, "withdrawal %s (%s) has no transition log", wd->id,
                     wd->status_text);
    else if (strcmp(prev_text, wd->status_text) != 0)
        ck_violation(c, SG_I3, wd->id, "withdrawal %s: status %s but the last transition"
                     " (seq %zu) went to %s", wd->id, wd->status_text, n, prev_text);
}

static void i3_orphans(struct ck_ctx *c)
{
    const struct ck_index *ix = &c->w->tr_by_wid;
    for (size_t i = 0; i < ix->n;) {
        size_t j = i + 1;
        while (j < ix->n && strcmp(ix->k[i].s1, ix->k[j].s1) == 0) j++;
        if (!ck_wd_find(c->w, ix->k[i].s1)) {
            c->out->checked[SG_I3]++;
            ck_violation(c, SG_I3, ix->k[i].s1, "transition log of %zu rows for withdrawal %s,"
                         " which does not exist", j - i, ix->k[i].s1);
        }
        i = j;
    }
}

/* ---- I3: the observed statuses ---- */

struct obs {
    const char *wid, *status;
    int rank;                 /* REQUESTED 1, IN_PROGRESS 2, terminal 3 */
    bool terminal;
    int64_t invoke_ns, complete_ns;
    uint32_t client;
    bool from_db;             /* the database's final status */
};

struct obs_set {
    struct obs *o;
    size_t n;
    struct ck_index by_done, by_invoke; /* s1 wid, n1 complete / invoke */
};

static int rank_of(enum sg_status s)
{
    if (s == SG_STATUS_REQUESTED) return 1;
    if (s == SG_STATUS_IN_PROGRESS) return 2;
    return sg_status_terminal(s) ? 3 : 0;
}

static void obs_add(struct ck_ctx *c, struct obs_set *set, struct obs o)
{
    enum sg_status s = sg_status_parse(o.status);
    o.rank = rank_of(s);
    o.terminal = sg_status_terminal(s);
    c->out->checked[SG_I3]++;
    if (o.rank == 0) {
        ck_violation(c, SG_I3, o.wid, "withdrawal %s: client %" PRIu32 " read status '%s'"
                     " (done %" PRId64 "), which is no status", o.wid, o.client, o.status,
                     o.complete_ns);
        return;
    }
    set->o[set->n] = o;
    *ck_index_push(&set->by_done) = (struct ck_key){o.wid, NULL, NULL, o.complete_ns, set->n, 0};
    *ck_index_push(&set->by_invoke) = (struct ck_key){o.wid, NULL, NULL, o.invoke_ns, set->n, 0};
    set->n++;
}

static bool obs_collect(struct ck_ctx *c, struct obs_set *set)
{
    const struct sg_history *h = c->in->history;
    size_t cap = c->w->n_wd + (h ? h->count : 0);
    set->o = calloc(cap ? cap : 1, sizeof *set->o);
    if (!set->o || !ck_index_alloc(&set->by_done, cap) || !ck_index_alloc(&set->by_invoke, cap))
        return false;
    for (size_t i = 0; h && i < h->count; i++) {
        const struct sg_hist_rec *r = &h->recs[i];
        if (r->outcome != SG_OUTCOME_OK || r->withdrawal_id[0] == '\0' || r->status[0] == '\0')
            continue;
        if (r->op != SG_OP_GET && r->op != SG_OP_CREATE) continue;
        obs_add(c, set, (struct obs){r->withdrawal_id, r->status, 0, false, r->invoke_ns,
                                     r->complete_ns, r->client, false});
    }
    for (size_t i = 0; i < c->w->n_wd; i++) {
        const struct ck_wd *wd = &c->w->wd[i];
        if (wd->status < SG_STATUS_COUNT && rank_of(wd->status) > 0)
            obs_add(c, set, (struct obs){wd->id, wd->status_text, 0, false, INT64_MAX,
                                         INT64_MAX, 0, true});
    }
    ck_index_sort(&set->by_done);
    ck_index_sort(&set->by_invoke);
    return true;
}

static void obs_report(struct ck_ctx *c, const struct obs *a, const struct obs *b,
                       const char *what)
{
    if (b->from_db)
        ck_violation(c, SG_I3, b->wid, "withdrawal %s: client %" PRIu32 " read %s (done %"
                     PRId64 ") but the database ends at %s (%s)", b->wid, a->client,
                     a->status, a->complete_ns, b->status, what);
    else
        ck_violation(c, SG_I3, b->wid, "withdrawal %s: client %" PRIu32 " read %s (done %"
                     PRId64 "), then client %" PRIu32 " read %s (invoked %" PRId64 ") (%s)",
                     b->wid, a->client, a->status, a->complete_ns, b->client, b->status,
                     b->invoke_ns, what);
}

/* One withdrawal's observations: [g0, g1) of both indexes. */
static void obs_judge(struct ck_ctx *c, const struct obs_set *set, size_t g0, size_t g1)
{
    const struct obs *term = NULL, *top = NULL;
    for (size_t i = g0; i < g1; i++) {
        const struct obs *o = &set->o[set->by_done.k[i].idx];
        if (!o->terminal) continue;
        if (!term) term = o;
        else if (strcmp(term->status, o->status) != 0) {
            obs_report(c, term, o, "a terminal status changed");
            return;
        }
    }
    size_t a = g0;
    for (size_t i = g0; i < g1; i++) {
        const struct obs *b = &set->o[set->by_invoke.k[i].idx];
        for (; a < g1 && set->o[set->by_done.k[a].idx].complete_ns < b->invoke_ns; a++) {
            const struct obs *o = &set->o[set->by_done.k[a].idx];
            if (!top || o->rank > top->rank) top = o;
        }
        if (top && b->rank < top->rank) {
            obs_report(c, top, b, "status went backwards");
            return;
        }
    }
}

static void i3_observed(struct ck_ctx *c)
{
    struct obs_set set;
    memset(&set, 0, sizeof set);
    if (obs_collect(c, &set)) {
        for (size_t i = 0; i < set.by_done.n;) {
            size_t j = i + 1;
            while (j < set.by_done.n && strcmp(set.by_done.k[i].s1, set.by_done.k[j].s1) == 0)
                j++;
            obs_judge(c, &set, i, j);
            i = j;
        }
    } else {
        ck_violation(c, SG_I3, "", "observed statuses not judged: out of memory");
    }
    ck_index_free(&set.by_done);
    ck_index_free(&set.by_invoke);
    free(set.o);
}

void ck_check_i3(struct ck_ctx *c)
{
    for (size_t i = 0; i < c->w->n_wd; i++) i3_log(c, &c->w->wd[i]);
    i3_orphans(c);
    i3_observed(c);
}

/* ---- I4 ---- */

void ck_check_i4(struct ck_ctx *c)
{
    const struct ck_world *w = c->w;
    for (size_t i = 0; i < w->n_wd; i++) {
        const struct ck_wd *wd = &w->wd[i];
        c->out->checked[SG_I4]++;
        size_t pos = ck_index_lower(&w->saga_by_wid, wd->id, NULL);
        if (!ck_index_at(&w->saga_by_wid, pos, wd->id, NULL)) {
            ck_violation(c, SG_I4, wd->id, "withdrawal %s (%s) has no saga row", wd->id,
                         wd->status_text);
            continue;
        }
        const struct ck_saga *s = &w->saga[w->saga_by_wid.k[pos].idx];
        const char *state = sg_saga_state_of(wd->status);
        if (wd->status == SG_STATUS_NONE || wd->status >= SG_STATUS_COUNT ||
            strcmp(s->state, state) != 0 || !sg_step_agrees(wd->status, sg_step_parse(s->step)))
            ck_violation(c, SG_I4, wd->id, "withdrawal %s: status %s but saga %s/%s", wd->id,
                         wd->status_text, s->state, s->step);
    }
    for (size_t i = 0; i < w->n_saga; i++) {
        c->out->checked[SG_I4]++;
        if (!ck_wd_find(w, w->saga[i].wid))
            ck_violation(c, SG_I4, w->saga[i].wid, "saga %s/%s for withdrawal %s, which does"
                         " not exist", w->saga[i].state, w->saga[i].step, w->saga[i].wid);
    }
}
