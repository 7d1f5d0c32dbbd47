/*
 * fake_main.c - build/tests/fake-provider: the fake provider as a program,
 * for tests that run the real binary (integration, pollers).
 *
 *   build/tests/fake-provider --provider electricitymaps [--port 0] [--fault 429 [--fault-count N]]
 *                             [--data DIR] [--token T] [--username U --password P]
 *                             [--retry-after S] [--gzip] [--fresh [--age DURATION]]
 *
 * Prints the port it listens on (one line, then flushes) and serves until
 * SIGTERM or SIGINT.  --fresh shifts the recorded times so that the data is
 * current (the newest observation in this hour), or --age old ("3h").  GET /_fake/fault?set=NAME&count=N
 * changes the fault while it runs; GET /_fake/stats tells what it served.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"
#include "tests/lib/fake_provider.h"

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: fake-provider --provider NAME [--port N] [--fault F] [--fault-count N] [--data DIR]\n"
		"                     [--token T] [--username U] [--password P] [--retry-after S] [--gzip]\n"
		"                     [--fresh [--age DURATION]]\n"
		"providers: electricitymaps watttime ukgrid entsoe eia openmeteo pue\n"
		"faults:");
	for (int i = 0; i < FAKE__FAULT_COUNT; i++)
		fprintf(fp, " %s", fake_fault_name((enum fake_fault)i));
	fprintf(fp, "\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"provider", required_argument, NULL, 'p'},
	    {"port", required_argument, NULL, 'P'},
	    {"fault", required_argument, NULL, 'f'},
	    {"fault-count", required_argument, NULL, 'c'},
	    {"data", required_argument, NULL, 'd'},
	    {"token", required_argument, NULL, 't'},
	    {"username", required_argument, NULL, 'u'},
	    {"password", required_argument, NULL, 'w'},
	    {"retry-after", required_argument, NULL, 'r'},
	    {"gzip", no_argument, NULL, 'g'},
	    {"fresh", no_argument, NULL, 'F'},
	    {"age", required_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct fake_options o = {0};
	struct err_detail err;
	sigset_t set;
	int c, sig;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': o.provider = optarg; break;
		case 'P': o.port = atoi(optarg); break;
		case 'f':
			if (fake_fault_parse(optarg) < 0) {
				fprintf(stderr, "fake-provider: unknown fault '%s'\n", optarg);
				usage(stderr);
				return 2;
			}
			o.fault = (enum fake_fault)fake_fault_parse(optarg);
			break;
		case 'c': o.fault_count = atoi(optarg); break;
		case 'd': o.data_dir = optarg; break;
		case 't': o.token = optarg; break;
		case 'u': o.username = optarg; break;
		case 'w': o.password = optarg; break;
		case 'r': o.retry_after_s = atoi(optarg); break;
		case 'g': o.gzip = true; break;
		case 'F': o.fresh = true; break;
		case 'a':
			if (ts_parse_duration(optarg, "age", &o.age_s, &err)) {
				fprintf(stderr, "fake-provider: --age: %s\n", err.msg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!o.provider) {
		usage(stderr);
		return 2;
	}
	/* Block the signals before the server thread exists, so that only
	 * sigwait below receives them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	struct fake *f = fake_start(&o, &err);
	if (!f) {
		fprintf(stderr, "fake-provider: %s\n", err.msg);
		return 1;
	}
	printf("%d\n", fake_port(f));
	fflush(stdout);
	sigwait(&set, &sig);
	fake_stop(f);
	return 0;
}
