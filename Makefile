# Enterprise mentoring platform. `make run` brings the platform up on embedded defaults and runs the
# demo organisation through it; `make test` runs the whole suite against a real Kafka broker.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BIN ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROTO_STAMP := services/contracts/mentoring/v1/.generated
KAFKA := deploy/kafka/kafka.sh
# The identity provider (Keycloak, deploy/keycloak/): its port, and the issuer the services trust.
IDP := deploy/keycloak/keycloak.sh
KEYCLOAK_PORT ?= 18080
export KEYCLOAK_PORT
export MENTORING_AUTH_ISSUER ?= http://127.0.0.1:$(KEYCLOAK_PORT)/realms/mentoring
PROTOS := $(wildcard protos/mentoring/v1/*.proto)
# buf (lint and breaking-change checks of the contracts), built from the Go module proxy into .var/tools.
BUF_VERSION := v1.75.0
BUF := .var/tools/buf-$(BUF_VERSION)
CONTRACTS_BASELINE := protos/baseline/contracts.binpb
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help setup protos contracts-baseline kafka-up kafka-down kafka-status kafka-cluster-up kafka-cluster-down \
        idp-up idp-down idp-status run demo test test-unit lint lint-ops ops-up ops-down bench clean

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 22

$(STAMP): pyproject.toml
	@command -v $(PYTHON_BIN) >/dev/null || { echo "need $(PYTHON_BIN)"; exit 1; }
	$(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(PROTO_STAMP): $(STAMP) $(PROTOS)
	$(PY) -m grpc_tools.protoc -I protos --python_out=services/contracts --grpc_python_out=services/contracts \
	  --mypy_out=services/contracts --mypy_grpc_out=services/contracts $(PROTOS)
	touch $@

setup: $(STAMP) $(PROTO_STAMP) $(BUF) ## venv, Python packages, generated protobuf code, buf, Kafka jars, Keycloak
	bash $(KAFKA) fetch
	bash $(IDP) fetch

$(BUF):
	@command -v go >/dev/null || { echo "need go (to build buf)"; exit 1; }
	mkdir -p .var/tools
	GOBIN=$(CURDIR)/.var/tools/build go install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
	mv .var/tools/build/buf $@

contracts-baseline: $(BUF) ## renew the breaking-change baseline from a tag: make contracts-baseline TAG=contracts-v2
	$(BUF) build '.git#tag=$(TAG),subdir=protos' -o $(CONTRACTS_BASELINE)

protos: $(PROTO_STAMP) ## generate Python code and type stubs from protos/ into services/contracts

kafka-up: ## start the single-node KRaft broker on 127.0.0.1:9092 (idempotent)
	bash $(KAFKA) up

kafka-down: ## stop the broker
	bash $(KAFKA) down

kafka-status:
	bash $(KAFKA) status

kafka-cluster-up: ## three brokers on loopback (RF 3, min ISR 2) for fault tests
	bash $(KAFKA) up --nodes 3

kafka-cluster-down:
	bash $(KAFKA) down --nodes 3

idp-up: ## start Keycloak on 127.0.0.1:$KEYCLOAK_PORT (18080) with the realm of deploy/keycloak (idempotent)
	bash $(IDP) up

idp-down: ## stop Keycloak
	bash $(IDP) down

idp-status:
	bash $(IDP) status

# Ctrl-C stops the services (platform_cli), then the broker and Keycloak if this run started them: what
# was already up before `make run` stays up.
run: setup ## Kafka, Keycloak, the four services, the demo organisation; Ctrl-C stops all it started
	@kafka_was_up=0; idp_was_up=0; \
	bash $(KAFKA) status >/dev/null 2>&1 && kafka_was_up=1; \
	bash $(IDP) status >/dev/null 2>&1 && idp_was_up=1; \
	stop_started() { \
	  if [ $$idp_was_up = 0 ]; then echo "stopping Keycloak (started by make run)"; bash $(IDP) down; fi; \
	  if [ $$kafka_was_up = 0 ]; then echo "stopping Kafka (started by make run)"; bash $(KAFKA) down; fi; \
	}; \
	trap stop_started EXIT; trap 'exit 130' INT TERM; \
	bash $(KAFKA) up && bash $(IDP) up && $(PY) -m services.platform_cli run --demo

demo: setup ## run the demo organisation against a platform that is already up
	$(PY) -m services.platform_cli demo

test: setup ## unit, integration and end-to-end tests (starts and stops Kafka and Keycloak; PostgreSQL installed if missing)
	bash deploy/postgres/install.sh >/dev/null
	bash $(KAFKA) up
	bash $(IDP) up || { bash $(KAFKA) down; exit 1; }
	status=0; MENTORING_REQUIRE_POSTGRES=1 $(PY) -m pytest $(PYTEST_ARGS) || status=$$?; \
	  bash $(KAFKA) down; bash $(IDP) down; exit $$status

test-unit: setup ## unit tests only: no broker
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

lint: setup lint-ops ## buf lint and buf breaking (against the last tagged contract), ruff (lint and format), mypy --strict, lint-ops
	$(BUF) lint
	$(BUF) breaking --against $(CONTRACTS_BASELINE)
	$(VENV)/bin/ruff check services tests benchmarks
	$(VENV)/bin/ruff format --check services tests benchmarks
	$(VENV)/bin/mypy services

bench: setup kafka-up idp-up ## benchmarks: figures next to a baseline measured in the same run
	$(PY) -m benchmarks.kafka_relay
	$(PY) -m benchmarks.matching_engine
	$(PY) -m benchmarks.enrollment_hris
	$(PY) -m benchmarks.auth_overhead
	$(PY) -m benchmarks.session_plans

clean: ## stop Kafka and Keycloak, remove data (and the Keycloak distribution), venv and generated code
	-bash $(KAFKA) reset
	-bash $(IDP) down
	rm -rf $(VENV) .var .mypy_cache .ruff_cache .pytest_cache
	rm -f services/contracts/mentoring/v1/*_pb2*.py services/contracts/mentoring/v1/*_pb2*.pyi $(PROTO_STAMP)

# promtool and amtool come with Debian's prometheus and prometheus-alertmanager packages; without them
# the checks are skipped (said so), not failed.
lint-ops: ## alert rules, their tests, Prometheus and Alertmanager configurations (promtool, amtool)
	@if command -v promtool >/dev/null; then \
	  set -e; \
	  promtool check rules deploy/prometheus/alerts.yml; \
	  cd deploy/prometheus && promtool test rules alerts_test.yml alerts_lag_test.yml && cd ../..; \
	  promtool check config deploy/prometheus/prometheus.yml; \
	  promtool check config deploy/prometheus/prometheus.local.yml; \
	else echo "promtool not installed (apt-get install prometheus): rule and config checks skipped"; fi
	@if command -v amtool >/dev/null; then amtool check-config deploy/alertmanager/alertmanager.yml; \
	else echo "amtool not installed (apt-get install prometheus-alertmanager): skipped"; fi

# Prometheus (127.0.0.1:9090, deploy/prometheus/prometheus.local.yml: the services of `make run` and the
# lag exporter) and Alertmanager (127.0.0.1:9095: Kafka's controller has 9093) from Debian's packages,
# in the background; data and logs under .var/ops.
OPS_DIR := .var/ops
ops-up: ## Prometheus and Alertmanager for the platform of `make run` (Debian's prometheus, prometheus-alertmanager)
	@command -v prometheus >/dev/null && command -v prometheus-alertmanager >/dev/null || \
	  { echo "need Debian's prometheus and prometheus-alertmanager (apt-get install prometheus prometheus-alertmanager)"; exit 1; }
	@mkdir -p $(OPS_DIR)
	@if [ -f $(OPS_DIR)/alertmanager.pid ] && kill -0 $$(cat $(OPS_DIR)/alertmanager.pid) 2>/dev/null; then echo "alertmanager already up"; \
	else prometheus-alertmanager --config.file=deploy/alertmanager/alertmanager.yml --storage.path=$(OPS_DIR)/alertmanager \
	  --web.listen-address=127.0.0.1:9095 --cluster.listen-address= >$(OPS_DIR)/alertmanager.log 2>&1 & \
	  echo $$! > $(OPS_DIR)/alertmanager.pid; echo "alertmanager: http://127.0.0.1:9095"; fi
	@if [ -f $(OPS_DIR)/prometheus.pid ] && kill -0 $$(cat $(OPS_DIR)/prometheus.pid) 2>/dev/null; then echo "prometheus already up"; \
	else prometheus --config.file=deploy/prometheus/prometheus.local.yml --storage.tsdb.path=$(OPS_DIR)/prometheus \
	  --web.listen-address=127.0.0.1:9090 --web.enable-lifecycle >$(OPS_DIR)/prometheus.log 2>&1 & \
	  echo $$! > $(OPS_DIR)/prometheus.pid; echo "prometheus: http://127.0.0.1:9090 (alerts: /alerts)"; fi

ops-down: ## stop what ops-up started
	@for name in prometheus alertmanager; do \
	  if [ -f $(OPS_DIR)/$$name.pid ]; then kill $$(cat $(OPS_DIR)/$$name.pid) 2>/dev/null && echo "$$name stopped"; rm -f $(OPS_DIR)/$$name.pid; fi; \
	done
