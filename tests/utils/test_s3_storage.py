"""S3 storage through the real boto3, against a real S3 endpoint on loopback (moto's server).

moto checks neither a presigned URL's expiry nor its signature (measured: a URL past its
X-Amz-Expires, and one with its signature altered, both still answer 200), so expiry is
checked here by what the URL carries: the TTL it was signed for, the signing time and the
signed headers, with the secret nowhere in it. moto does refuse a request with no signature
at all (403), which is what shows the objects are private.
"""

from __future__ import annotations

import io
import os
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from boto3.s3.transfer import TransferConfig
from pydantic import SecretStr, ValidationError

from config import Settings
from settings.storage import S3Settings, StorageSettings
from tests.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY
from utils.errors import ObjectNotFound, StorageError
from utils.storage import s3
from utils.storage.factory import build_storage
from utils.storage.s3 import S3Storage

TTL = 900


def settings_for(s3_server, bucket: str, **extra) -> StorageSettings:
    s3 = S3Settings(
        _env_file=None,
        **{
            "bucket": bucket,
            "endpoint_url": s3_server.url,
            "region": REGION,
            "access_key_id": SecretStr(ACCESS_KEY_ID),
            "secret_access_key": SecretStr(SECRET_ACCESS_KEY),
            "presign_ttl": TTL,
            "path_style": True,
            **extra,
        },
    )
    return StorageSettings(backend="s3", root=None, scratch_dir=None, s3=s3)


@pytest.fixture
def bucket(s3_server):
    return s3_server.new_bucket()


@pytest.fixture
def storage(s3_server, bucket):
    built = build_storage(settings_for(s3_server, bucket))
    assert isinstance(built, S3Storage)
    return built


def test_objects_are_private_under_the_prefix_and_typed(s3_server, bucket, storage):
    storage.put_bytes("jobs/abc/block_0000.mp3", b"frames")
    raw = s3_server.client()
    head = raw.head_object(Bucket=bucket, Key="tts/jobs/abc/block_0000.mp3")
    assert head["ContentType"] == "audio/mpeg"
    grants = raw.get_object_acl(Bucket=bucket, Key="tts/jobs/abc/block_0000.mp3")["Grants"]
    assert [g["Grantee"].get("URI") for g in grants] == [None]  # the owner alone, no AllUsers
    # without a signature the store refuses it
    assert httpx.get(f"{s3_server.url}/{bucket}/tts/jobs/abc/block_0000.mp3").status_code == 403
    with storage.open("jobs/abc/block_0000.mp3") as handle:
        assert handle.read() == b"frames"


def test_a_presigned_url_fetches_the_bytes_and_carries_its_expiry(s3_server, bucket, storage):
    data = os.urandom(200_000)
    storage.put_bytes("jobs/abc/final.flac", data)
    before = datetime.now(UTC).replace(microsecond=0)
    url = storage.url("jobs/abc/final.flac")
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "audio/flac"
    # and Range, for players that seek, straight from the store
    ranged = httpx.get(url, headers={"Range": "bytes=1000-1999"})
    assert ranged.status_code == 206 and ranged.content == data[1000:2000]

    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Expires"] == str(TTL)
    signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((signed_at - before).total_seconds()) < 60  # expires TTL after now, not later
    assert query["X-Amz-Credential"].startswith(f"{ACCESS_KEY_ID}/")
    assert query["X-Amz-SignedHeaders"] == "host"
    assert len(query["X-Amz-Signature"]) == 64
    assert SECRET_ACCESS_KEY not in url
    # the TTL comes from the settings
    shorter = S3Storage(settings_for(s3_server, bucket, presign_ttl=60))
    assert "X-Amz-Expires=60&" in shorter.url("jobs/abc/final.flac")
    # clients reaching the store at another address get URLs signed for that address
    public = s3_server.url.replace("127.0.0.1", "localhost")
    other = S3Storage(settings_for(s3_server, bucket, public_endpoint_url=public))
    assert other.url("jobs/abc/final.flac").startswith(f"{public}/{bucket}/tts/jobs/abc/")
    assert httpx.get(other.url("jobs/abc/final.flac")).content == data
    other.put_bytes("jobs/abc/other.mp3", b"uploaded at S3_ENDPOINT_URL")


def test_open_streams_and_seeks_with_ranged_reads(storage):
    data = os.urandom(3 * 1024 * 1024 + 17)
    storage.put_bytes("jobs/abc/block_0001.pcm", data)
    with storage.open("jobs/abc/block_0001.pcm") as handle:
        # how the API measures a file before streaming it: no bytes fetched for this
        assert handle.seek(0, os.SEEK_END) == len(data)
        handle.seek(0)
        assert handle.read(10) == data[:10]
        handle.seek(2_000_000)
        assert handle.read(100) == data[2_000_000:2_000_100]
        handle.seek(-7, os.SEEK_END)
        assert handle.read() == data[-7:]
        handle.seek(5)
        rest = io.BytesIO()
        while chunk := handle.read(64 * 1024):
            rest.write(chunk)
        assert rest.getvalue() == data[5:]
    with pytest.raises(ObjectNotFound, match="jobs/abc/nothing.pcm is not in storage"):
        storage.open("jobs/abc/nothing.pcm")


