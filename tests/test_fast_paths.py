"""The fast paths of extraction give what the plain definitions give.

Tokenizers take offsets from ``str.find`` instead of match objects; prefilters (date gates,
casualty cues, boilerplate anchoring) must never be stricter than the patterns they guard.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import example, given, settings, strategies as st

from coalition_news.extract import events, speakers
from coalition_news.lines import _anchored, _furniture
from coalition_news.text import dates, numbers
from coalition_news.text.normalise import NormalizedText, normalize

# letters, digits in two scripts, separators, marks, quotes, underscores and odd numerics
_ALPHABET = "قالوفبلكاأة ىيمن0123456789٣٤.,،_()«»\"-:؛ \t\u00a0²½\u0640\u064e"
_texts = st.text(alphabet=_ALPHABET, max_size=60)


def _speakers_reference(ntext: str, lo: int, hi: int) -> list[tuple]:
    out = []
    for m in speakers._TOKEN.finditer(ntext, lo, hi):
        s, c = m.group(), m.group()[0]
        out.append(("w" if c.isalpha() else "n" if c.isdigit() else "p", s, m.start(), m.end()))
    return out


@settings(max_examples=300, deadline=None)
@given(_texts, st.integers(0, 10), st.integers(0, 70))
def test_tokenizers_match_finditer(text, lo, hi):
    norm = NormalizedText.of(text).text
    hi = min(hi, len(norm))
    assert speakers.tokenize(norm, lo, hi) == _speakers_reference(norm, lo, hi)
    expected = [(m.start(), m.end(), m.group(), m.lastgroup) for m in numbers._TOKEN.finditer(norm, lo, hi)]
    assert [tuple(t) for t in numbers.tokenize(norm, lo, hi)] == expected
    assert [(w.forms[0], w.start, w.end) for w in events._words(norm)] == [
        (m.group(), m.start(), m.end()) for m in events._WORD.finditer(norm)
    ]


def _gates_reference(nt_text: str) -> set[str]:
    """The date gates as first written: a word set with clitic-stripped forms, tested per gate."""
    words = set(dates._LETTERS.findall(nt_text))
    words |= {w[1:] for w in words if w[0] in "وفبلك"} | {w[2:] for w in words if w[:2] in ("وب", "ول", "فب", "وف", "لل")}
    opened = {name for name, keys in dates._gates().items() if not words.isdisjoint(keys)}
    if dates._DIGIT.search(nt_text):
        opened.add("digit")
        if dates._FOUR_DIGITS.search(nt_text):
            opened.add("digits4")
    return opened


def test_date_gates_match_word_sets():
    lines = ["وقال يوم أمس الخميس إن 3 آذار/مارس 2016", "للشهر الماضي وبالأسبوع المقبل", "منذ عامين",
             "فيناير وكانون الثاني", "الأيام الخمسة الأخيرة", "بلا تاريخ", "٢٠١٩"]
    for line in lines:
        text = NormalizedText.of(line).text
        assert dates._open_gates(text) == _gates_reference(text), line


def test_casualty_cues_cover_the_verbs():
    k1, k2, h1, h2 = events._casualty_patterns()
    for pattern, cues in ((k1, events._KILLED_CUES), (k2, events._KILLED_CUES), (h1, events._HURT_CUES), (h2, events._HURT_CUES)):
        for window in ("مقتل 4 وقتلت 3 و12 قتيلا ومصرع خمسة واعدام 2", "اصيب 3 وإصابة 4 و5 جرحى و6 مصابين وجرحت 2"):
            norm = normalize(window)
            if pattern.search(norm):
                assert any(c in norm for c in cues)


def test_anchored_boilerplate_is_one_search():
    assert _anchored("^(XS|SM)$") and not _anchored("^a|b") and not _anchored("a^")
    assert _anchored(r"^\|x") and not _anchored(r"^x|\|")
    patterns = _furniture()[0]
    for line, expected in (("+A -A", True), ("0 تعليق", True), ("نص هل اعجبك هذا المقال", True), ("قال الوزير", False)):
        assert patterns.search(normalize(line)) is expected, line


def test_normalized_view_is_shared():
    assert NormalizedText.of("قلَّ فيها") is NormalizedText.of("قلَّ فيها")


# --- translation table, line classification, date gates from letter_words --------------------

@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40) | _texts)
def test_translation_table_keeps_unmapped_characters(text):
    """The table remembers kept characters as identity entries: translating equals the plain map."""
    from coalition_news.text.normalise import translation_table

    table = translation_table()
    plain = {k: v for k, v in table.items() if v is None or v != chr(k)}  # without identity entries
    expected = "".join(plain.get(ord(c), c) or "" for c in text)
    assert text.translate(table) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="قال في 12 ²_-", max_size=80))
def test_first_words_are_the_prefix_of_all_words(text):
    from coalition_news import lines

    assert lines._first_words(text) == lines._words(text)[: lines._WORDS_READ]
    assert lines._first_words(text, 5) == lines._words(text)[:5]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="قال .!?؟:\"»”'…x \t\n\u00a0\u2028\u200b\x1c\x85", max_size=20))
def test_sentence_end_tried_at_the_last_character_finds_what_a_whole_search_finds(text):
    from coalition_news import lines

    assert lines._ends_sentence(text) == bool(lines._SENTENCE_END.search(text))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ابقدرص(ل)[]. ,؛:؟!\"…-–afpAPſ\t\u00a0\u2028", max_size=40)
       | st.sampled_from(["صورة (رويترز)", "القوات - أ ف ب  ", "قال الوزير.", "(AFP) ", "الصورة: تصوير رويترز,"]))
def test_caption_gate_only_skips_lines_that_cannot_match(text):
    from coalition_news import lines

    norm = normalize(text)
    assert lines._is_caption(norm) == bool(_furniture()[2].search(norm.lower()))


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="امسسبوعالشهرالاضيامسيناير ٢0١9²ـَ\u0870وفبلك", max_size=60)
       | st.sampled_from(["وقال يوم أمس الخميس إن 3 آذار/مارس 2016", "للشهر² الماضي", "فيناير\u0870 ٢٠١٩"]))
def test_date_gates_from_letter_words_never_close_a_gate(text):
    """Gates read from ``letter_words`` runs open at least what the ``\\p{L}+`` word set opens,
    and so the candidates are those of running every pattern."""
    norm = NormalizedText.of(text).text
    assert dates._open_gates(norm) >= _gates_reference(norm)
    from coalition_news.text.normalise import letter_words

    every_run = set().union(*map(dates._gates_of_run, letter_words(norm)))  # each run split into \p{L}+ words
    assert dates._open_gates(norm) - {"digit", "digits4"} == every_run
    G = dates._grammar()
    plain = [(m.start("core"), m.end("core"), kind) for kind, pattern, handler in G.patterns
             for m in pattern.finditer(norm) if handler(G, m, None) is not None]
    fast = [(c.start, c.end, c.kind) for c in dates._candidates(norm, None)]
    assert fast == plain


@settings(max_examples=300, deadline=None)
@given(_texts, st.integers(0, 10), st.integers(0, 70))
def test_match_spans_are_the_finditer_spans(text, lo, hi):
    """Tokens from one ``split`` and running sums of lengths: the spans ``finditer`` gives."""
    import regex

    from coalition_news.text.normalise import match_spans

    norm = NormalizedText.of(text).text
    hi = min(hi, len(norm))
    for pattern, split in ((speakers._TOKEN, speakers._TOKEN_SPLIT), (events._WORD, regex.compile(r"(\p{L}+)")),
                           (regex.compile(r"\d+"), regex.compile(r"(\d+)"))):
        texts, starts, ends = match_spans(split, norm, lo, hi)
        assert list(zip(texts, starts, ends)) == [(m.group(), m.start(), m.end()) for m in pattern.finditer(norm, lo, hi)]
        assert len(texts) == len(starts) == len(ends)


# --- date patterns tried only at their leads -------------------------------------------------

# words that begin (or nearly begin) date expressions, whole expressions of the dates suite, and
# what sits around them: clitics, ال, spaces of several kinds, brackets, digits
_DATE_WORDS = ["الخميس", "يوم", "صباح", "منتصف ليل", "امس", "اول من امس", "الليله الماضيه", "اليوم", "شهر",
               "ايار", "مايو", "اب", "تشرين الثاني", "الاسبوع", "الشهر", "العام", "السنه", "الماضي", "الاخيره",
               "المقبل", "هذا", "عام", "عامي", "العامين", "بين", "من", "الي", "و", "يومي", "قبل", "منذ", "الايام",
               "ايام", "سنوات", "الشهرين", "الخمسه", "ثلاث", "الخامس", "الحادي عشر", "كل", "1441", "هـ", "2019",
               "2014", "10", "3", "ال", "الـ", "م", "²", "5 ايام الماضيه", "الخمسه ايام الاخيره"]
_SUITE_SPANS = sorted({c["span"] for c in yaml.safe_load((Path(__file__).parent / "data" / "date_expressions.yaml")
                                                         .read_text(encoding="utf-8"))["cases"] if c["span"]})
_date_texts = st.lists(
    st.tuples(st.sampled_from(["", "", "", "و", "ف", "ب", "ل", "وب", "لل", "ك", "ال", "كل ", "2", "x"]),
              st.sampled_from(_DATE_WORDS) | st.sampled_from(_SUITE_SPANS),
              st.sampled_from([" ", " ", " ", "  ", "", ", ", ",  ", " (", ") ", "(\u00a0 ", "\t", "/", "-", ".", "5 "])),
    max_size=8).map(lambda parts: "".join(a + b + c for a, b, c in parts))


@settings(max_examples=600, deadline=None)
@given(_date_texts)
@example("قال،   5 ايام الماضيه و( \t الخمسه ايام الاخيره")  # a count after a run of spaces
def test_date_scan_at_leads_is_finditer(text):
    """``_scan`` tries a pattern only just before its lead: it finds what ``finditer`` finds."""
    norm = NormalizedText.of(text).text
    G = dates._grammar()
    for kind, pattern, handler in G.patterns:
        lead = G.leads.get(kind)
        if lead is not None and not dates._OTHER_DIGIT.search(norm):
            assert [m.span() for m in dates._scan(pattern, lead, norm)] == [m.span() for m in pattern.finditer(norm)], kind


def test_lead_spaces_cover_pattern_spaces():
    """Leads are stdlib ``re``: its ``\\s`` must match every character ``regex``'s ``\\s`` does."""
    import re

    import regex

    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    assert set(regex.findall(r"\s", every)) <= set(re.findall(r"\s", every))
    assert set(regex.findall(r"[^\D0-9]", every)) == set(regex.findall(r"\d", every)) - set("0123456789")


