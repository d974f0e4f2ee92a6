/*
 * world_faults.c: the nemesis's decisions inside the world (see nemesis.h, world.h).
 *
 * Each fault class draws from its own PRNG stream. Timed classes (partition, crash,
 * fsync, clock jump, poison) are control events that re-arm themselves at a random gap in
 * [gap/2, 3*gap/2] while faults are on; per-message and per-hit classes decide inline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "assert.h"
#include "scenario.h"
#include "world.h"
#include "banned.h"

enum { STREAM_FAULT = 500, GROUP_CLIENTS = SG_ROLE_COUNT };

static struct sg_prng *rng(struct sg_world *w, enum sg_fault_class c)
{
    return &w->fault_prng[c];
}

uint64_t sg_world_disk_random(void *world)
{
    struct sg_world *w = world;
    return sg_prng_next(rng(w, SG_FAULT_DISK));
}

static uint64_t io_random(void *world)
{
    struct sg_world *w = world;
    return sg_prng_next(rng(w, SG_FAULT_IO));
}

void sg_world_recovery_fault(struct sg_world *w, const char *prefix)
{
    if (!w->faults_on || w->opt.faults.crash_every_ns <= 0) return;
    struct sg_prng *p = rng(w, SG_FAULT_CRASH);
    if (!sg_prng_chance(p, 1, 8)) return;
    uint64_t ops = sg_prng_below(p, 16);
    if (!sg_world_fault_allowed(w, "crash-in-recovery")) return;
    sg_vfs_set_down_after(&w->vfs, prefix, ops);
    sg_world_trace(w, 0, "crash armed inside recovery");
}

int64_t sg_world_restart_delay(struct sg_world *w)
{
    if (!w->faults_on || w->opt.faults.restart_max_ns <= 0) return w->opt.restart_delay_ns;
    return sg_prng_range(rng(w, SG_FAULT_CRASH), 100000000, w->opt.faults.restart_max_ns);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

bool sg_world_fault_allowed(struct sg_world *w, const char *what)
{
    uint64_t ordinal = w->fault_ordinal++;
    bool allowed = !w->opt.tape_active ||
                   bsearch(&ordinal, w->opt.tape_keep, w->opt.tape_keep_count,
                           sizeof ordinal, cmp_u64) != NULL;
    char rec[96];
    snprintf(rec, sizeof rec, "fault %llu %s%s", (unsigned long long)ordinal, what,
             allowed ? "" : " skipped");
    sg_world_trace(w, 0, rec);
    w->faults_injected += allowed;
    return allowed;
}

static int64_t gap_of(const struct sg_faults *f, enum sg_fault_class c)
{
    switch (c) {
    case SG_FAULT_PARTITION: return f->partition_every_ns;
    case SG_FAULT_CRASH: return f->crash_every_ns;
    case SG_FAULT_FSYNC: return f->fsync_fail_every_ns;
    case SG_FAULT_CLOCK: return f->clock_jump_every_ns;
    case SG_FAULT_POISON: return f->poison_every_ns;
    default: return 0;
    }
}

static void arm(struct sg_world *w, enum sg_fault_class c)
{
    int64_t gap = gap_of(&w->opt.faults, c);
    if (gap <= 0) return;
    int64_t at = w->now_ns + sg_prng_range(rng(w, c), gap / 2, gap + gap / 2);
    sg_world_push_control(w, 0, ((uint64_t)SG_CONTROL_NEMESIS << 32) | (uint64_t)c, at);
}

void sg_world_faults_on(struct sg_world *w)
{
    const struct sg_faults *f = &w->opt.faults;
    w->faults_on = true;
    for (int c = 0; c < SG_FAULT_CLASS_COUNT; c++)
        sg_prng_init(&w->fault_prng[c], w->seed, STREAM_FAULT + (uint64_t)c);
    for (int r = 0; r < SG_ROLE_COUNT; r++) {
        struct sg_world_node *n = &w->nodes[r];
        if (f->clock_skew_max_ns > 0) {
            int64_t before = n->clock_offset_ns;
            n->clock_offset_ns = sg_prng_range(rng(w, SG_FAULT_CLOCK), -f->clock_skew_max_ns,
                                               f->clock_skew_max_ns);
            if (n->clock_offset_ns < before) n->clock_back_ns += before - n->clock_offset_ns;
        }
        if (f->drift_ppm_max > 0)
            n->drift_ppm = (int32_t)sg_prng_range(rng(w, SG_FAULT_CLOCK),
                                                  -(int64_t)f->drift_ppm_max, f->drift_ppm_max);
    }
    if (f->io_error_ppm)
        sg_vfs_set_io_faults(&w->vfs, "/n", f->io_error_ppm, f->io_error_ppm, 1000000,
                             io_random, w);
    for (int c = 0; c < SG_FAULT_CLASS_COUNT; c++) arm(w, (enum sg_fault_class)c);
    for (size_t i = 0; i < w->opt.scheduled_count && i < SG_SCHEDULED_MAX; i++)
        sg_world_push_control(w, 0, ((uint64_t)SG_CONTROL_SCHEDULED << 32) | i,
                              w->opt.scheduled[i].at_ns);
    sg_world_trace(w, 0, "faults on");
}

void sg_world_heal(struct sg_world *w)
{
    w->faults_on = false;
    memset(w->cut, 0, sizeof w->cut);
    w->partitioned = false;
    sg_vfs_set_io_faults(&w->vfs, "/n", 0, 0, 0, io_random, w);
    sg_vfs_fail_next_sync(&w->vfs, "/n", 0);
    for (int r = 0; r < SG_ROLE_COUNT; r++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "%s/", w->nodes[r].dir);
        sg_vfs_set_down(&w->vfs, prefix, false); /* disarms a pending countdown too */
        if (!w->nodes[r].up)
            sg_world_push_control(w, w->nodes[r].env.node_id,
                                  (uint64_t)SG_CONTROL_START << 32, w->now_ns);
    }
    sg_world_trace(w, 0, "heal");
}

