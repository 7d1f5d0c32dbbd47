/*
 * bare_mhd.c - the reference for the HTTP benchmark: libmicrohttpd with
 * the same daemon options as the service, answering every request with a
 * fixed body (read from a file, so it has exactly the size of a real
 * answer) and nothing else; a request body is read and dropped.  Prints
 * its port, serves until SIGTERM.
 *
 *   bare_mhd BODY_FILE THREADS
 */
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *body;
static size_t body_len;

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			       const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct MHD_Response *r;
	enum MHD_Result ok;

	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload;
	if (!*con_cls) {
		*con_cls = conn;
		return MHD_YES;
	}
	if (*upload_size) { /* a POST body: read and drop it, as a handler would */
		*upload_size = 0;
		return MHD_YES;
	}
	r = MHD_create_response_from_buffer(body_len, body, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", "application/json");
	ok = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ok;
}

int main(int argc, char **argv)
{
	FILE *f;
	long n;
	sigset_t sigs;
	int sig;

	if (argc != 3 || !(f = fopen(argv[1], "rb"))) {
		fprintf(stderr, "usage: bare_mhd BODY_FILE THREADS\n");
		return 2;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	body = malloc((size_t)n + 1);
	body_len = fread(body, 1, (size_t)n, f);
	fclose(f);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL,
						NULL, handler, NULL, MHD_OPTION_THREAD_POOL_SIZE,
						(unsigned)atoi(argv[2]), MHD_OPTION_CONNECTION_TIMEOUT, 30u,
						MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_END);
	if (!d)
		return 1;
	printf("%d\n", MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
	fflush(stdout);
	sigwait(&sigs, &sig);
	MHD_stop_daemon(d);
	free(body);
	return 0;
}
