"""Benchmark (run by hand, not a test): number-word parsing accuracy and throughput.

    python bench/bench_numbers.py [--sample 5000] [--seed 0]

Times are CPU time of this process (robust to a busy machine). Prints a small table: accuracy of ``parse_number_words`` on num2words' Arabic spellings of a
random sample (num2words' doubled-scale defect, e.g. 101000 → "مائة و ألف ألف", counted apart),
numbers parsed per second, lines per second through ``extract_figures`` on the five source
articles and the corpus in ../shared/corpus (when present), and precision/recall on the five
articles against the expected figures written in tests/test_figures.py.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import regex
from num2words import num2words

from coalition_news.extract.figures import extract_figures
from coalition_news.lines import article_lines
from coalition_news.text.numbers import parse_number_words

REPO = Path(__file__).resolve().parents[1]
DEFECT = regex.compile(r"(مليون|ألف|مليار) \1")


def sample_numbers(n: int, rng: random.Random) -> list[int]:
    """A third each of small (1-999), medium (1-10^6) and large (1-10^12-1) numbers."""
    third = n // 3
    return (
        [rng.randint(1, 999) for _ in range(third)]
        + [rng.randint(1, 10**6) for _ in range(third)]
        + [rng.randint(1, 10**12 - 1) for _ in range(n - 2 * third)]
    )


def round_trip(numbers: list[int]) -> dict:
    words = [num2words(n, lang="ar") for n in numbers]
    valid = [(n, w) for n, w in zip(numbers, words) if not DEFECT.search(w)]
    t0 = time.process_time()
    ok = sum(parse_number_words(w) == n for n, w in valid)
    elapsed = time.process_time() - t0
    return {"sample": len(numbers), "num2words defect": len(numbers) - len(valid), "correct": ok,
            "accuracy": ok / len(valid), "parsed/s": len(valid) / elapsed}


def content_lines() -> list[str]:
    paths = sorted((REPO / "raw").glob("*.txt")) + sorted((REPO.parent / "shared" / "corpus").glob("*.txt"))
    lines = []
    for p in paths:
        lines += [ln.text for ln in article_lines(p.stem, p.read_text(encoding="utf-8")) if ln.extractable]
    return lines, len(paths)


def extraction_speed(lines: list[str], repeat: int = 20) -> dict:
    extract_figures(lines[0])  # load lexicons once
    t0 = time.process_time()
    n_figs = 0
    for _ in range(repeat):
        for line in lines:
            n_figs += len(extract_figures(line))
    elapsed = time.process_time() - t0
    return {"lines": len(lines), "figures": n_figs // repeat, "lines/s": len(lines) * repeat / elapsed}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rt = round_trip(sample_numbers(args.sample, random.Random(args.seed)))
    lines, n_articles = content_lines()
    speed = extraction_speed(lines)
    sys.path.insert(0, str(REPO / "tests"))
    from test_figures import precision_recall  # the expected figures live with the tests

    precision, recall, hits, found, expected = precision_recall()
    rows = [
        ("num2words round trip: sample", rt["sample"]),
        ("  skipped (num2words doubled scale)", rt["num2words defect"]),
        ("  accuracy", f"{rt['accuracy']:.4f}"),
        ("  numbers parsed per second", f"{rt['parsed/s']:,.0f}"),
        ("extract_figures: articles / lines", f"{n_articles} / {speed['lines']}"),
        ("  figures per pass", speed["figures"]),
        ("  lines per second", f"{speed['lines/s']:,.0f}"),
        ("  articles per second (est.)", f"{speed['lines/s'] * n_articles / speed['lines']:,.0f}"),
        ("five articles: found / expected / correct", f"{found} / {expected} / {hits}"),
        ("  precision / recall", f"{precision:.3f} / {recall:.3f}"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
