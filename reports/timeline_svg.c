/*
 * timeline_svg.c: draws the timeline model (timeline.h) as an inline SVG sequence diagram
 * with a caption and a legend (rp_timeline_write, report_int.h).
 *
 * Picture: a vertical lane per node; time flows downward by event ORDER, one row per drawn
 * record, so bursts stay readable and idle stretches cost nothing: each row's virtual time
 * is printed at the left, and a dashed break with the idle time marks every gap of
 * GAP_NS or more. Right of the lanes each row's record text is printed.
 *   - messages: an arrow from the send row to its deliver row; a dropped delivery (the
 *     receiver was down) and a copies=0 send (lost in the network) end in an X; a message
 *     whose other end lies outside the window is a short dashed stub pointing that way;
 *   - crashes: red crosses; starts: green triangles; a lane is dashed while its server is
 *     down; partitions: shaded bands over the lanes involved (isolate: that lane; one-way:
 *     the span between the two lanes); fsync faults and clock shifts: small labelled
 *     markers; "faults on", "heal" and scheduled faults: dashed lines across the lanes;
 *   - the highlighted record: a magenta band over the whole row, a ring on its lane, and
 *     "HIGHLIGHT" before its text.
 * Layers are drawn back to front: row stripes, lanes, bands, lane lines, breaks, arrows,
 * marks, highlight, texts, headers. Coordinates are integers: the output is deterministic.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assert.h"
#include "report_int.h"
#include "timeline.h"

enum {
    ROW_H = 14, GAP_H = 14, HEAD_H = 34, LABEL_DX = 8, STUB_ROWS = 3,
    TEXT_W = 530, TEXT_CHARS = 86, /* record column: 10px monospace, ~6 px a character */
};
static const int64_t GAP_NS = 100000000; /* 100 ms */

#define C_MSG "#6e7781"
#define C_INJ "#8250df"
#define C_LOST "#e16f24"
#define C_CRASH "#cf222e"
#define C_START "#1a7f37"
#define C_FSYNC "#bf8700"
#define C_CLOCK "#8250df"
#define C_STATE "#0969da"
#define C_WORLD "#0550ae"
#define C_HL "#d6008a"

struct lay {
    const struct tl *x;
    int y[TL_EVENTS_MAX + 1]; /* y of each row; y[n_rows]: bottom edge */
    int top, bottom, lanes_right, text_x, width, height;
};

static void layout(struct lay *l, const struct tl *x)
{
    l->x = x;
    l->top = HEAD_H;
    l->lanes_right = TL_TIME_W + (int)x->n_lanes * TL_LANE_W;
    l->text_x = l->lanes_right + 12;
    l->width = l->text_x + TEXT_W;
    int y = HEAD_H + ROW_H / 2 + 4;
    for (size_t r = 0; r < x->n_rows; r++) {
        if (r > 0 && x->rec[x->rows[r]].t_ns - x->rec[x->rows[r - 1]].t_ns >= GAP_NS) y += GAP_H;
        l->y[r] = y;
        y += ROW_H;
    }
    l->bottom = y + 2;
    l->y[x->n_rows] = l->bottom;
    l->height = l->bottom + HEAD_H;
}

static const struct tl_rec *row_rec(const struct lay *l, size_t r)
{
    return &l->x->rec[l->x->rows[r]];
}

/* "12.345678 s" (virtual time, microseconds shown). */
static void fmt_time(char *out, size_t cap, int64_t ns)
{
    uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    snprintf(out, cap, "%s%" PRIu64 ".%06" PRIu64 " s", ns < 0 ? "-" : "", a / 1000000000u,
             a % 1000000000u / 1000u);
}

static void label(FILE *f, int x, int y, const char *color, const char *text)
{
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"lb\" fill=\"%s\">", x, y + 3, color);
    rp_put_escaped(f, text, RP_ESC_TEXT);
    fputs("</text>\n", f);
}

static void cross(FILE *f, int x, int y, int r, const char *color, int width)
{
    fprintf(f, "<path d=\"M%d %dL%d %dM%d %dL%d %d\" stroke=\"%s\" stroke-width=\"%d\"/>\n",
            x - r, y - r, x + r, y + r, x - r, y + r, x + r, y - r, color, width);
}

