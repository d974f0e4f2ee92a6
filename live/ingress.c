/*
 * ingress.c (live): the orchestrator's gRPC front door on libuv (see ingress.h).
 */
#include "ingress.h"

#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "grpc.h"
#include "supervisor.h"
#include "wire.h"

enum {
    PENDING_MAX = 4096,            /* calls waiting for the orchestrator, all connections */
    WRITE_QUEUE_MAX = 8 << 20,     /* bytes queued to one slow client before we close it */
    METHOD_CREATE = 0,
    METHOD_GET = 1,
};

static const char *const methods[] = {
    "/cbsaga.orchestrator.v1.OrchestratorService/CreateWithdrawal",
    "/cbsaga.orchestrator.v1.OrchestratorService/GetWithdrawal", NULL};

struct conn {
    struct sg_live_ingress *g;
    struct conn *next, *prev;
    uv_tcp_t tcp;
    struct sg_grpc_conn *grpc;
    bool closing;
};

struct pending {
    uint64_t msg_id;              /* 0: free slot */
    struct conn *conn;
    uint64_t call_id;
};

struct sg_live_ingress {
    uv_loop_t *loop;
    uv_tcp_t listener;
    bool listening, draining;
    struct conn *conns;
    sg_ingress_deliver_fn deliver;
    void *owner;
    uint64_t msg_counter;
    struct pending pending[PENDING_MAX];
    size_t pending_count;
    size_t open_handles;           /* handles still to close before the ingress is freed */
    bool closed;
};

struct write_req {
    uv_write_t req;
    uint8_t data[];
};

static void maybe_free(struct sg_live_ingress *g)
{
    if (g->closed && g->open_handles == 0) free(g);
}

static void pending_drop_conn(struct sg_live_ingress *g, struct conn *c)
{
    for (size_t i = 0; i < PENDING_MAX && g->pending_count; i++)
        if (g->pending[i].msg_id && g->pending[i].conn == c) {
            g->pending[i].msg_id = 0;
            g->pending_count--;
        }
}

static void conn_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    struct sg_live_ingress *g = c->g;
    free(c);
    g->open_handles--;
    maybe_free(g);
}

static void conn_close(struct conn *c)
{
    if (c->closing) return;
    c->closing = true;
    struct sg_live_ingress *g = c->g;
    if (c->prev) c->prev->next = c->next;
    else g->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    pending_drop_conn(g, c);
    sg_grpc_conn_free(c->grpc);
    c->grpc = NULL;
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void write_done(uv_write_t *req, int status)
{
    (void)status;
    free(req->data);
}

static bool conn_write(void *ctx, const uint8_t *bytes, size_t len)
{
    struct conn *c = ctx;
    if (c->closing) return false;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) + len > WRITE_QUEUE_MAX)
        return false; /* a client that does not read: it is closed, the others go on */
    struct write_req *w = malloc(sizeof *w + len);
    if (!w) return false;
    memcpy(w->data, bytes, len);
    w->req.data = w;
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, write_done) != 0) {
        free(w);
        return false;
    }
    return true;
}

