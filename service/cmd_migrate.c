/* cmd_migrate.c - placeholder until the foundation lands. */
#include <stdio.h>

#include "service/commands.h"

int cmd_migrate(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "carbonsched migrate: not built yet\n");
	return 1;
}
