# The two commands: `make demo` and `make test`. Each creates .venv and installs on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test test-slow lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

demo: $(STAMP)
	$(VENV)/bin/scrutiny demo

# two workers, each taking whole files (their module fixtures, such as the MNIST MLP the CLI
# tests train once, stay shared): 330 s instead of 500 s on 2 cores
test: $(STAMP)
	SCRUTINY_REQUIRE_DEV_DEPS=1 $(PY) -m pytest -q -n 2 --dist loadfile
	$(VENV)/bin/ruff check .

# the long checks that `make test` leaves out (SBC of 10,000 replications, the neural review
# classifier trained from scratch, the README's examples at their default settings): about
# 2 minutes on 2 cores; CI runs them too
test-slow: $(STAMP)
	SCRUTINY_REQUIRE_DEV_DEPS=1 $(PY) -m pytest -q -n 2 -m slow

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(PY) benchmarks/sampler_speed.py --components 10 20 --max-sweeps 1500 --no-memory

clean:
	rm -rf $(VENV) scrutiny-report .pytest_cache .ruff_cache
