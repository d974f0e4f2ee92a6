/*
 * wire.h: protobuf-c glue: the node envelope and the saga's events (DESIGN §8, §8.1).
 *
 * Every byte between nodes is one packed Envelope; every outbox payload and broker record
 * value is one packed Event. Decoded messages live for one step: the caller frees them
 * with the matching *_free before the step ends, never with protobuf-c's free_unpacked
 * (each lives in an arena of its own, wire.c).
 */
#ifndef SG_WIRE_H
#define SG_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "cbsaga/events/v1/events.pb-c.h"
#include "cbsaga/orchestrator/v1/orchestrator.pb-c.h"
#include "env.h"
#include "err.h"
#include "sagasim/node/v1/node.pb-c.h"

/* Short names for the generated types (the generated names are unwieldy). */
typedef Sagasim__Node__V1__Envelope SgEnvelope;
typedef Sagasim__Node__V1__Record SgRecord;
typedef Cbsaga__Events__V1__Event SgEvent;
typedef Cbsaga__Events__V1__WithdrawalRef SgWithdrawalRef;

/* The events of DESIGN §8.1 with their routes (topic = "cbsaga." + route). */
enum sg_event_type {
    SG_EVT_WITHDRAWAL_REQUESTED,
    SG_EVT_WITHDRAWAL_IN_PROGRESS,
    SG_EVT_WITHDRAWAL_COMPLETED,
    SG_EVT_WITHDRAWAL_FAILED,
    SG_EVT_WITHDRAWAL_CANCELED,
    SG_EVT_VERIFY_IDENTITY_REQUESTED,
    SG_EVT_IDENTITY_VERIFIED,
    SG_EVT_IDENTITY_REJECTED,
    SG_EVT_RISK_CHECK_REQUESTED,
    SG_EVT_RISK_APPROVED,
    SG_EVT_RISK_REJECTED,
    SG_EVT_PLACE_HOLD,
    SG_EVT_HOLD_PLACED,
    SG_EVT_HOLD_REJECTED,
    SG_EVT_SETTLE_HOLD,
    SG_EVT_HOLD_SETTLED,
    SG_EVT_RELEASE_HOLD,
    SG_EVT_HOLD_RELEASED,
    SG_EVT_PAYOUT_REQUESTED,
    SG_EVT_PAYOUT_SUCCEEDED,
    SG_EVT_PAYOUT_FAILED,
    SG_EVT_COUNT,
};

/* The withdrawal fields an event may carry. */
struct sg_event_fields {
    const char *withdrawal_id;
    const char *user_id;
    const char *asset;
    int64_t amount_minor;
    const char *destination_addr;
    const char *reason;          /* rejected, failed, canceled */
    const char *aggregate_id;    /* the message key; NULL: withdrawal_id (always, but for
                                    the planted bug wrong-key) */
    const char *idempotency_key; /* PayoutRequested: the rail's de-duplication key */
};

const char *sg_event_name(enum sg_event_type t);
const char *sg_event_route(enum sg_event_type t);   /* "evt.withdrawal", "cmd.identity" */
/* The type of a decoded event, or SG_EVT_COUNT when its payload is unset or unknown. */
enum sg_event_type sg_event_type_of(const SgEvent *ev);
/* The withdrawal id an event's payload names ("" when none). */
const char *sg_event_withdrawal_id(const SgEvent *ev);
/* The reason an event's payload carries ("" when none). */
const char *sg_event_reason(const SgEvent *ev);
/* The withdrawal reference of a command (VerifyIdentity/RiskCheck/Requested, the ledger's
 * and the payout's commands) or NULL. */
const SgWithdrawalRef *sg_event_ref(const SgEvent *ev);
/* PayoutRequested's idempotency key ("" for any other event or when unset). */
const char *sg_event_payout_key(const SgEvent *ev);

/* Packs an Event into a malloc'ed buffer (*out, caller frees). */
SG_MUST_USE enum sg_err sg_event_pack(enum sg_event_type t, const struct sg_event_fields *f,
                                      const char *event_id, const char *trace_id,
                                      const char *created_at, uint8_t **out, size_t *len);
SgEvent *sg_event_decode(const uint8_t *bytes, size_t len);
void sg_event_free(SgEvent *ev);

/* Fills msg_id/from/to, packs and sends *e through env->send. msg_id_out may be NULL. */
void sg_wire_send(const struct sg_env *env, uint64_t *msg_counter, uint32_t to,
                  SgEnvelope *e, uint64_t *msg_id_out);
SgEnvelope *sg_wire_decode(const uint8_t *bytes, size_t len);
void sg_wire_free(SgEnvelope *e);
/* Sends a client reply (code, message, withdrawal id, optional body set by the caller). */
void sg_wire_reply(const struct sg_env *env, uint64_t *msg_counter, uint32_t to,
                   uint64_t correlation_id, const char *trace_id,
                   Sagasim__Node__V1__ClientReply *reply);

#endif
