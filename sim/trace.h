/*
 * trace.h: the run's trace: binary records hashed with XXH3-64 (DESIGN §8 "Trace").
 *
 * Every scheduled event and every effect appends one record (core/trace_rec.h) at a
 * virtual time on a node. The run hash is XXH3-64 over the records' canonical binary
 * encoding, printed as 16 lower-case hex digits. Each record is encoded as, little-endian:
 * at_ns (8 bytes), node (4), kind (4), the SG_TR_INTS integers (8 each), then per string
 * slot its length (4) and bytes (NULL: length 0). No text is made on this path.
 * Only when asked is a record rendered as the text line "<time_ns> <node> <text>": for a
 * sink (cli/ writes --trace FILE) and/or to keep it (keep = true), so that two runs can be
 * compared record by record (--check-determinism names the first divergent record;
 * reports draw the timeline). The text holds every field, so records that hash
 * differently also read differently (every slot a kind uses is in its text).
 */
#ifndef SG_TRACE_H
#define SG_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace_rec.h"

struct sg_trace_log {
    void *xxh_state;        /* XXH3_state_t, opaque here */
    uint64_t count;
    /* Optional sink for every record (cli/ writes --trace FILE with it; sim does no I/O). */
    void (*sink)(void *sink_ctx, int64_t at_ns, uint32_t node, const char *text);
    void *sink_ctx;
    bool keep;              /* keep every record's text for comparison */
    char **records;
    size_t records_cap;
};

bool sg_trace_log_init(struct sg_trace_log *t, bool keep);
void sg_trace_log_deinit(struct sg_trace_log *t);
void sg_trace_log_add(struct sg_trace_log *t, int64_t at_ns, uint32_t node,
                      const struct sg_trace_rec *rec);
/* Appends an SG_TR_TEXT record carrying text. */
void sg_trace_log_append(struct sg_trace_log *t, int64_t at_ns, uint32_t node,
                         const char *text);
uint64_t sg_trace_log_hash(const struct sg_trace_log *t);
/* Index of the first record that differs (or the shorter count when one is a prefix);
 * returns false when both kept logs are identical. Both must have been kept. */
bool sg_trace_log_diverge(const struct sg_trace_log *a, const struct sg_trace_log *b,
                          uint64_t *index_out);

#endif
