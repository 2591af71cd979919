"""``make add``: register new articles in ``raw/`` with their manifest entries.

Each file is copied byte for byte to ``raw/NNN_<first 16 hex digits of its SHA-256>.txt`` (NNN the
next free number) and gets an entry in ``raw/sources.yaml``. A folder registers every ``.txt`` in
it, in name order, in one pass. The same checks as the build apply before anything is written:
undecodable, empty or oversized files and content already in ``raw/`` are refused, and nothing is
registered unless every file passes.
"""

from __future__ import annotations

import re
from pathlib import Path

from .errors import BuildError
from .ingest import IngestError, decode_article, sha256_hex
from .lines import article_lines
from .manifest import Published, SourceEntry, add_to_manifest, load_manifest

_PRECISION_OF = {10: "day", 7: "month", 4: "year"}
_ISO_PARTIAL = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _published(text: str, date: str | None) -> Published:
    """The maintainer's date when given (curated), else the date the text states, else unknown."""
    if date:
        if not _ISO_PARTIAL.match(date):
            raise BuildError(f"DATE={date!r}: give the publication date as YYYY-MM-DD, YYYY-MM or YYYY")
        return Published(date, _PRECISION_OF[len(date)], "curated", "Supplied by a maintainer with `make add DATE=...`.")
    from .text.dates import find_publication_date

    stated = find_publication_date(article_lines("new", text))
    if stated:
        day, verbatim = stated
        return Published(day.isoformat(), "day", "stated", f"The head of the article prints {verbatim.strip()!r}.")
    return Published(None, None, None, None)


def _sources(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix == ".txt" and p.is_file())
        if not files:
            raise BuildError(f"{path}: no .txt files to add")
        return files
    if not path.is_file():
        raise BuildError(f"{path}: no such file")
    return [path]


def add_articles(raw_dir: Path, path: Path, *, outlet=None, date=None, url=None, notes=None, language="ar") -> list[SourceEntry]:
    """Register the article(s) at ``path``; return the new manifest entries.

    The manifest's entries read by the last build are taken from the repository's ``.cache``
    (``derived``) instead of being read again (~0.5 s at 10,000 articles)."""
    from .cache import keeping_derived

    with keeping_derived(raw_dir.parent):
        return _add_articles(raw_dir, path, outlet=outlet, date=date, url=url, notes=notes, language=language)


def _add_articles(raw_dir: Path, path: Path, *, outlet, date, url, notes, language) -> list[SourceEntry]:
    manifest = load_manifest(raw_dir)
    entries = manifest.entries
    known = {e.sha256: e.file for e in entries}
    numbers = [int(e.file.split("_", 1)[0]) for e in entries]
    next_number = max(numbers, default=-1) + 1
    new: list[tuple[SourceEntry, bytes]] = []
    problems: list[str] = []
    for src in _sources(path):
        data = src.read_bytes()
        try:
            text = decode_article(str(src), data)
        except IngestError as exc:
            problems.extend(exc.problems)
            continue
        digest = sha256_hex(data)
        if digest in known:
            problems.append(f"{src}: same content as raw/{known[digest]} (already registered)")
            continue
        name = f"{next_number:03d}_{digest[:16]}.txt"
        next_number += 1
        known[digest] = name
        entry = SourceEntry(name, digest, outlet, url, _published(text, date), language, notes)
        new.append((entry, data))
    if problems:
        raise IngestError(problems)
    for entry, data in new:
        (raw_dir / entry.file).write_bytes(data)
    add_to_manifest(raw_dir, manifest, [e for e, _ in new])
    return [e for e, _ in new]
