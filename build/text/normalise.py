"""Arabic text normalisation for *matching*, never for the verbatim columns.

Outlets mix Persian letters into Arabic names (العقید واین, with U+06CC), print tatweel and
diacritics (قلَّ, إلَّا), and use no-break spaces. Matching must see through all of that, while
every published span stays byte-for-byte what the raw file says. So this module offers:

- ``normalize(s)``: a canonical matching key (``"العقید  واین"`` → ``"العقيد واين"``);
- ``NormalizedText``: the same key plus a map from each normalised character back to its raw
  offset, so a pattern found in the normalised text is reported at its exact raw span.

The normalisation is character-by-character (deletions and one-to-one substitutions only),
which is what makes the offset map exact.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from functools import lru_cache
from itertools import accumulate

import regex


# Harakat, Quranic marks, superscript alef: meaning-preserving for matching purposes.
_DIACRITICS = {chr(c) for c in range(0x064B, 0x0660)} | {"\u0670"} | {chr(c) for c in range(0x06D6, 0x06EE)}
# Tatweel and invisible format characters (bidi controls, zero-width joiners, BOM).
_INVISIBLE = {"\u0640", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\ufeff", "\u2060", "\u061c"} | {
    chr(c) for c in range(0x202A, 0x202F)
} | {chr(c) for c in range(0x2066, 0x206A)}
_DELETE = _DIACRITICS | _INVISIBLE
_MARKS = _DIACRITICS | {"\u0640"}  # belong to the letter before them

_SUBSTITUTE = {
    # alef forms → bare alef
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
    # Persian and Urdu letters that outlets type for their Arabic look-alikes
    "ی": "ي", "ې": "ي", "ۍ": "ي", "ک": "ك", "ڪ": "ك", "ە": "ه", "ۀ": "ه",
    # final alef maqsura and ya are written interchangeably in Egyptian usage
    "ى": "ي",
    # teh marbuta vs heh at word end is an equally common spelling variation
    "ة": "ه",
    # Arabic-Indic and Persian digits → Western digits
    **{chr(0x0660 + i): str(i) for i in range(10)},
    **{chr(0x06F0 + i): str(i) for i in range(10)},
    # Arabic punctuation that has a plain equivalent for matching
    "٫": ".", "٬": ",", "،": ",", "؛": ";", "؟": "?",
    # quotation marks of every style → one straight double quote
    "«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "‟": '"',
}
_SPACES = {"\u00a0", "\u2007", "\u202f", "\u2009", "\u200a", "\u2002", "\u2003", "\t", "\u3000"}


# One translation table holds the whole character mapping: deleted characters map to None,
# everything else to exactly one character. ``translated`` applies it (as replacements, derived
# from it below); ``translation_table`` gives it to whoever needs it whole, so none can drift.
class TranslationTable(dict):
    """The mapping, plus each unmapped character met so far mapped to itself: ``str.translate``
    treats a missing key as "keep" but pays for a raised KeyError per such character, so remembering
    the kept ones (a few hundred distinct characters) makes Arabic lines translate faster."""

    __slots__ = ()

    def __missing__(self, code: int) -> str:
        kept = self[code] = chr(code)
        return kept


_TABLE = TranslationTable({ord(c): None for c in _DELETE} | {ord(c): " " for c in _SPACES} | {ord(k): v for k, v in _SUBSTITUTE.items()})


def translation_table() -> dict[int, str | None]:
    """The ``str.translate`` table of the normalisation: code point → one character, or None (deleted)."""
    return _TABLE


# stdlib ``re``: a class of plain characters is a bitmap test there, ~4× faster than ``regex``
_DELETED = re.compile("[" + "".join(re.escape(c) for c in sorted(_DELETE)) + "]")

# The table's changes as replacements (a deleted character → ""), and every character they change
# as one ``re`` class. No replacement is itself a character the table changes, so replacing the
# characters one by one, in any order, gives what one pass of the table gives.
_REPLACEMENT = {chr(code): to or "" for code, to in _TABLE.items()}
assert not set(_REPLACEMENT.values()) & _REPLACEMENT.keys(), "a replacement the table would change again"
_CHANGED = re.compile("[" + "".join(re.escape(c) for c in sorted(_REPLACEMENT)) + "]")


@lru_cache(maxsize=16384)
def translated(raw: str) -> str:
    """``raw.translate(translation_table())``, once per line: dates, places, events, quotes and
    figures each normalise the same lines of an article.

    Done as one ``str.replace`` for each distinct character the line holds that the table changes
    (a line holds a handful: أ, إ, ة, ى, ،, a quotation mark): ``str.translate`` looks up every
    character of an Arabic line in the table, ~3× slower on news text.

    >>> translated("قالَ «نعم»")
    'قال "نعم"'
    """
    text = raw
    for changed in set(_CHANGED.findall(raw)):
        text = text.replace(changed, _REPLACEMENT[changed])
    return text


class NormalizedText:
    """A normalised view of ``raw`` that remembers where each character came from.

    The text is one ``str.translate``; offsets are found by bisection over the deleted characters
    (usually none), so no Python loop runs per character. Every extractor uses this one view.

    >>> nt = NormalizedText.of("قال العقید  واین")
    >>> nt.text
    'قال العقيد  واين'
    >>> nt.raw_span(4, 10)
    (4, 10)
    >>> NormalizedText.of("قلَّ فيها").raw_span(0, 2)
    (0, 4)
    """

    __slots__ = ("raw", "text", "_deleted_raw", "_before_index")

    def __init__(self, raw: str):
        self.raw = raw
        self.text = translated(raw)  # cached: the extractors normalise the same lines
        if len(self.text) == len(raw):  # substitutions only: offsets are the identity
            self._deleted_raw: list[int] = []
            self._before_index: list[int] = []
        else:
            self._deleted_raw = [m.start() for m in _DELETED.finditer(raw)]
            # the k-th deleted character sits just before normalised index (its raw offset - k)
            self._before_index = [p - k for k, p in enumerate(self._deleted_raw)]

    @classmethod
    def of(cls, raw: str) -> "NormalizedText":
        """The view of ``raw``, built once per line: quotes, dates, events, places and figures all
        read the same lines (a view is never modified after it is built)."""
        return _view(raw) if cls is NormalizedText else cls(raw)

    def raw_offset(self, i: int) -> int:
        """Raw offset of normalised character ``i`` (``len(raw)`` for ``i == len(text)``)."""
        return i + bisect_right(self._before_index, i) if self._before_index else i

    def norm_index(self, raw_pos: int) -> int:
        """Normalised index of raw offset ``raw_pos`` (of the next kept character if it was deleted)."""
        return raw_pos - bisect_left(self._deleted_raw, raw_pos) if self._deleted_raw else raw_pos

    @property
    def offsets(self) -> list[int]:
        """``offsets[i]`` is the raw offset of ``text[i]``; ``offsets[len(text)] == len(raw)``."""
        return [self.raw_offset(i) for i in range(len(self.text) + 1)]

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Raw ``[start, end)`` covering normalised ``[start, end)``.

        The end maps to just after the last kept character, so trailing diacritics of the
        last letter (قلَّ) stay inside the raw span.
        """
        if not self._before_index:  # nothing deleted: offsets are the identity
            return (start, end) if end > start else (start, start)
        if end <= start:
            pos = self.raw_offset(start)
            return pos, pos
        raw_end, next_kept = self.raw_offset(end - 1) + 1, self.raw_offset(end)
        # extend over deleted characters (diacritics, tatweel) that belong to the last letter
        while raw_end < next_kept and self.raw[raw_end] in _MARKS:
            raw_end += 1
        return self.raw_offset(start), raw_end


