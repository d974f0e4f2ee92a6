/*
 * idem_program.h: idempotency as a program of operations (the fuzz_idempotency target
 * and `sagasim replay --fuzz-input fuzz_idempotency FILE` share it).
 *
 * Any byte string decodes to a program (no input is wasted): 4 bytes per operation
 * (opcode, then three argument bytes; a short tail is padded with zeros), at most
 * SG_IDEM_OPS_MAX operations. The operations act on a simulated system with every node,
 * no random faults, 1 ms links: creates with user and key drawn from small sets (2 users x
 * 3 keys) and 3 payloads, so collisions are frequent; exact retries; K concurrent
 * duplicates from different clients; GetWithdrawal; time past a lease or past the saga
 * deadline; a jump of the orchestrator's wall clock; a power loss of the orchestrator at a
 * named fault point (or at once) and its restart; a failing fsync on its next commit;
 * waits. At the end every create call still without a definite answer is retried, as a
 * real client would, and the system is healed.
 *
 * The contract is checked after every operation: at most one withdrawal per (user, key);
 * every OK for a key carries the same withdrawal id; a different payload never gets OK;
 * every acknowledged withdrawal survives every crash; UNAVAILABLE only once a fault was
 * injected; ABORTED only while another attempt's lease is live (judged on the
 * orchestrator's own wall clock: an attempt for the key arrived less than lease_ttl ago).
 * At the end the full checker judges I1-I10. The first failure is the verdict.
 */
#ifndef SG_IDEM_PROGRAM_H
#define SG_IDEM_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"

enum { SG_IDEM_OPS_MAX = 48 };

enum sg_idem_opcode {
    SG_IDEM_CREATE,     /* a: client, b: user*3+key (mod 6), c: payload (mod 3) */
    SG_IDEM_RETRY,      /* a: client: its last create again, exactly */
    SG_IDEM_DUPS,       /* a: 2 + a%7 clients send the same create at once */
    SG_IDEM_GET,        /* b: the key whose withdrawal to read */
    SG_IDEM_LEASE,      /* time passes beyond the lease */
    SG_IDEM_DEADLINE,   /* time passes beyond the saga deadline */
    SG_IDEM_CLOCK,      /* a: the orchestrator's wall clock jumps by (a - 128) * 40 ms */
    SG_IDEM_CRASH,      /* a: a named orchestrator fault point (or power loss now) */
    SG_IDEM_FSYNC,      /* the orchestrator's next fsync fails */
    SG_IDEM_WAIT,       /* a: time passes, 1 + a ms */
    SG_IDEM_OPCODES,
};

struct sg_idem_op {
    uint8_t code, a, b, c;
};

struct sg_idem_program {
    struct sg_idem_op ops[SG_IDEM_OPS_MAX];
    size_t n;
};

struct sg_idem_result {
    bool ok;
    bool panicked;
    char violation[512];      /* "" when ok: "<rule> <evidence>" */
    size_t failed_op;         /* the operation after which it was seen (n: at the end) */
    uint64_t hash;            /* the run's trace hash */
    struct sg_check_report report;
};

void sg_idem_decode(const uint8_t *data, size_t len, struct sg_idem_program *p);
/* One line describing an operation, e.g. "create client=1 user=0 key=2 payload=1". */
void sg_idem_describe(const struct sg_idem_op *op, char *buf, size_t cap);
/* Runs the program with the planted bugs given (a bit set of enum sg_bug). False only on
 * out-of-memory. */
bool sg_idem_run(const struct sg_idem_program *p, uint64_t bugs, struct sg_idem_result *out);

#endif
