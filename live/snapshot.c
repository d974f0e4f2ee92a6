/*
 * snapshot.c (live): a node's status file for the console (see snapshot.h).
 */
#include "snapshot.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live_env.h"
#include "paths.h"

static sqlite3 *db_of(const struct sg_node *n)
{
    if (!n->up) return NULL;
    switch (n->role) {
    case SG_ROLE_BROKER: return n->u.broker.db ? n->u.broker.db->h : NULL;
    case SG_ROLE_ORCH: return n->u.orch.svc.db ? n->u.orch.svc.db->h : NULL;
    default: return n->u.decider.svc.db ? n->u.decider.svc.db->h : NULL;
    }
}

/* Rows of a query as an array of objects keyed by column name. */
static json_t *rows(sqlite3 *h, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) return json_array();
    json_t *out = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = json_object();
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const char *name = sqlite3_column_name(st, c);
            if (sqlite3_column_type(st, c) == SQLITE_INTEGER)
                json_object_set_new(o, name, json_integer(sqlite3_column_int64(st, c)));
            else
                json_object_set_new(o, name, json_string((const char *)sqlite3_column_text(st, c)
                                                             ? (const char *)sqlite3_column_text(st, c)
                                                             : ""));
        }
        json_array_append_new(out, o);
    }
    sqlite3_finalize(st);
    return out;
}

void sg_live_snapshot_write(const struct sg_node *n, const char *role_dir, const char *role,
                            int pid, uint64_t starts, uint64_t commits)
{
    json_t *o = json_pack("{s:s, s:i, s:I, s:I, s:I}", "role", role, "pid", pid, "starts",
                          (json_int_t)starts, "commits", (json_int_t)commits, "written_at_ms",
                          (json_int_t)(sg_live_wall_ns() / 1000000));
    sqlite3 *h = db_of(n);
    if (h && n->role == SG_ROLE_ORCH) {
        json_object_set_new(o, "by_status", rows(h, "SELECT status, COUNT(*) AS n FROM"
                                                    " withdrawals GROUP BY status ORDER BY status"));
        json_object_set_new(o, "latest", rows(h,
            "SELECT w.withdrawal_id, w.status, s.current_step, w.trace_id,"
            " w.created_at_ns / 1000000 AS created_at_ms FROM withdrawals w JOIN sagas s"
            " ON s.withdrawal_id = w.withdrawal_id ORDER BY w.created_at_ns DESC LIMIT 25"));
    }
    if (h && n->role == SG_ROLE_BROKER) {
        json_object_set_new(o, "partitions", rows(h, "SELECT topic, partition, MAX(offset) + 1"
                                                     " AS log_end FROM records GROUP BY topic,"
                                                     " partition ORDER BY topic, partition"));
        json_object_set_new(o, "groups", rows(h, "SELECT grp, topic, partition, offset FROM"
                                                 " group_offsets ORDER BY grp, topic, partition"));
    }
    char *tmp = sg_live_path(role_dir, NULL, "status.json.tmp");
    char *path = sg_live_path(role_dir, NULL, "status.json");
    if (json_dump_file(o, tmp, JSON_COMPACT | JSON_SORT_KEYS) == 0) rename(tmp, path);
    json_decref(o);
    free(tmp);
    free(path);
}
