"""Dates: the hand-written suite of tests/data/date_expressions.yaml, month names of every press
tradition, publication dates stated in datelines, and relative dates that follow the publication date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import babel.dates
import pytest
import yaml

from coalition_news.lines import article_lines
from coalition_news.text.dates import find_dates, find_publication_date

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
SUITE = yaml.safe_load((REPO / "tests" / "data" / "date_expressions.yaml").read_text(encoding="utf-8"))["cases"]


def _raw(prefix: str) -> tuple[str, str]:
    path = next((REPO / "raw").glob(f"{prefix}_*.txt"))
    return path.stem, path.read_text(encoding="utf-8")


def _case_id(case: dict) -> str:
    return f"{case['from']}:{case['span'] or 'none'}"


def test_suite_is_large_and_varied():
    assert len(SUITE) >= 150
    assert {c["precision"] for c in SUITE if c["span"]} == {"day", "week", "month", "year", "range"}
    assert sum(1 for c in SUITE if c["span"] is None) >= 10  # texts that must yield no date


@pytest.mark.parametrize("case", SUITE, ids=[_case_id(c) for c in SUITE])
def test_date_expression(case):
    mentions = find_dates(case["text"], case["published"])
    for m in mentions:
        assert case["text"][m.start:m.end] == m.text
    if case["span"] is None:
        assert mentions == []
        return
    found = [m for m in mentions if m.text == case["span"]]
    assert found, f"{case['span']!r} not among {[m.text for m in mentions]}"
    m = found[0]
    assert (m.date_start, m.date_end, m.precision) == (case["start"], case["end"], case["precision"])


def test_suite_texts_are_quoted_from_their_sources():
    """Cases that name an article or a corpus file quote it verbatim (constructed ones are marked)."""
    raw = {p.name[:3]: p.read_text(encoding="utf-8") for p in (REPO / "raw").glob("*.txt")}
    corpus = {p.name: p.read_text(encoding="utf-8") for p in CORPUS.glob("*.txt")} if CORPUS.is_dir() else {}
    for case in SUITE:
        source = case["from"]
        if source == "constructed":
            continue
        if source in raw:
            assert case["text"] in raw[source], case["text"]
        elif corpus:
            texts = [t for name, t in corpus.items() if source in name]
            assert texts and any(case["text"] in t for t in texts), case["text"]


@pytest.mark.parametrize("locale", ["ar_IQ", "ar_SY", "ar_LB", "ar_EG", "ar_SA", "ar_TN", "ar_DZ", "ar_MA"])
def test_every_cldr_month_name_is_read(locale):
    for number, name in babel.dates.get_month_names("wide", locale=locale).items():
        m, = find_dates(f"وقع الهجوم في 3 {name} 2019 قرب", None)
        assert m.date_start == dt.date(2019, number, 3), name


def test_dual_month_names_must_agree():
    """"14 آذار/نوفمبر" names two months: not read as a day of either."""
    assert [m.precision for m in find_dates("في 14 آذار/نوفمبر", dt.date(2020, 12, 1))] != ["day"]


def test_day_and_month_without_year_take_the_latest_year_on_or_before_publication():
    (m,) = find_dates("في 20 تشرين الثاني", dt.date(2020, 11, 15))
    assert m.date_start == dt.date(2019, 11, 20) and m.basis == "relative"
    (m,) = find_dates("في 15 تشرين الثاني", dt.date(2020, 11, 15))
    assert m.date_start == dt.date(2020, 11, 15)


def test_publication_date_stated_in_the_dateline():
    assert find_publication_date(article_lines(*_raw("000"))) == (dt.date(2020, 11, 15), "15-11-2020")
    assert find_publication_date(article_lines(*_raw("003"))) == (dt.date(2021, 3, 21), "21 مارس 2021")


@pytest.mark.parametrize("prefix", ["001", "002", "004"])
def test_no_publication_date_when_the_text_states_none(prefix):
    """002's caption date (14 تشرين الثاني 2019) is a photo's date, not the article's."""
    assert find_publication_date(article_lines(*_raw(prefix))) is None


def _dates_of(text: str, published: dt.date) -> list:
    return [m for line in text.split("\n") for m in find_dates(line, published)]


