/*
 * test_vfs.c: unit tests for sim/vfs.c, the in-memory SQLite VFS (the simulated disk).
 *
 * Why: every durability verdict of the simulator rests on this file system. A crash must
 * keep exactly what a successful sync covered, SQLite must recover to the committed state
 * on top of it, and two runs with the same seed must write the same bytes.
 *
 * The tests drive the VFS two ways: through SQLite (WAL, locking_mode=EXCLUSIVE, as the
 * services use it) and through raw sqlite3_file handles for the exact byte semantics.
 * Hooks are deterministic: splitmix64 from a fixed seed and a fixed wall clock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "prng.h"
#include "vfs.h"

#define VFS_NAME "sgtest"
#define WALL_NS ((int64_t)1700000000123456789)

struct hook_state {
    uint64_t random_state;
    int64_t wall_ns;
};

struct fixture {
    struct hook_state hooks_state;
    struct sg_vfs v;
};

static uint64_t hook_random_u64(void *ctx)
{
    struct hook_state *hs = ctx;
    return sg_splitmix64(&hs->random_state);
}

static int64_t hook_now_wall_ns(void *ctx)
{
    const struct hook_state *hs = ctx;
    return hs->wall_ns;
}

/* Initialises and registers v with hooks reading *hs. */
static void vfs_start(struct sg_vfs *v, struct hook_state *hs, uint64_t seed)
{
    hs->random_state = seed;
    hs->wall_ns = WALL_NS;
    const struct sg_vfs_hooks hooks = {
        .ctx = hs, .random_u64 = hook_random_u64, .now_wall_ns = hook_now_wall_ns};
    assert_true(sg_vfs_init(v, VFS_NAME, &hooks));
    assert_int_equal(sg_vfs_register(v), SQLITE_OK);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL) return -1;
    vfs_start(&f->v, &f->hooks_state, 42);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    sg_vfs_deinit(&f->v);
    sg_vfs_deinit(&f->v); /* safe twice */
    free(f);
    return 0;
}

/* ---- SQL helpers ---------------------------------------------------------------------- */

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) fail_msg("%s: %s", sql, err ? err : sqlite3_errstr(rc));
}

/* The first column of the first row of sql as text, copied into out. */
static void query_text(sqlite3 *db, const char *sql, char *out, size_t out_bytes)
{
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    const unsigned char *text = sqlite3_column_text(stmt, 0);
    assert_non_null(text);
    size_t len = strlen((const char *)text);
    assert_true(len < out_bytes);
    memcpy(out, text, len + 1);
    assert_int_equal(sqlite3_finalize(stmt), SQLITE_OK);
}

/* Opens path on the test VFS the way the services do; `sync` is the synchronous level. */
static sqlite3 *db_open(const char *path, const char *sync)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, VFS_NAME);
    if (rc != SQLITE_OK) fail_msg("open %s: %s", path, sqlite3_errmsg(db));
    exec_ok(db, "PRAGMA locking_mode=EXCLUSIVE");
    char mode[16];
    query_text(db, "PRAGMA journal_mode=WAL", mode, sizeof mode);
    assert_string_equal(mode, "wal");
    char sql[64] = "PRAGMA synchronous=";
    strncat(sql, sync, sizeof sql - strlen(sql) - 1);
    exec_ok(db, sql);
    return db;
}

static void db_close(sqlite3 *db)
{
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* What the node layer does when its node crashes: finalize everything, then close. */
static void db_abandon(sqlite3 *db)
{
    sqlite3_stmt *stmt;
    while ((stmt = sqlite3_next_stmt(db, NULL)) != NULL) (void)sqlite3_finalize(stmt);
    assert_int_equal(sqlite3_close_v2(db), SQLITE_OK);
}

/* Rows of table t, or -1 when t does not exist. */
static int64_t count_rows(sqlite3 *db)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &stmt, NULL) != SQLITE_OK) {
        return -1;
    }
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(stmt, 0);
    assert_int_equal(sqlite3_finalize(stmt), SQLITE_OK);
    return n;
}

