"""Settings come from the environment, with production-safe defaults when DEBUG is off."""

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
PRINT_SETTINGS = (
    "import json, django; from django.conf import settings; django.setup(); "
    "db = settings.DATABASES['default']; "
    "print(json.dumps({'secure': settings.SESSION_COOKIE_SECURE, 'csrf': settings.CSRF_COOKIE_SECURE, "
    "'hsts': settings.SECURE_HSTS_SECONDS, 'hosts': settings.ALLOWED_HOSTS, "
    "'engine': db['ENGINE'], 'name': str(db['NAME']), 'options': db.get('OPTIONS', {})}))"
)


def run_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL"}
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="oms.settings")
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    result = run_settings(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_production_defaults_are_secure():
    result = run_settings(DEBUG="0", SECRET_KEY="x" * 50, ALLOWED_HOSTS="oms.example.com")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["secure"] is True
    assert values["csrf"] is True
    assert values["hsts"] >= 31536000
    assert values["hosts"] == ["oms.example.com"]


def test_default_database_is_embedded_sqlite_with_wal_and_immediate_transactions():
    result = run_settings(DEBUG="1")
    values = json.loads(result.stdout)
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"].endswith("var/oms.sqlite3")
    assert values["options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in values["options"]["init_command"]


def test_database_url_selects_postgresql():
    result = run_settings(DEBUG="1", DATABASE_URL="postgres://postgres@127.0.0.1:5432/shop")
    values = json.loads(result.stdout)
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["name"] == "shop"


def test_debug_settings_of_this_test_run():
    assert settings.SECRET_KEY
