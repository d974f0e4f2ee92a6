/*
 * cli.h: what the sagasim subcommands share: argument helpers and the output contract of
 * DESIGN §8 / §8.1 (deterministic key=value lines on stdout; wall times and progress on
 * stderr; exit 0 all hold, 1 violation, 2 bad usage or input, 3 nondeterminism).
 */
#ifndef SG_CLI_H
#define SG_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "run.h"

enum { SG_EXIT_OK = 0, SG_EXIT_VIOLATION = 1, SG_EXIT_USAGE = 2, SG_EXIT_NONDETERMINISM = 3 };

/* Parses a u64 in decimal (the whole string); false on junk or overflow. */
bool sg_cli_parse_u64(const char *s, uint64_t *out);
/* Wall-clock seconds since an arbitrary point (the CLI's only clock). */
double sg_cli_wall_seconds(void);
/* Prints the run's stdout lines (seed, scenario, hash, verdict, figures, violations). */
void sg_cli_print_result(const struct sg_run_config *rc, const struct sg_run_result *res);

int sg_cmd_run(int argc, char **argv);

#endif
