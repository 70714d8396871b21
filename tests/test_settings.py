"""config/env.py readers and config/settings.py as a deployment would start it.

Every bad value must stop start-up with an ImproperlyConfigured that names the variable.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_path, env_str, parse_database_url

PROJECT_ROOT = Path(__file__).resolve().parents[1]
VAR = "RELIEF_TEST_VAR"  # a name no real setting uses


@pytest.fixture(autouse=True)
def _clean_var(monkeypatch):
    monkeypatch.delenv(VAR, raising=False)
    monkeypatch.delenv(f"{VAR}_FILE", raising=False)


def raises_naming(name: str):
    """ImproperlyConfigured whose message starts with the variable's name."""
    return pytest.raises(ImproperlyConfigured, match=rf"^{name}(_FILE)?: ")


# --- env_bool -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "true", "True", "YES", "on", " on "])
def test_it_reads_true_spellings(monkeypatch, value):
    monkeypatch.setenv(VAR, value)
    assert env_bool(VAR, default=False) is True


@pytest.mark.parametrize("value", ["0", "false", "FALSE", "no", "off", ""])
def test_it_reads_false_spellings(monkeypatch, value):
    monkeypatch.setenv(VAR, value)
    assert env_bool(VAR, default=True) is False


@pytest.mark.parametrize("default", [True, False])
def test_it_uses_the_bool_default_when_unset(default):
    assert env_bool(VAR, default=default) is default


@pytest.mark.parametrize("value", ["maybe", "2", "y", "enabled"])
def test_it_rejects_a_bad_bool_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv(VAR, value)
    with raises_naming(VAR) as excinfo:
        env_bool(VAR, default=False)
    assert repr(value) in str(excinfo.value)


# --- env_int --------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [("42", 42), (" 7 ", 7), ("-3", -3), ("0", 0)])
def test_it_reads_integers(monkeypatch, value, expected):
    monkeypatch.setenv(VAR, value)
    assert env_int(VAR, default=99) == expected


def test_it_uses_the_int_default_when_unset():
    assert env_int(VAR, default=99) == 99


@pytest.mark.parametrize("value", ["abc", "4.5", "", "1e3", "12 34"])
def test_it_rejects_a_non_integer_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv(VAR, value)
    with raises_naming(VAR) as excinfo:
        env_int(VAR, default=1)
    assert "integer" in str(excinfo.value)


def test_it_enforces_the_int_minimum(monkeypatch):
    monkeypatch.setenv(VAR, "299")
    with raises_naming(VAR) as excinfo:
        env_int(VAR, default=3600, minimum=300)
    assert "at least 300" in str(excinfo.value)
    monkeypatch.setenv(VAR, "300")
    assert env_int(VAR, default=3600, minimum=300) == 300


# --- env_list -------------------------------------------------------------------------------


def test_it_splits_and_strips_a_list(monkeypatch):
    monkeypatch.setenv(VAR, "relief.example.org, 10.0.0.5 ,localhost")
    assert env_list(VAR, default=[]) == ["relief.example.org", "10.0.0.5", "localhost"]


def test_it_uses_the_list_default_when_unset():
    assert env_list(VAR, default=["a"]) == ["a"]


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_value_is_an_empty_list(monkeypatch, value):
    monkeypatch.setenv(VAR, value)
    assert env_list(VAR, default=["a"]) == []


@pytest.mark.parametrize("value", ["a,,b", "a,", ",a", "a, ,b"])
def test_it_rejects_an_empty_list_entry_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv(VAR, value)
    with raises_naming(VAR):
        env_list(VAR, default=[])


# --- env_path -------------------------------------------------------------------------------


def test_it_reads_an_absolute_path(monkeypatch):
    monkeypatch.setenv(VAR, "/srv/relief/media")
    assert env_path(VAR, default=Path("/x")) == Path("/srv/relief/media")


def test_it_uses_the_path_default_when_unset():
    assert env_path(VAR, default=Path("/default")) == Path("/default")


@pytest.mark.parametrize("value", ["media", "./media", "../srv/media", ""])
def test_it_rejects_a_relative_path_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv(VAR, value)
    with raises_naming(VAR) as excinfo:
        env_path(VAR, default=Path("/x"))
    assert "absolute" in str(excinfo.value)