static uint32_t group_of(uint32_t node)
{
    return node < SG_ROLE_COUNT ? node : GROUP_CLIENTS;
}

size_t sg_world_fate(struct sg_world *w, uint32_t from, uint32_t to, int64_t latency[2])
{
    struct sg_prng *net = &w->net_prng;
    int64_t max = w->link_latency_max_ns[group_of(from)][group_of(to)];
    latency[0] = sg_prng_range(net, w->opt.latency_min_ns,
                               max > w->opt.latency_min_ns ? max : w->opt.latency_min_ns);
    if (!w->faults_on || to == SG_NODE_INJECTOR) return 1;
    const struct sg_faults *f = &w->opt.faults;
    struct sg_prng *p = rng(w, SG_FAULT_NETWORK);
    if (w->cut[group_of(from)][group_of(to)]) {
        w->stats.dropped++;
        return 0;
    }
    if (sg_prng_chance(p, f->drop_ppm, 1000000) && sg_world_fault_allowed(w, "drop")) {
        w->stats.dropped++;
        return 0;
    }
    if (sg_prng_chance(p, f->spike_ppm, 1000000)) {
        int64_t extra = sg_prng_range(p, 0, f->spike_max_ns);
        if (sg_world_fault_allowed(w, "delay")) {
            latency[0] += extra;
            w->stats.delayed++;
        }
    }
    if (!sg_prng_chance(p, f->dup_ppm, 1000000)) return 1;
    latency[1] = latency[0] + sg_prng_range(p, 0, f->spike_max_ns / 4 + w->opt.latency_max_ns);
    if (!sg_world_fault_allowed(w, "duplicate")) return 1;
    w->stats.duplicated++;
    return 2;
}

