# Copyright (C) 2026 The ngx_http_attachments_module authors

# ngx_http_attachments_module
#
#   make              build build/ngx_http_attachments_module.so
#   make deps         install the Debian (and npm) packages everything needs
#   make test         unit + integration suites (prove)
#   make test-h2      the same over HTTP/2; test-chunked with chunked bodies
#   make run / stop   a local service on 127.0.0.1:8080 (see README)
#   make bench        benchmarks against the real stack
#   make fuzz         the pure code under libFuzzer (FUZZ_TIME=60 s each)
#   make deb          build/libnginx-mod-http-attachments_<version>_<arch>.deb
#
# NGINX_SRC defaults to the headers of Debian's nginx-dev; a full nginx
# source tree works too (make NGINX_SRC=/path/to/nginx-1.22.1).

NGINX_SRC  ?= /usr/share/nginx/src
NGINX      ?= /usr/sbin/nginx
# as a path that still holds after the cd into NGINX_SRC
NGINX_BIN   = $(shell p=$$(command -v $(NGINX)) && realpath "$$p")
BUILD      ?= $(CURDIR)/build
MODULE     := $(BUILD)/ngx_http_attachments_module.so
PROVE      ?= prove

SRC        := $(wildcard src/*.c src/*.h) config

# the module's own code: nginx's configure adds -W -Wall -Werror
CC_OPT     := -g -O2 -fPIC -fstack-protector-strong -Wformat \
              -Werror=format-security -D_FORTIFY_SOURCE=2
LD_OPT     := -Wl,-z,relro -Wl,-z,now -fPIC

NGX_INCS   := -I$(NGINX_SRC)/src/core -I$(NGINX_SRC)/src/event \
              -I$(NGINX_SRC)/src/event/modules -I$(NGINX_SRC)/src/os/unix \
              -I$(NGINX_SRC)/src/http -I$(NGINX_SRC)/src/http/modules \
              -I$(BUILD) -Isrc
PURE_CFLAGS := -g -O2 -W -Wall -Wno-unused-parameter -Werror $(NGX_INCS)

# the lib*-perl ones are what openresty's Test::Nginx needs besides itself
# (make test TEST_NGINX_LIB=…)
DEBIAN_PKGS := nginx nginx-dev libpq-dev libssl-dev libjansson-dev \
               libmagic-dev libpcre2-dev zlib1g-dev postgresql \
               postgresql-contrib libtest-base-perl wrk python3-botocore \
               libtest-longstring-perl liblist-moreutils-perl libtext-diff-perl \
               libwww-perl libipc-run3-perl libipc-run-perl \
               curl openssl ca-certificates make gcc clang dpkg-dev \
               python3-yaml python3-jsonschema pgbouncer chromium

FUZZ_TIME  ?= 60

VERSION    := 0.1.0
DEB_REV    ?= 1

.PHONY: all module deps test test-asan test-h2 test-chunked unit run stop bench fuzz deb clean

all: module

module: $(MODULE) $(BUILD)/attachments-sign $(BUILD)/attachments-fsck

$(BUILD)/attachments-fsck: tools/attachments-fsck $(BUILD)/Makefile
	install -m 755 tools/attachments-fsck $@

# nginx-dev's tree carries Debian's configure flags; for another tree they
# are the --with-* switches of $(NGINX), the binary the module will load
# into (NGX_SSL, NGX_HTTP_V2, NGX_DEBUG follow them); a release tarball
# has ./configure, a git checkout auto/configure
$(BUILD)/Makefile: config
	mkdir -p $(BUILD)
	cd $(NGINX_SRC) && bash -c ' \
	    if [ -f ./conf_flags ]; then . ./conf_flags; \
	    else \
	        v=$$("$(NGINX_BIN)" -V 2>&1) || { echo "cannot run NGINX=$(NGINX)" \
	            "to learn the configure flags the module must share" \
	            "with it" >&2; exit 1; }; \
	        NGX_CONF_FLAGS=(--with-compat $$(echo "$$v" \
	        | sed -n "s/^configure arguments: //p" | tr " " "\n" \
	        | grep -E "^--with-[a-z0-9_]+$$" | grep -v -x -- --with-compat)); \
	    fi; \
	    if [ -x ./configure ]; then configure=./configure; \
	    else configure=auto/configure; fi; \
	    $$configure --with-cc-opt="$(CC_OPT)" --with-ld-opt="$(LD_OPT)" \
	        "$${NGX_CONF_FLAGS[@]}" \
	        --add-dynamic-module=$(CURDIR) --builddir=$(BUILD)' \
	    > $(BUILD)/configure.log 2>&1 \
	    || { tail -30 $(BUILD)/configure.log; exit 1; }

$(MODULE): $(BUILD)/Makefile $(SRC)
	$(MAKE) -f $(BUILD)/Makefile -C $(NGINX_SRC) modules

# pure code shared with the module: signing and encodings
PURE_SRCS := src/ngx_http_attachments_sign.c

$(BUILD)/attachments-sign: tools/attachments_sign.c $(PURE_SRCS) \
        src/ngx_http_attachments_sign.h $(BUILD)/Makefile
	$(CC) $(PURE_CFLAGS) $(CC_OPT) $(LD_OPT) -o $@ tools/attachments_sign.c \
	    $(PURE_SRCS) -lcrypto

$(BUILD)/unit-sign: t/unit/test_sign.c t/unit/tap.h $(PURE_SRCS) \
        src/ngx_http_attachments_sign.h $(BUILD)/Makefile
	$(CC) $(PURE_CFLAGS) -It/unit -o $@ t/unit/test_sign.c $(PURE_SRCS) \
	    -lcrypto

$(BUILD)/unit-input: t/unit/test_input.c t/unit/tap.h \
        src/ngx_http_attachments_input.c src/ngx_http_attachments_input.h \
        $(BUILD)/Makefile
	$(CC) $(PURE_CFLAGS) -It/unit -o $@ t/unit/test_input.c \
	    src/ngx_http_attachments_input.c -ljansson

$(BUILD)/unit-json: t/unit/test_json.c t/unit/tap.h \
        src/ngx_http_attachments_json_text.c \
        src/ngx_http_attachments_json_text.h $(BUILD)/Makefile
	$(CC) $(PURE_CFLAGS) -It/unit -o $@ t/unit/test_json.c \
	    src/ngx_http_attachments_json_text.c -ljansson

$(BUILD)/unit-sha256: t/unit/test_sha256.c t/unit/tap.h \
        src/ngx_http_attachments_sha256.c \
        src/ngx_http_attachments_sha256.h $(BUILD)/Makefile
	$(CC) $(PURE_CFLAGS) -It/unit -o $@ t/unit/test_sha256.c \
	    src/ngx_http_attachments_sha256.c -lcrypto

$(BUILD)/unit-multipart: t/unit/test_multipart.c t/unit/tap.h \
        src/ngx_http_attachments_multipart.c \
        src/ngx_http_attachments_multipart.h $(BUILD)/Makefile
	$(CC) $(PURE_CFLAGS) -It/unit -o $@ t/unit/test_multipart.c \
	    src/ngx_http_attachments_multipart.c

$(BUILD)/unit-sigv4: t/unit/test_sigv4.c t/unit/tap.h \
        src/ngx_http_attachments_sigv4.c src/ngx_http_attachments_sigv4.h \
        $(BUILD)/Makefile
	$(CC) $(PURE_CFLAGS) -It/unit -o $@ t/unit/test_sigv4.c \
	    src/ngx_http_attachments_sigv4.c -lcrypto

$(BUILD)/attachments-presign: tools/attachments_presign.c \
        src/ngx_http_attachments_sigv4.c src/ngx_http_attachments_sigv4.h \
        $(BUILD)/Makefile
	$(CC) $(PURE_CFLAGS) -o $@ tools/attachments_presign.c \
	    src/ngx_http_attachments_sigv4.c -lcrypto

# the SQL of every statement, for make bench
$(BUILD)/attachments-sql: bench/statements.c src/ngx_http_attachments_sql.c \
        src/ngx_http_attachments_sql.h src/ngx_http_attachments_pg.h \
        $(BUILD)/Makefile
	$(CC) $(PURE_CFLAGS) -I/usr/include/postgresql -o $@ bench/statements.c \
	    src/ngx_http_attachments_sql.c

# libFuzzer + ASan + UBSan on the pure code: the multipart parser, signed
# URLs, routes and names, metadata, SigV4; FUZZ_TIME seconds each
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
              -fno-sanitize-recover=undefined $(NGX_INCS)
FUZZERS    := multipart signed-url route meta sigv4

$(BUILD)/fuzz-multipart: t/fuzz/fuzz_multipart.c \
        src/ngx_http_attachments_multipart.c \
        src/ngx_http_attachments_multipart.h $(BUILD)/Makefile
	clang $(FUZZ_FLAGS) -o $@ $< src/ngx_http_attachments_multipart.c

$(BUILD)/fuzz-signed-url: t/fuzz/fuzz_signed_url.c t/fuzz/fields.h $(PURE_SRCS) \
        src/ngx_http_attachments_sign.h $(BUILD)/Makefile
	clang $(FUZZ_FLAGS) -It/fuzz -o $@ $< $(PURE_SRCS) -lcrypto

$(BUILD)/fuzz-route: t/fuzz/fuzz_route.c src/ngx_http_attachments_input.c \
        src/ngx_http_attachments_input.h $(BUILD)/Makefile
	clang $(FUZZ_FLAGS) -o $@ $< src/ngx_http_attachments_input.c -ljansson

$(BUILD)/fuzz-meta: t/fuzz/fuzz_meta.c src/ngx_http_attachments_input.c \
        src/ngx_http_attachments_input.h $(BUILD)/Makefile
	clang $(FUZZ_FLAGS) -o $@ $< src/ngx_http_attachments_input.c -ljansson

$(BUILD)/fuzz-sigv4: t/fuzz/fuzz_sigv4.c t/fuzz/fields.h \
        src/ngx_http_attachments_sigv4.c \
        src/ngx_http_attachments_sigv4.h $(BUILD)/Makefile
	clang $(FUZZ_FLAGS) -It/fuzz -o $@ $< src/ngx_http_attachments_sigv4.c -lcrypto

fuzz: $(FUZZERS:%=$(BUILD)/fuzz-%)
	@for f in $(FUZZERS); do \
	    mkdir -p $(BUILD)/fuzz-corpus/$$f; \
	    seed=; [ $$f = multipart ] && seed=t/fuzz/corpus; \
	    echo "fuzz-$$f: $(FUZZ_TIME) s"; \
	    $(BUILD)/fuzz-$$f -max_total_time=$(FUZZ_TIME) -max_len=4096 \
	        -print_final_stats=1 -artifact_prefix=$(BUILD)/ \
	        $(BUILD)/fuzz-corpus/$$f $$seed > $(BUILD)/fuzz-$$f.log 2>&1; \
	    rc=$$?; \
	    grep -E '^(stat::number_of_executed_units|#[0-9]+.*DONE|SUMMARY)' \
	        $(BUILD)/fuzz-$$f.log; \
	    [ $$rc = 0 ] || { echo "fuzz-$$f failed: $(BUILD)/fuzz-$$f.log"; \
	                     exit 1; }; \
	done

# also run first by make run and make test, so that they work on a fresh
# machine; quiet and quick when everything is there
deps:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	if ! command -v dpkg >/dev/null 2>&1; then \
	    echo "no dpkg: install the equivalents of $(DEBIAN_PKGS)"; \
	elif ! dpkg -s $(DEBIAN_PKGS) >/dev/null 2>&1; then \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	        --no-install-recommends $(DEBIAN_PKGS) || exit 1; \
	fi; \
	if ! command -v npm >/dev/null 2>&1; then \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	        --no-install-recommends nodejs npm || exit 1; \
	fi
	@# s3rver, the S3-compatible server of the S3 suites; playwright-core,
	@# which drives chromium for the widget's suite; tus-js-client
	@[ -x node_modules/.bin/s3rver ] && [ -d node_modules/playwright-core ] \
	    && [ -d node_modules/tus-js-client ] \
	    || npm install --no-audit --no-fund --loglevel=error

unit: $(BUILD)/unit-sign $(BUILD)/unit-input $(BUILD)/unit-json \
      $(BUILD)/unit-multipart $(BUILD)/unit-sha256 \
      $(BUILD)/unit-sigv4 $(BUILD)/attachments-presign

# the package is built and tested (t/110-deb.t, as root) for Debian's nginx
DEB_FILE   := $(BUILD)/libnginx-mod-http-attachments_$(VERSION)-$(DEB_REV)_$(shell dpkg --print-architecture 2>/dev/null).deb
ifeq ($(NGINX_SRC),/usr/share/nginx/src)
TEST_DEB   := deb
endif

# TEST_NGINX_BINARY= another nginx (e.g. a mainline build);
# TEST_NGINX_LIB= openresty's Test::Nginx (its lib/) instead of t/lib
test: deps module unit $(TEST_DEB)
	$(if $(TEST_DEB),TEST_NGINX_DEB=$(DEB_FILE)) \
	TEST_NGINX_BINARY=$${TEST_NGINX_BINARY:-$(NGINX)} \
	TEST_NGINX_LOAD_MODULES=$${TEST_NGINX_LOAD_MODULES:-$(MODULE)} \
	    t/run-tests $(PROVE) $(TEST_FILES)

# the suites again in the protocol browsers use behind TLS, HTTP/2
# (Test::Nginx's TEST_NGINX_USE_HTTP2 mode: requests by curl over h2c), and
# with every request body chunked (ATTACHMENTS_CHUNKED, t/inc's)
test-h2:
	TEST_NGINX_USE_HTTP2=1 $(MAKE) test

test-chunked:
	ATTACHMENTS_CHUNKED=1 $(MAKE) test

# the suites with the module built with AddressSanitizer and UBSan, loaded
# into Debian's nginx by tools/nginx-asan; any report fails the run
ASAN_BUILD := $(CURDIR)/build-asan
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer

test-asan: unit
	$(MAKE) BUILD=$(ASAN_BUILD) CC_OPT="$(CC_OPT) $(ASAN_FLAGS)" \
	    LD_OPT="$(LD_OPT) $(ASAN_FLAGS)" $(ASAN_BUILD)/ngx_http_attachments_module.so
	rm -rf $(ASAN_BUILD)/reports && mkdir -p $(ASAN_BUILD)/reports
	ATTACHMENTS_ASAN_REPORTS=$(ASAN_BUILD)/reports \
	TEST_NGINX_BINARY=$(CURDIR)/tools/nginx-asan \
	TEST_NGINX_LOAD_MODULES=$(ASAN_BUILD)/ngx_http_attachments_module.so \
	    t/run-tests $(PROVE) $(TEST_FILES)
	@if [ -n "$$(ls -A $(ASAN_BUILD)/reports)" ]; then \
	    cat $(ASAN_BUILD)/reports/*; echo "sanitizer reports above"; exit 1; \
	else echo "no sanitizer report"; fi

run: deps module
	NGINX=$(NGINX) MODULE=$(MODULE) tools/service start

stop:
	NGINX=$(NGINX) tools/service stop

# the module as Debian ships nginx modules: libnginx-mod-http-attachments
deb: module
	tools/mkdeb $(BUILD) $(VERSION)-$(DEB_REV)

bench: module unit $(BUILD)/attachments-sql
	bench/run

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) t/servroot*
