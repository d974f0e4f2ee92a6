/*
 * live_env.c: the real environment (see live_env.h). The real calls that core and sim may
 * not make (clock_gettime, getrandom, stdio) live here.
 */
#include "live_env.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "assert.h"
#include "ids.h"
#include "trace_rec.h"

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t sg_live_wall_ns(void) { return clock_ns(CLOCK_REALTIME); }
int64_t sg_live_mono_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

static int64_t env_now_wall(void *ctx) { (void)ctx; return sg_live_wall_ns(); }
static int64_t env_now_mono(void *ctx) { (void)ctx; return sg_live_mono_ns(); }

static uint64_t env_random(void *ctx)
{
    (void)ctx;
    uint64_t v = 0;
    uint8_t *p = (uint8_t *)&v;
    size_t got = 0;
    while (got < sizeof v) { /* getrandom on 8 bytes never returns short unless EINTR */
        ssize_t n = getrandom(p + got, sizeof v - got, 0);
        if (n > 0) got += (size_t)n;
        else if (errno != EINTR) abort();
    }
    return v;
}

static void write_line(struct sg_live_env *e, json_t *o)
{
    char ts[64];
    sg_rfc3339(sg_live_wall_ns(), ts);
    json_object_set_new(o, "ts", json_string(ts));
    json_object_set_new(o, "node", json_string(e->role));
    if (e->log) {
        json_dumpf(o, e->log, JSON_COMPACT | JSON_SORT_KEYS);
        fputc('\n', e->log);
    }
    json_decref(o);
}

/* The value of `key=` in a trace record (up to the next space), or NULL. */
static json_t *field_of(const char *record, const char *key)
{
    const char *p = strstr(record, key);
    if (!p) return NULL;
    p += strlen(key);
    size_t n = strcspn(p, " ");
    return n ? json_stringn(p, n) : NULL;
}

static void env_trace(void *ctx, const struct sg_trace_rec *rec)
{
    struct sg_live_env *e = ctx;
    char record[1024];
    sg_trace_rec_text(rec, record, sizeof record);
    if (strncmp(record, "db_", 3) == 0 || strncmp(record, "sqlite_error", 12) == 0)
        sg_trace_rec_text(rec, e->last_error, sizeof e->last_error);
    json_t *o = json_object();
    json_object_set_new(o, "record", json_string(record));
    if (e->trace_id[0]) json_object_set_new(o, "trace_id", json_string(e->trace_id));
    json_t *wid = field_of(record, "wid=");
    if (wid) json_object_set_new(o, "withdrawal_id", wid);
    write_line(e, o);
}

void sg_live_log(struct sg_live_env *e, const char *event, const char *detail)
{
    json_t *o = json_object();
    json_object_set_new(o, "event", json_string(event));
    if (detail) json_object_set_new(o, "detail", json_string(detail));
    write_line(e, o);
    if (e->log) fflush(e->log);
}

/* ---- timers: a min-heap on (at_ns, seq) behind one uv_timer_t ---- */

static bool timer_before(const struct sg_live_timer *a, const struct sg_live_timer *b)
{
    return a->at_ns != b->at_ns ? a->at_ns < b->at_ns : a->seq < b->seq;
}

static void heap_swap(struct sg_live_timer *h, size_t i, size_t j)
{
    struct sg_live_timer t = h[i];
    h[i] = h[j];
    h[j] = t;
}

