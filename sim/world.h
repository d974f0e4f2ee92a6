/*
 * world.h: the deterministic environment: one process, one thread, one seed (DESIGN §3-4).
 *
 * The world owns the event queue, virtual time, the simulated disk (sim/vfs.h), the
 * network between nodes, the trace, and the four server nodes (broker, orchestrator,
 * identity, risk), each with its own struct sg_env whose callbacks land here. Workload
 * clients live outside (sim/workload.h) and talk through sg_world_client_send; replies to
 * client node ids are handed to the client hook.
 *
 * Determinism: time only advances by popping events; ties break by sequence number; every
 * random choice comes from a PRNG stream derived from (seed, purpose, node); every event
 * and every effect is a trace record; the run hash is XXH3 over the trace.
 *
 * Faults grow here: today messages get a random latency in [latency_min, latency_max]
 * (so they may reorder), and a node can be crashed at a named fault point (crash_at) or
 * by the caller; it restarts after restart_delay. A crash closes the node's connections
 * with its disk refusing I/O, then reverts the disk to its durable image.
 */
#ifndef SG_WORLD_H
#define SG_WORLD_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "coverage.h"
#include "nemesis.h"
#include "env.h"
#include "node.h"
#include "prng.h"
#include "sched.h"
#include "trace.h"
#include "vfs.h"

enum { SG_WORLD_CLIENTS_MAX = 64, SG_CRASH_POINT_LEN = 48, SG_CRASH_AT_MAX = 16 };

struct sg_crash_at {
    uint32_t point; /* index in sg_crashpoints() */
    uint32_t hit;   /* 1-based */
};

struct sg_crash_rate {
    uint32_t point; /* index in sg_crashpoints() */
    uint32_t ppm;   /* per hit, while faults are on */
};

struct sg_world;

struct sg_world_node {
    struct sg_world *world;
    enum sg_role role;
    struct sg_node node;
    struct sg_env env;
    char dir[8];
    struct sg_prng prng;
    int64_t clock_offset_ns;   /* wall = true time + offset + drift */
    int32_t drift_ppm;
    int64_t clock_back_ns;     /* every backward step of clock_offset_ns, summed */
    uint64_t incarnation;      /* timers of an earlier life are dropped */
    bool up;
    uint64_t crashes, restarts;
};

/* A fault at a fixed virtual time (scenario files: "at 5s crash orchestrator"). */
enum sg_scheduled_kind {
    SG_SCHED_CRASH,          /* power loss of node a; restarts after the usual delay */
    SG_SCHED_ISOLATE,        /* node a cut off both ways until until_ns */
    SG_SCHED_ONEWAY,         /* messages a -> b dropped until until_ns */
    SG_SCHED_CLOCK_JUMP,     /* node a's wall clock moves by amount_ns */
    SG_SCHED_FSYNC_FAIL,     /* node a's next fsync fails */
    SG_SCHED_POISON,         /* an undecodable record at the head of topic/partition */
};

/* A scheduled crash's node a may be every server node at one instant (correlated power
 * loss). With until_ns the node stays down until then, else it restarts as usual. */
#define SG_SCHED_ALL UINT32_MAX
enum { SG_SCHED_TOPIC_LEN = 32 };

struct sg_scheduled_fault {
    enum sg_scheduled_kind kind;
    int64_t at_ns, until_ns;
    uint32_t a, b;           /* node ids (SG_NODE_CLIENT0 stands for every client) */
    int64_t amount_ns;
    char topic[SG_SCHED_TOPIC_LEN]; /* SG_SCHED_POISON */
    uint32_t partition;
    bool during_commit;      /* SG_SCHED_CRASH: inside the node's next COMMIT, before its
                                sync (sg_vfs_set_down_at_sync); the node restarts as usual */
};

enum { SG_SCHEDULED_MAX = 32 };

