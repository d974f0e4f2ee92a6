/*
 * test_grpc.c: unit tests for live/grpc.c, the gRPC server session of the ingress
 * (DESIGN §7; grpc.h), driven in memory by a real HTTP/2 client session (nghttp2's own
 * client), so every frame is one a client library would send.
 *
 * Why: the ingress must answer every protocol error with the status gRPC clients expect,
 * survive calls that die before their reply, and never let one broken connection matter
 * to the others.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc.h"

static const char *const methods[] = {"/pkg.Svc/Echo", "/pkg.Svc/Later", NULL};

/* What the test client saw on its one stream. */
struct seen {
    int http_status;
    int grpc_status;             /* -1 until grpc-status arrives */
    char grpc_message[256];
    char withdrawal_id[64];
    uint8_t body[64];
    size_t body_len;
    bool closed;
    uint32_t close_code;
};

struct rig {
    struct sg_grpc_conn *server;
    nghttp2_session *client;
    uint8_t *to_client;          /* server output not yet fed to the client */
    size_t to_client_len;
    struct seen seen[8];
    int32_t stream_ids[8];
    size_t streams;
    /* the handler */
    bool answer_now;
    uint64_t last_call;
    size_t calls, gone;
    char last_trace[64];
    size_t last_message_len;
};

static bool srv_write(void *ctx, const uint8_t *bytes, size_t len)
{
    struct rig *r = ctx;
    r->to_client = realloc(r->to_client, r->to_client_len + len);
    memcpy(r->to_client + r->to_client_len, bytes, len);
    r->to_client_len += len;
    return true;
}

static void srv_call(void *ctx, struct sg_grpc_conn *c, const struct sg_grpc_call *call)
{
    struct rig *r = ctx;
    r->calls++;
    r->last_call = call->id;
    r->last_message_len = call->message_len;
    snprintf(r->last_trace, sizeof r->last_trace, "%s", call->trace_id);
    if (r->answer_now)
        assert_true(sg_grpc_reply(c, call->id, 0, NULL, call->message, call->message_len, NULL));
}

static void srv_gone(void *ctx, uint64_t id)
{
    struct rig *r = ctx;
    (void)id;
    r->gone++;
}

static struct seen *seen_of(struct rig *r, int32_t id)
{
    for (size_t i = 0; i < r->streams; i++)
        if (r->stream_ids[i] == id) return &r->seen[i];
    return NULL;
}

static int cli_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
                      size_t nl, const uint8_t *value, size_t vl, uint8_t flags, void *u)
{
    (void)s;
    (void)flags;
    struct seen *x = seen_of(u, f->hd.stream_id);
    if (!x) return 0;
    char v[256];
    snprintf(v, sizeof v, "%.*s", (int)vl, (const char *)value);
    if (nl == 7 && memcmp(name, ":status", 7) == 0) x->http_status = atoi(v);
    if (nl == 11 && memcmp(name, "grpc-status", 11) == 0) x->grpc_status = atoi(v);
    if (nl == 12 && memcmp(name, "grpc-message", 12) == 0)
        snprintf(x->grpc_message, sizeof x->grpc_message, "%.255s", v);
    if (nl == 15 && memcmp(name, "x-withdrawal-id", 15) == 0)
        snprintf(x->withdrawal_id, sizeof x->withdrawal_id, "%.63s", v);
    return 0;
}

static int cli_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *d,
                    size_t len, void *u)
{
    (void)s;
    (void)flags;
    struct seen *x = seen_of(u, id);
    if (x && x->body_len + len <= sizeof x->body) {
        memcpy(x->body + x->body_len, d, len);
        x->body_len += len;
    }
    return 0;
}

static int cli_close(nghttp2_session *s, int32_t id, uint32_t code, void *u)
{
    (void)s;
    struct seen *x = seen_of(u, id);
    if (x) {
        x->closed = true;
        x->close_code = code;
    }
    return 0;
}

/* Moves bytes both ways until neither side has anything to say. */
static void pump(struct rig *r)
{
    for (int round = 0; round < 100; round++) {
        const uint8_t *out = NULL;
        ssize_t n;
        bool moved = false;
        while ((n = nghttp2_session_mem_send(r->client, &out)) > 0) {
            assert_int_equal(sg_grpc_conn_recv(r->server, out, (size_t)n), 0);
            moved = true;
        }
        if (r->to_client_len) {
            uint8_t *buf = r->to_client;
            size_t len = r->to_client_len;
            r->to_client = NULL;
            r->to_client_len = 0;
            assert_int_equal(nghttp2_session_mem_recv(r->client, buf, len), (ssize_t)len);
            free(buf);
            moved = true;
        }
        if (!moved) return;
    }
}