static void dot(FILE *f, int x, int y, int r, const char *fill, const char *stroke)
{
    fprintf(f, "<circle cx=\"%d\" cy=\"%d\" r=\"%d\" fill=\"%s\" stroke=\"%s\"/>\n", x, y, r,
            fill, stroke);
}

static void triangle(FILE *f, int x, int y, const char *color)
{
    fprintf(f, "<path d=\"M%d %dL%d %dL%d %dZ\" fill=\"%s\"/>\n", x, y - 6, x - 6, y + 5, x + 6,
            y + 5, color);
}

static void square(FILE *f, int x, int y, int r, const char *color)
{
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>\n", x - r, y - r,
            2 * r, 2 * r, color);
}

static void put_defs(FILE *f)
{
    static const char *const heads[][2] = {{"ah", C_MSG}, {"ahi", C_INJ}, {"ahl", C_LOST}};
    fputs("<defs>\n", f);
    for (size_t k = 0; k < 3; k++)
        fprintf(f, "<marker id=\"%s\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
                   "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
                   "<path d=\"M0 0L10 5L0 10z\" fill=\"%s\"/></marker>\n",
                heads[k][0], heads[k][1]);
    fputs("<pattern id=\"hatch\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" "
          "patternTransform=\"rotate(45)\"><rect width=\"8\" height=\"8\" fill=\"#fff1e5\"/>"
          "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" stroke=\"#f0a060\" stroke-width=\"3\"/>"
          "</pattern>\n</defs>\n<style>\n"
          ".lb{font:9px ui-monospace,Menlo,Consolas,monospace}"
          ".tt{font:10px ui-monospace,Menlo,Consolas,monospace;fill:#57606a}"
          ".rt{font:10px ui-monospace,Menlo,Consolas,monospace;fill:#1f2328}"
          ".hd{font:600 11px system-ui,sans-serif;fill:#fff}"
          ".gp{font:italic 9px system-ui,sans-serif;fill:#8c959f}\n</style>\n", f);
}

/* Row stripes and lane backgrounds. */
static void put_background(FILE *f, const struct lay *l)
{
    for (size_t r = 1; r < l->x->n_rows; r += 2)
        fprintf(f, "<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f6f8fa\"/>\n",
                l->y[r] - ROW_H / 2, l->width, ROW_H);
    for (size_t k = 0; k < l->x->n_lanes; k++)
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" "
                   "fill-opacity=\"0.45\"/>\n",
                l->x->lanes[k].x - TL_LANE_W / 2, l->top, TL_LANE_W, l->bottom - l->top,
                k % 2 ? "#eaeef2" : "#ffffff");
}

static const char *group_name(const struct tl *x, uint32_t g)
{
    if (g >= 4) return "clients";
    for (size_t k = 0; k < x->n_lanes; k++)
        if (x->lanes[k].lo == g) return x->lanes[k].name;
    return "?";
}

static void put_band(FILE *f, const struct lay *l, enum tl_kind kind, uint32_t a, uint32_t b,
                     int y0, int y1)
{
    int lo, hi, lo_b, hi_b;
    char text[64];
    if (!tl_group_span(l->x, a, &lo, &hi)) return;
    if (kind == TK_ONEWAY) {
        if (!tl_group_span(l->x, b, &lo_b, &hi_b)) return;
        int xa = lo, xb = lo_b;
        lo = xa < xb ? xa : xb;
        hi = xa < xb ? xb : xa;
        snprintf(text, sizeof text, "%s -> %s cut", group_name(l->x, a), group_name(l->x, b));
    } else {
        lo -= TL_LANE_W / 2 - 6;
        hi += TL_LANE_W / 2 - 6;
        snprintf(text, sizeof text, "%s isolated", group_name(l->x, a));
    }
    fprintf(f, "<rect class=\"band\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
               "fill=\"url(#hatch)\" fill-opacity=\"0.55\" stroke=\"#f0a060\"/>\n",
            lo, y0, hi - lo, y1 - y0 > 2 ? y1 - y0 : 2);
    label(f, lo + 3, y0 + 6, "#953800", text);
}

