/*
 * check_trace.c: I10 trace-propagated (DESIGN §1 "Trace id", §8.1 "Events and routes").
 *
 * A withdrawal's trace id is the one stored on its row at creation (non-empty). Every row
 * that speaks of the withdrawal carries it: the outbox rows of all three services (by
 * aggregate_id), the inbox rows of consumed events (not poison; the event is mapped to its
 * withdrawal through its outbox row, else its broker record), the decision rows, and the
 * Event header inside every live broker record. Rows whose withdrawal does not exist are
 * left to I2-I7.
 */
#include <string.h>

#include "check_int.h"

/* where: "identity", "broker", ...; what: "outbox event", ... */
static void i10_compare(struct ck_ctx *c, const char *wid, const char *trace, const char *where,
                        const char *what, const char *id)
{
    const struct ck_wd *wd = wid ? ck_wd_find(c->w, wid) : NULL;
    if (!wd) return;
    c->out->checked[SG_I10]++;
    if (strcmp(wd->trace_id, trace) != 0)
        ck_violation(c, SG_I10, wd->id, "withdrawal %s has trace %s but %s %s %s carries '%s'",
                     wd->id, wd->trace_id, where, what, id, trace);
}

static void i10_service(struct ck_ctx *c, enum ck_svc s)
{
    const struct ck_service *v = &c->w->svc[s];
    for (size_t i = 0; i < v->n_outbox; i++) {
        const struct ck_outbox *o = &v->outbox[i];
        i10_compare(c, o->aggregate_id, o->trace_id, ck_svc_name(s), "outbox event",
                    o->event_id);
    }
    for (size_t i = 0; i < v->n_inbox; i++) {
        const struct ck_inbox *r = &v->inbox[i];
        if (r->event_id[0] == '\0' || strncmp(r->key, "poison:", 7) == 0) continue;
        i10_compare(c, ck_event_wid(c->w, r->event_id), r->trace_id, ck_svc_name(s),
                    "inbox event", r->event_id);
    }
    for (size_t i = 0; i < v->n_dec; i++)
        i10_compare(c, v->dec[i].wid, v->dec[i].trace_id, ck_svc_name(s), "decision of",
                    v->dec[i].wid);
}

void ck_check_i10(struct ck_ctx *c)
{
    const struct ck_world *w = c->w;
    for (size_t i = 0; i < w->n_wd; i++) {
        c->out->checked[SG_I10]++;
        if (w->wd[i].trace_id[0] == '\0')
            ck_violation(c, SG_I10, w->wd[i].id, "withdrawal %s has no trace id", w->wd[i].id);
    }
    for (int s = 0; s < CK_SVC_COUNT; s++) i10_service(c, (enum ck_svc)s);
    for (size_t i = 0; i < w->n_rec; i++) {
        const struct ck_record *r = &w->rec[i];
        if (r->injected || !r->decoded) continue;
        i10_compare(c, r->wid[0] ? r->wid : r->aggregate_id, r->trace_id, "broker",
                    "record of event", r->event_id);
    }
}
