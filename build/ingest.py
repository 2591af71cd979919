"""Stage 1 — ingest: raw bytes + manifest → checked, decoded articles.

Nothing reaches the tables unless every raw file passes every check. The build refuses, naming the
file (and the line or byte where it applies):

- a ``.txt`` file in ``raw/`` that the manifest does not list;
- a manifest entry whose file is missing;
- a file whose SHA-256 differs from the one registered (it changed after registration);
- bytes that are not valid UTF-8 (the byte offset and line are named; UTF-16 is recognised and named);
- an empty file (no bytes, or only whitespace);
- a NUL character (binary data, or UTF-16 without its byte order mark);
- a text with no Arabic letter (the wrong file, or a legacy encoding that happens to decode);
- two files with the same content;
- a file larger than ``MAX_ARTICLE_BYTES`` (refused from its size, before it is read) or with a line
  longer than ``MAX_LINE_CHARS``;
- anything in ``raw/`` that is not a regular ``.txt`` file (a folder, a symbolic link).

Accepted as they are, and counted as they are (offsets index Python's ``data.decode("utf-8")``):

- a UTF-8 byte order mark: it is character 0 of the text and of line 1 (offsets count it);
- CRLF line endings: the CR stays in the text and counts in offsets, but is not part of any line's span.

All problems are collected and reported together, so one run shows everything to fix.
See docs/robustness.md for the reasons behind each decision.
All problems are collected and reported together, so one run shows everything to fix.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, replace
from pathlib import Path

from .derived import keep, recall
from .errors import BuildError
from .manifest import MANIFEST_NAME, SourceEntry, read_manifest
from .text.normalise import has_arabic

# Limits that keep one bad file from exhausting the build (docs/robustness.md). Of 35 real articles
# the largest is 12.6 KB and the longest line (a paragraph) 3,977 characters: the limits leave
# room for 80x and 5x that, and keep the worst case of the extractors (long runs of digits or
# number words cost time quadratic in the line's length) to seconds, not hours.
MAX_ARTICLE_BYTES = 1024 * 1024
MAX_LINE_CHARS = 20_000
CHECKED_RAW = "checked-raw"  # the ``derived`` name of the digests that passed ``decode_article``
RAW_STATS = "raw-stats"      # … and of (when, file name → ((size, mtime, ctime, inode), digest))
RACY_NS = 1_000_000_000      # a file changed this close to the last look is read again
BOM = "\ufeff"  # a UTF-8 byte order mark decodes to this character; it is kept (see above)


MAX_SHOWN = 100  # problems an IngestError's message lists one by one; the rest are counted by kind


class IngestError(BuildError):
    """One or more raw files were refused; the message lists each with its location (the first
    ``MAX_SHOWN``, then how many more of each kind: 10,000 unregistered files make one line, not
    10,000). ``problems`` holds them all."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[:MAX_SHOWN])
        hidden = Counter(p.split(": ", 1)[-1] for p in problems[MAX_SHOWN:])  # the problem without its file
        kinds = hidden.most_common(5)
        more = "".join(f"\n  … and {n:,} more: {kind}" for kind, n in kinds)
        others = sum(hidden.values()) - sum(n for _, n in kinds)
        if others:
            more += f"\n  … and {others:,} more of other kinds"
        super().__init__("the raw articles were refused:\n" + shown + more)

    def __reduce__(self):  # raised in a worker process, it crosses to the build process whole
        return type(self), (self.problems,)


# slots: ~100 bytes less than a __dict__ for each of a build's articles; weakref_slot: tests watch them go
@dataclass(frozen=True, slots=True, weakref_slot=True)
class Article:
    """A raw article that passed every check: its decoded text and its manifest entry."""

    article_id: str
    raw_path: str        # relative to the repository, e.g. "raw/007_0123456789abcdef.txt"
    text: str | None     # the whole file decoded as UTF-8; all offsets index into this (None: not read
                         # yet, ``read_raw(unread_ok=True)``; ``with_texts`` reads it)
    sha256: str
    n_bytes: int
    source: SourceEntry


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def too_large(name: str, n_bytes: int) -> str:
    return f"{name}: {n_bytes:,} bytes is larger than the limit of {MAX_ARTICLE_BYTES:,} bytes"


