/*
 * check_load.c: reading the four databases into the checker's arrays (check_int.h).
 *
 * Each database is opened read-write (a WAL database needs it) with the caller's VFS,
 * then `PRAGMA locking_mode=EXCLUSIVE; PRAGMA query_only=1;` so nothing can be written,
 * and read with SELECTs only, each table in its primary-key (or commit) order. Any open,
 * prepare or step failure is a load failure: the report names the database and SQLite's
 * message, and no invariant is judged on partial data.
 *
 * Broker record values are decoded here (sg_event_decode); a value that does not decode
 * or carries no event_id counts as undecodable, as the consumers treat it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "check_int.h"

enum { CHUNK_BYTES = 64 * 1024 };

struct ck_chunk {
    struct ck_chunk *next;
    size_t used, cap;
    char data[];
};

/* Copies n bytes of s plus a NUL into the arena; "" (and oom set) when memory runs out. */
static const char *arena_strndup(struct ck_arena *a, const char *s, size_t n)
{
    struct ck_chunk *c = a->head;
    if (!c || c->cap - c->used < n + 1) {
        size_t cap = n + 1 > CHUNK_BYTES ? n + 1 : CHUNK_BYTES;
        c = malloc(sizeof *c + cap);
        if (!c) {
            a->oom = true;
            return "";
        }
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    char *p = c->data + c->used;
    memcpy(p, s, n);
    p[n] = '\0';
    c->used += n + 1;
    return p;
}

static const char *arena_str(struct ck_arena *a, const char *s)
{
    return arena_strndup(a, s ? s : "", s ? strlen(s) : 0);
}

const char *ck_col_text(struct ck_arena *a, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    int n = sqlite3_column_bytes(st, col);
    if (!t || n <= 0) return arena_strndup(a, "", 0);
    return arena_strndup(a, (const char *)t, (size_t)n);
}

void ck_world_init(struct ck_world *w)
{
    memset(w, 0, sizeof *w);
}

static void indexes_free(struct ck_world *w)
{
    ck_index_free(&w->wd_by_id);
    ck_index_free(&w->wd_by_userkey);
    ck_index_free(&w->idem_by_userkey);
    ck_index_free(&w->saga_by_wid);
    ck_index_free(&w->tr_by_wid);
    for (int s = 0; s < CK_SVC_COUNT; s++) {
        ck_index_free(&w->dec_by_wid[s]);
        ck_index_free(&w->inbox_by_key[s]);
    }
    ck_index_free(&w->ev_by_id);
    ck_index_free(&w->rec_by_id);
    ck_index_free(&w->rec_by_keytopic);
    ck_index_free(&w->evtw_by_wid);
    ck_index_free(&w->hc_by_userkey);
}

void ck_world_deinit(struct ck_world *w)
{
    indexes_free(w);
    free(w->wd);
    free(w->idem);
    free(w->saga);
    free(w->tr);
    for (int s = 0; s < CK_SVC_COUNT; s++) {
        free(w->svc[s].outbox);
        free(w->svc[s].inbox);
        free(w->svc[s].dec);
    }
    free(w->rec);
    free(w->goff);
    free(w->hc);
    ck_money_free(&w->money);
    struct ck_chunk *c = w->arena.head;
    while (c) {
        struct ck_chunk *next = c->next;
        free(c);
        c = next;
    }
    memset(w, 0, sizeof *w);
}

const char *ck_svc_name(enum ck_svc s)
{
    static const char *const names[CK_SVC_COUNT] = {"orch", "identity", "risk", "ledger",
                                                    "payout"};
    return s < CK_SVC_COUNT ? names[s] : "?";
}

/* ---- row fillers: one per table, columns in the order of its SELECT ---- */


static void fill_wd(struct ck_arena *a, sqlite3_stmt *st, void *row)
{
    struct ck_wd *r = row;
    r->id = ck_col_text(a, st, 0);
    r->user_id = ck_col_text(a, st, 1);
    r->asset = ck_col_text(a, st, 2);
    r->amount = sqlite3_column_int64(st, 3);
    r->dest = ck_col_text(a, st, 4);
    r->key = ck_col_text(a, st, 5);
    r->status_text = ck_col_text(a, st, 6);
    r->reason = ck_col_text(a, st, 7);
    r->trace_id = ck_col_text(a, st, 8);
    r->status = sg_status_parse(r->status_text);
}

static void fill_idem(struct ck_arena *a, sqlite3_stmt *st, void *row)
{
    struct ck_idem *r = row;
    r->user_id = ck_col_text(a, st, 0);
    r->key = ck_col_text(a, st, 1);
    const void *h = sqlite3_column_blob(st, 2);
    int n = sqlite3_column_bytes(st, 2);
    r->hash_len = n > 0 ? (size_t)n : 0;
    if (h) memcpy(r->hash, h, r->hash_len < SG_HASH_LEN ? r->hash_len : SG_HASH_LEN);
    r->status = ck_col_text(a, st, 3);
    r->wid = ck_col_text(a, st, 4);
}

static void fill_saga(struct ck_arena *a, sqlite3_stmt *st, void *row)
{
    struct ck_saga *r = row;
    r->wid = ck_col_text(a, st, 0);
    r->state = ck_col_text(a, st, 1);
    r->step = ck_col_text(a, st, 2);
}

static void fill_trans(struct ck_arena *a, sqlite3_stmt *st, void *row)
{
    struct ck_trans *r = row;
    r->wid = ck_col_text(a, st, 0);
    r->seq = sqlite3_column_int64(st, 1);
    r->from = ck_col_text(a, st, 2);
    r->to = ck_col_text(a, st, 3);
    r->cause = ck_col_text(a, st, 4);
}

static void fill_outbox(struct ck_arena *a, sqlite3_stmt *st, void *row)
{
    struct ck_outbox *r = row;
    r->seq = sqlite3_column_int64(st, 0);
    r->event_id = ck_col_text(a, st, 1);
    r->event_type = ck_col_text(a, st, 2);
    r->aggregate_id = ck_col_text(a, st, 3);
    r->route_key = ck_col_text(a, st, 4);
    r->trace_id = ck_col_text(a, st, 5);
}

static void fill_inbox(struct ck_arena *a, sqlite3_stmt *st, void *row)
{
    struct ck_inbox *r = row;
    r->key = ck_col_text(a, st, 0);
    r->event_id = ck_col_text(a, st, 1);
    r->event_type = ck_col_text(a, st, 2);
    r->topic = ck_col_text(a, st, 3);
    r->partition = sqlite3_column_int64(st, 4);
    r->offset = sqlite3_column_int64(st, 5);
    r->result = ck_col_text(a, st, 6);
    r->trace_id = ck_col_text(a, st, 7);
}

static void fill_decision(struct ck_arena *a, sqlite3_stmt *st, void *row)
{
    struct ck_decision *r = row;
    r->wid = ck_col_text(a, st, 0);
    r->decision = ck_col_text(a, st, 1);
    r->reason = ck_col_text(a, st, 2);
    r->cause = ck_col_text(a, st, 3);
    r->trace_id = ck_col_text(a, st, 4);
}

static void record_decode(struct ck_arena *a, struct ck_record *r, const void *v, size_t n)
{
    static const uint8_t empty[1] = {0};
    SgEvent *ev = sg_event_decode(v ? v : empty, v ? n : 0);
    r->decoded = ev && ev->event_id && ev->event_id[0] != '\0';
    r->type = r->decoded ? sg_event_type_of(ev) : SG_EVT_COUNT;
    r->event_id = arena_str(a, r->decoded ? ev->event_id : "");
    r->event_type = arena_str(a, r->decoded ? ev->event_type : "");
    r->aggregate_id = arena_str(a, r->decoded ? ev->aggregate_id : "");
    r->wid = arena_str(a, r->decoded ? sg_event_withdrawal_id(ev) : "");
    r->trace_id = arena_str(a, r->decoded ? ev->trace_id : "");
    sg_event_free(ev);
}

static void fill_record(struct ck_arena *a, sqlite3_stmt *st, void *row)
{
    struct ck_record *r = row;
    r->topic = ck_col_text(a, st, 0);
    r->partition = sqlite3_column_int64(st, 1);
    r->offset = sqlite3_column_int64(st, 2);
    r->key = ck_col_text(a, st, 3);
    const void *v = sqlite3_column_blob(st, 4);
    int n = sqlite3_column_bytes(st, 4);
    r->injected = sqlite3_column_int64(st, 5) != 0;
    record_decode(a, r, v, n > 0 ? (size_t)n : 0);
}

static void fill_goff(struct ck_arena *a, sqlite3_stmt *st, void *row)
{
    struct ck_goff *r = row;
    r->grp = ck_col_text(a, st, 0);
    r->topic = ck_col_text(a, st, 1);
    r->partition = sqlite3_column_int64(st, 2);
    r->offset = sqlite3_column_int64(st, 3);
}

/* ---- generic loading ---- */

bool ck_load(struct ck_db *d, const char *sql, size_t elem, ck_fill_fn fill, void **rows_out,
             size_t *n_out)
{
    sqlite3_stmt *st = NULL;
    char *rows = NULL;
    size_t n = 0, cap = 0;
    int rc = sqlite3_prepare_v2(d->db, sql, -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char *p = realloc(rows, ncap * elem);
            if (!p) {
                rc = SQLITE_NOMEM;
                break;
            }
            rows = p;
            cap = ncap;
        }
        memset(rows + n * elem, 0, elem);
        fill(d->arena, st, rows + n * elem);
        n++;
        rc = SQLITE_OK;
    }
    bool ok = rc == SQLITE_DONE && !d->arena->oom;
    if (!ok)
        snprintf(d->err, d->err_cap, "%s: cannot read (%s): %s", d->label, sql,
                 d->arena->oom || rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(d->db));
    sqlite3_finalize(st);
    *rows_out = rows;
    *n_out = n;
    return ok;
}

