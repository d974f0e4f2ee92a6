/*
 * outbox.h: the transactional outbox and the inbox every service shares (DESIGN §1, §8).
 *
 * Outbox rows are written inside the caller's transaction, together with the state change
 * they announce; `seq` (AUTOINCREMENT) is commit order because each service has one
 * writer. The relay publishes rows past relay_position.last_seq. The inbox records every
 * consumed record once: key = event_id, or "poison:<topic>:<partition>:<offset>" for
 * undecodable records; result APPLIED, IGNORED (out of state, duplicate effect) or
 * REJECTED (undecodable or unknown).
 */
#ifndef SG_OUTBOX_H
#define SG_OUTBOX_H

#include <sqlite3.h>

#include "db.h"
#include "env.h"
#include "err.h"
#include "wire.h"

/* The tables (outbox, relay_position, inbox) are part of every service's schema in
 * core/migrate.c. */

enum sg_inbox_result { SG_INBOX_APPLIED, SG_INBOX_IGNORED, SG_INBOX_REJECTED };

/* Inserts one outbox row for event t of the withdrawal in f (inside an open transaction).
 * The event id is a fresh UUID from the env. */
SG_MUST_USE enum sg_err sg_outbox_put(const struct sg_env *env, struct sg_db *db,
                                      enum sg_event_type t, const struct sg_event_fields *f,
                                      const char *trace_id, int64_t now_wall_ns);

const char *sg_inbox_result_name(enum sg_inbox_result r);

#endif
