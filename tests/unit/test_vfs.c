/*
 * test_vfs.c: unit tests for sim/vfs.c, the in-memory SQLite VFS (the simulated disk).
 *
 * Why: every durability verdict of the simulator rests on this file system. A crash must
 * keep exactly what a successful sync covered, SQLite must recover to the committed state
 * on top of it, and two runs with the same seed must write the same bytes.
 *
 * The tests drive the VFS two ways: through SQLite (WAL, locking_mode=EXCLUSIVE, as the
 * services use it; rollback-journal mode DELETE for the undone-delete rule) and through
 * raw sqlite3_file handles for the exact byte semantics.
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
    /* A failed test may leave a connection open: leak it rather than abort in deinit,
     * which would also lose cmocka's report of the failure. */
    if (sg_vfs_open_count(&f->v, "") > 0) return -1;
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

/* The statements that open a database in journal mode `journal` ("WAL" or "DELETE") at
 * synchronous level `sync`, into steps[3]; sql holds the synchronous pragma.
 * WAL: locking_mode=EXCLUSIVE first (no xShm), as the services do. DELETE: normal locking
 * (in EXCLUSIVE mode SQLite zeroes the journal header instead of deleting the journal).
 * A hot journal is rolled back at the first read, before the synchronous pragma takes
 * effect (it reads the schema first): that rollback deletes its journal without a
 * directory sync even under EXTRA, harmless since replaying it again is idempotent. */
static void db_open_steps(const char *journal, const char *sync, char sql[64],
                          const char *steps[3])
{
    strcpy(sql, "PRAGMA synchronous=");
    strncat(sql, sync, 64 - strlen(sql) - 1);
    bool wal = strcmp(journal, "WAL") == 0;
    assert_true(wal || strcmp(journal, "DELETE") == 0);
    steps[0] = wal ? "PRAGMA locking_mode=EXCLUSIVE" : "PRAGMA locking_mode=NORMAL";
    steps[1] = wal ? "PRAGMA journal_mode=WAL" : "PRAGMA journal_mode=DELETE";
    steps[2] = sql;
}

/* Opens path on the test VFS in journal mode `journal` at synchronous level `sync`. */
static sqlite3 *db_open_mode(const char *path, const char *journal, const char *sync)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, VFS_NAME);
    if (rc != SQLITE_OK) fail_msg("open %s: %s", path, sqlite3_errmsg(db));
    char sql[64];
    const char *steps[3];
    db_open_steps(journal, sync, sql, steps);
    exec_ok(db, steps[0]);
    char mode[16];
    query_text(db, steps[1], mode, sizeof mode);
    assert_int_equal(sqlite3_stricmp(mode, journal), 0);
    exec_ok(db, steps[2]);
    return db;
}

