"""Benchmark: our Arabic date parser against dateparser 1.5 on tests/data/date_expressions.yaml,
and the speed of date and event extraction.

Run by hand: ``/tmp/venv0/bin/python bench/bench_dates.py``. Prints accuracies and timings.

Scoring, per case of the suite (each written by hand with its publication date):
- strict (ours only): the expected verbatim span is found with the expected start, end, precision;
- lenient (both): some date found in the text lies within the expected [start, end]
  (for dateparser: the datetime it returns; for ours: a mention's start and end) — and for cases
  that expect no date, nothing is found;
- given the span (both): the parser reads the expected span alone and lands within [start, end].
dateparser runs with languages=['ar'] (search_dates and parse) and with locales=['ar-IQ'] (parse;
search_dates takes no locales), RELATIVE_BASE = publication date, PREFER_DATES_FROM = 'past'.
"""

from __future__ import annotations

import datetime as dt
import time
import warnings
from pathlib import Path

import yaml

from coalition_news.extract.events import extract_events
from coalition_news.text import normalise
from coalition_news.text.dates import _find_dates_cached, find_dates

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"


def _settings(published: dt.date | None) -> dict:
    s = {"PREFER_DATES_FROM": "past"}
    if published:
        s["RELATIVE_BASE"] = dt.datetime(published.year, published.month, published.day)
    return s


def _within(d: dt.date, case: dict) -> bool:
    return case["start"] <= d <= case["end"]


def ours_strict(case: dict) -> bool:
    found = find_dates(case["text"], case["published"])
    if case["span"] is None:
        return not found
    return any((m.text, m.date_start, m.date_end, m.precision) == (case["span"], case["start"], case["end"], case["precision"])
               for m in found)


def ours_lenient(case: dict) -> bool:
    found = find_dates(case["text"], case["published"])
    if case["span"] is None:
        return not found
    return any(_within(m.date_start, case) and _within(m.date_end, case) for m in found)


def ours_span(case: dict) -> bool:
    found = find_dates(case["span"], case["published"])
    return any(_within(m.date_start, case) and _within(m.date_end, case) for m in found)


def dateparser_search(case: dict) -> bool:
    from dateparser.search import search_dates

    found = search_dates(case["text"], languages=["ar"], settings=_settings(case["published"])) or []
    if case["span"] is None:
        return not found
    return any(_within(d.date(), case) for _, d in found)


def dateparser_span(case: dict, **kw) -> bool:
    import dateparser

    d = dateparser.parse(case["span"], settings=_settings(case["published"]), **kw)
    return d is not None and _within(d.date(), case)


def accuracy(cases: list[dict], judge) -> tuple[int, int]:
    ok = 0
    for c in cases:
        try:
            ok += bool(judge(c))
        except Exception:  # noqa: BLE001 - a crash of a parser counts as a miss
            pass
    return ok, len(cases)


def _fmt(name: str, result: tuple[int, int]) -> str:
    ok, n = result
    return f"  {name:52} {ok:4d}/{n:<4d} {100 * ok / n:5.1f} %"


def speed() -> None:
    paths = sorted((REPO / "raw").glob("*.txt")) + (sorted(CORPUS.glob("*.txt")) if CORPUS.is_dir() else [])
    lines = [ln for p in paths for ln in p.read_text(encoding="utf-8").split("\n") if ln.strip()]
    published = dt.date(2018, 6, 30)
    from dateparser.search import search_dates

    def dateparser_search_dates(line: str, day: dt.date):
        return search_dates(line, languages=["ar"], settings=_settings(day))

    rates = {}
    for name, fn, rounds in (("find_dates", find_dates, 5), ("extract_events", extract_events, 5),
                             ("dateparser", dateparser_search_dates, 2)):
        fn(lines[0], published)  # load lexicons once
        best = float("inf")
        for _ in range(rounds):
            # each line is new to the pipeline: forget every per-line cache (word caches stay, as in a build)
            for per_line in (_find_dates_cached, normalise._view, normalise.translated, normalise.letter_words):
                per_line.cache_clear()
            t = time.process_time()  # CPU time of this process: steadier than wall time on a busy machine
            for ln in lines:
                fn(ln, published)
            best = min(best, time.process_time() - t)
        rates[name] = len(lines) / best
        print(f"  {name:16} {len(lines)} lines of {len(paths)} articles: {1000 * best:7.1f} ms"
              f" = {len(lines) / best:8.0f} lines/s = {len(paths) / best:6.0f} articles/s (CPU time, best of {rounds})")
    print(f"  find_dates / dateparser.search_dates(languages=['ar']): {rates['find_dates'] / rates['dateparser']:.1f}× the lines per second")


def main() -> None:
    warnings.filterwarnings("ignore")
    cases = yaml.safe_load((REPO / "tests" / "data" / "date_expressions.yaml").read_text(encoding="utf-8"))["cases"]
    positive = [c for c in cases if c["span"] is not None]
    print(f"date expression suite: {len(cases)} cases ({len(positive)} with a date, {len(cases) - len(positive)} without)")
    print("search in the text:")
    print(_fmt("coalition_news find_dates, strict (span+dates+precision)", accuracy(cases, ours_strict)))
    print(_fmt("coalition_news find_dates, lenient", accuracy(cases, ours_lenient)))
    print(_fmt("dateparser search_dates languages=['ar'], lenient", accuracy(cases, dateparser_search)))
    print("given the exact span (cases with a date):")
    print(_fmt("coalition_news find_dates", accuracy(positive, ours_span)))
    print(_fmt("dateparser.parse languages=['ar']", accuracy(positive, lambda c: dateparser_span(c, languages=["ar"]))))
    print(_fmt("dateparser.parse locales=['ar-IQ']", accuracy(positive, lambda c: dateparser_span(c, locales=["ar-IQ"]))))
    print("speed:")
    speed()


if __name__ == "__main__":
    main()
