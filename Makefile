# GHL Real Estate AI — the single entry points. `make run` and `make test` work from a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.12 (the Lambda runtime): the first candidate that really runs 3.12 (a pyenv shim on
# PATH may exist without working), from PATH, pyenv, or the usual system places.
# Override with PY312=/path/to/python3.12.
ifndef PY312
PY312 := $(shell for p in $$(command -v python3.12) $$(ls -d $$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)/versions/3.12*/bin/python3.12 2>/dev/null | sort -V -r) /usr/local/bin/python3.12 /usr/bin/python3.12; do "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && { echo "$$p"; break; }; done)
endif
VENV  := .venv
PY    := $(VENV)/bin/python
TOOLS := .tools
PORT  ?= 3000
export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install run demo test test-fast lint format lint-template bench fuzz soak build deploy lock events models clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

define need_python312
	@if [ -z "$(PY312)" ] || ! "$(PY312)" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then \
	  echo "Python 3.12 is required (the Lambda runtime) and was not found."; \
	  echo "Install it, e.g. 'pyenv install 3.12' or your OS package 'python3.12 python3.12-venv',"; \
	  echo "or point to it: make $@ PY312=/path/to/python3.12"; exit 1; fi
endef

$(VENV)/.installed: requirements.lock pyproject.toml
	$(need_python312)
	@echo "==> creating $(VENV) with $(PY312) and installing the locked dependencies"
	@[ -x $(PY) ] || $(PY312) -m venv $(VENV)
	@$(PY) -m pip install -q --require-hashes --no-deps -r requirements.lock
	@$(PY) -m pip install -q --no-deps -e .
	@touch $@

install: $(VENV)/.installed ## create .venv and install the locked dependencies

$(TOOLS)/%/.installed: tools/%.lock
	$(need_python312)
	@echo "==> installing $* into $(TOOLS)/$* (its own environment)"
	@[ -x $(TOOLS)/$*/bin/python ] || $(PY312) -m venv $(TOOLS)/$*
	@$(TOOLS)/$*/bin/python -m pip install -q --require-hashes --no-deps -r $<
	@touch $@

run: $(VENV)/.installed ## run the whole system locally on http://127.0.0.1:$(PORT) (Ctrl-C stops)
	@PORT=$(PORT) $(PY) -m local.run

demo: $(VENV)/.installed ## replay the samples in events/ into the running system (after `make run`)
	@PORT=$(PORT) $(PY) -m local.demo

test: $(VENV)/.installed lint-template lint ## install everything and run every test
	@$(PY) -m local.events --check
	@$(PY) -m pytest -n 2 -q

test-fast: $(VENV)/.installed ## the test suite only (no linters)
	@$(PY) -m pytest -n 2 -q

lint: $(VENV)/.installed $(TOOLS)/bandit/.installed $(TOOLS)/checkov/.installed ## ruff, mypy, bandit and checkov; any finding fails
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@MYPYPATH=shared:layers/models:cli $(VENV)/bin/mypy -p ghl_ai -p ghl_models -p ghl_ai_cli
	@for f in functions/*/app.py; do MYPYPATH=shared:layers/models $(VENV)/bin/mypy $$f || exit 1; done
	@# Settings and the reasons for each skip: [tool.bandit] in pyproject.toml, `# nosec` lines.
	@$(TOOLS)/bandit/bin/bandit -q -c pyproject.toml -r shared functions layers cli local
	@# Suppressions live in each resource's Metadata.checkov.skip, with the reason. Offline:
	@# no update check, no download of Prisma Cloud's guideline mappings.
	@CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(TOOLS)/checkov/bin/checkov -f template.yaml \
	  --framework cloudformation --quiet --compact --skip-download

format: $(VENV)/.installed
	@$(VENV)/bin/ruff check --fix .
	@$(VENV)/bin/ruff format .

lint-template: $(TOOLS)/cfn-lint/.installed $(TOOLS)/sam/.installed ## cfn-lint (pinned <1.54) and sam validate --lint
	@$(TOOLS)/cfn-lint/bin/cfn-lint template.yaml
	@$(TOOLS)/sam/bin/sam validate --lint --region us-east-1 2>&1 | grep -v -i telemetry | grep -v '^\s*$$' | tail -n 3

bench: $(VENV)/.installed ## intake latency and cold-start benchmark (table + .bench/results.json)
	@$(PY) -m bench

# e.g. make soak SOAK_ARGS="--deliveries 1000 --leads 100" (python -m soak --help: every rate)
soak: $(VENV)/.installed ## fault-injection soak: 10,000 deliveries with faults injected
	@$(PY) -m soak $(SOAK_ARGS)

FUZZ_EXAMPLES ?= 1000
fuzz: $(VENV)/.installed ## schemathesis, FUZZ_EXAMPLES (1000) cases per route, + the parsers' properties at length
	@FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_COLLECT=1 HYPOTHESIS_PROFILE=fuzz \
	  $(PY) -m pytest -n 2 -q -p no:cacheprovider tests/fuzz tests/property

models: $(VENV)/.installed ## rebuild the model layer's artifacts and manifest from a seed (reproducible)
	@$(VENV)/bin/ghl-ai train scoring --seed 42
	@$(VENV)/bin/ghl-ai train churn --seed 42
	@mkdir -p .local && $(PY) -m local.demo_catalogue .local/demo-catalogue.json
	@$(VENV)/bin/ghl-ai train recommend --listings .local/demo-catalogue.json --seed 42

events: $(VENV)/.installed ## regenerate events/ from tests/fixtures/ghl
	@$(PY) -m local.events

build: $(TOOLS)/sam/.installed ## sam build (needs python3.12 first on PATH; handled here), then ship bytecode
	$(need_python312)
	@PATH="$(dir $(PY312)):$$PATH" $(TOOLS)/sam/bin/sam build
	@# Lambda's code directory is read-only: without shipped .pyc every cold start compiles.
	@$(PY312) -m compileall -q -j 0 --invalidation-mode unchecked-hash .aws-sam/build

deploy: build ## sam deploy --guided (first time), then sam deploy
	@$(TOOLS)/sam/bin/sam deploy --guided

lock: ## re-resolve the lock files (needs network to PyPI)
	@$(PY) -m pip install -q uv
	@$(VENV)/bin/uv pip compile pyproject.toml --all-extras --python-version 3.12 --python-platform x86_64-manylinux_2_28 --generate-hashes -q -o requirements.lock
	@{ echo "# Runtime dependencies of the shared layer, pinned to the versions in requirements.lock."; \
	   echo "# Generated by \`make lock\`; boto3/botocore come with the Lambda runtime."; \
	   $(VENV)/bin/uv pip compile pyproject.toml -c requirements.lock --python-version 3.12 --python-platform x86_64-manylinux_2_28 --no-header --no-annotate -q | grep -v '^boto'; } > shared/requirements.txt
	@{ echo "# What the model layer ships besides its own code: numpy only (serving never needs scikit-learn)."; \
	   echo "# Generated by \`make lock\` from requirements.lock."; \
	   grep -E '^numpy==' requirements.lock | sed 's/ .*//'; } > layers/models/requirements.txt
	@for t in sam cfn-lint bandit checkov; do $(VENV)/bin/uv pip compile tools/$$t.in --python-version 3.12 --python-platform x86_64-manylinux_2_28 --generate-hashes -q -o tools/$$t.lock; done

clean: ## remove the environments, build output and local state
	rm -rf $(VENV) $(TOOLS) .aws-sam .local .bench .pytest_cache .ruff_cache
