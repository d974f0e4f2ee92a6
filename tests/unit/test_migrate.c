/*
 * test_migrate.c: unit tests for core/migrate.c, the numbered schema migrations
 * (DESIGN §7 "Schema"; migrate.h), on real files and SQLite's default VFS: the path live
 * mode takes (the simulator takes the same one on its own VFS).
 *
 * Why: a node must open any database an earlier build wrote, keep every row, and refuse
 * one that a newer build wrote instead of misreading it.
 */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "db.h"
#include "decider.h"
#include "migrate.h"
#include "orch.h"
#include "outbox.h"

/* ---- a minimal real-file env: a data directory, no clock, no network ---- */

static int64_t zero_ns(void *ctx) { (void)ctx; return 0; }
static uint64_t counter(void *ctx) { return ++*(uint64_t *)ctx; }
static void no_send(void *ctx, uint32_t to, const uint8_t *b, size_t n)
{
    (void)ctx; (void)to; (void)b; (void)n;
}
static void no_timer(void *ctx, int64_t at, uint64_t tag) { (void)ctx; (void)at; (void)tag; }
static void no_trace(void *ctx, const char *r) { (void)ctx; (void)r; }
static bool no_fault(void *ctx, const char *p) { (void)ctx; (void)p; return false; }
__attribute__((noreturn)) static void die(void *ctx, const char *f, int l, const char *e)
{
    (void)ctx;
    fail_msg("assertion %s:%d: %s", f, l, e);
    abort();
}

struct fixture {
    char dir[64];
    uint64_t rnd;
    struct sg_env env;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sg-migrate-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->env = (struct sg_env){.ctx = &f->rnd, .node_id = 1, .vfs_name = NULL, .data_dir = f->dir,
                             .now_wall_ns = zero_ns, .now_mono_ns = zero_ns,
                             .random_u64 = counter, .send = no_send, .timer_at = no_timer,
                             .trace = no_trace, .fault_point = no_fault, .panic = die};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    const char *files[] = {"orch.db", "orch.db-wal", "orch.db-shm", "broker.db",
                           "broker.db-wal", "broker.db-shm", "identity.db", "identity.db-wal",
                           "identity.db-shm", "risk.db", "risk.db-wal", "risk.db-shm"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", f->dir, files[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Runs SQL on a file directly (as an earlier build, or another tool, would have). */
static void raw_exec(const struct fixture *f, const char *db, const char *sql)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", f->dir, db);
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(p, &h), SQLITE_OK);
    char *err = NULL;
    int rc = sqlite3_exec(h, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) fail_msg("%s: %s", sql, err ? err : "?");
    sqlite3_close(h);
}

