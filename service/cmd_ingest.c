/*
 * cmd_ingest.c - 'carbonsched ingest': load a data file into the store.
 *
 * The whole file is parsed before the database is touched, and stored in
 * one transaction: a bad row anywhere stores nothing of the file.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "connectors/files.h"
#include "service/cli.h"
#include "service/commands.h"
#include "service/ingest_source.h"
#include "service/store.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: carbonsched ingest --file PATH --format FORMAT [--zone ZONE] [--kind KIND]\n"
		"                          [--config FILE] [--dry-run] [--quiet]\n"
		"       carbonsched ingest --source NAME [--zone Z] [--from T --to T] [--base-url URL] "
		"[--dry-run]\n"
		"                          (pull a provider once; 'carbonsched ingest --source x --help')\n\n"
		"Load a historical data file (plain or gzip) into the database, in one transaction.\n"
		"Re-ingesting a file changes nothing. A bad row stops the ingest with FILE:LINE: reason,\n"
		"exit status 1, and nothing of the file is stored.\n\n"
		"  --format     one of:");
	for (const char *const *f = files_formats; *f; f++)
		fprintf(out, " %s", *f);
	fprintf(out, "\n  --zone       zone of single-zone files (default: from the file name)\n"
		     "  --kind       signal kind for 'wide', 'lwa' and 'gb-forecast' files\n"
		     "  --dry-run    print what was parsed as JSON and write nothing\n"
		     "  --config     the service config (for database_url); or set CARBONSCHED_CONFIG or\n"
		     "               CARBONSCHED_DATABASE_URL\n");
}

int cmd_ingest(int argc, char **argv)
{
	static const struct option opts[] = {{"file", required_argument, NULL, 'f'},
					     {"format", required_argument, NULL, 'F'},
					     {"zone", required_argument, NULL, 'z'},
					     {"kind", required_argument, NULL, 'k'},
					     {"config", required_argument, NULL, 'c'},
					     {"dry-run", no_argument, NULL, 'n'},
					     {"quiet", no_argument, NULL, 'q'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *file = NULL, *format = NULL, *config = NULL;
	struct files_options fo = {0};
	struct err_detail err = {{0}, {0}};
	struct store_ingest_stats st;
	bool dry = false, quiet = false;
	struct sig_set set;
	struct db *db;
	int c, rc;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--source") || !strncmp(argv[i], "--source=", 9))
			return ingest_source_main(argc, argv);
	while ((c = getopt_long(argc, argv, "f:F:z:k:c:nqh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': file = optarg; break;
		case 'F': format = optarg; break;
		case 'z': fo.zone = optarg; break;
		case 'k': fo.kind = optarg; break;
		case 'c': config = optarg; break;
		case 'n': dry = true; break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc || !file || !format) {
		fprintf(stderr, "carbonsched ingest: --file and --format are required\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = files_read(file, format, &fo, &set, &err);
	if (rc) {
		sig_set_release(&set);
		fprintf(stderr, "%s\n", err.msg);
		return rc == ERR_INVALID ? EXIT_USAGE : 1;
	}
	if (dry) {
		cli_print_set_json(stdout, &set);
		sig_set_release(&set);
		return 0;
	}
	if (cli_open_db(cli_config_path(config), true, &db)) {
		sig_set_release(&set);
		return 1;
	}
	rc = store_ingest(db, &set, &st, &err);
	sig_set_release(&set);
	db_close(db);
	if (rc) {
		fprintf(stderr, "carbonsched ingest: %s: nothing stored: %s\n", file, err.msg);
		return 1;
	}
	if (!quiet)
		printf("%s: %zu series, %zu points, %zu rows written%s\n", file, st.series, st.points,
		       st.written, st.merged ? " (merged with stored data)" : "");
	return 0;
}
