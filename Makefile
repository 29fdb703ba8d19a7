# posbridge — see README.md.  `make` builds ./posbridge; `make check` runs every test
# under AddressSanitizer and UndefinedBehaviorSanitizer.

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PKGS := libxml-2.0 libcurl jansson zlib inih
VERSION := 0.1.0

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null | sed 's/-I/-isystem /g')
# libcurl is loaded when a command first needs the network (src/net/curl_api.h), by the
# name the linker would have recorded.
PKG_LIBS = $(shell pkg-config --libs $(filter-out libcurl,$(PKGS)) 2>/dev/null) -lcsv -pthread -ldl
CURL_SONAME = $(shell objdump -p "$$(pkg-config --variable=libdir libcurl 2>/dev/null)/libcurl.so" \
                2>/dev/null | awk '$$1 == "SONAME" { print $$2 }')

WARN := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wvla -Wwrite-strings -Wpointer-arith
CFLAGS ?= -O2 -g
BASE_CFLAGS = -std=c11 -pthread -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) \
              -Iinclude -Ibuild/gen -DPB_VERSION='"$(VERSION)"' $(PKG_CFLAGS) \
              -DCURL_DISABLE_TYPECHECK $(if $(CURL_SONAME),-DPB_CURL_SONAME='"$(CURL_SONAME)"')
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