/* Opens path on the test VFS the way the services do; `sync` is the synchronous level. */
static sqlite3 *db_open(const char *path, const char *sync)
{
    return db_open_mode(path, "WAL", sync);
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

/* The clean close checkpoints and deletes the WAL without a directory sync: the exact
 * revert brings the synced WAL back, and replaying it over the checkpointed database is
 * harmless. */
static void vfs__keeps_committed_rows__after_clean_close_and_crash(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = db_open("/n1/t.db", "FULL");
    create_table(db);
    insert_rows(db, 1, 20, 3, 64);
    db_close(db);
    assert_int_equal(access_of(&f->v, "/n1/t.db-wal", SQLITE_ACCESS_EXISTS), 0);

    sg_vfs_crash(&f->v, "/n1/", NULL);
    assert_int_equal(f->v.stats.deletes_undone, 1);
    assert_int_equal(access_of(&f->v, "/n1/t.db-wal", SQLITE_ACCESS_EXISTS), 1);
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
    sg_vfs_crash(&f->v, "/n1/", NULL);

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
    sg_vfs_crash(&f->v, "/n1/", NULL);
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

    sg_vfs_crash(&f->v, "/n1/", NULL);
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

    sg_vfs_crash(&f->v, "/n1/", NULL);
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
    sg_vfs_crash(&f->v, "/n1/", NULL);

    db = db_open("/n1/t.db", "FULL");
    assert_integrity_ok(db);
    assert_int_equal(count_rows(db), 3000 - 1000);
    assert_int_equal(count_value(db, -1), 0);
    insert_rows(db, 5000, 3, 3, 10);
    db_close(db);
    sg_vfs_crash(&f->v, "/n1/", NULL);
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
    sg_vfs_crash(&f->v, "/n1/", NULL);

    file = raw_open(&f->v, "/n1/d.db", SQLITE_OPEN_READWRITE | SQLITE_OPEN_MAIN_DB);
    assert_int_equal(raw_size(file), 8192);
    assert_true(raw_all(file, 'A', 8192, 0));

    /* A pending truncate is undone; a synced one is kept. */
    raw_write(file, 'B', 100, 4096);
    assert_int_equal(file->pMethods->xSync(file, SQLITE_SYNC_FULL), SQLITE_OK);
    assert_int_equal(file->pMethods->xTruncate(file, 100), SQLITE_OK);
    raw_close(file);
    sg_vfs_crash(&f->v, "/n1/", NULL);
    file = raw_open(&f->v, "/n1/d.db", SQLITE_OPEN_READWRITE | SQLITE_OPEN_MAIN_DB);
    assert_int_equal(raw_size(file), 8192);
    assert_true(raw_all(file, 'B', 100, 4096));

    /* Shrink, then grow past a hole: the hole must read as zeros after sync and crash. */
    assert_int_equal(file->pMethods->xTruncate(file, 0), SQLITE_OK);
    raw_write(file, 'D', 10, 6000);
    assert_int_equal(file->pMethods->xSync(file, SQLITE_SYNC_NORMAL), SQLITE_OK);
    raw_close(file);
    sg_vfs_crash(&f->v, "/n1/", NULL);
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

    sg_vfs_crash(&f->v, "/n1/", NULL);
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
    sg_vfs_crash(&f->v, "/n1/", NULL);
    assert_int_equal(f->v.stats.opens, s.opens + 1);
    assert_int_equal(f->v.stats.truncates, s.truncates + 1);
    assert_int_equal(f->v.stats.syncs, s.syncs + 3);
    assert_int_equal(f->v.stats.sync_failures, 2);
    assert_int_equal(f->v.stats.crashes, 1);
}

/* ---- down disks ----------------------------------------------------------------------- */

static uint64_t prng_u64(void *ctx)
{
    return sg_prng_next(ctx);
}

/* The note's fault policy for a power loss: keep 1/2 of pending sectors, tear 1/4 of those. */
static struct sg_vfs_crash_faults note_faults(struct sg_prng *p)
{
    return (struct sg_vfs_crash_faults){.random_u64 = prng_u64,
                                        .ctx = p,
                                        .keep_pending_num = 1,
                                        .keep_pending_den = 2,
                                        .torn_num = 1,
                                        .torn_den = 4};
}

static void vfs__refuses_io_except_unlock_and_close__while_down(void **state)
{
    struct fixture *f = *state;
    sqlite3_vfs *pv = f->v.vfs;
    sqlite3_file *file = raw_open(&f->v, "/n1/d.db", RAW_MAIN);
    sqlite3_file *other = raw_open(&f->v, "/n2/d.db", RAW_MAIN);
    const sqlite3_io_methods *m = file->pMethods;
    raw_write(file, 'A', 4096, 0);
    assert_int_equal(m->xSync(file, SQLITE_SYNC_FULL), SQLITE_OK);
    assert_int_equal(m->xLock(file, SQLITE_LOCK_SHARED), SQLITE_OK);
    size_t files_before = f->v.file_count;

    sg_vfs_set_down(&f->v, "/n1/", true);
    sg_vfs_set_down(&f->v, "/n1/", true); /* idempotent */
    assert_true(sg_vfs_is_down(&f->v, "/n1/"));
    assert_false(sg_vfs_is_down(&f->v, "/n2/"));
    unsigned char buf[4096];
    sqlite3_int64 size = 0;
    int result = -1;
    memset(buf, 'Z', sizeof buf);
    assert_int_equal(m->xRead(file, buf, 100, 0), SQLITE_IOERR_READ);
    assert_int_equal(m->xWrite(file, buf, 4096, 0), SQLITE_IOERR_WRITE);
    assert_int_equal(m->xWrite(file, buf, 4096, 8192), SQLITE_IOERR_WRITE);
    assert_int_equal(m->xSync(file, SQLITE_SYNC_FULL), SQLITE_IOERR_FSYNC);
    assert_int_equal(m->xTruncate(file, 0), SQLITE_IOERR_TRUNCATE);
    assert_int_equal(m->xFileSize(file, &size), SQLITE_IOERR_FSTAT);
    assert_int_equal(m->xLock(file, SQLITE_LOCK_SHARED), SQLITE_IOERR_LOCK);
    assert_int_equal(m->xLock(file, SQLITE_LOCK_RESERVED), SQLITE_IOERR_LOCK);
    assert_int_equal(m->xCheckReservedLock(file, &result), SQLITE_IOERR_CHECKRESERVEDLOCK);
    assert_int_equal(pv->xAccess(pv, "/n1/d.db", SQLITE_ACCESS_EXISTS, &result),
                     SQLITE_IOERR_ACCESS);
    assert_int_equal(pv->xDelete(pv, "/n1/d.db", 0), SQLITE_IOERR_DELETE);
    sqlite3_file *refused = NULL;
    assert_int_equal(raw_open_rc(&f->v, "/n1/d.db", RAW_MAIN, &refused), SQLITE_CANTOPEN);
    assert_int_equal(raw_open_rc(&f->v, "/n1/new", RAW_WAL, &refused), SQLITE_CANTOPEN);
    assert_int_equal(f->v.file_count, files_before);
    assert_int_equal(f->v.stats.down_failures, 13);

    /* Another disk is untouched; unlock and close succeed. */
    raw_write(other, 'O', 10, 0);
    assert_true(raw_all(other, 'O', 10, 0));
    assert_int_equal(m->xUnlock(file, SQLITE_LOCK_NONE), SQLITE_OK);
    raw_close(file);
    raw_close(other);

    /* A crash is allowed while down; nothing the refused calls tried has happened. */
    sg_vfs_crash(&f->v, "/n1/", NULL);
    assert_true(sg_vfs_is_down(&f->v, "/n1/"));
    sg_vfs_set_down(&f->v, "/n1/", false);
    assert_false(sg_vfs_is_down(&f->v, "/n1/"));
    file = raw_open(&f->v, "/n1/d.db", RAW_MAIN);
    assert_int_equal(raw_size(file), 4096);
    assert_true(raw_all(file, 'A', 4096, 0));
    raw_close(file);
}

/* The note's "abandoning a connection": SQL fails while down, close_v2 frees everything
 * (ASan's leak check at exit), and recovery after the crash keeps every commit. */
static void vfs__abandoned_connection_closes_and_commits_survive__while_down(void **state)
{
    struct fixture *f = *state;
    struct sg_prng p;
    sg_prng_init(&p, 11, 0);
    sqlite3 *db = db_open("/n1/t.db", "FULL");
    create_table(db);
    insert_rows(db, 1, 25, 2, 300);
    sqlite3_stmt *reader = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT k FROM t", -1, &reader, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(reader), SQLITE_ROW);
    exec_ok(db, "BEGIN");
    exec_ok(db, "INSERT INTO t(k, v) VALUES (1000, randomblob(9000))");

    sg_vfs_set_down(&f->v, "/n1/", true);
    int rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    assert_int_equal(rc & 0xff, SQLITE_IOERR);
    sqlite3 *second = NULL;
    assert_int_equal(sqlite3_open_v2("/n1/t.db", &second, SQLITE_OPEN_READWRITE, VFS_NAME),
                     SQLITE_CANTOPEN);
    assert_int_equal(sqlite3_close(second), SQLITE_OK);
    db_abandon(db);
    const struct sg_vfs_crash_faults faults = note_faults(&p);
    sg_vfs_crash(&f->v, "/n1/", &faults); /* asserts every file under /n1/ is closed */
    sg_vfs_set_down(&f->v, "/n1/", false);

    db = db_open("/n1/t.db", "FULL");
    assert_integrity_ok(db);
    assert_int_equal(count_rows(db), 50);
    assert_int_equal(count_value(db, 1000), 0);
    db_close(db);
    assert_true(f->v.stats.down_failures > 0);
}

static void vfs__goes_down_at_the_counted_operation__after_set_down_after(void **state)
{
    struct fixture *f = *state;
    sqlite3_file *file = raw_open(&f->v, "/n1/d.db", RAW_MAIN);
    sqlite3_file *other = raw_open(&f->v, "/n2/d.db", RAW_MAIN);
    const sqlite3_io_methods *m = file->pMethods;
    unsigned char buf[16];

    sg_vfs_set_down_after(&f->v, "/n1/", 2);
    raw_write(other, 'O', 10, 0); /* another disk's operations do not count */
    raw_write(file, 'A', 4096, 0);
    assert_int_equal(file->pMethods->xRead(file, buf, 16, 0), SQLITE_OK); /* reads neither */
    assert_int_equal(m->xTruncate(file, 4096), SQLITE_OK);
    assert_false(sg_vfs_is_down(&f->v, "/n1/"));
    assert_int_equal(m->xSync(file, SQLITE_SYNC_FULL), SQLITE_IOERR_FSYNC);
    assert_true(sg_vfs_is_down(&f->v, "/n1/"));
    assert_int_equal(m->xRead(file, buf, 16, 0), SQLITE_IOERR_READ);
    raw_write(other, 'O', 10, 0);
    sg_vfs_set_down(&f->v, "/n1/", false);
    assert_int_equal(m->xSync(file, SQLITE_SYNC_FULL), SQLITE_OK);

    /* Setting the disk's state disarms its countdown. */
    sg_vfs_set_down_after(&f->v, "/n1/", 0);
    sg_vfs_set_down(&f->v, "/n1/", false);
    for (int i = 0; i < 10; i++) raw_write(file, 'B', 100, 0);
    assert_false(sg_vfs_is_down(&f->v, "/n1/"));
    raw_close(file);
    raw_close(other);
}

/* sg_vfs_set_down_at_sync: a COMMIT's WAL frames are written, its sync takes the disk
 * down; the power loss then keeps, loses or tears that tail (here: every pending sector
 * kept, every one torn), and recovery still finds every earlier commit and no half one. */
static void vfs__down_at_the_next_sync__lands_inside_a_commit(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = db_open("/n1/t.db", "FULL");
    create_table(db);
    insert_rows(db, 1, 10, 2, 300);
    sg_vfs_set_down_at_sync(&f->v, "/n1/");
    sg_vfs_set_down_at_sync(&f->v, "/n2/"); /* another disk's arm stays armed */
    uint64_t writes = f->v.stats.writes;
    exec_ok(db, "BEGIN");
    exec_ok(db, "INSERT INTO t(k, v) VALUES (1000, randomblob(20000))");
    int rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    assert_int_equal(rc, SQLITE_IOERR);
    assert_int_equal(sqlite3_extended_errcode(db), SQLITE_IOERR_FSYNC);
    assert_true(f->v.stats.writes > writes + 4); /* the frames were written first */
    assert_true(sg_vfs_is_down(&f->v, "/n1/"));
    assert_false(sg_vfs_is_down(&f->v, "/n2/"));
    db_abandon(db);
    struct sg_prng p;
    sg_prng_init(&p, 5, 0);
    const struct sg_vfs_crash_faults torn = {.random_u64 = prng_u64, .ctx = &p,
                                             .keep_pending_num = 1, .keep_pending_den = 1,
                                             .torn_num = 1, .torn_den = 1};
    uint64_t torn_before = f->v.stats.sectors_torn;
    sg_vfs_crash(&f->v, "/n1/", &torn);
    assert_true(f->v.stats.sectors_torn > torn_before);
    sg_vfs_set_down(&f->v, "/n1/", false);
    db = db_open("/n1/t.db", "FULL");
    assert_integrity_ok(db);
    assert_int_equal(count_rows(db), 20);
    assert_int_equal(count_value(db, 1000), 0);
    db_close(db);

    /* Fired once: the next commit syncs; setting /n2/'s state disarms its arm. */
    sg_vfs_set_down(&f->v, "/n2/", false);
    assert_int_equal(f->v.down_at_sync_count, 0);
}

/* ---- power loss with faults ----------------------------------------------------------- */

#define SECTORS 64

/* Each of the SECTORS sectors of path: 'A' for old, 'B' for new chunks; counts whole
 * sectors of each fate and fails on any byte that is neither the old nor the new one. */
static void classify_sectors(struct sg_vfs *v, const char *path, const bool *dirty,
                             uint64_t counts_out[3])
{
    size_t size = 0;
    unsigned char *bytes = file_contents(v, path, &size);
    assert_int_equal(size, SECTORS * 4096);
    memset(counts_out, 0, 3 * sizeof counts_out[0]);
    for (size_t s = 0; s < SECTORS; s++) {
        size_t news = 0;
        for (size_t c = 0; c < 8; c++) {
            const unsigned char *chunk = &bytes[s * 4096 + c * 512];
            unsigned char first = chunk[0];
            assert_true(first == 'A' || first == 'B');
            for (size_t i = 1; i < 512; i++) assert_int_equal(chunk[i], first);
            news += first == 'B';
        }
        if (!dirty[s]) assert_int_equal(news, 0); /* synced sectors never change */
        counts_out[news == 0 ? 0 : news == 8 ? 2 : 1]++;
    }
    free(bytes);
}

static void vfs__settles_pending_sectors_to_old_new_or_torn__at_faulty_crash(void **state)
{
    struct fixture *f = *state;
    struct sg_prng p;
    sg_prng_init(&p, 3, 0);
    bool dirty[SECTORS];
    sqlite3_file *file = raw_open(&f->v, "/n1/d.db", RAW_MAIN);
    raw_write(file, 'A', SECTORS * 4096, 0);
    assert_int_equal(file->pMethods->xSync(file, SQLITE_SYNC_FULL), SQLITE_OK);
    uint64_t dirty_count = 0;
    for (size_t s = 0; s < SECTORS; s++) {
        dirty[s] = s % 4 != 0;
        if (dirty[s]) raw_write(file, 'B', 4096, (sqlite3_int64)(s * 4096));
        dirty_count += dirty[s];
    }
    raw_close(file);

    const struct sg_vfs_stats before = f->v.stats;
    struct sg_vfs_crash_faults faults = note_faults(&p);
    faults.torn_num = 1;
    faults.torn_den = 2;
    sg_vfs_crash(&f->v, "/n1/", &faults);
    uint64_t counts[3]; /* lost, torn, kept */
    classify_sectors(&f->v, "/n1/d.db", dirty, counts);
    uint64_t lost = f->v.stats.sectors_lost - before.sectors_lost;
    uint64_t torn = f->v.stats.sectors_torn - before.sectors_torn;
    uint64_t kept = f->v.stats.sectors_kept - before.sectors_kept;
    assert_int_equal(lost + torn + kept, dirty_count);
    assert_int_equal(counts[0], lost + (SECTORS - dirty_count));
    assert_int_equal(counts[1], torn);
    assert_int_equal(counts[2], kept);
    assert_true(lost > 0 && torn > 0 && kept > 0);

    /* The settled image is durable: a second crash with faults changes nothing. */
    size_t size_a = 0, size_b = 0;
    unsigned char *a = file_contents(&f->v, "/n1/d.db", &size_a);
    sg_vfs_crash(&f->v, "/n1/", &faults);
    unsigned char *b = file_contents(&f->v, "/n1/d.db", &size_b);
    assert_int_equal(size_a, size_b);
    assert_memory_equal(a, b, size_a);
    assert_int_equal(f->v.stats.sectors_lost + f->v.stats.sectors_torn +
                         f->v.stats.sectors_kept,
                     dirty_count);
    free(a);
    free(b);
}

/* Growth kept or not; lost sectors past the durable size are holes (zeros); an undone
 * truncate brings the synced bytes back. Over many seeds every outcome shows up. */
static void vfs__size_changes_persist_or_not_and_holes_read_zero__at_faulty_crash(void **state)
{
    struct fixture *f = *state;
    struct sg_prng p;
    sg_prng_init(&p, 5, 0);
    struct sg_vfs_crash_faults faults = note_faults(&p);
    faults.torn_num = 0;
    int grown = 0, not_grown = 0, holes = 0, truncated = 0, untruncated = 0;
    for (int trial = 0; trial < 64; trial++) {
        sg_vfs_wipe(&f->v, "/n1/");
        sqlite3_file *file = raw_open(&f->v, "/n1/d.db", RAW_MAIN);
        raw_write(file, 'A', 8192, 0);
        assert_int_equal(file->pMethods->xSync(file, SQLITE_SYNC_FULL), SQLITE_OK);
        raw_write(file, 'B', 3 * 4096, 8192 + 4096); /* leaves a hole in sector 2 */
        raw_close(file);
        sg_vfs_crash(&f->v, "/n1/", &faults);
        file = raw_open(&f->v, "/n1/d.db", RAW_MAIN);
        assert_true(raw_all(file, 'A', 8192, 0));
        if (raw_size(file) == 8192) {
            not_grown++;
        } else {
            assert_int_equal(raw_size(file), 6 * 4096);
            grown++;
            assert_true(raw_all(file, 0, 4096, 8192));
            for (int s = 3; s < 6; s++) {
                bool zeros = raw_all(file, 0, 4096, s * 4096);
                assert_true(zeros || raw_all(file, 'B', 4096, s * 4096));
                holes += zeros;
            }
        }
        /* Synced at 6 sectors of 'C', then truncated to one: either size may persist. */
        raw_write(file, 'C', 6 * 4096, 0);
        assert_int_equal(file->pMethods->xSync(file, SQLITE_SYNC_FULL), SQLITE_OK);
        assert_int_equal(file->pMethods->xTruncate(file, 4096), SQLITE_OK);
        raw_close(file);
        sg_vfs_crash(&f->v, "/n1/", &faults);
        file = raw_open(&f->v, "/n1/d.db", RAW_MAIN);
        sqlite3_int64 size = raw_size(file);
        assert_true(size == 4096 || size == 6 * 4096);
        assert_true(raw_all(file, 'C', (int)size, 0));
        truncated += size == 4096;
        untruncated += size != 4096;
        raw_close(file);
    }
    assert_true(grown > 0 && not_grown > 0 && holes > 0);
    assert_true(truncated > 0 && untruncated > 0);
}

static void vfs__reverts_exactly_or_keeps_all__at_crash_with_certain_faults(void **state)
{
    struct fixture *f = *state;
    struct sg_prng p;
    sg_prng_init(&p, 9, 0);
    struct sg_vfs_crash_faults faults = {.random_u64 = prng_u64,
                                         .ctx = &p,
                                         .keep_pending_num = 0,
                                         .keep_pending_den = 1,
                                         .torn_num = 0,
                                         .torn_den = 1};
    for (int keep = 0; keep < 2; keep++) {
        sg_vfs_wipe(&f->v, "/n1/");
        sqlite3 *db = db_open("/n1/t.db", "OFF");
        create_table(db);
        insert_rows(db, 1, 10, 3, 700);
        db_close(db);
        size_t size_live = 0, size_after = 0;
        unsigned char *live = file_contents(&f->v, "/n1/t.db", &size_live);
        faults.keep_pending_num = (uint32_t)keep;
        uint64_t draws = p.s[0];
        sg_vfs_crash(&f->v, "/n1/", &faults);
        assert_int_equal(p.s[0], draws); /* certain outcomes draw nothing */
        unsigned char *after = file_contents(&f->v, "/n1/t.db", &size_after);
        db = db_open("/n1/t.db", "OFF");
        if (keep == 1) {
            assert_int_equal(size_after, size_live);
            assert_memory_equal(after, live, size_live);
            assert_int_equal(count_rows(db), 30);
        } else {
            assert_true(size_after < size_live); /* as the exact revert test above */
            assert_int_equal(count_rows(db), -1);
        }
        assert_integrity_ok(db);
        db_close(db);
        free(live);
        free(after);
    }
    assert_true(f->v.stats.sectors_kept > 0);
    assert_true(f->v.stats.sectors_lost > 0);
    assert_int_equal(f->v.stats.sectors_torn, 0);
}

/* The byte model of one file: what reads see, and what the last sync made durable. */
enum { MODEL_BYTES_MAX = 6 * 4096 + 777 };
struct byte_model {
    unsigned char cur[MODEL_BYTES_MAX], dur[MODEL_BYTES_MAX];
    size_t cur_n, dur_n;
};

static void model_resize(struct byte_model *m, size_t n)
{
    if (n > m->cur_n) memset(&m->cur[m->cur_n], 0, n - m->cur_n);
    m->cur_n = n;
}

/* The file reads back exactly as the model's current bytes. */
static void assert_matches(sqlite3_file *file, const struct byte_model *m)
{
    assert_int_equal(raw_size(file), (sqlite3_int64)m->cur_n);
    static unsigned char buf[MODEL_BYTES_MAX];
    if (m->cur_n == 0) return;
    assert_int_equal(file->pMethods->xRead(file, buf, (int)m->cur_n, 0), SQLITE_OK);
    assert_memory_equal(buf, m->cur, m->cur_n);
}

/* Writes at any offset and length (WAL frames are 4,120 bytes, never sector-aligned), size
 * changes and syncs, against a byte model: reads always match it; a crash that keeps no
 * pending write gives back exactly the synced bytes, one that keeps every pending write
 * exactly the current ones. This is what the sector buffers, their fresh chunks and the
 * copy-free sync must add up to. */
static void vfs__matches_a_byte_model__under_unaligned_writes_truncates_and_syncs(void **state)
{
    struct fixture *f = *state;
    struct sg_prng p;
    sg_prng_init(&p, 11, 0);
    static struct byte_model m;
    struct sg_vfs_crash_faults certain = {.random_u64 = prng_u64, .ctx = &p,
                                          .keep_pending_den = 1, .torn_den = 1};
    for (int trial = 0; trial < 60; trial++) {
        sg_vfs_wipe(&f->v, "/n1/");
        m.cur_n = m.dur_n = 0;
        sqlite3_file *file = raw_open(&f->v, "/n1/m.db", RAW_MAIN);
        for (int op = 0; op < 40; op++) {
            uint64_t r = sg_prng_next(&p);
            if (r % 8 < 6) {
                size_t off = (size_t)(r >> 8) % (m.cur_n + 2048);
                size_t len = 1 + (size_t)(r >> 24) % 5000;
                if (off >= MODEL_BYTES_MAX) off = MODEL_BYTES_MAX - 1;
                if (off + len > MODEL_BYTES_MAX) len = MODEL_BYTES_MAX - off;
                /* Bytes that differ from offset to offset and from write to write, so that a
                 * sector's bytes never match a stale buffer's by chance. */
                static unsigned char bytes[MODEL_BYTES_MAX];
                unsigned base = (unsigned)(r >> 40);
                for (size_t i = 0; i < len; i++)
                    bytes[i] = (unsigned char)(base + (off + i) * 7 + (off + i) / 251);
                assert_int_equal(file->pMethods->xWrite(file, bytes, (int)len,
                                                        (sqlite3_int64)off), SQLITE_OK);
                if (off + len > m.cur_n) model_resize(&m, off + len);
                memcpy(&m.cur[off], bytes, len);
            } else if (r % 8 == 6) {
                size_t n = (size_t)(r >> 8) % MODEL_BYTES_MAX;
                assert_int_equal(file->pMethods->xTruncate(file, (sqlite3_int64)n), SQLITE_OK);
                model_resize(&m, n);
            } else {
                assert_int_equal(file->pMethods->xSync(file, SQLITE_SYNC_FULL), SQLITE_OK);
                memcpy(m.dur, m.cur, m.cur_n);
                m.dur_n = m.cur_n;
            }
            assert_matches(file, &m);
        }
        raw_close(file);
        bool keep = trial % 2 == 1;
        certain.keep_pending_num = keep ? 1 : 0;
        sg_vfs_crash(&f->v, "/n1/", &certain);
        if (!keep) {
            memcpy(m.cur, m.dur, m.dur_n);
            m.cur_n = m.dur_n;
        }
        file = raw_open(&f->v, "/n1/m.db", RAW_MAIN);
        assert_matches(file, &m);
        raw_close(file);
    }
}

/* One faulty crash of a fixed workload, the surviving database bytes returned. */
static unsigned char *faulty_crash_run(uint64_t crash_seed, size_t *size_out)
{
    struct hook_state hs;
    struct sg_vfs v;
    struct sg_prng p;
    vfs_start(&v, &hs, 1);
    sg_prng_init(&p, crash_seed, 0);
    sqlite3 *db = db_open("/n1/t.db", "FULL");
    create_table(db);
    insert_rows(db, 1, 5, 5, 500);
    exec_ok(db, "PRAGMA wal_checkpoint");
    exec_ok(db, "PRAGMA synchronous=OFF");
    insert_rows(db, 100, 5, 50, 500);
    exec_ok(db, "PRAGMA wal_checkpoint");
    sg_vfs_set_down(&v, "/n1/", true);
    db_abandon(db);
    const struct sg_vfs_crash_faults faults = note_faults(&p);
    sg_vfs_crash(&v, "/n1/", &faults);
    sg_vfs_set_down(&v, "/n1/", false);
    unsigned char *bytes = file_contents(&v, "/n1/t.db", size_out);
    sg_vfs_deinit(&v);
    return bytes;
}

static void vfs__gives_identical_images__at_faulty_crash_with_same_seed(void **state)
{
    (void)state;
    size_t size_a = 0, size_b = 0, size_c = 0;
    unsigned char *a = faulty_crash_run(21, &size_a);
    unsigned char *b = faulty_crash_run(21, &size_b);
    unsigned char *c = faulty_crash_run(22, &size_c);
    assert_int_equal(size_a, size_b);
    assert_memory_equal(a, b, size_a);
    assert_true(size_a != size_c || memcmp(a, c, size_a) != 0);
    free(a);
    free(b);
    free(c);
}

/* ---- deletes that a power loss may undo (the note's rule 8) --------------------------- */

#define RAW_JOURNAL (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_MAIN_JOURNAL)

/* path holds `bytes` bytes of `byte`, synced: it exists durably. */
static void durable_file(struct sg_vfs *v, const char *path, int byte, int bytes)
{
    sqlite3_file *file = raw_open(v, path, RAW_JOURNAL);
    raw_write(file, byte, bytes, 0);
    assert_int_equal(file->pMethods->xSync(file, SQLITE_SYNC_FULL), SQLITE_OK);
    raw_close(file);
}

static void delete_ok(struct sg_vfs *v, const char *path, int dir_sync)
{
    assert_int_equal(v->vfs->xDelete(v->vfs, path, dir_sync), SQLITE_OK);
    assert_int_equal(access_of(v, path, SQLITE_ACCESS_EXISTS), 0);
}

/* True when path exists and holds exactly `bytes` bytes of `byte`. */
static bool file_is(struct sg_vfs *v, const char *path, int byte, int bytes)
{
    sqlite3_file *file = NULL;
    if (raw_open_rc(v, path, SQLITE_OPEN_READWRITE, &file) != SQLITE_OK) return false;
    bool is = raw_size(file) == bytes && (bytes == 0 || raw_all(file, byte, bytes, 0));
    raw_close(file);
    return is;
}

static bool file_absent(struct sg_vfs *v, const char *path)
{
    sqlite3_file *file = NULL;
    return access_of(v, path, SQLITE_ACCESS_READWRITE) == 0 &&
           raw_open_rc(v, path, SQLITE_OPEN_READWRITE, &file) == SQLITE_CANTOPEN;
}

static void vfs__delete_comes_back_with_durable_bytes__at_crash_without_dir_sync(void **state)
{
    struct fixture *f = *state;
    sqlite3_file *file = raw_open(&f->v, "/n1/j", RAW_JOURNAL);
    raw_write(file, 'A', 8192, 0);
    assert_int_equal(file->pMethods->xSync(file, SQLITE_SYNC_FULL), SQLITE_OK);
    raw_write(file, 'B', 100, 0); /* pending at the delete: lost with the exact revert */
    raw_close(file);
    file = raw_open(&f->v, "/n1/lazy", RAW_JOURNAL); /* never synced: nothing to bring back */
    raw_write(file, 'L', 100, 0);
    raw_close(file);
    size_t bytes = sg_vfs_bytes(&f->v, "/n1/");

    delete_ok(&f->v, "/n1/j", 0);
    delete_ok(&f->v, "/n1/lazy", 0);
    assert_true(file_absent(&f->v, "/n1/j"));
    assert_int_equal(f->v.deleted_count, 1);
    assert_true(sg_vfs_bytes(&f->v, "/n1/") > 0 && sg_vfs_bytes(&f->v, "/n1/") < bytes);
    sg_vfs_crash(&f->v, "/n1/", NULL);
    assert_true(file_is(&f->v, "/n1/j", 'A', 8192));
    assert_true(file_absent(&f->v, "/n1/lazy"));
    assert_int_equal(f->v.stats.deletes_undone, 1);
    assert_int_equal(f->v.deleted_count, 0);

    /* With dirSync the delete is durable at once. */
    delete_ok(&f->v, "/n1/j", 1);
    assert_int_equal(f->v.deleted_count, 0);
    sg_vfs_crash(&f->v, "/n1/", NULL);
    assert_true(file_absent(&f->v, "/n1/j"));
    assert_int_equal(f->v.stats.deletes_undone, 1);

    /* Faults: kept with the keep chance (certain ones draw nothing), undone otherwise. */
    struct sg_prng p;
    sg_prng_init(&p, 23, 0);
    struct sg_vfs_crash_faults faults = note_faults(&p);
    int undone = 0, persisted = 0;
    for (int trial = 0; trial < 66; trial++) {
        faults.keep_pending_num = trial == 0 ? 0 : trial == 1 ? 2 : 1; /* 0/2, 2/2, 1/2 */
        durable_file(&f->v, "/n1/j", 'A', 4096);
        delete_ok(&f->v, "/n1/j", 0);
        uint64_t undone_before = f->v.stats.deletes_undone;
        sg_vfs_crash(&f->v, "/n1/", &faults);
        bool back = file_is(&f->v, "/n1/j", 'A', 4096);
        assert_true(back || file_absent(&f->v, "/n1/j"));
        assert_int_equal(f->v.stats.deletes_undone - undone_before, back);
        if (trial == 0) assert_true(back);
        if (trial == 1) assert_false(back);
        undone += back;
        persisted += !back;
        if (back) delete_ok(&f->v, "/n1/j", 1);
    }
    assert_in_range(undone, 15, 51);
    assert_in_range(persisted, 15, 51);
}

static void vfs__pending_delete_becomes_durable__after_sync_in_same_directory(void **state)
{
    struct fixture *f = *state;
    sqlite3_file *db = raw_open(&f->v, "/n1/d.db", RAW_MAIN);
    sqlite3_file *sub = raw_open(&f->v, "/n1/sub/x", RAW_JOURNAL);
    sqlite3_file *other = raw_open(&f->v, "/n2/x", RAW_JOURNAL);
    durable_file(&f->v, "/n1/j", 'A', 4096);
    durable_file(&f->v, "/n1/sub/j", 'S', 4096);

    /* Syncs in another directory or on another disk, and a failed sync, settle nothing. */
    delete_ok(&f->v, "/n1/j", 0);
    assert_int_equal(sub->pMethods->xSync(sub, SQLITE_SYNC_NORMAL), SQLITE_OK);
    assert_int_equal(other->pMethods->xSync(other, SQLITE_SYNC_NORMAL), SQLITE_OK);
    sg_vfs_fail_next_sync(&f->v, "/n1/", 1);
    assert_int_equal(db->pMethods->xSync(db, SQLITE_SYNC_NORMAL), SQLITE_IOERR_FSYNC);
    assert_int_equal(f->v.deleted_count, 1);
    raw_close(db);
    raw_close(sub);
    raw_close(other);
    sg_vfs_crash(&f->v, "/n1/", NULL);
    assert_true(file_is(&f->v, "/n1/j", 'A', 4096));

    /* A successful sync of any file in the directory, whatever its flags, settles it. */
    db = raw_open(&f->v, "/n1/d.db", RAW_MAIN);
    delete_ok(&f->v, "/n1/j", 0);
    delete_ok(&f->v, "/n1/sub/j", 0);
    assert_int_equal(db->pMethods->xSync(db, SQLITE_SYNC_NORMAL | SQLITE_SYNC_DATAONLY),
                     SQLITE_OK);
    assert_int_equal(f->v.deleted_count, 1); /* /n1/sub/j is in another directory */
    raw_close(db);
    sg_vfs_crash(&f->v, "/n1/", NULL);
    assert_true(file_absent(&f->v, "/n1/j"));
    assert_true(file_is(&f->v, "/n1/sub/j", 'S', 4096));

    /* So does a delete with dirSync in the directory (a directory sync). */
    durable_file(&f->v, "/n1/j", 'A', 4096);
    durable_file(&f->v, "/n1/k", 'K', 4096);
    delete_ok(&f->v, "/n1/j", 0);
    delete_ok(&f->v, "/n1/k", 1);
    assert_int_equal(f->v.deleted_count, 0);
    sg_vfs_crash(&f->v, "/n1/", NULL);
    assert_true(file_absent(&f->v, "/n1/j"));
    assert_int_equal(f->v.stats.deletes_undone, 2); /* /n1/j, then /n1/sub/j */
}

/* unlink(p) + create(p) without a directory sync: the old file may come back until the
 * new one is synced; a second delete keeps the older image; a main database is created
 * durably and replaces the old entry at once; wipe forgets pending deletes. */
static void vfs__old_file_comes_back_at_crash__after_recreate_without_sync(void **state)
{
    struct fixture *f = *state;
    durable_file(&f->v, "/n1/j", 'A', 8192);
    delete_ok(&f->v, "/n1/j", 0);
    sqlite3_file *file = raw_open(&f->v, "/n1/j", RAW_JOURNAL);
    raw_write(file, 'B', 4096, 0);
    raw_close(file);
    assert_true(file_is(&f->v, "/n1/j", 'B', 4096)); /* reads see the new file */
    sg_vfs_crash(&f->v, "/n1/", NULL);
    assert_true(file_is(&f->v, "/n1/j", 'A', 8192));

    delete_ok(&f->v, "/n1/j", 0);
    durable_file(&f->v, "/n1/j", 'B', 4096);
    assert_int_equal(f->v.deleted_count, 0);
    sg_vfs_crash(&f->v, "/n1/", NULL);
    assert_true(file_is(&f->v, "/n1/j", 'B', 4096));

    delete_ok(&f->v, "/n1/j", 0);
    file = raw_open(&f->v, "/n1/j", RAW_JOURNAL);
    raw_write(file, 'C', 4096, 0);
    raw_close(file);
    delete_ok(&f->v, "/n1/j", 0);
    assert_int_equal(f->v.deleted_count, 1);
    sg_vfs_crash(&f->v, "/n1/", NULL);
    assert_true(file_is(&f->v, "/n1/j", 'B', 4096));
    assert_int_equal(f->v.stats.deletes_undone, 2);

    durable_file(&f->v, "/n1/m.db", 'M', 4096);
    delete_ok(&f->v, "/n1/m.db", 0);
    raw_close(raw_open(&f->v, "/n1/m.db", RAW_MAIN));
    assert_int_equal(f->v.deleted_count, 0);
    sg_vfs_crash(&f->v, "/n1/", NULL);
    assert_true(file_is(&f->v, "/n1/m.db", 0, 0));

    delete_ok(&f->v, "/n1/j", 0);
    sg_vfs_wipe(&f->v, "/n1/");
    assert_int_equal(f->v.deleted_count, 0);
    sg_vfs_crash(&f->v, "/n1/", NULL);
    assert_true(file_absent(&f->v, "/n1/j"));
    assert_int_equal(f->v.stats.deletes_undone, 2);
}

/* A file deleted while open: its handle keeps writing (pending, lost by the exact revert)
 * and the delete stays pending after the close; a sync through the handle settles it. */
static void vfs__file_deleted_while_open_comes_back__at_crash_unless_synced(void **state)
{
    struct fixture *f = *state;
    durable_file(&f->v, "/n1/j", 'A', 4096);
    sqlite3_file *file = raw_open(&f->v, "/n1/j", SQLITE_OPEN_READWRITE);
    delete_ok(&f->v, "/n1/j", 0);
    raw_write(file, 'C', 4096, 0);
    assert_true(raw_all(file, 'C', 4096, 0));
    raw_close(file);
    assert_int_equal(f->v.deleted_count, 1);
    sg_vfs_crash(&f->v, "/n1/", NULL);
    assert_true(file_is(&f->v, "/n1/j", 'A', 4096));

    file = raw_open(&f->v, "/n1/j", SQLITE_OPEN_READWRITE);
    delete_ok(&f->v, "/n1/j", 0);
    assert_int_equal(file->pMethods->xSync(file, SQLITE_SYNC_FULL), SQLITE_OK);
    assert_int_equal(f->v.deleted_count, 0);
    assert_true(raw_all(file, 'A', 4096, 0));
    raw_close(file);
    sg_vfs_crash(&f->v, "/n1/", NULL);
    assert_true(file_absent(&f->v, "/n1/j"));
    assert_int_equal(f->v.file_count, 0);
}

/* Through SQLite: in rollback-journal mode each COMMIT deletes its journal after syncing
 * the database. FULL deletes it without a directory sync, so an exact revert brings the
 * journal back as a hot journal and the reopen rolls the last commit back (the next
 * commit's journal sync would have settled it: only the last one is lost). EXTRA syncs
 * the directory at the delete and keeps every commit. */
static void vfs__last_commit_rolled_back_by_returning_journal__at_crash_with_delete_full(
    void **state)
{
    struct fixture *f = *state;
    const char *syncs[] = {"FULL", "EXTRA"};
    for (int i = 0; i < 2; i++) {
        sg_vfs_wipe(&f->v, "/n1/");
        uint64_t undone = f->v.stats.deletes_undone;
        sqlite3 *db = db_open_mode("/n1/t.db", "DELETE", syncs[i]);
        create_table(db);
        insert_rows(db, 1, 4, 5, 300);
        db_close(db);
        assert_int_equal(f->v.deleted_count, i == 0 ? 1 : 0);
        sg_vfs_crash(&f->v, "/n1/", NULL);
        assert_int_equal(f->v.stats.deletes_undone - undone, i == 0 ? 1 : 0);
        assert_int_equal(access_of(&f->v, "/n1/t.db-journal", SQLITE_ACCESS_EXISTS), i == 0);

        db = db_open_mode("/n1/t.db", "DELETE", syncs[i]);
        assert_int_equal(count_rows(db), i == 0 ? 15 : 20);
        assert_integrity_ok(db);
        db_close(db);
        assert_int_equal(access_of(&f->v, "/n1/t.db-journal", SQLITE_ACCESS_EXISTS), 0);
    }
}

/* ---- transient I/O errors ------------------------------------------------------------- */

static void vfs__reads_writes_fail_at_rate_and_change_nothing__with_io_faults(void **state)
{
    struct fixture *f = *state;
    struct sg_prng p;
    sg_prng_init(&p, 13, 0);
    sqlite3_file *file = raw_open(&f->v, "/n1/d", RAW_WAL);
    sqlite3_file *other = raw_open(&f->v, "/n2/d", RAW_WAL);
    const sqlite3_io_methods *m = file->pMethods;
    raw_write(file, 'A', 400 * 16, 0);
    sg_vfs_set_io_faults(&f->v, "/n1/", 1, 2, 4, prng_u64, &p);
    unsigned char buf[16];
    memset(buf, 'B', sizeof buf);
    bool failed[400];
    int write_failures = 0, read_failures = 0;
    for (int i = 0; i < 400; i++) {
        int rc = m->xWrite(file, buf, 16, i * 16);
        assert_true(rc == SQLITE_OK || rc == SQLITE_IOERR_WRITE);
        failed[i] = rc != SQLITE_OK;
        write_failures += failed[i];
        unsigned char got[16];
        rc = m->xRead(file, got, 16, 0);
        assert_true(rc == SQLITE_OK || rc == SQLITE_IOERR_READ);
        read_failures += rc != SQLITE_OK;
        raw_write(other, 'O', 16, i * 16); /* another disk never fails */
        assert_true(raw_all(other, 'O', 16, i * 16));
    }
    assert_int_equal(f->v.stats.write_errors, write_failures);
    assert_int_equal(f->v.stats.read_errors, read_failures);
    assert_in_range(write_failures, 150, 250); /* 1/2 of 400 */
    assert_in_range(read_failures, 60, 140);   /* 1/4 of 400 */

    sg_vfs_set_io_faults(&f->v, "/n1/", 1, 1, 0, NULL, NULL); /* den 0 disables */
    for (int i = 0; i < 400; i++) {
        assert_true(raw_all(file, failed[i] ? 'A' : 'B', 16, i * 16));
    }
    assert_int_equal(f->v.stats.write_errors, write_failures);
    raw_close(file);
    raw_close(other);
}

/* Transient errors make statements fail; the database stays consistent through a power
 * loss, every commit that returned SQLITE_OK is kept, a failed one may go either way. */
static void vfs__statements_fail_without_corruption__with_io_faults(void **state)
{
    struct fixture *f = *state;
    struct sg_prng p, crash_p;
    sg_prng_init(&p, 17, 0);
    sg_prng_init(&crash_p, 17, 1);
    enum { TXNS = 150 };
    enum { NEVER, COMMITTED, UNKNOWN } outcome[TXNS + 1] = {NEVER};
    sqlite3 *db = db_open("/n1/t.db", "FULL");
    create_table(db);
    exec_ok(db, "PRAGMA wal_autocheckpoint=20");
    sg_vfs_set_io_faults(&f->v, "/n1/", 1, 1, 40, prng_u64, &p);
    sqlite3_stmt *ins = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t(k, v) VALUES (?, randomblob(3000))",
                                        -1, &ins, NULL),
                     SQLITE_OK);
    int failures = 0, commits = 0;
    for (int k = 1; k <= TXNS; k++) {
        int rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        if (rc == SQLITE_OK) {
            assert_int_equal(sqlite3_bind_int(ins, 1, k), SQLITE_OK);
            rc = sqlite3_step(ins);
            rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
            (void)sqlite3_reset(ins);
        }
        if (rc == SQLITE_OK) {
            rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
            outcome[k] = rc == SQLITE_OK ? COMMITTED : UNKNOWN;
        }
        if (rc != SQLITE_OK) {
            assert_int_equal(rc & 0xff, SQLITE_IOERR);
            failures++;
            if (!sqlite3_get_autocommit(db)) (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        }
        commits += outcome[k] == COMMITTED;
    }
    assert_int_equal(sqlite3_finalize(ins), SQLITE_OK);
    assert_true(failures > 5 && commits > 50);
    assert_true(f->v.stats.write_errors > 0 && f->v.stats.read_errors > 0);

    sg_vfs_set_io_faults(&f->v, "/n1/", 0, 0, 0, NULL, NULL);
    sg_vfs_set_down(&f->v, "/n1/", true);
    db_abandon(db);
    const struct sg_vfs_crash_faults faults = note_faults(&crash_p);
    sg_vfs_crash(&f->v, "/n1/", &faults);
    sg_vfs_set_down(&f->v, "/n1/", false);
    db = db_open("/n1/t.db", "FULL");
    assert_integrity_ok(db);
    for (int k = 1; k <= TXNS; k++) {
        int64_t n = count_value(db, k);
        if (outcome[k] == COMMITTED) assert_int_equal(n, 1);
        if (outcome[k] == NEVER) assert_int_equal(n, 0);
    }
    db_close(db);
}