static int64_t count_value(sqlite3 *db, int64_t value)
{
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE k = ?", -1, &stmt, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_bind_int64(stmt, 1, value), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(stmt, 0);
    assert_int_equal(sqlite3_finalize(stmt), SQLITE_OK);
    return n;
}

/* Commits `txns` transactions of `rows` rows each, keys from `key_from`, blobs of blob_bytes. */
static void insert_rows(sqlite3 *db, int64_t key_from, int txns, int rows, int blob_bytes)
{
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t(k, v) VALUES (?, randomblob(?))",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    int64_t key = key_from;
    for (int t = 0; t < txns; t++) {
        exec_ok(db, "BEGIN");
        for (int r = 0; r < rows; r++) {
            assert_int_equal(sqlite3_bind_int64(stmt, 1, key++), SQLITE_OK);
            assert_int_equal(sqlite3_bind_int(stmt, 2, blob_bytes), SQLITE_OK);
            assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
            assert_int_equal(sqlite3_reset(stmt), SQLITE_OK);
        }
        exec_ok(db, "COMMIT");
    }
    assert_int_equal(sqlite3_finalize(stmt), SQLITE_OK);
}

static void create_table(sqlite3 *db)
{
    exec_ok(db, "CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB)");
}

static void assert_integrity_ok(sqlite3 *db)
{
    char result[64];
    query_text(db, "PRAGMA integrity_check", result, sizeof result);
    assert_string_equal(result, "ok");
}

/* ---- raw file helpers ----------------------------------------------------------------- */

static int raw_open_rc(struct sg_vfs *v, const char *path, int flags, sqlite3_file **out)
{
    sqlite3_file *file = calloc(1, (size_t)v->vfs->szOsFile);
    assert_non_null(file);
    int rc = v->vfs->xOpen(v->vfs, path, file, flags, NULL);
    if (rc != SQLITE_OK) {
        assert_null(file->pMethods);
        free(file);
        file = NULL;
    }
    *out = file;
    return rc;
}

static sqlite3_file *raw_open(struct sg_vfs *v, const char *path, int flags)
{
    sqlite3_file *file = NULL;
    assert_int_equal(raw_open_rc(v, path, flags, &file), SQLITE_OK);
    return file;
}

static void raw_close(sqlite3_file *file)
{
    assert_int_equal(file->pMethods->xClose(file), SQLITE_OK);
    free(file);
}

static void raw_write(sqlite3_file *file, int byte, int amount, sqlite3_int64 offset)
{
    unsigned char *buf = malloc((size_t)amount);
    assert_non_null(buf);
    memset(buf, byte, (size_t)amount);
    assert_int_equal(file->pMethods->xWrite(file, buf, amount, offset), SQLITE_OK);
    free(buf);
}

static sqlite3_int64 raw_size(sqlite3_file *file)
{
    sqlite3_int64 size = -1;
    assert_int_equal(file->pMethods->xFileSize(file, &size), SQLITE_OK);
    return size;
}

/* True when every byte of [offset, offset + amount) reads as `byte`. */
static bool raw_all(sqlite3_file *file, int byte, int amount, sqlite3_int64 offset)
{
    unsigned char *buf = malloc((size_t)amount);
    assert_non_null(buf);
    assert_int_equal(file->pMethods->xRead(file, buf, amount, offset), SQLITE_OK);
    bool all = true;
    for (int i = 0; i < amount; i++) all = all && buf[i] == (unsigned char)byte;
    free(buf);
    return all;
}

/* The whole current content of path (malloc'd, *size_out bytes), read through the VFS. */
static unsigned char *file_contents(struct sg_vfs *v, const char *path, size_t *size_out)
{
    sqlite3_file *file = raw_open(v, path, SQLITE_OPEN_READONLY);
    sqlite3_int64 size = raw_size(file);
    unsigned char *buf = malloc(size > 0 ? (size_t)size : 1);
    assert_non_null(buf);
    if (size > 0) assert_int_equal(file->pMethods->xRead(file, buf, (int)size, 0), SQLITE_OK);
    raw_close(file);
    *size_out = (size_t)size;
    return buf;
}

static int access_of(struct sg_vfs *v, const char *path, int flags)
{
    int result = -1;
    assert_int_equal(v->vfs->xAccess(v->vfs, path, flags, &result), SQLITE_OK);
    return result;
}

