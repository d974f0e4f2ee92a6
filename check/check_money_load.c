/*
 * check_money_load.c: reading the money half (ledger.db, payout.db) for I11-I14.
 *
 * Sums are taken by SQLite (GROUP BY) so that the checker's cost stays linear in the
 * rows; every array is in its query's ORDER BY (BINARY collation: byte order, the order
 * ck_money_find's strcmp expects).
 */
#include <stdlib.h>
#include <string.h>

#include "check_int.h"

static void fill_account(struct ck_arena *a, sqlite3_stmt *st, void *row)
{
    struct ck_account *r = row;
    r->user_id = ck_col_text(a, st, 0);
    r->asset = ck_col_text(a, st, 1);
    r->opening = sqlite3_column_int64(st, 2);
    r->available = sqlite3_column_int64(st, 3);
    r->held = sqlite3_column_int64(st, 4);
    r->paid_out = sqlite3_column_int64(st, 5);
    r->holds_placed = sqlite3_column_int64(st, 6);
    r->holds_settled = sqlite3_column_int64(st, 7);
}

static void fill_hold(struct ck_arena *a, sqlite3_stmt *st, void *row)
{
    struct ck_hold *r = row;
    r->wid = ck_col_text(a, st, 0);
    r->user_id = ck_col_text(a, st, 1);
    r->asset = ck_col_text(a, st, 2);
    r->state = ck_col_text(a, st, 3);
    r->amount = sqlite3_column_int64(st, 4);
}

static void fill_entry(struct ck_arena *a, sqlite3_stmt *st, void *row)
{
    struct ck_entry *r = row;
    r->wid = ck_col_text(a, st, 0);
    r->kind = ck_col_text(a, st, 1);
    r->amount = sqlite3_column_int64(st, 2);
    r->seq = sqlite3_column_int64(st, 3);
}

static void fill_paid(struct ck_arena *a, sqlite3_stmt *st, void *row)
{
    struct ck_paid *r = row;
    r->wid = ck_col_text(a, st, 0);
    r->outcome = ck_col_text(a, st, 1);
    r->effects = sqlite3_column_int64(st, 2);
    r->amount = sqlite3_column_int64(st, 3);
}

bool ck_money_load_ledger(struct ck_db *d, struct ck_money *m)
{
    void *p = NULL;
    bool ok = ck_load(d,
        "SELECT a.user_id, a.asset, a.opening, a.available, a.held, a.paid_out,"
        " COALESCE(s.placed, 0), COALESCE(s.settled, 0) FROM accounts a LEFT JOIN"
        " (SELECT user_id, asset,"
        "  SUM(CASE WHEN state = 'PLACED' THEN amount_minor ELSE 0 END) AS placed,"
        "  SUM(CASE WHEN state = 'SETTLED' THEN amount_minor ELSE 0 END) AS settled"
        "  FROM holds GROUP BY user_id, asset) s ON s.user_id = a.user_id AND s.asset = a.asset"
        " ORDER BY a.user_id, a.asset", sizeof *m->acc, fill_account, &p, &m->n_acc);
    m->acc = p;
    p = NULL;
    if (ok)
        ok = ck_load(d, "SELECT withdrawal_id, user_id, asset, state, amount_minor FROM holds"
                        " ORDER BY withdrawal_id", sizeof *m->hold, fill_hold, &p, &m->n_hold);
    m->hold = p;
    p = NULL;
    if (ok)
        ok = ck_load(d, "SELECT withdrawal_id, kind, amount_minor, seq FROM journal"
                        " ORDER BY withdrawal_id, seq", sizeof *m->entry, fill_entry, &p,
                     &m->n_entry);
    m->entry = p;
    return ok;
}

bool ck_money_load_payout(struct ck_db *d, struct ck_money *m)
{
    void *p = NULL;
    bool ok = ck_load(d,
        "SELECT wid, MAX(outcome), SUM(n), SUM(amount) FROM"
        " (SELECT withdrawal_id AS wid, outcome, 0 AS n, 0 AS amount FROM payouts UNION ALL"
        "  SELECT withdrawal_id, '', 1, amount_minor FROM effects) GROUP BY wid ORDER BY wid",
        sizeof *m->paid, fill_paid, &p, &m->n_paid);
    m->paid = p;
    return ok;
}

void ck_money_free(struct ck_money *m)
{
    free(m->acc);
    free(m->hold);
    free(m->entry);
    free(m->paid);
    memset(m, 0, sizeof *m);
}

const void *ck_money_find(const void *rows, size_t n, size_t elem, const char *wid)
{
    size_t lo = 0, hi = n;
    const char *base = rows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *id = *(const char *const *)(base + mid * elem);
        int c = strcmp(id, wid);
        if (c == 0) return base + mid * elem;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}
