/*
 * check_idem.c: the idempotency family: I1 idempotent-create, I2 no-phantom,
 * I9 durability (DESIGN §5, §8 "Idempotency protocol").
 *
 * History creates are normalised with sg_request_normalise before any comparison, exactly
 * as the orchestrator does, so " BTC" and "btc" name the same request. A create that does
 * not normalise was answered INVALID_ARGUMENT and takes part in nothing here.
 *
 * - I1: (a) at most one withdrawal row per (user_id, idem_key); (b) every OK create for one
 *   (user, key) carries the same withdrawal_id; (c) an OK create's payload hash equals the
 *   idempotency row's request_hash for its (user, key); (d) the withdrawal an OK create
 *   names holds that request's user, key, asset, amount and destination; (e) ABORTED is
 *   answered only while another attempt may hold a live lease (see i1_aborted).
 * - I2: every withdrawal row matches some create of any outcome (unknown and failed calls
 *   may have taken effect, so they count as requests).
 * - I9: every OK create's withdrawal row exists.
 * - I8 (its client side, after a heal phase): every create call got a definite answer.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "assert.h"
#include "check_int.h"

static bool same_user_key(const struct ck_key *a, const struct ck_key *b)
{
    return strcmp(a->s1, b->s1) == 0 && strcmp(a->s2, b->s2) == 0;
}

/* I1 (a): one withdrawal row per (user, key). */
static void i1_one_per_key(struct ck_ctx *c)
{
    const struct ck_index *ix = &c->w->wd_by_userkey;
    for (size_t i = 0; i < ix->n;) {
        size_t j = i + 1;
        while (j < ix->n && same_user_key(&ix->k[i], &ix->k[j])) j++;
        c->out->checked[SG_I1]++;
        if (j - i > 1) { /* name them all, up to three, then how many more */
            char ids[3 * (SG_UUID_LEN + 2) + 24] = "";
            size_t used = 0, shown = j - i < 3 ? j - i : 3;
            for (size_t k = 0; k < shown; k++)
                used += (size_t)snprintf(ids + used, sizeof ids - used, "%s%s",
                                         k == 0 ? "" : k + 1 == j - i ? " and " : ", ",
                                         ix->k[i + k].s3);
            if (j - i > shown) snprintf(ids + used, sizeof ids - used, " and %zu more",
                                        j - i - shown);
            ck_violation(c, SG_I1, ix->k[i + 1].s3, "user %s key '%s' has %zu withdrawals: %s",
                         ix->k[i].s1, ix->k[i].s2, j - i, ids);
        }
        i = j;
    }
}

/* I1 (b): every OK for one (user, key) carries the same withdrawal id. */
static void i1_same_id(struct ck_ctx *c)
{
    const struct ck_index *ix = &c->w->hc_by_userkey;
    for (size_t i = 0; i < ix->n;) {
        size_t j = i;
        const struct ck_hcreate *first = NULL;
        bool reported = false;
        for (; j < ix->n && same_user_key(&ix->k[i], &ix->k[j]); j++) {
            const struct ck_hcreate *h = &c->w->hc[ix->k[j].idx];
            if (h->rec->outcome != SG_OUTCOME_OK) continue;
            c->out->checked[SG_I1]++;
            if (!first) {
                first = h;
            } else if (!reported && strcmp(first->rec->withdrawal_id, h->rec->withdrawal_id)) {
                ck_violation(c, SG_I1, h->rec->withdrawal_id,
                             "user %s key '%s': OK with withdrawal %s (client %" PRIu32
                             ", done %" PRId64 ") and with %s (client %" PRIu32
                             ", done %" PRId64 ")", h->req.user_id, h->req.key,
                             first->rec->withdrawal_id, first->rec->client,
                             first->rec->complete_ns, h->rec->withdrawal_id, h->rec->client,
                             h->rec->complete_ns);
                reported = true;
            }
        }
        i = j;
    }
}

