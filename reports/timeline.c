/*
 * timeline.c: the model of the timeline picture (see timeline.h; timeline_svg.c draws it).
 *
 * Steps, each linear or n log n in the number of records:
 *   1. parse every record "<time_ns> <node> <text>" into a kind and its fields; a record
 *      that does not parse is kept as text (TK_UNPARSED) and drawn as text only;
 *   2. pair messages: the k-th send of (from, to, len) goes with the k-th deliver of the
 *      same key that follows it (FIFO per key, by sorting; a send with copies=n takes n
 *      delivers, so a duplicate gets two arrows). The trace has no message ids in its
 *      deliver records, so two in-flight messages of one key that overtake each other are
 *      drawn crossed over; the picture stays truthful about who talked to whom;
 *   3. choose the window: at most TL_EVENTS_MAX drawn records around the highlight (half
 *      before it), or the first ones when nothing is highlighted. Timer records and
 *      fault-tape bookkeeping ("fault <n> ...") are never drawn, except as the highlight;
 *   4. replay the records before the window to know which servers are up and which
 *      partition is in force when it opens;
 *   5. lay out the lanes of the nodes the window shows: clients (merged into one lane when
 *      more than TL_CLIENT_LANES_MAX appear), orchestrator, broker, identity, risk, and the
 *      fault injector (node 255). Partition group 4 stands for every client.
 * Determinism: no hash tables and no addresses; sorting keys include the record index.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assert.h"
#include "timeline.h"

/* ---- parsing ---- */

static bool eat(const char **p, const char *lit)
{
    size_t n = strlen(lit);
    if (strncmp(*p, lit, n) != 0) return false;
    *p += n;
    return true;
}

static bool scan_u64(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9') return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    *p = s;
    return true;
}

static bool scan_u32(const char **p, uint32_t *out)
{
    uint64_t v;
    if (!scan_u64(p, &v) || v > UINT32_MAX) return false;
    *out = (uint32_t)v;
    return true;
}

