/*
 * cmd_report.c - 'carbonsched report': what the booked jobs of a period
 * emitted against their baseline, for cron (report.h does the work).
 *
 * Quiet when it succeeds with --out; on failure one line on stderr and
 * exit status 1 (2 for a usage error), and the previous report file is
 * left as it was.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "core/time.h"
#include "service/cli.h"
#include "service/commands.h"
#include "service/report.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: carbonsched report --from T --to T [--format csv|json|html] [--out FILE] [--config "
	    "FILE]\n\n"
	    "What the jobs starting in [--from, --to) emitted - energy, emissions, the baseline (run at "
	    "once\n"
	    "in the origin region), the saving and the forecast error - per job, per day and per region.\n"
	    "Realised figures where a job has them, planned ones otherwise.\n\n"
	    "  --from, --to T   RFC 3339 (2021-11-01T00:00:00Z), a UTC date (2021-11-01), 'today' or\n"
	    "                   'yesterday' (UTC midnight of the real clock)\n"
	    "  --format F       csv (one table, a 'scope' column: total, day, region, job), json, or html "
	    "(a\n"
	    "                   page with charts that prints on A4); default: from --out's extension, else "
	    "csv\n"
	    "  --out FILE       replaced atomically (a temporary file in the same directory, fsynced, "
	    "renamed);\n"
	    "                   default: standard output\n"
	    "  --config FILE    the service config (its database_url); or $CARBONSCHED_CONFIG, or\n"
	    "                   $CARBONSCHED_DATABASE_URL\n\n"
	    "Quiet on success; exit status 1 with a message on failure, 2 on a usage error.\n"
	    "Cron: 5 0 * * * carbonsched report --from yesterday --to today --out "
	    "/var/www/carbon/daily.html\n");
}

static bool parse_when(const char *s, int64_t *ret)
{
	int64_t today = ts_floor(ts_now(), TS_DAY);
	int y, m, d, n = 0;

	if (!strcmp(s, "today")) {
		*ret = today;
		return true;
	}
	if (!strcmp(s, "yesterday")) {
		*ret = today - TS_DAY;
		return true;
	}
	if (strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && n == 10 && m >= 1 &&
	    m <= 12 && d >= 1 && y >= 1900 && y < 2200 && d <= ts_days_in_month(y, m)) {
		*ret = ts_from_civil(y, m, d, 0, 0, 0);
		return true;
	}
	return ts_parse(s, NULL, ret, NULL) == ERR_OK;
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {{"from", required_argument, NULL, 'f'},
					     {"to", required_argument, NULL, 't'},
					     {"format", required_argument, NULL, 'F'},
					     {"out", required_argument, NULL, 'o'},
					     {"config", required_argument, NULL, 'c'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *from_s = NULL, *to_s = NULL, *format_s = NULL, *out = NULL, *config = NULL;
	struct err_detail err = {{0}, {0}};
	enum report_format format = REPORT_CSV;
	int64_t from, to;
	struct report r;
	struct buf text;
	struct db *db;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:t:F:o:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': from_s = optarg; break;
		case 't': to_s = optarg; break;
		case 'F': format_s = optarg; break;
		case 'o': out = optarg; break;
		case 'c': config = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc || !from_s || !to_s) {
		fprintf(stderr, "carbonsched report: %s\n",
			optind != argc ? "unexpected argument" : "--from and --to are required");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!parse_when(from_s, &from) || !parse_when(to_s, &to)) {
		fprintf(stderr,
			"carbonsched report: --%s: '%s' is not a time (RFC 3339, YYYY-MM-DD, today or "
			"yesterday)\n",
			parse_when(from_s, &from) ? "to" : "from", parse_when(from_s, &from) ? to_s : from_s);
		return EXIT_USAGE;
	}
	if (from >= to) {
		fprintf(stderr, "carbonsched report: --from (%s) must be before --to (%s)\n", from_s, to_s);
		return EXIT_USAGE;
	}
	if (format_s) {
		if (!report_format_parse(format_s, &format)) {
			fprintf(stderr, "carbonsched report: --format must be csv, json or html, not '%s'\n",
				format_s);
			return EXIT_USAGE;
		}
	} else if (out) {
		const char *dot = strrchr(out, '.');

		if (!dot || !report_format_parse(dot + 1, &format))
			format = REPORT_CSV;
	}
	if (cli_open_db(cli_config_path(config), true, &db))
		return 1;
	report_init(&r, from, to, ts_now());
	rc = report_load(db, &r, &err);
	db_close(db);
	if (rc) {
		report_release(&r);
		return cli_fail("report", &err);
	}
	report_finish(&r);
	buf_init(&text, 0);
	report_render(&r, format, &text);
	report_release(&r);
	if (out) {
		rc = report_write_atomic(out, text.data ? text.data : "", text.len, &err);
	} else if (fwrite(text.data ? text.data : "", 1, text.len, stdout) != text.len || fflush(stdout)) {
		rc = err_set(&err, ERR_IO, NULL, "cannot write the report to standard output");
	}
	buf_release(&text);
	return rc ? cli_fail("report", &err) : 0;
}