/* I1 (c): a payload whose hash differs from the stored request never gets OK. */
static void i1_hash(struct ck_ctx *c)
{
    const struct ck_world *w = c->w;
    for (size_t i = 0; i < w->n_hc; i++) {
        const struct ck_hcreate *h = &w->hc[i];
        if (!h->valid) continue;
        size_t pos = ck_index_lower(&w->idem_by_userkey, h->req.user_id, h->req.key);
        if (!ck_index_at(&w->idem_by_userkey, pos, h->req.user_id, h->req.key)) continue;
        const struct ck_idem *row = &w->idem[w->idem_by_userkey.k[pos].idx];
        c->out->checked[SG_I1]++;
        bool same = row->hash_len == SG_HASH_LEN && memcmp(row->hash, h->hash, SG_HASH_LEN) == 0;
        if (!same && h->rec->outcome == SG_OUTCOME_OK)
            ck_violation(c, SG_I1, h->rec->withdrawal_id,
                         "user %s key '%s': OK (client %" PRIu32 ", done %" PRId64
                         ") for a payload (%s %" PRId64 " to '%s') whose hash differs from"
                         " the stored request", h->req.user_id, h->req.key, h->rec->client,
                         h->rec->complete_ns, h->req.asset, h->req.amount_minor,
                         h->req.destination_addr);
    }
}

/* The first field in which a withdrawal row differs from a request, or NULL. */
static const char *payload_diff(const struct ck_wd *wd, const struct sg_request *r)
{
    if (strcmp(wd->user_id, r->user_id) != 0) return "user_id";
    if (strcmp(wd->key, r->key) != 0) return "idem_key";
    if (strcmp(wd->asset, r->asset) != 0) return "asset";
    if (wd->amount != r->amount_minor) return "amount_minor";
    if (strcmp(wd->dest, r->destination_addr) != 0) return "destination_addr";
    return NULL;
}

/* I1 (d): the withdrawal an OK names holds the request's payload. */
static void i1_payload(struct ck_ctx *c)
{
    const struct ck_world *w = c->w;
    for (size_t i = 0; i < w->n_hc; i++) {
        const struct ck_hcreate *h = &w->hc[i];
        if (!h->valid || h->rec->outcome != SG_OUTCOME_OK) continue;
        const struct ck_wd *wd = ck_wd_find(w, h->rec->withdrawal_id);
        if (!wd) continue; /* I9 */
        c->out->checked[SG_I1]++;
        const char *field = payload_diff(wd, &h->req);
        if (field)
            ck_violation(c, SG_I1, wd->id,
                         "withdrawal %s answered OK to user %s key '%s' (%s %" PRId64
                         " to '%s') but stores another %s (%s %" PRId64 " to '%s')", wd->id,
                         h->req.user_id, h->req.key, h->req.asset, h->req.amount_minor,
                         h->req.destination_addr, field, wd->asset, wd->amount, wd->dest);
    }
}

/* Whether another attempt of a's payload for its (user, key), one of [from, to) of the
 * index, could hold a live lease when a was decided (see i1_aborted). *prev_out: the
 * latest such attempt invoked before a, or NULL. */
static bool lease_could_be_live(const struct ck_ctx *c, size_t from, size_t to,
                                const struct ck_hcreate *a, int64_t window_ns,
                                const struct sg_hist_rec **prev_out)
{
    *prev_out = NULL;
    for (size_t k = from; k < to; k++) {
        const struct ck_hcreate *b = &c->w->hc[c->w->hc_by_userkey.k[k].idx];
        if (b == a || memcmp(b->hash, a->hash, SG_HASH_LEN) != 0) continue;
        int64_t invoked = b->rec->invoke_ns;
        if (invoked >= a->rec->complete_ns) continue; /* arrived after a's answer */
        if (invoked >= a->rec->invoke_ns) return true; /* may have taken over meanwhile */
        if (a->rec->invoke_ns - invoked < window_ns) return true;
        if (!*prev_out || invoked > (*prev_out)->invoke_ns) *prev_out = b->rec;
    }
    return false;
}

