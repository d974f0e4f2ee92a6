/*
 * grpc.c (live): unary gRPC server session on libnghttp2 (see grpc.h).
 */
#include "grpc.h"

#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char health_path[] = "/grpc.health.v1.Health/Check";

struct stream {
    struct stream *next, *prev;
    int32_t id;
    uint64_t call_id;          /* 0: not handed to the handler (or answered) */
    bool post, grpc_type, ended;
    char *path;
    char trace_id[64];
    uint8_t *in;
    size_t in_len;
    bool too_big;
    uint8_t *out;              /* prefix + response message */
    size_t out_len, out_off;
    char status[12];
    char withdrawal_id[64];
};

struct sg_grpc_conn {
    nghttp2_session *s;
    struct sg_grpc_hooks hooks;
    struct stream *streams;
    uint64_t next_call_id;
    size_t busy;
    size_t buffered;
    bool write_failed;
    bool in_recv;              /* inside nghttp2_session_mem_recv: no sending now */
};

static struct stream *stream_of(struct sg_grpc_conn *c, int32_t id)
{
    return nghttp2_session_get_stream_user_data(c->s, id);
}

static void stream_free(struct sg_grpc_conn *c, struct stream *st)
{
    if (st->prev) st->prev->next = st->next;
    else c->streams = st->next;
    if (st->next) st->next->prev = st->prev;
    c->buffered -= st->in_len;
    free(st->path);
    free(st->in);
    free(st->out);
    free(st);
}

/* Writes everything nghttp2 has queued; false when the peer's side cannot take it. */
static bool flush(struct sg_grpc_conn *c)
{
    if (c->in_recv) return true; /* sg_grpc_conn_recv flushes when nghttp2 returns */
    for (int rounds = 0; rounds < 1 << 20 && !c->write_failed; rounds++) {
        const uint8_t *data = NULL;
        ssize_t n = nghttp2_session_mem_send(c->s, &data);
        if (n < 0) return false;
        if (n == 0) return true;
        if (!c->hooks.write(c->hooks.ctx, data, (size_t)n)) c->write_failed = true;
    }
    return !c->write_failed;
}

/* gRPC's percent-encoding of grpc-message: bytes outside 0x20..0x7e and '%'. */
static char *percent_encode(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1);
    if (!out) return NULL;
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p > 0x7e || *p == '%') o += sprintf(o, "%%%02X", *p);
        else *o++ = (char)*p;
    }
    *o = '\0';
    return out;
}

