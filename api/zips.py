"""All of a job's blocks in one zip, named in order and by the client's own ids.

Encoded audio does not compress further (and WAV or PCM blocks are short), so the blocks are
stored, not deflated: building the zip costs a copy, and it is written to a scratch file (never
held in memory) that is deleted once sent.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from utils.errors import NotFound, ObjectNotFound
from utils.jobs.models import JobRecord
from utils.storage.base import Storage

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def member_name(index: int, client_id: str | None, extension: str = "mp3") -> str:
    """`0003-intro.mp3`: sorts in block order, and carries the client's id where it gave one."""
    label = _UNSAFE.sub("_", client_id).strip("._")[:100] if client_id else ""
    return f"{index:04d}-{label or 'block'}.{extension}"


def write_blocks_zip(job: JobRecord, storage: Storage, scratch: Path) -> Path:
    scratch.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=scratch, prefix=f"blocks-{job.id}-", suffix=".zip")
    path = Path(name)
    try:
        with open(fd, "wb") as out_file, zipfile.ZipFile(out_file, "w") as archive:
            for block in job.blocks:
                extension = block.storage_key.rsplit(".", 1)[-1]  # the job's format's
                name = member_name(block.index, block.spec.client_id, extension)
                with storage.open(block.storage_key) as source, archive.open(name, "w") as out:
                    shutil.copyfileobj(source, out, 256 * 1024)
    except ObjectNotFound:
        path.unlink(missing_ok=True)
        raise NotFound(f"the blocks of job {job.id} are no longer stored (purged)") from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
