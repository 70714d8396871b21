"""Strict parsing of the environment variables that configure the project.

Every reader names the variable in its error, so a bad deployment stops at start-up with a
message an operator can act on instead of failing later in some request.
"""

import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    """The variable's value, or the content of the file named by NAME_FILE (Docker secrets)."""
    value = os.environ.get(name)
    file_name = os.environ.get(f"{name}_FILE")
    if value is not None and file_name is not None:
        raise ImproperlyConfigured(f"{name}: set either {name} or {name}_FILE, not both")
    if file_name is not None:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_name!r}: {exc}") from exc
    return value


def env_str(name: str, default: str | None = None) -> str | None:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}: expected one of 1/0, true/false, yes/no, on/off, got {value!r}"
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}: must be at least {minimum}, got {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    if not value.strip():
        return []  # "NAME=" in a deployment template means an empty list
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise ImproperlyConfigured(f"{name}: empty entry in comma-separated list {value!r}")
    return items


def env_path(name: str, default: Path) -> Path:
    value = _raw(name)
    if value is None:
        return default
    path = Path(value)
    if not path.is_absolute():
        raise ImproperlyConfigured(f"{name}: expected an absolute path, got {value!r}")
    return path


def parse_database_url(name: str, url: str, *, base_dir: Path) -> dict:
    """Turn sqlite:///path or postgres://user:pass@host:port/db?opt=v into DATABASES['default']."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # sqlite:///relative.db is relative to the project, sqlite:////abs/path.db absolute.
        path = unquote(parts.path)
        if not path or path == "/":
            raise ImproperlyConfigured(f"{name}: sqlite URL needs a file path, got {url!r}")
        file_path = Path(path[1:]) if path.startswith("/") else Path(path)
        if not file_path.is_absolute():
            file_path = base_dir / file_path
        return {
            "ENGINE": "config.db.sqlite3",
            "NAME": file_path,
            "OPTIONS": sqlite_options(),
        }
    if scheme in {"postgres", "postgresql", "pgsql"}:
        db_name = unquote(parts.path.lstrip("/"))
        if not db_name:
            raise ImproperlyConfigured(f"{name}: PostgreSQL URL needs a database name: {url!r}")
        try:
            port = parts.port
        except ValueError:
            raise ImproperlyConfigured(f"{name}: invalid port in {url!r}") from None
        options: dict = {"pool": {"min_size": 1, "max_size": 10, "timeout": 10}}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key == "pool":
                if value.lower() in _FALSE:
                    options.pop("pool", None)
                elif value.lower() not in _TRUE:
                    raise ImproperlyConfigured(f"{name}: pool must be true or false, got {value!r}")
            else:
                options[key] = value
        # Django opens server-side cursors only for .iterator(), and every one of ours (reports,
        # exports, checks) reads to the end: plan them for all their rows, not for the first
        # 10% (PostgreSQL's default), which chose a nested loop over every union that took
        # 4.4 s instead of 0.75 s for a district's year of payouts (bench/RESULTS.md, scale).
        options["options"] = " ".join(
            ["-c cursor_tuple_fraction=1", *filter(None, [options.get("options")])]
        )
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": db_name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            "OPTIONS": options,
            # The psycopg pool keeps connections itself; Django must not also hold them open.
            "CONN_MAX_AGE": 0,
            # With the pool, Django 5.2 passes ConnectionPool.check_connection to it: a pooled
            # connection a PostgreSQL restart broke is found and replaced before a request
            # gets it (issue 12), instead of failing that request.
            "CONN_HEALTH_CHECKS": True,
        }
    raise ImproperlyConfigured(
        f"{name}: unsupported scheme {parts.scheme!r}; use sqlite:///FILE or postgres://..."
    )


def sqlite_options() -> dict:
    # IMMEDIATE takes the write lock at BEGIN, so concurrent write transactions queue up
    # (within the timeout) instead of failing half-way with "database is locked".
    return {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
