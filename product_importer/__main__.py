"""Command line: `python -m product_importer run | web | migrate | users | tokens`."""

from __future__ import annotations

import argparse
import sys

from product_importer.access.cli import add_commands as add_access_commands


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m product_importer")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        help="run the whole app: web (frontend + API) and worker; embedded PostgreSQL "
        "and Redis unless DATABASE_URL / REDIS_URL are set",
    )
    run.add_argument("--port", type=int, default=None, help="web port (default: $PORT or 3000)")
    web = commands.add_parser(
        "web",
        help="migrate, then run only the web app (frontend + API) against DATABASE_URL and "
        "REDIS_URL; workers run apart (`dramatiq product_importer.worker`)",
    )
    web.add_argument("--port", type=int, default=None, help="web port (default: $PORT or 3000)")
    commands.add_parser(
        "migrate", help="upgrade the database schema (embedded PostgreSQL unless DATABASE_URL)"
    )
    add_access_commands(commands)
    args = parser.parse_args(argv)

    from product_importer import launcher

    if args.command in ("users", "tokens"):
        return launcher.manage_access(sys.argv[1:] if argv is None else argv)

    if args.command == "run":
        return launcher.run(args.port)
    if args.command == "web":
        return launcher.web(args.port)
    return launcher.migrate_only()


if __name__ == "__main__":
    sys.exit(main())
