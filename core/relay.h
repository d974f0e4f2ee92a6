/*
 * relay.h: the outbox relay of one service (the Debezium role, DESIGN §1 and §8).
 *
 * Stop-and-wait: reads up to batch_max outbox rows past its position in seq (commit)
 * order, produces them to the broker in one ProduceRequest, and advances its position in
 * memory on the broker's ack. No ack within request_timeout: the rows past the position
 * are read and sent again. Delivery is at-least-once, per-key order holds.
 *
 * Persisting the position (relay_position.last_seq) is lazy: never before an ack, and at
 * the latest on the next poll tick after it, or at a clean close. A crash before that
 * re-publishes what was acknowledged since the last persist: the same at-least-once case
 * a crash between ack and persist always was (DESIGN §1), only over a longer window;
 * consumers' inboxes make duplicates harmless and I5 judges first occurrences. This saves
 * one commit per batch (DESIGN §8 fixes what the position guarantees, not when it is
 * written).
 *
 * Woken by its service's commits (sg_relay_kick) and by a fallback poll timer. After a
 * read that found less than a full batch, only a kick or a poll reads again: the outbox is
 * not re-read after every ack when nothing was committed since. The poll skips its read
 * when the connection has changed no row since that read (sqlite3_total_changes64; only
 * this connection writes the file): a missed kick still shows as a change, and an idle
 * service's polls (most of a run's heal phase) read nothing.
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

enum { SG_RELAY_BATCH_MAX = 256 };

/* The in-flight batch: records pointing into one reused byte buffer. */
struct sg_relay_batch {
    SgRecord recs[SG_RELAY_BATCH_MAX];
    SgRecord *ptrs[SG_RELAY_BATCH_MAX];
    char topics[SG_RELAY_BATCH_MAX][40];
    size_t n;
    int64_t last_seq;
    uint8_t *bytes;           /* keys and values, NUL-terminated each */
    size_t bytes_cap;
};

struct sg_relay {
    const struct sg_env *env;
    const struct sg_config *cfg;
    struct sg_db *db;
    uint64_t *msg_counter;
    bool in_flight;
    bool drained;             /* the last read found the outbox empty past the batch */
    int64_t drained_changes;  /* sqlite3_total_changes64 at that read */
    uint64_t msg_id;          /* the in-flight produce */
    int64_t acked_seq;        /* every row up to here is acknowledged (this life) */
    int64_t persisted_seq;    /* relay_position.last_seq as last read or written */
    uint64_t gen;             /* retry-timer generation */
    uint64_t published;       /* records acknowledged, this life */
    struct sg_relay_batch batch;
};

void sg_relay_init(struct sg_relay *r, const struct sg_env *env, const struct sg_config *cfg,
                   struct sg_db *db, uint64_t *msg_counter);
/* Reads the persisted position, arms the poll timer and publishes what is pending. */
SG_MUST_USE enum sg_err sg_relay_start(struct sg_relay *r);
/* A clean stop: persists the acknowledged position (best effort), frees the batch buffer.
 * Safe after a crash (the write is refused by the dead disk) and twice. */
void sg_relay_close(struct sg_relay *r);
/* Its service committed: publishes the next batch unless one is in flight. */
SG_MUST_USE enum sg_err sg_relay_kick(struct sg_relay *r);
SG_MUST_USE enum sg_err sg_relay_on_ack(struct sg_relay *r, const SgEnvelope *e);
/* Handles SG_TIMER_RELAY_POLL and SG_TIMER_RELAY_RETRY tags. */
SG_MUST_USE enum sg_err sg_relay_on_timer(struct sg_relay *r, uint64_t tag);

#endif
