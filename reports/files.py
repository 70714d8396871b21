"""Generated report files, kept through Django's storage API (a folder or an S3 bucket).

A job's file is named `reports/<job id>.<extension>` in `default_storage` (config/storage.py):
MEDIA_ROOT/reports/... on the local default, an object key in the bucket otherwise. No URL
serves it: the job's download view streams it to the user who asked for it.

The renderers (reports.pdf, reports.exports) write to a local file; `rendered_into` gives them
one and stores it under the job's name only when it is whole, so a half-written report is never
found. On the local default the work file sits beside its final place and is moved there
(a rename, no copy); for S3 it is a temporary file uploaded in parts and then removed.
"""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone

from config.storage import is_local

FOLDER = "reports"


def storage():
    return default_storage


def name_for(job) -> str:
    return f"{FOLDER}/{job.pk}.{job.extension}"


class _WorkFile(File):
    """The rendered local file; FileSystemStorage moves it into place (temporary_file_path)."""

    def temporary_file_path(self) -> str:
        return self.file.name


@contextmanager
def rendered_into(name: str) -> Iterator[Path]:
    """A local path to render into; on success its content is stored under `name`."""
    target = storage()
    work_dir = None
    if is_local(target):
        work_dir = Path(target.path(FOLDER))
        work_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".part", dir=work_dir)
    os.close(fd)
    work = Path(tmp)
    try:
        yield work
        target.delete(name)  # a job run again replaces its earlier file
        with open(work, "rb") as fh:
            saved = target.save(name, _WorkFile(fh, name=str(work)))
        if saved != name:  # another writer got there in between: not ours to keep
            target.delete(saved)
            raise FileExistsError(name)
    finally:
        work.unlink(missing_ok=True)


def exists(name: str) -> bool:
    return storage().exists(name)


def delete(name: str) -> None:
    storage().delete(name)


def purge(days: int, *, now=None) -> tuple[int, int]:
    """Delete finished or failed jobs asked for more than `days` ago, with their files, and any
    file under reports/ that no job owns and that is as old (work files of a killed worker).

    Returns (jobs deleted, files deleted). Works through the storage, so on S3 too.
    """
    from reports.models import JobStatus, ReportJob

    now = now or timezone.now()
    limit = now - timedelta(days=days)
    target = storage()
    files = 0
    old = ReportJob.objects.filter(
        created_at__lt=limit, status__in=[JobStatus.DONE, JobStatus.FAILED]
    )
    jobs = 0
    for job in old.iterator():
        name = name_for(job)
        if target.exists(name):
            target.delete(name)
            files += 1
        job.delete()
        jobs += 1
    live = {name_for(job) for job in ReportJob.objects.only("pk", "params")}
    try:
        _dirs, names = target.listdir(FOLDER)
    except FileNotFoundError:  # no report was ever written
        names = []
    for file_name in names:
        name = f"{FOLDER}/{file_name}"
        if name in live:
            continue
        try:
            modified = target.get_modified_time(name)
        except FileNotFoundError:
            continue
        if modified < limit:
            target.delete(name)
            files += 1
    return jobs, files
