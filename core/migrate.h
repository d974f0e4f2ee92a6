/*
 * migrate.h: every database's schema as numbered migrations, in one place (DESIGN §7).
 *
 * core/migrate.c holds the only SQL that creates or changes a table or an index, for all
 * six database kinds (broker, orchestrator, identity, risk, ledger, payout); no other file
 * has DDL.
 *
 * A database records its schema version in `PRAGMA user_version` (0 = created before
 * versions existed, or new). On open (sg_db_open, in the simulator and in live mode alike)
 * sg_migrate applies the steps from the stored version up to the schema's current one, and
 * the new user_version, in ONE transaction: a crash leaves the old version or the new one,
 * never a half-migrated database. A database whose version is newer than this build knows
 * is refused with SG_ERR_SCHEMA and left untouched, byte for byte: sg_db_open calls
 * sg_migrate_check before any pragma that writes (journal_mode=WAL rewrites the header).
 * The live node then exits 2 with "database X has schema version N, this build knows M".
 *
 * Step i (0-based) takes a database from version i to i + 1, and version = the number of
 * steps. A database with no table at all (a new file) gets `now` instead, the current
 * schema in one script (same transaction, same user_version), when the schema has one:
 * running every step would create tables only to rebuild them. Step 0 is the original
 * schema, written with IF NOT EXISTS so that a version-0 database made by the first
 * releases (the same tables, no user_version) is adopted as it is. Steps are append-only:
 * a released step never changes, not even in whitespace; a change to the schema is a new
 * step at the end.
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
    uint32_t version;             /* the current version = the number of steps (> 0) */
    const char *now;              /* the current schema in one script, for an empty
                                     database (what steps[0..version) make from nothing) */
};

extern const struct sg_schema sg_schema_broker;
extern const struct sg_schema sg_schema_orch;
extern const struct sg_schema sg_schema_identity;
extern const struct sg_schema sg_schema_risk;
extern const struct sg_schema sg_schema_ledger;
extern const struct sg_schema sg_schema_payout;

/* Reads db's version and writes nothing. *found_out (may be NULL) gets the version the
 * database has. SG_OK: this build can open it (found <= schema->version); SG_ERR_SCHEMA:
 * newer than this build (traced as db_schema_newer); SG_ERR_IO: SQLite failed (traced).
 * Pre: no transaction is open on db. */
SG_MUST_USE enum sg_err sg_migrate_check(const struct sg_env *env, struct sg_db *db,
                                         const struct sg_schema *schema, uint32_t *found_out);

/* Brings db to schema->version (see above); sg_migrate_check's errors, and SG_ERR_IO when
 * a step or the COMMIT failed (rolled back; traced where it was born). Pre: no transaction
 * is open on db. Post (SG_OK): user_version = schema->version. */
SG_MUST_USE enum sg_err sg_migrate(const struct sg_env *env, struct sg_db *db,
                                   const struct sg_schema *schema);

#endif
