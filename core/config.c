/*
 * config.c: the defaults of DESIGN §8.
 */
#include "config.h"

#include <string.h>
#include "banned.h"

void sg_config_default(struct sg_config *c)
{
    memset(c, 0, sizeof *c);
    c->partitions = 3;
    c->batch_max = 64;
    c->lease_ttl_ns = 5000000000LL;
    c->saga_deadline_ns = 30000000000LL;
    c->fetch_poll_ns = 500000000LL;
    c->relay_poll_ns = 500000000LL;
    c->request_timeout_ns = 1000000000LL;
    c->work_delay_max_ns = 2000000LL;
    strcpy(c->deny_users[0], "00000000-0000-4000-8000-00000000dead");
    c->deny_user_count = 1;
    c->identity_reject_num = 5;
    c->identity_reject_den = 100;
    strcpy(c->limits[0].asset, "BTC");
    c->limits[0].amount_minor_max = 500000000LL;
    strcpy(c->limits[1].asset, "ETH");
    c->limits[1].amount_minor_max = 20000000000LL;
    c->limit_count = 2;
    c->risk_reject_num = 5;
    c->risk_reject_den = 100;
    c->default_balance_minor = 1000000000000LL; /* 10^12: the default workload never runs dry */
    c->payout_fail_num = 2;
    c->payout_fail_den = 100;
}
