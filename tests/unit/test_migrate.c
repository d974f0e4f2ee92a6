/*
 * test_migrate.c: unit tests for core/migrate.c, the numbered schema migrations
 * (DESIGN §7 "Schema"; migrate.h), on real files and SQLite's default VFS: the path live
 * mode takes (the simulator takes the same one on its own VFS).
 *
 * Why: a node must open any database an earlier build wrote, keep every row, and refuse
 * one that a newer build wrote instead of misreading it, without writing a byte to it.
 *
 * The version-1 databases are made the way the first versioned build made them: step 0 of
 * each list (released steps never change), then one row in every table, then
 * user_version = 1. "Every row is kept" compares a dump of every table's contents before
 * and after; "untouched" compares the files' bytes.
 */
#define _DEFAULT_SOURCE /* mkdtemp, open_memstream */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "migrate.h"
#include "trace_rec.h"

/* ---- a minimal real-file env: a data directory, no clock, no network ---- */

struct fixture {
    char dir[64];
    uint64_t rnd;
    char last_trace[256];
    struct sg_env env;
};

static int64_t zero_ns(void *ctx) { (void)ctx; return 0; }
static uint64_t counter(void *ctx) { return ++((struct fixture *)ctx)->rnd; }
static void no_send(void *ctx, uint32_t to, const uint8_t *b, size_t n)
{
    (void)ctx; (void)to; (void)b; (void)n;
}
static void no_timer(void *ctx, int64_t at, uint64_t tag) { (void)ctx; (void)at; (void)tag; }
static void keep_trace(void *ctx, const struct sg_trace_rec *r)
{
    struct fixture *f = ctx;
    sg_trace_rec_text(r, f->last_trace, sizeof f->last_trace);
}
static bool no_fault(void *ctx, const char *p) { (void)ctx; (void)p; return false; }
__attribute__((noreturn)) static void die(void *ctx, const char *file, int l, const char *e)
{
    (void)ctx;
    fail_msg("assertion %s:%d: %s", file, l, e);
    abort();
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sg-migrate-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->env = (struct sg_env){.ctx = f, .node_id = 1, .vfs_name = NULL, .data_dir = f->dir,
                             .now_wall_ns = zero_ns, .now_mono_ns = zero_ns,
                             .random_u64 = counter, .send = no_send, .timer_at = no_timer,
                             .trace = keep_trace, .fault_point = no_fault, .panic = die};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir); /* mkdtemp's name: no quotes in it */
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static const struct sg_schema *const kinds[] = {&sg_schema_broker, &sg_schema_orch,
                                                &sg_schema_identity, &sg_schema_risk,
                                                &sg_schema_ledger, &sg_schema_payout};
enum { KIND_COUNT = sizeof kinds / sizeof *kinds };

/* ---- raw access to the files, as an earlier build or another tool would have ---- */

static char *path_of(const struct fixture *f, const char *file)
{
    char *p = sqlite3_mprintf("%s/%s", f->dir, file);
    assert_non_null(p);
    return p;
}

static sqlite3 *raw_open(const struct fixture *f, const char *db, int flags)
{
    char *p = path_of(f, db);
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open_v2(p, &h, flags, NULL), SQLITE_OK);
    sqlite3_free(p);
    return h;
}

static void raw_exec_on(sqlite3 *h, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(h, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err ? err : "?");
}

