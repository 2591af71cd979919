"""Figures: the five source articles stated by hand, the corpus, rejections and perturbations."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from coalition_news.extract.figures import Figure, extract_figures
from coalition_news.lines import article_lines
from coalition_news.text.normalise import NormalizedText
from conftest import ReferenceNormalized

REPO = Path(__file__).resolve().parents[1]
RAW = REPO / "raw"
CORPUS = REPO.parent / "shared" / "corpus"

# (line, text, value, unit, qualifier) of every figure, written from reading the articles.
# Conventions (see coalition_news.extract.figures): durations count; the qualifier is not in the
# text; vague plurals are their lower bound with at_least; definite duals are not figures.
EXPECTED = {
    "000_6380a1c75a270f68": {
        (10, "37800 طلعة جوية", 37800, "sortie", "exact"),
        (10, "السنوات الست", 6, "year", "exact"),
        (14, "3000 عسكري", 3000, "troop", "approx"),          # يقارب الـ 3000 عسكري
        (18, "37800 طلعة جوية", 37800, "sortie", "exact"),
        (18, "السنوات الست", 6, "year", "exact"),
        (19, "8000 ضربة جوية", 8000, "airstrike", "exact"),   # not 2018, 2019, nor "الف 16"
        (19, "عمليتين", 2, "operation", "exact"),
        (24, "(110) آلاف كيلو متر مربع", 110000, "km2", "exact"),
        (24, "ثمانية ملايين شخص", 8_000_000, "person", "approx"),  # مايقرب من
    },
    "001_ed127326e84fb47c": {
        (7, "خمس سنوات", 5, "year", "exact"),
        (7, "40 ألف مقاتل", 40000, "fighter", "exact"),
        (7, "110 آلاف كيلومتر مربع", 110000, "km2", "approx"),  # تقارب; not "31 تشرين الأول 2020"
        (15, "3000 عنصر", 3000, "member", "exact"),
        (21, "ثلاثة رجال", 3, "man", "exact"),                  # not "19 تشرين الأول"
        (23, "أربعة من رجال", 4, "man", "exact"),
        (23, "ثلاثة آخرين", 3, "other", "exact"),
    },
    "002_a469f832d7dd3b47": {
        (14, "31 عضوا", 31, "member", "exact"),                 # not "4 حزيران/يونيو" (line 12, 20)
        (26, "200 مليون دولار", 200_000_000, "USD", "exact"),
        (28, "700 مليون دولار", 700_000_000, "USD", "more_than"),  # يفوق; not "لعام 2020"
        (30, "50 مليون دولار", 50_000_000, "USD", "exact"),
        (30, "100 مليون دولار", 100_000_000, "USD", "exact"),
        (42, "82 دولة", 82, "country", "exact"),                # not "عام 2014"
        (44, "225 ألف عنصر", 225000, "member", "exact"),
        (44, "أربعة مليارات دولار", 4_000_000_000, "USD", "exact"),
        (50, "ست سنوات", 6, "year", "exact"),
        (60, "26 غارة", 26, "raid", "exact"),
        (60, "46 كهفا", 46, "cave", "exact"),
        (60, "19 عنصرا", 19, "member", "exact"),
        (62, "ألف عملية", 1000, "operation", "more_than"),      # أكثر من ألف عملية
        (62, "مئة عملية", 100, "operation", "exact"),
    },
    "003_596b086985615e85": {
        (1, "عشرات المخابئ", 10, "hideout", "at_least"),
        (7, "الأيام العشرة", 10, "day", "exact"),
        (7, "عشرات الأوكار", 10, "hideout", "at_least"),
        (9, "133 ضربة", 133, "strike", "exact"),
        (9, "عشرة أيام", 10, "day", "exact"),                   # العشرة أيام: the article is not in the text
        (9, "61 وكراً", 61, "hideout", "exact"),
        (9, "24 كهفاً", 24, "cave", "exact"),
    },
    "004_4e84c7e255c49780": {
        (20, "ثلث", 1 / 3, "fraction", "approx"),               # ما يقارب ثلث مساحة العراق; not "عام 2014"
        (22, "الدول الـ70", 70, "country", "exact"),
    },
}

COUNTED = {  # a sample of counted nouns as written
    ("000_6380a1c75a270f68", 19, "عمليتين"): "عمليتين",
    ("002_a469f832d7dd3b47", 60, "46 كهفا"): "كهفا",
    ("003_596b086985615e85", 9, "61 وكراً"): "وكراً",
    ("000_6380a1c75a270f68", 10, "37800 طلعة جوية"): "طلعة جوية",
    ("004_4e84c7e255c49780", 22, "الدول الـ70"): "الدول",
    ("004_4e84c7e255c49780", 20, "ثلث"): None,
}


def _article_figures(article_id: str) -> list[tuple[int, Figure]]:
    text = (RAW / f"{article_id}.txt").read_text(encoding="utf-8")
    out = []
    for ln in article_lines(article_id, text):
        if ln.extractable:
            out += [(ln.line, fig) for fig in extract_figures(ln.text)]
    return out


def _as_row(line: int, fig: Figure) -> tuple:
    return (line, fig.text, round(fig.value, 6), fig.unit, fig.qualifier)


def _expected_rows(article_id: str) -> set[tuple]:
    return {(line, text, round(value, 6), unit, q) for line, text, value, unit, q in EXPECTED[article_id]}


def precision_recall() -> tuple[float, float, int, int, int]:
    """Over the five articles: (precision, recall, true positives, found, expected)."""
    found = expected = hits = 0
    for article_id in EXPECTED:
        got = {_as_row(line, fig) for line, fig in _article_figures(article_id)}
        want = _expected_rows(article_id)
        found, expected, hits = found + len(got), expected + len(want), hits + len(got & want)
    return hits / found, hits / expected, hits, found, expected


@pytest.mark.parametrize("article_id", sorted(EXPECTED))
def test_source_article_figures(article_id):
    got = {_as_row(line, fig) for line, fig in _article_figures(article_id)}
    want = _expected_rows(article_id)
    assert got - want == set(), "unexpected figures"
    assert want - got == set(), "missed figures"


def test_source_articles_precision_and_recall():
    precision, recall, *_ = precision_recall()
    assert (precision, recall) == (1.0, 1.0)


@pytest.mark.parametrize("key, counted", sorted(COUNTED.items(), key=str))
def test_counted_noun_as_written(key, counted):
    article_id, line, text = key
    (fig,) = [f for ln, f in _article_figures(article_id) if ln == line and f.text == text]
    assert fig.counted == counted


def test_source_article_spans_are_exact_in_the_file():
    for path in sorted(RAW.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for ln in article_lines(path.stem, text):
            for fig in extract_figures(ln.text):
                assert text[ln.char_start + fig.start:ln.char_start + fig.end] == fig.text


# --- the 30 corpus articles ------------------------------------------------------------------


def _corpus_lines():
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present")
    for path in sorted(CORPUS.glob("*.txt")):
        yield from article_lines(path.stem, path.read_text(encoding="utf-8"))


def test_corpus_runs_with_exact_spans():
    n_figures = 0
    for ln in _corpus_lines():
        for fig in extract_figures(ln.text):
            assert ln.text[fig.start:fig.end] == fig.text
            assert fig.qualifier in ("exact", "approx", "more_than", "less_than", "at_least", "at_most")
            assert fig.value > 0
            n_figures += 1
    assert n_figures > 100


def test_corpus_percentages_and_decimals():
    rows = {(f.text, f.value, f.unit) for ln in _corpus_lines() for f in extract_figures(ln.text)}
    assert ("90 في المائة", 90.0, "percent") in rows
    assert ("88.2 مليار دولار", 88_200_000_000.0, "USD") in rows
    assert ("5,8 مليون يورو", 5_800_000.0, "EUR") in rows
    assert ("0.02 في المائة", 0.02, "percent") in rows


def test_fast_normalisation_equals_normalized_text():
    lines = [ln.text for ln in _corpus_lines()] + [p.read_text(encoding="utf-8") for p in RAW.glob("*.txt")]
    lines.append("قلَّ ـــ  إلَّا\u200f٣٠٠٠ كهفاً")
    for text in lines:
        fast = NormalizedText.of(text)
        norm, to_raw = fast.text, fast.raw_span
        nt = ReferenceNormalized(text)
        assert norm == nt.text
        for start in range(0, len(norm), 7):
            for end in (start, start + 1, start + 5, len(norm)):
                if end <= len(norm):
                    assert to_raw(start, end) == nt.raw_span(start, end)


# --- rules, one example each -------------------------------------------------------------------


@pytest.mark.parametrize("line", [
    "عقدت الدول اجتماعا يوم الخميس 4 حزيران/يونيو لتأكيد عزمهم",
    "ففي 19 تشرين الأول، قُتل رجل",
    "في الـ19 فيفري الماضي أعلن",
    "في العامين 2018 و2019 بلغت",
    "تم القضاء على طموحاتهم في الأرض بحلول 2019",
    "وكان داعش قد في 2014على أجزاء",
    "ومنذ تشكيله في أيلول/سبتمبر عام 2014، ساعد",
    "  • 15-11-2020, 07:16",
    "بمشاركة طائرات الف 16 العراقية",
    "طائرات إف-16 وF-16 وميغ-29",
    "0 تعليق",
    "معلومات ضرورية 1500 / 1500",
    "وفق قرار مجلس الأمن الدولي رقم 2254",
    "أعلن في التاسع من كانون الأول انتهاء الحرب في الحادي عشر من الشهر",
    "أعلن اليوم الاثنين والأحد",
    "في آن واحد",
    "كلا الجانبين يريدان، وتصاعدت خلال الشهرين الأخيرين",
    "قتل عدد من الإرهابيين وسلمت عدة قواعد",
])
def test_not_figures(line):
    assert extract_figures(line) == []


def test_masked_spans_are_not_figures():
    line = "نفذت في 26 غارة"
    assert [f.text for f in extract_figures(line)] == ["26 غارة"]
    assert extract_figures(line, masked=[(8, 10)]) == []


@pytest.mark.parametrize("line, text, value, unit, qualifier", [
    ("بلغ نحو 3000 جندي", "3000 جندي", 3000, "troop", "approx"),
    ("قتل قرابة 50 مسلحا", "50 مسلحا", 50, "militant", "approx"),
    ("دفعت حوالي 20 ألف دولار", "20 ألف دولار", 20000, "USD", "approx"),
    ("قتل ما يزيد على 300 شخص", "300 شخص", 300, "person", "more_than"),
    ("وهو يفوق 700 مليون دولار", "700 مليون دولار", 700_000_000, "USD", "more_than"),
    ("أصيب أقل من 10 أشخاص", "10 أشخاص", 10, "person", "less_than"),
    ("قتل 21 على الأقل", "21", 21, "number", "at_least"),
    ("قتل ما لا يقل عن 7 عناصر", "7 عناصر", 7, "member", "at_least"),
    ("على ارتفاعات لا تتجاوز 30 ألف قدم", "30 ألف قدم", 30000, "ft", "at_most"),
    ("سيطر على نحو 90 في المائة من المدن", "90 في المائة", 90, "percent", "approx"),
    ("لم ننجز أكثر من 1% مما يحتاج", "1%", 1, "percent", "more_than"),
    ("تضرر 138 ألف منزل", "138 ألف منزل", 138000, "house", "exact"),
    ("مساحة 110 آلاف كيلومتر مربع", "110 آلاف كيلومتر مربع", 110000, "km2", "exact"),
    ("بطول 30 كيلومترا", "30 كيلومترا", 30, "km", "exact"),
    ("تبلغ 5 ملايين دينار", "5 ملايين دينار", 5_000_000, "IQD", "exact"),
    ("تعهدات بمئات مليارات الدولارات", "مئات مليارات الدولارات", 1e11, "USD", "at_least"),
    ("أدى إلى مقتل العشرات من عناصر التنظيم", "عشرات من عناصر", 10, "member", "at_least"),
    ("قتل إرهابيين اثنين", "إرهابيين اثنين", 2, "militant", "exact"),
    ("قتل ثلاثة عشر مسلحا", "ثلاثة عشر مسلحا", 13, "militant", "exact"),
    ("سيطر على ثلث مساحة العراق", "ثلث", 1 / 3, "fraction", "exact"),
    ("قتل 2070 عراقيا", "2070 عراقيا", 2070, "عراقي", "exact"),
    ("تسلمت ٧٠٠ جثة", "٧٠٠ جثة", 700, "body", "exact"),
    ("سيطر على تسعين في المائة من المدن", "تسعين في المائة", 90, "percent", "exact"),
    ("نشر ألفي جندي", "ألفي جندي", 2000, "troop", "exact"),
    ("نحو مليون ونصف نازح", "مليون ونصف نازح", 1_500_000, "displaced", "approx"),
    ("بلغت ٨٨٫٢ مليار دولار", "٨٨٫٢ مليار دولار", 88_200_000_000, "USD", "exact"),
    ("منذ 40 يوماً", "40 يوماً", 40, "day", "exact"),
    ("قتل قيادي و11 من معاونيه", "11 من معاونيه", 11, "aide", "exact"),
    ("تبلغ مساحتها 400 كم2", "400 كم2", 400, "km2", "exact"),
])
def test_figure_examples(line, text, value, unit, qualifier):
    (fig,) = extract_figures(line)
    assert (fig.text, fig.value, fig.unit, fig.qualifier) == (text, pytest.approx(value), unit, qualifier)
    assert line[fig.start:fig.end] == fig.text


@pytest.mark.parametrize("line, context", [
    ("أسفر عن مقتل 25 شخصا وإصابة العشرات", "killed"),
    ("ساهم التحالف في تدريب 225 ألف عنصر", "trained"),
    ("أسفرت عن تدمير 61 وكراً", "destroyed"),
    ("نفذ التحالف 23 غارة", None),
])
def test_context(line, context):
    assert extract_figures(line)[0].context == context


# --- perturbations: change numbers and units in a copy of an article line; output follows ----

LINE_44 = "وبالإضافة للدعم العسكري، ساهم التحالف في تدريب 225 ألف عنصر أمن عراقي، وقدم منحا ومعدات عسكرية بقيمة أربعة مليارات دولار لشركائه في العراق وسوريا."


def test_perturbed_article_line():
    text = (RAW / "002_a469f832d7dd3b47.txt").read_text(encoding="utf-8")
    assert LINE_44 in text
    changed = LINE_44.replace("225 ألف عنصر", "318 مليون مقاتل").replace("أربعة مليارات دولار", "سبعة ملايين يورو")
    got = [(f.value, f.unit, f.text) for f in extract_figures(changed)]
    assert got == [(318_000_000, "fighter", "318 مليون مقاتل"), (7_000_000, "EUR", "سبعة ملايين يورو")]


UNITS = [("طلعة جوية", "sortie"), ("دولار", "USD"), ("كيلومتر مربع", "km2"), ("غارة", "raid"), ("كهف", "cave")]
SCALES = [("", 1), (" ألف", 1000), (" مليون", 10**6), (" مليار", 10**9)]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 999), st.sampled_from(SCALES), st.sampled_from(UNITS), st.booleans())
def test_perturbed_numbers_follow(n, scale, unit, indic):
    digits = str(n)
    if indic:  # Arabic-Indic digits: same value, verbatim span
        digits = digits.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    line = f"وأشار إلى أن التحالف نفذ {digits}{scale[0]} {unit[0]} في العراق بالسنوات الست الأخيرة."
    figs = extract_figures(line)
    assert figs[0].value == n * scale[1]
    assert figs[0].unit == unit[1]
    assert figs[0].text == f"{digits}{scale[0]} {unit[0]}"
    assert [f.unit for f in figs[1:]] == ["year"]
