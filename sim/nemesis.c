/*
 * nemesis.c: fault rates: none, default, swarm (see nemesis.h). The decisions themselves
 * are taken in world_faults.c, where the world's state is at hand.
 */
#include "nemesis.h"

#include <stdio.h>
#include <string.h>

#include "prng.h"
#include "banned.h"

void sg_faults_none(struct sg_faults *f)
{
    memset(f, 0, sizeof *f);
}

void sg_faults_default(struct sg_faults *f)
{
    memset(f, 0, sizeof *f);
    f->drop_ppm = 20000;               /* 2% of messages lost */
    f->dup_ppm = 20000;                /* 2% delivered twice */
    f->spike_ppm = 30000;              /* 3% delayed up to 800 ms: reordering */
    f->spike_max_ns = 800000000;
    f->partition_every_ns = 6000000000LL;
    f->partition_max_ns = 3000000000LL;
    f->crash_every_ns = 4000000000LL;
    f->restart_max_ns = 2000000000LL;
    f->crash_point_ppm = 5000;         /* 0.5% of fault-point hits crash the node */
    f->keep_pending_pct = 50;
    f->torn_pct = 25;
    f->fsync_fail_every_ns = 3000000000LL;
    f->io_error_ppm = 200;
    f->clock_skew_max_ns = 2000000000LL;
    f->clock_jump_every_ns = 7000000000LL;
    f->clock_jump_max_ns = 3000000000LL;
    f->drift_ppm_max = 200;
    f->poison_every_ns = 5000000000LL;
}

/* Scales a rate by k/4 (k in 0..8): 0 switches the class off. */
static uint32_t scale_ppm(uint32_t v, uint64_t k)
{
    return (uint32_t)(v * k / 4);
}

static int64_t scale_gap(int64_t gap, uint64_t k)
{
    return k == 0 ? 0 : gap * 4 / (int64_t)k;
}

void sg_faults_swarm(struct sg_faults *f, uint64_t seed)
{
    struct sg_prng p;
    sg_prng_init(&p, seed, 0x5377a4d);
    sg_faults_default(f);
    uint64_t k[SG_FAULT_CLASS_COUNT];
    for (int c = 0; c < SG_FAULT_CLASS_COUNT; c++)
        k[c] = sg_prng_chance(&p, 1, 3) ? 0 : 1 + sg_prng_below(&p, 8);
    f->drop_ppm = scale_ppm(f->drop_ppm, k[SG_FAULT_NETWORK]);
    f->dup_ppm = scale_ppm(f->dup_ppm, k[SG_FAULT_NETWORK]);
    f->spike_ppm = scale_ppm(f->spike_ppm, k[SG_FAULT_NETWORK]);
    f->partition_every_ns = scale_gap(f->partition_every_ns, k[SG_FAULT_PARTITION]);
    f->crash_every_ns = scale_gap(f->crash_every_ns, k[SG_FAULT_CRASH]);
    f->crash_point_ppm = scale_ppm(f->crash_point_ppm, k[SG_FAULT_CRASH_POINT]);
    if (k[SG_FAULT_DISK] == 0) f->keep_pending_pct = f->torn_pct = 0;
    f->fsync_fail_every_ns = scale_gap(f->fsync_fail_every_ns, k[SG_FAULT_FSYNC]);
    f->io_error_ppm = scale_ppm(f->io_error_ppm, k[SG_FAULT_IO]);
    if (k[SG_FAULT_CLOCK] == 0) {
        f->clock_skew_max_ns = f->clock_jump_every_ns = 0;
        f->drift_ppm_max = 0;
    } else {
        f->clock_jump_every_ns = scale_gap(f->clock_jump_every_ns, k[SG_FAULT_CLOCK]);
    }
    f->poison_every_ns = scale_gap(f->poison_every_ns, k[SG_FAULT_POISON]);
}

void sg_faults_describe(const struct sg_faults *f, char *buf, unsigned long cap)
{
    const struct { const char *name; bool on; } classes[] = {
        {"network", f->drop_ppm || f->dup_ppm || f->spike_ppm},
        {"partition", f->partition_every_ns > 0},
        {"crash", f->crash_every_ns > 0},
        {"crash_point", f->crash_point_ppm > 0},
        {"disk", f->keep_pending_pct > 0 || f->torn_pct > 0},
        {"fsync", f->fsync_fail_every_ns > 0},
        {"io", f->io_error_ppm > 0},
        {"clock", f->clock_skew_max_ns > 0 || f->clock_jump_every_ns > 0},
        {"poison", f->poison_every_ns > 0},
    };
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
        if (!classes[i].on) continue;
        int n = snprintf(buf + used, cap - used, "%s%s", used ? "," : "", classes[i].name);
        if (n < 0 || (size_t)n >= cap - used) break;
        used += (size_t)n;
    }
    if (!used) snprintf(buf, cap, "none");
}
