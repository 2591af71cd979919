"""The extraction oracle: is the output of ``extract_article`` unchanged by a change made for speed?

    python bench/extract_oracle.py record [--synthetic N] [--out FILE]   # before the change
    python bench/extract_oracle.py check  [--synthetic N] [--out FILE]   # after it: exit 1 on a difference
    python bench/extract_oracle.py time   [--synthetic N] [--passes K]   # the speed alone (for callgrind)

It extracts the articles of ``raw/`` and of ``../shared/corpus`` (when present) and ``N`` synthetic
ones (``synth.synthetic_texts``, the benchmark's corpus, made in memory), and keeps a SHA-256 of each
article's rows. ``check`` names every article whose rows differ from the recorded ones. Each run
also prints ``extract_article``'s articles per CPU-second over the synthetic articles (a second
pass, its bounded caches emptied first, as the benchmark's "extraction alone"): noisy on a shared
machine. For a figure that is not, count instructions: run ``time --synthetic 150`` under
``valgrind --tool=callgrind`` with ``--passes 1`` and then ``--passes 2``; the difference over 150
is the instructions per article (making the corpus and starting up cancel out).

The record holds digests of one version of the code's output: a working file for one change, kept
in bench/out/ (not committed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # synth, beside this script

from synth import REPO, synthetic_texts  # noqa: E402

from coalition_news.extract import ArticleRows, extract_article, forget_text_memos, warm_up  # noqa: E402
from coalition_news.ingest import Article, sha256_hex  # noqa: E402
from coalition_news.manifest import Published, SourceEntry  # noqa: E402

DEFAULT_RECORD = REPO / "bench" / "out" / "extract-oracle.json"
REAL_DIRS = (REPO / "raw", REPO.parent / "shared" / "corpus")


def _article(name: str, data: bytes) -> Article:
    """An article from its bytes alone, undated (no manifest: the oracle compares code, not sources)."""
    digest = sha256_hex(data)
    entry = SourceEntry(f"{name}.txt", digest, None, None, Published(None, None, None, None), "ar", None)
    return Article(entry.article_id, f"raw/{entry.file}", data.decode("utf-8-sig"), digest, len(data), entry)


def oracle_articles(n_synthetic: int, real_dirs=REAL_DIRS) -> tuple[list[Article], list[Article]]:
    """(the real articles, the synthetic ones), each named by where it comes from."""
    real = [_article(f"{folder.name}/{path.stem}", path.read_bytes())
            for folder in real_dirs if folder.is_dir() for path in sorted(folder.glob("*.txt"))]
    synthetic = [_article(f"synthetic/{k:06d}", data) for k, data in enumerate(synthetic_texts(n_synthetic))]
    return real, synthetic


def rows_digest(rows: ArticleRows) -> str:
    """SHA-256 of every row of an article, in order (``repr`` of plain dicts, tuples and frozen
    dataclasses: the same rows give the same text)."""
    parts = (rows.article, rows.lines, rows.quotes, rows.speaker_mentions, rows.figures, rows.events, rows.speakers)
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


def digests(articles: list[Article]) -> dict[str, str]:
    return {a.article_id: rows_digest(extract_article(a)) for a in articles}


def differences(recorded: dict[str, str], now: dict[str, str]) -> list[str]:
    """The articles whose rows differ, or that are in one run and not the other."""
    return sorted(k for k in recorded.keys() | now.keys() if recorded.get(k) != now.get(k))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("record", "check", "time"))
    parser.add_argument("--synthetic", type=int, default=10_000, help="synthetic articles (default 10,000)")
    parser.add_argument("--passes", type=int, default=1, help="time: passes over the synthetic articles (default 1)")
    parser.add_argument("--out", type=Path, default=DEFAULT_RECORD, help=f"the record (default {DEFAULT_RECORD.relative_to(REPO)})")
    args = parser.parse_args(argv)

    real, synthetic = oracle_articles(args.synthetic)
    warm_up()
    now = digests(real + synthetic) if args.mode != "time" else {}
    passes = args.passes if args.mode == "time" else 1
    cpu = 0.0
    for _ in range(passes):
        forget_text_memos()  # each pass as cold as the first: no line of an earlier pass remembered
        start = time.process_time()
        for article in synthetic:
            extract_article(article)
        cpu += time.process_time() - start
    if synthetic:
        print(f"speed: {passes * len(synthetic) / cpu:,.0f} articles per CPU-second ({len(synthetic):,} synthetic)")

    if args.mode == "time":
        return 0
    if args.mode == "record":
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(now, indent=0, sort_keys=True), encoding="utf-8")
        print(f"recorded {len(now):,} articles' rows in {args.out}")
        return 0
    if not args.out.is_file():
        print(f"no record at {args.out}: run `record` on the code before the change", file=sys.stderr)
        return 2
    changed = differences(json.loads(args.out.read_text(encoding="utf-8")), now)
    print(f"checked {len(now):,} articles: {len(changed):,} differ")
    for key in changed[:20]:
        print(f"  differs: {key}")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
