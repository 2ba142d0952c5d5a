"""The `tts` command through Typer's test runner against the running service: login, a
Markdown script spoken with its progress shown, the listings, and every exit code."""

from __future__ import annotations

import json
import os
import re
import stat

import httpx
import pytest
from tts_client import AuthError, TTSClient

from tests.client.test_sync_client import RACHEL, seconds_of
from utils.embedded_redis import free_port

SCRIPT = """# The Harbour

The harbour was quiet before dawn.

Gulls circled the *masts* of the [fishing boats](https://example.com).
"""


def test_login_then_a_markdown_script_spoken_with_progress(service_url, tts, tmp_path):
    code, out, _ = tts("login", "--url", service_url, "--username", "alice", "--password",
                       "alice-password")  # fmt: skip
    assert code == 0, out
    stored = json.loads(tts.config.read_text())
    assert stored["url"] == service_url and stored["api_key"].startswith("tts_sk_")
    assert "alice-password" not in tts.config.read_text()
    assert stat.S_IMODE(os.stat(tts.config).st_mode) == 0o600
    first_key = stored["api_key"]
    again = tts("login", "--url", service_url, "--username", "alice", input="alice-password\n")
    assert again[0] == 0  # the password asked for, not echoed
    with pytest.raises(AuthError):  # a new login revokes the key of the one before
        TTSClient(service_url, api_key=first_key).jobs()

    script = tmp_path / "harbour.md"
    script.write_text(SCRIPT)
    output = str(tmp_path / "harbour.mp3")
    code, out, err = tts("synth", str(script), "-o", output, "--pause", "300")
    assert code == 0, err
    assert out.strip() == str(tmp_path / "harbour.mp3")
    # the line that names the job (the served API shares this process: its log lines land in
    # the same captured stderr)
    job_id = re.search(r"^job ([0-9a-f-]{36})", err, re.M).group(1)
    assert "done    block 0 of 3" in err and "done    block 2 of 3" in err
    assert "completed" in err and "3/3 blocks" in err  # the bar, as it ends
    assert 2 < seconds_of((tmp_path / "harbour.mp3").read_bytes()) < 15

    code, out, err = tts("status", job_id, "--json")
    assert out, (code, err)
    body = json.loads(out)
    assert code == 0 and body["status"] == "completed" and body["progress"] == "3/3"
    # the heading is a block of its own that opens the chapter; Markdown marks dropped
    key = json.loads(tts.config.read_text())["api_key"]
    with TTSClient(service_url, api_key=key) as c:
        assert c.block_field("chapter") == "string"
    result = httpx.get(f"{service_url}/result/{job_id}", headers={"Authorization": f"Bearer {key}"})
    chapters, blocks = result.json()["chapters"], result.json()["blocks"]
    assert [ch["title"] for ch in chapters] == ["The Harbour"]
    assert chapters[0]["start_ms"] == blocks[0]["start_ms"]
    code, out, _ = tts("status", job_id)
    assert code == 0 and f"{job_id}  completed  3/3 blocks" in out
    code, out, _ = tts("jobs")  # the only job: its id's first group tells it apart
    assert code == 0 and f" {job_id[:8]} " in out and job_id not in out
    code, out, _ = tts("download", job_id, "-o", str(tmp_path / "again.mp3"))
    assert code == 0
    assert (tmp_path / "again.mp3").read_bytes() == (tmp_path / "harbour.mp3").read_bytes()
    code, out, _ = tts("voices")
    assert code == 0 and "piper" in out
    code, out, _ = tts("voices", "piper")
    assert code == 0 and "en_US-joe-medium" in out


def test_exit_codes_scripts_can_rely_on(service_url, tts, simulator, tmp_path):
    env = {"TTS_URL": service_url}
    # 3: not logged in, a bad password, a bad key
    assert tts("jobs", **env)[0] == 3
    code, _, err = tts("login", "--url", service_url, "--username", "bob", "--password", "no")
    assert code == 3 and "wrong username or password" in err
    assert tts("jobs", TTS_API_KEY="tts_sk_not-a-key", **env)[0] == 3
    assert tts("login", "--url", service_url, "--username", "bob", "--password",
               "bob-password")[0] == 0  # fmt: skip
    # 4: a job nobody has
    code, _, err = tts("status", "00000000-0000-4000-8000-000000000000")
    assert code == 4 and "error: " in err and "not found" in err
    # 2: refused by the service (422), each field named; the script from standard input
    code, _, err = tts("synth", "-", "--speed", "9", "--voice", "nobody", input="Hi.\n\nThere.")
    assert code == 2
    assert "error: the service refused the request:" in err
    assert "blocks[0].speed" in err and "blocks[1].voice" in err
    # 5: nothing answers
    assert tts("jobs", "--url", f"http://127.0.0.1:{free_port()}")[0] == 5
    # 1: the job failed; retried, it fails again; its audio is not there to download
    simulator.fault(401, times=10, path="/v1/text-to-speech", message="invalid api key")
    code, _, err = tts("synth", "-", "--provider", "elevenlabs", "--voice", RACHEL,
                       "-o", str(tmp_path / "never.mp3"), input="Refused.")  # fmt: skip
    assert code == 1
    assert "failed  block 0 of 1: elevenlabs: HTTP 401: invalid api key" in err
    assert "job failed: block 0: elevenlabs: HTTP 401" in err
    assert not (tmp_path / "never.mp3").exists()
    job_id = re.search(r"^job ([0-9a-f-]{36})", err, re.M).group(1)
    assert tts("status", job_id)[0] == 1
    code, _, err = tts("retry", job_id)
    assert code == 1 and "retrying blocks [0]" in err
    code, _, err = tts("download", job_id, "-o", str(tmp_path / "never.mp3"))
    assert code == 1 and "not completed" in err


def test_errors_are_styled_text_never_raw_markup(tts):
    """Errors print through Rich as text: in a pipe (as here) the label is a plain "error:",
    and brackets in a message ([red] typed by a user, blocks[0] from the service) reach the
    reader as they are. The service's own refusals: test_exit_codes_scripts_can_rely_on."""
    env = {"TTS_URL": f"http://127.0.0.1:{free_port()}"}
    outputs = [
        tts("jobs", **env),  # not logged in
        tts("jobs", TTS_API_KEY="tts_sk_x", **env),
        tts("status", "[red]x[/]", TTS_API_KEY="tts_sk_x", **env),  # refused before asking
        tts("synth", "/no/such/[bold]file", TTS_API_KEY="tts_sk_x", **env),
    ]
    assert [code for code, _, _ in outputs] == [3, 5, 4, 2]
    for _, _, err in outputs:
        assert err.startswith("error: ") and "\x1b[" not in err
    assert "'[red]x[/]'" in outputs[2][2] and "[bold]file" in outputs[3][2]
    assert all("[red]error" not in err for _, _, err in outputs)
