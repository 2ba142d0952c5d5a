"""Administrative commands: `python -m api.cli add-user NAME` (asks for the password).

The password can also come on standard input (`--password-stdin`), for scripts.
"""

from __future__ import annotations

import argparse
import getpass
import sys

import redis
from kombu.utils.url import maybe_sanitize_url

from config import get_settings
from utils.auth.users import UserStore
from utils.redis_client import connect


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add-user", help="create a user, or set an existing user's password")
    add.add_argument("username")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    args = parser.parse_args(argv)

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.username}: ")
        if password != getpass.getpass("again: "):
            print("passwords differ", file=sys.stderr)
            return 1
    url = get_settings().redis_url
    users = UserStore(connect(url, patience_s=1.0))
    try:
        users.set_password(args.username, password)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    except redis.RedisError:
        print(
            f"cannot reach Redis at {maybe_sanitize_url(url)} (REDIS_URL); is the service running?",
            file=sys.stderr,
        )
        return 1
    print(f"user {args.username} saved")
    return 0


if __name__ == "__main__":
    sys.exit(main())