static void put_bands(FILE *f, const struct lay *l)
{
    enum tl_kind kind = l->x->part_kind;
    uint32_t a = l->x->part_a, b = l->x->part_b;
    int y0 = l->top;
    for (size_t r = 0; r < l->x->n_rows; r++) {
        const struct tl_rec *rec = row_rec(l, r);
        bool opens = rec->kind == TK_ISOLATE || rec->kind == TK_ONEWAY;
        if (!opens && rec->kind != TK_HEALED) continue;
        if (kind != TK_OTHER) put_band(f, l, kind, a, b, y0, l->y[r]);
        kind = opens ? rec->kind : TK_OTHER;
        a = rec->a;
        b = rec->b;
        y0 = l->y[r];
    }
    if (kind != TK_OTHER) put_band(f, l, kind, a, b, y0, l->bottom);
}

static void lane_segment(FILE *f, int x, int y0, int y1, bool up)
{
    if (y1 <= y0) return;
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
               "stroke-width=\"%s\"%s/>\n",
            x, y0, x, y1, up ? "#57606a" : "#afb8c1", up ? "2" : "1.5",
            up ? "" : " stroke-dasharray=\"4 4\"");
}

/* Lane lines: solid while the node is up, dashed while a server is down. */
static void put_lane_lines(FILE *f, const struct lay *l)
{
    for (size_t k = 0; k < l->x->n_lanes; k++) {
        const struct tl_lane *lane = &l->x->lanes[k];
        bool server = lane->lo == lane->hi && lane->lo < 4;
        bool up = server ? l->x->up_at_start[lane->lo] : true;
        int y0 = l->top;
        for (size_t r = 0; server && r < l->x->n_rows; r++) {
            const struct tl_rec *rec = row_rec(l, r);
            if (rec->node != lane->lo || rec->kind == TK_UNPARSED) continue;
            bool next = rec->kind == TK_START_OK ? true
                      : rec->kind == TK_CRASH || rec->kind == TK_STOP ? false : up;
            if (next == up) continue;
            lane_segment(f, lane->x, y0, l->y[r], up);
            up = next;
            y0 = l->y[r];
        }
        lane_segment(f, lane->x, y0, l->bottom, up);
    }
}

/* Idle-gap breaks and world-level lines ("faults on", "heal", scheduled faults). */
static void put_breaks(FILE *f, const struct lay *l)
{
    char text[48], t[32];
    for (size_t r = 0; r < l->x->n_rows; r++) {
        const struct tl_rec *rec = row_rec(l, r);
        if (r > 0 && rec->t_ns - row_rec(l, r - 1)->t_ns >= GAP_NS) {
            int yg = l->y[r] - ROW_H / 2 - GAP_H / 2 + 1;
            fmt_time(t, sizeof t, rec->t_ns - row_rec(l, r - 1)->t_ns);
            snprintf(text, sizeof text, "%s idle", t);
            fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#afb8c1\" "
                       "stroke-dasharray=\"2 3\"/>\n<text x=\"%d\" y=\"%d\" class=\"gp\" "
                       "text-anchor=\"end\">%s</text>\n",
                    TL_TIME_W, yg, l->lanes_right, yg, TL_TIME_W - 8, yg + 3, text);
        }
        if (rec->kind == TK_WORLD)
            fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
                       "stroke-width=\"1.5\" stroke-dasharray=\"8 3\"/>\n",
                    TL_TIME_W, l->y[r], l->lanes_right, l->y[r], C_WORLD);
    }
}

static void arrow(FILE *f, int x1, int y1, int x2, int y2, const char *cls, bool dashed)
{
    bool lost = strcmp(cls, "lost") == 0, inj = strcmp(cls, "inj") == 0;
    fprintf(f, "<line class=\"msg %s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
               "stroke-width=\"1.2\"%s%s/>\n",
            cls, x1, y1, x2, y2, lost ? C_LOST : inj ? C_INJ : C_MSG,
            dashed ? " stroke-dasharray=\"5 3\"" : "",
            lost ? "" : inj ? " marker-end=\"url(#ahi)\"" : " marker-end=\"url(#ah)\"");
    if (lost) cross(f, x2, y2, 4, C_LOST, 2);
}

