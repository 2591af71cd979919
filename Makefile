# Two commands on a fresh machine:  `make` (set up and build the release)  and  `make test`.
# Make decides what to redo from file times; the build itself is reproducible byte for byte.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMPS := .make

RAW     := $(wildcard raw/*.txt) raw/sources.yaml
SCHEMAS := $(wildcard schemas/*.yaml) datapackage.yaml
CODE    := $(shell find build -name '*.py' -o -name '*.yaml' 2>/dev/null)

.PHONY: all setup build check test add clean bench release site dictionary
.DELETE_ON_ERROR:

all: $(STAMPS)/build

## setup: create .venv and install the pinned dependencies (requirements.lock) and the package
setup: $(STAMPS)/setup

$(STAMPS)/setup: requirements.lock pyproject.toml
	@mkdir -p $(STAMPS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

## build: raw/ → validated data/ (csv + parquet); refuses bad input and leaves data/ untouched
$(STAMPS)/build: $(STAMPS)/setup $(RAW) $(SCHEMAS) $(CODE)
	$(PY) -m coalition_news build
	@touch $@

build: $(STAMPS)/setup
	$(PY) -m coalition_news build
	@touch $(STAMPS)/build

## check: validate the published files in data/ again (frictionless, Parquet schema and content)
check: $(STAMPS)/setup
	$(PY) -m coalition_news check

## test: the whole test suite
test: $(STAMPS)/setup
	$(PY) -m pytest -q

## add: register a new article:  make add FILE=path/to/article.txt [OUTLET=...] [DATE=YYYY-MM-DD] [URL=...]
add: $(STAMPS)/setup
	@test -n "$(FILE)" || (echo "usage: make add FILE=path [OUTLET=...] [DATE=YYYY-MM-DD] [URL=...]" >&2; exit 2)
	$(PY) -m coalition_news add "$(FILE)" $(if $(OUTLET),--outlet "$(OUTLET)") $(if $(DATE),--date "$(DATE)") $(if $(URL),--url "$(URL)")
	$(MAKE) all

## release: dist/coalition-news-<version>.zip from data/ (reproducible; refuses to change a published version)
release: $(STAMPS)/build
	$(PY) -m coalition_news release

## site: a static HTML view of the articles and tables in site/ (open site/index.html; no server needed)
site: $(STAMPS)/build
	$(PY) -m coalition_news site

## dictionary: rewrite docs/data-dictionary.md from schemas/ and data/csv (commit the result)
dictionary: $(STAMPS)/build
	$(PY) -m coalition_news dictionary

## bench: time each stage on synthetic corpora (SIZES="1000 10000"; JOBS=N; BENCH_ARGS="--bulk-add 10000 --profile --verify")
bench: $(STAMPS)/setup
	$(PY) bench/run_bench.py $(if $(SIZES),--sizes $(SIZES)) $(if $(JOBS),--jobs $(JOBS)) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(STAMPS) .pytest_cache .hypothesis dist site *.egg-info data.tmp-* data.old
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