def match_spans(split_pattern, text: str, lo: int = 0, hi: int | None = None) -> tuple[list[str], list[int], list[int]]:
    """The matches of a pattern in ``text[lo:hi]`` with their start and end offsets (into ``text``).

    ``split_pattern`` is the pattern wrapped in one capturing group (and with no lookbehind), so
    its ``split`` alternates the text between matches with the matches: every offset is then a
    running sum of lengths, computed in C, instead of a match object or a ``find`` per token.

    >>> match_spans(re.compile(r"(\\w+)"), "ab, c", 1)
    (['b', 'c'], [1, 4], [2, 5])
    """
    parts = split_pattern.split(text[lo:hi] if lo or hi is not None else text)
    pos = list(accumulate(map(len, parts), initial=lo))
    return parts[1::2], pos[1:-1:2], pos[2::2]


# Splitting a line is an extractor's costliest step; stdlib ``re`` splits about twice as fast as ``regex``. Its
# Unicode tables differ, so a ``regex`` class is spelled out character by character for ``re``, for
# the characters below U+3000 (Arabic, Latin, punctuation): a line holding no other uses ``re``.
_SPELLED_BELOW = 0x3000
_BEYOND_SPELLED = re.compile("[^\x00-\u2fff]")


def spelled_out(regex_class: str, below: int = _SPELLED_BELOW, engine=regex) -> str:
    """The characters below ``below`` (U+3000) that a class of ``engine`` (``regex``) matches, as
    ranges for a stdlib ``re`` class.

    >>> spelled_out("[a-c0-9_]")
    '0-9_a-c'
    """
    ranges: list[list[int]] = []
    for c in map(ord, engine.findall(regex_class, "".join(map(chr, range(below))))):
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    return "".join(re.escape(chr(a)) + (f"-{re.escape(chr(b))}" if b > a else "") for a, b in ranges)


