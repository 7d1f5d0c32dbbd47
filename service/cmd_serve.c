/*
 * cmd_serve.c - 'carbonsched serve': the HTTP service.
 *
 * Start-up order: config (validated completely, before anything binds),
 * logging, clock, database (migrate, then the pool), regions mirrored,
 * then the port.  SIGINT and SIGTERM are blocked in every thread and
 * taken by the main thread with sigwait, so shutdown runs in ordinary
 * code: stop listening (new connections are refused), let the requests in
 * flight finish for at most 'shutdown_grace', stop the workers, close the
 * pool.  Past the grace the process exits at once (status 1, with a log
 * line): a handler stuck on something cannot hold a deploy up.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/time.h"
#include "service/app.h"
#include "service/auth.h"
#include "service/cli.h"
#include "service/commands.h"
#include "service/handlers.h"
#include "service/migrate.h"
#include "service/planner.h"
#include "service/store.h"
#include "service/version.h"
#include "service/workers.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: carbonsched serve [--config FILE] [--port-file FILE]\n"
		"       carbonsched serve --help-config\n\n"
		"Serve the HTTP API. The config file comes from --config or $CARBONSCHED_CONFIG;\n"
		"every top-level key can be overridden by an environment variable (--help-config).\n"
		"  --port-file  write the bound port there once listening (useful with listen port 0)\n");
}

static int write_port(const char *path, int port)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "%d\n", port);
	return fclose(f);
}

/* The server's own refusals, in carbonsched_http_refused_total. */
static void count_refused(void *p, const char *reason, unsigned n)
{
	struct app *app = p;

	if (app->telemetry)
		metric_add(TM_GET(app, HTTP_REFUSED, reason), n);
}

static const char *sig_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : "SIGTERM";
}

static int start_database(struct app *app, struct err_detail *err)
{
	struct db *db;
	int applied, rc;

	if ((rc = db_connect_raw(app->cfg->database_url, &db, err)))
		return rc;
	rc = migrate_apply(db, &applied, err);
	db_close(db);
	if (rc)
		return rc;
	log_info("database schema at version %d (%d migration%s applied now)", migrate_latest(), applied,
		 applied == 1 ? "" : "s");
	if ((rc = db_pool_new(app->cfg->database_url, app->cfg->db_pool_size, &app->pool, err)))
		return rc;
	if ((rc = db_acquire(app->pool, 10000, &db, err)))
		return rc;
	rc = store_sync_regions(db, app->cfg, err);
	db_release(app->pool, db);
	if (rc)
		return rc;
	app->auth = auth_new(app->cfg, app->pool);
	app->cache = sigcache_new((size_t)app->cfg->cache_points);
	app->health = source_health_new(app->cfg, &app->clock);
	sigcache_set_judge(app->cache, source_health_judge, app->health);
	return sigcache_listen(app->cache, app->cfg->database_url, err);
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"port-file", required_argument, NULL, 'p'},
					     {"help-config", no_argument, NULL, 'K'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *config_path = NULL, *port_file = NULL;
	struct err_detail err = {{0}, {0}};
	struct config *cfg = NULL;
	struct http_server *srv = NULL;
	struct app app = {0};
	enum log_level lvl;
	sigset_t sigs;
	int c, sig, status = 1;
	char ts[TS_BUFSZ];

	while ((c = getopt_long(argc, argv, "c:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'p': port_file = optarg; break;
		case 'K': config_print_keys(stdout); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	config_path = cli_config_path(config_path);
	if (!config_path) {
		fprintf(stderr, "carbonsched serve: no config: give --config FILE or set CARBONSCHED_CONFIG "
				"(deploy/carbonsched.example.json is an example)\n");
		return EXIT_USAGE;
	}
	if (config_load(config_path, &cfg, &err))
		return cli_fail("serve", &err);
	log_parse_level(cfg->log_level, &lvl);
	log_set_level(lvl);
	app.cfg = cfg;
	clock_init(&app.clock, cfg->clock_mode, cfg->clock_start, cfg->clock_speed);
	app.started_at = ts_now();
	app.telemetry = telemetry_new();
	telemetry_start(&app);
	log_info("carbonsched %s starting with '%s': %zu regions, %zu sources", CARBONSCHED_VERSION,
		 config_path, cfg->nregions, cfg->nsources);
	if (clock_is_replay(&app.clock))
		log_info("clock: DEMO replay of historical data from %s at %gx real time - 'now' is not the "
			 "real time",
			 ts_format(app.clock.start, ts), app.clock.speed);
	else
		log_info("clock: real time");

	/* Block the stop signals before any thread exists, so all inherit it. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	if (start_database(&app, &err)) {
		log_error("cannot start: %s", err.msg);
		goto out;
	}
	struct http_options ho = {
	    .host = cfg->listen_host,
	    .port = cfg->listen_port,
	    .threads = cfg->threads,
	    .max_body = (size_t)cfg->max_body,
	    .max_url = (size_t)cfg->max_url,
	    .max_header = (size_t)cfg->max_header,
	    .connection_timeout_s = (unsigned)cfg->idle_timeout,
	    .request_timeout_s = (unsigned)cfg->request_timeout,
	    .max_connections = (unsigned)cfg->max_connections,
	    .max_connections_per_ip = (unsigned)cfg->max_connections_per_ip,
	    .tls_cert_pem = cfg->tls_cert_pem,
	    .tls_key_pem = cfg->tls_key_pem,
	    .on_refused = count_refused,
	    .dispatch = routes_dispatch,
	    .app = &app,
	};
	if (http_start(&ho, &srv, &err)) {
		log_error("cannot start: %s", err.msg);
		goto out;
	}
	log_info("listening on %s://%s:%d", cfg->tls_cert_pem ? "https" : "http", cfg->listen_host,
		 http_port(srv));
	if (workers_start(&app, &err)) {
		log_error("cannot start: %s", err.msg);
		goto out;
	}
	if (port_file && write_port(port_file, http_port(srv)))
		log_warn("cannot write the port to '%s'", port_file);

	sigwait(&sigs, &sig);
	http_quiesce(srv);
	log_info("stopping on %s: not accepting connections; %d request%s in flight", sig_name(sig),
		 http_inflight(srv), http_inflight(srv) == 1 ? "" : "s");
	status = 0;
	atomic_store(&app.stopping, true);
	int64_t t0 = ts_mono_ms();
	if (!http_drain(srv, cfg->shutdown_grace * 1000)) {
		log_error("shutdown grace of %llds passed with %d request%s still in flight; exiting anyway",
			  (long long)cfg->shutdown_grace, http_inflight(srv),
			  http_inflight(srv) == 1 ? "" : "s");
		_exit(1);
	}
	log_info("requests in flight finished in %lld ms", (long long)(ts_mono_ms() - t0));
	workers_stop(&app);
out:
	http_stop(srv);
	planner_free(app.planner); /* after the server: requests in flight use it */
	sigcache_free(app.cache);
	auth_free(app.auth);
	source_health_free(app.health);
	db_pool_free(app.pool);
	telemetry_free(app.telemetry);
	config_free(cfg);
	return status;
}
