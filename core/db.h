/*
 * db.h: the few SQLite helpers every service shares.
 *
 * sg_db_open opens <data_dir>/<name> on the env's VFS with the settings that survive every
 * legal disk fault (notes/sqlite-fault-model.md): locking_mode=EXCLUSIVE first, then
 * journal_mode=WAL and synchronous=FULL, then runs the schema (idempotent DDL).
 * sg_db_close finalizes every statement still open, then closes: safe to call twice and
 * after the node's disk crashed. Statement helpers bind by position.
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

SG_MUST_USE enum sg_err sg_db_open(const struct sg_env *env, const char *name,
                                   const char *schema, bool rollback_journal,
                                   sqlite3 **db_out);
void sg_db_close(sqlite3 **db);

SG_MUST_USE enum sg_err sg_db_exec(const struct sg_env *env, sqlite3 *db, const char *sql);
SG_MUST_USE enum sg_err sg_db_begin(const struct sg_env *env, sqlite3 *db);
SG_MUST_USE enum sg_err sg_db_commit(const struct sg_env *env, sqlite3 *db);
/* Rolls back if a transaction is open; never fails loudly (the connection may be dead). */
void sg_db_rollback(sqlite3 *db);

/* Prepare; on failure traces and returns NULL. */
sqlite3_stmt *sg_db_prepare(const struct sg_env *env, sqlite3 *db, const char *sql);
/* Binds text/int64/blob by position; the helpers return SQLite codes. */
int sg_db_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Prepare and bind by a type string, one letter per parameter: 't' const char *,
 * 'i' int64_t, 'b' const void * then size_t (blob). Returns NULL on failure (traced). */
sqlite3_stmt *sg_db_stmtf(const struct sg_env *env, sqlite3 *db, const char *sql,
                          const char *types, ...);
/* sg_db_stmtf + sg_db_run; *changes_out (may be NULL) gets sqlite3_changes. */
SG_MUST_USE enum sg_err sg_db_runf(const struct sg_env *env, sqlite3 *db, int *changes_out,
                                   const char *sql, const char *types, ...);
/* Step a statement that returns no row (or ignores rows); finalizes it. */
SG_MUST_USE enum sg_err sg_db_run(const struct sg_env *env, sqlite3_stmt *st);
/* Copies column i's text into buf (always NUL-terminated, empty for NULL). */
void sg_db_col_text(sqlite3_stmt *st, int i, char *buf, size_t cap);
/* Traces "sqlite <code> <where>" once, where the error was born. */
void sg_db_trace_err(const struct sg_env *env, sqlite3 *db, int rc, const char *where);

#endif
