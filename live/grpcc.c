/*
 * grpcc.c (live): the blocking gRPC client (see grpcc.h).
 */
#include "grpcc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "supervisor.h"

enum { BODY_MAX = 4 << 20 };

static ssize_t send_cb(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *u)
{
    (void)s;
    (void)flags;
    struct sg_grpcc *c = u;
    ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN ? NGHTTP2_ERR_WOULDBLOCK : NGHTTP2_ERR_CALLBACK_FAILURE;
    return n;
}

static int header_cb(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *u)
{
    (void)s;
    (void)flags;
    struct sg_grpcc *c = u;
    if (!c->cur || f->hd.stream_id != c->cur_stream) return 0;
    int vl = valuelen > 250 ? 250 : (int)valuelen;
    if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0) {
        char v[16] = "";
        snprintf(v, sizeof v, "%.*s", vl > 10 ? 10 : vl, (const char *)value);
        c->cur->status = atoi(v);
    } else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0) {
        snprintf(c->cur->message, sizeof c->cur->message, "%.*s", vl, (const char *)value);
    } else if (namelen == 15 && memcmp(name, "x-withdrawal-id", 15) == 0) {
        snprintf(c->cur->withdrawal_id, sizeof c->cur->withdrawal_id, "%.*s",
                 vl > 63 ? 63 : vl, (const char *)value);
    }
    return 0;
}

static int data_cb(nghttp2_session *s, uint8_t flags, int32_t stream, const uint8_t *data,
                   size_t len, void *u)
{
    (void)s;
    (void)flags;
    struct sg_grpcc *c = u;
    if (!c->cur || stream != c->cur_stream) return 0;
    struct sg_grpcc_reply *r = c->cur;
    if (r->body_len + len > BODY_MAX) return NGHTTP2_ERR_CALLBACK_FAILURE;
    uint8_t *b = realloc(r->body, r->body_len + len);
    if (!b) return NGHTTP2_ERR_CALLBACK_FAILURE;
    memcpy(b + r->body_len, data, len);
    r->body = b;
    r->body_len += len;
    return 0;
}

static int close_cb(nghttp2_session *s, int32_t stream, uint32_t code, void *u)
{
    (void)s;
    struct sg_grpcc *c = u;
    if (stream == c->cur_stream) {
        c->done = 1;
        if (code != NGHTTP2_NO_ERROR && c->cur && c->cur->status < 0)
            snprintf(c->cur->message, sizeof c->cur->message, "stream reset (code %u)", code);
    }
    return 0;
}

static ssize_t read_req(nghttp2_session *s, int32_t stream, uint8_t *buf, size_t len,
                        uint32_t *flags, nghttp2_data_source *src, void *u)
{
    (void)s;
    (void)stream;
    (void)src;
    struct sg_grpcc *c = u;
    size_t n = c->send_len - c->send_off;
    if (n > len) n = len;
    memcpy(buf, c->send_buf + c->send_off, n);
    c->send_off += n;
    if (c->send_off == c->send_len) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

int sg_grpcc_open(struct sg_grpcc *c, const char *addr, char *err, size_t cap)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    char host[64];
    int port = 0;
    if (!sg_live_split_addr(addr, host, sizeof host, &port)) {
        snprintf(err, cap, "bad address '%s' (want HOST:PORT)", addr);
        return -1;
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        snprintf(err, cap, "bad IPv4 host '%s'", host);
        return -1;
    }
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        snprintf(err, cap, "connect %s: %s", addr, strerror(errno));
        sg_grpcc_close(c);
        return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    snprintf(c->authority, sizeof c->authority, "%s", addr);
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_send_callback(cb, send_cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, header_cb);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, data_cb);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, close_cb);
    nghttp2_session *s = NULL;
    int rc = nghttp2_session_client_new(&s, cb, c);
    nghttp2_session_callbacks_del(cb);
    if (rc != 0) {
        snprintf(err, cap, "nghttp2: %s", nghttp2_strerror(rc));
        sg_grpcc_close(c);
        return -1;
    }
    c->session = s;
    nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, NULL, 0);
    return 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends what nghttp2 has and reads until the current stream closes or time runs out. */
static void pump(struct sg_grpcc *c, struct sg_grpcc_reply *r, int timeout_ms)
{
    nghttp2_session *s = c->session;
    int64_t end = mono_ms() + timeout_ms;
    while (!c->done) {
        if (nghttp2_session_send(s) != 0) {
            snprintf(r->message, sizeof r->message, "send failed");
            return;
        }
        int64_t left = end - mono_ms();
        if (left <= 0) {
            snprintf(r->message, sizeof r->message, "timeout after %d ms", timeout_ms);
            return;
        }
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0) continue;
        uint8_t buf[16384];
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n <= 0) {
            snprintf(r->message, sizeof r->message, "connection closed by the server");
            return;
        }
        if (nghttp2_session_mem_recv(s, buf, (size_t)n) < 0) {
            snprintf(r->message, sizeof r->message, "HTTP/2 protocol error");
            return;
        }
    }
}

void sg_grpcc_call(struct sg_grpcc *c, const char *path, const uint8_t *req, size_t len,
                   const char *trace_id, int timeout_ms, struct sg_grpcc_reply *r)
{
    memset(r, 0, sizeof *r);
    r->status = -1;
    if (!c->session) {
        snprintf(r->message, sizeof r->message, "not connected");
        return;
    }
    uint8_t *framed = malloc(5 + len);
    if (!framed) abort();
    framed[0] = 0;
    framed[1] = (uint8_t)(len >> 24);
    framed[2] = (uint8_t)(len >> 16);
    framed[3] = (uint8_t)(len >> 8);
    framed[4] = (uint8_t)len;
    if (len) memcpy(framed + 5, req, len);
    c->send_buf = framed;
    c->send_len = 5 + len;
    c->send_off = 0;
#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}
    nghttp2_nv hdrs[] = {NV(":method", "POST"), NV(":scheme", "http"),
                         NV(":path", path), NV(":authority", c->authority),
                         NV("content-type", "application/grpc"), NV("te", "trailers"),
                         NV("x-trace-id", trace_id ? trace_id : "")};
#undef NV
    size_t nh = trace_id ? 7 : 6;
    nghttp2_data_provider dp = {.read_callback = read_req};
    c->cur = r;
    c->done = 0;
    c->cur_stream = nghttp2_submit_request(c->session, NULL, hdrs, nh, &dp, NULL);
    if (c->cur_stream < 0) snprintf(r->message, sizeof r->message, "submit failed");
    else pump(c, r, timeout_ms);
    if (!c->done) r->status = -1;
    c->cur = NULL;
    free(framed);
    if (r->status == 0 && r->body_len >= 5) { /* strip the gRPC prefix */
        memmove(r->body, r->body + 5, r->body_len - 5);
        r->body_len -= 5;
    }
}

void sg_grpcc_reply_free(struct sg_grpcc_reply *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}

void sg_grpcc_close(struct sg_grpcc *c)
{
    if (c->session) nghttp2_session_del(c->session);
    c->session = NULL;
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
}