/* The arrow of one deliver row; counts it for its send row. */
static void put_deliver(FILE *f, const struct lay *l, size_t r, int in_window[])
{
    const struct tl_rec *d = row_rec(l, r);
    int xa = tl_lane_x(l->x, d->a), xb = tl_lane_x(l->x, d->b);
    if (xb < 0) return;
    const char *cls = d->dropped ? "lost" : d->a == 255 ? "inj" : "ok";
    if (d->send == SIZE_MAX || xa < 0 || xa == xb) { /* a stub into the lane */
        arrow(f, xb + (xb > TL_TIME_W + TL_LANE_W ? -24 : 24), l->y[r] - 6, xb, l->y[r], cls,
              true);
        return;
    }
    size_t sr = l->x->row_of[d->send];
    if (sr != SIZE_MAX) {
        in_window[sr]++;
        arrow(f, xa, l->y[sr], xb, l->y[r], cls, false);
        return;
    }
    int y0 = l->y[r] - STUB_ROWS * ROW_H; /* sent before the window: a stub from its side */
    arrow(f, xb + (xa - xb) / 3, y0 > l->top ? y0 : l->top, xb, l->y[r], cls, true);
}

/* A send row's copies lost in the network (copies=0) or delivered after the window. */
static void put_send_rest(FILE *f, const struct lay *l, size_t r, const int in_window[])
{
    const struct tl_rec *s = row_rec(l, r);
    int xa = tl_lane_x(l->x, s->a), xb = tl_lane_x(l->x, s->b);
    if (xa < 0 || xb < 0 || xa == xb) return;
    if (s->copies == 0) {
        arrow(f, xa, l->y[r], xa + (xb - xa) * 2 / 5, l->y[r] + ROW_H, "lost", false);
        return;
    }
    int y1 = l->y[r] + STUB_ROWS * ROW_H; /* delivered after the window: a stub */
    if ((int)s->copies > in_window[r])
        arrow(f, xa, l->y[r], xa + (xb - xa) / 3, y1 < l->bottom ? y1 : l->bottom,
              s->a == 255 ? "inj" : "ok", true);
}

static void put_arrows(FILE *f, const struct lay *l)
{
    int in_window[TL_EVENTS_MAX] = {0};
    for (size_t r = 0; r < l->x->n_rows; r++)
        if (row_rec(l, r)->kind == TK_DELIVER) put_deliver(f, l, r, in_window);
    for (size_t r = 0; r < l->x->n_rows; r++)
        if (row_rec(l, r)->kind == TK_SEND) put_send_rest(f, l, r, in_window);
}

/* The first word after "fault_point " (the point's name). */
static void point_name(const char *text, char *out, size_t cap)
{
    const char *p = text + strlen("fault_point ");
    size_t n = strcspn(p, " ");
    snprintf(out, cap, "%.*s", (int)(n < 40 ? n : 40), p);
}

/* Marks of the faults and restarts on a lane. */
static void put_fault_mark(FILE *f, const struct tl_rec *rec, int x, int y)
{
    char text[64], t[32];
    switch (rec->kind) {
    case TK_CRASH:
        cross(f, x, y, 6, C_CRASH, 3);
        label(f, x + LABEL_DX, y, C_CRASH, "crash");
        break;
    case TK_PANIC:
        cross(f, x, y, 8, C_CRASH, 4);
        label(f, x + 10, y, C_CRASH, "ASSERT");
        break;
    case TK_ARMED:
        square(f, x, y, 3, C_FSYNC);
        label(f, x + LABEL_DX, y, C_FSYNC, "crash armed");
        break;
    case TK_FAULT_POINT:
        dot(f, x, y, 5, "none", C_CRASH);
        point_name(rec->text, text, sizeof text);
        label(f, x + LABEL_DX, y, C_CRASH, text);
        break;
    case TK_START_FAIL:
        triangle(f, x, y, C_LOST);
        label(f, x + LABEL_DX, y, C_LOST, "start failed");
        break;
    case TK_FSYNC:
        square(f, x, y, 4, C_FSYNC);
        label(f, x + LABEL_DX, y, C_FSYNC, "fsync fails");
        break;
    case TK_CLOCK:
        dot(f, x, y, 4, "#ffffff", C_CLOCK);
        fmt_time(t, sizeof t, rec->amount);
        snprintf(text, sizeof text, "clock %s%s", rec->amount >= 0 ? "+" : "", t);
        label(f, x + LABEL_DX, y, C_CLOCK, text);
        break;
    default: break;
    }
}