#define NV(name, value, vlen) \
    {(uint8_t *)(name), (uint8_t *)(value), sizeof(name) - 1, (vlen), NGHTTP2_NV_FLAG_NONE}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
                         uint32_t *flags, nghttp2_data_source *src, void *user)
{
    (void)src;
    (void)user;
    struct stream *st = nghttp2_session_get_stream_user_data(s, id);
    if (!st) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    size_t n = st->out_len - st->out_off;
    if (n > len) n = len;
    memcpy(buf, st->out + st->out_off, n);
    st->out_off += n;
    if (st->out_off == st->out_len) {
        *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
        nghttp2_nv tr[2] = {NV("grpc-status", "0", 1),
                            NV("x-withdrawal-id", st->withdrawal_id, strlen(st->withdrawal_id))};
        if (nghttp2_submit_trailer(s, id, tr, st->withdrawal_id[0] ? 2 : 1) != 0)
            return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return (ssize_t)n;
}

/* Submits the response of one stream (no flush). */
static void respond(struct sg_grpc_conn *c, struct stream *st, uint32_t status,
                    const char *message, const uint8_t *body, size_t body_len,
                    const char *withdrawal_id)
{
    snprintf(st->status, sizeof st->status, "%u", status);
    snprintf(st->withdrawal_id, sizeof st->withdrawal_id, "%s", withdrawal_id ? withdrawal_id : "");
    if (status == SG_CODE_OK) {
        st->out = malloc(5 + body_len);
        if (!st->out) {
            nghttp2_submit_rst_stream(c->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
            return;
        }
        st->out[0] = 0;
        st->out[1] = (uint8_t)(body_len >> 24);
        st->out[2] = (uint8_t)(body_len >> 16);
        st->out[3] = (uint8_t)(body_len >> 8);
        st->out[4] = (uint8_t)body_len;
        if (body_len) memcpy(st->out + 5, body, body_len);
        st->out_len = 5 + body_len;
        nghttp2_nv h[2] = {NV(":status", "200", 3), NV("content-type", "application/grpc", 16)};
        nghttp2_data_provider dp = {.read_callback = read_body};
        nghttp2_submit_response(c->s, st->id, h, 2, &dp);
        return;
    }
    char *msg = percent_encode(message ? message : "");
    nghttp2_nv h[5] = {NV(":status", "200", 3), NV("content-type", "application/grpc", 16),
                       NV("grpc-status", st->status, strlen(st->status)),
                       NV("grpc-message", msg ? msg : "", msg ? strlen(msg) : 0),
                       NV("x-withdrawal-id", st->withdrawal_id, strlen(st->withdrawal_id))};
    nghttp2_submit_response(c->s, st->id, h, st->withdrawal_id[0] ? 5 : 4, NULL);
    free(msg);
}

/* A request stream ended: answer protocol errors here, hand good calls to on_call. */
static void dispatch(struct sg_grpc_conn *c, struct stream *st)
{
    st->ended = true;
    if (!st->post || !st->grpc_type || !st->path) {
        respond(c, st, SG_CODE_INVALID_ARGUMENT, "not a gRPC request (want POST, "
                "content-type application/grpc)", NULL, 0, NULL);
        return;
    }
    size_t method = 0;
    bool known = false;
    for (const char *const *m = c->hooks.methods; m && *m && !known; m++, method++)
        known = strcmp(*m, st->path) == 0;
    bool health = strcmp(st->path, health_path) == 0;
    if (!known && !health) {
        respond(c, st, SG_CODE_UNIMPLEMENTED, "unknown method", NULL, 0, NULL);
        return;
    }
    if (st->too_big) {
        respond(c, st, SG_CODE_RESOURCE_EXHAUSTED, "message larger than 4 MiB", NULL, 0, NULL);
        return;
    }
    if (st->in_len < 5) {
        respond(c, st, SG_CODE_INVALID_ARGUMENT, "missing gRPC message", NULL, 0, NULL);
        return;
    }
    const uint8_t *p = st->in;
    size_t len = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
    if (p[0] == 1) {
        respond(c, st, SG_CODE_UNIMPLEMENTED, "compression is not supported", NULL, 0, NULL);
    } else if (p[0] != 0 || len + 5 != st->in_len) {
        respond(c, st, SG_CODE_INVALID_ARGUMENT, "malformed gRPC message framing", NULL, 0, NULL);
    } else if (health) {
        static const uint8_t serving[2] = {0x08, 0x01}; /* HealthCheckResponse{SERVING} */
        respond(c, st, SG_CODE_OK, NULL, serving, sizeof serving, NULL);
    } else {
        st->call_id = ++c->next_call_id;
        c->busy++;
        struct sg_grpc_call call = {.id = st->call_id, .method = method - 1,
                                    .message = p + 5, .message_len = len,
                                    .trace_id = st->trace_id};
        c->hooks.on_call(c->hooks.ctx, c, &call);
    }
}

/* ---- nghttp2 callbacks ---- */

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
    struct sg_grpc_conn *c = user;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    struct stream *st = calloc(1, sizeof *st);
    if (!st) return NGHTTP2_ERR_CALLBACK_FAILURE;
    st->id = f->hd.stream_id;
    st->next = c->streams;
    if (c->streams) c->streams->prev = st;
    c->streams = st;
    nghttp2_session_set_stream_user_data(s, st->id, st);
    return 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user)
{
    (void)s;
    (void)flags;
    struct sg_grpc_conn *c = user;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    struct stream *st = stream_of(c, f->hd.stream_id);
    if (!st) return 0;
#define IS(lit) (namelen == sizeof(lit) - 1 && memcmp(name, lit, namelen) == 0)
    if (IS(":method")) {
        st->post = valuelen == 4 && memcmp(value, "POST", 4) == 0;
    } else if (IS(":path") && !st->path) {
        st->path = malloc(valuelen + 1);
        if (!st->path) return NGHTTP2_ERR_CALLBACK_FAILURE;
        memcpy(st->path, value, valuelen);
        st->path[valuelen] = '\0';
    } else if (IS("content-type")) {
        st->grpc_type = valuelen >= 16 && memcmp(value, "application/grpc", 16) == 0 &&
                        (valuelen == 16 || value[16] == '+' || value[16] == ';');
    } else if (IS("x-trace-id") && valuelen < sizeof st->trace_id) {
        memcpy(st->trace_id, value, valuelen);
        st->trace_id[valuelen] = '\0';
    }
#undef IS
    return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
                   size_t len, void *user)
{
    (void)s;
    (void)flags;
    struct sg_grpc_conn *c = user;
    struct stream *st = stream_of(c, id);
    if (!st || st->too_big) return 0;
    if (st->in_len + len > SG_GRPC_MESSAGE_MAX + 5 ||
        c->buffered + len > SG_GRPC_BUFFERED_MAX) {
        st->too_big = true; /* stop buffering; answered RESOURCE_EXHAUSTED at its end */
        c->buffered -= st->in_len;
        free(st->in);
        st->in = NULL;
        st->in_len = 0;
        return 0;
    }
    uint8_t *b = realloc(st->in, st->in_len + len);
    if (!b) return NGHTTP2_ERR_CALLBACK_FAILURE;
    memcpy(b + st->in_len, data, len);
    st->in = b;
    st->in_len += len;
    c->buffered += len;
    return 0;
}

static int on_frame(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
    (void)s;
    struct sg_grpc_conn *c = user;
    if ((f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) ||
        !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    struct stream *st = stream_of(c, f->hd.stream_id);
    if (st && !st->ended) dispatch(c, st);
    return 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t code, void *user)
{
    (void)s;
    (void)code;
    struct sg_grpc_conn *c = user;
    struct stream *st = stream_of(c, id);
    if (!st) return 0;
    nghttp2_session_set_stream_user_data(c->s, id, NULL);
    if (st->call_id) { /* closed before the handler answered */
        c->busy--;
        if (c->hooks.on_call_gone) c->hooks.on_call_gone(c->hooks.ctx, st->call_id);
    }
    stream_free(c, st);
    return 0;
}

struct sg_grpc_conn *sg_grpc_conn_new(const struct sg_grpc_hooks *hooks)
{
    struct sg_grpc_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->hooks = *hooks;
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb) != 0) {
        free(c);
        return NULL;
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
    int rc = nghttp2_session_server_new(&c->s, cb, c);
    nghttp2_session_callbacks_del(cb);
    if (rc != 0) {
        free(c);
        return NULL;
    }
    nghttp2_settings_entry iv[1] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, SG_GRPC_STREAMS_MAX}};
    nghttp2_submit_settings(c->s, NGHTTP2_FLAG_NONE, iv, 1);
    return c;
}

