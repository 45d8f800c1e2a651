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


# What Vast's /users/current/ holds that this control plane has no notion of: answered empty.
_USER_FIELDS_UNKNOWN = ("email", "ssh_key", "paypal_email", "billaddress_city", "billaddress_country",
                        "billaddress_line1", "billaddress_line2", "billaddress_zip", "last4")


def user_record(row: ApiKey) -> dict:
    """An account as Vast's `GET /users/current/` shows a user (the CLI's `show user`), never its key."""
    name = row.name or f"account-{int(row.account_id)}"
    return {
        "id": int(row.account_id), "username": name, "fullname": name, "user": name,
        "balance": 0.0, "credit": 0.0, "balance_threshold": 0.0, "balance_threshold_enabled": False,
        "billed_expected": 0.0, "billed_verified": 0.0, "paid_expected": 0.0, "paid_verified": 0.0,
        "billing_creditonly": False, "can_pay": True, "email_verified": False, "got_signup_credit": False,
        "has_billing": False, "has_payout": False, "password_resettable": False,
        "host_agreement_accepted": False, "created_at": int(row.created_at),
        **dict.fromkeys(_USER_FIELDS_UNKNOWN),
    }


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
