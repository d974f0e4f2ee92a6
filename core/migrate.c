/*
 * migrate.c: the migration lists and the one routine that applies them (see migrate.h).
 */
#include "migrate.h"

#include <stdio.h>

#include "assert.h"
#include "broker.h"
#include "db.h"
#include "decider.h"
#include "orch.h"
#include "outbox.h"
#include "banned.h"

/* Orchestrator, version 2: recovery re-arms the deadline of every open saga
 * (orch.c: rearm_deadlines); a partial index makes that proportional to the open sagas
 * instead of every saga ever made. */
#define SG_ORCH_V2 "CREATE INDEX IF NOT EXISTS sagas_open ON sagas(id) WHERE current_step <> 'DONE';"

static const char *const broker_steps[] = {SG_BROKER_SCHEMA};
static const char *const orch_steps[] = {SG_OUTBOX_SCHEMA SG_ORCH_SCHEMA, SG_ORCH_V2};
static const char *const decider_steps[] = {SG_OUTBOX_SCHEMA SG_DECIDER_SCHEMA};

const struct sg_schema sg_schema_broker = {"broker.db", broker_steps, 1};
const struct sg_schema sg_schema_orch = {"orch.db", orch_steps, 2};
const struct sg_schema sg_schema_identity = {"identity.db", decider_steps, 1};
const struct sg_schema sg_schema_risk = {"risk.db", decider_steps, 1};

static enum sg_err read_version(const struct sg_env *env, struct sg_db *db, uint32_t *out)
{
    sqlite3_stmt *st = sg_db_prepare(env, db, "PRAGMA user_version");
    if (!st) return SG_ERR_IO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int64_t v = sqlite3_column_int64(st, 0);
        *out = v < 0 ? UINT32_MAX : (uint32_t)v; /* negative: not ours, and never older */
    }
    sg_db_done(st);
    if (rc == SQLITE_ROW) return SG_OK;
    sg_db_trace_err(env, db->h, rc, "user_version");
    return SG_ERR_IO;
}

enum sg_err sg_migrate(const struct sg_env *env, struct sg_db *db,
                       const struct sg_schema *schema, uint32_t *found_out)
{
    SG_ASSERT(env, db != NULL);
    SG_ASSERT(env, schema->version > 0 && schema->steps != NULL);
    uint32_t found = 0;
    enum sg_err err = read_version(env, db, &found);
    if (err != SG_OK) return err;
    if (found_out) *found_out = found;
    if (found > schema->version) {
        sg_trace(env, "db_schema_newer %s have=%u know=%u", schema->db_name, found,
                 schema->version);
        return SG_ERR_SCHEMA;
    }
    if (found == schema->version) return SG_OK;
    err = sg_db_begin(env, db);
    for (uint32_t v = found; v < schema->version && err == SG_OK; v++)
        err = sg_db_exec(env, db, schema->steps[v]);
    if (err == SG_OK) {
        char set[48];
        snprintf(set, sizeof set, "PRAGMA user_version = %u", schema->version);
        err = sg_db_exec(env, db, set);
    }
    if (err != SG_OK) {
        sg_db_rollback(db);
        return err;
    }
    err = sg_db_commit(env, db);
    if (err == SG_OK)
        sg_trace(env, "db_migrated %s from=%u to=%u", schema->db_name, found, schema->version);
    uint32_t now = 0;
    if (err == SG_OK && read_version(env, db, &now) == SG_OK) SG_ASSERT(env, now == schema->version);
    return err;
}