static int setup(void **state)
{
    struct rig *r = calloc(1, sizeof *r);
    struct sg_grpc_hooks h = {.write = srv_write, .on_call = srv_call, .on_call_gone = srv_gone,
                              .ctx = r, .methods = methods};
    r->server = sg_grpc_conn_new(&h);
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, cli_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, cli_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, cli_close);
    nghttp2_session_client_new(&r->client, cb, r);
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(r->client, NGHTTP2_FLAG_NONE, NULL, 0);
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    struct rig *r = *state;
    sg_grpc_conn_free(r->server);
    nghttp2_session_del(r->client);
    free(r->to_client);
    free(r);
    return 0;
}

struct body {
    const uint8_t *p;
    size_t len, off;
};

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
                         uint32_t *flags, nghttp2_data_source *src, void *u)
{
    (void)s;
    (void)id;
    (void)u;
    struct body *b = src->ptr;
    size_t n = b->len - b->off < len ? b->len - b->off : len;
    memcpy(buf, b->p + b->off, n);
    b->off += n;
    if (b->off == b->len) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* Sends one request; body is the raw DATA (prefix included, as given). */
static int32_t request(struct rig *r, const char *path, const char *ctype, struct body *b,
                       const char *trace)
{
#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}
    nghttp2_nv h[] = {NV(":method", "POST"), NV(":scheme", "http"), NV(":path", path),
                      NV(":authority", "test"), NV("content-type", ctype),
                      NV("te", "trailers"), NV("x-trace-id", trace ? trace : "")};
#undef NV
    nghttp2_data_provider dp = {.source.ptr = b, .read_callback = read_body};
    int32_t id = nghttp2_submit_request(r->client, NULL, h, trace ? 7 : 6, b ? &dp : NULL, NULL);
    assert_true(id > 0);
    r->stream_ids[r->streams] = id;
    r->seen[r->streams].grpc_status = -1;
    r->streams++;
    return id;
}

static uint8_t *framed(uint8_t flag, const char *msg, size_t *len)
{
    size_t n = strlen(msg);
    uint8_t *p = malloc(5 + n);
    p[0] = flag;
    p[1] = (uint8_t)(n >> 24);
    p[2] = (uint8_t)(n >> 16);
    p[3] = (uint8_t)(n >> 8);
    p[4] = (uint8_t)n;
    memcpy(p + 5, msg, n);
    *len = 5 + n;
    return p;
}

static void grpc__unary_call__answered_ok_with_body_and_trailers(void **state)
{
    struct rig *r = *state;
    r->answer_now = true;
    size_t len;
    uint8_t *p = framed(0, "hello", &len);
    struct body b = {p, len, 0};
    int32_t id = request(r, "/pkg.Svc/Echo", "application/grpc", &b, "trace-123");
    pump(r);
    struct seen *x = seen_of(r, id);
    assert_int_equal(r->calls, 1);
    assert_string_equal(r->last_trace, "trace-123");
    assert_int_equal(x->http_status, 200);
    assert_int_equal(x->grpc_status, 0);
    assert_true(x->closed);
    assert_int_equal(x->body_len, len);
    assert_memory_equal(x->body, p, len);
    assert_int_equal(sg_grpc_conn_busy(r->server), 0);
    free(p);
}

static void grpc__async_reply__delivered_after_the_handler_returned(void **state)
{
    struct rig *r = *state;
    size_t len;
    uint8_t *p = framed(0, "x", &len);
    struct body b = {p, len, 0};
    int32_t id = request(r, "/pkg.Svc/Later", "application/grpc+proto", &b, NULL);
    pump(r);
    assert_int_equal(sg_grpc_conn_busy(r->server), 1);
    assert_false(seen_of(r, id)->closed);
    assert_true(sg_grpc_reply(r->server, r->last_call, 10, "busy: 100% taken", NULL, 0, "wid-1"));
    pump(r);
    struct seen *x = seen_of(r, id);
    assert_int_equal(x->grpc_status, 10);
    assert_string_equal(x->grpc_message, "busy: 100%25 taken"); /* percent-encoded */
    assert_string_equal(x->withdrawal_id, "wid-1");
    assert_true(x->closed);
    assert_false(sg_grpc_reply(r->server, r->last_call, 0, NULL, NULL, 0, NULL)); /* twice */
    free(p);
}

static void expect_status(struct rig *r, const char *path, const char *ctype, uint8_t *p,
                          size_t len, int status)
{
    struct body b = {p, len, 0};
    int32_t id = request(r, path, ctype, p ? &b : NULL, NULL);
    pump(r);
    struct seen *x = seen_of(r, id);
    assert_int_equal(x->grpc_status, status);
    assert_true(x->closed);
    assert_int_equal(r->calls, 0); /* answered by the session, not the handler */
}

static void grpc__unknown_method__unimplemented(void **state)
{
    size_t len;
    uint8_t *p = framed(0, "x", &len);
    expect_status(*state, "/pkg.Svc/Nope", "application/grpc", p, len, SG_CODE_UNIMPLEMENTED);
    free(p);
}

static void grpc__compressed_flag__unimplemented(void **state)
{
    size_t len;
    uint8_t *p = framed(1, "x", &len);
    expect_status(*state, "/pkg.Svc/Echo", "application/grpc", p, len, SG_CODE_UNIMPLEMENTED);
    free(p);
}

static void grpc__message_over_4_mib__resource_exhausted(void **state)
{
    size_t n = (5u << 20) + 5;
    uint8_t *p = calloc(1, n);
    p[1] = (uint8_t)((n - 5) >> 24);
    p[2] = (uint8_t)((n - 5) >> 16);
    p[3] = (uint8_t)((n - 5) >> 8);
    p[4] = (uint8_t)(n - 5);
    expect_status(*state, "/pkg.Svc/Echo", "application/grpc", p, n,
                  SG_CODE_RESOURCE_EXHAUSTED);
    free(p);
}

static void grpc__truncated_or_missing_message__invalid_argument(void **state)
{
    struct rig *r = *state;
    size_t len;
    uint8_t *p = framed(0, "hello", &len);
    expect_status(r, "/pkg.Svc/Echo", "application/grpc", p, len - 2, SG_CODE_INVALID_ARGUMENT);
    expect_status(r, "/pkg.Svc/Echo", "application/grpc", NULL, 0, SG_CODE_INVALID_ARGUMENT);
    expect_status(r, "/pkg.Svc/Echo", "text/plain", p, len, SG_CODE_INVALID_ARGUMENT);
    free(p);
}

static void grpc__health_check__serving(void **state)
{
    struct rig *r = *state;
    size_t len;
    uint8_t *p = framed(0, "", &len);
    struct body b = {p, len, 0};
    int32_t id = request(r, "/grpc.health.v1.Health/Check", "application/grpc", &b, NULL);
    pump(r);
    struct seen *x = seen_of(r, id);
    assert_int_equal(x->grpc_status, 0);
    assert_int_equal(x->body_len, 7);
    assert_int_equal(x->body[5], 0x08); /* HealthCheckResponse.status = SERVING */
    assert_int_equal(x->body[6], 0x01);
    free(p);
}

static void grpc__broken_preface__recv_fails(void **state)
{
    struct rig *r = *state;
    static const uint8_t junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(sg_grpc_conn_recv(r->server, junk, sizeof junk - 1), -1);
}

static void grpc__reset_before_reply__late_reply_ignored_and_call_gone(void **state)
{
    struct rig *r = *state;
    size_t len;
    uint8_t *p = framed(0, "x", &len);
    struct body b = {p, len, 0};
    int32_t id = request(r, "/pkg.Svc/Later", "application/grpc", &b, NULL);
    pump(r);
    assert_int_equal(sg_grpc_conn_busy(r->server), 1);
    nghttp2_submit_rst_stream(r->client, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    pump(r);
    assert_int_equal(r->gone, 1);
    assert_int_equal(sg_grpc_conn_busy(r->server), 0);
    assert_false(sg_grpc_reply(r->server, r->last_call, 0, NULL, NULL, 0, NULL));
    free(p);
}

static void grpc__goaway__in_flight_call_still_answered(void **state)
{
    struct rig *r = *state;
    size_t len;
    uint8_t *p = framed(0, "x", &len);
    struct body b = {p, len, 0};
    int32_t id = request(r, "/pkg.Svc/Later", "application/grpc", &b, NULL);
    pump(r);
    sg_grpc_conn_goaway(r->server);
    pump(r);
    assert_true(sg_grpc_reply(r->server, r->last_call, 0, NULL, (const uint8_t *)"ok", 2, NULL));
    pump(r);
    struct seen *x = seen_of(r, id);
    assert_int_equal(x->grpc_status, 0);
    assert_int_equal(x->body_len, 7);
    assert_true(x->closed);
    /* A new call after GOAWAY is refused by the client library itself: the session is
     * going away, so nghttp2 will not open a stream on it. */
    assert_true(nghttp2_session_get_remote_settings(r->client, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS) ==
                SG_GRPC_STREAMS_MAX);
    free(p);
}

static void grpc__free_with_pending_call__reports_it_gone(void **state)
{
    struct rig *r = *state;
    size_t len;
    uint8_t *p = framed(0, "x", &len);
    struct body b = {p, len, 0};
    request(r, "/pkg.Svc/Later", "application/grpc", &b, NULL);
    pump(r);
    sg_grpc_conn_free(r->server);
    r->server = NULL;
    assert_int_equal(r->gone, 1);
    free(p);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(grpc__unary_call__answered_ok_with_body_and_trailers),
        T(grpc__async_reply__delivered_after_the_handler_returned),
        T(grpc__unknown_method__unimplemented),
        T(grpc__compressed_flag__unimplemented),
        T(grpc__message_over_4_mib__resource_exhausted),
        T(grpc__truncated_or_missing_message__invalid_argument),
        T(grpc__health_check__serving),
        T(grpc__broken_preface__recv_fails),
        T(grpc__reset_before_reply__late_reply_ignored_and_call_gone),
        T(grpc__goaway__in_flight_call_still_answered),
        T(grpc__free_with_pending_call__reports_it_gone),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
