"""`python -m product_importer users|tokens ...`, run against DATABASE_URL (the launcher
starts the embedded database first when it is not set)."""

from __future__ import annotations

import argparse
import sys

from product_importer.access import AccessProblem, Role, tokens, users


def add_commands(commands: argparse._SubParsersAction) -> None:
    """The `users` and `tokens` commands, for the app's one argument parser."""
    roles = [r.value for r in Role]
    user = commands.add_parser("users", help="create, list, reset or delete users")
    user_do = user.add_subparsers(dest="action", required=True)
    create = user_do.add_parser("create", help="create a user; prints a random password")
    create.add_argument("name")
    create.add_argument("--role", choices=roles, default="editor")
    reset = user_do.add_parser("reset-password", help="give a user a new random password")
    reset.add_argument("name")
    user_do.add_parser("list", help="list users and roles")
    delete = user_do.add_parser("delete", help="delete a user")
    delete.add_argument("name")

    token = commands.add_parser("tokens", help="create, list or revoke API tokens")
    token_do = token.add_subparsers(dest="action", required=True)
    create = token_do.add_parser("create", help="create an API token; prints it alone")
    create.add_argument("name")
    create.add_argument("--role", choices=roles, default="editor")
    token_do.add_parser("list", help="list API tokens")
    revoke = token_do.add_parser("revoke", help="revoke an API token by id")
    revoke.add_argument("id", type=int)


def _user(name: str) -> users.UserInfo:
    found = users.find_user(name)
    if found is None:
        raise AccessProblem(f"no user named {name!r}")
    return found


def run(args: argparse.Namespace) -> int:
    """Carry out a `users` or `tokens` command; problems go to stderr with exit code 1."""
    try:
        if args.command == "users":
            _users(args)
        else:
            _tokens(args)
    except (AccessProblem, LookupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _users(args: argparse.Namespace) -> None:
    if args.action == "create":
        _, password = users.create_user(args.name, Role(args.role))
        print(f"created {args.role} {args.name!r}; password (shown once): {password}")
    elif args.action == "reset-password":
        password = users.new_password()
        users.update_user(_user(args.name).id, password=password)
        print(f"new password of {args.name!r} (shown once; their sessions ended): {password}")
    elif args.action == "list":
        for u in users.list_users():
            print(f"{u.username}\t{u.role}\tcreated {u.created_at:%Y-%m-%d %H:%M}")
    elif args.action == "delete":
        users.delete_user(_user(args.name).id)
        print(f"deleted {args.name!r}")


def _tokens(args: argparse.Namespace) -> None:
    if args.action == "create":
        print(tokens.create_token(args.name, Role(args.role), "command line")[1])
    elif args.action == "list":
        for t in tokens.list_tokens():
            state = "revoked" if t.revoked_at else f"last used {t.last_used_at or 'never'}"
            print(f"{t.id}\t{t.name}\t{t.role}\t{t.hint}\t{state}")
    elif args.action == "revoke":
        print(f"revoked token {tokens.revoke_token(args.id).name!r}")


def first_run(url: str) -> None:
    """On a database without users, create the first admin and say how to sign in."""
    password = users.ensure_first_admin()
    if password:
        print(
            "\n  First start: created the admin user.\n"
            f"    sign in at {url}/sign-in as   admin\n"
            f"    password (shown this once):   {password}\n"
            "  Add users on the Access page, or: python -m product_importer users create NAME\n",
            flush=True,
        )
    else:
        print(f"  sign in at {url}/sign-in (lost the admin password? "
              "python -m product_importer users reset-password admin)", flush=True)  # fmt: skip


def main(argv: list[str]) -> int:
    """Entry for the launcher's child process, which has DATABASE_URL set."""
    if argv[:1] == ["first-run"]:
        first_run(argv[1])
        return 0
    parser = argparse.ArgumentParser(prog="python -m product_importer")
    add_commands(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
