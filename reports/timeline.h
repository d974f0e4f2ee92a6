/*
 * timeline.h: the model behind the timeline picture (internal to reports/).
 *
 * timeline.c turns the trace records of a struct sg_report_timeline into this model:
 * parsed records, send/deliver pairs, the window of rows to draw, the lanes, and the state
 * (servers up or down, partition in force) when the window opens. timeline_svg.c draws
 * it. The model borrows the record texts; tl_deinit frees what tl_init allocated.
 */
#ifndef SG_TIMELINE_H
#define SG_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report.h"

enum {
    TL_EVENTS_MAX = 400,       /* rows drawn at most */
    TL_CLIENT_LANES_MAX = 2,   /* more distinct clients: one merged lane */
    TL_LANES_MAX = 4 + TL_CLIENT_LANES_MAX + 1,
    TL_COPIES_MAX = 8,         /* a send's copies beyond this are ignored */
    TL_TIME_W = 104,           /* time labels column, left of the lanes */
    TL_LANE_W = 104,           /* one lane */
};

enum tl_kind {
    TK_OTHER, TK_SEND, TK_DELIVER, TK_CRASH, TK_ARMED, TK_FAULT_POINT, TK_START_OK,
    TK_START_FAIL, TK_CONTROL, TK_STOP, TK_ISOLATE, TK_ONEWAY, TK_HEALED, TK_FSYNC, TK_CLOCK,
    TK_WORLD, TK_PANIC, TK_TRANSITION, TK_REPLY, TK_TIMER, TK_TAPE, TK_UNPARSED,
};

struct tl_rec {
    int64_t t_ns;
    int64_t amount;      /* clock shift in ns */
    uint64_t len;
    uint32_t node, a, b; /* a->b: message ends or partition groups (4: every client) */
    uint32_t copies;
    enum tl_kind kind;
    bool dropped;
    const char *text;    /* after "<time> <node> "; the whole line when unparsed */
    size_t send;         /* deliver: its send record, SIZE_MAX when unmatched */
};

struct tl_lane {
    uint32_t lo, hi;     /* node ids drawn on this lane */
    char name[24];
    int x;               /* centre */
};

struct tl {
    const struct sg_report_timeline *t;
    struct tl_rec *rec;     /* one per record */
    size_t *rows, n_rows;   /* record index of each drawn row, in order */
    size_t *row_of;         /* row of each record, SIZE_MAX when not drawn */
    struct tl_lane lanes[TL_LANES_MAX];
    size_t n_lanes;
    bool up_at_start[4];    /* servers up when the window opens */
    enum tl_kind part_kind; /* partition in force when the window opens; TK_OTHER: none */
    uint32_t part_a, part_b;
};

/* Builds the model; false when memory ran out (then nothing needs freeing). */
bool tl_init(struct tl *x, const struct sg_report_timeline *t);
void tl_deinit(struct tl *x);
/* Lane centre of a node, -1 when it has no lane. */
int tl_lane_x(const struct tl *x, uint32_t node);
/* Horizontal extent of a partition group's lanes; false when it has none drawn. */
bool tl_group_span(const struct tl *x, uint32_t g, int *lo, int *hi);

#endif
