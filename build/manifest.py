"""The manifest ``raw/sources.yaml``: where each raw article came from.

One entry per file in ``raw/``. The manifest is read with safe YAML loading only (a
``!!python/object`` tag is refused) and checked strictly: an unknown or missing field, a bad value,
or a file name that leaves ``raw/`` stops the build with the manifest line that holds the problem.
It is written in one canonical layout (``dump_manifest``); ``make add`` inserts the new entries in
that layout, in file-name order, and leaves every existing line as it is (a small, reviewable diff).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .derived import keep, recall
from .errors import BuildError
from .files import write_atomically

MANIFEST_NAME = "sources.yaml"
MANIFEST_ENTRIES = "manifest-entries"  # the ``derived`` name of the checked entries, by a digest of their text

HEADER = """\
# The manifest of raw/: one entry per article file, the single record of where each came from.
# Read with safe YAML loading only. `make add FILE=...` appends entries; edit by hand to curate.
#   file       the file name in raw/ (raw files are never edited)
#   sha256     SHA-256 of the file's bytes; the build refuses a file that no longer matches
#   outlet     the publishing outlet, or null when unknown
#   url        the article's address, or null when unknown
#   published  date (ISO 8601 at its precision: YYYY-MM-DD, YYYY-MM or YYYY; null when unknown),
#              precision (day | month | year), basis (stated: printed in the text; inferred: derived
#              from the text; curated: supplied by a maintainer), reason (one line: why this date)
#   language   BCP 47 language tag of the text
#   notes      anything a user should know about the source, or null
"""

ENTRY_FIELDS = ("file", "sha256", "outlet", "url", "published", "language", "notes")
PUBLISHED_FIELDS = ("date", "precision", "basis", "reason")
PRECISIONS = ("day", "month", "year")
BASES = ("stated", "inferred", "curated")

_FILE_NAME = re.compile(r"^[0-9]{3,}_[0-9a-f]{16}\.txt$")  # NNN_<first 16 hex of SHA-256>.txt
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_DATE_AT_PRECISION = {
    "day": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "month": re.compile(r"^\d{4}-\d{2}$"),
    "year": re.compile(r"^\d{4}$"),
}


class ManifestError(BuildError):
    """The manifest cannot be read or an entry is invalid."""


@dataclass(frozen=True, slots=True)  # slots: a build holds one per article (~100 bytes less each)
class Published:
    date: str | None          # ISO 8601 at its precision
    precision: str | None
    basis: str | None
    reason: str | None

    @property
    def day(self) -> dt.date | None:
        """The publication day when known to the day, else None."""
        return dt.date.fromisoformat(self.date) if self.date and self.precision == "day" else None


@dataclass(frozen=True, slots=True)
class SourceEntry:
    file: str
    sha256: str
    outlet: str | None
    url: str | None
    published: Published
    language: str
    notes: str | None
    manifest_line: int = 0     # where the entry starts in sources.yaml (1-based), for messages

    @property
    def article_id(self) -> str:
        return self.file[: -len(".txt")]

    def to_yaml_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "sha256": self.sha256,
            "outlet": self.outlet,
            "url": self.url,
            "published": {
                "date": self.published.date,
                "precision": self.published.precision,
                "basis": self.published.basis,
                "reason": self.published.reason,
            },
            "language": self.language,
            "notes": self.notes,
        }


# libyaml's C loader and dumper when available (several times faster on large manifests); both are
# the *safe* variants: a !!python tag is refused, never executed. Output is byte-identical.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _entry_lines(root) -> list[int]:
    """1-based line of each entry under ``articles:``, from the YAML node tree."""
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "articles" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _duplicate_key(root) -> tuple[int, str] | None:
    """(line, key) of the first key repeated within one mapping: safe YAML would silently keep the last."""
    stack = [root] if root is not None else []
    visited: set[int] = set()  # aliases share nodes: visit each once (a "billion laughs" stays cheap)
    while stack:
        node = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value in seen:
                    return key.start_mark.line + 1, key.value
                if isinstance(key, yaml.ScalarNode):
                    seen.add(key.value)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return None


def _check_entry(raw: Any, where: str) -> SourceEntry:
    def fail(msg: str) -> ManifestError:
        return ManifestError(f"{where}: {msg}")

    if not isinstance(raw, dict):
        raise fail("an entry must be a mapping of fields")
    unknown = sorted(set(raw) - set(ENTRY_FIELDS))
    missing = [f for f in ENTRY_FIELDS if f not in raw]
    if unknown:
        raise fail(f"unknown field(s) {', '.join(map(str, unknown))}; allowed: {', '.join(ENTRY_FIELDS)}")
    if missing:
        raise fail(f"missing field(s) {', '.join(missing)}")
    name = raw["file"]
    if not isinstance(name, str) or not _FILE_NAME.match(name) or name in (".", ".."):
        raise fail(f"file {name!r} must be a file name in raw/ of the form NNN_<16 hex digits>.txt (no folders, no '..')")
    if not isinstance(raw["sha256"], str) or not _SHA256.match(raw["sha256"]):
        raise fail(f"sha256 of {name} must be 64 lowercase hex digits")
    for field in ("outlet", "url", "notes"):
        if raw[field] is not None and not isinstance(raw[field], str):
            raise fail(f"{field} of {name} must be text or null")
    if not isinstance(raw["language"], str) or not _LANGUAGE.match(raw["language"]):
        raise fail(f"language of {name} must be a BCP 47 tag such as 'ar'")
    pub = raw["published"]
    if not isinstance(pub, dict):
        raise fail(f"published of {name} must be a mapping with {', '.join(PUBLISHED_FIELDS)}")
    unknown = sorted(set(pub) - set(PUBLISHED_FIELDS))
    missing = [f for f in PUBLISHED_FIELDS if f not in pub]
    if unknown or missing:
        raise fail(f"published of {name}: unknown {unknown or 'none'}, missing {missing or 'none'}")
    date = pub["date"]
    if isinstance(date, dt.date):  # an unquoted YAML date
        date = date.isoformat()
    elif isinstance(date, int) and not isinstance(date, bool):  # an unquoted year
        date = str(date)
    if date is None:
        if pub["precision"] is not None or pub["basis"] is not None:
            raise fail(f"published of {name}: precision and basis must be null when the date is unknown")
    else:
        date = str(date)
        if pub["precision"] not in PRECISIONS:
            raise fail(f"published.precision of {name} must be one of {', '.join(PRECISIONS)}")
        if not _DATE_AT_PRECISION[pub["precision"]].match(date):
            raise fail(f"published.date {date!r} of {name} does not match precision {pub['precision']}")
        try:
            dt.date.fromisoformat(date + "-01" * (2 - date.count("-")))
        except ValueError:
            raise fail(f"published.date {date!r} of {name} is not a calendar date") from None
        if pub["basis"] not in BASES:
            raise fail(f"published.basis of {name} must be one of {', '.join(BASES)}")
        if not isinstance(pub["reason"], str) or not pub["reason"].strip():
            raise fail(f"published.reason of {name}: say in one line why this date")
    return SourceEntry(
        file=name,
        sha256=raw["sha256"],
        outlet=raw["outlet"],
        url=raw["url"],
        published=Published(date, pub["precision"], pub["basis"], pub["reason"]),
        language=raw["language"],
        notes=raw["notes"],
    )


# --- a fast path for the canonical layout -----------------------------------------------------
# YAML parsing costs ~0.3 ms per entry even with libyaml (3 s for 10,000 articles). The layout that
# ``dump_manifest`` writes is simple enough to read line by line; any line outside it (a comment
# between entries, a double-quoted or folded value, an unquoted date, another order) sends the whole
# file to the YAML parser instead, so both paths give the same entries (tests/test_manifest.py).

_CANONICAL_ENTRY = tuple(
    # (the line's start, the field, the indentation of its continuation lines: two more than the key)
    (prefix, field, " " * (len(prefix) - len(prefix.lstrip(" -")) + 2))
    for prefix, field in (
        ("- file: ", "file"), ("  sha256: ", "sha256"), ("  outlet: ", "outlet"), ("  url: ", "url"),
        ("  published:", None), ("    date: ", "date"), ("    precision: ", "precision"),
        ("    basis: ", "basis"), ("    reason: ", "reason"), ("  language: ", "language"), ("  notes: ", "notes"),
    )
)
_RESOLVER = yaml.resolver.Resolver()
_STR_TAG, _NULL_TAG = "tag:yaml.org,2002:str", "tag:yaml.org,2002:null"
_PLAIN_START = re.compile(r"""[^\s\-?:,\[\]{}#&*!|>'"%@`]""")


class _NotCanonical(Exception):
    """A line the fast path does not read; the YAML parser reads the file instead."""


@functools.lru_cache(maxsize=4096)  # outlets, precisions, bases and nulls recur in every entry
def _canonical_scalar(value: str, continued: tuple[str, ...] = ()) -> str | None:
    """The value of a scalar as safe YAML would load it: 'single-quoted' text or a plain word or
    phrase that YAML resolves to text (its ``continued`` lines folded in with one space), or null;
    anything else is _NotCanonical.

    >>> _canonical_scalar("'2015-09-09'"), _canonical_scalar("null"), _canonical_scalar("وكالة", ("الأنباء",))
    ('2015-09-09', None, 'وكالة الأنباء')
    """
    if any(not part or not part.isprintable() or part != part.strip() for part in (value, *continued)):
        raise _NotCanonical(value)
    if value[0] == "'":
        quoted = " ".join((value, *continued))
        inner = quoted[1:-1]
        if len(quoted) < 2 or quoted[-1] != "'" or "'" in inner.replace("''", ""):
            raise _NotCanonical(value)
        return inner.replace("''", "'")
    if not _PLAIN_START.match(value):  # an indicator may not start a plain scalar
        raise _NotCanonical(value)
    for part in (value, *continued):
        if part[0] in "#-?:" or part.endswith(":") or ": " in part or " #" in part:
            raise _NotCanonical(part)
    value = " ".join((value, *continued))
    tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))
    if tag == _NULL_TAG and not continued:
        return None
    if tag != _STR_TAG:
        raise _NotCanonical(value)
    return value


