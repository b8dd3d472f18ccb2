"""Production settings from the environment: `check --deploy` is clean, HSTS `preload` only from a one-year max-age,
the Content-Security-Policy (enforced, or reported only) and the Permissions-Policy are sent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {"SECRET_KEY": "x" * 60 + "-deploy-check-only", "ALLOWED_HOSTS": "catalog.example.com", "DJANGO_DEBUG": ""}
HSTS_HEADER = """
import django
django.setup()
from django.test import Client
print(Client().get("/healthz/", secure=True, headers={"host": "catalog.example.com"})["Strict-Transport-Security"])
"""

SECURITY_HEADERS = """
import json
import django
django.setup()
from django.test import Client
response = Client().get("/healthz/", secure=True, headers={"host": "catalog.example.com"})
names = ["Content-Security-Policy", "Content-Security-Policy-Report-Only", "Permissions-Policy"]
print(json.dumps({name: response.get(name) for name in names}))
"""
POLICY = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
}


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **PRODUCTION, "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    environment.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True)


@pytest.mark.parametrize("max_age", ["2592000", "31536000"])
def test_check_deploy_is_clean(max_age: str) -> None:
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], SECURE_HSTS_SECONDS=max_age)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("max_age", "header"),
    [
        ("", "max-age=2592000; includeSubDomains"),  # the default: 30 days, no preload
        ("31536000", "max-age=31536000; includeSubDomains; preload"),
        ("63072000", "max-age=63072000; includeSubDomains; preload"),
    ],
)
def test_hsts_preload_only_from_one_year(max_age: str, header: str) -> None:
    result = run(["-c", HSTS_HEADER], SECURE_HSTS_SECONDS=max_age)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == header


def test_preload_asked_for_with_a_short_max_age_is_a_clear_error() -> None:
    result = run(["manage.py", "check"], SECURE_HSTS_SECONDS="2592000", SECURE_HSTS_PRELOAD="1")
    assert result.returncode != 0
    assert "SECURE_HSTS_PRELOAD needs SECURE_HSTS_SECONDS of at least 31536000" in result.stderr


def test_preload_can_be_turned_off_at_one_year() -> None:
    result = run(["-c", HSTS_HEADER], SECURE_HSTS_SECONDS="31536000", SECURE_HSTS_PRELOAD="0")
    assert result.stdout.strip() == "max-age=31536000; includeSubDomains"


def security_headers(**env: str) -> dict[str, str | None]:
    """The security headers a production response carries; each policy as its set of directives."""
    result = run(["-c", SECURITY_HEADERS], **env)
    assert result.returncode == 0, result.stderr
    headers: dict[str, str | None] = json.loads(result.stdout)
    return headers


def directives(policy: str | None) -> set[str] | None:
    return None if policy is None else set(policy.split("; "))


def test_content_security_policy_and_permissions_policy_are_sent() -> None:
    headers = security_headers()
    assert directives(headers["Content-Security-Policy"]) == POLICY
    assert headers["Content-Security-Policy-Report-Only"] is None
    permissions = headers["Permissions-Policy"] or ""
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "browsing-topics"):
        assert f"{feature}=()" in permissions.split(", ")


@pytest.mark.parametrize("report_only", ["1", "0"])
def test_csp_report_only_is_switched_by_the_environment(report_only: str) -> None:
    headers = security_headers(CSP_REPORT_ONLY=report_only)
    enforced = directives(headers["Content-Security-Policy"])
    reported = directives(headers["Content-Security-Policy-Report-Only"])
    assert (enforced, reported) == ((None, POLICY) if report_only == "1" else (POLICY, None))
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], CSP_REPORT_ONLY=report_only)
    assert result.returncode == 0, result.stdout + result.stderr


DATABASE_SETTINGS = """
import json
from django.conf import settings
database = settings.DATABASES["default"]
names = ["CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "DISABLE_SERVER_SIDE_CURSORS"]
options = {name: database["OPTIONS"].get(name) for name in ["pool", "options"]}
print(json.dumps({name: database.get(name) for name in names} | options))
"""
POSTGRES = "postgres://app@db.example.com:5432/modelcatalog"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {},
            {"CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True, "DISABLE_SERVER_SIDE_CURSORS": False, "pool": None,
             "options": "-c jit=off"},
        ),
        (
            {"DATABASE_POOL": "8"},
            {"CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False, "DISABLE_SERVER_SIDE_CURSORS": False,
             "pool": {"min_size": 1, "max_size": 8}, "options": "-c jit=off"},
        ),
        (  # PgBouncer refuses startup options: JIT is turned off on the role instead
            {"DATABASE_PGBOUNCER": "1"},
            {"CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True, "DISABLE_SERVER_SIDE_CURSORS": True, "pool": None,
             "options": None},
        ),
    ],
)  # fmt: skip
def test_connection_settings_follow_the_environment(env: dict[str, str], expected: dict[str, object]) -> None:
    """Persistent connections by default; Django's pool with DATABASE_POOL; no server-side cursors behind PgBouncer
    (tests/deploy/test_two_instances.py serves through each); no JIT compilation."""
    environment = {**os.environ, **PRODUCTION, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": POSTGRES}
    code = f"import django; django.setup(); {DATABASE_SETTINGS.strip()}"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment | env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_apps_connection_compiles_no_queries() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
