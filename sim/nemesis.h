/*
 * nemesis.h: the fault injector of the simulator (the Jepsen term): which faults, how
 * often, and the decisions it takes (DESIGN §4).
 *
 * Fault classes, each with its own PRNG stream (seed, class) so that switching one class
 * on or off never reshuffles another:
 *   network   drop, duplicate, delay spike (reorders) per message; partitions that heal
 *             (one node cut off both ways, or one direction of one link)
 *   crash     node power loss at random times (immediately, or after a random number of
 *             disk operations: in the middle of a COMMIT or a checkpoint), and at named
 *             fault points (BUGGIFY); restart after a random delay
 *   disk      at power loss: pending sectors lost / kept / torn; fsync failures (the
 *             COMMIT's outcome is unknown); transient read/write EIO
 *   clock     per-node offset and drift, and jumps forward and back
 *   poison    undecodable records injected into the broker's topics
 * All rates are integer ratios: per million (ppm) per opportunity, or a mean gap in
 * virtual time between events (0 = never). The safety phase has faults on; the heal phase
 * turns them off, restarts every node and heals every partition.
 */
#ifndef SG_NEMESIS_H
#define SG_NEMESIS_H

#include <stdbool.h>
#include <stdint.h>

enum sg_fault_class {
    SG_FAULT_NETWORK,
    SG_FAULT_PARTITION,
    SG_FAULT_CRASH,
    SG_FAULT_CRASH_POINT,
    SG_FAULT_DISK,
    SG_FAULT_FSYNC,
    SG_FAULT_IO,
    SG_FAULT_CLOCK,
    SG_FAULT_POISON,
    SG_FAULT_CLASS_COUNT,
};

struct sg_faults {
    uint32_t drop_ppm, dup_ppm, spike_ppm;     /* per message */
    int64_t spike_max_ns;
    int64_t partition_every_ns, partition_max_ns;
    int64_t crash_every_ns, restart_max_ns;
    uint32_t crash_point_ppm;                  /* per fault-point hit */
    uint32_t keep_pending_pct, torn_pct;       /* at power loss */
    int64_t fsync_fail_every_ns;
    uint32_t io_error_ppm;                     /* per read / write */
    int64_t clock_skew_max_ns, clock_jump_every_ns, clock_jump_max_ns;
    uint32_t drift_ppm_max;
    int64_t poison_every_ns;
};

/* Every class off. */
void sg_faults_none(struct sg_faults *f);
/* The `default` scenario: every class on at a moderate rate (DESIGN §8). */
void sg_faults_default(struct sg_faults *f);
/* Swarm testing: the seed picks which classes are on and scales their rates. */
void sg_faults_swarm(struct sg_faults *f, uint64_t seed);
/* Names of the classes that are on, e.g. "network,crash,disk", into buf. */
void sg_faults_describe(const struct sg_faults *f, char *buf, unsigned long cap);

#endif