def _parse_canonical(text: str) -> tuple[list[int], list[dict]]:
    """(entry lines, entries as safe YAML would load them) of a manifest in ``dump_manifest``'s
    layout; raises _NotCanonical at the first line outside it."""
    starts, entries = [], []
    for start, _, raw in _canonical_entries(text, {}):
        starts.append(start)
        entries.append(raw)
    return starts, entries


def _canonical_entries(text: str, known: Mapping[bytes, Any]) -> Iterator[tuple[int, bytes, Any]]:
    """``_parse_canonical``, one entry at a time: its line, a digest of its text, and the entry.
    An entry whose digest is a key of ``known`` is not read again: its value there stands in its
    place (``load_manifest`` keeps the checked entries of the last build's manifest in it).

    An entry's text runs from its "- file: " line to the next line starting "- " (no field or folded
    value does). Reading an entry looks at its own lines only, and the whole text is canonical only
    if each entry is read to exactly its end, so an entry read before reads the same again.
    The text is read in place, entry by entry: no copy of it, nor a list of its lines, is made
    (at 100,000 entries those were ~200 MB at once, the peak of a build's ingest)."""
    if not text.endswith("\n"):
        raise _NotCanonical("no final newline")
    pos, number = 0, 1
    while True:  # the header: comments and blank lines, then "articles:"
        end = text.index("\n", pos)
        line = text[pos:end]
        pos, number = end + 1, number + 1
        if not (line.startswith("#") or line == ""):
            break
        if pos == len(text):
            raise _NotCanonical("articles")
    if line == "articles: []" and pos == len(text):
        return
    if line != "articles:":
        raise _NotCanonical(line)
    if not text.startswith("- ", pos):  # nothing, or not a list, after "articles:" (YAML: not a list)
        raise _NotCanonical(text[pos:text.find("\n", pos)])
    while pos < len(text):
        following = text.find("\n- ", pos)
        end = len(text) - 1 if following < 0 else following  # the entry's text, without its last newline
        entry_text = text[pos:end]
        digest = hashlib.blake2b(entry_text.encode("utf-8"), digest_size=16).digest()
        if digest in known:
            yield number, digest, known[digest]
            number += entry_text.count("\n") + 1
        else:
            entry_lines = entry_text.split("\n")
            raw, stop = _canonical_entry(entry_lines, 0)
            if stop != len(entry_lines):
                raise _NotCanonical(entry_lines[stop])
            yield number, digest, raw
            number += len(entry_lines)
        pos = end + 1