def _utf16_hint(data: bytes) -> str:
    """A hint when the bytes look like UTF-16: a byte order mark, or NUL bytes all at one parity.

    Arabic in UTF-16 without a BOM often decodes as "valid" UTF-8 (ASCII plus U+0006), but its
    spaces and newlines carry a NUL high byte, always at even (BE) or always at odd (LE) offsets.
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return " (it looks like UTF-16; save it as UTF-8)"
    nul_parities = {i % 2 for i, byte in enumerate(data[:4096]) if byte == 0}
    if len(nul_parities) == 1 and data[:4096].count(0) >= 2:
        return " (it looks like UTF-16 without a byte order mark; save it as UTF-8)"
    return ""


def decode_article(name: str, data: bytes) -> str:
    """Decode one raw file's bytes, or raise IngestError naming what is wrong and where.

    >>> decode_article("x.txt", "قال".encode())
    'قال'
    >>> decode_article("x.txt", b"\\xef\\xbb\\xbf" + "قال".encode())  # a UTF-8 BOM is kept as character 0
    '\\ufeffقال'
    """
    if len(data) > MAX_ARTICLE_BYTES:
        raise IngestError([too_large(name, len(data))])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise IngestError(
            [f"{name}: line {line}, byte {exc.start}: not valid UTF-8 ({exc.reason}: {data[exc.start:exc.start + 4]!r}){_utf16_hint(data)}"]
        ) from None
    if not text.lstrip(BOM).strip():
        raise IngestError([f"{name}: the file is empty" + (" (whitespace only)" if data else " (0 bytes)")])
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise IngestError([f"{name}: line {line}: contains a NUL character; raw articles are plain text{_utf16_hint(data)}"])
    for number, line_text in enumerate(text.split("\n"), start=1):
        if len(line_text) > MAX_LINE_CHARS:
            raise IngestError([f"{name}: line {number} has {len(line_text):,} characters, over the limit of {MAX_LINE_CHARS:,}"])
    if not has_arabic(text):
        raise IngestError([f"{name}: no Arabic letter in the text; raw articles are Arabic news (the wrong file, or the wrong encoding?)"])
    return text


def check_raw(files: Mapping[str, bytes], entries: Iterable[SourceEntry], raw_label: str = "raw",
              checked: Set[str] = frozenset(), unread: Mapping[str, tuple[str, int]] | None = None,
              keep_texts: bool = True) -> list[Article]:
    """Pure core of ingest: file name → bytes, plus the manifest entries → articles, sorted by id.

    ``checked``: SHA-256 digests of contents that passed ``decode_article`` before (it depends on
    the bytes alone), which are only decoded. ``unread``: file name → (SHA-256, size) of files
    known unchanged since their contents passed (``read_raw``), which are not read at all: their
    articles come without text. ``keep_texts`` False: no article keeps its text once checked
    (``files`` may then read each file as it is asked for: one is held at a time).
    Raises IngestError listing every problem found.
    """
    problems: list[str] = []
    entries = list(entries)
    unread = unread or {}
    present = set(files) | set(unread)
    by_name = {e.file: e for e in entries}
    for name in sorted(present - set(by_name)):
        problems.append(f"{raw_label}/{name}: not listed in {raw_label}/{MANIFEST_NAME} (register it with `make add FILE=...`)")
    for entry in entries:
        if entry.file not in present:
            problems.append(f"{raw_label}/{MANIFEST_NAME}:{entry.manifest_line}: lists {entry.file}, which is not in {raw_label}/")
    articles: list[Article] = []
    first_with_hash: dict[str, str] = {}
    for name in sorted(present & set(by_name)):
        data, entry = files.get(name), by_name[name]
        digest, n_bytes = unread[name] if data is None else (sha256_hex(data), len(data))
        if digest == entry.sha256:
            digest = entry.sha256  # the same text: one string held per article, not two
        if digest in first_with_hash:
            problems.append(f"{raw_label}/{name}: same content as {raw_label}/{first_with_hash[digest]} (duplicate article)")
            continue
        first_with_hash[digest] = name
        if digest != entry.sha256:
            problems.append(
                f"{raw_label}/{name}: SHA-256 is {digest}, but {raw_label}/{MANIFEST_NAME}:{entry.manifest_line} "
                f"registered {entry.sha256}; raw files are never edited (add a changed article as a new file)"
            )
            continue
        if data is None:
            articles.append(Article(entry.article_id, f"{raw_label}/{name}", None, digest, n_bytes, entry))
            continue
        try:
            text = data.decode("utf-8") if digest in checked else decode_article(f"{raw_label}/{name}", data)
        except IngestError as exc:
            problems.extend(exc.problems)
            continue
        articles.append(Article(entry.article_id, f"{raw_label}/{name}", text if keep_texts else None, digest, n_bytes, entry))
    if problems:
        raise IngestError(problems)
    return articles


class _FilesOnDisk(Mapping):
    """File name → bytes of the files ``names`` in ``folder``, each read when it is asked for
    (``check_raw(keep_texts=False)``)."""

    def __init__(self, folder: Path, names: set[str]):
        self._folder, self._names = str(folder), names

    def __getitem__(self, name: str) -> bytes:
        if name not in self._names:
            raise KeyError(name)
        with open(os.path.join(self._folder, name), "rb") as f:  # pathlib would intern every name
            return f.read()

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


@contextlib.contextmanager
def _without_gc():
    """Ingest makes hundreds of thousands of small objects, none in a cycle; the cyclic garbage
    collector, run every 700 allocations, would visit all of them again and again (at 100,000
    articles it took 2.5 of 6.4 s). Reference counting still frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_raw(raw_dir: Path, unread_ok: bool = False) -> list[Article]:
    """I/O edge: read ``raw_dir`` and its manifest, then ``check_raw``.

    A file over ``MAX_ARTICLE_BYTES`` is refused from its size alone, so a huge file is never read.
    During a build (``derived``), the digests of the contents that passed are kept, and a later
    build only decodes those contents instead of checking them again (~0.3 s at 10,000 articles).
    With ``unread_ok``, a file whose size, times and inode are those it had when its content passed
    is not read either (as git trusts its index), and every article comes without text:
    ``with_texts`` reads it when it is needed, checking its SHA-256 again. A file changed within a second of the
    last look is read anyway (git's "racily clean" entries): timestamps may be too coarse to show it.
    """
    with _without_gc():
        return _read_raw(raw_dir, unread_ok)