int sg_grpc_conn_recv(struct sg_grpc_conn *c, const uint8_t *bytes, size_t len)
{
    c->in_recv = true;
    ssize_t n = nghttp2_session_mem_recv(c->s, bytes, len);
    c->in_recv = false;
    if (n < 0) {
        flush(c); /* nghttp2 may have queued a GOAWAY that says why */
        return -1;
    }
    return flush(c) ? 0 : -1;
}

bool sg_grpc_reply(struct sg_grpc_conn *c, uint64_t call_id, uint32_t status,
                   const char *message, const uint8_t *body, size_t body_len,
                   const char *withdrawal_id)
{
    struct stream *st = c->streams;
    while (st && st->call_id != call_id) st = st->next;
    if (!st || call_id == 0) return false;
    st->call_id = 0;
    c->busy--;
    respond(c, st, status, message, body, body_len, withdrawal_id);
    flush(c);
    return true;
}

void sg_grpc_conn_goaway(struct sg_grpc_conn *c)
{
    nghttp2_submit_goaway(c->s, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(c->s), NGHTTP2_NO_ERROR,
                          NULL, 0);
    flush(c);
}

size_t sg_grpc_conn_busy(const struct sg_grpc_conn *c)
{
    return c->busy;
}

bool sg_grpc_conn_done(const struct sg_grpc_conn *c)
{
    return c->write_failed ||
           (!nghttp2_session_want_read(c->s) && !nghttp2_session_want_write(c->s));
}

void sg_grpc_conn_free(struct sg_grpc_conn *c)
{
    if (!c) return;
    nghttp2_session_del(c->s);
    while (c->streams) {
        struct stream *st = c->streams;
        if (st->call_id && c->hooks.on_call_gone) c->hooks.on_call_gone(c->hooks.ctx, st->call_id);
        stream_free(c, st);
    }
    free(c);
}
