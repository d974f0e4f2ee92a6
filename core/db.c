/*
 * db.c: opening, closing and stepping SQLite on the env's VFS (see db.h).
 */
#include "db.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assert.h"
#include "migrate.h"
#include "trace_rec.h"
#include "banned.h"

void sg_db_trace_err(const struct sg_env *env, sqlite3 *h, int rc, const char *where)
{
    SG_TRACE(env, SG_TR_SQLITE_ERROR, .i = {rc & 0xff, h ? sqlite3_extended_errcode(h) : rc},
             .s = {where});
}

enum sg_err sg_db_exec(const struct sg_env *env, struct sg_db *db, const char *sql)
{
    SG_ASSERT(env, db != NULL);
    int rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sg_db_trace_err(env, db->h, rc, sql);
        return SG_ERR_IO;
    }
    return SG_OK;
}

static enum sg_err check_journal_mode(const struct sg_env *env, struct sg_db *db,
                                      const char *want)
{
    sqlite3_stmt *st = sg_db_prepare(env, db, "PRAGMA journal_mode");
    if (!st) return SG_ERR_IO;
    enum sg_err err = SG_ERR_IO;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *mode = sqlite3_column_text(st, 0);
        if (mode && strcmp((const char *)mode, want) == 0) err = SG_OK;
    }
    sg_db_done(st);
    if (err != SG_OK) SG_TRACE(env, SG_TR_DB_JOURNAL_MODE_NOT, .s = {want});
    return err;
}

static int count_commit(void *arg)
{
    uint64_t *count = arg;
    ++*count;
    return 0; /* 0: let the commit proceed */
}

/* Allocates *db_out and opens <data_dir>/<name> on the env's VFS with SQLite flags, nothing
 * else. On failure *db_out is NULL; SG_ERR_FULL (out of memory) or SG_ERR_IO (traced). */
static enum sg_err db_connect(const struct sg_env *env, const char *name, int flags,
                              struct sg_db **db_out)
{
    SG_ASSERT(env, name != NULL);
    SG_ASSERT(env, *db_out == NULL);
    /* The data directory may be as long as the OS allows (a user's path in live mode). */
    char *path = sqlite3_mprintf("%s/%s", env->data_dir ? env->data_dir : ".", name);
    struct sg_db *db = path ? calloc(1, sizeof *db) : NULL;
    if (!db) {
        sqlite3_free(path);
        return SG_ERR_FULL;
    }
    db->env = env;
    /* NOMUTEX: one thread per connection in both modes (the sim, a live service). */
    int rc = sqlite3_open_v2(path, &db->h, flags | SQLITE_OPEN_NOMUTEX, env->vfs_name);
    sqlite3_free(path);
    if (rc != SQLITE_OK) {
        sg_db_trace_err(env, db->h, rc, "open");
        sg_db_close(&db);
        return SG_ERR_IO;
    }
    *db_out = db;
    return SG_OK;
}

