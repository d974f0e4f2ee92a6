/*
 * relay.h: the outbox relay of one service (the Debezium role, DESIGN §1 and §8).
 *
 * Stop-and-wait: reads up to batch_max outbox rows past relay_position.last_seq in seq
 * (commit) order, produces them to the broker in one ProduceRequest, and persists the new
 * position only after the broker's ack, in its own transaction. No ack within
 * request_timeout: the same batch is re-read and re-sent. A crash between ack and persist
 * re-publishes the batch: delivery is at-least-once, per-key order holds.
 * Woken by its service's commits (sg_relay_kick) and by a fallback poll timer.
 */
#ifndef SG_RELAY_H
#define SG_RELAY_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "db.h"
#include "env.h"
#include "err.h"
#include "wire.h"

struct sg_relay {
    const struct sg_env *env;
    const struct sg_config *cfg;
    struct sg_db *db;
    uint64_t *msg_counter;
    bool in_flight;
    uint64_t msg_id;          /* the in-flight produce */
    int64_t batch_last_seq;   /* the position to persist on ack */
    uint64_t gen;             /* retry-timer generation */
    uint64_t published;       /* records acknowledged, this life */
};

void sg_relay_init(struct sg_relay *r, const struct sg_env *env, const struct sg_config *cfg,
                   struct sg_db *db, uint64_t *msg_counter);
/* Arms the poll timer and publishes what is pending. */
SG_MUST_USE enum sg_err sg_relay_start(struct sg_relay *r);
/* Publishes the next batch unless one is in flight. */
SG_MUST_USE enum sg_err sg_relay_kick(struct sg_relay *r);
SG_MUST_USE enum sg_err sg_relay_on_ack(struct sg_relay *r, const SgEnvelope *e);
/* Handles SG_TIMER_RELAY_POLL and SG_TIMER_RELAY_RETRY tags. */
SG_MUST_USE enum sg_err sg_relay_on_timer(struct sg_relay *r, uint64_t tag);

#endif
