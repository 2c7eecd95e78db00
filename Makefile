# Linli: `make run` serves it with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
BIN := $(VENV)/bin
export DJANGO_SETTINGS_MODULE ?= linli.settings

.PHONY: run test lint migrate demo messages bench clean fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/linli migrate --noinput -v0
	$(BIN)/linli collectstatic --noinput -v0
	$(BIN)/linli demo --if-empty
	$(BIN)/linli serve --port $(PORT)

# Two worker processes (pytest-xdist), each with its own test database; a module (or a class) stays
# on one worker, so what it shares (a browser, the demo street) is set up once. TEST_WORKERS=0 runs
# everything in one process.
TEST_WORKERS ?= 2

test: $(VENV)/.installed-test
	@test -x /usr/bin/chromium -a -x /usr/bin/xgettext || $(MAKE) --no-print-directory system-deps
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/pytest -n $(TEST_WORKERS) --dist loadscope

# The API fuzzed longer than in `make test` (10 examples per operation, caller and mode): 100 each,
# 10 to 15 minutes on two cores (docs/api.md). FUZZ_EXAMPLES=300 for more.
FUZZ_EXAMPLES ?= 100

fuzz: $(VENV)/.installed-test
	LINLI_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/pytest -n $(TEST_WORKERS) --dist loadscope tests/test_fuzz.py

# The browser tests drive Debian's Chromium; the catalogue test scans sources with GNU gettext.
# Installed here when missing and we may (root).
.PHONY: system-deps
system-deps:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk gettext libpango-1.0-0 >/dev/null; \
	else \
		echo "The tests need Debian's chromium and gettext: sudo apt-get install chromium fonts-noto-cjk gettext libpango-1.0-0"; exit 1; \
	fi

lint: $(VENV)/.installed-test
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy linli tests

migrate: $(VENV)/.installed
	$(BIN)/linli migrate

demo: $(VENV)/.installed
	$(BIN)/linli demo

# Refresh the catalogues after changing strings (needs GNU gettext), then compile them.
messages: $(VENV)/.installed
	cd linli && ../$(BIN)/linli makemessages -l zh_Hans -l en --no-obsolete --no-location
	$(BIN)/linli compile-catalogues

bench: $(VENV)/.installed
	$(BIN)/linli bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
