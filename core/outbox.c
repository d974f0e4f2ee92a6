/*
 * outbox.c: writing outbox rows (see outbox.h).
 */
#include "outbox.h"

#include <stdlib.h>

#include "assert.h"
#include "db.h"
#include "ids.h"
#include "trace_rec.h"
#include "banned.h"

enum sg_err sg_outbox_put(const struct sg_env *env, struct sg_db *db, enum sg_event_type t,
                          const struct sg_event_fields *f, const char *trace_id,
                          int64_t now_wall_ns)
{
    SG_ASSERT(env, t < SG_EVT_COUNT);
    SG_ASSERT(env, !sqlite3_get_autocommit(db->h)); /* only inside the caller's transaction */
    char event_id[SG_UUID_LEN + 1], created_at[64];
    sg_uuid_v4(env, event_id);
    sg_rfc3339(now_wall_ns, created_at);
    uint8_t *payload = NULL;
    size_t len = 0;
    enum sg_err err = sg_event_pack(t, f, event_id, trace_id, created_at, &payload, &len);
    if (err != SG_OK) return err;
    err = sg_db_runf(env, db, NULL,
                     "INSERT INTO outbox(event_id, event_type, aggregate_type, aggregate_id,"
                     " route_key, trace_id, created_at_ns, payload)"
                     " VALUES(?, ?, 'withdrawal', ?, ?, ?, ?, ?)",
                     "tttttib", event_id, sg_event_name(t),
                     f->aggregate_id ? f->aggregate_id : f->withdrawal_id,
                     sg_event_route(t), trace_id, now_wall_ns, (const void *)payload, len);
    free(payload);
    if (err == SG_OK)
        SG_TRACE(env, SG_TR_OUTBOX, .s = {sg_event_name(t), f->withdrawal_id, event_id});
    return err;
}

const char *sg_inbox_result_name(enum sg_inbox_result r)
{
    switch (r) {
    case SG_INBOX_APPLIED: return "APPLIED";
    case SG_INBOX_IGNORED: return "IGNORED";
    case SG_INBOX_REJECTED: return "REJECTED";
    }
    return "?";
}
