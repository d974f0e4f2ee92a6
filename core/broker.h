/*
 * broker.h: the message broker (the Kafka role, DESIGN §1 and §8).
 *
 * Topics have cfg->partitions partitions; a record's partition is XXH3_64(key) mod N.
 * Produce appends a whole request in ONE transaction (synced before the ack), assigning
 * consecutive offsets per partition; only then is the producer acknowledged. Fetch
 * answers from the group's committed offset (a new group starts at the earliest offset);
 * when no record is there it is parked (a long poll) until a produce reaches that
 * partition or fetch_poll_ns passes. A fetch may list several partitions (up to
 * SG_FETCH_PARTS_MAX, as Kafka's fetch does): it is answered when any of them has records,
 * with at most max_records in all, the part that fills first taking turns. Commit stores a
 * group's offset; it never moves back (a delayed duplicate of an old commit must not
 * rewind the group). The log and the group offsets live in SQLite on the broker's own
 * disk. Topics are the nine of DESIGN §8.
 *
 * A fetch may carry its consumer's commits (FetchRequest.commit, FetchPart.commit): the
 * broker stores them as a Commit would, then fetches; the response's committed offsets
 * confirm them.
 *
 * Group offsets are persisted lazily, as Kafka's auto-commit interval does: a commit
 * updates the broker's table in memory and is acknowledged at once; every relay_poll_ns
 * the changed offsets are written in ONE transaction (and at a clean stop). A power loss
 * may take a group back to an older durable offset: its consumers then fetch records they
 * already applied, which their inboxes skip (at-least-once, DESIGN §1). Fetches see the
 * in-memory offset. The table holds SG_GROUP_OFFSETS_MAX entries; a commit past that is
 * written at once, as before. Saves one broker commit per consumed batch.
 *
 * The newest records of each partition are also kept in memory (broker_tail.h), so a fetch
 * near the log end, the usual case, is answered without reading broker.db; a fetch further
 * back reads the log. Both give the same records (test_broker proves it).
 */
#ifndef SG_BROKER_H
#define SG_BROKER_H

#include <sqlite3.h>
#include <stdint.h>

#include "broker_tail.h"
#include "config.h"
#include "db.h"
#include "env.h"
#include "err.h"
#include "wire.h"

enum { SG_TOPIC_COUNT = 9, SG_PARTITIONS_MAX = 16, SG_PARKED_MAX = 16 /* long polls */,
       SG_GROUP_OFFSETS_MAX = 256, SG_GROUP_LEN = 40,
       SG_FETCH_PARTS_MAX = 4 * SG_PARTITIONS_MAX /* a consumer of four topics */ };

/* A consumer group's offset on one partition, as the broker holds it between flushes. */
struct sg_group_offset {
    char group[SG_GROUP_LEN];
    uint32_t topic, partition;
    uint64_t offset;
    bool dirty;                /* newer than broker.db */
};

/* Version 1 of the broker database (migrate.h keeps the list). */
/* The broker's tables (records, group_offsets) are created and migrated by
 * core/migrate.c. */

extern const char *const sg_topics[SG_TOPIC_COUNT];

/* One partition of a fetch: from `offset`, or from the group's committed offset; `commit`:
 * store `offset` as the group's offset first. */
struct sg_fetch_part {
    uint32_t topic, partition;
    uint64_t offset;
    bool from_committed, commit;
};

/* A fetch request as the broker keeps it while it waits (a long poll). A request without
 * parts (FetchRequest's own topic and partition) is one part, answered in the response's
 * single-partition fields. */
struct sg_parked_fetch {
    bool active;
    bool single;
    uint32_t from;
    uint64_t correlation_id;
    uint32_t max_records;
    char group[SG_GROUP_LEN];
    uint32_t n_parts;
    struct sg_fetch_part part[SG_FETCH_PARTS_MAX];
    uint64_t gen;
};

struct sg_broker {
    const struct sg_env *env;
    const struct sg_config *cfg;
    struct sg_db *db;
    uint64_t msg_counter;
    uint64_t next_offset[SG_TOPIC_COUNT][SG_PARTITIONS_MAX];
    struct sg_parked_fetch parked[SG_PARKED_MAX];
    uint64_t park_gen;
    uint32_t fetch_turn;       /* which part of a fetch fills first: turns, so none starves */
    uint64_t appended; /* records appended, this life */
    struct sg_group_offset goff[SG_GROUP_OFFSETS_MAX];
    size_t n_goff;
    struct sg_tail *tail[SG_TOPIC_COUNT][SG_PARTITIONS_MAX]; /* allocated at first use */
};

/* Opens broker.db, creates the schema and loads the log ends. */
SG_MUST_USE enum sg_err sg_broker_start(struct sg_broker *b, const struct sg_env *env,
                                        const struct sg_config *cfg);
SG_MUST_USE enum sg_err sg_broker_on_message(struct sg_broker *b, const SgEnvelope *e);
SG_MUST_USE enum sg_err sg_broker_on_timer(struct sg_broker *b, uint64_t tag);
void sg_broker_stop(struct sg_broker *b);
/* Index of a topic name, or -1. */
int sg_topic_index(const char *topic);
/* The partition of a key: XXH3_64(key) mod partitions. */
uint32_t sg_partition_of(const char *key, uint32_t partitions);

#endif