static bool db_open(struct ck_db *d, const char *path, const char *vfs)
{
    d->db = NULL;
    if (!path) {
        snprintf(d->err, d->err_cap, "%s: no path given", d->label);
        return false;
    }
    /* NOMUTEX: one thread uses the connection; the mutex around every sqlite3_column_*
     * call was 9% of the checker. */
    int rc = sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, vfs);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(d->db, "PRAGMA locking_mode=EXCLUSIVE; PRAGMA query_only=1;", NULL,
                          NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(d->err, d->err_cap, "%s: cannot open %s: %s", d->label, path,
                 d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(rc));
        sqlite3_close(d->db);
        d->db = NULL;
        return false;
    }
    return true;
}

static bool load_service(struct ck_db *d, struct ck_service *s, bool decisions)
{
    void *p = NULL;
    bool ok = ck_load(d, "SELECT seq, event_id, event_type, aggregate_id, route_key, trace_id"
                      " FROM outbox ORDER BY seq", sizeof *s->outbox, fill_outbox, &p,
                   &s->n_outbox);
    s->outbox = p;
    p = NULL;
    if (ok)
        ok = ck_load(d, "SELECT key, event_id, event_type, topic, partition, offset, result,"
                     " trace_id FROM inbox ORDER BY key", sizeof *s->inbox, fill_inbox, &p,
                  &s->n_inbox);
    s->inbox = p;
    p = NULL;
    if (ok && decisions)
        ok = ck_load(d, "SELECT withdrawal_id, decision, reason, cause_event_id, trace_id"
                     " FROM decisions ORDER BY withdrawal_id", sizeof *s->dec, fill_decision,
                  &p, &s->n_dec);
    s->dec = p;
    return ok;
}

