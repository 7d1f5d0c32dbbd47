/*
 * cmd_migrate.c - 'carbonsched migrate': bring the schema up to date.
 */
#include <getopt.h>
#include <stdio.h>

#include "service/cli.h"
#include "service/commands.h"
#include "service/migrate.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: carbonsched migrate [--config FILE]\n\n"
		"Apply the schema migrations compiled into this binary that the database lacks.\n"
		"Idempotent; safe to run from several replicas at once (an advisory lock serialises them).\n"
		"The database comes from the config's database_url (or $CARBONSCHED_CONFIG, or\n"
		"$CARBONSCHED_DATABASE_URL without a config).\n");
}

int cmd_migrate(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *config = NULL;
	struct err_detail err = {{0}, {0}};
	struct db *db;
	int c, applied, version;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cli_open_db(cli_config_path(config), false, &db))
		return 1;
	if (migrate_apply(db, &applied, &err) || migrate_current(db, &version, &err)) {
		db_close(db);
		return cli_fail("migrate", &err);
	}
	db_close(db);
	printf("schema at version %d (%d migration%s applied)\n", version, applied, applied == 1 ? "" : "s");
	return 0;
}
