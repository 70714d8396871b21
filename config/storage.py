"""Where attachments and generated reports are kept: a folder (default) or an S3 bucket.

`MEDIA_STORAGE=local` (the default): files under MEDIA_ROOT (FileSystemStorage), as always.
`MEDIA_STORAGE=s3`: an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, a cloud's OSS/COS in S3
mode) through django-storages (the optional `s3` extra). Objects are private (ACL `private`,
signed requests only); the site never hands out bucket URLs: every download goes through the
app's views, which check the user's scope, write the access log and stream the object from the
bucket (`open_for_download`). The bucket need not be reachable from users' browsers at all.

Everything else (attachments' FileField, reports.files, /healthz, backups) uses Django's storage
API on `default_storage`, so code does not care which one is configured.
"""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_int, env_str

BACKENDS = ("local", "s3")
S3_BACKEND = "storages.backends.s3.S3Storage"


def default_storage_from_env() -> dict:
    """The STORAGES["default"] entry for the MEDIA_STORAGE environment variable."""
    backend = (env_str("MEDIA_STORAGE", default="local") or "local").strip().lower()
    if backend not in BACKENDS:
        raise ImproperlyConfigured(
            f"MEDIA_STORAGE: expected one of {', '.join(BACKENDS)}, got {backend!r}"
        )
    if backend == "local":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    return {"BACKEND": S3_BACKEND, "OPTIONS": s3_options()}


def s3_options() -> dict:
    try:
        from botocore.config import Config
    except ImportError:
        raise ImproperlyConfigured(
            "MEDIA_STORAGE=s3 needs django-storages and boto3: "
            'pip install -c requirements.lock -e ".[prod,s3]"'
        ) from None
    bucket = env_str("AWS_STORAGE_BUCKET_NAME")
    if not bucket:
        raise ImproperlyConfigured("MEDIA_STORAGE=s3: set AWS_STORAGE_BUCKET_NAME")
    addressing = env_str("AWS_S3_ADDRESSING_STYLE", default="auto")
    if addressing not in ("auto", "path", "virtual"):
        raise ImproperlyConfigured(
            f"AWS_S3_ADDRESSING_STYLE: expected auto, path or virtual, got {addressing!r}"
        )
    return {
        "bucket_name": bucket,
        # MinIO or another S3-compatible service; empty for AWS itself.
        "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
        "region_name": env_str("AWS_S3_REGION_NAME") or None,
        # Without keys boto3 looks further (its config files, an instance role).
        # AWS_ACCESS_KEY_ID_FILE / AWS_SECRET_ACCESS_KEY_FILE read them from files (secrets).
        "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
        "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
        "addressing_style": None if addressing == "auto" else addressing,
        "signature_version": "s3v4",
        # A prefix inside the bucket, when the bucket is shared ("relief/" keeps to it).
        "location": (env_str("AWS_LOCATION") or "").strip("/"),
        # Personal data: private objects, never a public or unsigned URL, and never replace an
        # object by saving another under its name (names are random anyway).
        "default_acl": "private",
        "querystring_auth": True,
        "querystring_expire": 60,
        "file_overwrite": False,
        # A file read through storage.open() (not the download views, which stream) spills to
        # a temporary file above 5 MB instead of being held in memory whole.
        "max_memory_size": 5 * 1024 * 1024,
        # Fail fast when the bucket is unreachable (a page, /healthz) instead of boto3's 60 s.
        "client_config": Config(
            connect_timeout=env_int("AWS_S3_CONNECT_TIMEOUT", default=5, minimum=1),
            read_timeout=env_int("AWS_S3_READ_TIMEOUT", default=60, minimum=1),
            retries={"max_attempts": 3, "mode": "standard"},
            # The SDK's default since 2025 adds CRC checksums that several S3-compatible
            # servers (older MinIO and Ceph) reject; send them only where S3 requires them.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    }


def is_local(storage) -> bool:
    from django.core.files.storage import FileSystemStorage

    return isinstance(storage, FileSystemStorage)


def describe(storage) -> str:
    """`local` or `s3:BUCKET` (for messages to operators; never shown on /healthz)."""
    if is_local(storage):
        return "local"
    return f"s3:{getattr(storage, 'bucket_name', '?')}"


class ObjectStream:
    """An S3 object's body read as it arrives (for FileResponse): no temporary copy first."""

    def __init__(self, body, size: int):
        self._body = body
        self.size = size

    def read(self, amount: int = -1) -> bytes:
        return self._body.read(None if amount is None or amount < 0 else amount)

    def close(self) -> None:
        self._body.close()


def open_for_download(storage, name: str):
    """A file-like object for FileResponse; FileNotFoundError when the file is not there.

    A local file is opened as it is. An S3 object is streamed from the bucket in chunks (its
    body), so a large report starts to reach the user at once and never fills the app
    server's memory or disk; django-storages' own S3File would download it whole first.
    """
    handle = storage.open(name, "rb")  # both backends: FileNotFoundError when missing
    obj = getattr(handle, "obj", None)  # an S3File, already checked to exist (HEAD)
    if obj is None:
        return handle
    return ObjectStream(obj.get()["Body"], obj.content_length)


def file_response(handle, **kwargs):
    """FileResponse for `open_for_download`'s result, with Content-Length for a stream too."""
    from django.http import FileResponse

    response = FileResponse(handle, **kwargs)
    size = getattr(handle, "size", None)
    if "Content-Length" not in response and isinstance(size, int):
        response["Content-Length"] = str(size)
    return response