/* ---- randomized crash consistency (the note's trials) --------------------------------- */

#define TRIAL_DISK "/n1/"
#define TRIAL_DB "/n1/t.db"
#define TRIAL_TXNS_MAX 40
#define TRIALS_MAIN 500
#define TRIALS_SECOND 200
#define TRIALS_DELETE 300

struct trial_plan {
    const char *journal; /* "WAL" or "DELETE" */
    const char *sync;
    uint32_t trials;
    bool second_crash; /* a second power loss right after recovery */
    bool expect_durable; /* false: a negative control, tally instead of failing */
};

struct trial_tally {
    uint32_t countdown_crashes; /* the countdown took the disk down at an I/O of the work */
    uint32_t unknown_commits;   /* a COMMIT failed: outcome unknown */
    uint32_t unknown_kept;      /* ... and came back after the crash */
    uint32_t second_crashes;
    uint32_t clean_closes;      /* closed cleanly before the power loss (WAL: deleted) */
    uint32_t losses;            /* a commit that returned SQLITE_OK is missing */
    uint32_t losses_last;       /* ... and only the last one is (rolled back) */
    uint32_t broken;            /* unreadable, not a prefix, or integrity_check not ok */
};

/* Like db_open_mode, but NULL instead of a test failure (a negative control may corrupt). */
static sqlite3 *db_open_soft(const char *path, const char *journal, const char *sync)
{
    sqlite3 *db = NULL;
    char sql[64];
    const char *steps[3];
    db_open_steps(journal, sync, sql, steps);
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, VFS_NAME);
    for (size_t i = 0; rc == SQLITE_OK && i < 3; i++) {
        rc = sqlite3_exec(db, steps[i], NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK) return db;
    if (db != NULL) db_abandon(db);
    return NULL;
}