#define RAW_MAIN (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_MAIN_DB)
#define RAW_WAL (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_WAL)

/* ---- tests through SQLite ------------------------------------------------------------- */

static void vfs__reads_back_rows__after_reopen(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = db_open("/n1/t.db", "FULL");
    create_table(db);
    insert_rows(db, 1, 10, 5, 100);
    /* Temp files arrive without a name and are deleted on close. */
    exec_ok(db, "PRAGMA temp_store=FILE");
    exec_ok(db, "CREATE TEMP TABLE scratch AS SELECT * FROM t");
    exec_ok(db, "DROP TABLE scratch");
    db_close(db);

    db = db_open("/n1/t.db", "FULL");
    assert_int_equal(count_rows(db), 50);
    assert_int_equal(count_value(db, 50), 1);
    assert_integrity_ok(db);
    db_close(db);
    assert_true(sg_vfs_bytes(&f->v, "/n1/") > 0);
    assert_int_equal(sg_vfs_bytes(&f->v, "/.sgtmp/"), 0);
}

static void vfs__keeps_committed_rows__after_clean_close_and_crash(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = db_open("/n1/t.db", "FULL");
    create_table(db);
    insert_rows(db, 1, 20, 3, 64);
    db_close(db);

    sg_vfs_crash(&f->v, "/n1/");
    db = db_open("/n1/t.db", "FULL");
    assert_int_equal(count_rows(db), 60);
    assert_integrity_ok(db);
    db_close(db);
    assert_int_equal(f->v.stats.crashes, 1);
}

/* The close of an abandoned connection cannot sync (its disk is dying), so its checkpoint
 * fails and recovery must come from the synced WAL alone. */
static void vfs__keeps_every_commit__after_abandoned_connection_and_crash(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = db_open("/n1/t.db", "FULL");
    create_table(db);
    insert_rows(db, 1, 40, 1, 200);
    sqlite3_stmt *reader = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT k FROM t", -1, &reader, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(reader), SQLITE_ROW);
    exec_ok(db, "BEGIN");
    exec_ok(db, "INSERT INTO t(k, v) VALUES (1000, 'uncommitted')");

    sg_vfs_fail_next_sync(&f->v, "/n1/", 1000);
    db_abandon(db);
    sg_vfs_fail_next_sync(&f->v, "/n1/", 0);
    assert_true(f->v.stats.sync_failures >= 1);
    assert_int_equal(access_of(&f->v, "/n1/t.db-wal", SQLITE_ACCESS_EXISTS), 1);
    sg_vfs_crash(&f->v, "/n1/");

    db = db_open("/n1/t.db", "FULL");
    assert_int_equal(count_rows(db), 40);
    assert_int_equal(count_value(db, 1000), 0);
    assert_integrity_ok(db);
    db_close(db);
}

static void vfs__loses_unsynced_commits__after_crash_with_synchronous_off(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = db_open("/n1/t.db", "OFF");
    create_table(db);
    insert_rows(db, 1, 10, 10, 100);
    db_close(db);

    /* Without a crash the rows are there: reads see data. */
    db = db_open("/n1/t.db", "OFF");
    assert_int_equal(count_rows(db), 100);
    db_close(db);
    size_t size_before = 0;
    free(file_contents(&f->v, "/n1/t.db", &size_before));

    /* Nothing after the journal_mode change was synced: the crash drops the table. */
    sg_vfs_crash(&f->v, "/n1/");
    size_t size_after = 0;
    free(file_contents(&f->v, "/n1/t.db", &size_after));
    assert_true(size_after < size_before);
    db = db_open("/n1/t.db", "OFF");
    assert_int_equal(count_rows(db), -1);
    assert_integrity_ok(db);
    db_close(db);
}