struct sg_world_options {
    int64_t latency_min_ns, latency_max_ns;
    int64_t restart_delay_ns;
    int64_t start_wall_ns;         /* wall clock at time 0 */
    bool keep_trace;               /* keep record texts (determinism self-check) */
    uint64_t perturb_message;      /* n > 0: the n-th message gets 1 ns more latency (to
                                      prove the determinism self-check finds a change) */
    /* Crash a node at the hit-th hit of a named fault point (sg_crashpoints' index); a
     * point listed here never crashes at random. Add with sg_world_add_crash_at. */
    struct sg_crash_at crash_at[SG_CRASH_AT_MAX];
    size_t crash_at_count;
    /* Per-point crash rates (scenario crash_points) instead of faults.crash_point_ppm. */
    struct sg_crash_rate crash_rates[SG_CRASH_AT_MAX];
    size_t crash_rate_count;
    struct sg_faults faults;       /* used between sg_world_faults_on and sg_world_heal */
    struct sg_scheduled_fault scheduled[SG_SCHEDULED_MAX]; /* armed by sg_world_faults_on */
    size_t scheduled_count;
    /* Fault tape (shrinking): every fault the nemesis is about to inject gets an ordinal
     * (0, 1, ...); with tape_active only the ordinals listed in tape_keep (sorted) are
     * injected, the others are skipped — the random draws stay the same either way. */
    bool tape_active;
    const uint64_t *tape_keep;
    size_t tape_keep_count;
};

/* Called for every message addressed to a client node id (>= SG_NODE_CLIENT0) and for
 * every client timer; bytes == NULL for a timer (tag given). */
typedef void (*sg_client_fn)(void *ctx, uint32_t client, const uint8_t *bytes, size_t len,
                             uint64_t tag);

struct sg_world_stats {
    uint64_t events, messages, timers, crashes, restarts;
    uint64_t dropped, duplicated, delayed, partitions, crash_points, fsync_faults,
        clock_jumps, poison, down_crashes;
};

struct sg_world {
    uint64_t seed;
    struct sg_config cfg;
    struct sg_world_options opt;
    int64_t now_ns;
    struct sg_sched sched;
    struct sg_prng net_prng;
    struct sg_vfs vfs;
    struct sg_trace_log trace;
    struct sg_world_node nodes[SG_ROLE_COUNT];
    sg_client_fn client_fn;
    void *client_ctx;
    uint32_t crash_hits[SG_CRASH_AT_MAX]; /* hits so far of each opt.crash_at point */
    bool faults_on;
    struct sg_prng fault_prng[SG_FAULT_CLASS_COUNT];
    bool cut[SG_ROLE_COUNT + 1][SG_ROLE_COUNT + 1]; /* partitions; index 4: all clients */
    bool partitioned;
    int64_t link_latency_max_ns[SG_ROLE_COUNT + 1][SG_ROLE_COUNT + 1]; /* per link */
    struct sg_world_stats stats;
    uint64_t coverage[SG_COV_COUNT]; /* rare paths reached (world_coverage.c) */
    uint64_t fault_ordinal;          /* faults considered so far (see opt.tape_active) */
    uint64_t faults_injected;
    /* panic (SG_ASSERT) unwinds to the running step */
    jmp_buf panic_jmp;
    bool panic_armed, panicked;
    char panic_what[160];
};

void sg_world_options_default(struct sg_world_options *o);
/* Sets up everything and registers the simulated VFS (the process's default VFS while
 * the world lives). Nodes are not started. Returns false on out-of-memory. */
bool sg_world_init(struct sg_world *w, uint64_t seed, const struct sg_config *cfg,
                   const struct sg_world_options *opt);
/* Stops every node cleanly, frees everything, unregisters the VFS. Safe twice. */
void sg_world_deinit(struct sg_world *w);

void sg_world_set_client(struct sg_world *w, sg_client_fn fn, void *ctx);
/* Starts one node now (at world time). Returns its start error. */
enum sg_err sg_world_start(struct sg_world *w, enum sg_role role);
/* Schedules a node start at virtual time at_ns. */
void sg_world_start_at(struct sg_world *w, enum sg_role role, int64_t at_ns);
/* Clean stop (close the database) and restart: used by recovery tests. */
void sg_world_stop(struct sg_world *w, enum sg_role role);
/* Power loss of a node now: connections closed on a refusing disk, unsynced writes lost.
 * It restarts after opt.restart_delay_ns when restart is true. */
void sg_world_crash(struct sg_world *w, enum sg_role role, bool restart);