/* What a node crash does to the disk: down, abandon, power loss with the note's faults,
 * up again (db may be NULL when already closed). */
static void trial_power_loss(struct sg_vfs *v, sqlite3 *db, struct sg_prng *p)
{
    sg_vfs_set_down(v, TRIAL_DISK, true);
    if (db != NULL) db_abandon(db);
    const struct sg_vfs_crash_faults faults = note_faults(p);
    sg_vfs_crash(v, TRIAL_DISK, &faults);
    sg_vfs_set_down(v, TRIAL_DISK, false);
}

/* Commits transactions 1, 2, ... (one row k each) until a statement fails or the plan
 * ends; the crash comes at a countdown I/O, before a COMMIT, or after the last commit.
 * Returns the last k whose COMMIT returned SQLITE_OK; *unknown_out: a COMMIT failed. */
static int64_t trial_work(struct sg_vfs *v, sqlite3 *db, struct sg_prng *p, bool *unknown_out,
                          bool *countdown_out)
{
    int64_t txns = sg_prng_range(p, 1, TRIAL_TXNS_MAX);
    uint64_t mode = sg_prng_below(p, 4); /* 0, 1: countdown; 2: before a COMMIT; 3: after */
    *countdown_out = mode <= 1;
    int64_t down_before_commit = mode == 2 ? sg_prng_range(p, 1, txns) : 0;
    if (mode <= 1) sg_vfs_set_down_after(v, TRIAL_DISK, sg_prng_below(p, (uint64_t)txns * 6));
    sqlite3_stmt *ins = NULL;
    int rc = sqlite3_prepare_v2(db, "INSERT INTO t(k, v) VALUES (?, randomblob(?))", -1, &ins,
                                NULL);
    int64_t committed = 0;
    *unknown_out = false;
    for (int64_t k = 1; rc == SQLITE_OK && k <= txns; k++) {
        rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        if (rc != SQLITE_OK) break;
        assert_int_equal(sqlite3_bind_int64(ins, 1, k), SQLITE_OK);
        assert_int_equal(sqlite3_bind_int64(ins, 2, sg_prng_range(p, 1, 6000)), SQLITE_OK);
        rc = sqlite3_step(ins);
        (void)sqlite3_reset(ins);
        if (rc != SQLITE_DONE) break;
        if (k == down_before_commit) sg_vfs_set_down(v, TRIAL_DISK, true);
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK) *unknown_out = true;
        if (rc == SQLITE_OK) committed = k;
    }
    (void)sqlite3_finalize(ins);
    return committed;
}

