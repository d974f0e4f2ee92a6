/*
 * history_json.h: the client history as JSON lines (DESIGN §7, §8.1), for live runs: one
 * object per call attempt with the fields of struct sg_hist_rec —
 *   {"client":4,"op":"create","key":"k","user_id":"...","asset":"BTC","amount_minor":100,
 *    "destination_addr":"a","invoke_ns":1,"complete_ns":2,"outcome":"ok","code":0,
 *    "withdrawal_id":"...","status":"REQUESTED"}
 * `sagasim live load` and `live chaos` write it; the loader here reads it back into the
 * struct the checker takes, so live and simulated runs are judged by the same code.
 * Loading is strict: a line that is not such an object is an error naming the line.
 */
#ifndef SG_HISTORY_JSON_H
#define SG_HISTORY_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "history.h"

/* Appends one record as a line; false when the write failed. */
bool sg_history_write_line(FILE *f, const struct sg_hist_rec *r);
/* Reads every line of path into h (initialised by the caller). On failure err holds
 * "path:line: why". */
bool sg_history_load_json(const char *path, struct sg_history *h, char *err, size_t cap);

#endif
