# Two commands do everything on a fresh machine: `make report` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SEEDS  := seeds
OUT    := output
ARGS   ?=

.PHONY: install report test eval bench stress test-browser pdf clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
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