/* I1 (e): ABORTED only while another attempt holds a live lease (DESIGN §8, step 1; an
 * expired lease is taken over). The orchestrator decides a's answer at some d in
 * (invoke, complete). A lease is set by the arrival, at some r, of a copy of an attempt
 * b of the same payload (no other payload reserves: its hash differs from the row's),
 * with r in [b.invoke, b.invoke + msg_delay_max], and is live at d only while
 * wall(d) < wall(r) + lease_ttl, so only while d - r < lease_ttl + clock_lag_max. A
 * fenced-out attempt is answered ABORTED after a takeover that arrived during its own
 * pending time, after a.invoke. So ABORTED is excused by any b invoked before a's answer
 * and less than lease_ttl + msg_delay_max + clock_lag_max before a's invoke; a may itself
 * have been duplicated (its second copy reserving) while the network duplicates, so
 * only answers to attempts invoked after dup_until are judged. The simulator takes every
 * bound from what its world actually did (sim/world.h), so a violation cannot be a false
 * alarm; live runs give no bounds and are not judged here. One violation per (user, key),
 * naming its first unexcused answer. */
static void i1_aborted(struct ck_ctx *c)
{
    const struct sg_lease_bounds *lb = &c->in->lease;
    if (!lb->known || !c->in->cfg) return;
    SG_ASSERT_PURE(lb->msg_delay_max_ns >= 0);
    SG_ASSERT_PURE(lb->clock_lag_max_ns >= 0);
    int64_t window_ns = c->in->cfg->lease_ttl_ns + lb->msg_delay_max_ns + lb->clock_lag_max_ns;
    const struct ck_index *ix = &c->w->hc_by_userkey;
    for (size_t i = 0; i < ix->n;) {
        size_t j = i + 1, wrong = 0;
        while (j < ix->n && same_user_key(&ix->k[i], &ix->k[j])) j++;
        const struct ck_hcreate *first = NULL;
        const struct sg_hist_rec *first_prev = NULL;
        for (size_t a = i; a < j; a++) {
            const struct ck_hcreate *h = &c->w->hc[ix->k[a].idx];
            if (h->rec->code != SG_CODE_ABORTED || h->rec->invoke_ns <= lb->dup_until_ns)
                continue;
            c->out->checked[SG_I1]++;
            const struct sg_hist_rec *prev = NULL;
            if (lease_could_be_live(c, i, j, h, window_ns, &prev)) continue;
            if (wrong++ == 0) {
                first = h;
                first_prev = prev;
            }
        }
        if (first) {
            char prev[48] = "no other attempt before it";
            if (first_prev)
                snprintf(prev, sizeof prev, "the last other invoked at %" PRId64,
                         first_prev->invoke_ns);
            ck_violation(c, SG_I1, first->rec->withdrawal_id,
                         "user %s key '%s': %zu ABORTED answers while no lease could be live"
                         " (window %" PRId64 " ns), the first to client %" PRIu32 " (invoked %"
                         PRId64 ", done %" PRId64 "; %s)", first->req.user_id, first->req.key,
                         wrong, window_ns, first->rec->client, first->rec->invoke_ns,
                         first->rec->complete_ns, prev);
        }
        i = j;
    }
}

void ck_check_i1(struct ck_ctx *c)
{
    i1_one_per_key(c);
    i1_same_id(c);
    i1_hash(c);
    i1_payload(c);
    i1_aborted(c);
}

