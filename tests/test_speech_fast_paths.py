"""The fast paths of the speech extractor (quotes.py, speakers.py) give what the plain definitions give."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from coalition_news.extract import speakers
from coalition_news.text import normalise

_ALPHABET = "قالوفبلكاأة ىيمن0123456789٣٤.,،_()«»\"-:؛ \t\u00a0²½\u0640\u064e\u0870\u2fff\u3000\u4e00\U0001d400"


def _tokens_reference(ntext: str, lo: int = 0, hi: int | None = None) -> list[tuple]:
    """``speakers.tokenize`` as first written: the matches of ``_TOKEN``, kind by first character."""
    out = []
    hi = len(ntext) if hi is None else hi
    for m in speakers._TOKEN.finditer(ntext[lo:hi]):
        s, c = m.group(), m.group()[0]
        out.append(("w" if c.isalpha() else "n" if c.isdigit() else "p", s, m.start() + lo, m.end() + lo))
    return out


def test_spelled_out_token_split_splits_like_the_token_split_below_u3000():
    """Every character below U+3000, alone and between letters and digits, splits the same."""
    chars = "".join(map(chr, range(normalise._SPELLED_BELOW)))
    fast, plain = speakers._TOKEN_SPLIT_BELOW, speakers._TOKEN_SPLIT
    assert fast.split(chars) == plain.split(chars)
    for c in chars:
        for sample in (f"ق{c}ل {c}1{c}", f"{c}ق 1{c}2 1.{c} {c}_", f"1,{c}3 _{c}"):
            assert fast.split(sample) == plain.split(sample), hex(ord(c))


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
