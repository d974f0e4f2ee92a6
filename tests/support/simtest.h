/*
 * simtest.h: a simulated system for unit tests: a world with the four server nodes
 * started at time 0, fixed 1 ms latency, a create's work step at the same instant as its
 * reservation step (work_delay_max_ns = 0), and one scripted test client whose calls and
 * the replies they get are recorded. Tests drive time explicitly with st_run_for.
 *
 * Usage:
 *   struct simtest *t = st_new(seed);             // nodes up, nothing sent yet
 *   uint64_t id = st_create(t, user, "BTC", 100, "addr", "key-1", NULL);
 *   st_run_for(t, 2 * SG_MS);
 *   const struct st_reply *r = st_reply_to(t, id);  // code, withdrawal id, status
 *   st_free(t);
 * A test may also send any Envelope to any node (st_send) to drive the broker protocol,
 * read a node's tables through its own connection (st_node_db), and crash or restart nodes through
 * the world (t->w).
 */
#ifndef SG_SIMTEST_H
#define SG_SIMTEST_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "run.h"
#include "wire.h"
#include "world.h"

#define SG_MS 1000000LL
#define SG_SEC 1000000000LL

enum { ST_REPLIES_MAX = 4096 };

struct st_reply {
    uint64_t correlation_id;
    int64_t at_ns;
    uint32_t from;
    int payload_case;            /* Sagasim__Node__V1__Envelope__PayloadCase */
    uint32_t code;
    char withdrawal_id[40];
    char status[16];
    char trace_id[40];
    uint8_t bytes[2048];         /* the whole reply envelope */
    size_t len;
};

struct simtest {
    struct sg_world *w;
    struct sg_config cfg;
    uint64_t msg_counter;
    struct st_reply replies[ST_REPLIES_MAX];
    size_t reply_count;
    char settle_status[16];
};

/* Nodes started at time 0 with the default config (cfg may be NULL). */
struct simtest *st_new_cfg(uint64_t seed, const struct sg_config *cfg);
struct simtest *st_new(uint64_t seed);
void st_free(struct simtest *t);

/* Sends an envelope from the test client (node SG_NODE_CLIENT0) to a node; returns msg_id. */
uint64_t st_send(struct simtest *t, uint32_t to, SgEnvelope *e);
/* CreateWithdrawal; trace_id may be NULL. Returns the msg_id to match the reply. */
uint64_t st_create(struct simtest *t, const char *user_id, const char *asset, int64_t amount,
                   const char *dest, const char *key, const char *trace_id);
uint64_t st_get(struct simtest *t, const char *withdrawal_id);
void st_run_for(struct simtest *t, int64_t ns);
/* The reply to a msg_id, or NULL. */
const struct st_reply *st_reply_to(const struct simtest *t, uint64_t msg_id);
/* The live node's own connection (read through it; do not close it), or NULL when down.
 * A second connection would be refused: nodes hold their database in EXCLUSIVE mode. */
sqlite3 *st_node_db(struct simtest *t, enum sg_role role);
/* SELECT returning one integer (first column of the first row), -1 when no row. */
int64_t st_int(sqlite3 *db, const char *sql);
/* Runs until the withdrawal's status is terminal or `limit` passes; returns its status. */
const char *st_settle(struct simtest *t, const char *withdrawal_id, int64_t limit);

#endif
