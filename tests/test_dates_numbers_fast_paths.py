"""Fast paths of the dates and numbers modules give what their plain definitions give."""

from __future__ import annotations

import regex

from coalition_news.text import dates


def test_every_led_pattern_opens_with_the_word_start_lookbehind():
    """``_scan`` skips a start just after a letter or number because every pattern it scans opens
    with ``_B``, whose first step is that lookbehind."""
    assert dates._B.startswith(r"(?<![\p{L}\p{N}])")
    G = dates._grammar()
    for kind, pattern, _ in G.patterns:
        if kind in G.leads:
            assert pattern.pattern.startswith(dates._B), kind


def test_inside_word_is_the_lookbehind_class():
    """The per-character table answers as the lookbehind's class does, for every code point."""
    lookbehind = regex.compile(r"(?<![\p{L}\p{N}])")
    for c in map(chr, range(0x110000)):
        assert dates._INSIDE_WORD[c] == (lookbehind.match(c + "x", 1) is None), hex(ord(c))