def test_a_large_file_goes_up_in_parts_and_its_scratch_copy_goes(
    s3_server, bucket, storage, tmp_path
):
    # 5 MiB parts (S3's smallest) rather than the 16 MiB of service use, to stay small here
    storage._transfer = TransferConfig(
        multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024
    )
    data = os.urandom(11 * 1024 * 1024)
    path = tmp_path / "final.mp3"
    path.write_bytes(data)
    storage.put_file("jobs/abc/final.mp3", path)
    assert not path.exists()
    head = s3_server.client().head_object(Bucket=bucket, Key="tts/jobs/abc/final.mp3")
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload's ETag: 3 parts
    with storage.open("jobs/abc/final.mp3") as handle:
        assert handle.read() == data


def test_copy_is_server_side_and_a_missing_source_is_not_found(storage):
    storage.put_bytes("cache/ab/abcd.mp3", b"cached audio")
    storage.copy("cache/ab/abcd.mp3", "jobs/xyz/block_0000.mp3")
    with storage.open("jobs/xyz/block_0000.mp3") as handle:
        assert handle.read() == b"cached audio"
    with pytest.raises(ObjectNotFound):
        storage.copy("cache/ab/gone.mp3", "jobs/xyz/block_0001.mp3")


def test_purge_deletes_by_age_under_its_prefix_across_pages(
    s3_server, bucket, storage, monkeypatch
):
    # pages and batches of 1000 in service; small here, so a few objects span several
    monkeypatch.setattr(s3, "LIST_PAGE", 4)
    monkeypatch.setattr(s3, "DELETE_BATCH", 3)
    raw = s3_server.client()
    for i in range(11):
        raw.put_object(Bucket=bucket, Key=f"tts/jobs/j{i // 5}/block_{i:04d}.mp3", Body=b"x")
    storage.put_bytes("cache/ab/abcd.mp3", b"kept: another prefix")
    raw.put_object(Bucket=bucket, Key="elsewhere/jobs/x.mp3", Body=b"not ours")

    assert storage.purge("jobs/", older_than_s=3600) == 0  # all written just now
    assert storage.purge("jobs/", older_than_s=3600, now=time.time() + 7200) == 11
    left = [o["Key"] for o in raw.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert sorted(left) == ["elsewhere/jobs/x.mp3", "tts/cache/ab/abcd.mp3"]


def test_touch_renews_an_object_for_the_age_purge(s3_server, bucket, storage):
    storage.put_bytes("cache/ab/abcd.mp3", b"audio")
    raw = s3_server.client()
    written = raw.head_object(Bucket=bucket, Key="tts/cache/ab/abcd.mp3")["LastModified"]
    time.sleep(1.1)  # LastModified has whole seconds
    storage.touch("cache/ab/abcd.mp3")
    head = raw.head_object(Bucket=bucket, Key="tts/cache/ab/abcd.mp3")
    assert head["LastModified"] > written
    assert head["ContentType"] == "audio/mpeg"  # still typed after the self-copy
    # a purge of what is older than the touch keeps it
    cutoff_age = time.time() - head["LastModified"].timestamp() + 0.5
    assert storage.purge("cache/", older_than_s=cutoff_age) == 0
    storage.touch("cache/ab/gone.mp3")  # purged meanwhile: nothing to renew, no error


def test_errors_name_the_setting_to_check_and_never_a_secret(s3_server, storage, monkeypatch):
    missing = S3Storage(settings_for(s3_server, "no-such-bucket"))
    for action in (
        lambda: missing.put_bytes("jobs/a/b.mp3", b"x"),
        lambda: missing.open("jobs/a/b.mp3"),
        lambda: missing.purge("jobs/", 0),
    ):
        with pytest.raises(StorageError, match="NoSuchBucket: check S3_BUCKET") as caught:
            action()
        assert SECRET_ACCESS_KEY not in str(caught.value)
        assert ACCESS_KEY_ID not in str(caught.value)

    from utils.embedded_redis import free_port

    monkeypatch.setattr(s3, "RETRIES", {"mode": "standard", "max_attempts": 1})  # no backoff
    unreachable = S3Storage(
        settings_for(s3_server, "any-bucket", endpoint_url=f"http://127.0.0.1:{free_port()}")
    )
    with pytest.raises(StorageError, match="EndpointConnectionError") as caught:
        unreachable.put_bytes("jobs/a/b.mp3", b"x")
    assert SECRET_ACCESS_KEY not in str(caught.value)
    with pytest.raises(StorageError, match="key outside storage"):
        storage.put_bytes("../escape.mp3", b"x")


def test_settings_refuse_s3_without_a_bucket_and_half_a_key_pair(s3_server):
    with pytest.raises(ValidationError, match="STORAGE_BACKEND=s3 needs S3_BUCKET"):
        Settings(STORAGE_BACKEND="s3", S3_BUCKET="")
    with pytest.raises(ValidationError, match="S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go"):
        Settings(STORAGE_BACKEND="s3", S3_BUCKET="b-1", S3_ACCESS_KEY_ID="AKIA")
    for name in ("S3_ENDPOINT_URL", "S3_PUBLIC_ENDPOINT_URL"):
        with pytest.raises(ValidationError, match=name):
            Settings(STORAGE_BACKEND="s3", S3_BUCKET="b-1", **{name: "minio:9000"})
    with pytest.raises(ValidationError, match="S3_PRESIGN_TTL"):
        Settings(STORAGE_BACKEND="s3", S3_BUCKET="b-1", S3_PRESIGN_TTL=8 * 24 * 3600)
    # S3_BUCKET alone chooses s3 when STORAGE_BACKEND is unset; no keys: boto3's own chain
    chosen = Settings(STORAGE_BACKEND=None, S3_BUCKET="b-1", S3_ACCESS_KEY_ID="").storage
    assert (chosen.backend, chosen.s3.bucket, chosen.s3.access_key_id) == ("s3", "b-1", None)
