# AIM Engine for Python. `make run` and `make test` are the two entry points; see README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODES ?=
REAL_NODE ?=
IMAGE ?=
PYTEST_ARGS ?=
IMAGE_LOG_DIR := $(or $(AIM_CACHE_DIR),$(HOME)/.cache/aim-engine)

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11" >&2; exit 1; }
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==25.3
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

venv: $(STAMP) ## Create .venv and install the project with pinned dependencies

constraints: ## Re-pin constraints.txt from a fresh resolution of pyproject.toml
	rm -rf /tmp/aim-constraints && $(PYTHON) -m venv /tmp/aim-constraints
	/tmp/aim-constraints/bin/pip install --quiet -e '.[dev]'
	{ sed -n '1,2p' constraints.txt; /tmp/aim-constraints/bin/pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

binaries: ## Build etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok, helm, registry, crane (cached, never rebuilt)
	hack/build-binaries.sh all

run: venv binaries $(if $(REAL_NODE),node) ## Run the local control plane, webhook, controller and KServe in the foreground (Ctrl-C stops all); REAL_NODE=1 adds a real node (root), NO_KSERVE=1 leaves KServe out
	$(PY) -m devcluster run $(if $(NODES),--nodes $(NODES)) $(if $(REAL_NODE),--real-node) $(if $(NO_KSERVE),--no-kserve)

dev-up: venv binaries $(if $(REAL_NODE),node) ## Same as run, in the background; returns when ready
	$(PY) -m devcluster up $(if $(NODES),--nodes $(NODES)) $(if $(REAL_NODE),--real-node) $(if $(NO_KSERVE),--no-kserve)

node: node-binaries node-images ## Packages (apt, root), binaries (kubelet, kube-proxy, CoreDNS, KEDA) and images of the real node

node-binaries: ## As root: the real node's packages and Go-built binaries (KEDA's too)
	hack/install-node-packages.sh
	hack/build-binaries.sh node
	hack/build-binaries.sh registry
	hack/build-binaries.sh keda

node-images: ## As root: the real node's images (KEDA's too)
	hack/build-images.sh all
	hack/build-images.sh keda

image: ## Build the project's image with buildah from the Dockerfile (IMAGE=registry/name:tag to tag it; root)
	hack/install-node-packages.sh
	IMAGE=$(IMAGE) hack/build-images.sh project
	@echo "Push it with: make push IMAGE=$(or $(IMAGE),<registry>/aim-engine:<tag>)"

push: ## Push the image `make image` built to IMAGE (a registry reference; plain HTTP for 127.0.0.1)
	@test -n "$(IMAGE)" || { echo "set IMAGE=registry.example/aim-engine:0.1.0" >&2; exit 1; }
	SKOPEO_ARGS="$(if $(findstring 127.0.0.1,$(IMAGE)),--dest-tls-verify=false)" hack/build-images.sh push project docker://$(IMAGE)

dev-down: venv ## Stop what dev-up started
	$(PY) -m devcluster down

test: venv binaries real-node-prerequisites ## The whole suite: unit, integration (real API server), then the real node (as root)
	@# As root, the real node's images build (niced) while the simulated suite runs; the real node's
	@# session then waits for them (build-images.sh holds a lock) and reports a failed build itself.
	@if [ "$$(id -u)" = 0 ]; then mkdir -p $(IMAGE_LOG_DIR); \
	  echo "Building the real node's images in the background (log: $(IMAGE_LOG_DIR)/node-images.log)"; \
	  ( $(MAKE) --no-print-directory node-images > $(IMAGE_LOG_DIR)/node-images.log 2>&1 & ); fi
	@# kubectl aim on the other Pythons users have (3.11 is the suite's own) runs beside the
	@# integration tests too; not when PYTEST_ARGS picks tests.
	PY=$(PY) CLI_PYTHONS=$(if $(PYTEST_ARGS),,1) hack/simulated-suite.sh $(PYTEST_ARGS)
	@# One control plane at a time: the real node's session starts after the first has stopped.
	@# Exit 5 (no test selected, e.g. PYTEST_ARGS naming other tests) is fine, unless CI requires them.
	$(PY) -m pytest -m realnode $(PYTEST_ARGS) || { code=$$?; [ $$code -eq 5 ] && [ -z "$$AIM_REQUIRE_REAL_NODE" ]; }

real-node-prerequisites: ## As root: what the real-node tests need before the suite (packages, binaries); otherwise they are skipped
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory node-binaries; \
	else echo "Not root: the real-node tests will be skipped (they need containerd, the kubelet and iptables)."; fi

golden: venv ## Rewrite the planners' golden YAML (tests/unit/controller/golden) after a deliberate change; review the diff
	AIM_UPDATE_GOLDEN=1 $(PY) -m pytest tests/unit/controller/test_golden.py -q

test-cli-pythons: ## kubectl aim's tests on Python 3.12 and 3.13 (virtualenvs cached in ~/.cache/aim-engine/venvs)
	hack/test-cli-pythons.sh

test-unit: venv ## Only the tests that need no control plane
	$(PY) -m pytest -m 'not cluster' $(PYTEST_ARGS)

bench: venv binaries ## Benchmarks with same-run baselines (bench/); results in docs/performance.md
	hack/build-binaries.sh bench
	$(PY) -m bench.webhooks --output bench/results-webhooks.json
	$(PY) -m bench.controller --output bench/results-controller.json
	$(PY) -m bench.download --output bench/results-download.json
	$(PY) -m bench.admission --output bench/results-admission.json
	$(PY) -m bench.validate --output bench/results-validate.json

e2e-kind: venv ## With Docker and kind: build the image, install the chart into kind, run the quickstart
	hack/e2e-kind.sh

lint: venv ## ruff, mypy (strict) and import-linter layer contracts
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: venv ## Apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

generate: venv ## Regenerate generated files (CRDs)
	$(PY) -m api.crdgen

verify: generate ## Regenerate and fail if any generated file differs from what is committed
	git diff --exit-code -- crds helm
	@test -z "$$(git status --porcelain -- crds helm)" || { git status --porcelain -- crds helm; echo "untracked generated files" >&2; exit 1; }

clean: ## Remove the virtualenv and local run state (the binary cache outside the repo stays)
	rm -rf $(VENV) .dev .pytest_cache .mypy_cache .ruff_cache

.PHONY: help venv constraints binaries node node-binaries node-images real-node-prerequisites image push run dev-up dev-down test test-cli-pythons golden test-unit bench e2e-kind lint format generate verify clean