static void vfs__commit_fails_and_connection_recovers__when_sync_failure_armed(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = db_open("/n1/t.db", "FULL");
    create_table(db);
    exec_ok(db, "INSERT INTO t(k) VALUES (1)");

    /* A failure armed for another disk does not touch this one. */
    sg_vfs_fail_next_sync(&f->v, "/n2/", 1);
    exec_ok(db, "INSERT INTO t(k) VALUES (2)");
    assert_int_equal(f->v.stats.sync_failures, 0);

    sg_vfs_fail_next_sync(&f->v, "/n1/", 1);
    exec_ok(db, "BEGIN");
    exec_ok(db, "INSERT INTO t(k) VALUES (3)");
    assert_int_not_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(f->v.stats.sync_failures, 1);
    assert_int_equal(f->v.fail_sync_count, 0);
    if (!sqlite3_get_autocommit(db)) exec_ok(db, "ROLLBACK");

    /* The connection keeps working; key 3's outcome is unknown, the others are not. */
    exec_ok(db, "INSERT INTO t(k) VALUES (4)");
    assert_int_equal(count_value(db, 1), 1);
    assert_int_equal(count_value(db, 2), 1);
    assert_int_equal(count_value(db, 4), 1);
    db_close(db);

    sg_vfs_crash(&f->v, "/n1/");
    db = db_open("/n1/t.db", "FULL");
    assert_int_equal(count_value(db, 1), 1);
    assert_int_equal(count_value(db, 4), 1);
    assert_integrity_ok(db);
    db_close(db);
}

static void vfs__crash_leaves_other_prefix_alone(void **state)
{
    struct fixture *f = *state;
    const char *paths[] = {"/n1/t.db", "/n2/t.db"};
    for (int i = 0; i < 2; i++) {
        sqlite3 *db = db_open(paths[i], "OFF");
        create_table(db);
        insert_rows(db, 1, 5, 4, 100);
        db_close(db);
    }
    size_t n2_bytes = sg_vfs_bytes(&f->v, "/n2/");
    size_t n2_size = 0;
    unsigned char *n2_before = file_contents(&f->v, "/n2/t.db", &n2_size);

    sg_vfs_crash(&f->v, "/n1/");
    assert_int_equal(sg_vfs_bytes(&f->v, "/n2/"), n2_bytes);
    size_t n2_size_after = 0;
    unsigned char *n2_after = file_contents(&f->v, "/n2/t.db", &n2_size_after);
    assert_int_equal(n2_size_after, n2_size);
    assert_memory_equal(n2_after, n2_before, n2_size);
    free(n2_before);
    free(n2_after);

    sqlite3 *db = db_open("/n2/t.db", "OFF");
    assert_int_equal(count_rows(db), 20);
    db_close(db);
    db = db_open("/n1/t.db", "OFF");
    assert_int_equal(count_rows(db), -1);
    db_close(db);
}

/* Enough data for several automatic checkpoints, so the database file itself is written
 * and synced sector by sector, then a crash with a transaction in flight. */
static void vfs__integrity_check_ok__after_checkpoints_and_crash(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = db_open("/n1/t.db", "FULL");
    create_table(db);
    insert_rows(db, 1, 120, 25, 600);
    exec_ok(db, "DELETE FROM t WHERE k % 3 = 0");
    exec_ok(db, "BEGIN");
    exec_ok(db, "INSERT INTO t(k, v) VALUES (-1, randomblob(5000))");
    sg_vfs_fail_next_sync(&f->v, "/n1/", 1000);
    db_abandon(db);
    sg_vfs_fail_next_sync(&f->v, "/n1/", 0);
    /* Automatic checkpoints ran: the database file holds far more than its first page. */
    size_t db_size = 0;
    free(file_contents(&f->v, "/n1/t.db", &db_size));
    assert_true(db_size > 1000 * 1024);
    sg_vfs_crash(&f->v, "/n1/");

    db = db_open("/n1/t.db", "FULL");
    assert_integrity_ok(db);
    assert_int_equal(count_rows(db), 3000 - 1000);
    assert_int_equal(count_value(db, -1), 0);
    insert_rows(db, 5000, 3, 3, 10);
    db_close(db);
    sg_vfs_crash(&f->v, "/n1/");
    db = db_open("/n1/t.db", "FULL");
    assert_int_equal(count_rows(db), 2009);
    assert_integrity_ok(db);
    db_close(db);
}

