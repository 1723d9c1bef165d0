# Xinye: every command in one place.  `make demo` shows it, `make test` checks it.
VENV    ?= .venv
PYTHON  ?= python3
XINYE   := $(VENV)/bin/xinye
PY_STAMP   := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
CITY    ?= 4403
WORKERS ?= 50000
SEED    ?= 1
HOST    ?= 127.0.0.1
PORT    ?= 8000
MO := src/xinye/locale/zh_Hans/LC_MESSAGES/django.mo
PO := src/xinye/locale/zh_Hans/LC_MESSAGES/django.po

.PHONY: setup demo serve test test-fast lint bench messages screenshots clean

## setup: virtual environment, Python and front-end packages (does nothing the second time)
setup: $(PY_STAMP) $(NODE_STAMP) $(MO)

$(PY_STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check --upgrade "pip>=24"
	$(VENV)/bin/pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The compiled catalogue is committed; rebuild it when the .po changes and msgfmt is available.
$(MO): $(PO)
	@if command -v msgfmt >/dev/null; then msgfmt --check -o $@ $<; else echo "msgfmt not found: using the committed $@"; touch $@; fi

## demo: migrate, load the demo city and serve it on http://$(HOST):$(PORT), with the background worker
demo: setup
	$(XINYE) migrate --noinput -v0
	$(XINYE) places import --city $(CITY)
	$(XINYE) demo --city $(CITY) --workers $(WORKERS) --seed $(SEED) --if-missing
	@echo ""
	@echo "  Xinye is running on http://$(HOST):$(PORT)/ with its background worker  (Ctrl-C stops both)"
	@echo ""
	$(XINYE) worker -v0 & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(XINYE) runserver $(HOST):$(PORT) --noreload

serve: setup
	$(XINYE) runserver $(HOST):$(PORT)

## test: the whole suite (SQLite by default; set DATABASE_URL=postgres://... for PostgreSQL)
test: setup
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/pytest -q

## bench: the measurements of docs/performance.md (minutes; not part of make test)
bench: setup
	cd benchmarks && ../$(VENV)/bin/python structure_bench.py --members 1000000 --units 200000
	cd benchmarks && ../$(VENV)/bin/python structure_e2e.py --runs 3
	cd benchmarks && ../$(VENV)/bin/python structure_exact.py
	$(VENV)/bin/pip install -q -r benchmarks/requirements.txt
	cd benchmarks && ../$(VENV)/bin/python branches_vs_spopt.py --sizes 2500 10000 --timeout 1200
	cd benchmarks && ../$(VENV)/bin/python branches_bench.py --communities 620000
	$(VENV)/bin/python benchmarks/placement_vs_spopt.py --seeds 1 2
	$(VENV)/bin/python benchmarks/placement_bench.py
	cd benchmarks && ../$(VENV)/bin/python liaison_bench.py --workers 1000000 --members 50000
	bash benchmarks/nearest.sh   # installs PostGIS and wrk (Debian), then nearest_bench.py and finder_load.py

## screenshots: refresh docs/screenshots from the demo served by `make demo` (another terminal; Debian chromium)
screenshots: setup
	$(VENV)/bin/python tools/screenshots.py --base http://$(HOST):$(PORT) --out docs/screenshots

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks

messages: setup
	cd src/xinye && ../../$(VENV)/bin/django-admin makemessages -l zh_Hans --settings=xinye.config.settings -i "migrations/*"
	$(MAKE) $(MO)

clean:
	rm -rf $(VENV) node_modules var