static void put_mark(FILE *f, const struct lay *l, size_t r)
{
    const struct tl_rec *rec = row_rec(l, r);
    int x = tl_lane_x(l->x, rec->node), y = l->y[r];
    if (x < 0 || rec->kind == TK_UNPARSED) return;
    switch (rec->kind) {
    case TK_SEND: dot(f, x, y, 2, C_MSG, "none"); break;
    case TK_START_OK: triangle(f, x, y, C_START); break;
    case TK_CONTROL: dot(f, x, y, 3, "#ffffff", C_START); break;
    case TK_STOP: square(f, x, y, 4, "#57606a"); break;
    case TK_TRANSITION: dot(f, x, y, 4, C_STATE, "#ffffff"); break;
    case TK_REPLY: dot(f, x, y, 3, "#54aeff", "none"); break;
    case TK_OTHER: dot(f, x, y, 2, "#8c959f", "none"); break;
    default: put_fault_mark(f, rec, x, y); break;
    }
}

static void put_highlight(FILE *f, const struct lay *l)
{
    size_t h = l->x->t->highlight;
    if (h >= l->x->t->count || l->x->row_of[h] == SIZE_MAX) return;
    size_t r = l->x->row_of[h];
    int y = l->y[r], x = tl_lane_x(l->x, l->x->rec[h].node);
    fprintf(f, "<g id=\"tl-highlight\">\n<rect x=\"1\" y=\"%d\" width=\"%d\" height=\"%d\" "
               "fill=\"%s\" fill-opacity=\"0.16\" stroke=\"%s\" stroke-width=\"1.5\"/>\n",
            y - ROW_H / 2, l->width - 2, ROW_H, C_HL, C_HL);
    if (x >= 0 && l->x->rec[h].kind != TK_UNPARSED)
        fprintf(f, "<circle cx=\"%d\" cy=\"%d\" r=\"9\" fill=\"none\" stroke=\"%s\" "
                   "stroke-width=\"3\"/>\n", x, y, C_HL);
    fputs("</g>\n", f);
}

static const char *text_color(enum tl_kind k, bool dropped)
{
    switch (k) {
    case TK_CRASH: case TK_FAULT_POINT: case TK_PANIC: return C_CRASH;
    case TK_START_OK: case TK_CONTROL: return C_START;
    case TK_START_FAIL: case TK_ISOLATE: case TK_ONEWAY: case TK_HEALED: return "#953800";
    case TK_FSYNC: case TK_ARMED: return C_FSYNC;
    case TK_CLOCK: return C_CLOCK;
    case TK_WORLD: return C_WORLD;
    case TK_TRANSITION: return C_STATE;
    case TK_SEND: case TK_DELIVER: return dropped ? C_LOST : "#57606a";
    default: return "#1f2328";
    }
}

/* Short node names for the text column. */
static void node_tag(uint32_t node, enum tl_kind k, char *out, size_t cap)
{
    static const char *const servers[4] = {"broker", "orch", "identity", "risk"};
    if (k == TK_UNPARSED) snprintf(out, cap, "?");
    else if (k == TK_WORLD || k == TK_ISOLATE || k == TK_ONEWAY || k == TK_HEALED)
        snprintf(out, cap, "world");
    else if (node < 4) snprintf(out, cap, "%s", servers[node]);
    else if (node == 255) snprintf(out, cap, "injector");
    else snprintf(out, cap, "client %" PRIu32, node);
}