enum sg_err sg_db_open(const struct sg_env *env, const struct sg_schema *schema,
                       enum sg_db_mode mode, struct sg_db **db_out)
{
    SG_ASSERT(env, schema != NULL);
    SG_ASSERT(env, db_out != NULL);
    struct sg_db *db = NULL;
    enum sg_err err = db_connect(env, schema->db_name, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                 &db);
    if (err != SG_OK) return err;
    /* PLANTED BUG hook: SG_DB_JOURNAL_NORMAL selects DELETE + synchronous=NORMAL with
     * normal locking (so the journal is deleted after each commit, without a directory
     * sync): a power loss can bring the journal back and roll a committed transaction back
     * (notes/sqlite-fault-model.md, rule 8). */
    bool rollback_journal = mode == SG_DB_JOURNAL_NORMAL;
    /* Debian builds SQLite with SECURE_DELETE on (upstream's default is off): every deleted
     * or rewritten cell and every freed page is overwritten with zeros, 0.7% of a simulated
     * run. Only dead space differs, which no reader interprets, so traces are unchanged. */
    if (sg_db_exec(env, db, "PRAGMA secure_delete=OFF;") != SG_OK) goto fail_io;
    if (!rollback_journal && sg_db_exec(env, db, "PRAGMA locking_mode=EXCLUSIVE;") != SG_OK)
        goto fail_io;
    /* Refuse a newer database before the journal_mode pragma rewrites its header, and
     * close it without the checkpoint that would fold its WAL into it. */
    err = sg_migrate_check(env, db, schema, NULL);
    if (err == SG_ERR_SCHEMA)
        (void)sqlite3_db_config(db->h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    if (err != SG_OK) goto fail;
    const char *pragmas = rollback_journal
        ? "PRAGMA journal_mode=DELETE; PRAGMA synchronous=NORMAL;"
        : mode == SG_DB_WAL_NORMAL
        ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;";
    if (sg_db_exec(env, db, pragmas) != SG_OK) goto fail_io;
    /* A WAL of at most ~64 pages (256 KB) instead of SQLite's 1000: opening a database
     * after a crash reads and checksums every frame of its WAL, which took 5% of a
     * default-scenario sweep, and a short WAL keeps lookups in the WAL index short. The
     * price is more checkpoints (each writes the pages changed since the last one and
     * syncs the database file), which also puts more checkpoints under the simulator's
     * crashes. */
    if (!rollback_journal && sg_db_exec(env, db, "PRAGMA wal_autocheckpoint=64;") != SG_OK)
        goto fail_io;
    if (check_journal_mode(env, db, rollback_journal ? "delete" : "wal") != SG_OK) goto fail_io;
    if (env->commit_count) sqlite3_commit_hook(db->h, count_commit, env->commit_count);
    err = sg_migrate(env, db, schema);
    if (err != SG_OK) goto fail;
    *db_out = db;
    return SG_OK;
fail_io:
    err = SG_ERR_IO;
fail:
    sg_db_close(&db);
    return err;
}

enum sg_err sg_db_open_readonly(const struct sg_env *env, const char *db_name,
                                struct sg_db **db_out)
{
    SG_ASSERT(env, db_out != NULL);
    struct sg_db *db = NULL;
    enum sg_err err = db_connect(env, db_name, SQLITE_OPEN_READONLY, &db);
    if (err == SG_OK) *db_out = db;
    return err;
}

void sg_db_close(struct sg_db **db)
{
    if (!*db) return;
    /* Finalize every statement first: one left open keeps a zombie connection alive. */
    for (int i = 0; i < 10000 && (*db)->h; i++) {
        sqlite3_stmt *st = sqlite3_next_stmt((*db)->h, NULL);
        if (!st) break;
        sqlite3_finalize(st);
    }
    sqlite3_close_v2((*db)->h);
    free(*db);
    *db = NULL;
}

/* Steps a cached statement once; SQLite's result code. */
static int step_once(struct sg_db *db, const char *sql)
{
    sqlite3_stmt *st = sg_db_prepare(db->env, db, sql);
    if (!st) return SQLITE_ERROR;
    int rc = sqlite3_step(st);
    sg_db_done(st);
    return rc;
}

enum sg_err sg_db_begin(const struct sg_env *env, struct sg_db *db)
{
    int rc = step_once(db, "BEGIN IMMEDIATE");
    if (rc == SQLITE_DONE) return SG_OK;
    sg_db_trace_err(env, db->h, rc, "begin");
    return SG_ERR_IO;
}

enum sg_err sg_db_commit(const struct sg_env *env, struct sg_db *db)
{
    int rc = step_once(db, "COMMIT");
    if (rc == SQLITE_DONE) return SG_OK;
    sg_db_trace_err(env, db->h, rc, "commit");
    sg_db_rollback(db);
    return SG_ERR_IO;
}

void sg_db_rollback(struct sg_db *db)
{
    if (db && db->h && !sqlite3_get_autocommit(db->h))
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

sqlite3_stmt *sg_db_prepare(const struct sg_env *env, struct sg_db *db, const char *sql)
{
    for (size_t i = 0; i < db->cached; i++) {
        if (db->cache[i].sql != sql) continue;
        SG_ASSERT(env, !sqlite3_stmt_busy(db->cache[i].st)); /* not in use twice */
        return db->cache[i].st;
    }
    SG_ASSERT(env, db->cached < SG_DB_CACHE_MAX);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        sg_db_trace_err(env, db->h, rc, sql);
        sqlite3_finalize(st);
        return NULL;
    }
    db->cache[db->cached].sql = sql;
    db->cache[db->cached].st = st;
    db->cached++;
    return st;
}

void sg_db_done(sqlite3_stmt *st)
{
    if (!st) return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

enum sg_err sg_db_run(const struct sg_env *env, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    while (rc == SQLITE_ROW) rc = sqlite3_step(st);
    enum sg_err err = SG_OK;
    if (rc != SQLITE_DONE) {
        sg_db_trace_err(env, sqlite3_db_handle(st), rc, sqlite3_sql(st));
        err = SG_ERR_IO;
    }
    sg_db_done(st);
    return err;
}

void sg_db_col_text(sqlite3_stmt *st, int i, char *buf, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    size_t n = t ? (size_t)sqlite3_column_bytes(st, i) : 0;
    if (n >= cap) n = cap - 1;
    if (n) memcpy(buf, t, n);
    buf[n] = '\0';
}

static sqlite3_stmt *stmt_vf(const struct sg_env *env, struct sg_db *db, const char *sql,
                             const char *types, va_list ap)
{
    sqlite3_stmt *st = sg_db_prepare(env, db, sql);
    if (!st) return NULL;
    /* One type letter per parameter: a mismatch is a programming error, caught at once. */
    SG_ASSERT(env, (size_t)sqlite3_bind_parameter_count(st) == strlen(types));
    int rc = SQLITE_OK;
    for (int i = 0; types[i] && rc == SQLITE_OK; i++) {
        switch (types[i]) {
        case 't': rc = sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_STATIC);
            break;
        case 'i': rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t)); break;
        case 'b': {
            const void *p = va_arg(ap, const void *);
            size_t len = va_arg(ap, size_t);
            rc = sqlite3_bind_blob64(st, i + 1, p, len, SQLITE_STATIC);
            break;
        }
        default: SG_UNREACHABLE(env, "unknown bind type");
        }
    }
    if (rc != SQLITE_OK) {
        sg_db_trace_err(env, db->h, rc, "bind");
        sg_db_done(st);
        return NULL;
    }
    return st;
}

sqlite3_stmt *sg_db_stmtf(const struct sg_env *env, struct sg_db *db, const char *sql,
                          const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    sqlite3_stmt *st = stmt_vf(env, db, sql, types, ap);
    va_end(ap);
    return st;
}

enum sg_err sg_db_runf(const struct sg_env *env, struct sg_db *db, int *changes_out,
                       const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    sqlite3_stmt *st = stmt_vf(env, db, sql, types, ap);
    va_end(ap);
    if (!st) return SG_ERR_IO;
    enum sg_err err = sg_db_run(env, st);
    if (changes_out) *changes_out = err == SG_OK ? sqlite3_changes(db->h) : 0;
    return err;
}
