"""Administrative commands:

python -m api.cli add-user NAME             asks for the password (or --password-stdin)
python -m api.cli create-key NAME [--name LABEL]   prints a new API key, once
python -m api.cli list-keys NAME            the user's keys, never the keys themselves
python -m api.cli revoke-key NAME KEY_ID
python -m api.cli delete-user NAME          the user, their keys, jobs, audio, accounts, secret
"""

from __future__ import annotations

import argparse
import getpass
import sys

import redis
from kombu.utils.url import maybe_sanitize_url

from api.cli_users import delete_user_command
from config import get_settings
from utils.auth.api_keys import ApiKeys
from utils.auth.users import UserStore
from utils.errors import LimitReached
from utils.redis_client import connect


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m api.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add-user", help="create a user, or set an existing user's password")
    add.add_argument("username")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    create = commands.add_parser("create-key", help="make an API key for a user; printed once")
    create.add_argument("username")
    create.add_argument("--name", help="a label for the key, e.g. where it is used")
    listing = commands.add_parser("list-keys", help="a user's API keys (not the keys themselves)")
    listing.add_argument("username")
    revoke = commands.add_parser("revoke-key", help="revoke one of a user's API keys at once")
    revoke.add_argument("username")
    revoke.add_argument("key_id")
    delete = commands.add_parser(
        "delete-user", help="delete a user with their API keys, jobs, audio, accounts"
    )
    delete.add_argument("username")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    password = None
    if args.command == "add-user":
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass(f"password for {args.username}: ")
            if password != getpass.getpass("again: "):
                print("passwords differ", file=sys.stderr)
                return 1
    settings = get_settings()
    url = settings.redis_url
    client = connect(url, patience_s=1.0, sentinel=settings.sentinel)
    try:
        if args.command == "add-user":
            UserStore(client).set_password(args.username, password)
            print(f"user {args.username} saved")
            return 0
        if args.command == "delete-user":
            return delete_user_command(client, args.username)
        return _keys_command(args, UserStore(client), ApiKeys(client))
    except (ValueError, LimitReached) as exc:
        print(exc, file=sys.stderr)
        return 1
    except redis.RedisError:
        print(
            f"cannot reach Redis at {maybe_sanitize_url(url)} (REDIS_URL); is the service running?",
            file=sys.stderr,
        )
        return 1


def _keys_command(args: argparse.Namespace, users: UserStore, keys: ApiKeys) -> int:
    if not users.exists(args.username):
        print(f"no user {args.username!r}", file=sys.stderr)
        return 1
    if args.command == "create-key":
        new = keys.create(args.username, args.name, users.identity(args.username).uid)
        # The key alone on stdout, for `KEY=$(python -m api.cli create-key alice)`.
        print(f"API key {new.id} for {args.username}; shown this once:", file=sys.stderr)
        print(new.key)
    elif args.command == "list-keys":
        for key in keys.list(args.username):
            used = key["last_used_at"] or "never used"
            line = f"{key['id']}  {key['prefix']}  {key['created_at']}  {used}  {key['name'] or ''}"
            print(line.rstrip())
    elif not keys.revoke(args.username, args.key_id):
        print(f"{args.username} has no API key {args.key_id!r}", file=sys.stderr)
        return 1
    else:
        print(f"API key {args.key_id} of {args.username} revoked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
