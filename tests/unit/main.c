/* Unit tests: every suite registered with TL_SUITE in tests/unit/. */
#include "tests/lib/testlib.h"

int main(int argc, char **argv)
{
	return tl_main(argc, argv);
}
