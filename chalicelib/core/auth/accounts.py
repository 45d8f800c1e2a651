"""Accounts: created by an operator, each with one console API key shown once.

Also a command line for operators with AWS access:
    python -m chalicelib.core.auth.accounts create --name NAME [--key KEY]
"""
from __future__ import annotations

import argparse
import sys
import time

from pynamodb.exceptions import PutError

from chalicelib.core.auth.credentials import hash_secret, new_token
from chalicelib.core.errors import bad_request, conflict
from chalicelib.core.store import ApiKey, bind, next_id


def create_account(name: str, api_key: str | None = None) -> tuple[int, str]:
    """Create an account; returns (account id, api key). `api_key` pins the key (local runs)."""
    if api_key is not None and not 16 <= len(api_key) <= 512:
        raise bad_request("'api_key' must be 16 to 512 characters long")
    key = api_key or new_token("ak")
    account_id = next_id("account")
    row = ApiKey(hash_secret(key), kind="account", account_id=account_id, name=name, created_at=int(time.time()))
    try:
        row.save(condition=ApiKey.key_hash.does_not_exist())
    except PutError:
        raise conflict("that api key is already in use") from None
    return account_id, key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.core.auth.accounts")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create an account and print its api key once")
    create.add_argument("--name", required=True)
    create.add_argument("--key", help="use this key instead of generating one")
    args = parser.parse_args(argv)
    bind()
    account_id, key = create_account(args.name, args.key)
    print(f"account {account_id} created; api key (shown once): {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