/* A client sends bytes (one Envelope) to a node, through the network. */
void sg_world_client_send(struct sg_world *w, uint32_t client, uint32_t to,
                          const uint8_t *bytes, size_t len);
/* Packs *e (msg_id, from and to already set; from is a client or the injector) and sends
 * it like sg_world_client_send. */
void sg_world_client_send_envelope(struct sg_world *w, const SgEnvelope *e);
/* A client timer at virtual time at_ns. */
void sg_world_client_timer(struct sg_world *w, uint32_t client, int64_t at_ns, uint64_t tag);

/* Runs one event; false when none is left or the next is after until_ns. */
bool sg_world_step(struct sg_world *w, int64_t until_ns);
/* Runs every event up to until_ns (inclusive); time then stands at until_ns. Returns false
 * when an assertion failed (w->panicked). */
bool sg_world_run_until(struct sg_world *w, int64_t until_ns);

/* Fault injection (world_faults.c): faults_on starts the nemesis with opt.faults;
 * heal stops it, heals partitions, disarms disk faults and starts every node that is down. */
void sg_world_faults_on(struct sg_world *w);
void sg_world_heal(struct sg_world *w);
/* Internal to sim/world*.c. */
void sg_world_nemesis(struct sg_world *w, enum sg_fault_class c);
size_t sg_world_fate(struct sg_world *w, uint32_t from, uint32_t to, int64_t latency_out[2]);
bool sg_world_crash_point(struct sg_world *w, struct sg_world_node *n, const char *point);
/* Adds a crash at the hit-th hit (>= 1) of role's point; false when the point is not in
 * sg_crashpoints() or the list is full. */
bool sg_world_add_crash_at(struct sg_world_options *o, enum sg_role role, const char *point,
                           uint32_t hit);
void sg_world_push_control(struct sg_world *w, uint32_t node, uint64_t tag, int64_t at_ns);
int64_t sg_world_restart_delay(struct sg_world *w);
/* Whether the fault about to be injected goes ahead (the tape; counts the ordinal). */
bool sg_world_fault_allowed(struct sg_world *w, const char *what);
/* With faults on, sometimes arms a power loss inside the coming start-up (recovery). */
void sg_world_recovery_fault(struct sg_world *w, const char *prefix);
/* A scheduled fault begins (begin true) or ends (partitions). */
void sg_world_scheduled(struct sg_world *w, size_t index, bool begin);
uint64_t sg_world_disk_random(void *world);

/* Control event tags (SG_EV_CONTROL): what << 32 | argument. */
enum { SG_CONTROL_START = 1, SG_CONTROL_RESTART, SG_CONTROL_NEMESIS, SG_CONTROL_HEAL_PARTITION,
       SG_CONTROL_SCHEDULED, SG_CONTROL_SCHEDULED_END };

/* Moves one node's wall clock by delta (tests of skew and jumps). */
void sg_world_clock_shift(struct sg_world *w, enum sg_role role, int64_t delta_ns);
/* An upper bound, for any two instants r <= d of the run so far, on how much less the
 * node's wall clock advanced than true time: (d - r) - (wall(d) - wall(r)). Its backward
 * steps plus what a slow drift loses. The checker's bound on how long a lease may stay
 * live (check.h, struct sg_lease_bounds). */
int64_t sg_world_clock_lag_max_ns(const struct sg_world *w, enum sg_role role);
/* An upper bound on the time from a client's send to the arrival of any copy of it
 * (sg_world_fate: latency, delay spike, a duplicate's extra delay, --perturb). */
int64_t sg_world_msg_delay_max_ns(const struct sg_world *w);
/* Counts the rare path a trace record shows, if any (world_coverage.c). */
void sg_world_cover(struct sg_world *w, const struct sg_trace_rec *rec);
/* Appends a trace record at the current time (and counts its coverage). */
void sg_world_trace_rec(struct sg_world *w, uint32_t node, const struct sg_trace_rec *rec);
/* Appends a free-text (SG_TR_TEXT) record at the current time: for rare records. */
void sg_world_trace(struct sg_world *w, uint32_t node, const char *text);
uint64_t sg_world_hash(const struct sg_world *w);
/* The node when up, else NULL. */
struct sg_node *sg_world_node(struct sg_world *w, enum sg_role role);

#endif
