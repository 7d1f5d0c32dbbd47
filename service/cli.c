/*
 * cli.c - helpers shared by the commands.
 */
#include "service/cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/time.h"
#include "service/migrate.h"

const char *cli_config_path(const char *opt)
{
	return opt ? opt : getenv("CARBONSCHED_CONFIG");
}

int cli_fail(const char *cmd, const struct err_detail *err)
{
	fprintf(stderr, "carbonsched %s: %s\n", cmd, err->msg[0] ? err->msg : "failed");
	return 1;
}

int cli_open_db(const char *config_path, bool prepare, struct db **ret)
{
	struct err_detail err = {{0}, {0}};
	struct config *cfg = NULL;
	const char *url = getenv("CARBONSCHED_DATABASE_URL");
	struct db *db;
	int version;

	if (config_path) {
		if (config_load(config_path, &cfg, &err))
			return cli_fail("config", &err);
		url = cfg->database_url;
	}
	if (!url) {
		fprintf(stderr,
			"carbonsched: no database: give --config FILE or set CARBONSCHED_DATABASE_URL\n");
		config_free(cfg);
		return 1;
	}
	int rc = db_connect_raw(url, &db, &err);
	config_free(cfg);
	if (rc)
		return cli_fail("database", &err);
	if (prepare) {
		if ((rc = migrate_current(db, &version, &err))) {
			db_close(db);
			return cli_fail("database", &err);
		}
		/* A newer schema is fine (migrations are additive): an old binary
		 * keeps working while an upgrade rolls out. */
		if (version < migrate_latest()) {
			fprintf(
			    stderr,
			    "carbonsched: the database is at schema version %d, this binary needs %d: run "
			    "'carbonsched migrate'\n",
			    version, migrate_latest());
			db_close(db);
			return 1;
		}
		if ((rc = db_prepare_all(db, &err))) {
			db_close(db);
			return cli_fail("database", &err);
		}
	}
	*ret = db;
	return 0;
}

void cli_print_set_json(FILE *out, const struct sig_set *set)
{
	struct buf b;
	char ts[TS_BUFSZ];

	buf_init(&b, 0);
	buf_adds(&b, "{\"series\":[");
	for (size_t k = 0; k < set->n; k++) {
		const struct sig_series *it = &set->items[k];
		const char *unit = sig_kind_string_unit(it->kind);
		bool first = true;

		buf_adds(&b, k ? ",\n{\"zone\":" : "\n{\"zone\":");
		buf_add_json_string(&b, it->zone);
		buf_adds(&b, ",\"kind\":");
		buf_add_json_string(&b, it->kind);
		buf_adds(&b, ",\"source\":");
		buf_add_json_string(&b, it->source);
		buf_adds(&b, ",\"unit\":");
		buf_add_json_string(&b, unit ? unit : "");
		buf_addf(&b, ",\"step_s\":%d,\"points\":[", (int)it->s.step);
		for (size_t i = 0; i < it->s.n; i++) {
			if (isnan(it->s.v[i]))
				continue;
			buf_addf(&b, "%s{\"ts\":\"%s\",\"value\":", first ? "" : ",",
				 ts_format(series_ts(&it->s, i), ts));
			buf_add_double(&b, it->s.v[i]);
			if (series_is_estimated(&it->s, i))
				buf_adds(&b, ",\"estimated\":true");
			buf_addc(&b, '}');
			first = false;
			if (b.len > (1 << 20)) {
				fwrite(b.data, 1, b.len, out);
				buf_reset(&b);
			}
		}
		buf_adds(&b, "]}");
	}
	buf_adds(&b, "\n]}\n");
	fwrite(b.data, 1, b.len, out);
	buf_release(&b);
}
