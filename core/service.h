/*
 * service.h: what every saga service shares: its database, its outbox relay and its
 * consumer, and the routing of broker replies and timers to them.
 *
 * A service (orchestrator, identity, risk) embeds a struct sg_service, opens it with its
 * schema (the outbox and inbox tables are added here), and passes broker protocol
 * messages and relay/consumer timers to sg_service_on_message / sg_service_on_timer.
 * After any of the service's own commits that wrote outbox rows it calls
 * sg_service_committed, which wakes the relay.
 */
#ifndef SG_SERVICE_H
#define SG_SERVICE_H

#include <sqlite3.h>
#include <stdbool.h>

#include "config.h"
#include "consumer.h"
#include "db.h"
#include "env.h"
#include "err.h"
#include "relay.h"
#include "wire.h"

struct sg_service {
    const struct sg_env *env;
    const struct sg_config *cfg;
    struct sg_db *db;
    uint64_t msg_counter;
    struct sg_relay relay;
    struct sg_consumer consumer;
};

struct sg_schema;
/* Opens and migrates the service's database (migrate.h: its schema includes the outbox
 * and inbox tables), and sets up relay and consumer (topics: NULL-terminated). Does not
 * send anything yet. */
SG_MUST_USE enum sg_err sg_service_open(struct sg_service *s, const struct sg_env *env,
                                        const struct sg_config *cfg,
                                        const struct sg_schema *schema, const char *group,
                                        const char *const *topics, sg_consume_fn fn,
                                        void *fn_ctx);
/* Starts the relay and the consumer. */
SG_MUST_USE enum sg_err sg_service_start(struct sg_service *s);
/* Handles produce acks, fetch responses and commit acks; *handled false for others. */
SG_MUST_USE enum sg_err sg_service_on_message(struct sg_service *s, const SgEnvelope *e,
                                              bool *handled);
/* Handles relay and consumer timers; *handled false for others. */
SG_MUST_USE enum sg_err sg_service_on_timer(struct sg_service *s, uint64_t tag, bool *handled);
SG_MUST_USE enum sg_err sg_service_committed(struct sg_service *s);
void sg_service_close(struct sg_service *s);

#endif
