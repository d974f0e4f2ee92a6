/*
 * check_int.h: the checker's internal world model, shared by the check_*.c files.
 *
 * sg_check_run loads every table it judges into plain arrays, in the SQL ORDER BY order
 * of each table, then builds sorted key indexes over them (struct ck_index) for the
 * lookups the invariants need. Everything iterates arrays in a defined order, so the
 * violations come out identically on every run, compiler and sanitizer build; nothing
 * depends on addresses or hash order. Strings live in one arena and stay valid until
 * ck_world_deinit.
 *
 * Each invariant is one function, ck_check_i<n>, called in order I1..I14. A check counts
 * every item it examines in out->checked[inv] and reports each violation through
 * ck_violation, which keeps the first SG_VIOLATIONS_MAX and counts them all.
 */
#ifndef SG_CHECK_INT_H
#define SG_CHECK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "check.h"
#include "ids.h"
#include "status.h"
#include "wire.h"

/* The services that own an outbox and an inbox. */
enum ck_svc { CK_ORCH, CK_IDENTITY, CK_RISK, CK_LEDGER, CK_PAYOUT, CK_SVC_COUNT };

struct ck_chunk;
struct ck_arena {
    struct ck_chunk *head;
    bool oom;
};

/* One row of orch.withdrawals. */
struct ck_wd {
    const char *id, *user_id, *asset, *dest, *key, *status_text, *reason, *trace_id;
    int64_t amount;
    enum sg_status status; /* SG_STATUS_COUNT when the text names no status */
};

struct ck_idem {
    const char *user_id, *key, *status, *wid;
    uint8_t hash[SG_HASH_LEN];
    size_t hash_len;
};

struct ck_saga {
    const char *wid, *state, *step;
};

struct ck_trans {
    const char *wid, *from, *to, *cause;
    int64_t seq;
};

struct ck_outbox {
    const char *event_id, *event_type, *aggregate_id, *route_key, *trace_id;
    int64_t seq;
};

struct ck_inbox {
    const char *key, *event_id, *event_type, *topic, *result, *trace_id;
    int64_t partition, offset;
};

struct ck_decision {
    const char *wid, *decision, *reason, *cause, *trace_id;
};

/* One broker record; the event fields are "" unless decoded. */
struct ck_record {
    const char *topic, *key;
    int64_t partition, offset;
    bool injected;
    bool decoded;             /* an Event with a non-empty event_id */
    enum sg_event_type type;  /* SG_EVT_COUNT when the payload is unknown */
    const char *event_id, *event_type, *aggregate_id, *wid, *trace_id;
};

struct ck_goff {
    const char *grp, *topic;
    int64_t partition, offset;
};

struct ck_service {
    struct ck_outbox *outbox;
    size_t n_outbox;
    struct ck_inbox *inbox;
    size_t n_inbox;
    struct ck_decision *dec; /* identity and risk only */
    size_t n_dec;
};

/* The money half (ledger.db, payout.db), each array in its SELECT's ORDER BY. */
struct ck_account {
    const char *user_id, *asset;
    int64_t opening, available, held, paid_out;
    int64_t holds_placed, holds_settled; /* sums over its holds by state */
};

struct ck_hold {
    const char *wid, *user_id, *asset, *state;
    int64_t amount;
};

struct ck_entry {             /* one journal row */
    const char *wid, *kind;
    int64_t amount, seq;
};

struct ck_paid {              /* per withdrawal: the rail's effects and its outcome */
    const char *wid, *outcome; /* outcome "" when no keyed payout row */
    int64_t effects, amount;
};

struct ck_money {
    bool judged;              /* ledger.db and payout.db were given */
    struct ck_account *acc;   /* by user_id, asset */
    size_t n_acc;
    struct ck_hold *hold;     /* by withdrawal id */
    size_t n_hold;
    struct ck_entry *entry;   /* by withdrawal id, seq */
    size_t n_entry;
    struct ck_paid *paid;     /* by withdrawal id */
    size_t n_paid;
};

/* A history create, normalised (valid is false when normalisation refused it). */
struct ck_hcreate {
    const struct sg_hist_rec *rec;
    bool valid;
    struct sg_request req;
    uint8_t hash[SG_HASH_LEN];
};

/* A sort key: compared by s1, s2, s3 (strcmp; NULL sorts as ""), then n1, then idx. */
struct ck_key {
    const char *s1, *s2, *s3;
    int64_t n1;
    size_t idx;
    uint64_t p1; /* s1's first 8 bytes, big-endian: set by ck_index_sort */
};

struct ck_index {
    struct ck_key *k;
    size_t n, cap;
};

