"""Command line: ``python -m coalition_news build | add | check`` (the Makefile calls these)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import BuildError
from .schemas import ROOT


def _build(args) -> None:
    from .pipeline import build

    frames = build(args.root)
    counts = ", ".join(f"{name} {len(df)}" for name, df in frames.items())
    print(f"built {args.root / 'data'}: {counts}")


def _add(args) -> None:
    from .register import add_articles

    for entry in add_articles(args.root / "raw", Path(args.file), outlet=args.outlet, date=args.date, url=args.url, notes=args.notes):
        print(f"added raw/{entry.file} (published {entry.published.date or 'unknown'}, basis {entry.published.basis or '-'})")


def _check(args) -> None:
    from .publish import check_release

    check_release(args.root)
    print(f"{args.root / 'data'} is valid")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coalition_news", description=__doc__)
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root (default: this checkout)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build, validate and publish data/ from raw/").set_defaults(run=_build)
    add = sub.add_parser("add", help="register a new article (or every .txt in a folder) in raw/")
    add.add_argument("file")
    add.add_argument("--outlet")
    add.add_argument("--date", help="publication date, ISO 8601: YYYY-MM-DD, YYYY-MM or YYYY")
    add.add_argument("--url")
    add.add_argument("--notes")
    add.set_defaults(run=_add)
    sub.add_parser("check", help="validate the published files in data/").set_defaults(run=_check)
    args = parser.parse_args(argv)
    args.root = args.root.resolve()
    try:
        args.run(args)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
