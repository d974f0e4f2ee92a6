/*
 * broker_int.h: what broker.c (log, produce, commits) and broker_fetch.c (fetches and long
 * polls) share; not part of broker.h's contract.
 */
#ifndef SG_BROKER_INT_H
#define SG_BROKER_INT_H

#include <stdint.h>

#include "broker.h"

/* The group's committed offset on (t, p): the in-memory table, else broker.db, else 0. */
SG_MUST_USE enum sg_err sg_broker_committed_offset(struct sg_broker *b, const char *group,
                                                   uint32_t t, uint32_t p, uint64_t *out);
/* Stores a group's offset (never back): in memory, or at once in broker.db when the
 * in-memory table cannot take it. */
SG_MUST_USE enum sg_err sg_broker_store_commit(struct sg_broker *b, const char *group,
                                               uint32_t t, uint32_t p, uint64_t offset);
/* A FetchRequest: answered now, or parked until records come or fetch_poll_ns passes. */
SG_MUST_USE enum sg_err sg_broker_on_fetch(struct sg_broker *b, const SgEnvelope *e);
/* Answers the parked fetches that have a part on (t, p) and now have records. */
void sg_broker_wake_parked(struct sg_broker *b, uint32_t t, uint32_t p);
/* An SG_TIMER_BROKER_POLL tag's argument: the parked fetch's long poll ended. */
SG_MUST_USE enum sg_err sg_broker_on_poll(struct sg_broker *b, uint64_t arg);

#endif
