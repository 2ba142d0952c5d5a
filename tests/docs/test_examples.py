"""Every runnable example of README.md and docs/*.md, run against a live service.

The service is the one `make run` starts (scripts/run.py: the bundled Redis, the API under
uvicorn, both worker pools and beat) on free ports, once for the module. Each page's examples
run in order in a directory of their own, as a reader pastes them into one terminal: a shell
example sees the variables the page's earlier shell examples set ($TOKEN, $JOB). Each must exit
0, and every file it says it writes (curl -o, stream_to_file, ...) must exist and not be empty.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.examples import ROOT, Example, examples, pages, stray_markers
from tests.scripts.run_process import ADMIN_PASSWORD, RunCommand, run_env

pytestmark = pytest.mark.pipeline

EXAMPLE_TIMEOUT_S = 180
RUNNABLE = {
    str(page.relative_to(ROOT)): [e for e in examples(page) if e.not_run is None]
    for page in pages()
}
PAGES_WITH_EXAMPLES = [page for page, found in RUNNABLE.items() if found]

# Runs one shell example in a fresh bash: the variables earlier examples of the page defined
# come from the state file, and the ones this example defines are written back to it.
SHELL_PRELUDE = """\
__before=$(compgen -v | sort)
if [ -f "$EXAMPLE_STATE" ]; then source "$EXAMPLE_STATE"; fi
set -eo pipefail
"""
SHELL_EPILOGUE = """
set +e
__names=$(comm -13 <(printf '%s\\n' "$__before") <(compgen -v | sort) \\
  | grep -E '^[A-Za-z][A-Za-z0-9_]*$' | grep -vE '^(BASH|FUNCNAME|PIPESTATUS|COMP_)')
if [ -n "$__names" ]; then declare -p $__names > "$EXAMPLE_STATE"; fi
"""


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("examples-service")
    env = run_env(
        tmp,
        # The webhook receiver example listens on loopback, which the docs say to allow.
        WEBHOOK_ALLOWED_HOSTS="127.0.0.1",
        # Every page logs in afresh, faster than a reader would: not the limit under test.
        RATE_LIMIT_TOKEN="1000/minute",
        # The origin docs/browser-apps.md's pre-flight example comes from.
        CORS_ALLOW_ORIGINS="http://localhost:5173",
    )
    run = RunCommand(env, tmp / "run.log").start()
    try:
        yield run.wait_ready()
    finally:
        run.stop()


def test_not_run_markers_stand_before_a_fence_and_give_a_reason():
    stray = {str(p.relative_to(ROOT)): stray_markers(p) for p in pages()}
    assert not {page: lines for page, lines in stray.items() if lines}


def test_the_readme_worked_example_is_run():
    readme = RUNNABLE["README.md"]
    assert any("/result/$JOB/audio" in e.code and "/token" in e.code for e in readme), readme


@pytest.mark.parametrize("page", PAGES_WITH_EXAMPLES)
def test_examples_of_the_page_run(service, page, tmp_path):
    os.symlink(Path(sys.executable).parent.parent, tmp_path / ".venv")  # `.venv/bin/tts`
    (tmp_path / ".env").write_text(f"ADMIN_PASSWORD={ADMIN_PASSWORD}\n")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TTS_")},
        "TTS_URL": service.base_url,
        "WYOMING_PORT": service.env["WYOMING_PORT"],  # the Wyoming server `make run` started
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "HOME": str(tmp_path),  # `tts login` and friends keep their files here
        "EXAMPLE_STATE": str(tmp_path / ".example-state.sh"),
    }
    for example in RUNNABLE[page]:
        _run(example, tmp_path, env, service)


def _run(example: Example, cwd: Path, env: dict[str, str], service) -> None:
    if example.language == "bash":
        command = ["bash", "-c", SHELL_PRELUDE + example.code + SHELL_EPILOGUE]
    else:
        script = cwd / f"example_{example.line}.py"
        script.write_text(example.code)
        command = [sys.executable, script.name]
    try:
        result = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=EXAMPLE_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(
            f"{example.where}: still running after {EXAMPLE_TIMEOUT_S} s\n{example.code}\n"
            f"stdout: {exc.stdout}\nstderr: {exc.stderr}\nservice log:\n{service.log()[-3000:]}"
        ) from None
    assert result.returncode == 0, (
        f"{example.where}: exit {result.returncode}\n{example.code}\n"
        f"stdout: {result.stdout[-3000:]}\nstderr: {result.stderr[-3000:]}\n"
        f"service log:\n{service.log()[-3000:]}"
    )
    for name in example.outputs():
        written = cwd / name
        assert written.is_file() and written.stat().st_size > 0, (
            f"{example.where}: {name} was not written (or is empty)\n{example.code}"
        )
