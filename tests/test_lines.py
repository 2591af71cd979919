"""Lines: exact spans, kinds a reader would give, repeats flagged (expected values from reading)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from coalition_news.lines import KINDS, article_lines, classify, split_lines
from conftest import read_raw_texts

TEXTS = read_raw_texts()

# (article, line) → kind, written from reading each article.
EXPECTED_KINDS = {
    ("000_6380a1c75a270f68", 1): "title",        # التحالف الدولي: داعش يحتضر …
    ("000_6380a1c75a270f68", 3): "boilerplate",  # تحقيقات وتقارير (section breadcrumb)
    ("000_6380a1c75a270f68", 4): "dateline",     # • 15-11-2020, 07:16
    ("000_6380a1c75a270f68", 5): "boilerplate",  # +A -A
    ("000_6380a1c75a270f68", 7): "dateline",     # بغداد-واع- …
    ("000_6380a1c75a270f68", 8): "byline",       # the author's name
    ("000_6380a1c75a270f68", 10): "body",
    ("000_6380a1c75a270f68", 12): "heading",     # الوجود الأجنبي
    ("000_6380a1c75a270f68", 16): "heading",     # الضربات الجوية
    ("000_6380a1c75a270f68", 22): "heading",     # هزيمة داعش
    ("001_ed127326e84fb47c", 1): "title",
    ("001_ed127326e84fb47c", 3): "title",        # the headline printed twice
    ("001_ed127326e84fb47c", 23): "body",
    ("002_a469f832d7dd3b47", 1): "boilerplate",  # أخبار العراق
    ("002_a469f832d7dd3b47", 2): "boilerplate",  # أمن
    ("002_a469f832d7dd3b47", 4): "title",
    ("002_a469f832d7dd3b47", 6): "byline",
    ("002_a469f832d7dd3b47", 8): "caption",      # … [حقوق الصورة لوزارة الخارجية الأميركية]
    ("002_a469f832d7dd3b47", 10): "caption",
    ("002_a469f832d7dd3b47", 20): "caption",
    ("002_a469f832d7dd3b47", 32): "heading",     # دعم التحالف الدولي
    ("002_a469f832d7dd3b47", 58): "heading",
    ("002_a469f832d7dd3b47", 74): "boilerplate", # هل أعجبك هذا المقال؟
    ("002_a469f832d7dd3b47", 76): "boilerplate", # 0 تعليق
    ("002_a469f832d7dd3b47", 77): "boilerplate", # comment policy, 1500 / 1500
    ("003_596b086985615e85", 1): "title",
    ("003_596b086985615e85", 3): "dateline",     # 21 مارس 2021
    ("003_596b086985615e85", 4): "caption",      # … (الأناضول)
    ("003_596b086985615e85", 5): "boilerplate",  # + الخط -
    ("003_596b086985615e85", 7): "body",
    ("003_596b086985615e85", 23): "boilerplate", # المساهمون
    ("004_4e84c7e255c49780", 1): "boilerplate",  # Accessibility links
    ("004_4e84c7e255c49780", 3): "title",
    ("004_4e84c7e255c49780", 6): "caption",      # … ، أرشيف
    ("004_4e84c7e255c49780", 24): "boilerplate", # اقرأ أيضا: …
    ("004_4e84c7e255c49780", 30): "byline",      # المصدر: راديو سوا
    ("004_4e84c7e255c49780", 32): "boilerplate", # XS
    ("004_4e84c7e255c49780", 35): "boilerplate", # LG
}
EXPECTED_REPEATS = {
    ("001_ed127326e84fb47c", 3): 1,
    ("002_a469f832d7dd3b47", 10): 8,
    ("002_a469f832d7dd3b47", 22): 20,
}


@pytest.mark.parametrize("article_id", sorted(TEXTS))
def test_every_line_span_is_verbatim_and_blank_lines_are_skipped(article_id):
    text = TEXTS[article_id]
    lines = article_lines(article_id, text)
    assert all(text[ln.char_start:ln.char_end] == ln.text for ln in lines)
    assert all(ln.text.strip() for ln in lines)
    assert all(ln.kind in KINDS for ln in lines)
    raw_lines = text.split("\n")
    assert len(lines) == sum(1 for r in raw_lines if r.strip())
    assert all(raw_lines[ln.line - 1] == ln.text for ln in lines)


def test_kinds_match_a_readers_reading():
    got = {(ln.article_id, ln.line): ln.kind for aid, t in TEXTS.items() for ln in article_lines(aid, t)}
    wrong = {k: (got.get(k), v) for k, v in EXPECTED_KINDS.items() if got.get(k) != v}
    assert not wrong


def test_body_paragraphs_are_body():
    for aid, text in TEXTS.items():
        for ln in article_lines(aid, text):
            if len(ln.text.split()) > 25 and ln.repeat_of is None:
                assert ln.kind in ("body", "caption"), (aid, ln.line, ln.kind)


def test_verbatim_repeats_point_at_their_first_occurrence_and_are_not_extracted():
    got = {(ln.article_id, ln.line): ln for aid, t in TEXTS.items() for ln in article_lines(aid, t)}
    repeats = {k: ln.repeat_of for k, ln in got.items() if ln.repeat_of}
    assert repeats == EXPECTED_REPEATS
    assert not any(got[k].extractable for k in EXPECTED_REPEATS)


def test_crlf_is_not_part_of_the_line():
    lines = split_lines("a", "عنوان\r\n\r\nقال الوزير\r\n")
    assert [(ln.line, ln.text, ln.char_start, ln.char_end) for ln in lines] == [(1, "عنوان", 0, 5), (3, "قال الوزير", 9, 19)]


def test_classification_follows_a_changed_article():
    text = "عنوان الخبر الرئيسي اليوم\n\nسامي الكبيسي\n\nقال وزير الدفاع إن القوات تقدمت في المحافظة الشمالية صباح اليوم.\n\nتقدم القوات\n\nوأضاف أن العمليات مستمرة حتى تحرير كامل المنطقة من المسلحين.\n0 تعليق\n"
    kinds = [(ln.line, ln.kind) for ln in article_lines("x", text)]
    assert kinds == [(1, "title"), (3, "byline"), (5, "body"), (7, "heading"), (9, "body"), (10, "boilerplate")]


def test_corpus_articles_split_exactly(corpus_files):
    for path in corpus_files:
        text = path.read_text(encoding="utf-8")
        lines = article_lines(path.stem, text)
        assert lines and lines[0].kind == "title", path.name
        assert all(text[ln.char_start:ln.char_end] == ln.text for ln in lines)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["عنوان الخبر", "بغداد-واع-", "21 مارس 2021", "خالد الطائي", "+A -A", "", " ",
                                 "قال الوزير إن القوات تقدمت.", "الضربات الجوية", "صورة (رويترز)", "\r", "XS"]),
                max_size=12).map("\n".join))
def test_article_lines_is_classify_of_split_lines(text):
    """``article_lines`` builds each Line once: the same lines as classifying the split ones."""
    assert article_lines("a", text) == classify(split_lines("a", text))


def test_first_words_split_alike_in_both_engines_below_u3000():
    """The first words of a line come from stdlib ``re`` below U+3000: every such character,
    alone and between letters, digits and spaces, splits as under ``regex``."""
    from coalition_news import lines

    chars = "".join(map(chr, range(0x3000)))
    assert lines._WORD_SPLIT_RE.split(chars) == lines._WORD_SPLIT.split(chars)
    for c in chars:
        sample = f"ق{c}ل 1{c}2 {c}x{c} {c}"
        assert lines._WORD_SPLIT_RE.split(sample) == lines._WORD_SPLIT.split(sample), hex(ord(c))
    assert lines._first_words("قال\u3000 الوزير") == lines._WORD.findall("قال\u3000 الوزير")  # regex beyond U+3000
