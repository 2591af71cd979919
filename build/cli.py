"""Command line: ``python -m coalition_news build | add | check`` (the Makefile calls these)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import BuildError
from .schemas import ROOT


def _build(args) -> None:
    from .pipeline import BuildOptions, build

    options = BuildOptions(jobs=args.jobs, cache=not args.no_cache, engine=args.engine,
                           scheduler=args.scheduler, partitioned=args.partitioned)
    rows = build(args.root, options)
    counts = ", ".join(f"{name} {n}" for name, n in rows.items())
    print(f"built {args.root / 'data'}: {counts}")


def _add(args) -> None:
    from .register import add_articles

    for entry in add_articles(args.root / "raw", Path(args.file), outlet=args.outlet, date=args.date, url=args.url, notes=args.notes):
        print(f"added raw/{entry.file} (published {entry.published.date or 'unknown'}, basis {entry.published.basis or '-'})")


def _check(args) -> None:
    from .publish import check_release

    check_release(args.root)
    print(f"{args.root / 'data'} is valid")


def _release(args) -> None:
    from .release import build_release, row_counts

    path, written = build_release(args.root, args.dist)
    print(f"{'wrote' if written else 'unchanged'} {path}: " + ", ".join(f"{t} {n}" for t, n in row_counts(path).items()))


def _site(args) -> None:
    from .site import build_site

    print(f"wrote {build_site(args.root / 'data', args.out or args.root / 'site')}/index.html")


def _dictionary(args) -> None:
    from .dictionary import write_dictionary

    print(f"wrote {write_dictionary(args.root)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coalition_news", description=__doc__)
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root (default: this checkout)")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build, validate and publish data/ from raw/ (options change speed, never bytes)")
    build.add_argument("--jobs", type=int, default=None, help="extraction processes (default: every core; 1 = serial)")
    build.add_argument("--no-cache", action="store_true", help="extract every article again (ignore .cache/extract)")
    build.add_argument("--engine", choices=("processes", "dask"), default="processes", help="where per-article extraction runs")
    build.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (with --engine dask)")
    build.add_argument("--partitioned", action="store_true", help="also write hive-partitioned Parquet to data-partitioned/")
    build.set_defaults(run=_build)
    add = sub.add_parser("add", help="register a new article (or every .txt in a folder) in raw/")
    add.add_argument("file")
    add.add_argument("--outlet")
    add.add_argument("--date", help="publication date, ISO 8601: YYYY-MM-DD, YYYY-MM or YYYY")
    add.add_argument("--url")
    add.add_argument("--notes")
    add.set_defaults(run=_add)
    sub.add_parser("check", help="validate the published files in data/").set_defaults(run=_check)
    release = sub.add_parser("release", help="write dist/<name>-<version>.zip from data/ (reproducible; never overwrites a version)")
    release.add_argument("--dist", type=Path, help="output folder (default: ROOT/dist)")
    release.set_defaults(run=_release)
    site = sub.add_parser("site", help="write a static HTML site of the articles and tables (default: ROOT/site)")
    site.add_argument("--out", type=Path)
    site.set_defaults(run=_site)
    sub.add_parser("dictionary", help="write docs/data-dictionary.md from schemas/ and data/csv").set_defaults(run=_dictionary)
    args = parser.parse_args(argv)
    args.root = args.root.resolve()
    try:
        args.run(args)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
