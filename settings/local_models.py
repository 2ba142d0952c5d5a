"""LOCAL_* and KOKORO_*: the engines that run on this machine, and where their models come from.

LOCAL_DEVICE picks what ONNX Runtime runs Piper and Kokoro on: `cuda` where onnxruntime-gpu and
a GPU are present, the CPU otherwise (`auto`), with the CPU as the fallback when `cuda` is asked
for and cannot be had. What a process actually got is in its start line, /ready and /metrics.

Kokoro's model is a Hugging Face repository (KOKORO_REPO at KOKORO_REVISION) in the layout of
onnx-community/Kokoro-82M-v1.0-ONNX; KOKORO_VARIANT picks which of its ONNX files is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings

from settings.base import group_config
from settings.hub import HubAccess

Device = Literal["auto", "cpu", "cuda"]
Variant = Literal["float32", "float16", "int8"]

# One home for where each variant lives in a repository laid out as onnx-community's exports.
KOKORO_VARIANT_FILES: dict[str, str] = {
    "float32": "onnx/model.onnx",
    "float16": "onnx/model_fp16.onnx",
    "int8": "onnx/model_quantized.onnx",
}
KOKORO_REPO = "onnx-community/Kokoro-82M-v1.0-ONNX"


class LocalEngine(BaseModel):
    """What a local engine's entry is given (config.Settings fills it in): the device, the Hub,
    and where models derived from fetched ones are kept."""

    device: Device = "auto"
    hub: HubAccess = Field(default_factory=HubAccess)
    derived_dir: Path = Path("data/models")


class LocalModelSettings(BaseSettings):
    """Where local engines (Piper, Kokoro) run."""

    model_config = group_config("LOCAL_")

    device: Device = "auto"
    """What ONNX Runtime runs local models on: auto (CUDA where onnxruntime-gpu and a GPU are
    present, else the CPU), cpu, or cuda (falls back to the CPU, with a warning, when absent)."""
    warm_up: Literal["default", "installed"] = "installed"
    """What a local worker process loads as it starts, so no block waits for a load: the
    default provider's voice only, or also every other local engine whose model is on the
    machine already (each Kokoro process then holds about 400 MB more)."""


class KokoroSettings(BaseSettings):
    """Kokoro-82M: its Hub repository, revision and precision (defaults of `kokoro` entries)."""

    model_config = group_config("KOKORO_")

    repo: str = Field(default=KOKORO_REPO, min_length=1)
    """The Hub repository of a `kokoro` entry that names no `model`: an ONNX export laid out
    as onnx-community/Kokoro-82M-v1.0-ONNX (onnx/model*.onnx, voices/*.bin, tokenizer.json)."""
    revision: str = Field(default="main", min_length=1)
    """Its revision (a branch, tag or commit): pin a commit to get the same model everywhere."""
    variant: Variant = "int8"
    """Which ONNX file is loaded: float32 (326 MB), float16 (163 MB) or int8 (92 MB, the
    fastest on most CPUs)."""
    voice: str = Field(default="af_heart", min_length=1)
    """The voice of a `kokoro` entry that names no default_voice (a name, or a blend such as
    af_bella(2)+af_sky(1))."""