static bool scan_i64(const char **p, int64_t *out)
{
    bool neg = eat(p, "-");
    uint64_t v;
    if (!scan_u64(p, &v) || v > (uint64_t)INT64_MAX) return false;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

static void parse_message(struct tl_rec *r)
{
    const char *p = r->text;
    bool send = eat(&p, "send ");
    if (!send && !eat(&p, "deliver ")) return;
    if (!scan_u32(&p, &r->a) || !eat(&p, "->") || !scan_u32(&p, &r->b) || !eat(&p, " len=") ||
        !scan_u64(&p, &r->len))
        return;
    if (send) {
        const char *c = strstr(p, " copies=");
        if (c == NULL) return;
        c += strlen(" copies=");
        if (!scan_u32(&c, &r->copies)) return;
        if (r->copies > TL_COPIES_MAX) r->copies = TL_COPIES_MAX;
        r->kind = TK_SEND;
        return;
    }
    r->dropped = strcmp(p, " dropped") == 0;
    r->kind = TK_DELIVER;
}

static void parse_partition(struct tl_rec *r)
{
    const char *p = r->text;
    if (!eat(&p, "partition ")) return;
    if (strcmp(p, "healed") == 0) r->kind = TK_HEALED;
    else if (eat(&p, "isolate ") && scan_u32(&p, &r->a) && *p == '\0') r->kind = TK_ISOLATE;
    else if (eat(&p, "oneway ") && scan_u32(&p, &r->a) && eat(&p, "->") &&
             scan_u32(&p, &r->b) && *p == '\0')
        r->kind = TK_ONEWAY;
}

static enum tl_kind kind_of_text(const char *s)
{
    static const struct {
        const char *prefix;
        bool exact;
        enum tl_kind kind;
    } table[] = {
        {"timer ", false, TK_TIMER},        {"fault ", false, TK_TAPE},
        {"crash", true, TK_CRASH},          {"crash armed", false, TK_ARMED},
        {"fault_point ", false, TK_FAULT_POINT}, {"control ", false, TK_CONTROL},
        {"stop", true, TK_STOP},            {"fsync failure armed", true, TK_FSYNC},
        {"faults on", true, TK_WORLD},      {"heal", true, TK_WORLD},
        {"scheduled fault ", false, TK_WORLD}, {"world ", false, TK_WORLD},
        {"panic", false, TK_PANIC},         {"transition ", false, TK_TRANSITION},
        {"reply ", false, TK_REPLY},
    };
    for (size_t k = 0; k < sizeof table / sizeof table[0]; k++) {
        size_t n = strlen(table[k].prefix);
        bool hit = table[k].exact ? strcmp(s, table[k].prefix) == 0
                                  : strncmp(s, table[k].prefix, n) == 0;
        if (hit) return table[k].kind;
    }
    if (strncmp(s, "start ", 6) == 0) {
        size_t n = strlen(s);
        return n >= 3 && strcmp(s + n - 3, " OK") == 0 ? TK_START_OK : TK_START_FAIL;
    }
    return TK_OTHER;
}

static void parse_record(const char *line, int64_t prev_t, struct tl_rec *r)
{
    memset(r, 0, sizeof *r);
    r->send = SIZE_MAX;
    r->t_ns = prev_t;
    r->kind = TK_UNPARSED;
    r->text = line ? line : "";
    const char *p = r->text;
    int64_t t;
    uint32_t node;
    if (!scan_i64(&p, &t) || !eat(&p, " ") || !scan_u32(&p, &node) || !eat(&p, " ")) return;
    r->t_ns = t;
    r->node = node;
    r->text = p;
    r->kind = kind_of_text(p);
    if (r->kind == TK_OTHER) {
        parse_message(r);
        parse_partition(r);
    }
    const char *q = p;
    if (r->kind == TK_OTHER && eat(&q, "clock shift ") && scan_i64(&q, &r->amount) && !*q)
        r->kind = TK_CLOCK;
}

/* ---- matching sends with delivers (FIFO per (from, to, len)) ---- */

struct tl_key {
    uint32_t a, b;
    uint64_t len;
    size_t index;
};

static int key_cmp(const void *pa, const void *pb)
{
    const struct tl_key *x = pa, *y = pb;
    if (x->a != y->a) return x->a < y->a ? -1 : 1;
    if (x->b != y->b) return x->b < y->b ? -1 : 1;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static bool same_key(const struct tl_key *x, const struct tl_key *y)
{
    return x->a == y->a && x->b == y->b && x->len == y->len;
}

static void pair_group(struct tl *x, const struct tl_key *s, size_t ns, const struct tl_key *d,
                       size_t nd)
{
    size_t q = 0;
    for (size_t k = 0; k < nd; k++) {
        if (q < ns && s[q].index < d[k].index) x->rec[d[k].index].send = s[q++].index;
    }
}

static bool match_messages(struct tl *x)
{
    size_t n = x->t->count, ns = 0, nd = 0;
    for (size_t i = 0; i < n; i++) {
        ns += x->rec[i].kind == TK_SEND ? x->rec[i].copies : 0;
        nd += x->rec[i].kind == TK_DELIVER;
    }
    struct tl_key *s = malloc((ns + 1) * sizeof *s), *d = malloc((nd + 1) * sizeof *d);
    if (s == NULL || d == NULL) {
        free(s);
        free(d);
        return false;
    }
    size_t is = 0, id = 0;
    for (size_t i = 0; i < n; i++) {
        const struct tl_rec *r = &x->rec[i];
        struct tl_key k = {r->a, r->b, r->len, i};
        if (r->kind == TK_DELIVER) d[id++] = k;
        for (uint32_t c = 0; r->kind == TK_SEND && c < r->copies; c++) s[is++] = k;
    }
    qsort(s, ns, sizeof *s, key_cmp);
    qsort(d, nd, sizeof *d, key_cmp);
    for (size_t ps = 0, pd = 0; pd < nd;) {
        while (ps < ns && key_cmp(&s[ps], &d[pd]) < 0 && !same_key(&s[ps], &d[pd])) ps++;
        size_t es = ps, ed = pd;
        while (es < ns && same_key(&s[es], &d[pd])) es++;
        while (ed < nd && same_key(&d[ed], &d[pd])) ed++;
        pair_group(x, s + ps, es - ps, d + pd, ed - pd);
        ps = es;
        pd = ed;
    }
    free(s);
    free(d);
    return true;
}

/* ---- the window of drawn rows ---- */

static bool drawable(const struct tl *x, size_t i)
{
    enum tl_kind k = x->rec[i].kind;
    return (k != TK_TIMER && k != TK_TAPE) || i == x->t->highlight;
}

static bool choose_window(struct tl *x)
{
    size_t n = x->t->count, m = 0, pos = 0;
    size_t *all = malloc((n + 1) * sizeof *all);
    if (all == NULL) return false;
    for (size_t i = 0; i < n; i++) {
        if (!drawable(x, i)) continue;
        if (i == x->t->highlight) pos = m;
        all[m++] = i;
    }
    size_t start = x->t->highlight < n && pos > TL_EVENTS_MAX / 2 ? pos - TL_EVENTS_MAX / 2 : 0;
    size_t end = start + TL_EVENTS_MAX < m ? start + TL_EVENTS_MAX : m;
    if (end - start < TL_EVENTS_MAX) start = end > TL_EVENTS_MAX ? end - TL_EVENTS_MAX : 0;
    x->n_rows = end - start;
    memcpy(x->rows, all + start, x->n_rows * sizeof *all);
    free(all);
    for (size_t r = 0; r < x->n_rows; r++) x->row_of[x->rows[r]] = r;
    return true;
}

/* Server states and the partition in force when the window opens. */
static void state_at_start(struct tl *x)
{
    size_t first = x->n_rows ? x->rows[0] : 0;
    x->part_kind = TK_OTHER;
    for (size_t i = 0; i < first; i++) {
        const struct tl_rec *r = &x->rec[i];
        if (r->node < 4 && (r->kind == TK_CRASH || r->kind == TK_STOP))
            x->up_at_start[r->node] = false;
        if (r->node < 4 && r->kind == TK_START_OK) x->up_at_start[r->node] = true;
        if (r->kind == TK_ISOLATE || r->kind == TK_ONEWAY) {
            x->part_kind = r->kind;
            x->part_a = r->a;
            x->part_b = r->b;
        }
        if (r->kind == TK_HEALED) x->part_kind = TK_OTHER;
    }
}

/* ---- lanes ---- */

struct tl_presence {
    bool server[4], injector, clients_group;
    uint32_t clients[TL_CLIENT_LANES_MAX + 1];
    size_t n_clients; /* > TL_CLIENT_LANES_MAX: merged */
};

static void see_node(struct tl_presence *p, uint32_t node)
{
    if (node < 4) {
        p->server[node] = true;
    } else if (node == 255) {
        p->injector = true;
    } else if (p->n_clients <= TL_CLIENT_LANES_MAX) {
        for (size_t k = 0; k < p->n_clients; k++)
            if (p->clients[k] == node) return;
        p->clients[p->n_clients++] = node;
    }
}

static void see_group(struct tl_presence *p, uint32_t g)
{
    if (g < 4) see_node(p, g);
    else p->clients_group = true; /* group 4 stands for every client */
}

static int u32_cmp(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return a < b ? -1 : a > b;
}

static void add_lane(struct tl *x, uint32_t lo, uint32_t hi, const char *name)
{
    SG_ASSERT_PURE(x->n_lanes < TL_LANES_MAX);
    struct tl_lane *l = &x->lanes[x->n_lanes];
    l->lo = lo;
    l->hi = hi;
    snprintf(l->name, sizeof l->name, "%s", name);
    l->x = TL_TIME_W + (int)x->n_lanes * TL_LANE_W + TL_LANE_W / 2;
    x->n_lanes++;
}

static void build_lanes(struct tl *x)
{
    struct tl_presence p = {0};
    for (size_t r = 0; r < x->n_rows; r++) {
        const struct tl_rec *rec = &x->rec[x->rows[r]];
        if (rec->kind == TK_UNPARSED) continue;
        if (rec->kind == TK_ISOLATE || rec->kind == TK_ONEWAY) {
            see_group(&p, rec->a);
            if (rec->kind == TK_ONEWAY) see_group(&p, rec->b);
            continue;
        }
        if (rec->kind != TK_WORLD && rec->kind != TK_HEALED) see_node(&p, rec->node);
        if (rec->kind == TK_SEND || rec->kind == TK_DELIVER) {
            see_node(&p, rec->a);
            see_node(&p, rec->b);
        }
    }
    if (x->part_kind != TK_OTHER) {
        see_group(&p, x->part_a);
        if (x->part_kind == TK_ONEWAY) see_group(&p, x->part_b);
    }
    char name[24];
    if (p.n_clients > TL_CLIENT_LANES_MAX || (p.clients_group && p.n_clients == 0)) {
        add_lane(x, 4, 254, "clients");
    } else {
        qsort(p.clients, p.n_clients, sizeof p.clients[0], u32_cmp);
        for (size_t k = 0; k < p.n_clients; k++) {
            snprintf(name, sizeof name, "client %" PRIu32, p.clients[k]);
            add_lane(x, p.clients[k], p.clients[k], name);
        }
    }
    static const uint32_t order[4] = {1, 0, 2, 3};
    static const char *const names[4] = {"broker", "orchestrator", "identity", "risk"};
    for (size_t k = 0; k < 4; k++)
        if (p.server[order[k]]) add_lane(x, order[k], order[k], names[order[k]]);
    if (p.injector) add_lane(x, 255, 255, "fault injector");
}

/* Lane x of a node, -1 when it has none. */
int tl_lane_x(const struct tl *x, uint32_t node)
{
    for (size_t k = 0; k < x->n_lanes; k++)
        if (node >= x->lanes[k].lo && node <= x->lanes[k].hi) return x->lanes[k].x;
    return -1;
}

/* Horizontal extent of a partition group's lanes (group 4: every client lane). */
bool tl_group_span(const struct tl *x, uint32_t g, int *lo, int *hi)
{
    *lo = 1 << 30;
    *hi = -1;
    for (size_t k = 0; k < x->n_lanes; k++) {
        const struct tl_lane *l = &x->lanes[k];
        bool in = g < 4 ? (g >= l->lo && g <= l->hi) : (l->lo >= 4 && l->hi < 255);
        if (!in) continue;
        if (l->x < *lo) *lo = l->x;
        if (l->x > *hi) *hi = l->x;
    }
    return *hi >= 0;
}


bool tl_init(struct tl *x, const struct sg_report_timeline *t)
{
    SG_ASSERT_PURE(x != NULL);
    SG_ASSERT_PURE(t != NULL && (t->records != NULL || t->count == 0));
    memset(x, 0, sizeof *x);
    x->t = t;
    size_t n = t->count;
    x->rec = malloc((n + 1) * sizeof *x->rec);
    x->row_of = malloc((n + 1) * sizeof *x->row_of);
    x->rows = malloc(TL_EVENTS_MAX * sizeof *x->rows);
    if (x->rec == NULL || x->row_of == NULL || x->rows == NULL) goto fail;
    int64_t prev_t = 0;
    for (size_t i = 0; i < n; i++) {
        parse_record(t->records[i], prev_t, &x->rec[i]);
        prev_t = x->rec[i].t_ns;
        x->row_of[i] = SIZE_MAX;
    }
    if (!match_messages(x) || !choose_window(x)) goto fail;
    state_at_start(x);
    build_lanes(x);
    SG_ASSERT_PURE(x->n_rows <= TL_EVENTS_MAX);
    return true;
fail:
    tl_deinit(x);
    return false;
}

void tl_deinit(struct tl *x)
{
    SG_ASSERT_PURE(x != NULL);
    free(x->rec);
    free(x->row_of);
    free(x->rows);
    x->rec = NULL;
    x->row_of = NULL;
    x->rows = NULL;
    x->n_rows = 0;
}
