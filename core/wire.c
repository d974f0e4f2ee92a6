/*
 * wire.c: packing and unpacking envelopes and events (see wire.h).
 *
 * Events are described by one table (name, route, oneof case) so that building, routing
 * and decoding agree by construction.
 */
#include "wire.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "assert.h"
#include "banned.h"

struct event_desc {
    const char *name;
    const char *route;
    Cbsaga__Events__V1__Event__PayloadCase pcase;
};

#define CASE(x) CBSAGA__EVENTS__V1__EVENT__PAYLOAD_##x
static const struct event_desc events[SG_EVT_COUNT] = {
    [SG_EVT_WITHDRAWAL_REQUESTED] = {"WithdrawalRequested", "evt.withdrawal",
                                     CASE(WITHDRAWAL_REQUESTED)},
    [SG_EVT_WITHDRAWAL_IN_PROGRESS] = {"WithdrawalInProgress", "evt.withdrawal",
                                       CASE(WITHDRAWAL_IN_PROGRESS)},
    [SG_EVT_WITHDRAWAL_COMPLETED] = {"WithdrawalCompleted", "evt.withdrawal",
                                     CASE(WITHDRAWAL_COMPLETED)},
    [SG_EVT_WITHDRAWAL_FAILED] = {"WithdrawalFailed", "evt.withdrawal", CASE(WITHDRAWAL_FAILED)},
    [SG_EVT_WITHDRAWAL_CANCELED] = {"WithdrawalCanceled", "evt.withdrawal",
                                    CASE(WITHDRAWAL_CANCELED)},
    [SG_EVT_VERIFY_IDENTITY_REQUESTED] = {"VerifyIdentityRequested", "cmd.identity",
                                          CASE(VERIFY_IDENTITY_REQUESTED)},
    [SG_EVT_IDENTITY_VERIFIED] = {"IdentityVerified", "evt.identity", CASE(IDENTITY_VERIFIED)},
    [SG_EVT_IDENTITY_REJECTED] = {"IdentityRejected", "evt.identity", CASE(IDENTITY_REJECTED)},
    [SG_EVT_RISK_CHECK_REQUESTED] = {"RiskCheckRequested", "cmd.risk",
                                     CASE(RISK_CHECK_REQUESTED)},
    [SG_EVT_RISK_APPROVED] = {"RiskApproved", "evt.risk", CASE(RISK_APPROVED)},
    [SG_EVT_RISK_REJECTED] = {"RiskRejected", "evt.risk", CASE(RISK_REJECTED)},
    [SG_EVT_PLACE_HOLD] = {"PlaceHold", "cmd.ledger", CASE(PLACE_HOLD)},
    [SG_EVT_HOLD_PLACED] = {"HoldPlaced", "evt.ledger", CASE(HOLD_PLACED)},
    [SG_EVT_HOLD_REJECTED] = {"HoldRejected", "evt.ledger", CASE(HOLD_REJECTED)},
    [SG_EVT_SETTLE_HOLD] = {"SettleHold", "cmd.ledger", CASE(SETTLE_HOLD)},
    [SG_EVT_HOLD_SETTLED] = {"HoldSettled", "evt.ledger", CASE(HOLD_SETTLED)},
    [SG_EVT_RELEASE_HOLD] = {"ReleaseHold", "cmd.ledger", CASE(RELEASE_HOLD)},
    [SG_EVT_HOLD_RELEASED] = {"HoldReleased", "evt.ledger", CASE(HOLD_RELEASED)},
    [SG_EVT_PAYOUT_REQUESTED] = {"PayoutRequested", "cmd.payout", CASE(PAYOUT_REQUESTED)},
    [SG_EVT_PAYOUT_SUCCEEDED] = {"PayoutSucceeded", "evt.payout", CASE(PAYOUT_SUCCEEDED)},
    [SG_EVT_PAYOUT_FAILED] = {"PayoutFailed", "evt.payout", CASE(PAYOUT_FAILED)},
};
#undef CASE

