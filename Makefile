# Two commands do everything on a fresh machine: `make report` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SEEDS  := seeds
OUT    := output
ARGS   ?=

.PHONY: install report test eval bench stress test-browser pdf clean
# Root installs Debian packages directly; anyone else goes through sudo.
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM ?= chromium

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@# Byte-compiled once here: where PYTHONDONTWRITEBYTECODE is set (as on the CI
	@# machine) every process would otherwise compile the package's modules again.
	$(PY) -m compileall -q pipeline
	@touch $(STAMP)

install: $(STAMP)

report: $(STAMP)
	$(PY) -m pipeline run --input $(SEEDS) --output $(OUT) $(ARGS)

test: $(STAMP)
	$(PY) -m pytest -m "not browser and not stress" $(ARGS)

clean:
	rm -rf $(OUT)/* build *.egg-info .pytest_cache
	@touch $(OUT)/.gitkeep

eval: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,eval]'
	$(PY) -m pipeline.evaluate $(ARGS)

bench: $(STAMP)
	$(PY) -m pipeline.bench $(ARGS)

stress: $(STAMP)
	$(PY) -m pytest -m stress -s -q tests/test_reliability.py $(ARGS)

test-browser: $(STAMP)
	@command -v $(CHROMIUM) >/dev/null 2>&1 || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }
	$(PY) -m pytest -m browser $(ARGS)

pdf:
	@test -f $(OUT)/briefing.html || $(MAKE) report
	@command -v $(CHROMIUM) >/dev/null 2>&1 || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }
	@profile=$$(mktemp -d); \
	$(CHROMIUM) --headless --no-sandbox --disable-gpu --disable-background-networking \
	  --disable-component-update --disable-sync --no-first-run --user-data-dir=$$profile \
	  --no-pdf-header-footer --print-to-pdf=$(abspath $(OUT))/briefing.pdf \
	  file://$(abspath $(OUT))/briefing.html 2>/dev/null; \
	status=$$?; rm -rf $$profile; \
	test $$status -eq 0 && test -s $(OUT)/briefing.pdf && echo "pdf: $(OUT)/briefing.pdf"