/* A call: becomes a client envelope for the orchestrator. */
static void on_call(void *ctx, struct sg_grpc_conn *gc, const struct sg_grpc_call *call)
{
    struct conn *c = ctx;
    struct sg_live_ingress *g = c->g;
    SgEnvelope e = SAGASIM__NODE__V1__ENVELOPE__INIT;
    Cbsaga__Orchestrator__V1__CreateWithdrawalRequest *create = NULL;
    Cbsaga__Orchestrator__V1__GetWithdrawalRequest *get = NULL;
    if (call->method == METHOD_CREATE) {
        create = cbsaga__orchestrator__v1__create_withdrawal_request__unpack(
            NULL, call->message_len, call->message);
        e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_CREATE;
        e.create = create;
    } else {
        get = cbsaga__orchestrator__v1__get_withdrawal_request__unpack(NULL, call->message_len,
                                                                       call->message);
        e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_GET;
        e.get = get;
    }
    size_t slot = PENDING_MAX;
    for (size_t i = 0; i < PENDING_MAX && slot == PENDING_MAX; i++)
        if (!g->pending[i].msg_id) slot = i;
    if (!create && !get) {
        sg_grpc_reply(gc, call->id, SG_CODE_INVALID_ARGUMENT, "undecodable request message",
                      NULL, 0, NULL);
    } else if (slot == PENDING_MAX || g->draining) {
        sg_grpc_reply(gc, call->id, SG_CODE_UNAVAILABLE,
                      g->draining ? "shutting down" : "too many calls in progress", NULL, 0,
                      NULL);
    } else {
        e.msg_id = ++g->msg_counter;
        e.from = SG_NODE_CLIENT0;
        e.to = SG_NODE_ORCH;
        e.trace_id = (char *)call->trace_id;
        g->pending[slot] = (struct pending){.msg_id = e.msg_id, .conn = c, .call_id = call->id};
        g->pending_count++;
        size_t len = sagasim__node__v1__envelope__get_packed_size(&e);
        uint8_t *buf = malloc(len ? len : 1);
        if (buf) {
            sagasim__node__v1__envelope__pack(&e, buf);
            g->deliver(g->owner, buf, len);
            free(buf);
        }
    }
    if (create) cbsaga__orchestrator__v1__create_withdrawal_request__free_unpacked(create, NULL);
    if (get) cbsaga__orchestrator__v1__get_withdrawal_request__free_unpacked(get, NULL);
}

static void on_call_gone(void *ctx, uint64_t call_id)
{
    struct conn *c = ctx;
    struct sg_live_ingress *g = c->g;
    for (size_t i = 0; i < PENDING_MAX && g->pending_count; i++)
        if (g->pending[i].msg_id && g->pending[i].conn == c && g->pending[i].call_id == call_id) {
            g->pending[i].msg_id = 0;
            g->pending_count--;
        }
}

void sg_live_ingress_reply(struct sg_live_ingress *g, const uint8_t *bytes, size_t len)
{
    SgEnvelope *e = sg_wire_decode(bytes, len);
    if (!e) return;
    size_t i = 0;
    while (i < PENDING_MAX && (!g->pending[i].msg_id || g->pending[i].msg_id != e->correlation_id))
        i++;
    if (i == PENDING_MAX || e->payload_case != SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_REPLY) {
        sg_wire_free(e); /* the call is gone (client left) or the answer is not a reply */
        return;
    }
    struct pending p = g->pending[i];
    g->pending[i].msg_id = 0;
    g->pending_count--;
    const Sagasim__Node__V1__ClientReply *r = e->reply;
    uint8_t *body = NULL;
    size_t body_len = 0;
    if (r->body_case == SAGASIM__NODE__V1__CLIENT_REPLY__BODY_CREATE) {
        body_len = cbsaga__orchestrator__v1__create_withdrawal_response__get_packed_size(r->create);
        body = malloc(body_len ? body_len : 1);
        if (body) cbsaga__orchestrator__v1__create_withdrawal_response__pack(r->create, body);
    } else if (r->body_case == SAGASIM__NODE__V1__CLIENT_REPLY__BODY_GET) {
        body_len = cbsaga__orchestrator__v1__get_withdrawal_response__get_packed_size(r->get);
        body = malloc(body_len ? body_len : 1);
        if (body) cbsaga__orchestrator__v1__get_withdrawal_response__pack(r->get, body);
    }
    const char *wid = r->code == SG_CODE_ABORTED && r->withdrawal_id[0] ? r->withdrawal_id : NULL;
    if (!p.conn->closing)
        sg_grpc_reply(p.conn->grpc, p.call_id, r->code, r->message, body, body ? body_len : 0,
                      wid);
    free(body);
    sg_wire_free(e);
    if (!p.conn->closing && g->draining && sg_grpc_conn_done(p.conn->grpc)) conn_close(p.conn);
}

