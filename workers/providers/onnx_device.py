"""What ONNX Runtime runs a local engine's model on (LOCAL_DEVICE), and what it actually got.

`auto` takes CUDA where onnxruntime-gpu is installed and sees a GPU, else the CPU; `cuda` is a
wish, not a requirement: without CUDA the model still runs, on the CPU, with a warning, so a
GPU image started on a machine without one serves slower rather than not at all. What a session
really runs on is read back from the session, never assumed from the setting.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


def execution_providers(device: str) -> list[str]:
    """ONNX Runtime's providers for a session on `device` (auto, cpu or cuda), best first."""
    import onnxruntime

    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, not {device!r}")
    if device != "cpu" and CUDA in onnxruntime.get_available_providers():
        return [CUDA, CPU]
    if device == "cuda":
        log.warning("LOCAL_DEVICE=cuda, but ONNX Runtime has no CUDA here: running on the CPU")
    return [CPU]


def device_of(session) -> str:
    """cuda or cpu: what an InferenceSession runs its first operators on."""
    return "cuda" if session.get_providers()[0] == CUDA else "cpu"
