/*
 * check.h: the invariant checker (DESIGN §5, §8 "Invariant data", §8.1 "Invariant terms").
 *
 * Judges I1-I14 from the client history and the six databases after every node closed
 * cleanly, for simulated and live runs alike: the caller names the SQLite VFS (the
 * simulator's in-memory disk, or NULL for real files) and the database paths. Databases
 * are opened with locking_mode=EXCLUSIVE and query_only, read and closed.
 *
 * Every violation carries its invariant, whether it is safety or liveness, and evidence
 * (withdrawal id, event ids, times) in a one-line summary. A check that finds nothing
 * still counts the items it examined, so a report can show that it ran.
 */
#ifndef SG_CHECK_H
#define SG_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "history.h"

enum sg_inv { SG_I1 = 1, SG_I2, SG_I3, SG_I4, SG_I5, SG_I6, SG_I7, SG_I8, SG_I9, SG_I10,
              SG_I11, SG_I12, SG_I13, SG_I14, SG_INV_COUNT = 15 };

struct sg_violation {
    enum sg_inv inv;
    bool liveness;
    char withdrawal_id[40];
    char summary[240];
};

/* What a run guarantees about its environment, for I1's rule that ABORTED is answered only
 * while another attempt may hold a live lease (check_idem.c). History times and these
 * bounds are on one time line, the orchestrator's true time (the simulator's virtual
 * time). Without them (known false: live runs, the fuzz harness) the rule is not judged. */
struct sg_lease_bounds {
    bool known;
    int64_t msg_delay_max_ns;  /* every copy of a create reaches the orchestrator within
                                  this after its invoke (duplicates included) */
    int64_t clock_lag_max_ns;  /* over any interval, the orchestrator's wall clock (which
                                  sets and judges leases) advances at most this much less
                                  than true time: backward jumps, slow drift */
    int64_t dup_until_ns;      /* a create invoked at or before this may have been
                                  duplicated by the network; -1: none was */
};

struct sg_check_input {
    const char *vfs_name;       /* NULL: SQLite's default VFS (live runs) */
    const char *orch_db, *identity_db, *risk_db, *broker_db;
    const char *ledger_db, *payout_db; /* the money half; both NULL: not judged (I11-I14
                                          count nothing; unit tests of the other halves) */
    const struct sg_history *history;
    const struct sg_config *cfg;
    bool liveness;              /* judge I8 (the run had a heal phase) */
    uint32_t skip_mask;         /* bit 1 << I<n>: count but do not report (a scenario's
                                   "invariants" list leaves it out) */
    struct sg_lease_bounds lease;
};

enum { SG_VIOLATIONS_MAX = 64, SG_MONEY_ASSETS_MAX = 8 };

/* One asset's books summed over every account, in minor units (a sum past int64 stays at
 * INT64_MAX or INT64_MIN). */
struct sg_money_asset {
    char asset[17];                 /* the 8th and later assets are summed under "*" */
    int64_t opening, available, held, paid_out;
};

struct sg_money {
    bool judged;                    /* the run had a ledger and a payout rail */
    size_t n_assets;                /* in the order first seen (accounts by user, asset) */
    struct sg_money_asset assets[SG_MONEY_ASSETS_MAX];
    uint64_t accounts, holds_open, payouts; /* holds still PLACED; the rail's effects */
};

/* Adds one account's balances to its asset's row (see struct sg_money). */
void sg_money_add(struct sg_money *m, const char *asset, int64_t opening, int64_t available,
                  int64_t held, int64_t paid_out);

struct sg_check_report {
    uint64_t checked[SG_INV_COUNT];    /* items examined per invariant */
    uint64_t failed[SG_INV_COUNT];     /* violations per invariant (all, not only kept) */
    struct sg_violation v[SG_VIOLATIONS_MAX]; /* the first ones, in check order */
    size_t count;
    /* what the run produced, for the summary lines */
    uint64_t withdrawals, by_status[8]; /* index: enum sg_status */
    struct sg_money money;              /* the ledger's books at the end (I11) */
    char error[200];                    /* non-empty: a database could not be read */
};

/* Returns true when every invariant held and every database was readable. */
bool sg_check_run(const struct sg_check_input *in, struct sg_check_report *out);
const char *sg_inv_name(enum sg_inv inv);  /* "I1" .. "I14" */
const char *sg_inv_title(enum sg_inv inv); /* "idempotent-create", ... */

#endif
