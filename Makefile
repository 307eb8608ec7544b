# The README's commands. `make run` starts everything on a laptop; `make test` is what CI runs (.ci/run).
#
#   make run [PORT=7233] [UI_PORT=8233] [RECEIVER_PORT=7299] [BOARD_PORT=8299] [STATE_DIR=.temporal] [CONFIG=config/cycle.toml]

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Empty unless given; starter/embedded/ then falls back to CCM_* from the environment, then its defaults.
PORT ?=
UI_PORT ?=
RECEIVER_PORT ?=
BOARD_PORT ?=
STATE_DIR ?=
CONFIG ?=

.PHONY: venv run test test-fast bench lint format clean clean-state

venv: $(STAMP)

# Reinstalls only when pyproject.toml changes (or the venv is new).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# exec: make's child is the runner itself, so a SIGTERM that make relays reaches it.
run: $(STAMP)
	exec env $(if $(PORT),CCM_PORT='$(PORT)') $(if $(UI_PORT),CCM_UI_PORT='$(UI_PORT)') \
	$(if $(RECEIVER_PORT),CCM_RECEIVER_PORT='$(RECEIVER_PORT)') $(if $(BOARD_PORT),CCM_BOARD_PORT='$(BOARD_PORT)') \
	$(if $(STATE_DIR),CCM_STATE_DIR='$(STATE_DIR)') $(if $(CONFIG),CCM_CONFIG='$(CONFIG)') \
	$(BIN)/python -m starter.embedded

# Debian's docker-compose (1.29) validates docker-compose.yml offline (`docker-compose config`) for
# tests/deploy/test_compose.py; no Docker engine is needed. Installed once, with apt, when missing.
.PHONY: compose-validator
compose-validator:
	@command -v docker-compose >/dev/null 2>&1 || { \
	  echo "installing docker-compose (Debian package), which tests/deploy/test_compose.py uses to validate docker-compose.yml"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; } || { \
	    echo "error: cannot install docker-compose; as root run: apt-get install docker-compose" >&2; exit 1; }; }

# Debian's chromium, which tests/cli/test_board_browser.py drives with playwright (playwright's own browser
# download cannot work without the internet). Installed once, with apt, when missing.
.PHONY: browser
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium (Debian package), which tests/cli/test_board_browser.py uses to load the board"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || { \
	    echo "error: cannot install chromium; as root run: apt-get install chromium" >&2; exit 1; }; }

# Two pytest-xdist workers, each given whole modules (so a module's servers stay its own), the longest first
# (tests/conftest.py: LONGEST_FIRST, kept in that order by --no-loadscope-reorder).
test: $(STAMP) compose-validator browser
	$(BIN)/ruff check .
	$(BIN)/mypy --no-incremental .
	$(BIN)/pytest -q -n 2 --dist loadfile --no-loadscope-reorder

# The rules, the replays and the time-skipping tests, without the slow ones (markers: tests/conftest.py).
test-fast: $(STAMP)
	$(BIN)/pytest -q -m "(domain or replay or timeskip) and not slow"

# Benchmarks (bench/), each a ratio to a baseline measured in the same run; not part of `make test`.
# Options: make bench BENCH_ARGS="--only decision_latency --repeat 3"
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy --no-incremental .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# The embedded server's state (workflows, history): only on request.
clean-state:
	rm -rf .temporal