const char *sg_event_name(enum sg_event_type t)
{
    SG_ASSERT_PURE(t < SG_EVT_COUNT);
    return events[t].name;
}

const char *sg_event_route(enum sg_event_type t)
{
    SG_ASSERT_PURE(t < SG_EVT_COUNT);
    return events[t].route;
}

enum sg_event_type sg_event_type_of(const SgEvent *ev)
{
    for (int t = 0; t < SG_EVT_COUNT; t++)
        if (events[t].pcase == ev->payload_case) return (enum sg_event_type)t;
    return SG_EVT_COUNT;
}

/* Each payload message starts with either a WithdrawalRef (field 1) or a withdrawal_id
 * string (field 1) and maybe a reason (field 2); these accessors hide which. */
const SgWithdrawalRef *sg_event_ref(const SgEvent *ev)
{
    switch (ev->payload_case) {
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_WITHDRAWAL_REQUESTED:
        return ev->withdrawal_requested->withdrawal;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_VERIFY_IDENTITY_REQUESTED:
        return ev->verify_identity_requested->withdrawal;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_RISK_CHECK_REQUESTED:
        return ev->risk_check_requested->withdrawal;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_PLACE_HOLD: return ev->place_hold->withdrawal;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_SETTLE_HOLD: return ev->settle_hold->withdrawal;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_RELEASE_HOLD: return ev->release_hold->withdrawal;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_PAYOUT_REQUESTED:
        return ev->payout_requested->withdrawal;
    default: return NULL;
    }
}

const char *sg_event_payout_key(const SgEvent *ev)
{
    if (ev->payload_case != CBSAGA__EVENTS__V1__EVENT__PAYLOAD_PAYOUT_REQUESTED) return "";
    return ev->payout_requested->idempotency_key;
}

const char *sg_event_withdrawal_id(const SgEvent *ev)
{
    const SgWithdrawalRef *ref = sg_event_ref(ev);
    if (ref) return ref->withdrawal_id;
    switch (ev->payload_case) {
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_WITHDRAWAL_IN_PROGRESS:
        return ev->withdrawal_in_progress->withdrawal_id;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_WITHDRAWAL_COMPLETED:
        return ev->withdrawal_completed->withdrawal_id;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_WITHDRAWAL_FAILED:
        return ev->withdrawal_failed->withdrawal_id;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_WITHDRAWAL_CANCELED:
        return ev->withdrawal_canceled->withdrawal_id;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_IDENTITY_VERIFIED:
        return ev->identity_verified->withdrawal_id;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_IDENTITY_REJECTED:
        return ev->identity_rejected->withdrawal_id;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_RISK_APPROVED:
        return ev->risk_approved->withdrawal_id;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_RISK_REJECTED:
        return ev->risk_rejected->withdrawal_id;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_HOLD_PLACED: return ev->hold_placed->withdrawal_id;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_HOLD_REJECTED: return ev->hold_rejected->withdrawal_id;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_HOLD_SETTLED: return ev->hold_settled->withdrawal_id;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_HOLD_RELEASED: return ev->hold_released->withdrawal_id;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_PAYOUT_SUCCEEDED:
        return ev->payout_succeeded->withdrawal_id;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_PAYOUT_FAILED: return ev->payout_failed->withdrawal_id;
    default: return "";
    }
}

const char *sg_event_reason(const SgEvent *ev)
{
    switch (ev->payload_case) {
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_WITHDRAWAL_FAILED:
        return ev->withdrawal_failed->reason;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_WITHDRAWAL_CANCELED:
        return ev->withdrawal_canceled->reason;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_IDENTITY_REJECTED:
        return ev->identity_rejected->reason;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_RISK_REJECTED:
        return ev->risk_rejected->reason;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_HOLD_REJECTED: return ev->hold_rejected->reason;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_PAYOUT_FAILED: return ev->payout_failed->reason;
    default: return "";
    }
}