/* ---- connections ---- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    size_t n = suggested < 65536 ? 65536 : suggested;
    b->base = malloc(n);
    b->len = b->base ? n : 0;
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct conn *c = s->data;
    if (nread < 0) {
        conn_close(c);
    } else if (nread > 0 && !c->closing) {
        if (sg_grpc_conn_recv(c->grpc, (const uint8_t *)b->base, (size_t)nread) != 0)
            conn_close(c); /* a broken preface or frame: this connection only */
        else if (c->g->draining && sg_grpc_conn_done(c->grpc))
            conn_close(c);
    }
    free(b->base);
}

static void on_accept(uv_stream_t *server, int status)
{
    struct sg_live_ingress *g = server->data;
    if (status != 0 || g->draining) return;
    struct conn *c = calloc(1, sizeof *c);
    if (!c) return;
    c->g = g;
    uv_tcp_init(g->loop, &c->tcp);
    c->tcp.data = c;
    g->open_handles++;
    struct sg_grpc_hooks hooks = {.write = conn_write, .on_call = on_call,
                                  .on_call_gone = on_call_gone, .ctx = c, .methods = methods};
    c->grpc = sg_grpc_conn_new(&hooks);
    if (!c->grpc || uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        c->closing = true;
        sg_grpc_conn_free(c->grpc);
        uv_close((uv_handle_t *)&c->tcp, conn_closed);
        return;
    }
    c->next = g->conns;
    if (g->conns) g->conns->prev = c;
    g->conns = c;
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
    sg_grpc_conn_recv(c->grpc, NULL, 0); /* writes the server's SETTINGS */
}

static void listener_closed(uv_handle_t *h)
{
    struct sg_live_ingress *g = h->data;
    g->open_handles--;
    maybe_free(g);
}

struct sg_live_ingress *sg_live_ingress_start(uv_loop_t *loop, const char *addr,
                                              sg_ingress_deliver_fn deliver, void *owner,
                                              const char **err)
{
    char host[64];
    int port = 0;
    struct sockaddr_in sa;
    if (!sg_live_split_addr(addr, host, sizeof host, &port) ||
        uv_ip4_addr(host, port, &sa) != 0) {
        *err = "bad address (want IPv4 HOST:PORT)";
        return NULL;
    }
    struct sg_live_ingress *g = calloc(1, sizeof *g);
    if (!g) {
        *err = "out of memory";
        return NULL;
    }
    g->loop = loop;
    g->deliver = deliver;
    g->owner = owner;
    uv_tcp_init(loop, &g->listener);
    g->listener.data = g;
    g->open_handles = 1;
    g->listening = true;
    int rc = uv_tcp_bind(&g->listener, (const struct sockaddr *)&sa, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&g->listener, 511, on_accept);
    if (rc != 0) {
        *err = uv_strerror(rc);
        sg_live_ingress_close(g);
        return NULL;
    }
    return g;
}

void sg_live_ingress_drain(struct sg_live_ingress *g)
{
    if (g->draining) return;
    g->draining = true;
    if (g->listening) {
        g->listening = false;
        uv_close((uv_handle_t *)&g->listener, listener_closed);
    }
    for (struct conn *c = g->conns, *next; c; c = next) {
        next = c->next;
        sg_grpc_conn_goaway(c->grpc);
        if (sg_grpc_conn_busy(c->grpc) == 0) conn_close(c);
    }
}

size_t sg_live_ingress_pending(const struct sg_live_ingress *g)
{
    return g->pending_count;
}

void sg_live_ingress_close(struct sg_live_ingress *g)
{
    if (g->listening) {
        g->listening = false;
        uv_close((uv_handle_t *)&g->listener, listener_closed);
    }
    while (g->conns) conn_close(g->conns);
    g->closed = true;
    maybe_free(g);
}
