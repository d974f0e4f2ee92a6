/*
 * ledger.h: the ledger service's effect (DESIGN §1, §8 "Money"): holds on users' funds.
 *
 * Consumes cbsaga.cmd.ledger (group cbsaga-ledger) and answers on cbsaga.evt.ledger, each
 * command in ONE transaction with its journal row, its outbox row and its inbox row:
 *   PlaceHold   -> HoldPlaced (available -= amount, held += amount) or
 *                  HoldRejected "insufficient_funds" (nothing moves);
 *   SettleHold  -> HoldSettled (held -= amount, paid_out += amount: the money left);
 *   ReleaseHold -> HoldReleased (held -= amount, available += amount: compensation; a
 *                  withdrawal never held is marked released, so a late PlaceHold is
 *                  refused, and answered HoldReleased all the same).
 * Accounts are per (user_id, asset), opened on first use with sg_opening_balance, and
 * always keep opening = available + held + paid_out (amounts checked for overflow). A
 * command out of state (a second PlaceHold, a settle of a hold not PLACED, a release of one
 * settled) is IGNORED and changes nothing; redeliveries stop at the inbox first.
 * The identity/risk service shape (decider.h) runs it: this is its consume function.
 */
#ifndef SG_LEDGER_H
#define SG_LEDGER_H

#include "db.h"
#include "err.h"
#include "outbox.h"
#include "wire.h"

struct sg_decider;

/* sg_consume_fn for the ledger; ctx is its struct sg_decider. */
SG_MUST_USE enum sg_err sg_ledger_consume(void *ctx, struct sg_db *db, const SgRecord *rec,
                                          const SgEvent *ev, enum sg_inbox_result *result);

#endif
