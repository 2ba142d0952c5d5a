"""Beat's health check reads the schedule file a real beat writes."""

from __future__ import annotations

import os
import time

from scripts.beat_alive import main, schedule_age
from tests.worker_process import BeatProcess


def test_a_running_beat_is_alive_and_a_silent_one_is_not(tmp_path, redis_server, capsys):
    schedule = tmp_path / "schedule"  # BeatProcess's --schedule
    assert main([str(schedule)]) == 1  # nothing written yet
    # Its own database: the maintenance tasks it sends reach no test's worker.
    redis_url = os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/7"
    beat = BeatProcess(tmp_path, env={"REDIS_URL": redis_url}).start()
    try:
        deadline = time.monotonic() + 30
        while main([str(schedule)]) != 0:
            assert beat.process.poll() is None, beat.log_path.read_text()
            assert time.monotonic() < deadline, beat.log_path.read_text()
            time.sleep(0.2)
    finally:
        beat.stop()

    # The same files, as a hung beat would leave them: unchanged for longer than --max-age.
    written = [schedule, *tmp_path.glob("schedule.*")]
    old = time.time() - 600
    for path in written:
        if path.is_file():
            os.utime(path, (old, old))
    capsys.readouterr()
    assert main([str(schedule), "--max-age", "540"]) == 1
    assert "600 s ago" in capsys.readouterr().err
    assert main([str(schedule), "--max-age", "700"]) == 0


def test_only_the_schedule_and_its_dbm_files_count(tmp_path):
    (tmp_path / "schedule-other").write_text("")  # another file beside it is not beat's
    assert schedule_age(tmp_path / "schedule") is None
    (tmp_path / "schedule.dat").write_text("")
    assert 0 <= schedule_age(tmp_path / "schedule") < 60