/* Rows of t are exactly 1..n: returns n, or -1 when unreadable, not such a prefix, or
 * when integrity_check is not ok. */
static int64_t trial_observe(sqlite3 *db)
{
    sqlite3_stmt *stmt = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*), min(k), max(k) FROM t", -1, &stmt, NULL) ==
            SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
        int64_t count = sqlite3_column_int64(stmt, 0);
        bool prefix = count == 0 || (sqlite3_column_int64(stmt, 1) == 1 &&
                                     sqlite3_column_int64(stmt, 2) == count);
        n = prefix ? count : -1;
    }
    (void)sqlite3_finalize(stmt);
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, NULL) != SQLITE_OK ||
        sqlite3_step(stmt) != SQLITE_ROW ||
        strcmp((const char *)sqlite3_column_text(stmt, 0), "ok") != 0) {
        n = -1;
    }
    (void)sqlite3_finalize(stmt);
    return n;
}

/* Reopens after a power loss; -1 when the database does not open (negative control). */
static int64_t trial_reopen_observe(const struct trial_plan *plan, sqlite3 **db_out)
{
    *db_out = db_open_soft(TRIAL_DB, plan->journal, plan->sync);
    return *db_out == NULL ? -1 : trial_observe(*db_out);
}

static void trial_check(const struct trial_plan *plan, uint32_t trial, int64_t committed,
                        bool unknown, int64_t seen, struct trial_tally *tally)
{
    bool ok = seen == committed || (unknown && seen == committed + 1);
    tally->losses += seen < committed;
    tally->losses_last += seen >= 0 && seen == committed - 1;
    tally->broken += seen < 0;
    if (plan->expect_durable && !ok) {
        fail_msg("trial %u: committed %lld%s, found %lld", trial, (long long)committed,
                 unknown ? " (+1 unknown)" : "", (long long)seen);
    }
}