SRCS := $(sort $(wildcard src/core/*.c src/staged/*.c src/qbpos/*.c src/transform/*.c src/upload/*.c src/net/*.c \
                          src/platforms/*.c src/download/*.c src/cmd_*.c))
HDRS := $(wildcard include/posbridge/*.h src/*/*.h)
GEN := build/gen/pb_schemas.c build/gen/pb_schemas.h
FORMATS := $(sort $(wildcard formats/*.tsv))
UNIT := $(sort $(wildcard tests/unit/test_*.c))

REL_OBJS := $(patsubst src/%.c,build/rel/%.o,$(SRCS)) build/rel/gen/pb_schemas.o
SAN_OBJS := $(patsubst src/%.c,build/san/%.o,$(SRCS)) build/san/gen/pb_schemas.o

.PHONY: all deps check bench fuzz install clean demo readme check-readme unit golden golden-update \
        check-headers format-check asan
.DELETE_ON_ERROR:

all: posbridge

posbridge: build/rel/main.o $(REL_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

build/gen/pb_schemas.h: $(FORMATS) formats/gen.awk
	@mkdir -p $(@D)
	awk -v mode=h -f formats/gen.awk $(FORMATS) > $@
build/gen/pb_schemas.c: $(FORMATS) formats/gen.awk build/gen/pb_schemas.h
	awk -v mode=c -f formats/gen.awk $(FORMATS) > $@
build/gen/fields.md: $(FORMATS) formats/gen.awk
	@mkdir -p $(@D)
	awk -v mode=md -f formats/gen.awk $(FORMATS) > $@

# V=1 shows the full command lines.
Q = $(if $(V),,@)
build/rel/%.o: src/%.c $(HDRS) build/gen/pb_schemas.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -c -o $@ $<
build/rel/gen/%.o: build/gen/%.c build/gen/pb_schemas.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -c -o $@ $<
build/san/%.o: src/%.c $(HDRS) build/gen/pb_schemas.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC san  $<")
	$(Q)$(CC) $(BASE_CFLAGS) -O1 -g $(SAN) -c -o $@ $<
build/san/gen/%.o: build/gen/%.c build/gen/pb_schemas.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) -O1 -g $(SAN) -c -o $@ $<

build/san/posbridge: build/san/main.o $(SAN_OBJS)
	@$(if $(Q),echo "  LD san  $@")
	$(Q)$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)
asan: build/san/posbridge

build/san/tests/%: tests/unit/%.c tests/unit/check.h tests/fuzz/fuzz_csv_split.c $(SAN_OBJS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD san  $@")
	$(Q)$(CC) $(BASE_CFLAGS) -Itests/unit -Itests/fuzz -Isrc -O1 -g $(SAN) -o $@ $< $(SAN_OBJS) $(PKG_LIBS)

UNIT_BINS := $(patsubst tests/unit/%.c,build/san/tests/%,$(UNIT))

# Fuzz harnesses that `make check` also runs, without libFuzzer: tests/fuzz/driver.c feeds
# them their seeds and random edits of them for FUZZ_CHECK_SECONDS each.
FUZZ_CHECK := build/san/fuzz/fuzz_csv_split build/san/fuzz/fuzz_csv
build/san/fuzz/%: tests/fuzz/%.c tests/fuzz/driver.c $(wildcard tests/fuzz/*.h) $(SAN_OBJS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD san  $@")
	$(Q)$(CC) $(BASE_CFLAGS) -Itests/fuzz -Isrc -O1 -g $(SAN) -o $@ $< tests/fuzz/driver.c \
	  $(SAN_OBJS) $(PKG_LIBS)

# Everything the test suites need, built with the sanitizers.
check: build/san/posbridge $(UNIT_BINS) $(FUZZ_CHECK) build/gen/fields.md check-readme check-headers
	@bash tests/run.sh

readme: build/gen/fields.md
	@awk 'BEGIN{f="build/gen/fields.md"} /<!-- fields:begin -->/{print; while((getline l < f)>0) print l; skip=1; next} /<!-- fields:end -->/{skip=0} !skip' README.md > README.md.new && mv README.md.new README.md

check-readme: build/gen/fields.md
	@awk '/<!-- fields:begin -->/{on=1; next} /<!-- fields:end -->/{on=0} on' README.md | cmp -s - build/gen/fields.md || { echo "README.md field reference is stale: run 'make readme'"; exit 1; }

check-headers:
	@for h in include/posbridge/*.h; do \
	  echo "#include \"$${h#include/}\"" | $(CC) $(BASE_CFLAGS) -fsyntax-only -x c - || exit 1; \
	done; echo "headers: each compiles on its own"

# Debian packages the build, the tests, the demo and the benchmarks use.
DEB_PKGS := build-essential pkg-config libcsv-dev libxml2-dev libcurl4-openssl-dev \
            libjansson-dev zlib1g-dev libinih-dev libxml2-utils clang libclang-rt-14-dev \
            python3 miller chromium nginx fcgiwrap b3sum
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: everything is installed"; exit 0; fi; \
	if [ "$$(id -u)" -ne 0 ]; then \
	  echo "deps: missing:$$missing"; \
	  echo "deps: run: sudo apt-get update && sudo apt-get install -y$$missing"; exit 1; \
	fi; \
	echo "deps: installing:$$missing"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing

demo: deps
	@$(MAKE) --no-print-directory posbridge
	@bash samples/demo/run.sh

bench: posbridge
	@bash tests/bench/run.sh

FUZZ_SECONDS ?= 20
FUZZERS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SRCS := $(SRCS) build/gen/pb_schemas.c
build/fuzz/%: tests/fuzz/%.c $(FUZZ_SRCS) $(HDRS) build/gen/pb_schemas.h
	@mkdir -p $(@D)
	clang $(BASE_CFLAGS) -Wno-unused-command-line-argument -O1 -g \
	  -fsanitize=fuzzer,address,undefined -Itests/fuzz -Isrc -o $@ $< $(FUZZ_SRCS) $(PKG_LIBS)
fuzz: $(FUZZERS)
	@for f in $(FUZZERS); do n=$${f##*/}; mkdir -p build/fuzz/corpus-$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=1024 \
	    build/fuzz/corpus-$$n tests/fuzz/seeds/$${n#fuzz_} 2>build/fuzz/$$n.log \
	    || { tail -50 build/fuzz/$$n.log; exit 1; }; \
	  grep -E '^#[0-9]+.*DONE' build/fuzz/$$n.log | tail -1; \
	done

install: posbridge
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/posbridge/formats
	install -m 0755 posbridge $(DESTDIR)$(PREFIX)/bin/posbridge
	install -m 0644 formats/*.tsv $(DESTDIR)$(PREFIX)/share/posbridge/formats/

clean:
	rm -rf build posbridge
# Parts of make check on their own: the unit tests, and the golden files (CASE=name for one).
unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do $$t || fail=1; done; exit $$fail
golden: build/san/posbridge
	bash tests/run-golden.sh $(CASE)
golden-update: build/san/posbridge
	GOLDEN_UPDATE=1 bash tests/run-golden.sh $(CASE)
