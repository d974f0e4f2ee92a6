/*
 * world.c: the deterministic environment (see world.h).
 */
#include "world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "assert.h"
#include "banned.h"

enum { STREAM_NET = 1, STREAM_NODE = 100, STREAM_DISK = 200 };

void sg_world_options_default(struct sg_world_options *o)
{
    memset(o, 0, sizeof *o);
    o->latency_min_ns = 1000000;
    o->latency_max_ns = 5000000;
    o->restart_delay_ns = 1000000000;
    o->start_wall_ns = 1764028800000000000LL; /* 2025-11-25T00:00:00Z */
}

void sg_world_trace_rec(struct sg_world *w, uint32_t node, const struct sg_trace_rec *rec)
{
    sg_trace_log_add(&w->trace, w->now_ns, node, rec);
    sg_world_cover(w, rec);
}

void sg_world_trace(struct sg_world *w, uint32_t node, const char *text)
{
    sg_world_trace_rec(w, node, &(const struct sg_trace_rec){.kind = SG_TR_TEXT, .s = {text}});
}

/* ---- the env callbacks of one node ---- */

static int64_t env_now_wall(void *ctx)
{
    struct sg_world_node *n = ctx;
    int64_t now = n->world->now_ns;
    return n->world->opt.start_wall_ns + now + n->clock_offset_ns +
           now / 1000000 * n->drift_ppm;
}

static int64_t env_now_mono(void *ctx)
{
    struct sg_world_node *n = ctx;
    return n->world->now_ns;
}

static uint64_t env_random(void *ctx)
{
    struct sg_world_node *n = ctx;
    return sg_prng_next(&n->prng);
}

static void push_delivery(struct sg_world *w, uint32_t from, uint32_t to, const uint8_t *bytes,
                          size_t len, int64_t latency_ns)
{
    struct sg_event ev = {0};
    ev.kind = SG_EV_DELIVER;
    ev.from = from;
    ev.node = to;
    ev.at_ns = w->now_ns + latency_ns;
    ev.payload = malloc(len ? len : 1);
    SG_ASSERT_PURE(ev.payload != NULL);
    if (len) memcpy(ev.payload, bytes, len);
    ev.len = len;
    SG_ASSERT_PURE(sg_sched_push(&w->sched, &ev));
}

static void deliver_at(struct sg_world *w, uint32_t from, uint32_t to, const uint8_t *bytes,
                       size_t len)
{
    int64_t latency[2];
    size_t copies = sg_world_fate(w, from, to, latency);
    if (w->opt.perturb_message && w->stats.messages + 1 == w->opt.perturb_message) latency[0]++;
    for (size_t i = 0; i < copies; i++) push_delivery(w, from, to, bytes, len, latency[i]);
    struct sg_trace_rec rec = {.kind = SG_TR_SEND,
                               .i = {from, to, (int64_t)len, (int64_t)XXH3_64bits(bytes, len),
                                     (int64_t)copies}};
    sg_world_trace_rec(w, from, &rec);
    w->stats.messages++;
}

static void env_send(void *ctx, uint32_t to, const uint8_t *bytes, size_t len)
{
    struct sg_world_node *n = ctx;
    deliver_at(n->world, n->env.node_id, to, bytes, len);
}

static void env_timer_at(void *ctx, int64_t mono_ns, uint64_t tag)
{
    struct sg_world_node *n = ctx;
    struct sg_event ev = {0};
    ev.kind = SG_EV_TIMER;
    ev.node = n->env.node_id;
    ev.tag = tag;
    ev.generation = n->incarnation;
    ev.at_ns = mono_ns > n->world->now_ns ? mono_ns : n->world->now_ns;
    SG_ASSERT_PURE(sg_sched_push(&n->world->sched, &ev));
}

static void env_trace(void *ctx, const struct sg_trace_rec *record)
{
    struct sg_world_node *n = ctx;
    sg_world_trace_rec(n->world, n->env.node_id, record);
}

static bool env_fault_point(void *ctx, const char *point)
{
    struct sg_world_node *n = ctx;
    return sg_world_crash_point(n->world, n, point);
}

__attribute__((noreturn)) static void env_panic(void *ctx, const char *file, int line,
                                                const char *expr)
{
    struct sg_world_node *n = ctx;
    struct sg_world *w = n->world;
    snprintf(w->panic_what, sizeof w->panic_what, "%s:%d: %s", file, line, expr);
    w->panicked = true;
    if (w->panic_armed) longjmp(w->panic_jmp, 1);
    abort(); /* an assertion outside a step (start-up code) */
}

