/*
 * cli.h - what several commands share: finding the config and database,
 * printing errors the same way.
 */
#ifndef CARBONSCHED_SERVICE_CLI_H
#define CARBONSCHED_SERVICE_CLI_H

#include <stdio.h>

#include "core/error.h"
#include "core/signal.h"
#include "service/config.h"
#include "service/db.h"

/* The config file: --config, else $CARBONSCHED_CONFIG, else NULL. */
const char *cli_config_path(const char *opt);

/* Connect to the database of the config at 'config_path' (or, without a
 * config, $CARBONSCHED_DATABASE_URL) and check that it is migrated.
 * 'prepare' prepares the statement table.  Prints the error and returns
 * non-zero on failure. */
int cli_open_db(const char *config_path, bool prepare, struct db **ret);

/* "carbonsched CMD: message" on stderr; returns 1. */
int cli_fail(const char *cmd, const struct err_detail *err);

/* Print a set as {"series":[{"zone","kind","source","unit","step_s","points":[{"ts","value"}]}]}. */
void cli_print_set_json(FILE *out, const struct sig_set *set);

#endif
