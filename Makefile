# carbonsched - one non-recursive Makefile.
#
#   make            build build/carbonsched
#   make run        build, start a local PostgreSQL under var/, load the demo, serve :8080
#   make test       every unit, integration and fuzz-corpus test (own throwaway PostgreSQL)
#   make asan       the whole test suite under ASan+UBSan (objects in build/asan)
#   make tsan       the concurrent integration tests against a ThreadSanitizer
#                   build of the service (objects in build/tsan)
#   make valgrind   the integration tests with every spawned service and CLI run
#                   under valgrind: no errors, no definite or indirect leaks
#   make bench      benchmarks, each with a reference measured in the same run
#   make fuzz       run every libFuzzer target for FUZZ_SECONDS each (clang;
#                   FUZZ_TARGETS="routes jobreq" picks some); docs/fuzzing.md
#   make soak       fixed-rate mixed load for SOAK_SECONDS (180): zero errors, RSS growth < 5 %
#   make format     clang-format every source file;  make format-check  fails on a diff
#
# V=1 shows the commands.  Objects go to $(B) (build/ by default) with
# automatic header dependencies (-MMD -MP).

B ?= build
CC ?= cc
PKGS := libmicrohttpd jansson libcurl libpq libxml-2.0 zlib gnutls

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla \
	-Wnull-dereference -fno-common -Wno-format-nonliteral
OPT ?= -O2 -g
CFLAGS_ALL := -std=gnu11 $(OPT) $(WARN) $(EXTRA_CFLAGS) -I. -D_GNU_SOURCE \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
ifeq ($(WERROR),1)
CFLAGS_ALL += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS_ALL += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS_ALL += -fsanitize=$(SANITIZE)
endif
LDLIBS_ALL := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -lpthread

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-6s %s\n' $(1) $(2)
endif

# Every .c under the four source rooms goes into the library; service/main.c
# is the program.  New files need no Makefile change.
LIB_SRC := $(wildcard core/*.c connectors/*.c forecasters/*.c) \
	$(filter-out service/main.c,$(wildcard service/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o) $(B)/gen/migrations.o $(B)/gen/assets.o
LIB := $(B)/libcarbonsched.a
BIN := $(B)/carbonsched

TESTLIB_SRC := $(wildcard tests/lib/*.c)
UNIT_SRC := $(wildcard tests/unit/*.c)
INTEG_SRC := $(wildcard tests/integration/*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRC := $(wildcard tests/bench/*.c)

UNIT_BIN := $(B)/tests/unit-tests
INTEG_BIN := $(B)/tests/integration-tests
FUZZ_REPLAY := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz-replay/%)
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(B)/bench/%)
FAKE_BIN := $(B)/tests/fake-provider

all: $(BIN)

$(B)/%.o: %.c
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

# The migrations of sql/ are compiled into the binary.
$(B)/gen/migrations.c: $(sort $(wildcard sql/*.sql)) Makefile
	$(call msg,GEN,$@)
	@mkdir -p $(dir $@)
	$(Q){ echo '#include "service/migrate.h"'; echo 'const struct migration migrations[] = {'; \
	  for f in $(sort $(wildcard sql/*.sql)); do \
	    n=$$(basename $$f); v=$$(echo $$n | sed 's/^0*\([0-9][0-9]*\)_.*/\1/'); \
	    echo "{$$v, \"$$n\","; \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $$f; echo '},'; \
	  done; echo '};'; \
	  echo 'const size_t migrations_count = sizeof(migrations) / sizeof(migrations[0]);'; } > $@

$(B)/gen/migrations.o: $(B)/gen/migrations.c
	$(call msg,CC,$<)
	$(Q)$(CC) $(CFLAGS_ALL) -c -o $@ $<