static void heap_push(struct sg_live_env *e, struct sg_live_timer t)
{
    if (e->heap_len == e->heap_cap) {
        size_t cap = e->heap_cap ? e->heap_cap * 2 : 64;
        struct sg_live_timer *h = realloc(e->heap, cap * sizeof *h);
        if (!h) abort();
        e->heap = h;
        e->heap_cap = cap;
    }
    size_t i = e->heap_len++;
    e->heap[i] = t;
    while (i > 0 && timer_before(&e->heap[i], &e->heap[(i - 1) / 2])) {
        heap_swap(e->heap, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static struct sg_live_timer heap_pop(struct sg_live_env *e)
{
    SG_ASSERT(&e->env, e->heap_len > 0);
    struct sg_live_timer top = e->heap[0];
    e->heap[0] = e->heap[--e->heap_len];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < e->heap_len && timer_before(&e->heap[l], &e->heap[m])) m = l;
        if (r < e->heap_len && timer_before(&e->heap[r], &e->heap[m])) m = r;
        if (m == i) break;
        heap_swap(e->heap, i, m);
        i = m;
    }
    return top;
}

static void timer_cb(uv_timer_t *t);

static void rearm(struct sg_live_env *e)
{
    if (!e->timer_open) return;
    if (e->heap_len == 0) {
        uv_timer_stop(&e->timer);
        return;
    }
    int64_t wait_ns = e->heap[0].at_ns - sg_live_mono_ns();
    uint64_t wait_ms = wait_ns <= 0 ? 0 : (uint64_t)((wait_ns + 999999) / 1000000);
    uv_timer_start(&e->timer, timer_cb, wait_ms, 0);
}

static void timer_cb(uv_timer_t *t)
{
    struct sg_live_env *e = t->data;
    int64_t now = sg_live_mono_ns();
    /* Bounded: only timers due now; ones armed by the handlers wait for the next round. */
    for (size_t budget = e->heap_len; budget > 0 && e->heap_len > 0; budget--) {
        if (e->heap[0].at_ns > now) break;
        struct sg_live_timer due = heap_pop(e);
        e->on_timer(e, due.tag);
        if (!e->timer_open) return; /* the handler shut the node down */
    }
    rearm(e);
}

static void env_timer_at(void *ctx, int64_t mono_ns, uint64_t tag)
{
    struct sg_live_env *e = ctx;
    heap_push(e, (struct sg_live_timer){.at_ns = mono_ns, .seq = e->timer_seq++, .tag = tag});
    if (e->heap[0].seq == e->timer_seq - 1) rearm(e); /* the new one is the earliest */
}

static void env_send(void *ctx, uint32_t to, const uint8_t *bytes, size_t len)
{
    struct sg_live_env *e = ctx;
    e->on_send(e, to, bytes, len);
}

static bool env_fault_point(void *ctx, const char *point)
{
    (void)ctx;
    (void)point;
    return false;
}

__attribute__((noreturn)) static void env_panic(void *ctx, const char *file, int line,
                                                const char *expr)
{
    struct sg_live_env *e = ctx;
    char what[512];
    snprintf(what, sizeof what, "%s:%d: %s", file, line, expr);
    sg_live_log(e, "panic", what);
    fprintf(stderr, "sagasim live %s: assertion failed: %s\n", e->role, what);
    abort();
}

int sg_live_env_init(struct sg_live_env *e, uv_loop_t *loop, uint32_t node_id,
                     const char *role, const char *data_dir, FILE *log,
                     sg_live_send_fn on_send, sg_live_timer_fn on_timer, void *owner)
{
    memset(e, 0, sizeof *e);
    e->loop = loop;
    e->log = log;
    e->role = role;
    e->on_send = on_send;
    e->on_timer = on_timer;
    e->owner = owner;
    e->env = (struct sg_env){
        .ctx = e, .node_id = node_id, .vfs_name = NULL, .data_dir = data_dir,
        .commit_count = &e->commits, .now_wall_ns = env_now_wall, .now_mono_ns = env_now_mono,
        .random_u64 = env_random, .send = env_send, .timer_at = env_timer_at,
        .trace = env_trace, .fault_point = env_fault_point, .panic = env_panic};
    int rc = uv_timer_init(loop, &e->timer);
    if (rc != 0) return rc;
    e->timer.data = e;
    e->timer_open = true;
    return 0;
}

void sg_live_env_deinit(struct sg_live_env *e)
{
    if (e->timer_open) {
        uv_timer_stop(&e->timer);
        uv_close((uv_handle_t *)&e->timer, NULL);
        e->timer_open = false;
    }
    free(e->heap);
    e->heap = NULL;
    e->heap_len = e->heap_cap = 0;
}