static void raw_exec(const struct fixture *f, const char *db, const char *sql)
{
    sqlite3 *h = raw_open(f, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    raw_exec_on(h, sql);
    sqlite3_close(h);
}

static int64_t raw_int(const struct fixture *f, const char *db, const char *sql)
{
    sqlite3 *h = raw_open(f, db, SQLITE_OPEN_READONLY);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/* Columns a later step added (ALTER TABLE ... ADD COLUMN): left out of dumps, so a dump
 * compares what version 1 had; the tests check the new columns' values themselves. */
static const char *const added_columns[][2] = {{"sagas", "compensation"}};

/* "SELECT <the table's columns but the added ones> FROM <table> ORDER BY rowid". */
static char *select_v1_columns(sqlite3 *h, const char *table)
{
    char *cols = sqlite3_mprintf("%s", "");
    char *info = sqlite3_mprintf("PRAGMA table_info(\"%w\")", table);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(h, info, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *col = (const char *)sqlite3_column_text(st, 1);
        bool added = false;
        for (size_t i = 0; i < sizeof added_columns / sizeof added_columns[0]; i++)
            added |= !strcmp(added_columns[i][0], table) && !strcmp(added_columns[i][1], col);
        if (added) continue;
        char *next = sqlite3_mprintf("%s%s\"%w\"", cols, cols[0] ? ", " : "", col);
        sqlite3_free(cols);
        cols = next;
    }
    sqlite3_finalize(st);
    sqlite3_free(info);
    char *sql = sqlite3_mprintf("SELECT %s FROM \"%w\" ORDER BY rowid", cols, table);
    sqlite3_free(cols);
    return sql;
}

/* Every table's name and rows, in a canonical text form (caller frees). With
 * require_rows, fails when a table is empty: the fixture must reach every table. */
static char *dump(const struct fixture *f, const char *db, bool require_rows)
{
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);
    assert_non_null(m);
    sqlite3 *h = raw_open(f, db, SQLITE_OPEN_READONLY);
    sqlite3_stmt *tables = NULL;
    /* sqlite_sequence is SQLite's AUTOINCREMENT bookkeeping, not data: the outbox's row in
     * it goes with AUTOINCREMENT (service_outbox_v2), checked by outbox_is_rebuilt. */
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT name FROM sqlite_master WHERE type = 'table'"
                                           " AND name <> 'sqlite_sequence' ORDER BY name", -1,
                                        &tables, NULL), SQLITE_OK);
    while (sqlite3_step(tables) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(tables, 0);
        char *sql = select_v1_columns(h, name);
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
        fprintf(m, "[%s]\n", name);
        int rows = 0;
        for (; sqlite3_step(st) == SQLITE_ROW; rows++) {
            for (int c = 0; c < sqlite3_column_count(st); c++) {
                const unsigned char *v = sqlite3_column_blob(st, c);
                int n = sqlite3_column_bytes(st, c);
                fprintf(m, "%d:", sqlite3_column_type(st, c));
                for (int i = 0; i < n; i++) fprintf(m, "%02x", v[i]);
                fputc(c + 1 < sqlite3_column_count(st) ? '|' : '\n', m);
            }
        }
        if (require_rows && rows == 0) fail_msg("%s: the fixture left table %s empty", db, name);
        sqlite3_finalize(st);
        sqlite3_free(sql);
    }
    sqlite3_finalize(tables);
    sqlite3_close(h);
    fclose(m);
    return out;
}

/* The bytes of a file (caller frees); NULL when it does not exist. */
static char *file_bytes(const struct fixture *f, const char *file, size_t *len_out)
{
    char *p = path_of(f, file);
    FILE *in = fopen(p, "rb");
    sqlite3_free(p);
    *len_out = 0;
    if (!in) return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    int c;
    while ((c = fgetc(in)) != EOF) fputc(c, m);
    fclose(in);
    fclose(m);
    *len_out = len;
    return buf;
}

static bool exists(const struct fixture *f, const char *file)
{
    char *p = path_of(f, file);
    struct stat sb;
    bool yes = stat(p, &sb) == 0;
    sqlite3_free(p);
    return yes;
}

/* ---- version-1 databases with one row in every table ---- */

/* One row in every service table (outbox, relay_position, inbox; sqlite_sequence follows). */
#define SERVICE_ROWS                                                                       \
    "INSERT INTO outbox(event_id, event_type, aggregate_type, aggregate_id, route_key,"    \
    " trace_id, created_at_ns, payload) VALUES('e1', 'T', 'withdrawal', 'w1', 'cmd.x',"   \
    " 't1', 1, x'00ff');"                                                                  \
    "UPDATE relay_position SET last_seq = 1;"                                              \
    "INSERT INTO inbox VALUES('k1', 'e0', 'T', 'cbsaga.x', 0, 7, 'APPLIED', 't1', 2);"

static const char broker_rows[] =
    "INSERT INTO records VALUES('cbsaga.cmd.risk', 1, 0, 'w1', x'0001', 0);"
    "INSERT INTO group_offsets VALUES('g', 'cbsaga.cmd.risk', 1, 1);";

