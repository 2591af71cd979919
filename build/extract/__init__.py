"""Stage 3 — extract: one article's lines → rows of every table, with exact provenance.

``extract_article`` is a pure function of one checked article. It runs the extractors —
quotes and speakers (``quotes``, ``speakers``), dates and events (``events``), figures
(``figures``) — on the article's content lines and turns their line-local spans into file
offsets: ``char_start = line.char_start + start``. Lines that are boilerplate or verbatim repeats
yield nothing. Ids come from provenance (article_id + kind letter + char_start), never row order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from functools import cache

from ..ingest import Article
from ..lines import Line, article_lines
from ..text.dates import find_dates, find_publication_date
from .events import extract_events
from .figures import extract_figures
from .quotes import extract_speech
from .speakers import SpeakerRef, speaker_id, speaker_key

# Bump when extraction output may change: cached per-article results are keyed on it.
EXTRACTOR_VERSION = "1"


@dataclass
class ArticleRows:
    """Everything extracted from one article, as plain dict rows keyed by schema column names."""

    article: dict
    lines: list[dict] = field(default_factory=list)
    quotes: list[dict] = field(default_factory=list)
    speaker_mentions: list[dict] = field(default_factory=list)
    figures: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    speakers: list[SpeakerRef] = field(default_factory=list)


def row_id(article_id: str, letter: str, char_start: int) -> str:
    """``row_id("007_0123456789abcdef", "q", 1234)`` → ``"007_0123456789abcdef-q0001234"``."""
    return f"{article_id}-{letter}{char_start:07d}"


# line-local spans are replaced by file provenance; sub-spans (trigger, location) are
# published as text only, which is verbatim within the row's line
_NOT_RECORDED = frozenset({"start", "end", "line", "speaker", "trigger_start", "trigger_end", "location_start", "location_end"})


@cache
def _recorded_fields(cls: type) -> tuple[str, ...]:
    """The field names ``_record`` copies, in declaration order (``fields`` is slow per call)."""
    return tuple(f.name for f in fields(cls) if f.name not in _NOT_RECORDED)


def _record(obj) -> dict:
    """A dataclass as a dict, minus the line-local span (replaced by file provenance)."""
    d = obj.__dict__  # shallow: asdict's deep copy is slow; frozen dataclasses keep a __dict__
    return {name: d[name] for name in _recorded_fields(type(obj))}


def _located(obj, ln: Line, start: int, end: int) -> dict:
    """``_record(obj)`` with the file provenance of its line-local span ``[start, end)``: filled in
    place (no second dict built and merged per row)."""
    row = _record(obj)
    row["article_id"] = ln.article_id
    row["line"] = ln.line
    row["char_start"] = ln.char_start + start
    row["char_end"] = ln.char_start + end
    return row


def publication_window(article: Article, lines: list[Line]) -> tuple[dt.date | None, dt.date | None]:
    """The earliest and latest day the article can have been published, for resolving relative dates.

    The manifest's day when known; else the day the text prints in its dateline; else the
    manifest's month or year as a window (a relative date is kept only if both ends agree on it).
    """
    pub = article.source.published
    if pub.day:
        return pub.day, pub.day
    stated = find_publication_date(lines)
    if stated:
        return stated[0], stated[0]
    if pub.date and pub.precision == "month":
        first = dt.date.fromisoformat(pub.date + "-01")
        last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        return first, last
    if pub.date and pub.precision == "year":
        return dt.date(int(pub.date), 1, 1), dt.date(int(pub.date), 12, 31)
    return None, None


def article_record(article: Article, lines: list[Line]) -> dict:
    pub = article.source.published
    title = next((ln for ln in lines if ln.kind == "title"), None)
    stated = find_publication_date(lines)
    bylines = [ln.text.strip() for ln in lines if ln.kind == "byline" and ln.repeat_of is None]
    return {
        "article_id": article.article_id,
        "title": title.text.strip() if title else None,
        "title_line": title.line if title else None,
        "byline": " | ".join(bylines) or None,
        "published_date": pub.day,
        "published_period": pub.date,
        "published_date_precision": pub.precision,
        "published_date_basis": pub.basis,
        "published_date_reason": pub.reason,
        "published_date_in_text": stated[0] if stated else None,
        "source_name": article.source.outlet,
        "source_url": article.source.url,
        "language": article.source.language,
        "raw_path": article.raw_path,
        "raw_sha256": article.sha256,
        "raw_bytes": article.n_bytes,
        "n_chars": len(article.text),
        "n_lines": len(lines),
        "notes": article.source.notes,
    }


def extract_article(article: Article) -> ArticleRows:
    """All rows of one article. Pure: the same article always gives the same rows."""
    lines = article_lines(article.article_id, article.text)
    by_number = {ln.line: ln for ln in lines}
    rows = ArticleRows(article=article_record(article, lines))
    rows.lines = [
        {"article_id": ln.article_id, "line": ln.line, "char_start": ln.char_start, "char_end": ln.char_start + len(ln.text),
         "text": ln.text, "kind": ln.kind, "repeat_of": ln.repeat_of}
        for ln in lines
    ]

    quotes, mentions = extract_speech(lines)
    quote_spans: list[tuple[int, int, str]] = []
    for q in quotes:
        row = _located(q, by_number[q.line], q.start, q.end)
        qid = row["quote_id"] = row_id(article.article_id, "q", row["char_start"])
        row["speaker_id"] = speaker_id(speaker_key(q.speaker)) if q.speaker else None
        rows.quotes.append(row)
        quote_spans.append((row["char_start"], row["char_end"], qid))
        if q.speaker:
            rows.speakers.append(q.speaker)
    for m in mentions:
        row = _located(m, by_number[m.line], m.start, m.end)
        row["mention_id"] = row_id(article.article_id, "m", row["char_start"])
        row["speaker_id"] = speaker_id(speaker_key(m.speaker))
        rows.speaker_mentions.append(row)
        rows.speakers.append(m.speaker)

    earliest, latest = publication_window(article, lines)
    for ln in lines:
        if not ln.extractable:
            continue
        dates = find_dates(ln.text, earliest, latest)
        for ev in extract_events(ln.text, earliest, latest):
            row = _located(ev, ln, ev.start, ev.end)
            row["event_id"] = row_id(article.article_id, "e", row["char_start"])
            rows.events.append(row)
        # Only explicit dates are masked: a relative period ("السنوات الست الأخيرة") is also a stated duration.
        explicit_dates = [(d.start, d.end) for d in dates if d.basis == "explicit"]
        for fig in extract_figures(ln.text, masked=explicit_dates):
            row = _located(fig, ln, fig.start, fig.end)
            start, end = row["char_start"], row["char_end"]
            row["figure_id"] = row_id(article.article_id, "f", start)
            row["quote_id"] = next((qid for s, e, qid in quote_spans if s <= start and end <= e), None)
            rows.figures.append(row)
    return rows


def forget_text_memos() -> None:
    """Empty extraction's bounded caches (``lru_cache(maxsize=...)``: keyed on words, names and
    lines); the unbounded ones (``cache``: lexicons, compiled patterns) stay.

    For the build process when workers extract: tabling a block merges its speakers, which fills
    the caches of speaker keys and of the words in them, and kept from block to block they grow
    with the corpus toward their bounds (65,536 entries each): small objects that also keep the
    memory around them from being given back. Emptied after each block, a 100,000-article build
    peaked 37 MB lower (docs/performance.md), and was no slower: a block's keys are soon worked out again.
    """
    import sys

    from .. import text

    packages = (f"{__name__}.", f"{text.__name__}.")  # extraction's modules: extract.* and text.*
    for name, module in list(sys.modules.items()):
        if not name.startswith(packages):
            continue
        for value in vars(module).values():
            parameters = getattr(value, "cache_parameters", None)
            if parameters is not None and parameters()["maxsize"] is not None:
                value.cache_clear()


# A made-up article (no source article's text) touching each extractor: a title, a dated line with a
# figure, a quote with its speaker. Extracting it loads the lexicons and compiles the patterns.
_WARM_UP_TEXT = "عنوان\nقال المتحدث باسم الوزارة يوم الاثنين 3 مارس 2015 إن الطائرات نفذت 12 غارة.\nوأضاف: \"العمليات مستمرة\".\n"


def warm_up() -> None:
    """Load what extraction loads on first use (lexicons, ~0.5 s of compiling patterns), so that a
    process started early (``pipeline.Workers.warm_aside``) extracts its first article at full speed."""
    from ..ingest import sha256_hex
    from ..manifest import Published, SourceEntry

    data = _WARM_UP_TEXT.encode("utf-8")
    digest = sha256_hex(data)
    entry = SourceEntry(f"warm_{digest[:16]}.txt", digest, None, None, Published(None, None, None, None), "ar", None)
    extract_article(Article(entry.article_id, f"raw/{entry.file}", _WARM_UP_TEXT, digest, len(data), entry))
