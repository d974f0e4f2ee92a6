/*
 * db.h: the few SQLite helpers every service shares, and its prepared-statement cache.
 *
 * sg_db_open opens <data_dir>/<name> on the env's VFS with the settings that survive every
 * legal disk fault (notes/sqlite-fault-model.md): locking_mode=EXCLUSIVE first, then the
 * schema version check (a newer file is refused before anything writes to it), then
 * journal_mode=WAL, synchronous=FULL and a WAL checkpointed every 64 pages, then the
 * migrations (migrate.h).
 * sg_db_close finalizes every statement, then closes: safe to call twice and after the
 * node's disk crashed.
 *
 * Statements: sg_db_prepare / sg_db_stmtf hand out a statement from the connection's
 * cache, keyed by the SQL text's address (every SQL text is a string literal), prepared
 * once per connection; the caller steps it and gives it back with sg_db_done (reset +
 * clear bindings), never sqlite3_finalize. Preparing dominated the simulator's profile
 * (59% of instructions) before the cache. A cached statement must not be used twice at
 * once (asserted).
 *
 * Errors: every failure returns SG_ERR_IO and traces the SQLite code where it was born.
 * A failed COMMIT is outcome-unknown: callers must not report it as done nor as undone.
 */
#ifndef SG_DB_H
#define SG_DB_H

#include <sqlite3.h>
#include <stdbool.h>

#include "env.h"
#include "err.h"

enum { SG_DB_CACHE_MAX = 96 };

struct sg_db {
    sqlite3 *h;
    const struct sg_env *env;
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[SG_DB_CACHE_MAX];
    size_t cached;
};

/* How a database is opened. SG_DB_DURABLE is what every acknowledgement relies on;
 * SG_DB_WAL_NORMAL (synchronous=NORMAL: a power loss may lose the last commits) exists only
 * for `sagasim live bench` to show what fsync costs; SG_DB_JOURNAL_NORMAL is the planted
 * bug journal-normal. */
enum sg_db_mode { SG_DB_DURABLE, SG_DB_WAL_NORMAL, SG_DB_JOURNAL_NORMAL };

struct sg_schema;
/* Opens <data_dir>/<schema->db_name>, creating it if absent, and migrates it (migrate.h).
 * Errors: SG_ERR_SCHEMA when the file was made by a newer build (the file is not written);
 * SG_ERR_IO when SQLite failed; SG_ERR_FULL when out of memory. *db_out is set only on
 * SG_OK. The data directory's length has no limit here (the VFS may have one). */
SG_MUST_USE enum sg_err sg_db_open(const struct sg_env *env, const struct sg_schema *schema,
                                   enum sg_db_mode mode, struct sg_db **db_out);
/* Opens an existing <data_dir>/<db_name> read-only: no pragmas, no migration; the file and
 * its WAL are not written (SQLite may create the -shm index of a WAL database). For looking
 * at a file a node refused (sg_migrate_check); close with sg_db_close. Errors as
 * sg_db_open, without SG_ERR_SCHEMA. */
SG_MUST_USE enum sg_err sg_db_open_readonly(const struct sg_env *env, const char *db_name,
                                            struct sg_db **db_out);
void sg_db_close(struct sg_db **db);

/* Runs SQL text once, uncached (schema, pragmas). */
SG_MUST_USE enum sg_err sg_db_exec(const struct sg_env *env, struct sg_db *db, const char *sql);
SG_MUST_USE enum sg_err sg_db_begin(const struct sg_env *env, struct sg_db *db);
/* On failure the transaction is rolled back; its outcome is unknown. */
SG_MUST_USE enum sg_err sg_db_commit(const struct sg_env *env, struct sg_db *db);
/* Rolls back if a transaction is open; never fails loudly (the connection may be dead). */
void sg_db_rollback(struct sg_db *db);

/* A cached statement for a literal SQL text; NULL on failure (traced). */
sqlite3_stmt *sg_db_prepare(const struct sg_env *env, struct sg_db *db, const char *sql);
/* Prepare (cached) and bind by a type string, one letter per parameter: 't' const char *,
 * 'i' int64_t, 'b' const void * then size_t (blob). Returns NULL on failure (traced).
 * Text and blobs are bound without a copy (SQLITE_STATIC): they must stay unchanged until
 * the statement is given back (sg_db_done, or the end of sg_db_run / sg_db_runf), which
 * clears the bindings. Copying them cost ~3% of a simulated run. */
sqlite3_stmt *sg_db_stmtf(const struct sg_env *env, struct sg_db *db, const char *sql,
                          const char *types, ...);
/* sg_db_stmtf + sg_db_run; *changes_out (may be NULL) gets sqlite3_changes. */
SG_MUST_USE enum sg_err sg_db_runf(const struct sg_env *env, struct sg_db *db, int *changes_out,
                                   const char *sql, const char *types, ...);
/* Steps a statement to its end (rows ignored), then gives it back. */
SG_MUST_USE enum sg_err sg_db_run(const struct sg_env *env, sqlite3_stmt *st);
/* Gives a cached statement back: reset and clear its bindings. */
void sg_db_done(sqlite3_stmt *st);
/* Copies column i's text into buf (always NUL-terminated, empty for NULL). */
void sg_db_col_text(sqlite3_stmt *st, int i, char *buf, size_t cap);
/* Traces "sqlite_error rc=<code> ext=<extended> at=<where>", where the error was born. */
void sg_db_trace_err(const struct sg_env *env, sqlite3 *h, int rc, const char *where);

#endif
