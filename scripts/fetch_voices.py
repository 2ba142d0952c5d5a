"""Fetch voices ahead of time, for machines without internet and for images.

    python -m scripts.fetch_voices en_US-lessac-medium de_DE-thorsten-medium
    python -m scripts.fetch_voices --language de        # every German voice
    python -m scripts.fetch_voices --list --language fr # what there is, fetching nothing
    python -m scripts.fetch_voices --kokoro af_heart bf_emma  # Kokoro's model and voices
    python -m scripts.fetch_voices --kokoro --all       # and every voice of its repository

Kokoro's come from the Hugging Face Hub into its cache (scripts/fetch_kokoro.py).

Voices go where the workers look for them (PIPER_VOICE_DIR, or --dir), each checked against
the catalogue's size and MD5 as a worker would, and safe to run beside running workers (the
same per-voice lock). The catalogue is PIPER_VOICES_URL, or --url (a mirror laid out the same
way). Exit status 1 if any voice could not be fetched.
"""

from __future__ import annotations

import argparse
import difflib
import sys
import time
from pathlib import Path

from config import get_settings
from utils.errors import ProviderRejected
from workers.providers.piper_catalogue import VoiceCatalogue
from workers.providers.piper_fetch import fetch_voice


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.fetch_voices", description=__doc__)
    parser.add_argument("voices", nargs="*", help="voice keys, e.g. en_US-lessac-medium")
    parser.add_argument("--language", help="every voice whose language code starts with this")
    parser.add_argument("--list", action="store_true", help="list the voices, fetch nothing")
    parser.add_argument("--dir", type=Path, help="where to put them (default: PIPER_VOICE_DIR)")
    parser.add_argument("--url", help="the catalogue (default: PIPER_VOICES_URL)")
    parser.add_argument(
        "--kokoro",
        nargs="?",
        const="kokoro",
        metavar="PROVIDER",
        help="Kokoro's model and the voices named, for the PROVIDERS entry of that name "
        "(default: kokoro; KOKORO_* when there is none)",
    )
    parser.add_argument("--all", action="store_true", help="with --kokoro: every voice")
    args = parser.parse_args(argv)
    if args.kokoro:
        from scripts.fetch_kokoro import fetch

        return fetch(get_settings(), args.kokoro, list(args.voices), args.all)
    if not (args.voices or args.language or args.list):
        parser.error("name voices, or give --language or --list")

    settings = get_settings().piper_catalogue
    if args.url:
        settings = settings.model_copy(update={"url": args.url.rstrip("/")})
    if args.dir:
        settings = settings.model_copy(update={"directory": args.dir})
    catalogue = VoiceCatalogue(settings, "catalogue")
    try:
        voices = catalogue.voices(timeout_s=max(settings.timeout_s, 30.0))
    except ProviderRejected as exc:
        print(exc, file=sys.stderr)
        return 1

    wanted = list(args.voices)
    if args.language:
        prefix = args.language.replace("-", "_").lower()
        wanted += sorted(k for k, v in voices.items() if v.language_code.lower().startswith(prefix))
    if args.list:
        for key in wanted or sorted(voices):
            voice = voices.get(key)
            if voice:
                speakers = f", {voice.num_speakers} speakers" if voice.num_speakers > 1 else ""
                print(f"{key}  {voice.language_name} ({voice.language_code}){speakers}")
        return 0

    failed = 0
    for key in dict.fromkeys(wanted):
        if key not in voices:
            close = difflib.get_close_matches(key, list(voices), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            print(f"{key}: not in the catalogue at {catalogue.index_url}{hint}", file=sys.stderr)
            failed += 1
            continue
        started = time.perf_counter()
        try:
            fetched = fetch_voice(catalogue, voices[key])
        except ProviderRejected as exc:
            print(str(exc).removeprefix("catalogue: "), file=sys.stderr)
            failed += 1
            continue
        if fetched.downloaded_bytes:
            print(
                f"{key}: fetched {fetched.downloaded_bytes / 1e6:.1f} MB in "
                f"{time.perf_counter() - started:.1f} s, size and MD5 verified -> {fetched.model}"
            )
        else:
            print(f"{key}: already in {fetched.model.parent}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
