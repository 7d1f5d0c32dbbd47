/* cmd_serve.c - placeholder until the foundation lands. */
#include <stdio.h>

#include "service/commands.h"

int cmd_serve(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "carbonsched serve: not built yet\n");
	return 1;
}
