# Two commands for a newcomer: `make run` and `make test`. Everything else is optional.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test bench soak lint typecheck install clean

run: $(INSTALLED)  ## migrate, load demo data, start web + worker + beat (+ embedded Redis)
	$(BIN)/python -m coffeeshop.run

test: $(INSTALLED)  ## the whole suite (unit, integration with real workers, end-to-end in Chromium)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(INSTALLED)  ## performance figures with in-run baselines
	$(BIN)/python -m routing.patterns.bench
	$(BIN)/python -m benchmarks.bus
	$(BIN)/python -m benchmarks.web
	$(BIN)/python -m benchmarks.push
	$(BIN)/python -m benchmarks.explorer
	$(BIN)/python -m benchmarks.quotas
	$(BIN)/python -m benchmarks.scheduler

soak: $(INSTALLED)  ## faults under a stream of events, own PostgreSQL + Redis (about 7 min, at most 10)
	$(BIN)/python -m benchmarks.soak $(SOAK_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .

typecheck: $(INSTALLED)
	$(BIN)/mypy coffeeshop routing orders benchmarks

install: $(INSTALLED)

$(INSTALLED): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(INSTALLED)

clean:
	rm -rf $(VENV) var staticfiles
