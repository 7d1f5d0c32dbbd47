/*
 * cmd_version.c - 'carbonsched version'.
 */
#include <stdio.h>

#include "service/commands.h"
#include "service/version.h"

int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("carbonsched %s\n", CARBONSCHED_VERSION);
	return 0;
}