# --- env_str and NAME_FILE ------------------------------------------------------------------


def test_it_reads_a_string_or_its_default(monkeypatch):
    assert env_str(VAR) is None
    assert env_str(VAR, "fallback") == "fallback"
    monkeypatch.setenv(VAR, "value with spaces ")
    assert env_str(VAR, "fallback") == "value with spaces "


def test_it_keeps_an_empty_string_instead_of_the_default(monkeypatch):
    monkeypatch.setenv(VAR, "")
    assert env_str(VAR, "fallback") == ""


def test_it_reads_a_secret_from_name_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret-from-a-docker-secret\n", encoding="utf-8")
    monkeypatch.setenv(f"{VAR}_FILE", str(secret))
    assert env_str(VAR) == "s3cret-from-a-docker-secret"


def test_name_file_feeds_the_typed_readers_too(monkeypatch, tmp_path):
    number = tmp_path / "n"
    number.write_text(" 12\n", encoding="utf-8")
    monkeypatch.setenv(f"{VAR}_FILE", str(number))
    assert env_int(VAR, default=0) == 12


def test_it_rejects_both_name_and_name_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("x", encoding="utf-8")
    monkeypatch.setenv(VAR, "direct")
    monkeypatch.setenv(f"{VAR}_FILE", str(secret))
    with raises_naming(VAR) as excinfo:
        env_str(VAR)
    assert f"{VAR}_FILE" in str(excinfo.value)


def test_it_names_name_file_when_the_file_cannot_be_read(monkeypatch, tmp_path):
    missing = tmp_path / "no-such-secret"
    monkeypatch.setenv(f"{VAR}_FILE", str(missing))
    with pytest.raises(ImproperlyConfigured, match=rf"^{VAR}_FILE: ") as excinfo:
        env_str(VAR)
    assert str(missing) in str(excinfo.value)


# --- parse_database_url ---------------------------------------------------------------------

BASE = Path("/srv/relief")


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("sqlite:///db.sqlite3", BASE / "db.sqlite3"),
        ("sqlite:///data/relief.db", BASE / "data" / "relief.db"),
        ("sqlite:////var/lib/relief/db.sqlite3", Path("/var/lib/relief/db.sqlite3")),
        ("SQLITE:///db.sqlite3", BASE / "db.sqlite3"),
    ],
)
def test_it_parses_sqlite_urls_relative_to_the_project_or_absolute(url, name):
    db = parse_database_url("DB_URL", url, base_dir=BASE)
    assert db["ENGINE"] == "config.db.sqlite3"
    assert db["NAME"] == name
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///"])
def test_it_rejects_a_sqlite_url_without_a_file(url):
    with raises_naming("DB_URL"):
        parse_database_url("DB_URL", url, base_dir=BASE)