struct run_result {
    unsigned char *db, *wal;
    size_t db_size, wal_size, bytes;
};

/* One run on a fresh VFS seeded with `seed`: database and WAL bytes while open. */
static struct run_result deterministic_run(uint64_t seed)
{
    struct hook_state hs;
    struct sg_vfs v;
    vfs_start(&v, &hs, seed);
    sqlite3 *db = db_open("/n1/t.db", "FULL");
    create_table(db);
    insert_rows(db, 1, 30, 7, 300);
    struct run_result r;
    r.db = file_contents(&v, "/n1/t.db", &r.db_size);
    r.wal = file_contents(&v, "/n1/t.db-wal", &r.wal_size);
    r.bytes = sg_vfs_bytes(&v, "");
    db_close(db);
    sg_vfs_deinit(&v);
    return r;
}

static void vfs__same_seed__gives_identical_files(void **state)
{
    (void)state;
    struct run_result a = deterministic_run(7);
    struct run_result b = deterministic_run(7);
    struct run_result c = deterministic_run(8);
    assert_true(a.wal_size > 0);
    assert_int_equal(a.bytes, b.bytes);
    assert_int_equal(a.db_size, b.db_size);
    assert_int_equal(a.wal_size, b.wal_size);
    assert_memory_equal(a.db, b.db, a.db_size);
    assert_memory_equal(a.wal, b.wal, a.wal_size);
    /* Another seed changes the WAL salts and the random blobs. */
    assert_int_equal(a.wal_size, c.wal_size);
    assert_memory_not_equal(a.wal, c.wal, a.wal_size);
    struct run_result *runs[] = {&a, &b, &c};
    for (int i = 0; i < 3; i++) {
        free(runs[i]->db);
        free(runs[i]->wal);
    }
}

static void vfs__wipe__removes_only_files_under_prefix(void **state)
{
    struct fixture *f = *state;
    const char *paths[] = {"/n1/t.db", "/n2/t.db"};
    for (int i = 0; i < 2; i++) {
        sqlite3 *db = db_open(paths[i], "FULL");
        create_table(db);
        insert_rows(db, 1, 2, 2, 10);
        db_close(db);
    }
    sg_vfs_wipe(&f->v, "/n1/");
    assert_int_equal(sg_vfs_bytes(&f->v, "/n1/"), 0);
    assert_int_equal(access_of(&f->v, "/n1/t.db", SQLITE_ACCESS_EXISTS), 0);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2("/n1/t.db", &db, SQLITE_OPEN_READWRITE, VFS_NAME),
                     SQLITE_CANTOPEN);
    sqlite3_close(db);

    assert_true(sg_vfs_bytes(&f->v, "/n2/") > 0);
    db = db_open("/n2/t.db", "FULL");
    assert_int_equal(count_rows(db), 4);
    db_close(db);
}

