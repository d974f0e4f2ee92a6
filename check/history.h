/*
 * history.h: the client history, defined once for simulated and live runs (DESIGN §8.1).
 *
 * Every client call is one record: invoked at invoke_ns, completed at complete_ns with an
 * outcome. Mapping from the reply code: OK -> ok; INVALID_ARGUMENT, FAILED_PRECONDITION,
 * NOT_FOUND, ABORTED -> fail (that attempt had no effect); UNAVAILABLE, timeout and any
 * other code -> unknown. Live runs store the same records as JSON lines.
 */
#ifndef SG_HISTORY_H
#define SG_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codes.h"

enum sg_op { SG_OP_CREATE = 1, SG_OP_GET = 2 };
enum sg_outcome { SG_OUTCOME_OK = 1, SG_OUTCOME_FAIL, SG_OUTCOME_UNKNOWN };

struct sg_hist_rec {
    uint32_t client;
    enum sg_op op;
    char key[132];
    char user_id[40];
    char asset[20];
    int64_t amount_minor;
    char destination_addr[132];
    int64_t invoke_ns;
    int64_t complete_ns;
    enum sg_outcome outcome;
    uint32_t code;
    char withdrawal_id[40];
    char status[16];
};

struct sg_history {
    struct sg_hist_rec *recs;
    size_t count, cap;
};

void sg_history_init(struct sg_history *h);
void sg_history_deinit(struct sg_history *h);
/* Returns a zeroed record appended to the history, or NULL when memory is exhausted. */
struct sg_hist_rec *sg_history_add(struct sg_history *h);
enum sg_outcome sg_outcome_of_code(uint32_t code);
const char *sg_outcome_name(enum sg_outcome o);

#endif