def test_it_parses_a_full_postgres_url():
    db = parse_database_url(
        "DB_URL",
        "postgres://relief%40app:p%3Ass%2Fw0rd@db.internal:6543/relief_prod"
        "?sslmode=require&connect_timeout=5",
        base_dir=BASE,
    )
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert db["NAME"] == "relief_prod"
    assert db["USER"] == "relief@app"
    assert db["PASSWORD"] == "p:ss/w0rd"
    assert db["HOST"] == "db.internal"
    assert db["PORT"] == "6543"
    assert db["OPTIONS"]["sslmode"] == "require"
    assert db["OPTIONS"]["connect_timeout"] == "5"
    assert db["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 10, "timeout": 10}
    # With the pool Django must not keep its own persistent connections.
    assert db["CONN_MAX_AGE"] == 0
    # Pooled connections are checked before use (a restart's broken ones are replaced).
    assert db["CONN_HEALTH_CHECKS"] is True


# Explicit ids: a bare "postgres" id would count as the postgres marker in tests/conftest.py.
@pytest.mark.parametrize(
    "scheme",
    ["postgres", "postgresql", "pgsql"],
    ids=["scheme-postgres", "scheme-postgresql", "scheme-pgsql"],
)
def test_it_accepts_every_postgres_scheme_and_defaults_the_rest(scheme):
    db = parse_database_url("DB_URL", f"{scheme}://localhost/relief", base_dir=BASE)
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == ("", "", "localhost", "")
    assert "pool" in db["OPTIONS"]


@pytest.mark.parametrize("value", ["false", "0", "off", "no", "False"])
def test_pool_false_turns_the_pool_off(value):
    db = parse_database_url("DB_URL", f"postgres://h/relief?pool={value}", base_dir=BASE)
    assert "pool" not in db["OPTIONS"]
    assert "pool" not in {k.lower() for k in db["OPTIONS"]}


def test_pool_true_keeps_the_pool():
    db = parse_database_url("DB_URL", "postgres://h/relief?pool=true", base_dir=BASE)
    assert db["OPTIONS"]["pool"]["max_size"] == 10


def test_it_rejects_a_bad_pool_value():
    with raises_naming("DB_URL") as excinfo:
        parse_database_url("DB_URL", "postgres://h/relief?pool=sometimes", base_dir=BASE)
    assert "pool" in str(excinfo.value)


@pytest.mark.parametrize(
    "url",
    ["mysql://u:p@h/db", "postgis://h/db", "relief.db", "/srv/relief/db.sqlite3", "http://h/db"],
)
def test_it_rejects_an_unsupported_scheme_naming_the_variable(url):
    with raises_naming("DB_URL") as excinfo:
        parse_database_url("DB_URL", url, base_dir=BASE)
    assert "scheme" in str(excinfo.value)


@pytest.mark.parametrize("url", ["postgres://h", "postgres://h/", "postgres://u:p@h:5432/"])
def test_it_rejects_a_postgres_url_without_a_database_name(url):
    with raises_naming("DB_URL") as excinfo:
        parse_database_url("DB_URL", url, base_dir=BASE)
    assert "database name" in str(excinfo.value)


@pytest.mark.parametrize("url", ["postgres://h:abc/relief", "postgres://h:99999/relief"])
def test_it_rejects_a_bad_port_naming_the_variable(url):
    with raises_naming("DB_URL") as excinfo:
        parse_database_url("DB_URL", url, base_dir=BASE)
    assert "port" in str(excinfo.value)


# --- config.settings in a fresh interpreter -------------------------------------------------

SHOW_SETTINGS = (
    "import json, django; from django.conf import settings; "
    "db = settings.DATABASES['default']; "
    "print(json.dumps({'debug': settings.DEBUG, 'engine': db['ENGINE'], "
    "'name': str(db['NAME']), 'options': db.get('OPTIONS', {}), "
    "'secret_len': len(settings.SECRET_KEY)}))"
)


def run_settings(code: str, **env: str) -> subprocess.CompletedProcess:
    """Import config.settings in a subprocess whose environment holds only `env`."""
    clean = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONDONTWRITEBYTECODE": "1",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def show_settings(**env: str) -> dict:
    proc = run_settings(SHOW_SETTINGS, **env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_debug_is_off_when_nothing_is_set():
    # Off by default: then a secret key is required, so nothing set means no start at all.
    proc = run_settings("from django.conf import settings; settings.DEBUG")
    assert proc.returncode != 0
    assert "SECRET_KEY: must be set when DEBUG is off" in proc.stderr
    shown = show_settings(SECRET_KEY="k" * 50)
    assert shown["debug"] is False


def test_it_runs_for_development_with_debug_set():
    shown = show_settings(DEBUG="1")
    assert shown["debug"] is True
    assert shown["engine"] == "config.db.sqlite3"
    assert shown["name"] == str(PROJECT_ROOT / "db.sqlite3")
    assert shown["options"]["transaction_mode"] == "IMMEDIATE"


def test_it_refuses_to_start_in_production_without_a_secret_key():
    proc = run_settings(
        "import django; from django.conf import settings; settings.SECRET_KEY", DEBUG="0"
    )
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr
    assert "SECRET_KEY" in proc.stderr


def test_it_refuses_a_short_secret_key():
    proc = run_settings(
        "from django.conf import settings; settings.SECRET_KEY", DEBUG="0", SECRET_KEY="short"
    )
    assert proc.returncode != 0
    assert "SECRET_KEY: must be at least 32" in proc.stderr


def test_it_starts_in_production_with_a_secret_key_from_a_file(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("k" * 50 + "\n", encoding="utf-8")
    shown = show_settings(DEBUG="0", SECRET_KEY_FILE=str(secret))
    assert shown["debug"] is False
    assert shown["secret_len"] == 50


def test_a_bad_debug_value_names_debug():
    proc = run_settings("from django.conf import settings; settings.DEBUG", DEBUG="verbose")
    assert proc.returncode != 0
    assert "DEBUG: expected one of" in proc.stderr


def test_a_postgres_database_url_gives_the_postgresql_engine_with_a_pool():
    shown = show_settings(DEBUG="1", DATABASE_URL="postgres://relief:pw@db.internal:5432/relief")
    assert shown["engine"] == "django.db.backends.postgresql"
    assert shown["name"] == "relief"
    assert shown["options"]["pool"]["max_size"] == 10


def test_a_sqlite_database_url_gives_immediate_transactions():
    shown = show_settings(DEBUG="1", DATABASE_URL="sqlite:///var/relief.sqlite3")
    assert shown["engine"] == "config.db.sqlite3"
    assert shown["name"] == str(PROJECT_ROOT / "var" / "relief.sqlite3")
    assert shown["options"]["transaction_mode"] == "IMMEDIATE"


def test_a_bad_database_url_names_database_url():
    proc = run_settings(
        "from django.conf import settings; settings.DATABASES",
        DEBUG="1",
        DATABASE_URL="mysql://h/db",
    )
    assert proc.returncode != 0
    assert "DATABASE_URL: unsupported scheme" in proc.stderr


PRODUCTION = {"DEBUG": "0", "SECRET_KEY": "p" * 20 + "Qz8#kL2$vN5@wR9!xT4&yU7*aB3^cD6(" + "e" * 20}

SHOW_SECURITY = (
    "import json, django; from django.conf import settings; "
    "print(json.dumps({k: getattr(settings, k, None) for k in ("
    "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', "
    "'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_SSL_REDIRECT', 'SESSION_IDLE_TIMEOUT', "
    "'SECURE_REFERRER_POLICY', 'DEBUG')}))"
)


def test_production_defaults_are_secure():
    proc = run_settings(SHOW_SECURITY, **PRODUCTION)
    assert proc.returncode == 0, proc.stderr
    shown = json.loads(proc.stdout)
    assert shown["DEBUG"] is False
    assert shown["SESSION_COOKIE_SECURE"] is True
    assert shown["CSRF_COOKIE_SECURE"] is True
    assert shown["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert shown["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert shown["SECURE_SSL_REDIRECT"] is True
    assert shown["SESSION_IDLE_TIMEOUT"] == 30 * 60
    assert shown["SECURE_REFERRER_POLICY"] == "same-origin"


def test_the_idle_timeout_is_configurable():
    proc = run_settings(SHOW_SECURITY, DEBUG="1", SESSION_IDLE_TIMEOUT="600")
    assert json.loads(proc.stdout)["SESSION_IDLE_TIMEOUT"] == 600


def test_check_deploy_passes_with_the_readme_production_settings():
    """The README's production settings pass `check --deploy` at warning level (CI runs it)."""
    proc = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_ROOT,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            **PRODUCTION,
            "ALLOWED_HOSTS": "relief.example.org",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_postgres_cursors_are_planned_for_all_their_rows():
    """Every server-side cursor we open (reports, exports) is read to the end."""
    db = parse_database_url("DB_URL", "postgres://h/relief", base_dir=BASE)
    assert db["OPTIONS"]["options"] == "-c cursor_tuple_fraction=1"
    own = parse_database_url(
        "DB_URL", "postgres://h/relief?options=-c%20statement_timeout%3D5000", base_dir=BASE
    )
    assert own["OPTIONS"]["options"] == "-c cursor_tuple_fraction=1 -c statement_timeout=5000"


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_postgres_connection_plans_cursors_for_all_rows():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW cursor_tuple_fraction")
        assert cursor.fetchone()[0] == "1"
