"""Production headers and cookies, and `check --deploy` with production settings."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from access.roles import CASE_OFFICER
from tests.factories import make_user
from tests.security.conftest import PASSWORD

BASE_DIR = Path(django_settings.BASE_DIR)
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """manage.py in a fresh process with only the given environment (plus PATH and the database)."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": os.environ.get("DATABASE_URL", "")}
    return subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=base | env, capture_output=True, text=True, check=False
    )


def production_env(**overrides: str) -> dict[str, str]:
    return {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "review.example.com"} | overrides


@pytest.mark.django_db
def test_every_page_carries_the_strict_policy_headers(client: Client) -> None:
    response = client.get("/accounts/login/")
    assert response["Content-Security-Policy"] == CSP
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_https_answers_carry_hsts(client: Client, settings) -> None:
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000; includeSubDomains")


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_secure_and_http_only(settings) -> None:
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    make_user("olga", CASE_OFFICER)
    client = Client()
    client.get("/accounts/login/")
    response = client.post("/accounts/login/", {"username": "olga", "password": PASSWORD})
    session = response.cookies["sessionid"]
    csrf = client.cookies["csrftoken"]
    assert session["secure"] and session["httponly"]
    assert session["samesite"] == "Lax"
    assert csrf["secure"] and csrf["httponly"]


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https_when_configured(client: Client, settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    # A load balancer probes health over plain HTTP inside the network.
    assert client.get("/healthz").status_code == 200


def test_production_defaults_turn_on_https_cookies_and_hsts() -> None:
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, s.SECURE_SSL_REDIRECT)"
    )
    result = run_manage("shell", "--no-imports", "-c", code, **production_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "True"]


def test_the_proxy_ssl_header_comes_from_the_environment() -> None:
    code = "from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER)"
    result = run_manage(
        "shell", "--no-imports", "-c", code, **production_env(SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https")
    )
    assert result.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"
    bad = run_manage(
        "shell", "--no-imports", "-c", code, **production_env(SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO")
    )
    assert bad.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER" in bad.stderr


def test_check_deploy_passes_with_production_settings() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **production_env())
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_fails_with_debug_on() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **production_env(DEBUG="1"))
    assert result.returncode != 0
    assert "security.W018" in result.stderr


def test_settings_refuse_to_start_without_a_secret_key_when_debug_is_off() -> None:
    result = run_manage("check", DEBUG="0", ALLOWED_HOSTS="review.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
JS_URL = re.compile(r"javascript:", re.IGNORECASE)


def project_templates() -> list[Path]:
    roots = [BASE_DIR / "templates", *BASE_DIR.glob("*/templates")]
    return sorted(p for root in roots if ".venv" not in root.parts for p in root.rglob("*.html"))


def test_no_template_needs_inline_script_or_style() -> None:
    """The CSP forbids inline script and style; a template that relies on them is broken in the browser."""
    offenders = []
    for template in project_templates():
        text = template.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, INLINE_STYLE, JS_URL):
            for match in pattern.finditer(text):
                offenders.append(f"{template.relative_to(BASE_DIR)}: {match.group(0)!r}")
    assert project_templates()
    assert offenders == []


def test_django_csp_is_not_a_dependency() -> None:
    requirements = (BASE_DIR / "requirements.txt").read_text()
    assert "django-csp" not in requirements.lower()