static void trial_run(struct sg_vfs *v, struct sg_prng *p, const struct trial_plan *plan,
                      uint32_t trial, struct trial_tally *tally)
{
    sg_vfs_wipe(v, TRIAL_DISK);
    /* The table is created durably (EXTRA syncs the directory at the journal's delete);
     * the plan's synchronous level covers the work. */
    bool wal = strcmp(plan->journal, "WAL") == 0;
    sqlite3 *db = db_open_mode(TRIAL_DB, plan->journal, wal ? "FULL" : "EXTRA");
    create_table(db);
    char sql[96];
    sqlite3_snprintf((int)sizeof sql, sql, "PRAGMA wal_autocheckpoint=%d; PRAGMA synchronous=%s",
                     (int)sg_prng_range(p, 2, 60), plan->sync);
    exec_ok(db, sql);
    bool unknown = false, countdown = false;
    int64_t committed = trial_work(v, db, p, &unknown, &countdown);
    tally->countdown_crashes += countdown && sg_vfs_is_down(v, TRIAL_DISK);
    tally->unknown_commits += unknown;
    if (!sg_vfs_is_down(v, TRIAL_DISK) && sg_prng_chance(p, 1, 2)) {
        /* A clean close first (WAL: a checkpoint, then the WAL's delete without a
         * directory sync), still under a countdown that has not fired. */
        tally->clean_closes++;
        db_abandon(db);
        db = NULL;
    }
    trial_power_loss(v, db, p);

    int64_t seen = trial_reopen_observe(plan, &db);
    trial_check(plan, trial, committed, unknown, seen, tally);
    tally->unknown_kept += unknown && seen == committed + 1;
    if (plan->second_crash && db != NULL) {
        /* Right after recovery, or in the middle of the checkpoint of a clean close. */
        tally->second_crashes++;
        if (sg_prng_chance(p, 1, 2)) {
            trial_power_loss(v, db, p);
        } else {
            sg_vfs_set_down_after(v, TRIAL_DISK, sg_prng_below(p, 12));
            db_abandon(db);
            trial_power_loss(v, NULL, p);
        }
        int64_t seen_again = trial_reopen_observe(plan, &db);
        if (plan->expect_durable && seen_again != seen) {
            fail_msg("trial %u: found %lld, after a second crash %lld", trial, (long long)seen,
                     (long long)seen_again);
        }
    }
    if (db != NULL) db_abandon(db);
}