def for_text(regex_pattern, re_pattern, text: str):
    """``re_pattern``, the stdlib ``re`` spelling of ``regex_pattern``, when ``text`` allows it
    (``spelled_below``); else ``regex_pattern``."""
    return re_pattern if spelled_below(text) else regex_pattern


def fast_split(regex_pattern, re_pattern, text: str, lo: int = 0, hi: int | None = None) -> tuple[list[str], list[int], list[int]]:
    """``match_spans`` of ``regex_pattern`` (in ``text[lo:hi]``), by its stdlib ``re`` spelling
    when ``text`` allows it (the whole text is checked: a line's clauses share one answer)."""
    return match_spans(for_text(regex_pattern, re_pattern, text), text, lo, hi)


@lru_cache(maxsize=4096)
def spelled_below(text: str) -> bool:
    """Whether every character of ``text`` is below U+3000 (where ``spelled_out`` classes are exact):
    found once per line, since several extractors split the same lines (a scan costs ~60
    instructions a character, a cached answer a few hundred a line).

    >>> spelled_below("قال 3"), spelled_below("قال\\u3000")
    (True, False)
    """
    return _BEYOND_SPELLED.search(text) is None


class PerWord(dict):
    """``function(word)`` for each distinct word, worked out once: looked up in a plain dict (best
    as ``map(memo.__getitem__, words)``, all in C), at about half the cost of a bounded
    ``lru_cache``, which also moves the entry in its recency list on every hit. Cleared when it
    reaches ``limit`` words, so it holds at most a working vocabulary. Only for pure functions.

    >>> lengths = PerWord(len)
    >>> lengths["قال"], list(map(lengths.__getitem__, ["قال", "ان"]))
    (3, [3, 2])
    """

    __slots__ = ("function", "limit")

    def __init__(self, function, limit: int = 65536):
        super().__init__()
        self.function, self.limit = function, limit

    def __missing__(self, word):
        if len(self) >= self.limit:
            self.clear()
        value = self[word] = self.function(word)
        return value


def prefix_tree(words) -> dict:
    """The characters of ``words`` as nested dicts, ``""`` marking where a word ends: the shape of
    a pattern that factors shared prefixes out (the engine then follows the one branch the next
    character allows instead of trying every word in turn).

    >>> prefix_tree(["اب", "ام"])
    {'ا': {'ب': {'': {}}, 'م': {'': {}}}}
    """
    tree: dict = {}
    for word in words:
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    return tree


# stdlib re: letter runs ([^\W\d_] = alphabetic), twice as fast as regex for word-set prefilters
_LETTER_RUNS = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=4096)
def _view(raw: str) -> NormalizedText:
    return NormalizedText(raw)


@lru_cache(maxsize=4096)
def letter_words(ntext: str) -> frozenset[str]:
    """The distinct letter runs of a normalised line, for the quotes and figures prefilters
    (one scan per line, shared).

    >>> sorted(letter_words("قال 3 جنود"))
    ['جنود', 'قال']
    """
    return frozenset(_LETTER_RUNS.findall(ntext))


@lru_cache(maxsize=65536)
def normalize(s: str) -> str:
    """Matching key: letters unified, marks removed, digits Western, spaces collapsed.

    >>> normalize("العقید  واین")
    'العقيد واين'
    >>> normalize("إلَّا ٣٠٠٠")
    'الا 3000'
    """
    return " ".join(translated(s).split())  # shares the per-line translation with NormalizedText


def to_western_digits(s: str) -> str:
    """``"٣٧٬٨٠٠"`` → ``"37,800"``; other characters unchanged (same length)."""
    return "".join(
        _SUBSTITUTE.get(c, c) if ("\u0660" <= c <= "\u0669" or "\u06f0" <= c <= "\u06f9" or c in "٫٬") else c
        for c in s
    )


_ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3]")


def has_arabic(s: str) -> bool:
    """True when ``s`` contains at least one Arabic letter."""
    return _ARABIC_LETTER.search(s) is not None