int64_t sg_world_msg_delay_max_ns(const struct sg_world *w)
{
    const struct sg_world_options *o = &w->opt;
    int64_t latency = o->latency_max_ns > o->latency_min_ns ? o->latency_max_ns
                                                             : o->latency_min_ns;
    int64_t spike = o->faults.spike_max_ns;
    SG_ASSERT_PURE(latency >= 0);
    SG_ASSERT_PURE(spike >= 0);
    /* the first copy: latency + spike; a duplicate: that + spike / 4 + latency_max */
    return latency + spike + spike / 4 + o->latency_max_ns + 1;
}

bool sg_world_add_crash_at(struct sg_world_options *o, enum sg_role role, const char *point,
                           uint32_t hit)
{
    SG_ASSERT_PURE(hit >= 1);
    int index = sg_crashpoint_find(role, point);
    if (index < 0 || o->crash_at_count == SG_CRASH_AT_MAX) return false;
    o->crash_at[o->crash_at_count++] = (struct sg_crash_at){(uint32_t)index, hit};
    SG_ASSERT_PURE(o->crash_at_count <= SG_CRASH_AT_MAX);
    return true;
}

/* The crash rate of a point hit while faults are on: its own rate if the scenario names
 * one, else the rate for every point. */
static uint32_t crash_rate(const struct sg_world *w, int index)
{
    for (size_t i = 0; i < w->opt.crash_rate_count; i++)
        if ((int)w->opt.crash_rates[i].point == index) return w->opt.crash_rates[i].ppm;
    return w->opt.faults.crash_point_ppm;
}

bool sg_world_crash_point(struct sg_world *w, struct sg_world_node *n, const char *point)
{
    int index = sg_crashpoint_find(n->role, point);
    SG_ASSERT_PURE(index >= 0); /* every fault_point() in core is in the catalogue */
    bool crash = false, listed = false;
    for (size_t i = 0; i < w->opt.crash_at_count; i++) {
        if ((int)w->opt.crash_at[i].point != index) continue;
        listed = true;
        crash |= ++w->crash_hits[i] == w->opt.crash_at[i].hit;
    }
    uint32_t ppm = listed || !w->faults_on ? 0 : crash_rate(w, index);
    if (ppm)
        crash = sg_prng_chance(rng(w, SG_FAULT_CRASH_POINT), ppm, 1000000) &&
                sg_world_fault_allowed(w, "crash-point");
    if (!crash) return false;
    w->stats.crash_points++;
    char rec[96];
    snprintf(rec, sizeof rec, "fault_point %s crash", point);
    sg_world_trace(w, n->env.node_id, rec);
    return true;
}

static void partition(struct sg_world *w)
{
    struct sg_prng *p = rng(w, SG_FAULT_PARTITION);
    if (w->partitioned) return;
    uint32_t a = (uint32_t)sg_prng_below(p, SG_ROLE_COUNT + 1);
    bool isolate = sg_prng_chance(p, 1, 2);
    uint32_t b = (a + 1 + (uint32_t)sg_prng_below(p, SG_ROLE_COUNT)) % (SG_ROLE_COUNT + 1);
    int64_t len = sg_prng_range(p, w->opt.faults.partition_max_ns / 10,
                                w->opt.faults.partition_max_ns);
    if (!sg_world_fault_allowed(w, "partition")) return;
    char rec[64];
    if (isolate) { /* isolate one group both ways */
        for (uint32_t g = 0; g <= SG_ROLE_COUNT; g++)
            if (g != a) w->cut[a][g] = w->cut[g][a] = true;
        snprintf(rec, sizeof rec, "partition isolate %u", a);
    } else { /* one direction of one link */
        w->cut[a][b] = true;
        snprintf(rec, sizeof rec, "partition oneway %u->%u", a, b);
    }
    w->partitioned = true;
    w->stats.partitions++;
    sg_world_trace(w, 0, rec);
    sg_world_push_control(w, 0, (uint64_t)SG_CONTROL_HEAL_PARTITION << 32, w->now_ns + len);
}

