"""The tests' local Hugging Face Hub (simulator/hub.py) and what it serves:

onnx-community/Kokoro-82M-v1.0-ONNX   the real Kokoro-82M repository (simulator/kokoro_repo.py),
                                      92 MB of model, built once per session
test-org/tiny-tts                     a small made-up repository in the same layout
test-org/gated-tts                    the same, gated: its files need GATED_TOKEN
test-org/text-model                   not a text-to-speech model (search leaves it out)
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

from settings.hub import HubAccess
from simulator import kokoro_repo
from simulator.hub import HubMirror

KOKORO = kokoro_repo.REPO_ID
TINY = "test-org/tiny-tts"
GATED = "test-org/gated-tts"
TEXT = "test-org/text-model"
GATED_TOKEN = "hf_testGatedToken0123456789abcdefXYZ"
# The files a Kokoro engine asks for.
PATTERNS = ["config.json", "tokenizer.json", "onnx/model_quantized.onnx", "voices/*.bin"]
MODEL = "onnx/model_quantized.onnx"


def build_small(directory: Path, seed: int) -> Path:
    """A repository of a few KB in Kokoro's layout, plus a README nobody asks for."""
    rng = random.Random(seed)
    (directory / "onnx").mkdir(parents=True, exist_ok=True)
    (directory / "voices").mkdir(exist_ok=True)
    (directory / "config.json").write_text(json.dumps({"model_type": "test", "seed": seed}))
    (directory / "tokenizer.json").write_text(json.dumps({"model": {"vocab": {"a": 1}}}))
    (directory / "README.md").write_text("# A made-up model\n")
    (directory / MODEL).write_bytes(rng.randbytes(64 << 10))
    for name in ("af_one", "am_two"):
        (directory / "voices" / f"{name}.bin").write_bytes(rng.randbytes(4096))
    return directory


def start_mirror(directory: Path, port: int | None = None) -> HubMirror:
    mirror = HubMirror(port)
    mirror.add(KOKORO, kokoro_repo.build(directory / "kokoro"), downloads=1000, likes=50)
    mirror.add(TINY, build_small(directory / "tiny", 1), downloads=10)
    mirror.add(GATED, build_small(directory / "gated", 2), downloads=5, token=GATED_TOKEN)
    text = build_small(directory / "text", 3)
    mirror.add(TEXT, text, downloads=5000, pipeline_tag="text-generation")
    return mirror.start()


def access_to(mirror: HubMirror | str, cache: Path, **changes) -> HubAccess:
    endpoint = mirror if isinstance(mirror, str) else mirror.url
    return HubAccess(endpoint=endpoint, cache_dir=cache, **{"etag_timeout_s": 2.0, **changes})


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
