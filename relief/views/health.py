"""/healthz for the load balancer and monitoring: no login, no personal data, JSON.

200 when every check passes, 503 when one fails; each check reports ok and a short detail.
- database: a `SELECT 1` on the default connection;
- migrations: no migration on disk is unapplied (a deploy that forgot `migrate`);
- media: the storage of attachments and reports (config/storage.py) takes a write: on the local
  default a file is created and removed in MEDIA_ROOT (never creating the folder: a missing one
  is a missing mount); on S3 a small object is written under `.healthz/` and deleted again
  (bucket missing, keys refused, endpoint unreachable all fail, with the S3 error code only);
- worker: the background worker (`manage.py db_worker`, django-tasks) is taken to be alive
  when no task that was due has waited longer than RELIEF_WORKER_STALE_SECONDS (default 300)
  without being picked up. The worker claims due tasks within its polling interval, so a
  due task left waiting that long means no worker is running. With nothing queued the check
  passes (an idle worker cannot be told from a missing one; the last finished task is shown).
"""

import tempfile
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.storage import is_local
from relief.middleware import DATABASE_DOWN

_migrations_ok = False  # once all are applied they stay applied for this process


def check_database() -> dict:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def check_migrations() -> dict:
    global _migrations_ok
    if not _migrations_ok:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            return {"ok": False, "unapplied": len(plan)}
        _migrations_ok = True
    return {"ok": True}


def check_media() -> dict:
    storage = default_storage
    if is_local(storage):
        try:
            with tempfile.NamedTemporaryFile(dir=storage.location, prefix=".healthz-"):
                pass
        except OSError as exc:
            return {"ok": False, "storage": "local", "error": exc.strerror or type(exc).__name__}
        return {"ok": True, "storage": "local"}
    try:
        name = storage.save(f".healthz/{uuid.uuid4().hex}", ContentFile(b"ok"))
        storage.delete(name)
    except Exception as exc:  # botocore's ClientError, EndpointConnectionError, ...
        return {"ok": False, "storage": "s3", "error": _s3_error(exc)}
    return {"ok": True, "storage": "s3"}


def _s3_error(exc: Exception) -> str:
    """The S3 error code (NoSuchBucket, AccessDenied, ...) or the exception's class: nothing
    that names the bucket, the endpoint or a key (the page is public)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__


def check_worker() -> dict:
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    stale_after = int(getattr(settings, "RELIEF_WORKER_STALE_SECONDS", 300))
    oldest_due = (
        DBTaskResult.objects.filter(status=TaskResultStatus.READY, run_after__lte=now)
        .order_by("run_after")
        .values_list("run_after", flat=True)
        .first()
    )
    last_finished = (
        DBTaskResult.objects.exclude(finished_at=None)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    waited = int((now - oldest_due).total_seconds()) if oldest_due else 0
    return {
        "ok": waited <= stale_after,
        "oldest_due_waiting_seconds": waited,
        "last_finished_at": last_finished.isoformat() if last_finished else None,
    }


CHECKS = {
    "database": check_database,
    "migrations": check_migrations,
    "media": check_media,
    "worker": check_worker,
}


@never_cache
@require_GET
def healthz(request):
    results = {}
    for name, check in CHECKS.items():
        if name != "database" and not results.get("database", {}).get("ok", True):
            results[name] = {"ok": False, "skipped": "database unreachable"}
            continue
        try:
            results[name] = check()
        except DATABASE_DOWN as exc:
            results[name] = {"ok": False, "error": type(exc).__name__}
    ok = all(result["ok"] for result in results.values())
    return JsonResponse(
        {"status": "ok" if ok else "fail", "checks": results}, status=200 if ok else 503
    )