static void node_env_init(struct sg_world *w, struct sg_world_node *n, enum sg_role role)
{
    n->world = w;
    n->role = role;
    snprintf(n->dir, sizeof n->dir, "/n%u", sg_role_node_id(role));
    sg_prng_init(&n->prng, w->seed, STREAM_NODE + role);
    n->env = (struct sg_env){
        .ctx = n, .node_id = sg_role_node_id(role), .vfs_name = "sgsim", .data_dir = n->dir,
        .now_wall_ns = env_now_wall, .now_mono_ns = env_now_mono, .random_u64 = env_random,
        .send = env_send, .timer_at = env_timer_at, .trace = env_trace,
        .fault_point = env_fault_point, .panic = env_panic};
}

/* ---- SQLite's own randomness and clock ---- */

static uint64_t vfs_random(void *ctx)
{
    struct sg_world *w = ctx;
    return sg_prng_next(&w->net_prng);
}

static int64_t vfs_now(void *ctx)
{
    struct sg_world *w = ctx;
    return w->opt.start_wall_ns + w->now_ns;
}

bool sg_world_init(struct sg_world *w, uint64_t seed, const struct sg_config *cfg,
                   const struct sg_world_options *opt)
{
    memset(w, 0, sizeof *w);
    w->seed = seed;
    w->cfg = *cfg;
    w->opt = *opt;
    sg_sched_init(&w->sched);
    sg_prng_init(&w->net_prng, seed, STREAM_NET);
    if (!sg_trace_log_init(&w->trace, opt->keep_trace)) return false;
    struct sg_vfs_hooks hooks = {w, vfs_random, vfs_now};
    if (!sg_vfs_init(&w->vfs, "sgsim", &hooks)) return false;
    if (sg_vfs_register(&w->vfs) != 0) return false;
    for (int r = 0; r < SG_ROLE_COUNT; r++) node_env_init(w, &w->nodes[r], (enum sg_role)r);
    /* Every link gets its own latency range: a quarter to all of [min, max]. */
    int64_t span = opt->latency_max_ns - opt->latency_min_ns;
    for (int a = 0; a <= SG_ROLE_COUNT; a++)
        for (int b = 0; b <= SG_ROLE_COUNT; b++)
            w->link_latency_max_ns[a][b] =
                opt->latency_min_ns + span * (1 + (int64_t)sg_prng_below(&w->net_prng, 4)) / 4;
    char rec[96];
    snprintf(rec, sizeof rec, "world seed=%llu sqlite=%.20s", (unsigned long long)seed,
             sqlite3_sourceid());
    sg_world_trace(w, 0, rec);
    return true;
}

void sg_world_deinit(struct sg_world *w)
{
    for (int r = 0; r < SG_ROLE_COUNT; r++)
        if (w->nodes[r].up) sg_world_stop(w, (enum sg_role)r);
    sg_sched_deinit(&w->sched);
    sg_vfs_deinit(&w->vfs);
    sg_trace_log_deinit(&w->trace);
}

void sg_world_set_client(struct sg_world *w, sg_client_fn fn, void *ctx)
{
    w->client_fn = fn;
    w->client_ctx = ctx;
}

struct sg_node *sg_world_node(struct sg_world *w, enum sg_role role)
{
    return w->nodes[role].up ? &w->nodes[role].node : NULL;
}

/* ---- node lifecycle ---- */

void sg_world_push_control(struct sg_world *w, uint32_t node, uint64_t tag, int64_t at_ns)
{
    struct sg_event ev = {0};
    ev.kind = SG_EV_CONTROL;
    ev.node = node;
    ev.tag = tag;
    ev.at_ns = at_ns > w->now_ns ? at_ns : w->now_ns;
    SG_ASSERT_PURE(sg_sched_push(&w->sched, &ev));
}

static void push_control(struct sg_world *w, enum sg_role role, uint64_t what, int64_t at_ns)
{
    sg_world_push_control(w, sg_role_node_id(role), what << 32, at_ns);
}

enum sg_err sg_world_start(struct sg_world *w, enum sg_role role)
{
    struct sg_world_node *n = &w->nodes[role];
    SG_ASSERT_PURE(!n->up);
    n->incarnation++;
    n->up = true; /* before start: start-up sends and arms timers */
    char prefix[16];
    snprintf(prefix, sizeof prefix, "%s/", n->dir);
    sg_world_recovery_fault(w, prefix);
    enum sg_err err = sg_node_start(&n->node, role, &n->env, &w->cfg);
    if (sg_vfs_is_down(&w->vfs, prefix)) { /* power lost during start-up and recovery */
        w->stats.down_crashes++;
        w->coverage[SG_COV_RECOVERY_CRASH]++;
        if (err != SG_OK) {
            n->up = false;
            sg_node_stop(&n->node);
        }
        sg_world_crash(w, role, true);
        return SG_ERR_CRASHED;
    }
    if (err != SG_OK) {
        n->up = false;
        sg_node_stop(&n->node);
        push_control(w, role, SG_CONTROL_RESTART, w->now_ns + sg_world_restart_delay(w));
    }
    return err;
}

