"""Attachments and reports in an S3 bucket: moto's S3 server on 127.0.0.1 (the S3 protocol
over HTTP, like a MinIO next to the app; no network), one server for the session and a new
bucket for each test. The storage is configured the way production is, from the environment
variables (config.storage), with a path-style endpoint as for MinIO."""

import uuid

import boto3
import pytest
from moto.server import ThreadedMotoServer

from config.storage import S3_BACKEND, default_storage_from_env

# Fixtures of the neighbouring suites, used here with the bucket.
from tests.backups.conftest import empty_database, media, populated  # noqa: F401
from tests.reports.conftest import payouts  # noqa: F401


@pytest.fixture(scope="session")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_client(s3_endpoint):
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def bucket(s3_endpoint, s3_client, settings, monkeypatch, tmp_path):
    """A fresh private bucket, and STORAGES['default'] pointing at it (MEDIA_STORAGE=s3).

    MEDIA_ROOT points at an empty folder that must stay empty: nothing is written locally."""
    name = f"relief-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    for key, value in {
        "MEDIA_STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": name,
        "AWS_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_S3_ADDRESSING_STYLE": "path",
    }.items():
        monkeypatch.setenv(key, value)
    default = default_storage_from_env()
    assert default["BACKEND"] == S3_BACKEND
    settings.STORAGES = {**settings.STORAGES, "default": default}
    settings.MEDIA_ROOT = tmp_path / "local-media"
    settings.MEDIA_ROOT.mkdir()
    yield name
    # Empty and remove it (keys are few).
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=name):
        for entry in page.get("Contents", ()):
            s3_client.delete_object(Bucket=name, Key=entry["Key"])
    s3_client.delete_bucket(Bucket=name)


@pytest.fixture
def keys(s3_client, bucket):
    """The bucket's keys now, sorted (a function: call it after the step)."""

    def list_keys(prefix: str = "") -> list[str]:
        found = []
        for page in s3_client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix
        ):
            found += [entry["Key"] for entry in page.get("Contents", ())]
        return sorted(found)

    return list_keys
