# Two commands do everything: `make run` (the system, locally) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

STAGE ?= dev

TRACES ?= ../shared/traces
# Means over three seeds, as BENCHMARKS.md quotes them; add --sweep for each policy's cost at 99%.
BENCH_FLAGS ?= --seeds 1,2,3

.PHONY: install browser run demo test lint package bench bench-shapes bench-real clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	# The real MLBench client: its own pins do not build on 3.11; its api module needs only requests and kubernetes.
	$(BIN)/pip install --quiet --no-deps mlbench-core==3.0.0
	touch $@

# Debian's Chromium, for the dashboard's browser tests (tests/e2e/test_dashboard.py), when it is missing.
browser:
	@command -v chromium >/dev/null || { echo "installing Debian's chromium for the browser tests ..."; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; }

# The API on http://127.0.0.1:$${PORT:-8000} over an embedded DynamoDB (moto server).
run: install
	$(BIN)/python -m devstack

# The same, with load in waves through /route/ and a live summary of the fleet.
demo: install
	$(BIN)/python -m devstack --demo

# Every scaling policy on every trace: build/bench/results.{json,md} and a plot per trace.
bench: install
	$(BIN)/python -m bench run --traces $(TRACES) --scenario $(TRACES)/scenario.json --out build/bench $(BENCH_FLAGS)

# The same on fifteen generated shapes other than the five traces (bench/shapes.py).
bench-shapes: install
	$(BIN)/python -m bench shapes --out build/shapes
	$(BIN)/python -m bench run --traces build/shapes --scenario $(TRACES)/scenario.json --out build/bench-shapes \
		$(BENCH_FLAGS)

# The same on an hour of real arrivals (a running service: the scenario's warm_start).
REAL_TRACES ?= ../shared/traces-real
bench-real: install
	$(BIN)/python -m bench run --traces $(REAL_TRACES) --scenario $(REAL_TRACES)/scenario.json --out build/bench-real \
		$(BENCH_FLAGS)

lint: install
	$(BIN)/ruff check .

# The end-to-end specs (processes, ports, the real clients) one at a time, the fast ones on every core.
test: lint browser
	$(BIN)/python -m pytest -m e2e
	$(BIN)/python -m pytest -m "not e2e" -n auto --dist loadfile

# The SAM/CloudFormation template and deployment package for $(STAGE), in build/$(STAGE)/.
package: install
	$(BIN)/python -m infra.template --stage $(STAGE) --out build/resources-$(STAGE).json
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(BIN)/chalice package --stage $(STAGE) \
		--merge-template build/resources-$(STAGE).json build/$(STAGE)
	$(BIN)/cfn-lint build/$(STAGE)/sam.json

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build .devstack
