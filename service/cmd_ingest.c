/* cmd_ingest.c - placeholder until the foundation lands. */
#include <stdio.h>

#include "service/commands.h"

int cmd_ingest(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "carbonsched ingest: not built yet\n");
	return 1;
}
