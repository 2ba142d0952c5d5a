"""`python -m scripts.beat`, the documented beat command, in a checkout whose DATA_DIR is
elsewhere and does not exist yet: beat makes the folder and keeps its schedule there."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from config import PROJECT_ROOT
from scripts.beat_alive import main as beat_alive

DOCS = PROJECT_ROOT / "docs" / "deployment.md"


def test_beat_keeps_its_schedule_in_a_data_dir_it_makes(tmp_path):
    data_dir = tmp_path / "elsewhere" / "data"  # neither folder exists
    # Its own database: the maintenance tasks it sends reach no test's worker.
    redis_url = os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/7"
    env = {**os.environ, "DATA_DIR": str(data_dir), "REDIS_URL": redis_url}
    log = tmp_path / "beat.log"
    with log.open("wb") as out:
        beat = subprocess.Popen(
            [sys.executable, "-m", "scripts.beat"],
            cwd=tmp_path,  # not the checkout: nothing is found relative to the working folder
            env={**env, "PYTHONPATH": str(PROJECT_ROOT)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while beat_alive([str(data_dir / "celerybeat-schedule")]) != 0:
            assert beat.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    finally:
        beat.terminate()
        beat.wait(20)
    assert "FileNotFoundError" not in log.read_text()


def test_the_docs_start_beat_with_the_command_that_makes_its_folder():
    text = DOCS.read_text()
    assert "python -m scripts.beat" in text
    assert "--schedule ./data" not in text