def _canonical_entry(lines: list[str], i: int) -> tuple[dict, int]:
    """The entry whose "- file: " line is ``lines[i]``, as safe YAML would load it, and the index
    of the line after it; raises _NotCanonical at a line outside the layout."""
    raw: dict = {}
    for prefix, field, indent in _CANONICAL_ENTRY:
        line = lines[i] if i < len(lines) else ""
        i += 1
        if field is None:
            if line != prefix:
                raise _NotCanonical(line)
            continue
        if not line.startswith(prefix):
            raise _NotCanonical(line)
        value = line[len(prefix):]
        if i < len(lines) and lines[i].startswith(indent):  # a long value, folded over lines
            continued = []
            while i < len(lines) and lines[i].startswith(indent):
                continued.append(lines[i][len(indent):])
                i += 1
            raw[field] = _canonical_scalar(value, tuple(continued))
        else:
            raw[field] = _canonical_scalar(value)
    raw["published"] = {f: raw.pop(f) for f in PUBLISHED_FIELDS}
    return {f: raw[f] for f in ENTRY_FIELDS}, i


def _parse_once(text: str):
    """``yaml.compose`` and ``yaml.load`` from one parse: (the node tree's first duplicate key, the
    entry lines, the data). The node facts are read before construction, which may rewrite the
    tree (merge keys), so they equal those of a separate ``compose``."""
    loader = _LOADER(text)
    try:
        root = loader.get_single_node()
        duplicate, lines = _duplicate_key(root), _entry_lines(root)
        data = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    return duplicate, lines, data


