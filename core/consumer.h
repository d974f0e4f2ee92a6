/*
 * consumer.h: a consumer-group member over one or more topics (DESIGN §1, §8).
 *
 * One fetch is in flight at a time, for every subscription (topic, partition) at once, as
 * Kafka's consumer does (FetchRequest.parts): a long poll from each partition's position
 * (from the group's committed offset until it has one), answered when any partition has
 * records. When records came: ONE transaction that applies each record's effect through
 * the handler and records it in the inbox, records of a partition in offset order; then
 * the next fetch, which carries the commit of each advanced partition's new position
 * (FetchPart.commit: the broker stores it before it fetches). Records whose event id is
 * already in the inbox are duplicates: no effect. Undecodable or unknown records are
 * recorded REJECTED and skipped; they never stop the consumer. No answer within
 * fetch_poll + request_timeout: the fetch is re-sent, its commit with it (a lost commit
 * re-fetches records already applied, which the inbox de-duplicates). The commit rides on
 * every fetch until a response's committed offset reaches the position: so a group offset
 * that the broker lost (it persists them lazily, broker.h) is committed again, and every
 * group still reaches the log end (I8). Saves a commit request and its ack per batch.
 */
#ifndef SG_CONSUMER_H
#define SG_CONSUMER_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker.h"
#include "config.h"
#include "db.h"
#include "env.h"
#include "err.h"
#include "outbox.h"
#include "wire.h"

/* A subscription per (topic, partition): at most SG_CONSUMER_TOPICS_MAX topics (the
 * orchestrator's four event topics) of at most SG_PARTITIONS_MAX partitions each (a
 * scenario may ask for 16: with 32 subscriptions that asserted at 9). */
enum { SG_CONSUMER_TOPICS_MAX = 4,
       SG_CONSUMER_SUBS_MAX = SG_CONSUMER_TOPICS_MAX * SG_PARTITIONS_MAX };

/* Applies one decoded record inside the open transaction; sets *result. Returns non-OK
 * only for an I/O failure (the whole batch then rolls back and is fetched again). */
typedef enum sg_err (*sg_consume_fn)(void *ctx, struct sg_db *db, const SgRecord *rec,
                                     const SgEvent *ev, enum sg_inbox_result *result);

struct sg_consumer_sub {
    char topic[40];
    uint32_t partition;
    bool positioned;          /* next_offset is known (else fetch from committed) */
    uint64_t next_offset;
    bool commit_pending;      /* next_offset is not yet confirmed as the group's offset */
};

struct sg_consumer_stats {
    uint64_t batches, applied, ignored, rejected, duplicates;
};

struct sg_consumer {
    const struct sg_env *env;
    const struct sg_config *cfg;
    struct sg_db *db;
    uint64_t *msg_counter;
    const char *group;
    struct sg_consumer_sub subs[SG_CONSUMER_SUBS_MAX];
    uint32_t sub_count;
    bool fetching;            /* a fetch is in flight: msg_id */
    uint64_t msg_id;
    uint64_t gen;             /* of the fetch's timeout */
    sg_consume_fn fn;
    void *fn_ctx;
    bool no_dedup;            /* hand redelivered records to fn again (the payout rail) */
    struct sg_consumer_stats stats;
};

/* topics: NULL-terminated list of at most SG_CONSUMER_TOPICS_MAX; each gets
 * cfg->partitions (at most SG_PARTITIONS_MAX) subscriptions. */
void sg_consumer_init(struct sg_consumer *c, const struct sg_env *env,
                      const struct sg_config *cfg, struct sg_db *db, uint64_t *msg_counter,
                      const char *group, const char *const *topics, sg_consume_fn fn,
                      void *fn_ctx);
/* Sends the first fetch (of every subscription). */
void sg_consumer_start(struct sg_consumer *c);
/* Fetch responses. *applied_out is true when a batch committed effects
 * (the service then wakes its relay). */
SG_MUST_USE enum sg_err sg_consumer_on_message(struct sg_consumer *c, const SgEnvelope *e,
                                               bool *applied_out);
/* The subscription of (topic, partition), or NULL: not one the consumer holds (its records
 * are skipped). */
struct sg_consumer_sub *sg_consumer_sub_of(struct sg_consumer *c, const char *topic,
                                           uint32_t partition);
/* SG_TIMER_CONSUMER tags: the fetch's timeout. */
void sg_consumer_on_timer(struct sg_consumer *c, uint64_t tag);

#endif
