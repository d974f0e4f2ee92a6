/*
 * history.c: the client history container and the reply-code mapping.
 */
#include "history.h"

#include <stdlib.h>
#include <string.h>

void sg_history_init(struct sg_history *h)
{
    memset(h, 0, sizeof *h);
}

void sg_history_deinit(struct sg_history *h)
{
    free(h->recs);
    memset(h, 0, sizeof *h);
}

struct sg_hist_rec *sg_history_add(struct sg_history *h)
{
    if (h->count == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 256;
        struct sg_hist_rec *r = realloc(h->recs, cap * sizeof *r);
        if (!r) return NULL;
        h->recs = r;
        h->cap = cap;
    }
    struct sg_hist_rec *rec = &h->recs[h->count++];
    memset(rec, 0, sizeof *rec);
    return rec;
}

enum sg_outcome sg_outcome_of_code(uint32_t code)
{
    switch (code) {
    case SG_CODE_OK: return SG_OUTCOME_OK;
    case SG_CODE_INVALID_ARGUMENT:
    case SG_CODE_FAILED_PRECONDITION:
    case SG_CODE_NOT_FOUND:
    case SG_CODE_ABORTED: return SG_OUTCOME_FAIL;
    default: return SG_OUTCOME_UNKNOWN;
    }
}

const char *sg_outcome_name(enum sg_outcome o)
{
    switch (o) {
    case SG_OUTCOME_OK: return "ok";
    case SG_OUTCOME_FAIL: return "fail";
    case SG_OUTCOME_UNKNOWN: return "unknown";
    }
    return "?";
}