void sg_world_start_at(struct sg_world *w, enum sg_role role, int64_t at_ns)
{
    push_control(w, role, SG_CONTROL_START, at_ns);
}

void sg_world_stop(struct sg_world *w, enum sg_role role)
{
    struct sg_world_node *n = &w->nodes[role];
    if (!n->up) return;
    sg_node_stop(&n->node);
    n->up = false;
    n->incarnation++;
    sg_world_trace(w, n->env.node_id, "stop");
}

void sg_world_crash(struct sg_world *w, enum sg_role role, bool restart)
{
    struct sg_world_node *n = &w->nodes[role];
    char prefix[16];
    snprintf(prefix, sizeof prefix, "%s/", n->dir);
    if (n->up) {
        /* Abandon the connections on a disk that refuses I/O: nothing is flushed. */
        sg_vfs_set_down(&w->vfs, prefix, true);
        sg_node_stop(&n->node);
        sg_vfs_set_down(&w->vfs, prefix, false);
    }
    struct sg_vfs_crash_faults f = {sg_world_disk_random, w, w->opt.faults.keep_pending_pct,
                                    100, w->opt.faults.torn_pct, 100};
    bool disk_faults = w->faults_on && (f.keep_pending_num || f.torn_num) &&
                       sg_world_fault_allowed(w, "lost-torn-sectors");
    sg_vfs_crash(&w->vfs, prefix, disk_faults ? &f : NULL);
    sg_vfs_set_down(&w->vfs, prefix, false); /* a countdown that fired stays down until now */
    n->up = false;
    n->incarnation++;
    n->crashes++;
    w->stats.crashes++;
    sg_world_trace(w, n->env.node_id, "crash");
    if (restart) push_control(w, role, SG_CONTROL_RESTART, w->now_ns + sg_world_restart_delay(w));
}

/* ---- clients ---- */

void sg_world_client_send(struct sg_world *w, uint32_t client, uint32_t to,
                          const uint8_t *bytes, size_t len)
{
    SG_ASSERT_PURE(client >= SG_NODE_CLIENT0); /* clients and the injector */
    deliver_at(w, client, to, bytes, len);
}

void sg_world_client_send_envelope(struct sg_world *w, const SgEnvelope *e)
{
    size_t n = sagasim__node__v1__envelope__get_packed_size(e);
    uint8_t stack[1024];
    uint8_t *buf = n <= sizeof stack ? stack : malloc(n);
    SG_ASSERT_PURE(buf != NULL);
    sagasim__node__v1__envelope__pack(e, buf);
    sg_world_client_send(w, e->from, e->to, buf, n);
    if (buf != stack) free(buf);
}

void sg_world_client_timer(struct sg_world *w, uint32_t client, int64_t at_ns, uint64_t tag)
{
    struct sg_event ev = {0};
    ev.kind = SG_EV_CLIENT;
    ev.node = client;
    ev.tag = tag;
    ev.at_ns = at_ns > w->now_ns ? at_ns : w->now_ns;
    SG_ASSERT_PURE(sg_sched_push(&w->sched, &ev));
}

/* ---- the event loop ---- */

static struct sg_world_node *node_by_id(struct sg_world *w, uint32_t id)
{
    for (int r = 0; r < SG_ROLE_COUNT; r++)
        if (w->nodes[r].env.node_id == id) return &w->nodes[r];
    return NULL;
}

static void after_step(struct sg_world *w, struct sg_world_node *n, enum sg_err err)
{
    char prefix[sizeof n->dir + 1]; /* "<dir>/", without snprintf: this runs every step */
    size_t dir_len = strlen(n->dir);
    memcpy(prefix, n->dir, dir_len);
    memcpy(prefix + dir_len, "/", 2);
    if (err != SG_ERR_CRASHED && n->up && sg_vfs_is_down(&w->vfs, prefix)) {
        w->stats.down_crashes++; /* power lost in the middle of the step's I/O */
        err = SG_ERR_CRASHED;
    }
    if (err == SG_ERR_CRASHED) {
        sg_world_crash(w, n->role, true);
    } else if (err != SG_OK) {
        sg_world_trace_rec(w, n->env.node_id,
                           &(const struct sg_trace_rec){.kind = SG_TR_STEP_ERROR,
                                                        .s = {sg_err_name(err)}});
    }
}

