/*
 * supervisor.h (live): helpers the live commands share (supervisor.c).
 */
#ifndef SG_LIVE_SUPERVISOR_H
#define SG_LIVE_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>

#include "live.h"

/* Fills unset ports of *out from DATA/live.conf, else the defaults; *grpc_owned (free
 * it) backs out->grpc_addr when it came from the file. */
void sg_live_resolve(const struct sg_live_opts *in, struct sg_live_opts *out, char **grpc_owned);
/* "HOST:PORT" -> host, port; false when malformed. */
bool sg_live_split_addr(const char *addr, char *host, size_t cap, int *port);
/* Whether a TCP connect to host:port succeeds now. */
bool sg_live_port_open(const char *host, int port);
void sg_live_sleep_ms(unsigned ms);

#endif
