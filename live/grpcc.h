/*
 * grpcc.h (live): a small blocking gRPC client over HTTP/2 (libnghttp2), for the commands
 * that call the service themselves (`live demo`, the health wait). One connection, one
 * unary call at a time; any ordinary gRPC client works against the same server.
 *
 * sg_grpcc_call returns the call's gRPC status in r->status (0 OK, ...), or -1 when the
 * transport failed (connection refused or closed, timeout): r->message then says why. On
 * OK, r->body holds the response message without the 5-byte gRPC prefix. The trailer
 * x-withdrawal-id (ABORTED) lands in r->withdrawal_id.
 */
#ifndef SG_LIVE_GRPCC_H
#define SG_LIVE_GRPCC_H

#include <stddef.h>
#include <stdint.h>

struct sg_grpcc {
    int fd;
    void *session; /* nghttp2_session */
    char authority[80];
    struct sg_grpcc_reply *cur;
    int32_t cur_stream;
    const uint8_t *send_buf;
    size_t send_len, send_off;
    int done;
};

struct sg_grpcc_reply {
    int status;
    char message[256];
    char withdrawal_id[64];
    uint8_t *body;
    size_t body_len;
};

/* Connects to "HOST:PORT" (IPv4); 0, or -1 with err filled. */
int sg_grpcc_open(struct sg_grpcc *c, const char *addr, char *err, size_t cap);
/* One unary call; trace_id may be NULL. Always fills *r (free with sg_grpcc_reply_free). */
void sg_grpcc_call(struct sg_grpcc *c, const char *path, const uint8_t *req, size_t len,
                   const char *trace_id, int timeout_ms, struct sg_grpcc_reply *r);
void sg_grpcc_reply_free(struct sg_grpcc_reply *r);
void sg_grpcc_close(struct sg_grpcc *c);

#endif
