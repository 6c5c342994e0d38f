# earmark: build, demo, check.  pkg-config for every library that ships
# a .pc file; libcsv ships none and is linked as -lcsv.

PKGS        := libpq libxml-2.0 libcrypto inih libmicrohttpd pangocairo libqrencode libzip xmlsec1-openssl
PKG_CFLAGS  := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv
PGBINDIR    := $(shell pg_config --bindir 2>/dev/null)

CC          ?= cc
WARN        := -Wall -Wextra -Wpedantic -Wformat=2 -Wshadow -Wstrict-prototypes \
               -Wvla -Wwrite-strings
CFLAGS      ?= -O2 -g
ALL_CFLAGS   = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) -I. $(PKG_CFLAGS) \
               -DEM_PGBINDIR='"$(PGBINDIR)"' -DEM_SQLDIR='"$(CURDIR)/sql"'
LDLIBS_ALL   = $(PKG_LIBS)

LIB_SRC     := $(sort $(wildcard ledger/*.c posting/*.c reports/*.c))
LIB_OBJ     := $(LIB_SRC:%.c=build/%.o)
ASAN_OBJ    := $(LIB_SRC:%.c=build/asan/%.o)
UNIT_SRC    := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=build/asan/tests/%)

# Debian packages earmark needs beyond the C toolchain, PostgreSQL server,
# libpq, libxml2, OpenSSL and libxmlsec1 that a fresh machine has.
DEB_PKGS    := libcsv-dev libinih-dev libcmocka-dev postgresql-15-pgtap \
               libtap-parser-sourcehandler-pgtap-perl libxml2-utils xmlsec1 pkg-config \
               libmicrohttpd-dev libcairo2-dev libpango1.0-dev libqrencode-dev fonts-noto-cjk \
               poppler-utils chromium curl libzip-dev libxmlsec1-dev python3 unzip zip \
               clang libclang-rt-14-dev

.PHONY: all deps check check-built demo bench clean unit

all: deps
	@$(MAKE) --no-print-directory earmark

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build/%.o: %.c $(wildcard */*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/asan/%.o: %.c $(wildcard */*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -c -o $@ $<

earmark: build/earmark.o $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS_ALL)

build/asan/earmark: build/asan/earmark.o $(ASAN_OBJ)
	$(CC) $(ALL_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all -o $@ $^ $(LDLIBS_ALL)

build/asan/tests/%: tests/unit/%.c $(ASAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -o $@ $< $(ASAN_OBJ) \
	  $(LDLIBS_ALL) $(shell pkg-config --libs cmocka)

# libFuzzer targets (tests/fuzz/fuzz_*.c) with clang, over the library
# built with -fsanitize=fuzzer-no-link,address,undefined.  libclang-rt-14-dev
# holds libFuzzer's runtime; clang-14 only recommends it.  `make check` runs
# each target briefly (tests/e2e/80_fuzz.sh); `make fuzz` for FUZZ_SECONDS each.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 300
# clang's -Wformat=2 also flags vfprintf(fmt) wrappers that gcc accepts; gcc's build is the gate
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
                -Wno-format-nonliteral
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_OBJ     := $(LIB_SRC:%.c=build/fuzz/%.o)

build/fuzz/%.o: %.c $(wildcard */*.h) Makefile
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(ALL_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c -o $@ $<

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(FUZZ_OBJ) $(LDLIBS_ALL)

.PHONY: fuzzers fuzz
.SECONDARY: $(FUZZ_OBJ)
fuzzers: $(FUZZ_BIN)

fuzz: deps
	@$(MAKE) --no-print-directory fuzzers
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run

unit: deps
	@$(MAKE) --no-print-directory $(UNIT_BIN)

# All tests: C unit tests under ASan/UBSan, then pgTAP and end-to-end tests
# against a throwaway PostgreSQL the harness starts and always stops.
# deps runs first, in its own make, so that pkg-config above sees the
# packages it installs on a fresh machine.
check: deps
	@$(MAKE) --no-print-directory check-built

check-built: earmark build/asan/earmark $(UNIT_BIN) $(FUZZ_BIN)
	@tests/run-all

demo: deps
	@$(MAKE) --no-print-directory earmark
	@tests/demo.sh

# The concurrency stress and crash tests at full length (issue 8): 16
# clients for 60 s, and 20 crashes of client or server.  `make check` runs
# them shortened (15 s, 6 crashes).
.PHONY: stress
stress: deps
	@$(MAKE) --no-print-directory earmark build/asan/earmark
	@ONLY='e2e/1[46]_*' STRESS_SECONDS=60 STRESS_CLIENTS=16 CRASH_ROUNDS=20 TEST_TIMEOUT=1800 tests/run-all

# Benchmarks (tests/bench/*.sh), each on its own throwaway PostgreSQL: they
# print figures and write out/bench/*.json, and assert no timing.
bench: deps
	@$(MAKE) --no-print-directory earmark
	@tests/bench/run

clean:
	rm -rf build earmark