/* All payload messages share one of three shapes (and PayoutRequested its own); build into a union of them. */
union payload {
    Cbsaga__Events__V1__WithdrawalRequested requested;
    Cbsaga__Events__V1__WithdrawalFailed with_reason;      /* id + reason */
    Cbsaga__Events__V1__WithdrawalInProgress id_only;      /* id */
    Cbsaga__Events__V1__PayoutRequested payout;            /* ref + idempotency key */
};

static void fill_payload(enum sg_event_type t, const struct sg_event_fields *f,
                         SgWithdrawalRef *ref, union payload *p, SgEvent *ev)
{
    char *id = (char *)f->withdrawal_id;
    char *reason = (char *)(f->reason ? f->reason : "");
    ref->withdrawal_id = id;
    ref->user_id = (char *)f->user_id;
    ref->asset = (char *)f->asset;
    ref->amount_minor = f->amount_minor;
    ref->destination_addr = (char *)f->destination_addr;
    ev->payload_case = events[t].pcase;
    switch (t) {
    case SG_EVT_PAYOUT_REQUESTED:
        cbsaga__events__v1__payout_requested__init(&p->payout);
        p->payout.withdrawal = ref;
        p->payout.idempotency_key = (char *)(f->idempotency_key ? f->idempotency_key : "");
        ev->payout_requested = &p->payout;
        break;
    case SG_EVT_WITHDRAWAL_REQUESTED:
    case SG_EVT_VERIFY_IDENTITY_REQUESTED:
    case SG_EVT_RISK_CHECK_REQUESTED:
    case SG_EVT_PLACE_HOLD:
    case SG_EVT_SETTLE_HOLD:
    case SG_EVT_RELEASE_HOLD: {
        /* The ref-carrying messages have one layout; each descriptor is set. */
        static const ProtobufCMessageDescriptor *const d[SG_EVT_COUNT] = {
            [SG_EVT_WITHDRAWAL_REQUESTED] = &cbsaga__events__v1__withdrawal_requested__descriptor,
            [SG_EVT_VERIFY_IDENTITY_REQUESTED] =
                &cbsaga__events__v1__verify_identity_requested__descriptor,
            [SG_EVT_RISK_CHECK_REQUESTED] = &cbsaga__events__v1__risk_check_requested__descriptor,
            [SG_EVT_PLACE_HOLD] = &cbsaga__events__v1__place_hold__descriptor,
            [SG_EVT_SETTLE_HOLD] = &cbsaga__events__v1__settle_hold__descriptor,
            [SG_EVT_RELEASE_HOLD] = &cbsaga__events__v1__release_hold__descriptor};
        cbsaga__events__v1__withdrawal_requested__init(&p->requested);
        p->requested.base.descriptor = d[t];
        p->requested.withdrawal = ref;
        ev->withdrawal_requested = &p->requested;
        break;
    }
    case SG_EVT_WITHDRAWAL_FAILED:
    case SG_EVT_WITHDRAWAL_CANCELED:
    case SG_EVT_IDENTITY_REJECTED:
    case SG_EVT_RISK_REJECTED:
    case SG_EVT_HOLD_REJECTED:
    case SG_EVT_PAYOUT_FAILED: {
        static const ProtobufCMessageDescriptor *const d[SG_EVT_COUNT] = {
            [SG_EVT_WITHDRAWAL_FAILED] = &cbsaga__events__v1__withdrawal_failed__descriptor,
            [SG_EVT_WITHDRAWAL_CANCELED] = &cbsaga__events__v1__withdrawal_canceled__descriptor,
            [SG_EVT_IDENTITY_REJECTED] = &cbsaga__events__v1__identity_rejected__descriptor,
            [SG_EVT_RISK_REJECTED] = &cbsaga__events__v1__risk_rejected__descriptor,
            [SG_EVT_HOLD_REJECTED] = &cbsaga__events__v1__hold_rejected__descriptor,
            [SG_EVT_PAYOUT_FAILED] = &cbsaga__events__v1__payout_failed__descriptor};
        cbsaga__events__v1__withdrawal_failed__init(&p->with_reason);
        p->with_reason.base.descriptor = d[t];
        p->with_reason.withdrawal_id = id;
        p->with_reason.reason = reason;
        ev->withdrawal_failed = &p->with_reason;
        break;
    }
    default: {
        static const ProtobufCMessageDescriptor *const d[SG_EVT_COUNT] = {
            [SG_EVT_WITHDRAWAL_IN_PROGRESS] = &cbsaga__events__v1__withdrawal_in_progress__descriptor,
            [SG_EVT_WITHDRAWAL_COMPLETED] = &cbsaga__events__v1__withdrawal_completed__descriptor,
            [SG_EVT_IDENTITY_VERIFIED] = &cbsaga__events__v1__identity_verified__descriptor,
            [SG_EVT_RISK_APPROVED] = &cbsaga__events__v1__risk_approved__descriptor,
            [SG_EVT_HOLD_PLACED] = &cbsaga__events__v1__hold_placed__descriptor,
            [SG_EVT_HOLD_SETTLED] = &cbsaga__events__v1__hold_settled__descriptor,
            [SG_EVT_HOLD_RELEASED] = &cbsaga__events__v1__hold_released__descriptor,
            [SG_EVT_PAYOUT_SUCCEEDED] = &cbsaga__events__v1__payout_succeeded__descriptor};
        SG_ASSERT_PURE(d[t] != NULL);
        cbsaga__events__v1__withdrawal_in_progress__init(&p->id_only);
        p->id_only.base.descriptor = d[t];
        p->id_only.withdrawal_id = id;
        ev->withdrawal_in_progress = &p->id_only;
        break;
    }
    }
}

