"""Property-based tests of every extractor, through ``extract_article`` (which runs them all).

On any text — arbitrary Unicode, or text assembled from the pieces Arabic news is made of (words,
reporting verbs, titles, digits in three scripts, number words, quotation marks, month and weekday
names, units, page furniture, invisible marks) — extraction never raises, every span is in bounds
and verbatim, its line number is right, ids are unique, references resolve, and the same input
always gives the same rows, whatever the article is called.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from coalition_news import schemas
from coalition_news.extract import extract_article
from coalition_news.extract.speakers import speaker_id, speaker_key
from coalition_news.ingest import Article
from coalition_news.manifest import Published, SourceEntry

ROW_TABLES = ("lines", "quotes", "speaker_mentions", "figures", "events")
ID_COLUMN = {"quotes": "quote_id", "speaker_mentions": "mention_id", "figures": "figure_id", "events": "event_id"}

FRAGMENTS = [
    # words, titles, names, places
    "التحالف الدولي", "القوات العراقية", "تنظيم", "داعش", "الوزير", "العقيد", "المتحدث باسم", "الرسمي",
    "واين ماروتو", "العقید", "مايلز كاغينز", "وزارة الدفاع", "بغداد", "الموصل", "الأنبار", "كركوك", "سوريا",
    "وكالة الأنباء", "ال", "و", "في", "من", "إلى", "أن", "إن", "لـ", "بـ", "المصدر:", "بغداد-واع-",
    # reporting verbs
    "قال", "وقال", "أكد", "وأكد", "أشار", "أوضح", "أضاف", "صرح", "ذكر", "أعلن", "نقلت",
    # numbers: digits in three scripts, separators, words, qualifiers, units
    "0", "1", "12", "300", "2019", "2020", "1441", "3.5", "1,000", "37,800", "١٢", "٣٧٬٨٠٠", "٣٫٥", "۱۲", "۴",
    "ثلاثة", "أربعة", "عشرون", "مائة", "مئتا", "ألف", "آلاف", "مليون", "ملايين", "مليار", "مليارات", "نحو",
    "أكثر من", "أقل من", "ما لا يقل عن", "قرابة", "حوالي", "دولار", "كيلومتر مربع", "كم2", "ضربة جوية",
    "غارة", "طلعة", "جندي", "عنصر", "%", "بالمئة", "في المائة", "F-16", "الساعة 07:16",
    # dates
    "كانون الثاني", "تشرين الثاني/نوفمبر", "نوفمبر", "أيار", "مايو/ أيار", "حزيران", "(حزيران)", "جانفي",
    "يوم الخميس", "يوم أمس", "أمس", "الأسبوع الماضي", "الشهر الماضي", "العام الماضي", "رمضان", "هـ", "م",
    "15-11-2020", "2020/11/15", "في عام", "منذ",
    # quotation marks and punctuation
    "«", "»", '"', "“", "”", "'", ":", "،", ".", "-", "–", "/", "(", ")", "[", "]", "؟", "!",
    # whitespace and invisible marks
    " ", " ", " ", "\n", "\n", "\r\n", "\r", "\u2028", "\x85", "\x0c", "\t", "\u00a0", "\u200c", "\u200d", "\u200f", "\u200e", "\u202b",
    "\u2066", "\u061c", "\u0640", "\ufeff", "\u064e", "\u0651",
    # page furniture
    "+A -A", "XS SM MD LG", "اقرأ أيضا", "0 تعليق", "[حقوق الصورة لوزارة الدفاع]", "(الأناضول)",
]

news_text = st.lists(st.sampled_from(FRAGMENTS), max_size=120).map("".join)
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=400)
lines_of_any_text = st.lists(st.text(st.characters(exclude_categories=("Cs",)), max_size=60), max_size=12).map("\n".join)
publication_day = st.none() | st.dates(dt.date(2014, 1, 1), dt.date(2026, 12, 31))

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def article_of(text: str, day: dt.date | None, number: int = 7) -> Article:
    """An in-memory article as ``ingest`` would make it from a file holding ``text``."""
    data = text.encode("utf-8", "surrogatepass")
    digest = hashlib.sha256(data).hexdigest()
    name = f"{number:03d}_{digest[:16]}.txt"
    published = Published(day.isoformat(), "day", "curated", "test") if day else Published(None, None, None, None)
    entry = SourceEntry(name, digest, None, None, published, "ar", None)
    return Article(name[:-4], f"raw/{name}", text, digest, len(data), entry)


def check_rows(text: str, article: Article) -> None:
    rows = extract_article(article)
    assert rows.article["article_id"] == article.article_id
    for table in ROW_TABLES:
        verbatim = schemas.verbatim_column(table)
        for row in getattr(rows, table):
            start, end = row["char_start"], row["char_end"]
            assert 0 <= start <= end <= len(text), (table, row)
            assert text[start:end] == row[verbatim], (table, row)
            assert text.count("\n", 0, start) + 1 == row["line"], (table, row)
            assert row["article_id"] == article.article_id
            if table != "lines":
                assert end > start, (table, row)  # an extracted span is never empty
        if table in ID_COLUMN:
            ids = [row[ID_COLUMN[table]] for row in getattr(rows, table)]
            assert len(ids) == len(set(ids)), table
            assert all(i.startswith(article.article_id + "-") for i in ids)
    assert len({row["line"] for row in rows.lines}) == len(rows.lines)
    # references resolve inside the article
    quote_ids = {q["quote_id"] for q in rows.quotes}
    assert {f["quote_id"] for f in rows.figures} - {None} <= quote_ids
    speaker_ids = {speaker_id(speaker_key(s)) for s in rows.speakers}
    assert {r["speaker_id"] for r in rows.quotes + rows.speaker_mentions} - {None} <= speaker_ids
    # stable: the same input gives the same rows
    assert extract_article(article) == rows


@SETTINGS
@given(news_text, publication_day)
def test_extraction_is_total_and_exact_on_news_like_text(text, day):
    check_rows(text, article_of(text, day))


@SETTINGS
@given(any_text, publication_day)
def test_extraction_is_total_and_exact_on_arbitrary_unicode(text, day):
    check_rows(text, article_of(text, day))


@settings(max_examples=60, deadline=None)
@given(lines_of_any_text, publication_day)
def test_extraction_is_total_and_exact_on_many_short_lines(text, day):
    check_rows(text, article_of(text, day))


def _renamed(value, old: str, new: str):
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: _renamed(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, old, new) for v in value]
    return value


@settings(max_examples=60, deadline=None)
@given(news_text, publication_day)
def test_rows_depend_on_the_text_not_on_the_article_name(text, day):
    """Ids come from content and position: the same text under another name gives the same rows."""
    a, b = article_of(text, day, 7), article_of(text, day, 8)
    rows_a, rows_b = extract_article(a), extract_article(b)
    for table in ROW_TABLES:
        assert _renamed(getattr(rows_a, table), a.article_id, b.article_id) == getattr(rows_b, table), table
    assert rows_a.speakers == rows_b.speakers


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(news_text, publication_day)
@example("عنوان\rفرعي\n\nقال الوزير إن 12 ضربة نفذت.\n", None)  # a lone CR: the CSV once split the row there
def test_any_news_like_article_yields_tables_that_pass_validation_and_round_trip(tmp_path, text, day):
    """A text ingest accepts never makes the build fail: validation (schemas, keys, provenance)
    passes, and the written CSV and Parquet read back equal (a lone CR once broke the CSV)."""
    from coalition_news.ingest import IngestError, decode_article
    from coalition_news.publish import write_release
    from coalition_news.tables import build_tables
    from coalition_news.validate import check_written, validate_frames

    try:
        decode_article("raw/x.txt", text.encode())
    except IngestError:
        return  # refused at the door: never reaches the tables
    article = article_of(text, day)
    frames = build_tables([extract_article(article)])
    validate_frames(frames, {article.article_id: text})
    out = tmp_path / hashlib.sha256(text.encode()).hexdigest()[:16] / "data"
    write_release(frames, out)
    assert check_written(out) == []


@pytest.mark.parametrize("text", ["", "\n", "\r\n", "«", "»«", '"', "قال: «", "1" * 50, "١" * 50, "\u200f" * 20, "+A -A"])
def test_degenerate_texts(text):
    check_rows(text, article_of(text, None))