static bool load_orch(struct ck_db *d, struct ck_world *w)
{
    void *p = NULL;
    bool ok = ck_load(d, "SELECT withdrawal_id, user_id, asset, amount_minor, destination_addr,"
                      " idem_key, status, failure_reason, trace_id FROM withdrawals"
                      " ORDER BY withdrawal_id", sizeof *w->wd, fill_wd, &p, &w->n_wd);
    w->wd = p;
    p = NULL;
    if (ok)
        ok = ck_load(d, "SELECT user_id, idem_key, request_hash, status, withdrawal_id"
                     " FROM idempotency ORDER BY user_id, idem_key", sizeof *w->idem,
                  fill_idem, &p, &w->n_idem);
    w->idem = p;
    p = NULL;
    if (ok)
        ok = ck_load(d, "SELECT withdrawal_id, state, current_step FROM sagas"
                     " ORDER BY withdrawal_id", sizeof *w->saga, fill_saga, &p, &w->n_saga);
    w->saga = p;
    p = NULL;
    if (ok)
        ok = ck_load(d, "SELECT withdrawal_id, seq, from_status, to_status, cause_event_id"
                     " FROM transitions ORDER BY withdrawal_id, seq", sizeof *w->tr,
                  fill_trans, &p, &w->n_tr);
    w->tr = p;
    return ok && load_service(d, &w->svc[CK_ORCH], false);
}

static bool load_broker(struct ck_db *d, struct ck_world *w)
{
    void *p = NULL;
    bool ok = ck_load(d, "SELECT topic, partition, offset, key, value, injected FROM records"
                      " ORDER BY topic, partition, offset", sizeof *w->rec, fill_record, &p,
                   &w->n_rec);
    w->rec = p;
    p = NULL;
    if (ok)
        ok = ck_load(d, "SELECT grp, topic, partition, offset FROM group_offsets"
                     " ORDER BY grp, topic, partition", sizeof *w->goff, fill_goff, &p,
                  &w->n_goff);
    w->goff = p;
    return ok;
}

bool ck_world_load(struct ck_world *w, const struct sg_check_input *in, char *err,
                   size_t err_cap)
{
    static const char *const labels[6] = {"orch.db",   "identity.db", "risk.db",
                                          "broker.db", "ledger.db",   "payout.db"};
    const char *paths[6] = {in->orch_db,   in->identity_db, in->risk_db,
                            in->broker_db, in->ledger_db,   in->payout_db};
    w->money.judged = in->ledger_db || in->payout_db;
    bool ok = true;
    for (int i = 0; ok && i < 6; i++) {
        if (i >= 4 && !w->money.judged) break;
        struct ck_db d = {NULL, labels[i], err, err_cap, &w->arena};
        ok = db_open(&d, paths[i], in->vfs_name);
        if (ok && i == 0) ok = load_orch(&d, w);
        if (ok && (i == 1 || i == 2)) ok = load_service(&d, &w->svc[i], true);
        if (ok && i == 3) ok = load_broker(&d, w);
        if (ok && i == 4) ok = load_service(&d, &w->svc[CK_LEDGER], false) &&
                               ck_money_load_ledger(&d, &w->money);
        if (ok && i == 5) ok = load_service(&d, &w->svc[CK_PAYOUT], false) &&
                               ck_money_load_payout(&d, &w->money);
        sqlite3_close(d.db);
    }
    return ok;
}
