"""An S3-compatible object store for tests: moto's server over real HTTP, with one bucket."""

from __future__ import annotations

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.ops.processes import free_port

BUCKET = "court-files"
CREDENTIALS = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, **CREDENTIALS).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


def s3_settings(endpoint: str) -> dict:
    """The settings that point the app's storage at ``endpoint``."""
    return {"storage_backend": "s3", "s3_endpoint": endpoint, "s3_bucket": BUCKET, "s3_region": "us-east-1",
            "s3_access_key": "testing", "s3_secret_key": "testing"}


def s3_client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, **CREDENTIALS)