def test_python_letters_are_regex_letters():
    """Date gates look a run that ``str.isalpha`` accepts up whole: each of its characters must be
    a ``\\p{L}`` of ``regex``, so that the run is one ``\\p{L}+`` word."""
    import regex

    letters = "".join(c for c in map(chr, range(0x110000)) if c.isalpha())
    assert regex.fullmatch(r"\p{L}+", letters)


def test_every_pattern_gated_on_four_digits_needs_them():
    """A line without four digits in a row skips the patterns gated on ``digits4``: none of them
    can match there (numeric dates too: "3/4/2016", "2016-04-03" hold a year)."""
    gated = [p for kind, p, _ in dates._grammar().patterns if dates._GATE_OF[kind] == "digits4"]
    assert dates._GATE_OF["numeric"] == "digits4"
    for text in ("3/4/2016", "2016-04-03", "03.04.2016", "3 - 4 - 2016", "3/4/16", "3/4/201", "12-5-20", "عام 1437 هـ",
                 "بين عامي 2014 و2017", "عام 2016", "2016 م", "١٢/٣/٢٠١٦", "12/3/٢٠١٦"):
        norm = normalize(text)
        if any(p.search(norm) for p in gated):
            assert dates._FOUR_DIGITS.search(norm), text


def _line_fields_reference(article_id: str, text: str) -> list[tuple]:
    """The line fields as first written: each line sliced from the text and stripped to test it."""
    out, pos = [], 0
    for number, raw_line in enumerate(text.split("\n"), start=1):
        start, end = pos, pos + len(raw_line)
        pos = end + 1
        if raw_line.endswith("\r"):
            end -= 1
        if text[start:end].strip():
            out.append((article_id, number, start, end, text[start:end]))
    return out


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="قال x\r\n\t\u00a0\u2028\x1c\x85\u200b", max_size=40))
def test_line_fields_are_the_sliced_and_stripped_lines(text):
    from coalition_news import lines

    assert lines._line_fields("a", text) == _line_fields_reference("a", text)