static void crash(struct sg_world *w)
{
    struct sg_prng *p = rng(w, SG_FAULT_CRASH);
    enum sg_role role = (enum sg_role)sg_prng_below(p, SG_ROLE_COUNT);
    struct sg_world_node *n = &w->nodes[role];
    if (!n->up) return;
    bool now = sg_prng_chance(p, 1, 2);
    uint64_t ops = sg_prng_below(p, 24);
    if (!sg_world_fault_allowed(w, now ? "crash" : "crash-at-disk-operation")) return;
    if (now) {
        sg_world_crash(w, role, true);
        return;
    }
    /* Power loss at an exact disk operation a little later: inside a COMMIT, a
     * checkpoint or a recovery. The node crashes after the step that hits it. */
    char prefix[16];
    snprintf(prefix, sizeof prefix, "%s/", n->dir);
    sg_vfs_set_down_after(&w->vfs, prefix, ops);
    sg_world_trace(w, n->env.node_id, "crash armed at a disk operation");
}

/* Produces one undecodable record as the injector (sim-only metadata marks it). */
static void inject_poison(struct sg_world *w, const char *topic, const char *key,
                          const uint8_t *junk, size_t len, bool allowed)
{
    SgRecord rec = SAGASIM__NODE__V1__RECORD__INIT;
    SgRecord *recs[1] = {&rec};
    rec.topic = (char *)topic;
    rec.key = (char *)key;
    rec.value.data = (uint8_t *)junk;
    rec.value.len = len;
    Sagasim__Node__V1__ProduceRequest pr = SAGASIM__NODE__V1__PRODUCE_REQUEST__INIT;
    pr.n_records = 1;
    pr.records = recs;
    SgEnvelope e = SAGASIM__NODE__V1__ENVELOPE__INIT;
    e.msg_id = ++w->stats.poison;
    e.from = SG_NODE_INJECTOR;
    e.to = SG_NODE_BROKER;
    e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_PRODUCE;
    e.produce = &pr;
    if (allowed) sg_world_client_send_envelope(w, &e);
}

/* A scheduled poison record: a key that the broker puts on the chosen partition. */
static void poison_at(struct sg_world *w, const char *topic, uint32_t partition)
{
    static const uint8_t junk[] = {0xff, 0x00, 0x5a, 0xa5, 0xff};
    char key[32];
    for (uint32_t i = 0; i < 100000; i++) {
        snprintf(key, sizeof key, "poison-at-%u", i);
        if (XXH3_64bits(key, strlen(key)) % w->cfg.partitions == partition) break;
    }
    inject_poison(w, topic, key, junk, sizeof junk, true);
}

static void poison(struct sg_world *w)
{
    static const char *const topics[] = {"cbsaga.cmd.identity", "cbsaga.evt.identity",
                                         "cbsaga.cmd.risk", "cbsaga.evt.risk"};
    struct sg_prng *p = rng(w, SG_FAULT_POISON);
    uint8_t junk[24];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)sg_prng_next(p);
    junk[0] = 0xff; /* an invalid protobuf tag: never decodes */
    char key[24];
    snprintf(key, sizeof key, "poison-%llu", (unsigned long long)sg_prng_below(p, 1000));
    const char *topic = topics[sg_prng_below(p, 4)];
    size_t len = 1 + sg_prng_below(p, sizeof junk);
    inject_poison(w, topic, key, junk, len, sg_world_fault_allowed(w, "poison"));
}