enum sg_err sg_event_pack(enum sg_event_type t, const struct sg_event_fields *f,
                          const char *event_id, const char *trace_id, const char *created_at,
                          uint8_t **out, size_t *len)
{
    SG_ASSERT_PURE(t < SG_EVT_COUNT);
    SG_ASSERT_PURE(f->withdrawal_id != NULL);
    SgEvent ev = CBSAGA__EVENTS__V1__EVENT__INIT;
    SgWithdrawalRef ref = CBSAGA__EVENTS__V1__WITHDRAWAL_REF__INIT;
    union payload p;
    ev.event_id = (char *)event_id;
    ev.event_type = (char *)events[t].name;
    ev.aggregate_type = (char *)"withdrawal";
    ev.aggregate_id = (char *)(f->aggregate_id ? f->aggregate_id : f->withdrawal_id);
    ev.trace_id = (char *)trace_id;
    ev.created_at = (char *)created_at;
    fill_payload(t, f, &ref, &p, &ev);
    size_t n = cbsaga__events__v1__event__get_packed_size(&ev);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return SG_ERR_FULL;
    size_t w = cbsaga__events__v1__event__pack(&ev, buf);
    SG_ASSERT_PURE(w == n);
    *out = buf;
    *len = n;
    return SG_OK;
}

/* ---- decoding into one arena per message ----
 *
 * A decoded message and everything protobuf-c allocates for it (strings, submessages,
 * repeated fields) come from one arena that starts right before the message, and the
 * message is freed by freeing that arena: two mallocs per message instead of one per
 * field (malloc and free were 5% of a simulated run). protobuf-c's first allocation in
 * an unpack is the message itself (asserted), which is how the free finds its arena. */

struct wire_arena {
    struct wire_arena *more; /* blocks added when the first one ran out */
    size_t used, cap;
    _Alignas(max_align_t) unsigned char data[];
};

enum { WIRE_ARENA_ALIGN = _Alignof(max_align_t), WIRE_ARENA_SLACK = 512 };

static struct wire_arena *wire_arena_new(size_t cap)
{
    struct wire_arena *a = malloc(sizeof *a + cap);
    if (a == NULL) return NULL;
    a->more = NULL;
    a->used = 0;
    a->cap = cap;
    return a;
}

