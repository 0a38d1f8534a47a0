"""Production settings: `manage.py check --deploy` is clean, HTTPS is enforced (HSTS and the redirect), and the
load balancer's plain-HTTP health check still gets through."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[3]
YEAR = 365 * 24 * 3600


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """What a real deployment sets: a strong secret (DEBUG goes off with it), its host name and an SMTP server."""
    keep = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG", "TMPDIR"}}
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "schoolgate.settings",
        "SCHOOLGATE_DATA_DIR": str(tmp_path),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "schoolgate.example.org",
        "EMAIL_HOST": "127.0.0.1",
        **extra,
    }


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter running our own code
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=180, check=False
    )


def test_it_passes_the_deploy_check_without_a_single_warning_under_production_settings(tmp_path):
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


SHOW = """
import json
from django.conf import settings
names = ["DEBUG", "SECURE_SSL_REDIRECT", "SECURE_REDIRECT_EXEMPT", "SECURE_HSTS_SECONDS",
         "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"]
print(json.dumps({name: getattr(settings, name) for name in names}))
"""


def _settings(env: dict[str, str]) -> dict:
    result = _run(["-c", SHOW], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_it_enforces_https_under_production_settings_and_lets_each_part_be_turned_off(tmp_path):
    production = _settings(production_env(tmp_path))
    assert production["DEBUG"] is False
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SECURE_HSTS_SECONDS"] >= YEAR
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production["SESSION_COOKIE_SECURE"] is True and production["CSRF_COOKIE_SECURE"] is True

    plain = _settings(production_env(tmp_path, SECURE_SSL_REDIRECT="False", SECURE_HSTS_SECONDS="0"))
    assert plain["SECURE_SSL_REDIRECT"] is False and plain["SECURE_HSTS_SECONDS"] == 0

    development = _settings({**production_env(tmp_path), "SECRET_KEY": ""})
    assert development["DEBUG"] is True
    assert development["SECURE_SSL_REDIRECT"] is False and development["SECURE_HSTS_SECONDS"] == 0


def test_it_redirects_plain_http_to_https_except_the_health_check(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = YEAR

    login = client.get("/accounts/login/")
    assert login.status_code == 301 and login["Location"] == "https://testserver/accounts/login/"
    health = client.get("/healthz")
    assert health.status_code in (200, 503) and health["Content-Type"].startswith("application/json")

    secure = client.get("/accounts/login/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == f"max-age={YEAR}; includeSubDomains; preload"
