# Run the whole app on a fresh machine: `make run` (PORT=3000 by default).
# Without DATABASE_URL / REDIS_URL it starts an embedded PostgreSQL and Redis in ./data.

PORT ?= 3000
PYTHON ?= python3
VENV := .venv
export PORT

.PHONY: run migrate test

run: $(VENV)/.installed
	$(VENV)/bin/python -m product_importer run

# The whole test suite (starts the local PostgreSQL and Redis when they are down).
test:
	PYTHON=$(PYTHON) scripts/test.sh

migrate: $(VENV)/.installed
	$(VENV)/bin/python -m product_importer migrate

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Reinstalled whenever requirements.txt changes.
$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install -r requirements.txt
	touch $@