/* The record text, cut at max bytes (<= TEXT_CHARS) without splitting a character. */
static void put_record_text(FILE *f, const char *text, size_t max)
{
    SG_ASSERT_PURE(max <= TEXT_CHARS);
    size_t n = strlen(text);
    if (n <= max) {
        rp_put_escaped(f, text, RP_ESC_TEXT);
        return;
    }
    char cut[TEXT_CHARS + 4];
    size_t k = max;
    while (k > 0 && ((unsigned char)text[k] & 0xC0) == 0x80) k--;
    memcpy(cut, text, k);
    memcpy(cut + k, "...", 4);
    rp_put_escaped(f, cut, RP_ESC_TEXT);
    fputs("<title>", f);
    rp_put_escaped(f, text, RP_ESC_TEXT);
    fputs("</title>", f);
}

static void put_texts(FILE *f, const struct lay *l)
{
    char t[32], tag[24];
    for (size_t r = 0; r < l->x->n_rows; r++) {
        const struct tl_rec *rec = row_rec(l, r);
        bool hl = l->x->rows[r] == l->x->t->highlight;
        if (r == 0 || rec->t_ns != row_rec(l, r - 1)->t_ns) {
            fmt_time(t, sizeof t, rec->t_ns);
            fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"tt\" text-anchor=\"end\">%s</text>\n",
                    TL_TIME_W - 8, l->y[r] + 3, t);
        }
        node_tag(rec->node, rec->kind, tag, sizeof tag);
        fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"rt\" style=\"fill:%s%s\">", l->text_x,
                l->y[r] + 3, hl ? C_HL : text_color(rec->kind, rec->dropped),
                hl ? ";font-weight:bold" : "");
        int used = fprintf(f, "%s[%s] ", hl ? "HIGHLIGHT " : "", tag);
        size_t room = used > 0 && (size_t)used + 20 < TEXT_CHARS ? TEXT_CHARS - (size_t)used : 20;
        put_record_text(f, rec->text, room);
        fputs("</text>\n", f);
    }
}

static void put_headers(FILE *f, const struct lay *l, int y)
{
    for (size_t k = 0; k < l->x->n_lanes; k++) {
        const struct tl_lane *lane = &l->x->lanes[k];
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"22\" rx=\"4\" "
                   "fill=\"#24292f\"/>\n<text x=\"%d\" y=\"%d\" class=\"hd\" "
                   "text-anchor=\"middle\">",
                lane->x - TL_LANE_W / 2 + 5, y, TL_LANE_W - 10, lane->x, y + 15);
        rp_put_escaped(f, lane->name, RP_ESC_TEXT);
        fputs("</text>\n", f);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"tt\" text-anchor=\"end\">virtual time</text>\n"
               "<text x=\"%d\" y=\"%d\" class=\"tt\">record</text>\n",
            TL_TIME_W - 8, y + 15, l->text_x, y + 15);
}

/* The legend: a strip drawn with the same marks as the picture. */
static void put_legend(FILE *f)
{
    static const char *const names[] = {"message", "lost / dropped", "crash", "fault point",
                                        "start", "server down", "partition", "fsync failure",
                                        "clock shift", "state transition", "highlight"};
    enum { N = sizeof names / sizeof names[0] };
    int xs[N], x = 6;
    for (size_t k = 0; k < N; k++) {
        xs[k] = x;
        x += 34 + 6 * (int)strlen(names[k]);
    }
    fprintf(f, "<svg class=\"legend\" width=\"%d\" height=\"24\" viewBox=\"0 0 %d 24\" "
               "role=\"img\" aria-label=\"legend\">\n", x, x);
    put_defs(f);
    arrow(f, xs[0], 12, xs[0] + 22, 12, "ok", false);
    arrow(f, xs[1], 12, xs[1] + 18, 12, "lost", false);
    cross(f, xs[2] + 10, 12, 6, C_CRASH, 3);
    dot(f, xs[3] + 10, 12, 5, "none", C_CRASH);
    triangle(f, xs[4] + 10, 12, C_START);
    lane_segment(f, xs[5] + 10, 2, 22, false);
    fprintf(f, "<rect x=\"%d\" y=\"4\" width=\"20\" height=\"16\" fill=\"url(#hatch)\" "
               "stroke=\"#f0a060\"/>\n", xs[6]);
    square(f, xs[7] + 10, 12, 4, C_FSYNC);
    dot(f, xs[8] + 10, 12, 4, "#ffffff", C_CLOCK);
    dot(f, xs[9] + 10, 12, 4, C_STATE, "#ffffff");
    fprintf(f, "<circle cx=\"%d\" cy=\"12\" r=\"8\" fill=\"none\" stroke=\"%s\" "
               "stroke-width=\"3\"/>\n", xs[10] + 10, C_HL);
    for (size_t k = 0; k < N; k++)
        fprintf(f, "<text x=\"%d\" y=\"16\" class=\"tt\" style=\"fill:#1f2328\">%s</text>\n",
                xs[k] + 26, names[k]);
    fputs("</svg>\n", f);
}