# Files the service serves are compiled into it: the OpenAPI document and
# the dashboard bundle (web/dist, committed; web/build.mjs rebuilds it).
# Each becomes a NUL-terminated byte array with a content hash as ETag.
ASSET_FILES := service/openapi.json $(sort $(wildcard web/dist/*))
$(B)/gen/assets.c: $(ASSET_FILES) Makefile
	$(call msg,GEN,$@)
	@mkdir -p $(dir $@)
	$(Q){ echo '#include "service/assets.h"'; i=0; \
	  for f in $(ASSET_FILES); do \
	    echo "static const unsigned char a$$i[] = {"; \
	    od -An -v -tx1 $$f | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; echo '0};'; i=$$((i+1)); \
	  done; \
	  echo 'const struct asset assets[] = {'; i=0; \
	  for f in $(ASSET_FILES); do \
	    echo "{\"$$f\", a$$i, sizeof(a$$i) - 1, \"\\\"$$(sha256sum $$f | cut -c1-20)\\\"\"},"; i=$$((i+1)); \
	  done; echo '};'; \
	  echo 'const size_t assets_count = sizeof(assets) / sizeof(assets[0]);'; } > $@

$(B)/gen/assets.o: $(B)/gen/assets.c
	$(call msg,CC,$<)
	$(Q)$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(B)/service/main.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(UNIT_BIN): $(UNIT_SRC:%.c=$(B)/%.o) $(TESTLIB_SRC:%.c=$(B)/%.o) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL) -lcunit

$(INTEG_BIN): $(INTEG_SRC:%.c=$(B)/%.o) $(TESTLIB_SRC:%.c=$(B)/%.o) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL) -lcunit

# The fake providers as a program, for tests that run the real binary.
$(FAKE_BIN): $(B)/tests/fakes/fake_main.o $(TESTLIB_SRC:%.c=$(B)/%.o) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL) -lcunit

# Fuzz targets are built twice: with a replay main (any compiler, run by
# make test over tests/fuzz/corpus/<target>/) and with libFuzzer (make fuzz).
$(B)/fuzz-replay/%: $(B)/tests/fuzz/%.o $(B)/tests/fuzz/replay_main.o $(LIB)
	$(call msg,LINK,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

# libFuzzer builds (make fuzz): CC=clang, objects instrumented with
# -fsanitize=fuzzer-no-link, each target linked with -fsanitize=fuzzer.
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzzer/%)
$(B)/fuzzer/%: $(B)/tests/fuzz/%.o $(LIB)
	$(call msg,LINK,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_ALL) -fsanitize=fuzzer -o $@ $^ $(LDLIBS_ALL)
fuzz-bins: $(FUZZ_BIN)

$(B)/bench/bare_mhd: $(B)/tests/bench/bare_mhd.o
	$(call msg,LINK,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(B)/bench/%: $(B)/tests/bench/%.o $(TESTLIB_SRC:%.c=$(B)/%.o) $(LIB)
	$(call msg,LINK,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL) -lcunit

# The soak client (make soak): libcurl, jansson and the core library.
SOAK_BIN := $(B)/soak
$(SOAK_BIN): $(B)/tests/soak/soak.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

test-bins: $(BIN) $(UNIT_BIN) $(INTEG_BIN) $(FUZZ_REPLAY) $(FAKE_BIN)
integ-bins: $(BIN) $(INTEG_BIN) $(FAKE_BIN)

deps:
	@deploy/install-deps.sh --check 2>/dev/null || deploy/install-deps.sh

test: deps
	@$(MAKE) --no-print-directory test-bins
	@B=$(B) tests/run.sh

asan:
	@$(MAKE) --no-print-directory B=build/asan OPT="-O1 -g" SANITIZE=address,undefined test

# The suites whose service answers many clients at once (TSAN_SUITES=
# overrides; empty = every integration suite).
TSAN_SUITES ?= jobs-concurrency concurrent-load
tsan: deps
	@$(MAKE) --no-print-directory B=build/tsan OPT="-O1 -g" SANITIZE=thread integ-bins
	@B=build/tsan tests/sanitize.sh tsan $(TSAN_SUITES)

VALGRIND_SUITES ?=
valgrind: deps
	@$(MAKE) --no-print-directory integ-bins
	@B=$(B) tests/sanitize.sh valgrind $(VALGRIND_SUITES)

run: deps
	@$(MAKE) --no-print-directory $(BIN)
	@B=$(B) deploy/run-local.sh

bench: deps
	@$(MAKE) --no-print-directory $(BIN) $(BENCH_BIN)
	@B=$(B) tests/bench/run.sh

soak: deps
	@$(MAKE) --no-print-directory $(BIN) $(SOAK_BIN)
	@B=$(B) tests/soak/run.sh

FUZZ_SECONDS ?= 60
fuzz:
	@B=build/fuzz FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_TARGETS="$(FUZZ_TARGETS)" tests/fuzz/run.sh

FORMAT_SRC = $(wildcard core/*.[ch] connectors/*.[ch] forecasters/*.[ch] service/*.[ch] \
	tests/*/*.[ch])
format:
	clang-format -i $(FORMAT_SRC)
format-check:
	clang-format --dry-run --Werror $(FORMAT_SRC)

clean:
	rm -rf build

.PHONY: fuzz-bins all test test-bins integ-bins asan tsan valgrind run bench soak fuzz format format-check clean deps
.DELETE_ON_ERROR:
-include $(shell find $(B) -name '*.d' 2>/dev/null)
