"""Kokoro-82M as an ONNX session that says how long it speaks each phoneme.

The model predicts a number of frames for every input token before it makes any sound (in the
graph: Div(ReduceSum(Sigmoid(..)), speed) -> Round -> Clip -> Cast to int64), and the audio
is exactly those frames, 600 samples each at 24 kHz. Those numbers are where each word and
sentence lands in the audio, so they are asked for: exports that already give them (a
`durations` output) are used as they are; for the others the Cast is found by its structure
(its chain back to the Div by the `speed` input, not by node names, which differ between
exports) and made an output of a derived copy of the model.

Deriving costs once what loading the graph with the onnx package costs: for the 92 MB int8
model 1.2-1.5 s and, for that while, a process peak of about 360 MB (measured here); a loaded
session is about 250 MB, and about 600 MB at its peak while it speaks. The copy is written into
`derived_dir` (atomically, under an fcntl lock, so the processes of a machine derive it once:
workers/providers/derived_models.py) and later loads only open it. Without a `derived_dir` it
is derived in memory at every load.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from utils.cpus import usable_cpus
from workers.providers.derived_models import cached_derived, derived_model
from workers.providers.onnx_device import device_of, execution_providers

log = logging.getLogger(__name__)

SAMPLE_RATE = 24000
FRAME_SAMPLES = 600  # one predicted frame: 1/40 s at 24 kHz
MAX_TOKENS = 510  # phoneme tokens per run; with the two pads, the model's 512 positions
DURATIONS = "durations"


def _durations_tensor(graph) -> str:
    """The name of the int64 frames-per-token tensor: Cast <- Clip <- Round <- Div(_, speed)."""
    speed = next((i.name for i in graph.input if i.name == "speed"), None)
    producer = {out: node for node in graph.node for out in node.output}
    for cast in graph.node:
        if cast.op_type != "Cast":
            continue
        clip = producer.get(cast.input[0])
        if clip is None or clip.op_type != "Clip":
            continue
        rounded = producer.get(clip.input[0])
        if rounded is None or rounded.op_type != "Round":
            continue
        div = producer.get(rounded.input[0])
        if div is not None and div.op_type == "Div" and div.input[1] == speed:
            return cast.output[0]
    raise ValueError("no per-token durations found in the model (Cast <- Clip <- Round <- Div)")


def derive_with_durations(source: Path) -> bytes:
    """The model at `source` with its frames per token as one more output, `durations`."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(source))
    tensor = _durations_tensor(model.graph)
    model.graph.node.append(helper.make_node("Identity", [tensor], [DURATIONS]))
    model.graph.output.append(helper.make_tensor_value_info(DURATIONS, TensorProto.INT64, None))
    return model.SerializeToString()


class KokoroSession:
    """One Kokoro ONNX variant of a repository laid out like onnx-community's
    Kokoro-82M-v1.0-ONNX, with its phoneme vocabulary.

    Threads as Piper's sessions have them (workers/providers/piper.py, _load_voice): `threads`
    intra-op threads and one inter-op, for a pool of one process per core; `wide`, one thread
    per usable core that sleeps rather than spins between operators, for a request made alone.
    """

    def __init__(
        self,
        directory: Path,
        variant_file: str,
        device: str = "auto",
        threads: int = 1,
        derived_dir: Path | None = None,
        wide: bool = False,
    ):
        import onnxruntime

        self.directory = Path(directory)
        tokenizer = json.loads((self.directory / "tokenizer.json").read_text("utf-8"))
        self.vocab: dict[str, int] = tokenizer["model"]["vocab"]
        source = self.directory / variant_file
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = usable_cpus() if wide else threads
        options.inter_op_num_threads = 1
        if wide:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = execution_providers(device)

        def load(model: str | bytes):
            return onnxruntime.InferenceSession(model, sess_options=options, providers=providers)

        derived = derived_dir is not None and cached_derived(source, Path(derived_dir), DURATIONS)
        self.session = load(str(derived or source))
        if DURATIONS not in {o.name for o in self.session.get_outputs()}:
            self.session = load(
                str(derived_model(source, Path(derived_dir), DURATIONS, derive_with_durations))
                if derived_dir is not None
                else derive_with_durations(source)
            )
        inputs = self.session.get_inputs()
        self._tokens = next(i.name for i in inputs if "int" in i.type)
        self._style = next(i.name for i in inputs if i.name == "style" or i.name.startswith("ref"))
        speed = next(i for i in inputs if i.name == "speed")
        self._speed = speed.name
        self._speed_type = np.float32 if "float" in speed.type else np.int32
        outputs = [o.name for o in self.session.get_outputs()]
        self._audio = next(n for n in outputs if n != DURATIONS)

    @property
    def providers(self) -> list[str]:
        """What the session really runs on."""
        return self.session.get_providers()

    @property
    def device(self) -> str:
        return device_of(self.session)

    def tokens(self, phonemes: str) -> list[int]:
        """Phonemes as vocabulary ids; symbols the model does not know are left out."""
        return [self.vocab[p] for p in phonemes if p in self.vocab]

    def run(self, ids: list[int], style: np.ndarray, speed: float = 1.0):
        """Audio (float32, 24 kHz) and frames per token (the pads included: len(ids) + 2) for
        at most MAX_TOKENS ids; `style` is the voice's (510, 256) table."""
        if not 0 < len(ids) <= MAX_TOKENS:
            raise ValueError(f"{len(ids)} tokens: a run takes 1 to {MAX_TOKENS}")
        feeds = {
            self._tokens: np.array([[0, *ids, 0]], dtype=np.int64),
            self._style: np.asarray(style[len(ids) - 1], dtype=np.float32).reshape(1, -1),
            self._speed: np.array([speed], dtype=self._speed_type),
        }
        audio, durations = self.session.run([self._audio, DURATIONS], feeds)
        return np.asarray(audio, dtype=np.float32).reshape(-1), np.asarray(durations).reshape(-1)
