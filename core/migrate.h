/*
 * migrate.h: every database's schema as numbered migrations, in one place (DESIGN §7).
 *
 * A database records its schema version in `PRAGMA user_version` (0 = created before
 * versions existed, or new). On open (sg_db_open, in the simulator and in live mode alike)
 * sg_migrate applies the steps from the stored version up to the schema's current one, and
 * the new user_version, in ONE transaction: a crash leaves the old version or the new one,
 * never a half-migrated database. A database whose version is newer than this build knows
 * is refused with SG_ERR_SCHEMA and left untouched (the live node exits 2 and says so).
 *
 * Step i (0-based) takes a database from version i to i + 1; step 0 is the original schema,
 * written with IF NOT EXISTS so that a version-0 database made by the first releases (the
 * same tables, no user_version) is adopted as it is. Steps are append-only: a released step
 * never changes; a change to the schema is a new step at the end.
 */
#ifndef SG_MIGRATE_H
#define SG_MIGRATE_H

#include <stdint.h>

#include "err.h"

struct sg_db;
struct sg_env;

struct sg_schema {
    const char *db_name;          /* the file under the node's data directory */
    const char *const *steps;     /* steps[i]: version i -> i + 1 */
    uint32_t version;             /* the current version = the number of steps */
};

extern const struct sg_schema sg_schema_broker;
extern const struct sg_schema sg_schema_orch;
extern const struct sg_schema sg_schema_identity;
extern const struct sg_schema sg_schema_risk;

/* Brings db to schema->version (see above). *found_out (may be NULL) gets the version the
 * database had. SG_ERR_SCHEMA: newer than this build; SG_ERR_IO: SQLite failed (rolled
 * back; traced where it was born). */
SG_MUST_USE enum sg_err sg_migrate(const struct sg_env *env, struct sg_db *db,
                                   const struct sg_schema *schema, uint32_t *found_out);

#endif