def _parse_yaml(text: str, path: str):
    """``_parse_once``, with a YAML syntax error turned into a ManifestError naming the line."""
    try:
        return _parse_once(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else path
        raise ManifestError(f"{where}: not valid safe YAML ({getattr(exc, 'problem', None) or exc})") from None


def parse_manifest(text: str, path: str = "raw/sources.yaml") -> list[SourceEntry]:
    """Entries of a manifest's text, checked; raises ManifestError naming the line."""
    return _parse_checked(text, path)[0]


def _parse_checked(text: str, path: str, known: Mapping[bytes, SourceEntry] | None = None
                   ) -> tuple[list[SourceEntry], bool, dict[bytes, SourceEntry]]:
    """(checked entries, whether ``text`` is in ``dump_manifest``'s layout, and then a digest of
    each entry's text → its checked entry). An entry whose digest is in ``known`` (such a mapping,
    from before) is neither read nor checked again: both depend on its text alone."""
    digests: list[bytes] = []
    read = _canonical_entries(text, known or {})

    def read_numbered() -> Iterator[tuple[int, Any]]:
        for line, digest, raw in read:
            digests.append(digest)
            yield line, raw

    try:
        try:
            # each entry is checked as it is read: never are all held twice, as text and as dicts
            entries = list(_checked_entries(read_numbered(), path))
        except ManifestError:
            for _ in read:  # is the rest in the layout too? If not, YAML's reading names the error
                pass
            raise
        return entries, True, dict(zip(digests, entries))
    except _NotCanonical:
        pass
    duplicate, lines, data = _parse_yaml(text, path)
    if duplicate:
        raise ManifestError(f"{path}:{duplicate[0]}: the field {duplicate[1]!r} is given twice in one mapping")
    if not isinstance(data, dict) or set(data) != {"articles"} or not isinstance(data["articles"], list):
        raise ManifestError(f"{path}: the manifest must be a mapping with exactly one key, 'articles', holding a list")
    numbered = ((lines[i] if i < len(lines) else 0, raw) for i, raw in enumerate(data["articles"]))
    return list(_checked_entries(numbered, path)), False, {}


def _checked_entries(numbered: Iterable[tuple[int, Any]], path: str) -> Iterator[SourceEntry]:
    """Each (manifest line, entry as YAML loads it, or an entry checked before) as a checked
    ``SourceEntry`` at that line; raises ManifestError at the first invalid or repeated entry."""
    seen: dict[str, int] = {}
    for line, raw in numbered:
        entry = raw if isinstance(raw, SourceEntry) else _check_entry(raw, f"{path}:{line}")
        if entry.file in seen:
            raise ManifestError(f"{path}:{line}: {entry.file} is listed twice (first at line {seen[entry.file]})")
        seen[entry.file] = line
        yield SourceEntry(entry.file, entry.sha256, entry.outlet, entry.url, entry.published, entry.language,
                          entry.notes, line)


@dataclass(frozen=True)
class Manifest:
    """A manifest as read: its text, its checked entries, and whether the text is in
    ``dump_manifest``'s layout (then each entry's text starts at its ``manifest_line``)."""

    text: str
    entries: list[SourceEntry]
    canonical: bool


def read_manifest(raw_dir: Path) -> list[SourceEntry]:
    """The checked entries of ``raw_dir/sources.yaml``; messages name it ``raw/sources.yaml:LINE``."""
    return load_manifest(raw_dir).entries


def load_manifest(raw_dir: Path) -> Manifest:
    """``read_manifest``, keeping the text and its layout (``make add`` inserts into it)."""
    path = raw_dir / MANIFEST_NAME
    label = f"{raw_dir.name}/{MANIFEST_NAME}"
    if not path.is_file():
        raise ManifestError(f"{path}: the manifest is missing; every raw file must be listed in it")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ManifestError(f"{label}:{line}: byte {exc.start}: not valid UTF-8 ({exc.reason}); save the manifest as UTF-8") from None
    del data  # the text is enough (~30 MB at 100,000 entries)
    # Reading and checking 10,000 entries takes ~0.5 s. During a build, the checked entries are kept
    # by a digest of their text (``derived``), and the next build reads only the entries that are new.
    known = recall(MANIFEST_ENTRIES, {})
    entries, canonical, by_digest = _parse_checked(text, label, known)
    if by_digest.keys() != known.keys():
        keep(MANIFEST_ENTRIES, by_digest)
    return Manifest(text, entries, canonical)


def dump_manifest(entries: list[SourceEntry]) -> str:
    """The canonical text of a manifest (header comment, entries sorted by file name)."""
    body = yaml.dump(
        {"articles": [e.to_yaml_dict() for e in sorted(entries, key=lambda e: e.file)]},
        Dumper=_DUMPER,
        allow_unicode=True,
        sort_keys=False,
        width=100,
        default_flow_style=False,
    )
    return HEADER + body


def _entry_text(entry: SourceEntry) -> str:
    """One entry as ``dump_manifest`` writes it (the whole dump is the header and these, in order)."""
    return yaml.dump([entry.to_yaml_dict()], Dumper=_DUMPER, allow_unicode=True, sort_keys=False,
                     width=100, default_flow_style=False)


def with_entries_inserted(text: str, new: list[SourceEntry]) -> str | None:
    """``text`` with ``new`` entries inserted in file-name order, every existing line kept as it is;
    None when ``text`` is not in the canonical layout (then ``dump_manifest`` rewrites it whole).
    Dumping a 10,000-entry manifest takes ~2 s; inserting one entry into it ~0.2 s."""
    try:
        starts, entries = _parse_canonical(text)
    except _NotCanonical:
        return None
    return _inserted(text, starts, [e["file"] for e in entries], new)


def _inserted(text: str, starts: list[int], files: list[str], new: list[SourceEntry]) -> str | None:
    """``with_entries_inserted`` once the canonical text's entry lines (``starts``) are known."""
    if not starts or files != sorted(files):
        return None
    lines = text.split("\n")
    ends = [s - 1 for s in starts[1:]] + [len(lines) - 1]
    blocks = [(f, "\n".join(lines[s - 1:e]) + "\n") for f, s, e in zip(files, starts, ends)]
    blocks += [(e.file, _entry_text(e)) for e in new]
    head = "\n".join(lines[:starts[0] - 1]) + "\n"
    return head + "".join(block for _, block in sorted(blocks, key=lambda b: b[0]))


def add_to_manifest(raw_dir: Path, manifest: Manifest, new: list[SourceEntry]) -> None:
    """Add ``new`` entries to ``raw_dir/sources.yaml``, as the caller read it (``load_manifest``):
    inserted into its text when that is in the canonical layout (the entry lines are those the
    read found: no second parse), or the whole manifest rewritten."""
    inserted = None
    if manifest.canonical:
        entries = manifest.entries
        inserted = _inserted(manifest.text, [e.manifest_line for e in entries], [e.file for e in entries], new)
    _replace(raw_dir / MANIFEST_NAME, inserted if inserted is not None else dump_manifest(manifest.entries + new))


def _replace(path: Path, text: str) -> None:
    write_atomically(path, text.encode("utf-8"))


def write_manifest(raw_dir: Path, entries: list[SourceEntry]) -> None:
    _replace(raw_dir / MANIFEST_NAME, dump_manifest(entries))
