/*
 * main.c - the command table and dispatch of the carbonsched program.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "service/commands.h"

static int cmd_help(int argc, char **argv);

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
    {"serve", cmd_serve, "run the HTTP service (and the pollers)"},
    {"migrate", cmd_migrate, "apply database migrations (idempotent)"},
    {"ingest", cmd_ingest, "load a data file or pull a provider once"},
    {"simulate", cmd_simulate, "place the jobs of a CSV file offline and report the savings"},
    {"backtest", cmd_backtest, "score the forecasting models on a data file (rolling origin)"},
    {"report", cmd_report, "what the jobs of a period emitted against their baseline (csv, json, html)"},
    {"keys", cmd_keys, "create, list and revoke API keys"},
    {"run-when-green", cmd_run_when_green, "run a command when the grid is greenest before its deadline"},
    {"version", cmd_version, "print the version"},
    {"help", cmd_help, "list the commands"},
};

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("usage: carbonsched COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-15s %s\n", commands[i].name, commands[i].summary);
	printf("\n'carbonsched COMMAND --help' describes each command.\n");
	return 0;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 2) {
		cmd_help(argc, argv);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(argc, argv);
	if (!strcmp(argv[1], "--version"))
		return cmd_version(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		/* libcurl is initialised once, before any thread exists. */
		curl_global_init(CURL_GLOBAL_DEFAULT);
		rc = commands[i].fn(argc - 1, argv + 1);
		curl_global_cleanup();
		return rc;
	}
	fprintf(stderr, "carbonsched: unknown command '%s' (see 'carbonsched help')\n", argv[1]);
	return EXIT_USAGE;
}