static int64_t raw_int(const struct fixture *f, const char *db, const char *sql)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", f->dir, db);
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(p, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/* One row in every table of a service database (outbox, relay_position, inbox). */
#define SERVICE_ROWS                                                                       \
    "INSERT INTO outbox(event_id, event_type, aggregate_type, aggregate_id, route_key,"    \
    " trace_id, created_at_ns, payload) VALUES('e1', 'T', 'withdrawal', 'w1', 'cmd.x',"   \
    " 't1', 1, x'00');"                                                                    \
    "UPDATE relay_position SET last_seq = 1;"                                              \
    "INSERT INTO inbox VALUES('k1', 'e0', 'T', 'cbsaga.x', 0, 7, 'APPLIED', 't1', 2);"

static const char orch_rows[] =
    SERVICE_ROWS
    "INSERT INTO idempotency VALUES('u1', 'key', x'01', 'COMPLETED', 'w1', 'o1', 1, 5, 6);"
    "INSERT INTO withdrawals VALUES('w1', 'u1', 'BTC', 100, 'addr', 'key', 'IN_PROGRESS',"
    " '', 't1', 3, 4);"
    "INSERT INTO sagas(withdrawal_id, state, current_step, deadline_ns)"
    " VALUES('w1', 'IN_PROGRESS', 'RISK_CHECK', 99);"
    "INSERT INTO transitions VALUES('w1', 1, '', 'REQUESTED', 'e1', 3);";

static const char *const orch_tables[] = {"outbox", "relay_position", "inbox", "idempotency",
                                          "withdrawals", "sagas", "transitions", NULL};

static void assert_rows_kept(const struct fixture *f, const char *db,
                             const char *const *tables)
{
    for (size_t i = 0; tables[i]; i++) {
        char sql[96];
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", tables[i]);
        if (raw_int(f, db, sql) != 1) fail_msg("%s.%s lost its row", db, tables[i]);
    }
}

static void open_close(struct fixture *f, const struct sg_schema *s, enum sg_err want)
{
    struct sg_db *db = NULL;
    assert_int_equal(sg_db_open(&f->env, s, SG_DB_DURABLE, &db), want);
    if (want == SG_OK) assert_non_null(db);
    else assert_null(db);
    sg_db_close(&db);
}

static void migrate__version1_orch_db__upgrades_and_keeps_every_row(void **state)
{
    struct fixture *f = *state;
    raw_exec(f, "orch.db", SG_OUTBOX_SCHEMA SG_ORCH_SCHEMA);
    raw_exec(f, "orch.db", orch_rows);
    raw_exec(f, "orch.db", "PRAGMA user_version = 1");
    open_close(f, &sg_schema_orch, SG_OK);
    assert_int_equal(raw_int(f, "orch.db", "PRAGMA user_version"), sg_schema_orch.version);
    assert_true(sg_schema_orch.version >= 2); /* so this test crosses a real step */
    assert_rows_kept(f, "orch.db", orch_tables);
    assert_int_equal(raw_int(f, "orch.db", "SELECT COUNT(*) FROM sqlite_master"
                                            " WHERE type = 'index' AND name = 'sagas_open'"), 1);
    /* Opening again changes nothing. */
    open_close(f, &sg_schema_orch, SG_OK);
    assert_rows_kept(f, "orch.db", orch_tables);
}

static void migrate__unversioned_db_of_first_release__is_adopted(void **state)
{
    struct fixture *f = *state;
    raw_exec(f, "orch.db", SG_OUTBOX_SCHEMA SG_ORCH_SCHEMA);
    raw_exec(f, "orch.db", orch_rows);
    assert_int_equal(raw_int(f, "orch.db", "PRAGMA user_version"), 0);
    open_close(f, &sg_schema_orch, SG_OK);
    assert_int_equal(raw_int(f, "orch.db", "PRAGMA user_version"), sg_schema_orch.version);
    assert_rows_kept(f, "orch.db", orch_tables);
}

static void migrate__version1_broker_and_deciders__keep_every_row(void **state)
{
    struct fixture *f = *state;
    raw_exec(f, "broker.db", SG_BROKER_SCHEMA);
    raw_exec(f, "broker.db", "INSERT INTO records VALUES('cbsaga.cmd.risk', 1, 0, 'w1', x'00', 0);"
                             "INSERT INTO group_offsets VALUES('g', 'cbsaga.cmd.risk', 1, 1);"
                             "PRAGMA user_version = 1");
    static const char *const broker_tables[] = {"records", "group_offsets", NULL};
    static const char *const decider_tables[] = {"outbox", "relay_position", "inbox",
                                                 "decisions", NULL};
    open_close(f, &sg_schema_broker, SG_OK);
    assert_rows_kept(f, "broker.db", broker_tables);
    const struct sg_schema *deciders[] = {&sg_schema_identity, &sg_schema_risk};
    for (size_t i = 0; i < 2; i++) {
        const char *db = deciders[i]->db_name;
        raw_exec(f, db, SG_OUTBOX_SCHEMA SG_DECIDER_SCHEMA);
        raw_exec(f, db, SERVICE_ROWS "INSERT INTO decisions VALUES('w1', 'VERIFIED', '', 'e1',"
                        " 't1', 5); PRAGMA user_version = 1");
        open_close(f, deciders[i], SG_OK);
        assert_int_equal(raw_int(f, db, "PRAGMA user_version"), deciders[i]->version);
        assert_rows_kept(f, db, decider_tables);
    }
}

static void migrate__newer_db__is_refused_and_left_untouched(void **state)
{
    struct fixture *f = *state;
    raw_exec(f, "orch.db", SG_OUTBOX_SCHEMA SG_ORCH_SCHEMA);
    raw_exec(f, "orch.db", orch_rows);
    char set[48];
    snprintf(set, sizeof set, "PRAGMA user_version = %u", sg_schema_orch.version + 1);
    raw_exec(f, "orch.db", set);
    open_close(f, &sg_schema_orch, SG_ERR_SCHEMA);
    assert_int_equal(raw_int(f, "orch.db", "PRAGMA user_version"), sg_schema_orch.version + 1);
    assert_int_equal(raw_int(f, "orch.db", "SELECT COUNT(*) FROM sqlite_master"
                                            " WHERE name = 'sagas_open'"), 0);
    assert_rows_kept(f, "orch.db", orch_tables);
}

static void migrate__fresh_db__comes_out_at_the_current_version(void **state)
{
    struct fixture *f = *state;
    const struct sg_schema *all[] = {&sg_schema_broker, &sg_schema_orch, &sg_schema_identity,
                                     &sg_schema_risk};
    for (size_t i = 0; i < 4; i++) {
        open_close(f, all[i], SG_OK);
        assert_int_equal(raw_int(f, all[i]->db_name, "PRAGMA user_version"), all[i]->version);
    }
}

/* Longer than the 256-byte buffer sg_db_open once had; SQLite's unix VFS itself takes paths
 * up to 512 bytes (live mode refuses longer data directories with a clear error). */
static void migrate__long_data_dir__opens(void **state)
{
    struct fixture *f = *state;
    char *dir = malloc(4096);
    int n = snprintf(dir, 4096, "%s/", f->dir);
    while (n < 400) n += snprintf(dir + n, 4096 - (size_t)n, "a-long-directory-name-%d/", n);
    char *cmd = malloc(4200);
    snprintf(cmd, 4200, "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    const char *saved = f->env.data_dir;
    f->env.data_dir = dir;
    open_close(f, &sg_schema_orch, SG_OK);
    f->env.data_dir = saved;
    snprintf(cmd, 4200, "rm -rf '%s/a-long-directory-name-'*", f->dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(migrate__version1_orch_db__upgrades_and_keeps_every_row,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(migrate__unversioned_db_of_first_release__is_adopted,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            migrate__version1_broker_and_deciders__keep_every_row, setup, teardown),
        cmocka_unit_test_setup_teardown(migrate__newer_db__is_refused_and_left_untouched,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(migrate__fresh_db__comes_out_at_the_current_version,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(migrate__long_data_dir__opens, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
