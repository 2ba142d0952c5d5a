"""Give a checkout secrets of its own: `python -m scripts.first_run` (run by `make run`).

The first time, it writes .env from .env.example with a random SECRET_KEY and a random
ADMIN_PASSWORD, and prints the password once; also a random EMBEDDED_REDIS_PASSWORD (the
bundled Redis') and FLOWER_BASIC_AUTH (user:password), Flower's login under docker-compose.
Later runs keep whatever .env holds; they only fill one of these that is missing or empty (a
hand-copied .env.example, or a .env from an earlier version), or a SECRET_KEY that is a known
placeholder. Standard library only, so it also runs before the virtualenv exists
(docker-compose users: `python3 -m scripts.first_run`).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Kept in step with config.PLACEHOLDER_SECRETS (config.py imports pydantic; this must not).
PLACEHOLDERS = {"", "changethis", "change-me", "changeme", "secret", "dev-secret-key-change-me"}


def _value(text: str, name: str) -> str | None:
    """The value of `name=...` in a dotenv text (the last assignment wins), None if absent."""
    found = re.findall(rf"^\s*(?:export\s+)?{name}\s*=(.*)$", text, flags=re.MULTILINE)
    return found[-1].strip().strip("'\"") if found else None


def _assign(text: str, name: str, value: str) -> str:
    pattern = rf"^\s*(?:export\s+)?{name}\s*=.*$"
    if re.search(pattern, text, flags=re.MULTILINE):
        return re.sub(pattern, f"{name}={value}", text, flags=re.MULTILINE)
    return text.rstrip("\n") + f"\n{name}={value}\n"


def ensure_env_file(env_path: Path, example_path: Path, out=sys.stdout) -> dict[str, str]:
    """Write or complete `env_path`; the values it generated, by name."""
    created = not env_path.exists()
    text = example_path.read_text() if created else env_path.read_text()
    generated = {}
    secret = _value(text, "SECRET_KEY")
    if secret is None or secret.lower() in PLACEHOLDERS:
        generated["SECRET_KEY"] = secrets.token_hex(32)
    if not _value(text, "ADMIN_PASSWORD"):
        generated["ADMIN_PASSWORD"] = secrets.token_urlsafe(18)
    if not _value(text, "EMBEDDED_REDIS_PASSWORD"):
        # the bundled Redis listens on loopback, which every local user can reach
        generated["EMBEDDED_REDIS_PASSWORD"] = secrets.token_hex(24)
    if not _value(text, "FLOWER_BASIC_AUTH"):
        # token_urlsafe has no ',' or ':', which Flower would read as separators.
        generated["FLOWER_BASIC_AUTH"] = f"flower:{secrets.token_urlsafe(18)}"
    if not generated:
        return generated
    for name, value in generated.items():
        text = _assign(text, name, value)
    _write_private(env_path, text)

    *others, last = list(generated)
    what = "a random " + (f"{', '.join(others)} and {last}" if others else last)
    print(f"{'Created' if created else 'Updated'} {env_path} with {what}.", file=out)
    if "ADMIN_PASSWORD" in generated:
        user = _value(text, "ADMIN_USERNAME") or "admin"
        print(
            f"\n    Admin login:  {user} / {generated['ADMIN_PASSWORD']}\n\n"
            f"This is shown once; it stays in {env_path.name} as ADMIN_PASSWORD.\n",
            file=out,
        )
    return generated


def _write_private(path: Path, text: str) -> None:
    """Readable by its owner only: it holds the signing key and a password."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.first_run")
    parser.add_argument("--env-file", type=Path, default=ROOT / ".env")
    parser.add_argument("--example", type=Path, default=ROOT / ".env.example")
    args = parser.parse_args(argv)
    ensure_env_file(args.env_file, args.example)
    return 0


if __name__ == "__main__":
    sys.exit(main())
