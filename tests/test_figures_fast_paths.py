"""The fast paths of the figure extractor give what the plain definitions give.

The unit nouns are one prefix-tree pattern instead of an alternation sorted longest first; the
qualifier phrase before a number has a quick reject; ``find_numbers`` visits only the tokens a
number can start at. Each must match, on any text, what it replaces.
"""

from __future__ import annotations

import regex
from hypothesis import given, settings, strategies as st

from coalition_news.extract import figures
from coalition_news.text import numbers
from coalition_news.text.normalise import NormalizedText


def _alternation_pattern(phrases) -> regex.Pattern:
    """The unit pattern as first written: every phrase, longest first."""
    body = "|".join(r"\s+".join(regex.escape(w) for w in f.split(" ")) for f in sorted(phrases, key=len, reverse=True))
    return regex.compile(rf"(?P<art>ال)?(?P<noun>{body})(?![\p{{L}}\p{{N}}])")


def _spans(m):
    return m and (m.span(), m.span("art"), m.span("noun"))


_UNITS = figures._units()
_UNIT_PHRASES = sorted(set(_UNITS.forms) | _UNITS.percent)
# whole nouns, their beginnings, the article, spaces, letters and digits that may follow
_unit_fragments = st.one_of(
    st.sampled_from(_UNIT_PHRASES),
    st.sampled_from(_UNIT_PHRASES).map(lambda p: p[: max(1, len(p) // 2)]),
    st.sampled_from(["ال", " ", "  ", "\t", "ات", "ين", "ا", "2", "%", "،", "x"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_unit_fragments, max_size=8))
def test_unit_prefix_tree_matches_the_longest_first_alternation(parts):
    text = "".join(parts)
    plain = _alternation_pattern(_UNIT_PHRASES)
    for pos in range(len(text) + 1):
        assert _spans(_UNITS.pattern.match(text, pos)) == _spans(plain.match(text, pos)), (text, pos)


_BEFORE_RE, _, _BEFORE, _, _BEFORE_ENDINGS = figures._qualifier_patterns()
_qualifier_fragments = st.one_of(
    st.sampled_from(sorted(_BEFORE)),  # phrases without their spaces
    st.sampled_from(sorted(_BEFORE)).map(lambda p: p[1:]),
    st.sampled_from(["ما ", "لا ", "يقرب", " من", "علي", "عن", "ال", "ب", "ل", "و", " ", "  ", "\u00a0", "قال", "3"]),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_qualifier_fragments, max_size=6))
def test_qualifier_quick_reject_never_rejects_a_match(parts):
    window = "".join(parts)
    for cut in range(len(window) + 1):
        if _BEFORE_RE.search(window[:cut]):
            assert figures._may_end_with_qualifier(window[:cut], _BEFORE_ENDINGS), window[:cut]


def test_number_word_forms_are_the_words_word_info_reads():
    forms = numbers.number_word_forms()
    assert all(numbers.word_info(w) is not None for w in forms)
    # stems and clitic combinations around the lexicon's words
    probes = {p + w[:k] for w in list(forms)[::7] for p in ("", "و", "بال", "لل", "ك") for k in (2, 3, len(w))}
    assert all((numbers.word_info(w) is not None) == (w in forms) for w in probes)


_ALPHABET = "ثلاثةعشرونمائةألفاآلافملايينوبالل 0123456789.,()%-"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=60))
def test_number_starts_are_digits_and_number_words(text):
    norm = NormalizedText.of(text).text
    tokens = numbers.tokenize(norm)
    expected = [i for i, t in enumerate(tokens) if t.kind == "digits" or (t.kind == "word" and numbers.word_info(t.text) is not None)]
    assert list(numbers._number_starts(tokens)) == expected


def _candidate_clauses_reference(norm: str):
    """The candidate clauses as first written: every word set intersected, every match object."""
    from bisect import bisect_right

    from coalition_news.text.normalise import letter_words

    words = letter_words(norm)
    duals = words & figures._dual_word_forms()
    candidates = (words & numbers.number_word_forms()) | duals
    positions = [m.start() for m in figures._DIGIT_RUN.finditer(norm)]
    for word in candidates:
        i = norm.find(word)
        while i != -1:
            positions.append(i)
            i = norm.find(word, i + 1)
    if not positions:
        return [], False
    cuts = [0, *(m.end() for m in figures._CLAUSE_BREAK.finditer(norm)), len(norm)]
    spans = []
    for c in sorted({bisect_right(cuts, p) - 1 for p in positions}):
        start, end = cuts[c], cuts[c + 1]
        if spans and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans, bool(duals)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_ALPHABET + "\"،:;!?/عمليتين", max_size=80))
def test_candidate_clauses_match_the_plain_definition(text):
    norm = NormalizedText.of(text).text
    assert figures._candidate_clauses(norm) == _candidate_clauses_reference(norm)


def test_blocked_spans_quick_reject():
    for line in ("15-11-2020", "الساعة 07:16", "1500 / 1500", "قتل 3 و4", "٣٠/١١"):
        norm = NormalizedText.of(line).text
        assert figures._blocked_spans(norm) == [m.span() for m in figures._DIGIT_SEQUENCE.finditer(norm)]