void sg_world_nemesis(struct sg_world *w, enum sg_fault_class c)
{
    if (c == SG_FAULT_CLASS_COUNT) { /* a partition heals */
        memset(w->cut, 0, sizeof w->cut);
        w->partitioned = false;
        sg_world_trace(w, 0, "partition healed");
        return;
    }
    if (!w->faults_on) return;
    struct sg_prng *p = rng(w, c);
    switch (c) {
    case SG_FAULT_PARTITION: partition(w); break;
    case SG_FAULT_CRASH: crash(w); break;
    case SG_FAULT_FSYNC: {
        struct sg_world_node *n = &w->nodes[sg_prng_below(p, SG_ROLE_COUNT)];
        if (!sg_world_fault_allowed(w, "fsync-failure")) break;
        char prefix[16];
        snprintf(prefix, sizeof prefix, "%s/", n->dir);
        sg_vfs_fail_next_sync(&w->vfs, prefix, 1);
        w->stats.fsync_faults++;
        sg_world_trace(w, n->env.node_id, "fsync failure armed");
        break;
    }
    case SG_FAULT_CLOCK: {
        struct sg_world_node *n = &w->nodes[sg_prng_below(p, SG_ROLE_COUNT)];
        int64_t max = w->opt.faults.clock_jump_max_ns;
        int64_t delta = sg_prng_range(p, -max, max);
        if (!sg_world_fault_allowed(w, "clock-jump")) break;
        sg_world_clock_shift(w, n->role, delta);
        w->stats.clock_jumps++;
        break;
    }
    case SG_FAULT_POISON: poison(w); break;
    default: break;
    }
    arm(w, c);
}

static struct sg_world_node *node_of_id(struct sg_world *w, uint32_t id)
{
    for (int r = 0; r < SG_ROLE_COUNT; r++)
        if (w->nodes[r].env.node_id == id) return &w->nodes[r];
    return NULL;
}

void sg_world_scheduled(struct sg_world *w, size_t index, bool begin)
{
    const struct sg_scheduled_fault *f = &w->opt.scheduled[index];
    uint32_t a = group_of(f->a), b = group_of(f->b);
    struct sg_world_node *n = node_of_id(w, f->a);
    char rec[96];
    snprintf(rec, sizeof rec, "scheduled fault %zu %s", index, begin ? "begins" : "ends");
    sg_world_trace(w, 0, rec);
    switch (f->kind) {
    case SG_SCHED_CRASH: /* every server node at once for SG_SCHED_ALL */
        for (int r = 0; r < SG_ROLE_COUNT; r++) {
            struct sg_world_node *t = &w->nodes[r];
            if (f->a != SG_SCHED_ALL && t != n) continue;
            if (begin && f->during_commit) {
                char prefix[16];
                snprintf(prefix, sizeof prefix, "%s/", t->dir);
                sg_vfs_set_down_at_sync(&w->vfs, prefix); /* crashed by after_step */
                sg_world_trace(w, t->env.node_id, "power loss armed at the next commit");
            } else if (begin && t->up) {
                sg_world_crash(w, t->role, f->until_ns == 0);
            }
            if (!begin && !t->up) sg_world_start_at(w, t->role, w->now_ns); /* held down */
        }
        break;
    case SG_SCHED_POISON: poison_at(w, f->topic, f->partition); break;
    case SG_SCHED_ISOLATE:
        for (uint32_t g = 0; g <= SG_ROLE_COUNT; g++)
            if (g != a) w->cut[a][g] = w->cut[g][a] = begin;
        w->stats.partitions += begin;
        break;
    case SG_SCHED_ONEWAY:
        w->cut[a][b] = begin;
        w->stats.partitions += begin;
        break;
    case SG_SCHED_CLOCK_JUMP:
        if (n) {
            sg_world_clock_shift(w, n->role, f->amount_ns);
            w->stats.clock_jumps++;
        }
        break;
    case SG_SCHED_FSYNC_FAIL:
        if (n) {
            char prefix[16];
            snprintf(prefix, sizeof prefix, "%s/", n->dir);
            sg_vfs_fail_next_sync(&w->vfs, prefix, 1);
            w->stats.fsync_faults++;
        }
        break;
    }
    bool span = f->kind == SG_SCHED_ISOLATE || f->kind == SG_SCHED_ONEWAY ||
                (f->kind == SG_SCHED_CRASH && f->until_ns > 0);
    if (begin && span)
        sg_world_push_control(w, 0, ((uint64_t)SG_CONTROL_SCHEDULED_END << 32) | index,
                              f->until_ns);
}
