/*
 * payout.h: the payout node, standing for the external payment rail (DESIGN §1, §8
 * "Money").
 *
 * Consumes cbsaga.cmd.payout (group cbsaga-payout) and answers on cbsaga.evt.payout. Like a
 * real payout API it knows nothing of our event ids: it keeps no inbox de-duplication and
 * relies on the request's idempotency key (the withdrawal id). The first request for a key
 * decides (sg_decide_payout: a configurable failure ratio), sends the money on success
 * (one `effects` row: what I14 counts) and answers PayoutSucceeded or PayoutFailed; every
 * later request with that key is answered again with the same outcome and sends nothing.
 * A request without a key cannot be de-duplicated: it is paid every time it arrives.
 * Decision, effect, answer and inbox row commit in ONE transaction.
 */
#ifndef SG_PAYOUT_H
#define SG_PAYOUT_H

#include "db.h"
#include "err.h"
#include "outbox.h"
#include "wire.h"

/* sg_consume_fn for the payout node; ctx is its struct sg_decider. */
SG_MUST_USE enum sg_err sg_payout_consume(void *ctx, struct sg_db *db, const SgRecord *rec,
                                          const SgEvent *ev, enum sg_inbox_result *result);

#endif