static void dispatch(struct sg_world *w, const struct sg_event *ev)
{
    struct sg_world_node *n = ev->node < SG_NODE_CLIENT0 ? node_by_id(w, ev->node) : NULL;
    switch (ev->kind) {
    case SG_EV_DELIVER: {
        struct sg_trace_rec rec = {.kind = SG_TR_DELIVER,
                                   .i = {ev->from, ev->node, (int64_t)ev->len},
                                   .s = {n && !n->up ? " dropped" : NULL}};
        sg_world_trace_rec(w, ev->node, &rec);
        if (ev->node == SG_NODE_INJECTOR) {
            /* the injector reads no replies */
        } else if (ev->node >= SG_NODE_CLIENT0) {
            if (w->client_fn) w->client_fn(w->client_ctx, ev->node, ev->payload, ev->len, 0);
        } else if (n && n->up) {
            after_step(w, n, sg_node_on_message(&n->node, ev->payload, ev->len));
        }
        break;
    }
    case SG_EV_TIMER:
        if (!n || !n->up || ev->generation != n->incarnation) break; /* an earlier life */
        sg_world_trace_rec(w, ev->node,
                           &(const struct sg_trace_rec){.kind = SG_TR_TIMER,
                                                        .i = {(int64_t)ev->tag}});
        w->stats.timers++;
        after_step(w, n, sg_node_on_timer(&n->node, ev->tag));
        break;
    case SG_EV_CLIENT:
        if (w->client_fn) w->client_fn(w->client_ctx, ev->node, NULL, 0, ev->tag);
        break;
    case SG_EV_CONTROL: {
        uint64_t what = ev->tag >> 32;
        if (what == SG_CONTROL_SCHEDULED || what == SG_CONTROL_SCHEDULED_END) {
            sg_world_scheduled(w, (size_t)(ev->tag & 0xffffffffu), what == SG_CONTROL_SCHEDULED);
            break;
        }
        if (what == SG_CONTROL_NEMESIS || what == SG_CONTROL_HEAL_PARTITION) {
            sg_world_nemesis(w, what == SG_CONTROL_NEMESIS
                                    ? (enum sg_fault_class)(ev->tag & 0xffffffffu)
                                    : SG_FAULT_CLASS_COUNT);
            break;
        }
        if (!n || n->up) break;
        sg_world_trace(w, ev->node, what == SG_CONTROL_START ? "control start" : "control restart");
        if (what == SG_CONTROL_RESTART) {
            n->restarts++;
            w->stats.restarts++;
        }
        (void)sg_world_start(w, n->role);
        break;
    }
    default: sg_panic_default(__FILE_NAME__, __LINE__, "unknown event kind");
    }
}

bool sg_world_step(struct sg_world *w, int64_t until_ns)
{
    const struct sg_event *next = sg_sched_peek(&w->sched);
    if (!next || next->at_ns > until_ns || w->panicked) return false;
    struct sg_event ev;
    SG_ASSERT_PURE(sg_sched_pop(&w->sched, &ev));
    SG_ASSERT_PURE(ev.at_ns >= w->now_ns);
    w->now_ns = ev.at_ns;
    w->stats.events++;
    if (setjmp(w->panic_jmp) == 0) {
        w->panic_armed = true;
        dispatch(w, &ev);
    } else {
        sg_world_trace(w, ev.node, "panic");
    }
    w->panic_armed = false;
    free(ev.payload);
    return !w->panicked;
}

bool sg_world_run_until(struct sg_world *w, int64_t until_ns)
{
    while (sg_world_step(w, until_ns)) {
    }
    if (!w->panicked && w->now_ns < until_ns) w->now_ns = until_ns;
    return !w->panicked;
}

void sg_world_clock_shift(struct sg_world *w, enum sg_role role, int64_t delta_ns)
{
    w->nodes[role].clock_offset_ns += delta_ns;
    if (delta_ns < 0) w->nodes[role].clock_back_ns -= delta_ns;
    char rec[64];
    snprintf(rec, sizeof rec, "clock shift %lld", (long long)delta_ns);
    sg_world_trace(w, w->nodes[role].env.node_id, rec);
}

int64_t sg_world_clock_lag_max_ns(const struct sg_world *w, enum sg_role role)
{
    SG_ASSERT_PURE(role < SG_ROLE_COUNT);
    const struct sg_world_node *n = &w->nodes[role];
    SG_ASSERT_PURE(n->clock_back_ns >= 0);
    /* env_now_wall adds (now / 1 ms) * drift_ppm: over [r, d] a negative drift loses at
     * most |drift_ppm| per started millisecond of the whole run. */
    int64_t drift_loss = 0;
    if (n->drift_ppm < 0) drift_loss = -(int64_t)n->drift_ppm * (w->now_ns / 1000000 + 1);
    return n->clock_back_ns + drift_loss;
}

uint64_t sg_world_hash(const struct sg_world *w)
{
    return sg_trace_log_hash(&w->trace);
}