static struct trial_tally trials_run(struct sg_vfs *v, const struct trial_plan *plan,
                                     uint64_t seed)
{
    struct sg_prng p;
    sg_prng_init(&p, seed, 0);
    struct trial_tally tally = {0};
    for (uint32_t trial = 0; trial < plan->trials; trial++) {
        trial_run(v, &p, plan, trial, &tally);
    }
    return tally;
}

static void vfs__keeps_committed_prefix__at_random_crashes_with_wal_full(void **state)
{
    struct fixture *f = *state;
    const struct trial_plan plan = {
        .journal = "WAL", .sync = "FULL", .trials = TRIALS_MAIN, .expect_durable = true};
    struct trial_tally tally = trials_run(&f->v, &plan, 1);
    const struct sg_vfs_stats *st = &f->v.stats;
    print_message("%u trials: %u crashes at a counted I/O, %u failed COMMITs (%u came back), "
                  "sectors lost %llu torn %llu kept %llu, %u clean closes, deletes undone %llu, "
                  "%u lost, %u broken\n",
                  plan.trials, tally.countdown_crashes, tally.unknown_commits, tally.unknown_kept,
                  (unsigned long long)st->sectors_lost, (unsigned long long)st->sectors_torn,
                  (unsigned long long)st->sectors_kept, tally.clean_closes,
                  (unsigned long long)st->deletes_undone, tally.losses, tally.broken);
    assert_int_equal(tally.losses, 0);
    assert_int_equal(tally.broken, 0);
    /* The faults had teeth: crashes in the middle of I/O, failed COMMITs, every fate. */
    assert_true(tally.countdown_crashes > plan.trials / 4);
    assert_true(tally.unknown_commits > plan.trials / 4);
    assert_true(tally.unknown_kept > 0);
    assert_true(st->sectors_lost > plan.trials / 4);
    assert_true(st->sectors_torn > plan.trials / 20);
    assert_true(st->sectors_kept > plan.trials / 4);
    /* Clean closes deleted the WAL, and some of those deletes came back. */
    assert_true(tally.clean_closes > plan.trials / 20);
    assert_true(st->deletes_undone > 0);
}