/* Two sagas, one open and one done, so the orchestrator's partial index has both kinds. */
static const char orch_rows[] =
    SERVICE_ROWS
    "INSERT INTO idempotency VALUES('u1', 'key', x'01', 'COMPLETED', 'w1', 'o1', 1, 5, 6);"
    "INSERT INTO withdrawals VALUES('w1', 'u1', 'BTC', 100, 'addr', 'key', 'IN_PROGRESS',"
    " '', 't1', 3, 4);"
    "INSERT INTO sagas(withdrawal_id, state, current_step, deadline_ns)"
    " VALUES('w1', 'IN_PROGRESS', 'RISK_CHECK', 99);"
    "INSERT INTO sagas(withdrawal_id, state, current_step, deadline_ns)"
    " VALUES('w2', 'COMPLETED', 'DONE', 98);"
    "INSERT INTO transitions VALUES('w1', 1, '', 'REQUESTED', 'e1', 3);";

static const char decider_rows[] =
    SERVICE_ROWS "INSERT INTO decisions VALUES('w1', 'VERIFIED', '', 'e1', 't1', 5);";

static const char ledger_rows[] =
    SERVICE_ROWS
    "INSERT INTO accounts VALUES('u1', 'BTC', 1000, 900, 100, 0);"
    "INSERT INTO holds VALUES('w1', 'u1', 'BTC', 100, 'PLACED', 't1', 5);"
    "INSERT INTO journal(withdrawal_id, kind, user_id, asset, amount_minor, cause_event_id,"
    " at_ns) VALUES('w1', 'PLACE', 'u1', 'BTC', 100, 'e0', 5);";

static const char payout_rows[] =
    SERVICE_ROWS
    "INSERT INTO payouts VALUES('w1', 'w1', 'SUCCEEDED', '', 100, 1, 5);"
    "INSERT INTO effects(withdrawal_id, amount_minor, cause_event_id, at_ns)"
    " VALUES('w1', 100, 'e0', 5);";

static const char *rows_of(const struct sg_schema *s)
{
    if (s == &sg_schema_broker) return broker_rows;
    if (s == &sg_schema_orch) return orch_rows;
    if (s == &sg_schema_ledger) return ledger_rows;
    if (s == &sg_schema_payout) return payout_rows;
    return decider_rows;
}

/* Makes s->db_name at version `version` (0: no user_version, as the first releases). */
static void make_v1(const struct fixture *f, const struct sg_schema *s, uint32_t version)
{
    raw_exec(f, s->db_name, s->steps[0]);
    raw_exec(f, s->db_name, rows_of(s));
    char *set = sqlite3_mprintf("PRAGMA user_version = %u", version);
    raw_exec(f, s->db_name, set);
    sqlite3_free(set);
}

static enum sg_err open_close(struct fixture *f, const struct sg_schema *s)
{
    struct sg_db *db = NULL;
    enum sg_err err = sg_db_open(&f->env, s, SG_DB_DURABLE, &db);
    if (err == SG_OK) assert_non_null(db);
    else assert_null(db);
    sg_db_close(&db);
    return err;
}

/* What live mode does to explain a refusal: a read-only look at the version. */
static enum sg_err probe(struct fixture *f, const struct sg_schema *s, uint32_t *found_out)
{
    struct sg_db *db = NULL;
    assert_int_equal(sg_db_open_readonly(&f->env, s->db_name, &db), SG_OK);
    enum sg_err err = sg_migrate_check(&f->env, db, s, found_out);
    sg_db_close(&db);
    return err;
}

static int64_t index_count(const struct fixture *f, const char *db, const char *name)
{
    char *sql = sqlite3_mprintf("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index'"
                                " AND name = %Q", name);
    int64_t n = raw_int(f, db, sql);
    sqlite3_free(sql);
    return n;
}

/* The outbox after service_outbox_v2: no AUTOINCREMENT and no index (so no UNIQUE on
 * event_id), and the next row continues after the highest seq the old table had. */
static void outbox_is_rebuilt(const struct fixture *f, const char *db)
{
    assert_int_equal(raw_int(f, db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index'"
                                    " AND tbl_name = 'outbox'"), 0);
    assert_int_equal(raw_int(f, db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'outbox'"
                                    " AND sql LIKE '%AUTOINCREMENT%'"), 0);
    assert_int_equal(raw_int(f, db, "SELECT COUNT(*) FROM sqlite_sequence"
                                    " WHERE name = 'outbox'"), 0);
    int64_t top = raw_int(f, db, "SELECT MAX(seq) FROM outbox");
    raw_exec(f, db, "INSERT INTO outbox(event_id, event_type, aggregate_type, aggregate_id,"
                    " route_key, trace_id, created_at_ns, payload)"
                    " VALUES('e-next', 't', 'withdrawal', 'w', 'evt.withdrawal', 't', 0, x'')");
    assert_int_equal(raw_int(f, db, "SELECT seq FROM outbox WHERE event_id = 'e-next'"),
                     top + 1);
}