struct ck_world {
    struct ck_arena arena;
    struct ck_wd *wd;
    size_t n_wd;
    struct ck_idem *idem;
    size_t n_idem;
    struct ck_saga *saga;
    size_t n_saga;
    struct ck_trans *tr;
    size_t n_tr;
    struct ck_service svc[CK_SVC_COUNT];
    struct ck_record *rec;
    size_t n_rec;
    struct ck_goff *goff;
    size_t n_goff;
    struct ck_hcreate *hc;
    size_t n_hc;
    struct ck_money money;
    /* indexes (idx points into the array named after "_by") */
    struct ck_index wd_by_id;        /* s1 id */
    struct ck_index wd_by_userkey;   /* s1 user, s2 key, s3 id */
    struct ck_index idem_by_userkey; /* s1 user, s2 key */
    struct ck_index saga_by_wid;     /* s1 wid */
    struct ck_index tr_by_wid;       /* s1 wid, n1 seq */
    struct ck_index dec_by_wid[CK_SVC_COUNT];   /* s1 wid (identity, risk) */
    struct ck_index inbox_by_key[CK_SVC_COUNT]; /* s1 key */
    struct ck_index ev_by_id;        /* every outbox row: s1 event id, n1 enum ck_svc */
    struct ck_index rec_by_id;       /* decoded live records: s1 event id, idx = record */
    struct ck_index rec_by_keytopic; /* decoded live records: s1 key, s2 topic, n1 part. */
    struct ck_index evtw_by_wid;     /* decoded evt.withdrawal records: s1 wid, n1 part. */
    struct ck_index hc_by_userkey;   /* valid creates: s1 user, s2 key, idx = hc */
};

struct ck_ctx {
    const struct sg_check_input *in;
    struct sg_check_report *out;
    const struct ck_world *w;
    bool mute[SG_INV_COUNT]; /* count, but do not report (I5 without a heal phase) */
};

/* check_load.c */
typedef void (*ck_fill_fn)(struct ck_arena *a, sqlite3_stmt *st, void *row);
struct ck_db {
    sqlite3 *db;
    const char *label;
    char *err;
    size_t err_cap;
    struct ck_arena *arena;
};
/* Runs sql and returns a malloc'ed array of its rows (NULL when empty); false on failure
 * (err filled). */
bool ck_load(struct ck_db *d, const char *sql, size_t elem, ck_fill_fn fill, void **rows_out,
             size_t *n_out);
/* Column col's text, copied into the arena ("" for NULL). */
const char *ck_col_text(struct ck_arena *a, sqlite3_stmt *st, int col);
void ck_world_init(struct ck_world *w);
void ck_world_deinit(struct ck_world *w);
/* Loads the databases; false with err filled on any open or read failure. */
bool ck_world_load(struct ck_world *w, const struct sg_check_input *in, char *err,
                   size_t err_cap);
const char *ck_svc_name(enum ck_svc s);

/* check_index.c */
bool ck_world_index(struct ck_world *w, const struct sg_history *h);
/* First position whose (s1[, s2]) is >= the given one; s2 NULL compares s1 only. */
size_t ck_index_lower(const struct ck_index *ix, const char *s1, const char *s2);
bool ck_index_at(const struct ck_index *ix, size_t pos, const char *s1, const char *s2);
bool ck_index_alloc(struct ck_index *ix, size_t n);
/* Appends a zeroed key (the index was allocated for enough keys). */
struct ck_key *ck_index_push(struct ck_index *ix);
void ck_index_sort(struct ck_index *ix);
void ck_index_free(struct ck_index *ix);
const struct ck_wd *ck_wd_find(const struct ck_world *w, const char *id);
const struct ck_decision *ck_dec_find(const struct ck_world *w, enum ck_svc s,
                                      const char *wid);
const struct ck_outbox *ck_outbox_find(const struct ck_world *w, const char *event_id,
                                       enum ck_svc *svc_out);
/* The withdrawal an event concerns (from its outbox row, else its broker record), or NULL. */
const char *ck_event_wid(const struct ck_world *w, const char *event_id);
/* The first (lowest) record index carrying event_id, or w->n_rec. */
size_t ck_record_first(const struct ck_world *w, const char *event_id);

/* check_money_load.c */
bool ck_money_load_ledger(struct ck_db *d, struct ck_money *m);
bool ck_money_load_payout(struct ck_db *d, struct ck_money *m);
void ck_money_free(struct ck_money *m);
/* Binary search of a withdrawal id in an array sorted by it (elem bytes per row, the id
 * pointer at offset 0); NULL when absent. */
const void *ck_money_find(const void *rows, size_t n, size_t elem, const char *wid);

/* check.c */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 4, 5)))
#endif
void ck_violation(struct ck_ctx *c, enum sg_inv inv, const char *wid, const char *fmt, ...);

/* The invariants, one function each: I1, I2, I9 in check_idem.c; I3, I4 in check_saga.c;
 * I5, I6, I8 in check_delivery.c; I7 in check_decision.c; I10 in check_trace.c. */
void ck_check_i1(struct ck_ctx *c);
void ck_check_i2(struct ck_ctx *c);
void ck_check_i3(struct ck_ctx *c);
void ck_check_i4(struct ck_ctx *c);
void ck_check_i5(struct ck_ctx *c);
void ck_check_i6(struct ck_ctx *c);
void ck_check_i7(struct ck_ctx *c);
void ck_check_i8(struct ck_ctx *c);
void ck_check_i8_creates(struct ck_ctx *c); /* check_idem.c */
void ck_check_i9(struct ck_ctx *c);
void ck_check_i10(struct ck_ctx *c);
/* I11-I14 in check_money.c; they count nothing when the money half was not given. */
void ck_check_i11(struct ck_ctx *c);
void ck_check_i12(struct ck_ctx *c);
void ck_check_i13(struct ck_ctx *c);
void ck_check_i14(struct ck_ctx *c);

#endif