void ck_check_i2(struct ck_ctx *c)
{
    const struct ck_world *w = c->w;
    for (size_t i = 0; i < w->n_wd; i++) {
        const struct ck_wd *wd = &w->wd[i];
        c->out->checked[SG_I2]++;
        bool found = false;
        size_t pos = ck_index_lower(&w->hc_by_userkey, wd->user_id, wd->key);
        for (; !found && ck_index_at(&w->hc_by_userkey, pos, wd->user_id, wd->key); pos++)
            found = payload_diff(wd, &w->hc[w->hc_by_userkey.k[pos].idx].req) == NULL;
        if (!found)
            ck_violation(c, SG_I2, wd->id,
                         "withdrawal %s (user %s key '%s', %s %" PRId64 " to '%s') matches no"
                         " client request", wd->id, wd->user_id, wd->key, wd->asset,
                         wd->amount, wd->dest);
    }
}

void ck_check_i9(struct ck_ctx *c)
{
    const struct sg_history *h = c->in->history;
    for (size_t i = 0; h && i < h->count; i++) {
        const struct sg_hist_rec *r = &h->recs[i];
        if (r->op != SG_OP_CREATE || r->outcome != SG_OUTCOME_OK) continue;
        c->out->checked[SG_I9]++;
        if (r->withdrawal_id[0] == '\0')
            ck_violation(c, SG_I9, "",
                         "create OK to client %" PRIu32 " (key '%s', done %" PRId64
                         ") carries no withdrawal id", r->client, r->key, r->complete_ns);
        else if (!ck_wd_find(c->w, r->withdrawal_id))
            ck_violation(c, SG_I9, r->withdrawal_id,
                         "withdrawal %s answered OK to client %" PRIu32 " (key '%s', done %"
                         PRId64 ") does not exist", r->withdrawal_id, r->client, r->key,
                         r->complete_ns);
    }
}

/* Whether a create attempt got an answer that ends its call (DESIGN §8.1: clients retry
 * UNAVAILABLE, ABORTED and timeouts with the same key until one of these comes). */
static bool definite(const struct sg_hist_rec *r)
{
    return r->outcome == SG_OUTCOME_OK || r->code == SG_CODE_FAILED_PRECONDITION ||
           r->code == SG_CODE_INVALID_ARGUMENT;
}

/* I8 (creates, after a heal phase): every create call reached a definite answer. The
 * attempts of one call share the client, the (user, key) and the payload; a call whose
 * every attempt was turned away (ABORTED, UNAVAILABLE) or lost means the service refused
 * a retry for good: for instance an expired lease answered ABORTED instead of being taken
 * over, which no other invariant sees (no withdrawal exists to judge). */
void ck_check_i8_creates(struct ck_ctx *c)
{
    const struct ck_index *ix = &c->w->hc_by_userkey;
    for (size_t i = 0; i < ix->n;) {
        size_t j = i + 1;
        while (j < ix->n && same_user_key(&ix->k[i], &ix->k[j])) j++;
        for (size_t a = i; a < j; a++) { /* each (client, payload) once: its first attempt */
            const struct ck_hcreate *h = &c->w->hc[ix->k[a].idx];
            bool first = true, answered = false;
            size_t attempts = 0;
            const struct sg_hist_rec *last = h->rec;
            for (size_t b = i; b < j; b++) {
                const struct ck_hcreate *o = &c->w->hc[ix->k[b].idx];
                if (o->rec->client != h->rec->client || memcmp(o->hash, h->hash, SG_HASH_LEN))
                    continue;
                if (b < a) first = false;
                attempts++;
                answered |= definite(o->rec);
                if (o->rec->invoke_ns >= last->invoke_ns) last = o->rec;
            }
            if (!first) continue;
            c->out->checked[SG_I8]++;
            if (!answered)
                ck_violation(c, SG_I8, last->withdrawal_id,
                             "create of user %s key '%s' by client %" PRIu32 " got no definite "
                             "answer after the heal phase: %zu attempts, the last answered %s",
                             h->req.user_id, h->req.key, h->rec->client, attempts,
                             last->outcome == SG_OUTCOME_UNKNOWN && last->code == 0
                                 ? "nothing" : sg_code_name(last->code));
        }
        i = j;
    }
}
