# Model Catalog. `make demo` runs the app with demo data; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml client/pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo demo-up test check serve install bench bench-mlflow bench-webhooks bench-throughput clean

$(STAMP): pyproject.toml client/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet -e ./client
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

# The demo runs as production does (debug off, collected static files, gunicorn), over plain HTTP on this
# machine only, with a secret key generated once into var/ (tests/core/test_demo.py runs it with this line).
# Webhooks may go to plain-HTTP receivers on this machine in the demo (WEBHOOK_ALLOW_HTTP, WEBHOOK_ALLOW_PRIVATE).
DEMO_ENV := DJANGO_LOCAL_HTTP=1 SECRET_KEY_FILE=var/secret_key SITE_URL=http://127.0.0.1:$(PORT) WEBHOOK_ALLOW_HTTP=1 WEBHOOK_ALLOW_PRIVATE=1

demo: $(STAMP)
	mkdir -p var
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo --if-empty
	$(DEMO_ENV) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@$(MAKE) --no-print-directory demo-up

# The web server and, beside it, a task worker (mail, webhook deliveries); Ctrl-C stops both
# (tests/core/test_demo.py runs this target).
demo-up:
	@echo "Serving on http://127.0.0.1:$(PORT)/ with a task worker  (Ctrl-C stops both)"
	$(DEMO_ENV) $(BIN)/python manage.py db_worker --no-reload --no-startup-delay & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEMO_ENV) $(BIN)/gunicorn config.wsgi --bind 127.0.0.1:$(PORT) --workers 2 --log-level warning

# One pytest worker per core; tests that share something outside their own database (PostgreSQL's roles, the
# MLflow server they start) name an xdist_group and run in one worker.
TEST_WORKERS ?= auto

test: $(STAMP)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=config.settings_test $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/mypy .

# `make serve` runs the web processes only: run task workers (mail, webhook deliveries) as their own processes, as
# many as needed, with `manage.py db_worker` (or, with TASK_BACKEND=redis,
# `manage.py rqworker default --with-scheduler --job-class django_tasks_rq.backend.Job`).
# With MIGRATE_DATABASE_URL (the schema's owner), migrations run as the owner, which then grants the app's role
# (DATABASE_URL's user) only INSERT and SELECT on the activity log; the web processes connect as the app's role.
serve: $(STAMP)
	$(BIN)/python manage.py collectstatic --noinput
	DATABASE_URL="$${MIGRATE_DATABASE_URL:-$$DATABASE_URL}" $(BIN)/python manage.py migrate --noinput
	if [ -n "$$MIGRATE_DATABASE_URL" ]; then DATABASE_URL="$$MIGRATE_DATABASE_URL" \
		$(BIN)/python manage.py setup_db_roles --app-url "$$DATABASE_URL" --execute; fi
	$(BIN)/gunicorn config.wsgi --bind 0.0.0.0:$(PORT) --workers $${WEB_CONCURRENCY:-3} --access-logfile -

bench: $(STAMP)
	$(BIN)/python bench/pages.py

# MLflow's registry API, ours against MLflow's own server on the same PostgreSQL (DATABASE_URL), and the import rate.
bench-mlflow: $(STAMP)
	$(BIN)/python bench/mlflow.py $(BENCH_ARGS)

# Webhook deliveries per second by one worker, and the request → approve round trip with three webhooks against none.
bench-webhooks: $(STAMP)
	$(BIN)/python bench/webhooks.py $(BENCH_ARGS)

bench-throughput: $(STAMP)
	$(BIN)/python bench/throughput.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var/staticfiles .pytest_cache .mypy_cache .ruff_cache