def test_relative_dates_follow_the_publication_date():
    """A copy of article 001 published on another day: explicit dates stay, relative ones move."""
    _, text = _raw("001")
    later = dt.date(2022, 3, 15)
    before = _dates_of(text, dt.date(2020, 11, 1))
    after = _dates_of(text, later)
    assert [m.text for m in before] == [m.text for m in after]
    assert sum(1 for m in before if m.basis == "relative") >= 5
    for a, b in zip(before, after):
        if a.basis == "explicit":
            assert (a.date_start, a.date_end) == (b.date_start, b.date_end)
        else:
            assert b.date_start > a.date_start and b.date_end <= later
    moved = {m.text: (m.date_start, m.date_end) for m in after}
    assert moved["19 تشرين الأول"] == (dt.date(2021, 10, 19),) * 2
    assert moved["الشهر الماضي"] == (dt.date(2022, 2, 1), dt.date(2022, 2, 28))
    assert moved["قبل خمس سنوات"] == (dt.date(2017, 1, 1), dt.date(2017, 12, 31))
    assert moved["يوم أمس السبت (31 تشرين الأول 2020)"] == (dt.date(2020, 10, 31),) * 2  # its stated date


def test_relative_dates_need_a_publication_date():
    assert find_dates("قررت الولايات المتحدة في الشهر الماضي، تقليص", None) == []


def test_every_corpus_span_is_exact(corpus_files):
    for path in corpus_files:
        for line in path.read_text(encoding="utf-8").split("\n"):
            for published in (None, dt.date(2018, 6, 30)):
                for m in find_dates(line, published):
                    assert line[m.start:m.end] == m.text
                    assert m.date_start <= m.date_end
                    assert m.precision in ("day", "week", "month", "year", "range")


@pytest.mark.parametrize("module", ["coalition_news.text.dates", "coalition_news.text.places", "coalition_news.extract.events"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


def _noisy(text: str, rng) -> str:
    """The same words with a Persian ی, tatweel, harakat and no-break spaces sprinkled in."""
    out = []
    for c in text:
        if c == " " and rng.random() < 0.3:
            out.append("\u00a0")
            continue
        out.append("ی" if c == "ي" and rng.random() < 0.3 else c)
        if "\u0628" <= c <= "\u064a" and c not in "اأإآىةو" and rng.random() < 0.2:
            out.append(rng.choice(["\u0640", "\u064e", "\u0650"]))
    return "".join(out)


def test_spelling_noise_changes_neither_dates_nor_verbatim_spans():
    import random

    from coalition_news.text.normalise import normalize

    rng = random.Random(7)
    for case in (c for c in SUITE if c["span"]):
        text = _noisy(case["text"], rng)
        mentions = find_dates(text, case["published"])
        assert all(text[m.start:m.end] == m.text for m in mentions)
        match = [m for m in mentions if normalize(m.text) == normalize(case["span"])]
        assert match, (text, case["span"])
        assert (match[0].date_start, match[0].date_end) == (case["start"], case["end"])


@pytest.mark.parametrize("text", ["", " ", "،،،", "2020", "(", "في", "منذ", "يوم " * 500, "٣" * 40, "في 99 آذار 2019"])
def test_odd_input_gives_no_error(text):
    for m in find_dates(text, dt.date(2020, 1, 1)):
        assert text[m.start:m.end] == m.text


def test_a_printed_weekday_pins_the_year_of_a_day_and_month():
    """Only the publication month is known: "4 June" alone is ambiguous, "Thursday 4 June" is not."""
    june = (dt.date(2020, 6, 1), dt.date(2020, 6, 30))
    text = "عقد الوزراء اجتماعا يوم الخميس 4 حزيران/يونيو في بغداد"
    [m] = find_dates(text, *june)
    assert (m.text, m.date_start, m.precision, m.basis) == ("يوم الخميس 4 حزيران/يونيو", dt.date(2020, 6, 4), "day", "relative")
    assert find_dates("عقد الوزراء اجتماعا في 4 حزيران/يونيو في بغداد", *june) == []
    # change the weekday and the year follows it: 4 June 2019 was a Tuesday
    [m] = find_dates(text.replace("الخميس", "الثلاثاء"), *june)
    assert m.date_start == dt.date(2019, 6, 4)