def _read_raw(raw_dir: Path, unread_ok: bool) -> list[Article]:
    label = raw_dir.name
    entries = read_manifest(raw_dir)
    listed = {e.file for e in entries}
    to_read: set[str] = set()  # the files to read and check
    oversized: set[str] = set()
    refused: list[tuple[str, str]] = []  # (file name, problem), in listing order
    checked = recall(CHECKED_RAW, frozenset())
    known_at, known = recall(RAW_STATS, (0, {})) if unread_ok else (0, {})
    stats: dict[str, tuple] = {}
    unread: dict[str, tuple[str, int]] = {}
    looked_at = time.time_ns()
    # The file types come with the listing: no stat per file. Each entry is let go once looked at
    # (a sorted list of them held ~250 bytes an article at once).
    with os.scandir(raw_dir) as listing:
        for item in listing:
            name = item.name
            if name == MANIFEST_NAME or name.startswith("."):
                continue
            if not name.endswith(".txt") or item.is_symlink() or not item.is_file():
                refused.append((name, f"{label}/{name}: unexpected entry in raw/ (only .txt articles and {MANIFEST_NAME} belong there; no folders or links)"))
                continue
            st = item.stat()
            if st.st_size > MAX_ARTICLE_BYTES:
                refused.append((name, too_large(f"{label}/{name}", st.st_size)))
                if name not in listed:
                    refused.append((name, f"{label}/{name}: not listed in {label}/{MANIFEST_NAME} (register it with `make add FILE=...`)"))
                oversized.add(name)
                continue
            stat = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
            stats[name] = stat
            seen = known.get(name)
            if seen and seen[0] == stat and seen[1] in checked and max(stat[1], stat[2]) < known_at - RACY_NS:
                unread[name] = (seen[1], stat[0])
                continue
            to_read.add(name)
    problems = [problem for _, problem in sorted(refused, key=lambda p: p[0])]  # in file-name order (stable)
    try:
        # Each file is read as it is checked. A build's articles come without their texts: each
        # block reads its own when it starts (``with_texts``), so none is held here.
        articles = check_raw(_FilesOnDisk(raw_dir, to_read), [e for e in entries if e.file not in oversized], label, checked,
                             unread, keep_texts=not unread_ok)
    except IngestError as exc:
        raise IngestError(problems + exc.problems) from None
    if problems:
        raise IngestError(problems)
    passed = frozenset(a.sha256 for a in articles)
    if passed != checked:
        keep(CHECKED_RAW, passed)
    if unread_ok:
        keep(RAW_STATS, (looked_at, {a.source.file: (stats[a.source.file], a.sha256) for a in articles}))
    return articles


def with_texts(articles: list[Article], root: Path) -> list[Article]:
    """``articles``, each with its text: a file ``read_raw`` left unread is read now (its path is
    relative to ``root``) and must still have the SHA-256 it was checked with."""
    out = []
    for article in articles:
        if article.text is None:
            data = (root / article.raw_path).read_bytes()
            if sha256_hex(data) != article.sha256:
                raise IngestError([f"{article.raw_path}: changed during the build (SHA-256 {sha256_hex(data)}, "
                                   f"registered {article.sha256}); raw files are never edited"])
            article = replace(article, text=data.decode("utf-8"))
        out.append(article)
    return out