static void *wire_arena_alloc(void *ctx, size_t size)
{
    struct wire_arena *a = ctx;
    size_t need = (size + WIRE_ARENA_ALIGN - 1) / WIRE_ARENA_ALIGN * WIRE_ARENA_ALIGN;
    if (need < size) return NULL;
    if (a->cap - a->used >= need) {
        void *p = &a->data[a->used];
        a->used += need;
        return p;
    }
    /* A block of its own, behind the first one (never the first allocation). */
    struct wire_arena *b = wire_arena_new(need);
    if (b == NULL) return NULL;
    b->used = need;
    b->more = a->more;
    a->more = b;
    return b->data;
}

static void wire_arena_free_one(void *ctx, void *p)
{
    (void)ctx; /* everything goes when the arena goes */
    (void)p;
}

static void wire_arena_free(struct wire_arena *a)
{
    for (uint32_t i = 0; a != NULL && i < UINT32_MAX; i++) {
        struct wire_arena *next = a->more;
        free(a);
        a = next;
    }
}

/* Unpacks with desc into a new arena; NULL when the bytes are not a valid message. */
static ProtobufCMessage *wire_unpack(const ProtobufCMessageDescriptor *desc,
                                     const uint8_t *bytes, size_t len)
{
    /* Decoded fields take at most about as many bytes as their encoding, plus the
     * structs: sized so that one block is the rule. */
    size_t cap = len < SIZE_MAX / 4 ? 2 * len + WIRE_ARENA_SLACK : len;
    struct wire_arena *a = wire_arena_new(cap);
    if (a == NULL) return NULL;
    ProtobufCAllocator alloc = {wire_arena_alloc, wire_arena_free_one, a};
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, &alloc, len, bytes);
    if (m == NULL) {
        wire_arena_free(a);
        return NULL;
    }
    SG_ASSERT_PURE((void *)m == (void *)a->data);
    return m;
}

static void wire_release(void *m)
{
    if (m == NULL) return;
    wire_arena_free((struct wire_arena *)((unsigned char *)m - offsetof(struct wire_arena, data)));
}

SgEvent *sg_event_decode(const uint8_t *bytes, size_t len)
{
    return (SgEvent *)wire_unpack(&cbsaga__events__v1__event__descriptor, bytes, len);
}

void sg_event_free(SgEvent *ev)
{
    wire_release(ev);
}

void sg_wire_send(const struct sg_env *env, uint64_t *msg_counter, uint32_t to, SgEnvelope *e,
                  uint64_t *msg_id_out)
{
    e->msg_id = ++*msg_counter;
    e->from = env->node_id;
    e->to = to;
    size_t n = sagasim__node__v1__envelope__get_packed_size(e);
    uint8_t stackbuf[4096];
    uint8_t *buf = n <= sizeof stackbuf ? stackbuf : malloc(n);
    SG_ASSERT(env, buf != NULL);
    size_t w = sagasim__node__v1__envelope__pack(e, buf);
    SG_ASSERT(env, w == n);
    env->send(env->ctx, to, buf, n);
    if (buf != stackbuf) free(buf);
    if (msg_id_out) *msg_id_out = e->msg_id;
}

SgEnvelope *sg_wire_decode(const uint8_t *bytes, size_t len)
{
    return (SgEnvelope *)wire_unpack(&sagasim__node__v1__envelope__descriptor, bytes, len);
}

void sg_wire_free(SgEnvelope *e)
{
    wire_release(e);
}

void sg_wire_reply(const struct sg_env *env, uint64_t *msg_counter, uint32_t to,
                   uint64_t correlation_id, const char *trace_id,
                   Sagasim__Node__V1__ClientReply *reply)
{
    SgEnvelope e = SAGASIM__NODE__V1__ENVELOPE__INIT;
    e.correlation_id = correlation_id;
    e.trace_id = (char *)(trace_id ? trace_id : "");
    e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_REPLY;
    e.reply = reply;
    sg_wire_send(env, msg_counter, to, &e, NULL);
}
