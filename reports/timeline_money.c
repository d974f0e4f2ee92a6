/*
 * timeline_money.c: the money timeline of a failing run's withdrawal (rp_money_timeline_write,
 * report_int.h): every trace record of that withdrawal that moved it or its money — its
 * creation, status transitions, saga steps, the ledger's holds, settlements and releases,
 * the rail's payouts — in trace order, as a table under the timeline picture.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

static const char *const money_prefixes[] = {"created ", "transition ", "step ", "ledger ",
                                             "payout "};

/* The text of a canonical record "<time_ns> <node> <text>", or NULL when malformed. */
static const char *text_of(const char *rec, uint64_t *time_out, long *node_out)
{
    char *end = NULL;
    *time_out = strtoull(rec, &end, 10);
    if (end == rec || *end != ' ') return NULL;
    const char *node = end + 1;
    *node_out = strtol(node, &end, 10);
    if (end == node || *end != ' ') return NULL;
    return end + 1;
}

static bool is_money_record(const char *text)
{
    for (size_t i = 0; i < sizeof money_prefixes / sizeof money_prefixes[0]; i++)
        if (strncmp(text, money_prefixes[i], strlen(money_prefixes[i])) == 0) return true;
    return false;
}

void rp_money_timeline_write(FILE *f, const struct sg_report_timeline *t)
{
    const char *wid = t->withdrawal_id;
    if (wid == NULL || wid[0] == '\0' || t->records == NULL) return;
    static const char *const nodes[] = {"broker", "orchestrator", "identity", "risk",
                                        "ledger", "payout"};
    size_t shown = 0;
    for (size_t i = 0; i < t->count; i++) {
        uint64_t at = 0;
        long node = -1;
        const char *text = text_of(t->records[i], &at, &node);
        if (!text || !is_money_record(text) || !strstr(text, wid)) continue;
        if (shown++ == 0) {
            fputs("<h3>Money timeline of withdrawal <code>", f);
            rp_put_escaped(f, wid, RP_ESC_TEXT);
            fputs("</code></h3>\n<table id=\"money-timeline\">\n<tr><th>Time (ms)</th>"
                  "<th>Node</th><th>Record</th></tr>\n", f);
        }
        fprintf(f, "<tr><td class=\"n\">%" PRIu64 ".%03" PRIu64 "</td><td>", at / 1000000,
                at / 1000 % 1000);
        rp_put_escaped(f, node >= 0 && (size_t)node < sizeof nodes / sizeof nodes[0]
                              ? nodes[node] : "client", RP_ESC_TEXT);
        fputs("</td><td><code>", f);
        rp_put_escaped(f, text, RP_ESC_TEXT);
        fputs("</code></td></tr>\n", f);
    }
    if (shown > 0) fputs("</table>\n", f);
}
