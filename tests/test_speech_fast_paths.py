"""The fast paths of the speech extractor (quotes.py, speakers.py) give what the plain definitions give."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from coalition_news.extract import quotes, speakers
from coalition_news.text import normalise

_ALPHABET = "قالوفبلكاأة ىيمن0123456789٣٤.,،_()«»\"-:؛ \t\u00a0²½\u0640\u064e\u0870\u2fff\u3000\u4e00\U0001d400\U0001d7d9\ud800\uffff"


def _tokens_reference(ntext: str, lo: int = 0, hi: int | None = None) -> list[tuple]:
    """``speakers.tokenize`` as first written: the matches of ``_TOKEN``, kind by first character."""
    out = []
    hi = len(ntext) if hi is None else hi
    for m in speakers._TOKEN.finditer(ntext[lo:hi]):
        s, c = m.group(), m.group()[0]
        out.append(("w" if c.isalpha() else "n" if c.isdigit() else "p", s, m.start() + lo, m.end() + lo))
    return out


def test_spelled_out_token_split_splits_like_the_token_split_within_the_bmp():
    """Every character of the BMP, alone and between letters and digits, splits the same."""
    chars = "".join(map(chr, range(0x10000)))
    fast, plain = speakers._TOKEN_SPLIT_BMP, speakers._TOKEN_SPLIT
    assert fast.split(chars) == plain.split(chars)
    for c in chars:
        sample = f"ق{c}ل {c}1{c}2 1.{c} {c}_ 1,{c}3 _{c}"
        assert fast.split(sample) == plain.split(sample), hex(ord(c))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_within_bmp_is_no_character_beyond_u_ffff(text):
    assert speakers._within_bmp(text) == all(ord(c) <= 0xFFFF for c in text)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=60) | st.text(max_size=30), st.integers(0, 10), st.integers(0, 70))
def test_tokenize_is_the_token_matches(text, lo, hi):
    hi = min(hi, len(text))
    assert speakers.tokenize(text) == _tokens_reference(text)
    assert speakers.tokenize(text, lo, hi) == _tokens_reference(text, lo, hi)
    assert speakers.tokenize(text, lo) == _tokens_reference(text, lo)
    assert all(type(t) is speakers.Tok for t in speakers.tokenize(text))


def test_token_kinds_survive_the_kind_cache_being_cleared():
    kinds = speakers._KIND_OF
    for k in range(70000):
        assert kinds[f"ق{k}"] == "w"
    assert len(kinds) <= 65536
    assert kinds["12"] == "n" and kinds[","] == "p" and kinds["_"] == "p"


# --- quotation marks found by str.find --------------------------------------------------------

_MARKS_TEXT = st.text(alphabet="قال \"«»“”„‟‘’'`ab\u0622\u2022", max_size=50)


@settings(max_examples=500, deadline=None)
@given(_MARKS_TEXT | st.text(max_size=30))
def test_mark_positions_are_the_mark_pattern_matches(text):
    by_class: dict[str, list[int]] = {}
    for m in quotes._ANY_MARK.finditer(text):
        by_class.setdefault(quotes._MARK_CLASSES[m.group()], []).append(m.start())
    assert quotes._mark_positions(text) == by_class
    assert quotes._has_mark(text) == (quotes._ANY_MARK.search(text) is not None)


# --- the first words of a quotation counted in one match ---------------------------------------

_WORDS_TEXT = st.text(alphabet="قال 12.,_-«»\"²٣\u0640\u064e\u00a0\t!؟x", max_size=40)


@settings(max_examples=800, deadline=None)
@given(_WORDS_TEXT | st.text(max_size=30), st.integers(0, 12), st.integers(0, 45))
def test_count_words_is_the_first_word_matches_counted(text, lo, hi):
    """``_count_words`` (one nested match) counts what the plain ``finditer`` over
    ``_WORDS_AND_NUMBERS`` counts, up to one more than a short quotation has."""
    from itertools import islice

    hi = min(hi, len(text))
    plain = len(list(islice(quotes._WORDS_AND_NUMBERS.finditer(text, lo, hi), quotes.SHORT_QUOTE_WORDS + 1)))
    assert quotes._count_words(text, lo, hi) == plain
    if speakers._within_bmp(text):  # the spelled-out pattern, used for lines within the BMP
        assert quotes._count_words(text, lo, hi, quotes._FIRST_WORDS_BMP) == plain


def test_count_words_bmp_pattern_counts_every_bmp_character_like_the_plain_one():
    """Every character of the BMP, between and around words and numbers, is skipped or counted alike."""
    for code in range(0x10000):
        c = chr(code)
        for sample in (f"ق{c}ل 1{c}2", f"{c}{c} 1.{c}3", f"_{c}x", c):
            plain = quotes._count_words(sample, 0, len(sample))
            assert quotes._count_words(sample, 0, len(sample), quotes._FIRST_WORDS_BMP) == plain, hex(code)