static void vfs__time_and_randomness__come_from_hooks(void **state)
{
    struct fixture *f = *state;
    sqlite3_vfs *pv = f->v.vfs;
    sqlite3_int64 julian_ms = 0;
    assert_int_equal(pv->xCurrentTimeInt64(pv, &julian_ms), SQLITE_OK);
    assert_int_equal(julian_ms, (WALL_NS / 1000000) + 210866760000000);

    uint64_t expect_state = f->hooks_state.random_state;
    unsigned char got[20];
    assert_int_equal(pv->xRandomness(pv, (int)sizeof got, (char *)got), (int)sizeof got);
    for (size_t i = 0; i < sizeof got; i += 8) {
        uint64_t x = sg_splitmix64(&expect_state);
        for (size_t j = 0; j < 8 && i + j < sizeof got; j++) {
            assert_int_equal(got[i + j], (unsigned char)(x >> (8 * j)));
        }
    }

    /* SQLite's clock functions read the same hook. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, VFS_NAME),
                     SQLITE_OK);
    char seconds[32];
    query_text(db, "SELECT strftime('%s', 'now')", seconds, sizeof seconds);
    assert_string_equal(seconds, "1700000000");
    db_close(db);
}

/* ---- tests on raw handles ------------------------------------------------------------- */

static void vfs__read_past_end__zero_fills_and_reports_short_read(void **state)
{
    struct fixture *f = *state;
    sqlite3_file *file = raw_open(&f->v, "/n1/raw", RAW_WAL);
    assert_int_equal(file->pMethods->xWrite(file, "0123456789", 10, 0), SQLITE_OK);

    unsigned char buf[16];
    memset(buf, 0xAA, sizeof buf);
    assert_int_equal(file->pMethods->xRead(file, buf, 16, 4), SQLITE_IOERR_SHORT_READ);
    assert_memory_equal(buf, "456789", 6);
    for (size_t i = 6; i < sizeof buf; i++) assert_int_equal(buf[i], 0);

    memset(buf, 0xAA, sizeof buf);
    assert_int_equal(file->pMethods->xRead(file, buf, 8, 100), SQLITE_IOERR_SHORT_READ);
    for (size_t i = 0; i < 8; i++) assert_int_equal(buf[i], 0);

    assert_int_equal(file->pMethods->xRead(file, buf, 10, 0), SQLITE_OK);
    assert_memory_equal(buf, "0123456789", 10);
    raw_close(file);
}

static void vfs__crash__keeps_synced_bytes_and_drops_pending_ones(void **state)
{
    struct fixture *f = *state;
    sqlite3_file *file = raw_open(&f->v, "/n1/d.db", RAW_MAIN);
    raw_write(file, 'A', 8192, 0);
    assert_int_equal(file->pMethods->xSync(file, SQLITE_SYNC_FULL), SQLITE_OK);
    raw_write(file, 'B', 100, 4096);
    raw_write(file, 'C', 10, 20000); /* extends the file with a hole */
    assert_int_equal(raw_size(file), 20010);
    raw_close(file);
    sg_vfs_crash(&f->v, "/n1/");

    file = raw_open(&f->v, "/n1/d.db", SQLITE_OPEN_READWRITE | SQLITE_OPEN_MAIN_DB);
    assert_int_equal(raw_size(file), 8192);
    assert_true(raw_all(file, 'A', 8192, 0));

    /* A pending truncate is undone; a synced one is kept. */
    raw_write(file, 'B', 100, 4096);
    assert_int_equal(file->pMethods->xSync(file, SQLITE_SYNC_FULL), SQLITE_OK);
    assert_int_equal(file->pMethods->xTruncate(file, 100), SQLITE_OK);
    raw_close(file);
    sg_vfs_crash(&f->v, "/n1/");
    file = raw_open(&f->v, "/n1/d.db", SQLITE_OPEN_READWRITE | SQLITE_OPEN_MAIN_DB);
    assert_int_equal(raw_size(file), 8192);
    assert_true(raw_all(file, 'B', 100, 4096));

    /* Shrink, then grow past a hole: the hole must read as zeros after sync and crash. */
    assert_int_equal(file->pMethods->xTruncate(file, 0), SQLITE_OK);
    raw_write(file, 'D', 10, 6000);
    assert_int_equal(file->pMethods->xSync(file, SQLITE_SYNC_NORMAL), SQLITE_OK);
    raw_close(file);
    sg_vfs_crash(&f->v, "/n1/");
    file = raw_open(&f->v, "/n1/d.db", SQLITE_OPEN_READWRITE | SQLITE_OPEN_MAIN_DB);
    assert_int_equal(raw_size(file), 6010);
    assert_true(raw_all(file, 0, 6000, 0));
    assert_true(raw_all(file, 'D', 10, 6000));
    raw_close(file);
}

static void vfs__new_file__survives_crash_only_if_synced_or_main_db(void **state)
{
    struct fixture *f = *state;
    sqlite3_file *file = raw_open(&f->v, "/n1/lazy-wal", RAW_WAL);
    raw_write(file, 'W', 512, 0);
    raw_close(file);
    file = raw_open(&f->v, "/n1/synced-wal", RAW_WAL);
    raw_write(file, 'S', 512, 0);
    assert_int_equal(file->pMethods->xSync(file, SQLITE_SYNC_FULL), SQLITE_OK);
    raw_close(file);
    raw_close(raw_open(&f->v, "/n1/m.db", RAW_MAIN));

    sg_vfs_crash(&f->v, "/n1/");
    assert_int_equal(access_of(&f->v, "/n1/lazy-wal", SQLITE_ACCESS_READWRITE), 0);
    assert_int_equal(raw_open_rc(&f->v, "/n1/lazy-wal", SQLITE_OPEN_READWRITE, &file),
                     SQLITE_CANTOPEN);
    file = raw_open(&f->v, "/n1/synced-wal", SQLITE_OPEN_READWRITE);
    assert_true(raw_all(file, 'S', 512, 0));
    raw_close(file);
    /* The main database exists durably but is empty: EXISTS reports it absent. */
    assert_int_equal(access_of(&f->v, "/n1/m.db", SQLITE_ACCESS_EXISTS), 0);
    assert_int_equal(access_of(&f->v, "/n1/m.db", SQLITE_ACCESS_READWRITE), 1);
    file = raw_open(&f->v, "/n1/m.db", SQLITE_OPEN_READWRITE | SQLITE_OPEN_MAIN_DB);
    assert_int_equal(raw_size(file), 0);
    raw_close(file);
}

static void vfs__delete__removes_file_but_open_handles_keep_reading(void **state)
{
    struct fixture *f = *state;
    sqlite3_vfs *pv = f->v.vfs;
    sqlite3_file *file = raw_open(&f->v, "/n1/x", RAW_WAL);
    assert_int_equal(access_of(&f->v, "/n1/x", SQLITE_ACCESS_EXISTS), 0);
    raw_write(file, 'X', 1, 0);
    assert_int_equal(access_of(&f->v, "/n1/x", SQLITE_ACCESS_EXISTS), 1);
    assert_int_equal(pv->xDelete(pv, "/n1/x", 0), SQLITE_OK);
    assert_int_equal(access_of(&f->v, "/n1/x", SQLITE_ACCESS_EXISTS), 0);
    assert_int_equal(pv->xDelete(pv, "/n1/x", 0), SQLITE_IOERR_DELETE_NOENT);
    assert_true(raw_all(file, 'X', 1, 0));
    raw_close(file);

    /* A nameless temp file gets an internal name and disappears on close. */
    file = raw_open(&f->v, NULL,
                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_DELETEONCLOSE |
                        SQLITE_OPEN_TEMP_JOURNAL);
    raw_write(file, 'T', 5000, 0);
    assert_true(sg_vfs_bytes(&f->v, "") > 0);
    raw_close(file);
    assert_int_equal(sg_vfs_bytes(&f->v, ""), 0);
    assert_int_equal(f->v.file_count, 0);
}

static void vfs__lock__conflicts_between_handles_on_one_file(void **state)
{
    struct fixture *f = *state;
    sqlite3_file *a = raw_open(&f->v, "/n1/l.db", RAW_MAIN);
    sqlite3_file *b = raw_open(&f->v, "/n1/l.db", RAW_MAIN);
    const sqlite3_io_methods *m = a->pMethods;
    int reserved = -1;

    assert_int_equal(m->xLock(a, SQLITE_LOCK_SHARED), SQLITE_OK);
    assert_int_equal(m->xLock(b, SQLITE_LOCK_SHARED), SQLITE_OK);
    assert_int_equal(m->xLock(a, SQLITE_LOCK_RESERVED), SQLITE_OK);
    assert_int_equal(m->xLock(b, SQLITE_LOCK_RESERVED), SQLITE_BUSY);
    assert_int_equal(m->xCheckReservedLock(b, &reserved), SQLITE_OK);
    assert_int_equal(reserved, 1);
    assert_int_equal(m->xLock(a, SQLITE_LOCK_EXCLUSIVE), SQLITE_BUSY); /* b reads */
    assert_int_equal(m->xUnlock(b, SQLITE_LOCK_NONE), SQLITE_OK);
    assert_int_equal(m->xLock(a, SQLITE_LOCK_EXCLUSIVE), SQLITE_OK);
    assert_int_equal(m->xLock(b, SQLITE_LOCK_SHARED), SQLITE_BUSY);
    assert_int_equal(m->xUnlock(a, SQLITE_LOCK_SHARED), SQLITE_OK);
    assert_int_equal(m->xCheckReservedLock(b, &reserved), SQLITE_OK);
    assert_int_equal(reserved, 0);
    assert_int_equal(m->xLock(b, SQLITE_LOCK_SHARED), SQLITE_OK);
    raw_close(b);
    raw_close(a); /* close releases a's SHARED lock */

    a = raw_open(&f->v, "/n1/l.db", RAW_MAIN);
    assert_int_equal(m->xLock(a, SQLITE_LOCK_SHARED), SQLITE_OK);
    assert_int_equal(m->xLock(a, SQLITE_LOCK_EXCLUSIVE), SQLITE_OK);
    assert_int_equal(a->pMethods->xSectorSize(a), 4096);
    assert_int_equal(a->pMethods->xDeviceCharacteristics(a), 0);
    assert_int_equal(a->pMethods->xFileControl(a, SQLITE_FCNTL_LOCKSTATE, NULL),
                     SQLITE_NOTFOUND);
    raw_close(a);
}

static void vfs__stats__count_operations(void **state)
{
    struct fixture *f = *state;
    const struct sg_vfs_stats zero = {0};
    assert_memory_equal(&f->v.stats, &zero, sizeof zero);
    sqlite3 *db = db_open("/n1/t.db", "FULL");
    create_table(db);
    insert_rows(db, 1, 3, 3, 10);
    db_close(db);
    const struct sg_vfs_stats s = f->v.stats;
    assert_true(s.opens >= 2); /* database and WAL */
    assert_true(s.writes >= 3);
    assert_true(s.reads > 0);
    assert_true(s.syncs >= 3); /* one per commit at least */
    assert_true(s.deletes >= 1); /* the WAL and the rollback journal at close */
    assert_int_equal(s.sync_failures, 0);
    assert_int_equal(s.crashes, 0);

    sqlite3_file *file = raw_open(&f->v, "/n1/s", RAW_WAL);
    assert_int_equal(file->pMethods->xTruncate(file, 10), SQLITE_OK);
    sg_vfs_fail_next_sync(&f->v, "/n1/", 2);
    assert_int_equal(file->pMethods->xSync(file, SQLITE_SYNC_FULL), SQLITE_IOERR_FSYNC);
    assert_int_equal(file->pMethods->xSync(file, SQLITE_SYNC_FULL), SQLITE_IOERR_FSYNC);
    assert_int_equal(file->pMethods->xSync(file, SQLITE_SYNC_FULL), SQLITE_OK);
    raw_close(file);
    sg_vfs_crash(&f->v, "/n1/");
    assert_int_equal(f->v.stats.opens, s.opens + 1);
    assert_int_equal(f->v.stats.truncates, s.truncates + 1);
    assert_int_equal(f->v.stats.syncs, s.syncs + 3);
    assert_int_equal(f->v.stats.sync_failures, 2);
    assert_int_equal(f->v.stats.crashes, 1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(vfs__reads_back_rows__after_reopen),
        T(vfs__keeps_committed_rows__after_clean_close_and_crash),
        T(vfs__keeps_every_commit__after_abandoned_connection_and_crash),
        T(vfs__loses_unsynced_commits__after_crash_with_synchronous_off),
        T(vfs__commit_fails_and_connection_recovers__when_sync_failure_armed),
        T(vfs__crash_leaves_other_prefix_alone),
        T(vfs__integrity_check_ok__after_checkpoints_and_crash),
        cmocka_unit_test(vfs__same_seed__gives_identical_files),
        T(vfs__wipe__removes_only_files_under_prefix),
        T(vfs__time_and_randomness__come_from_hooks),
        T(vfs__read_past_end__zero_fills_and_reports_short_read),
        T(vfs__crash__keeps_synced_bytes_and_drops_pending_ones),
        T(vfs__new_file__survives_crash_only_if_synced_or_main_db),
        T(vfs__delete__removes_file_but_open_handles_keep_reading),
        T(vfs__lock__conflicts_between_handles_on_one_file),
        T(vfs__stats__count_operations),
    };
#undef T
    return cmocka_run_group_tests_name("vfs", tests, NULL, NULL);
}
