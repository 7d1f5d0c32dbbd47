/* Integration tests: the real binary against a real PostgreSQL. */
#include "tests/lib/testlib.h"

int main(int argc, char **argv)
{
	return tl_main(argc, argv);
}