/* ---- tests ---- */

static void migrate__version1_db_of_every_kind__upgrades_and_keeps_every_row(void **state)
{
    struct fixture *f = *state;
    assert_true(sg_schema_orch.version >= 2); /* so this test crosses a real step */
    for (size_t k = 0; k < KIND_COUNT; k++) {
        const struct sg_schema *s = kinds[k];
        make_v1(f, s, 1);
        char *before = dump(f, s->db_name, true);
        assert_int_equal(open_close(f, s), SG_OK);
        assert_int_equal(raw_int(f, s->db_name, "PRAGMA user_version"), s->version);
        char *after = dump(f, s->db_name, false);
        assert_string_equal(before, after);
        /* Opening again (now current) changes nothing. */
        assert_int_equal(open_close(f, s), SG_OK);
        char *again = dump(f, s->db_name, false);
        assert_string_equal(before, again);
        free(before);
        free(after);
        free(again);
    }
    assert_int_equal(index_count(f, "orch.db", "sagas_open"), 1);
    for (size_t k = 0; k < KIND_COUNT; k++)
        if (kinds[k] != &sg_schema_broker) outbox_is_rebuilt(f, kinds[k]->db_name);
    /* v3: every saga of an older build compensates nothing. */
    assert_int_equal(raw_int(f, "orch.db", "SELECT COUNT(*) FROM sagas WHERE compensation = ''"),
                     2);
}