static void vfs__keeps_committed_prefix__at_second_crash_during_recovery(void **state)
{
    struct fixture *f = *state;
    const struct trial_plan plan = {
        .journal = "WAL",
        .sync = "FULL",
        .trials = TRIALS_SECOND,
        .second_crash = true,
        .expect_durable = true};
    struct trial_tally tally = trials_run(&f->v, &plan, 2);
    print_message("%u trials with a second crash: deletes undone %llu, %u lost, %u broken\n",
                  plan.trials, (unsigned long long)f->v.stats.deletes_undone, tally.losses,
                  tally.broken);
    assert_int_equal(tally.losses, 0);
    assert_int_equal(tally.broken, 0);
    assert_int_equal(tally.second_crashes, plan.trials);
}

/* Negative control: without syncs the same injector must lose committed transactions. */
static void vfs__loses_commits__at_random_crashes_with_synchronous_off(void **state)
{
    struct fixture *f = *state;
    const struct trial_plan plan = {
        .journal = "WAL", .sync = "OFF", .trials = TRIALS_MAIN, .expect_durable = false};
    struct trial_tally tally = trials_run(&f->v, &plan, 1);
    print_message("%u trials without syncs: %u lost committed transactions, %u broken\n",
                  plan.trials, tally.losses, tally.broken);
    assert_true(tally.losses > 0);
}

static void trials_print(const struct trial_plan *plan, const struct trial_tally *tally,
                         const struct sg_vfs_stats *st)
{
    print_message("%s + %s, %u trials: %u lost a committed transaction (%u only the last), "
                  "%u broken, %u failed COMMITs, deletes undone %llu\n",
                  plan->journal, plan->sync, plan->trials, tally->losses, tally->losses_last,
                  tally->broken, tally->unknown_commits,
                  (unsigned long long)st->deletes_undone);
}

/* The note's "FULL loses the last commit": a COMMIT deletes its journal without a
 * directory sync, the journal comes back at the power loss and the reopen rolls the last
 * commit back (never more: the next commit's journal sync settles the delete). */
static void vfs__loses_last_commit_sometimes__at_random_crashes_with_delete_full(void **state)
{
    struct fixture *f = *state;
    const struct trial_plan plan = {
        .journal = "DELETE", .sync = "FULL", .trials = TRIALS_DELETE, .expect_durable = false};
    struct trial_tally tally = trials_run(&f->v, &plan, 3);
    trials_print(&plan, &tally, &f->v.stats);
    assert_true(tally.losses > 0);
    assert_int_equal(tally.losses, tally.losses_last);
    assert_int_equal(tally.broken, 0);
    assert_true(f->v.stats.deletes_undone >= tally.losses);
}

/* NORMAL syncs the journal once, with its header: it loses commits as FULL does (and may
 * corrupt, see the note: tallied, not asserted). */
static void vfs__loses_commits__at_random_crashes_with_delete_normal(void **state)
{
    struct fixture *f = *state;
    const struct trial_plan plan = {
        .journal = "DELETE", .sync = "NORMAL", .trials = TRIALS_DELETE, .expect_durable = false};
    struct trial_tally tally = trials_run(&f->v, &plan, 3);
    trials_print(&plan, &tally, &f->v.stats);
    assert_true(tally.losses > 0);
    assert_true(f->v.stats.deletes_undone > 0);
}

/* EXTRA syncs the directory when it deletes the journal: the same trials (and a second
 * power loss after recovery) keep every commit and pass integrity_check. */
static void vfs__keeps_committed_prefix__at_random_crashes_with_delete_extra(void **state)
{
    struct fixture *f = *state;
    const struct trial_plan plan = {.journal = "DELETE",
                                    .sync = "EXTRA",
                                    .trials = TRIALS_DELETE,
                                    .second_crash = true,
                                    .expect_durable = true};
    struct trial_tally tally = trials_run(&f->v, &plan, 3);
    trials_print(&plan, &tally, &f->v.stats);
    assert_int_equal(tally.losses, 0);
    assert_int_equal(tally.broken, 0);
    assert_int_equal(tally.second_crashes, plan.trials);
    assert_true(tally.countdown_crashes > plan.trials / 4);
    assert_true(tally.unknown_commits > plan.trials / 4);
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
        T(vfs__refuses_io_except_unlock_and_close__while_down),
        T(vfs__abandoned_connection_closes_and_commits_survive__while_down),
        T(vfs__goes_down_at_the_counted_operation__after_set_down_after),
        T(vfs__down_at_the_next_sync__lands_inside_a_commit),
        T(vfs__settles_pending_sectors_to_old_new_or_torn__at_faulty_crash),
        T(vfs__size_changes_persist_or_not_and_holes_read_zero__at_faulty_crash),
        T(vfs__reverts_exactly_or_keeps_all__at_crash_with_certain_faults),
        T(vfs__matches_a_byte_model__under_unaligned_writes_truncates_and_syncs),
        cmocka_unit_test(vfs__gives_identical_images__at_faulty_crash_with_same_seed),
        T(vfs__delete_comes_back_with_durable_bytes__at_crash_without_dir_sync),
        T(vfs__pending_delete_becomes_durable__after_sync_in_same_directory),
        T(vfs__old_file_comes_back_at_crash__after_recreate_without_sync),
        T(vfs__file_deleted_while_open_comes_back__at_crash_unless_synced),
        T(vfs__last_commit_rolled_back_by_returning_journal__at_crash_with_delete_full),
        T(vfs__reads_writes_fail_at_rate_and_change_nothing__with_io_faults),
        T(vfs__statements_fail_without_corruption__with_io_faults),
        T(vfs__keeps_committed_prefix__at_random_crashes_with_wal_full),
        T(vfs__keeps_committed_prefix__at_second_crash_during_recovery),
        T(vfs__loses_commits__at_random_crashes_with_synchronous_off),
        T(vfs__loses_last_commit_sometimes__at_random_crashes_with_delete_full),
        T(vfs__loses_commits__at_random_crashes_with_delete_normal),
        T(vfs__keeps_committed_prefix__at_random_crashes_with_delete_extra),
    };
#undef T
    return cmocka_run_group_tests_name("vfs", tests, NULL, NULL);
}
