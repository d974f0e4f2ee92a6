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
 *
 * Shared helpers, so the tests need no private copies. simtest.c does not use cmocka: what a
 * test checks comes back as a return value and the test asserts it, so a failure names the
 * test's own line.
 *   st_config_approving, st_new_approving   identity and risk reject nothing at random
 *   st_await_reply, st_create_await         run until a call is answered or a limit passes
 *   st_produce                              one record to the broker, as a client would
 *   st_int, st_qint, st_qtext               one value from a node's table
 *   st_watch_start                          count a node's trace records that contain a text
 *   st_read_file                            a whole file as a string (reports, traces)
 *   ST_USER_A                               the usual client's user id
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
/* The tests' usual client: a well-formed, lower-case user id on no deny list. */
#define ST_USER_A "6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab"
/* How long st_create_await waits for a reply: a hundred round trips at the fixed latency. */
#define ST_REPLY_WAIT_NS (100 * SG_MS)

enum { ST_REPLIES_MAX = 4096, ST_SQL_MAX = 1024 };

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
/* The default config with identity and risk rejection ratios 0: they approve everything
 * except the default deny list and the default limits. */
void st_config_approving(struct sg_config *cfg);
/* st_new_cfg with st_config_approving's config. */
struct simtest *st_new_approving(uint64_t seed);

/* Sends an envelope from the test client (node SG_NODE_CLIENT0) to a node; returns msg_id. */
uint64_t st_send(struct simtest *t, uint32_t to, SgEnvelope *e);
/* CreateWithdrawal; trace_id may be NULL. Returns the msg_id to match the reply. */
uint64_t st_create(struct simtest *t, const char *user_id, const char *asset, int64_t amount,
                   const char *dest, const char *key, const char *trace_id);
uint64_t st_get(struct simtest *t, const char *withdrawal_id);
/* ProduceRequest of one record to the broker (value may be NULL when len is 0). Returns the
 * msg_id to match the ack. */
uint64_t st_produce(struct simtest *t, const char *topic, const char *key, const void *value,
                    size_t len);
void st_run_for(struct simtest *t, int64_t ns);
/* The reply to a msg_id, or NULL. */
const struct st_reply *st_reply_to(const struct simtest *t, uint64_t msg_id);
/* Runs in 1 ms slices until msg_id is answered or `limit` passes; the reply, or NULL when
 * none came in time. Returns at once when the reply is already there. */
const struct st_reply *st_await_reply(struct simtest *t, uint64_t msg_id, int64_t limit);
/* st_create, then st_await_reply for ST_REPLY_WAIT_NS: the reply, or NULL. */
const struct st_reply *st_create_await(struct simtest *t, const char *user_id,
                                       const char *asset, int64_t amount, const char *dest,
                                       const char *key, const char *trace_id);
/* The live node's own connection (read through it; do not close it), or NULL when down.
 * A second connection would be refused: nodes hold their database in EXCLUSIVE mode. */
sqlite3 *st_node_db(struct simtest *t, enum sg_role role);
/* SELECT returning one integer (first column of the first row), -1 when no row, -2 when
 * the SQL does not prepare. */
int64_t st_int(sqlite3 *db, const char *sql);
/* st_int of a printf-style SQL text; -2 also when the text exceeds ST_SQL_MAX. The caller
 * quotes what it formats in (test values only, never input). */
int64_t st_qint(sqlite3 *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copies the first column of the first row of a printf-style SELECT into out (cap > 0);
 * out is "" when there is no row or the value is NULL. Returns false, with out "", when
 * the SQL exceeds ST_SQL_MAX or does not prepare. */
bool st_qtext(sqlite3 *db, char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Counts the trace records of one node that contain a text. */
struct st_watch {
    uint32_t node;
    char needle[96];
    uint64_t hits;
    int64_t first_at_ns; /* when the first hit was traced; 0 before it */
};
/* The whole file at path as a NUL-terminated heap string (the caller frees); NULL when it
 * cannot be read. */
char *st_read_file(const char *path);

/* Zeroes w and installs it as the world's trace sink, replacing any other sink. w must stay
 * alive while the world runs (until st_free, or until another sink replaces it). */
void st_watch_start(struct simtest *t, struct st_watch *w, uint32_t node, const char *needle);
/* Runs until the withdrawal's status is terminal or `limit` passes; returns its status. */
const char *st_settle(struct simtest *t, const char *withdrawal_id, int64_t limit);

#endif
