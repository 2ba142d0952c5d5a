"""A real S3 endpoint on loopback for tests: moto's server mode (an HTTP server in a thread
of the test process), reached by boto3 over HTTP as AWS or MinIO would be. Worker processes
reach it the same way, through the environment from `s3_env`."""

from __future__ import annotations

import logging
import uuid

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

ACCESS_KEY_ID = "AKIATESTS3ACCESSKEY0"
SECRET_ACCESS_KEY = "s3-test-secret-0123456789abcdefghijklmn"
REGION = "us-east-1"


class S3Server:
    def __init__(self):
        # moto logs each request through werkzeug: a line per block, nothing a test reads
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)

    def start(self) -> S3Server:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.stop()

    def client(self):
        """A plain boto3 client, for a test to look behind the backend's back."""
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def new_bucket(self) -> str:
        """A private bucket of a test's own."""
        name = f"tts-test-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def env(self, bucket: str) -> dict[str, str]:
        """The service's settings for this bucket, as environment variables."""
        return {
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": bucket,
            "S3_ENDPOINT_URL": self.url,
            "S3_REGION": REGION,
            "S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "S3_PATH_STYLE": "true",
        }