static void put_caption(FILE *f, const struct tl *x)
{
    const struct sg_report_timeline *t = x->t;
    bool hl = t->highlight < t->count;
    fprintf(f, "<p class=\"caption\" id=\"timeline-caption\"><b>Seed %" PRIu64 "</b>: ", t->seed);
    rp_put_escaped(f, t->title ? t->title : "", RP_ESC_TEXT);
    if (x->n_rows == 0) {
        fputs(". The trace has no records to draw.</p>\n", f);
        return;
    }
    size_t first = x->rows[0], last = x->rows[x->n_rows - 1];
    fprintf(f, ". Records %zu to %zu of %zu: %zu events drawn (timer and fault-tape records "
               "are not drawn). Time flows downward in event order; dashed breaks mark idle "
               "gaps of 100 ms or more; a dashed stub is a message whose other end lies "
               "outside the picture.", first + 1, last + 1, t->count, x->n_rows);
    if (x->n_rows == TL_EVENTS_MAX && (first > 0 || last + 1 < t->count))
        fprintf(f, " <b>The trace is longer than %d events: this is %s.</b>", TL_EVENTS_MAX,
                hl ? "a window around the highlighted record" : "its first part");
    if (hl) fprintf(f, " The highlighted record (number %zu) is drawn in magenta.",
                    t->highlight + 1);
    fputs("</p>\n", f);
}

static void put_picture(FILE *f, const struct lay *l)
{
    fprintf(f, "<div class=\"timeline\">\n<svg id=\"timeline\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"sequence diagram of the run\" "
               "style=\"background:#fff\">\n",
            l->width, l->height, l->width, l->height);
    put_defs(f);
    put_background(f, l);
    put_bands(f, l);
    put_lane_lines(f, l);
    put_breaks(f, l);
    put_arrows(f, l);
    for (size_t r = 0; r < l->x->n_rows; r++) put_mark(f, l, r);
    put_highlight(f, l);
    put_texts(f, l);
    put_headers(f, l, 6);
    put_headers(f, l, l->bottom + 6);
    fputs("</svg>\n</div>\n", f);
}

bool rp_timeline_write(FILE *f, const struct sg_report_timeline *t)
{
    SG_ASSERT_PURE(f != NULL);
    SG_ASSERT_PURE(t != NULL);
    if (t->html) {
        fputs(t->html, f);
        return true;
    }
    struct tl x;
    if (!tl_init(&x, t)) return false;
    struct lay *l = malloc(sizeof *l);
    if (l == NULL) {
        tl_deinit(&x);
        return false;
    }
    layout(l, &x);
    put_caption(f, &x);
    if (x.n_rows > 0) {
        put_legend(f);
        put_picture(f, l);
    }
    rp_money_timeline_write(f, t);
    free(l);
    tl_deinit(&x);
    return true;
}

char *rp_timeline_html(const struct sg_report_timeline *t)
{
    SG_ASSERT_PURE(t != NULL);
    if (t->html) return rp_strf("%s", t->html);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL) return NULL;
    bool drawn = rp_timeline_write(f, t);
    bool closed = fclose(f) == 0;
    if (drawn && closed) return text;
    free(text);
    return NULL;
}