static void migrate__orch_v2__index_serves_the_recovery_query(void **state)
{
    struct fixture *f = *state;
    make_v1(f, &sg_schema_orch, 1);
    assert_int_equal(open_close(f, &sg_schema_orch), SG_OK);
    sqlite3 *h = raw_open(f, "orch.db", SQLITE_OPEN_READONLY);
    sqlite3_stmt *st = NULL;
    /* The text of orch.c: rearm_deadlines. */
    assert_int_equal(sqlite3_prepare_v2(h, "EXPLAIN QUERY PLAN SELECT id, deadline_ns FROM sagas"
                                           " WHERE current_step <> 'DONE' ORDER BY id",
                                        -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_non_null(strstr((const char *)sqlite3_column_text(st, 3), "sagas_open"));
    sqlite3_finalize(st);
    sqlite3_close(h);
    assert_int_equal(raw_int(f, "orch.db", "SELECT COUNT(*) FROM sagas INDEXED BY sagas_open"
                                           " WHERE current_step <> 'DONE'"), 1);
}

static void migrate__unversioned_db_of_first_release__is_adopted(void **state)
{
    struct fixture *f = *state;
    make_v1(f, &sg_schema_orch, 0);
    char *before = dump(f, "orch.db", true);
    assert_int_equal(open_close(f, &sg_schema_orch), SG_OK);
    assert_int_equal(raw_int(f, "orch.db", "PRAGMA user_version"), sg_schema_orch.version);
    char *after = dump(f, "orch.db", false);
    assert_string_equal(before, after);
    char *want = sqlite3_mprintf("db_migrated orch.db from=0 to=%u", sg_schema_orch.version);
    assert_string_equal(f->last_trace, want);
    sqlite3_free(want);
    free(before);
    free(after);
}

/* A newer database, in the rollback-journal mode the sqlite3 shell leaves it in. */
static void migrate__newer_db_of_every_kind__is_refused_and_left_untouched(void **state)
{
    struct fixture *f = *state;
    for (size_t k = 0; k < KIND_COUNT; k++) {
        const struct sg_schema *s = kinds[k];
        make_v1(f, s, s->version + 1);
        size_t n_before = 0, n_after = 0;
        char *before = file_bytes(f, s->db_name, &n_before);
        assert_int_equal(open_close(f, s), SG_ERR_SCHEMA);
        char *want = sqlite3_mprintf("db_schema_newer %s have=%u know=%u", s->db_name,
                                     s->version + 1, s->version);
        assert_string_equal(f->last_trace, want);
        sqlite3_free(want);
        uint32_t found = 0; /* the probe writes nothing either */
        assert_int_equal(probe(f, s, &found), SG_ERR_SCHEMA);
        assert_int_equal(found, s->version + 1);
        char *after = file_bytes(f, s->db_name, &n_after);
        assert_non_null(before);
        assert_non_null(after);
        assert_int_equal(n_before, n_after);
        assert_memory_equal(before, after, n_before);
        free(before);
        free(after);
    }
}

/* A newer database in WAL mode whose last commits are still in the WAL (a newer node that
 * crashed): the refusal neither checkpoints nor deletes the WAL. */
static void migrate__newer_wal_db__is_refused_and_not_checkpointed(void **state)
{
    struct fixture *f = *state;
    const struct sg_schema *s = &sg_schema_orch;
    sqlite3 *h = raw_open(f, s->db_name, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    raw_exec_on(h, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;");
    raw_exec_on(h, s->steps[0]);
    raw_exec_on(h, orch_rows);
    char *set = sqlite3_mprintf("PRAGMA user_version = %u", s->version + 1);
    raw_exec_on(h, set);
    sqlite3_free(set);
    assert_int_equal(sqlite3_db_config(h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL), SQLITE_OK);
    sqlite3_close(h);
    size_t n_db = 0, n_wal = 0, n_db2 = 0, n_wal2 = 0;
    char *db_before = file_bytes(f, "orch.db", &n_db);
    char *wal_before = file_bytes(f, "orch.db-wal", &n_wal);
    assert_non_null(wal_before);
    assert_true(n_wal > 0);
    assert_int_equal(open_close(f, s), SG_ERR_SCHEMA);
    uint32_t found = 0;
    assert_int_equal(probe(f, s, &found), SG_ERR_SCHEMA);
    assert_int_equal(found, s->version + 1); /* read through the WAL */
    char *db_after = file_bytes(f, "orch.db", &n_db2);
    char *wal_after = file_bytes(f, "orch.db-wal", &n_wal2);
    assert_non_null(wal_after);
    assert_int_equal(n_db, n_db2);
    assert_memory_equal(db_before, db_after, n_db);
    assert_int_equal(n_wal, n_wal2);
    assert_memory_equal(wal_before, wal_after, n_wal);
    free(db_before);
    free(db_after);
    free(wal_before);
    free(wal_after);
}

static void migrate__fresh_db_of_every_kind__comes_out_at_the_current_version(void **state)
{
    struct fixture *f = *state;
    for (size_t k = 0; k < KIND_COUNT; k++) {
        assert_false(exists(f, kinds[k]->db_name));
        assert_int_equal(open_close(f, kinds[k]), SG_OK);
        assert_int_equal(raw_int(f, kinds[k]->db_name, "PRAGMA user_version"),
                         kinds[k]->version);
        uint32_t found = 0;
        assert_int_equal(probe(f, kinds[k], &found), SG_OK);
        assert_int_equal(found, kinds[k]->version);
    }
}

/* Every object's definition (quotes dropped: a renamed table's SQL quotes its name) and
 * every table's columns, in a canonical text form (caller frees). sqlite_sequence is left
 * out: it exists wherever AUTOINCREMENT ever did, and the steps' version 1 had it. */
static char *schema_text(const struct fixture *f, const char *db)
{
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);
    assert_non_null(m);
    sqlite3 *h = raw_open(f, db, SQLITE_OPEN_READONLY);
    sqlite3_stmt *objs = NULL;
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT type, name, tbl_name,"
                                           " replace(ifnull(sql, ''), '\"', '') FROM sqlite_master"
                                           " WHERE name <> 'sqlite_sequence' ORDER BY type, name",
                                        -1, &objs, NULL), SQLITE_OK);
    while (sqlite3_step(objs) == SQLITE_ROW) {
        for (int c = 0; c < 4; c++) fprintf(m, "%s|", (const char *)sqlite3_column_text(objs, c));
        fputc('\n', m);
        if (strcmp((const char *)sqlite3_column_text(objs, 0), "table") != 0) continue;
        char *q = sqlite3_mprintf("PRAGMA table_xinfo(%Q)", sqlite3_column_text(objs, 1));
        sqlite3_stmt *cols = NULL;
        assert_int_equal(sqlite3_prepare_v2(h, q, -1, &cols, NULL), SQLITE_OK);
        while (sqlite3_step(cols) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(cols); c++)
                fprintf(m, " %s", sqlite3_column_type(cols, c) == SQLITE_NULL
                                      ? "NULL" : (const char *)sqlite3_column_text(cols, c));
            fputc('\n', m);
        }
        sqlite3_finalize(cols);
        sqlite3_free(q);
    }
    sqlite3_finalize(objs);
    sqlite3_close(h);
    fclose(m);
    return out;
}

