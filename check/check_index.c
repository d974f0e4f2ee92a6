/*
 * check_index.c: sorted key indexes over the loaded rows, and the lookups built on them
 * (check_int.h).
 *
 * An index is an array of struct ck_key sorted by (s1, s2, s3, n1, idx). The row index is
 * the last tie-breaker, so the order is total and qsort's instability cannot show: equal
 * keys keep the rows' own (SQL) order. Lookups are binary searches for the first key at or
 * after a prefix. Each key carries s1's first 8 bytes as a big-endian number (p1), whose
 * order is strcmp's: most comparisons end there without a strcmp (ids are UUIDs), which
 * took a third of the checker's time.
 */
#include <stdlib.h>
#include <string.h>

#include "assert.h"
#include "check_int.h"

static int str_cmp(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

/* The first 8 bytes of s (zeros past its end) as a number that orders like strcmp. */
static uint64_t prefix_of(const char *s)
{
    uint64_t p = 0;
    int i = 0;
    for (; s && i < 8 && s[i] != '\0'; i++) p = p << 8 | (unsigned char)s[i];
    return i == 0 ? 0 : p << (8 * (8 - i));
}

static int key_cmp(const void *pa, const void *pb)
{
    const struct ck_key *a = pa, *b = pb;
    if (a->p1 != b->p1) return a->p1 < b->p1 ? -1 : 1;
    int c = str_cmp(a->s1, b->s1);
    if (c == 0) c = str_cmp(a->s2, b->s2);
    if (c == 0) c = str_cmp(a->s3, b->s3);
    if (c == 0) c = (a->n1 > b->n1) - (a->n1 < b->n1);
    if (c == 0) c = (a->idx > b->idx) - (a->idx < b->idx);
    return c;
}

bool ck_index_alloc(struct ck_index *ix, size_t n)
{
    ix->n = 0;
    ix->k = calloc(n ? n : 1, sizeof *ix->k);
    ix->cap = ix->k ? n : 0;
    return ix->k != NULL;
}

void ck_index_sort(struct ck_index *ix)
{
    for (size_t i = 0; i < ix->n; i++) ix->k[i].p1 = prefix_of(ix->k[i].s1);
    if (ix->n > 1) qsort(ix->k, ix->n, sizeof *ix->k, key_cmp);
}

void ck_index_free(struct ck_index *ix)
{
    free(ix->k);
    ix->k = NULL;
    ix->n = 0;
    ix->cap = 0;
}

static int prefix_cmp(const struct ck_key *k, uint64_t p1, const char *s1, const char *s2)
{
    if (k->p1 != p1) return k->p1 < p1 ? -1 : 1;
    int c = str_cmp(k->s1, s1);
    if (c == 0 && s2) c = str_cmp(k->s2, s2);
    return c;
}

size_t ck_index_lower(const struct ck_index *ix, const char *s1, const char *s2)
{
    size_t lo = 0, hi = ix->n;
    uint64_t p1 = prefix_of(s1);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (prefix_cmp(&ix->k[mid], p1, s1, s2) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool ck_index_at(const struct ck_index *ix, size_t pos, const char *s1, const char *s2)
{
    /* Equality needs no prefix: the key's own p1 stands for s1 when s1 matches. */
    return pos < ix->n && prefix_cmp(&ix->k[pos], ix->k[pos].p1, s1, s2) == 0;
}

struct ck_key *ck_index_push(struct ck_index *ix)
{
    SG_ASSERT_PURE(ix->k != NULL);
    SG_ASSERT_PURE(ix->n < ix->cap);
    struct ck_key *k = &ix->k[ix->n++];
    memset(k, 0, sizeof *k);
    return k;
}

static void put(struct ck_index *ix, const char *s1, const char *s2, const char *s3, int64_t n1,
                size_t idx)
{
    *ck_index_push(ix) = (struct ck_key){s1, s2, s3, n1, idx, 0};
}

static bool index_orch(struct ck_world *w)
{
    if (!ck_index_alloc(&w->wd_by_id, w->n_wd) || !ck_index_alloc(&w->wd_by_userkey, w->n_wd) ||
        !ck_index_alloc(&w->idem_by_userkey, w->n_idem) ||
        !ck_index_alloc(&w->saga_by_wid, w->n_saga) || !ck_index_alloc(&w->tr_by_wid, w->n_tr))
        return false;
    for (size_t i = 0; i < w->n_wd; i++) {
        put(&w->wd_by_id, w->wd[i].id, NULL, NULL, 0, i);
        put(&w->wd_by_userkey, w->wd[i].user_id, w->wd[i].key, w->wd[i].id, 0, i);
    }
    for (size_t i = 0; i < w->n_idem; i++)
        put(&w->idem_by_userkey, w->idem[i].user_id, w->idem[i].key, NULL, 0, i);
    for (size_t i = 0; i < w->n_saga; i++)
        put(&w->saga_by_wid, w->saga[i].wid, NULL, NULL, 0, i);
    for (size_t i = 0; i < w->n_tr; i++)
        put(&w->tr_by_wid, w->tr[i].wid, NULL, NULL, w->tr[i].seq, i);
    ck_index_sort(&w->wd_by_id);
    ck_index_sort(&w->wd_by_userkey);
    ck_index_sort(&w->idem_by_userkey);
    ck_index_sort(&w->saga_by_wid);
    ck_index_sort(&w->tr_by_wid);
    return true;
}

static bool index_services(struct ck_world *w)
{
    size_t total = 0;
    for (int s = 0; s < CK_SVC_COUNT; s++) {
        const struct ck_service *v = &w->svc[s];
        total += v->n_outbox;
        if (!ck_index_alloc(&w->dec_by_wid[s], v->n_dec) ||
            !ck_index_alloc(&w->inbox_by_key[s], v->n_inbox))
            return false;
        for (size_t i = 0; i < v->n_dec; i++)
            put(&w->dec_by_wid[s], v->dec[i].wid, NULL, NULL, 0, i);
        for (size_t i = 0; i < v->n_inbox; i++)
            put(&w->inbox_by_key[s], v->inbox[i].key, NULL, NULL, 0, i);
        ck_index_sort(&w->dec_by_wid[s]);
        ck_index_sort(&w->inbox_by_key[s]);
    }
    if (!ck_index_alloc(&w->ev_by_id, total)) return false;
    for (int s = 0; s < CK_SVC_COUNT; s++)
        for (size_t i = 0; i < w->svc[s].n_outbox; i++)
            put(&w->ev_by_id, w->svc[s].outbox[i].event_id, NULL, NULL, s, i);
    ck_index_sort(&w->ev_by_id);
    return true;
}

static bool index_records(struct ck_world *w)
{
    if (!ck_index_alloc(&w->rec_by_id, w->n_rec) ||
        !ck_index_alloc(&w->rec_by_keytopic, w->n_rec) ||
        !ck_index_alloc(&w->evtw_by_wid, w->n_rec))
        return false;
    for (size_t i = 0; i < w->n_rec; i++) {
        const struct ck_record *r = &w->rec[i];
        if (r->injected || !r->decoded) continue;
        put(&w->rec_by_id, r->event_id, NULL, NULL, 0, i);
        put(&w->rec_by_keytopic, r->key, r->topic, NULL, r->partition, i);
        if (strcmp(r->topic, "cbsaga.evt.withdrawal") == 0)
            put(&w->evtw_by_wid, r->wid, NULL, NULL, r->partition, i);
    }
    ck_index_sort(&w->rec_by_id);
    ck_index_sort(&w->rec_by_keytopic);
    ck_index_sort(&w->evtw_by_wid);
    return true;
}

static bool index_history(struct ck_world *w, const struct sg_history *h)
{
    size_t n = 0;
    for (size_t i = 0; h && i < h->count; i++) n += h->recs[i].op == SG_OP_CREATE;
    w->hc = calloc(n ? n : 1, sizeof *w->hc);
    if (!w->hc || !ck_index_alloc(&w->hc_by_userkey, n)) return false;
    for (size_t i = 0; h && i < h->count; i++) {
        const struct sg_hist_rec *r = &h->recs[i];
        if (r->op != SG_OP_CREATE) continue;
        struct ck_hcreate *c = &w->hc[w->n_hc++];
        const char *why = NULL;
        c->rec = r;
        c->valid = sg_request_normalise(r->user_id, r->asset, r->amount_minor,
                                        r->destination_addr, r->key, &c->req, &why);
        if (!c->valid) continue;
        sg_request_hash(&c->req, c->hash);
        put(&w->hc_by_userkey, c->req.user_id, c->req.key, NULL, 0, w->n_hc - 1);
    }
    ck_index_sort(&w->hc_by_userkey);
    return true;
}

bool ck_world_index(struct ck_world *w, const struct sg_history *h)
{
    return index_orch(w) && index_services(w) && index_records(w) && index_history(w, h);
}

const struct ck_wd *ck_wd_find(const struct ck_world *w, const char *id)
{
    size_t pos = ck_index_lower(&w->wd_by_id, id, NULL);
    return ck_index_at(&w->wd_by_id, pos, id, NULL) ? &w->wd[w->wd_by_id.k[pos].idx] : NULL;
}

const struct ck_decision *ck_dec_find(const struct ck_world *w, enum ck_svc s, const char *wid)
{
    const struct ck_index *ix = &w->dec_by_wid[s];
    size_t pos = ck_index_lower(ix, wid, NULL);
    return ck_index_at(ix, pos, wid, NULL) ? &w->svc[s].dec[ix->k[pos].idx] : NULL;
}

const struct ck_outbox *ck_outbox_find(const struct ck_world *w, const char *event_id,
                                       enum ck_svc *svc_out)
{
    size_t pos = ck_index_lower(&w->ev_by_id, event_id, NULL);
    if (!ck_index_at(&w->ev_by_id, pos, event_id, NULL)) return NULL;
    const struct ck_key *k = &w->ev_by_id.k[pos];
    if (svc_out) *svc_out = (enum ck_svc)k->n1;
    return &w->svc[k->n1].outbox[k->idx];
}

size_t ck_record_first(const struct ck_world *w, const char *event_id)
{
    size_t pos = ck_index_lower(&w->rec_by_id, event_id, NULL);
    return ck_index_at(&w->rec_by_id, pos, event_id, NULL) ? w->rec_by_id.k[pos].idx
                                                           : w->n_rec;
}

const char *ck_event_wid(const struct ck_world *w, const char *event_id)
{
    const struct ck_outbox *o = ck_outbox_find(w, event_id, NULL);
    if (o) return o->aggregate_id;
    size_t r = ck_record_first(w, event_id);
    return r < w->n_rec ? w->rec[r].wid : NULL;
}
