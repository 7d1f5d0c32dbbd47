/*
 * cmd_keys.c - 'carbonsched keys create|list|revoke': the API keys.
 *
 * create prints the new key once, alone on stdout (so that a script can
 * capture it), and stores only its prefix and SHA-256 (auth.h).  Like
 * serve, it brings the schema up to date first, so a key can be made
 * before the service first starts.  list never shows a key or a hash.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "core/time.h"
#include "service/auth.h"
#include "service/cli.h"
#include "service/commands.h"
#include "service/migrate.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: carbonsched keys create --scopes LIST [--tenant T] [--name N] [--config FILE]\n"
	    "       carbonsched keys list [--config FILE]\n"
	    "       carbonsched keys revoke PREFIX [--config FILE]\n\n"
	    "API keys of the HTTP API (docs/security.md).\n"
	    "  create  make a key with scopes (comma-separated: read, schedule, admin; admin implies\n"
	    "          all) and print it once on stdout; only its SHA-256 is stored.  --tenant limits it\n"
	    "          to one tenant's jobs (without it the key is an operator's and sees all jobs).\n"
	    "  list    prefix, name, scopes, tenant, created, last used and revoked of every key\n"
	    "  revoke  refuse the key from now on (every replica within auth.cache_ttl, default 30 s)\n"
	    "The database comes from the config's database_url (or $CARBONSCHED_CONFIG, or\n"
	    "$CARBONSCHED_DATABASE_URL without a config).\n");
}

/* A connection with the schema up to date and the statements prepared. */
static int open_db(const char *config, struct db **ret)
{
	struct err_detail err = {{0}, {0}};
	struct db *db;
	int applied;

	if (cli_open_db(cli_config_path(config), false, &db))
		return 1;
	if (migrate_apply(db, &applied, &err) || db_prepare_all(db, &err)) {
		db_close(db);
		return cli_fail("keys", &err);
	}
	*ret = db;
	return 0;
}

static int create(const char *config, const char *scopes, const char *tenant, const char *name)
{
	struct err_detail err = {{0}, {0}};
	char key[AUTH_KEY_LEN + 1], prefix[AUTH_PREFIX_LEN + 1], list[32], hexhash[2 * AUTH_HASH_LEN + 1];
	unsigned char hash[AUTH_HASH_LEN];
	unsigned bits;
	struct db *db;

	if (!scopes) {
		fprintf(stderr, "carbonsched keys create: --scopes is required (read, schedule, admin)\n");
		return EXIT_USAGE;
	}
	if (auth_scopes_parse(scopes, "--scopes", &bits, &err)) {
		fprintf(stderr, "carbonsched keys create: --scopes: %s\n", err.msg);
		return EXIT_USAGE;
	}
	if (tenant && !auth_tenant_is_valid(tenant)) {
		fprintf(stderr,
			"carbonsched keys create: --tenant: '%.80s' must be 1-%d letters, digits, '.', '_' "
			"or '-'\n",
			tenant, AUTH_TENANT_MAX);
		return EXIT_USAGE;
	}
	if (name && strlen(name) > 200) {
		fprintf(stderr, "carbonsched keys create: --name: at most 200 characters\n");
		return EXIT_USAGE;
	}
	if (open_db(config, &db))
		return 1;
	if (auth_key_generate(key, prefix, &err)) {
		db_close(db);
		return cli_fail("keys create", &err);
	}
	auth_key_hash(key, hash);
	for (size_t i = 0; i < AUTH_HASH_LEN; i++)
		snprintf(hexhash + 2 * i, 3, "%02x", hash[i]);
	auth_scopes_format(bits, list, sizeof(list));
	const char *p[5] = {prefix, hexhash, list, tenant, name};
	int rc = db_exec(db, DB_API_KEY_INSERT, p, 5, NULL, &err);
	db_close(db);
	if (rc) {
		explicit_bzero(key, sizeof(key));
		return cli_fail("keys create", &err);
	}
	fprintf(stderr,
		"created API key '%s' (scopes %s%s%s); it is shown this once - store it now.\n"
		"Send it as 'Authorization: Bearer <key>'.\n",
		prefix, list, tenant ? ", tenant " : "", tenant ? tenant : "");
	printf("%s\n", key);
	fflush(stdout);
	explicit_bzero(key, sizeof(key));
	return 0;
}

static int list(const char *config)
{
	struct err_detail err = {{0}, {0}};
	struct db_res *r;
	struct db *db;

	if (open_db(config, &db))
		return 1;
	if (db_exec(db, DB_API_KEYS_LIST, NULL, 0, &r, &err)) {
		db_close(db);
		return cli_fail("keys list", &err);
	}
	printf("%-12s  %-20s  %-20s  %-16s  %-20s  %-20s  %s\n", "prefix", "name", "scopes", "tenant",
	       "created", "last_used", "revoked");
	for (size_t i = 0; i < db_res_rows(r); i++) {
		char c[TS_BUFSZ], u[TS_BUFSZ], v[TS_BUFSZ];

		ts_format(db_res_int64(r, i, 4), c);
		ts_format(db_res_int64(r, i, 5), u);
		ts_format(db_res_int64(r, i, 6), v);
		printf("%-12s  %-20s  %-20s  %-16s  %-20s  %-20s  %s\n", db_res_get(r, i, 0),
		       db_res_is_null(r, i, 1) ? "-" : db_res_get(r, i, 1), db_res_get(r, i, 2),
		       db_res_is_null(r, i, 3) ? "-" : db_res_get(r, i, 3), c,
		       db_res_is_null(r, i, 5) ? "-" : u, db_res_is_null(r, i, 6) ? "-" : v);
	}
	db_res_free(r);
	db_close(db);
	return 0;
}

static int revoke(const char *config, const char *prefix)
{
	struct err_detail err = {{0}, {0}};
	struct db_res *r;
	struct db *db;

	if (open_db(config, &db))
		return 1;
	const char *p[1] = {prefix};
	if (db_exec(db, DB_API_KEY_REVOKE, p, 1, &r, &err)) {
		db_close(db);
		return cli_fail("keys revoke", &err);
	}
	int64_t n = db_res_affected(r);
	db_res_free(r);
	db_close(db);
	if (n != 1) {
		fprintf(stderr,
			"carbonsched keys revoke: no key with prefix '%.40s' (see 'carbonsched keys list')\n",
			prefix);
		return 1;
	}
	printf("revoked API key '%s'; replicas refuse it within auth.cache_ttl (default 30 s)\n", prefix);
	return 0;
}

int cmd_keys(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"scopes", required_argument, NULL, 's'},
	    {"tenant", required_argument, NULL, 't'}, {"name", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0}};
	const char *config = NULL, *scopes = NULL, *tenant = NULL, *name = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "c:s:t:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 's': scopes = optarg; break;
		case 't': tenant = optarg; break;
		case 'n': name = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	const char *sub = optind < argc ? argv[optind] : "";
	int rest = argc - optind - 1;

	if (!strcmp(sub, "create") && rest == 0)
		return create(config, scopes, tenant, name);
	if (!strcmp(sub, "list") && rest == 0 && !scopes && !tenant && !name)
		return list(config);
	if (!strcmp(sub, "revoke") && rest == 1 && !scopes && !tenant && !name)
		return revoke(config, argv[optind + 1]);
	usage(stderr);
	return EXIT_USAGE;
}