/* A new database gets the current schema in one script (migrate.h); it must be exactly
 * what the steps make from nothing: the same tables, columns, constraints, indexes and
 * rows, for every kind. The orchestrator's file also shows which path made it: only the
 * steps ever had an AUTOINCREMENT outbox, so only they leave sqlite_sequence behind. */
static void migrate__new_db_script__equals_the_steps_from_nothing(void **state)
{
    struct fixture *f = *state;
    for (size_t k = 0; k < KIND_COUNT; k++) {
        assert_non_null(kinds[k]->now);
        assert_int_equal(open_close(f, kinds[k]), SG_OK);
        char *steps_name = sqlite3_mprintf("steps-%s", kinds[k]->db_name);
        struct sg_schema by_steps = *kinds[k];
        by_steps.db_name = steps_name;
        by_steps.now = NULL;
        assert_int_equal(open_close(f, &by_steps), SG_OK);
        assert_int_equal(raw_int(f, steps_name, "PRAGMA user_version"), kinds[k]->version);
        char *a = schema_text(f, kinds[k]->db_name), *b = schema_text(f, steps_name);
        assert_string_equal(a, b);
        char *ra = dump(f, kinds[k]->db_name, false), *rb = dump(f, steps_name, false);
        assert_string_equal(ra, rb);
        free(a);
        free(b);
        free(ra);
        free(rb);
        sqlite3_free(steps_name);
    }
    const char *seq = "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_sequence'";
    assert_int_equal(raw_int(f, "orch.db", seq), 0);
    assert_int_equal(raw_int(f, "steps-orch.db", seq), 1);
}

/* Steps 1 and 2 go in as one transaction with the version: a failure in step 2 leaves
 * neither step's table nor a new user_version behind. */
static void migrate__failing_step__rolls_back_every_step_and_the_version(void **state)
{
    struct fixture *f = *state;
    static const char *const steps[] = {
        "CREATE TABLE IF NOT EXISTS a(x INTEGER NOT NULL);",
        "CREATE TABLE IF NOT EXISTS b(y INTEGER NOT NULL); INSERT INTO no_such_table VALUES(1);",
    };
    const struct sg_schema s = {"t.db", steps, 2, NULL};
    assert_int_equal(open_close(f, &s), SG_ERR_IO);
    assert_int_equal(raw_int(f, "t.db", "PRAGMA user_version"), 0);
    assert_int_equal(raw_int(f, "t.db", "SELECT COUNT(*) FROM sqlite_master"), 0);
    /* Without the failing statement it goes through. */
    const char *const fixed[] = {steps[0], "CREATE TABLE IF NOT EXISTS b(y);"};
    const struct sg_schema s2 = {"t.db", fixed, 2, NULL};
    assert_int_equal(open_close(f, &s2), SG_OK);
    assert_int_equal(raw_int(f, "t.db", "PRAGMA user_version"), 2);
    assert_int_equal(raw_int(f, "t.db", "SELECT COUNT(*) FROM sqlite_master"), 2);
}

/* Longer than the 256-byte buffer sg_db_open once had; SQLite's unix VFS itself takes paths
 * up to 512 bytes (live mode refuses longer data directories with a clear error). */
static void migrate__long_data_dir__opens(void **state)
{
    struct fixture *f = *state;
    char *dir = malloc(4096);
    assert_non_null(dir);
    int n = snprintf(dir, 4096, "%s/", f->dir);
    while (n < 400) n += snprintf(dir + n, 4096 - (size_t)n, "a-long-directory-name-%d/", n);
    char *cmd = sqlite3_mprintf("mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    sqlite3_free(cmd);
    const char *saved = f->env.data_dir;
    f->env.data_dir = dir;
    assert_int_equal(open_close(f, &sg_schema_orch), SG_OK);
    f->env.data_dir = saved;
    free(dir);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(migrate__version1_db_of_every_kind__upgrades_and_keeps_every_row),
        T(migrate__orch_v2__index_serves_the_recovery_query),
        T(migrate__unversioned_db_of_first_release__is_adopted),
        T(migrate__newer_db_of_every_kind__is_refused_and_left_untouched),
        T(migrate__newer_wal_db__is_refused_and_not_checkpointed),
        T(migrate__fresh_db_of_every_kind__comes_out_at_the_current_version),
        T(migrate__new_db_script__equals_the_steps_from_nothing),
        T(migrate__failing_step__rolls_back_every_step_and_the_version),
        T(migrate__long_data_dir__opens),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
