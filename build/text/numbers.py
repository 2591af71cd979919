"""Arabic numbers: digits in three scripts and number words up to 999,999,999,999.

``parse_number_words`` reads a whole phrase of number words; ``find_numbers`` finds every number
in a line's *normalised* text (``normalize``/``NormalizedText``: alef forms unified, ة → ه,
diacritics and tatweel removed, Arabic-Indic and Persian digits made Western).

>>> parse_number_words("مائة و عشرة ألف")
110000
>>> parse_number_words("أربعة مليارات")
4000000000
>>> [(n.text, n.value, n.kind) for n in find_numbers(normalize("سيطر 40 ألف مقاتل على 110 آلاف كيلومتر"))]
[('40 الف', 40000, 'mixed'), ('110 الاف', 110000, 'mixed')]

What is read
- Digits with thousands separators (``37,800``, ``٣٧٬٨٠٠``) and decimal points (``88.2``,
  ``٨٨٫٢``). A comma followed by exactly three digits groups thousands; otherwise it is a decimal
  comma (``2,5 مليون`` = 2.5 million), as Arabic newspapers write both.
- A scale word after digits or words: ``110 آلاف`` = 110000, ``ثمانية ملايين`` = 8000000;
  ``مليون ونصف`` = 1500000; a parenthesised number before its scale, ``(110) آلاف``.
- Number words in every case and gender form (ثلاثة/ثلاث, عشرون/عشرين, مئتا/مئتي/مائتين), glued
  or separate hundreds (ثلاثمئة/ثلاث مئة), ``و`` glued or followed by a space, clitics
  (وثلاثة, بثلاثة, العشرة). The words are in ``lexicons/number_words.yaml``.
- Fractions (نصف, ثلث, ربع, ثلثا, ثلاثة أرباع) and ``نصف مليون`` = 500000.

Vague quantities — convention
    ``عشرات``, ``مئات``, and ``آلاف``/``ملايين``/``مليارات`` without a multiplier are *vague*:
    the value is the lower bound of what the plural can mean (10, 100, 1000, …), and the figure
    layer gives them the qualifier ``at_least``. A following definite scale multiplies:
    ``عشرات الآلاف`` = 10000, ``مئات الآلاف`` = 100000. ``عدة``/``بضعة``/``عدد من`` are not numbers.

What is not a number here
    ``أحد``/``إحدى`` alone ("one of"), ordinals (الأول, الحادي عشر: ``عشر`` after an ordinal is
    skipped), and words whose clitic would leave a two-letter stem (``لست`` is "I am not", not
    ل + ست). Dates, years and model numbers are rejected later, by ``coalition_news.extract.figures``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from itertools import compress, repeat
from operator import itemgetter, or_
from typing import NamedTuple

import regex

from ..lexicon import load_lexicon
from .frozen import stored_at_once
from .normalise import fast_split, normalize, spelled_out

__all__ = [
    "NumberMatch",
    "WordInfo",
    "Token",
    "find_numbers",
    "number_word_forms",
    "parse_digits",
    "parse_number_words",
    "tokenize",
    "word_info",
]

# --- lexicon -------------------------------------------------------------------------------


class WordInfo(NamedTuple):
    """What one number word is: ``kind`` in unit | cunit | ten | tens | hundred | scale | vague |
    fraction | fraction_plural; ``form`` says which scale form (singular | construct | plural |
    dual) or, for a hundred, ``bare`` when it can be multiplied (ثلاث مئة)."""

    kind: str
    value: float
    form: str = ""


@cache
def _number_table() -> dict[str, tuple[WordInfo, ...]]:
    """Normalised word → its readings (a word like آلاف is both a scale and a vague plural)."""
    lex = load_lexicon("number_words")
    table: dict[str, list[WordInfo]] = {}

    def add(word: str, info: WordInfo) -> None:
        table.setdefault(normalize(word), []).append(info)

    def add_section(section: str, kind: str, number=int) -> None:
        """A lexicon section of ``value: [spellings]``; the order of sections is the order of readings."""
        for value, forms in lex[section].items():
            for w in forms:
                add(w, WordInfo(kind, number(value)))

    add_section("units", "unit")
    add_section("compound_units", "cunit")
    for w in lex["ten"]:
        add(w, WordInfo("ten", 10))
    add_section("tens", "tens")
    for w in lex["hundred"]:
        add(w, WordInfo("hundred", 100, "bare"))
    for w in lex["hundred_duals"]:
        add(w, WordInfo("hundred", 200))
    for value, forms in lex["hundred_multipliers"].items():
        for stem in forms:
            for h in lex["hundred"]:
                add(stem + h, WordInfo("hundred", int(value) * 100))
    for value, forms_by_kind in lex["scales"].items():
        for form, forms in forms_by_kind.items():
            for w in forms:
                add(w, WordInfo("scale", int(value), form))
    for value, forms in lex["vague"].items():
        for w in forms:
            if not any(i.kind == "scale" for i in table.get(normalize(w), ())):
                add(w, WordInfo("vague", int(value)))
    add_section("fractions", "fraction", float)
    add_section("fraction_plurals", "fraction_plural", float)
    return {w: tuple(infos) for w, infos in table.items()}


@cache
def _ordinals() -> frozenset[str]:
    return frozenset(normalize(w) for w in load_lexicon("number_words")["ordinals"])


# Clitics that may be glued to a number word: conjunction, preposition, article.
_CLITIC_PREFIXES = sorted(
    {c1 + c2 + c3 for c1 in ("", "و", "ف") for c2 in ("", "ب", "ل", "ك") for c3 in ("", "ال")} | {"لل", "ولل", "فلل"},
    key=len,
)


class ClassifiedWord(NamedTuple):
    infos: tuple[WordInfo, ...]
    prefix: str  # the clitics glued before the number word ("و", "بال", "")

    @property
    def definite(self) -> bool:
        return self.prefix.endswith("ال") or self.prefix.endswith("لل")

    @property
    def waw(self) -> bool:
        return self.prefix.startswith("و")


@lru_cache(maxsize=65536)  # bounded: it sees every word of the candidate clauses
def word_info(word: str) -> ClassifiedWord | None:
    """How a normalised word reads as a number, or None.

    >>> word_info("وعشرون").prefix, word_info("وعشرون").infos[0].value
    ('و', 20)
    >>> word_info("لست") is None   # "I am not", not ل + ست
    True
    """
    table = _number_table()
    if word in table:
        return ClassifiedWord(table[word], "")
    for prefix in _CLITIC_PREFIXES[1:]:
        if word.startswith(prefix):
            stem = word[len(prefix):]
            # a two-letter stem (ست, خمس-less) only after the article: "السنوات الست"
            if stem in table and (len(stem) >= 3 or prefix.endswith("ال")):
                return ClassifiedWord(table[stem], prefix)
    return None


@cache
def number_word_forms() -> frozenset[str]:
    """Every normalised word ``word_info`` reads as a number, clitics included: a quick
    membership test that lets a caller skip lines with no number word at all."""
    table = _number_table()
    forms = set(table)
    for prefix in _CLITIC_PREFIXES[1:]:
        forms |= {prefix + w for w in table if len(w) >= 3 or prefix.endswith("ال")}
    return frozenset(forms)


# --- tokens --------------------------------------------------------------------------------


class Token(NamedTuple):
    start: int
    end: int
    text: str
    kind: str  # digits | word | other


_TOKEN = regex.compile(r"(?P<digits>\d+(?:[.,]\d+)*)|(?P<word>\p{L}+)|(?P<other>\S)")
# the same alternation as one group, for ``match_spans`` (offsets as running sums, in C)
_TOKEN_SPLIT = regex.compile("(" + regex.sub(r"\(\?P<\w+>", "(?:", _TOKEN.pattern) + ")")
# and spelled for stdlib ``re`` (which splits faster), the same below U+3000 (``fast_split``)
_DIGIT, _LETTER, _SPACE = spelled_out(r"\d"), spelled_out(r"\p{L}"), spelled_out(r"\s")
_TOKEN_SPLIT_RE = re.compile(f"([{_DIGIT}]+(?:[.,][{_DIGIT}]+)*|[{_LETTER}]+|[^{_SPACE}])")
_FIRST_DIGIT = regex.compile(r"\d")
_FIRST_LETTER = regex.compile(r"\p{L}")


class _KindOf(dict):
    """First character of a token → its kind, worked out once per distinct character with the
    token pattern's own classes (``str.isdigit`` and ``\\d`` disagree on "²")."""

    def __missing__(self, c: str) -> str:
        kind = self[c] = "digits" if _FIRST_DIGIT.match(c) else "word" if _FIRST_LETTER.match(c) else "other"
        return kind


_KIND_OF = _KindOf()


def tokenize(norm: str, start: int = 0, end: int | None = None) -> list[Token]:
    """Tokens of a normalised line (or of ``norm[start:end]``, offsets still into ``norm``):
    digit groups, letter runs, single other characters.

    >>> [t.text for t in tokenize("ال70 و2019 (110) الاف")]
    ['ال', '70', 'و', '2019', '(', '110', ')', 'الاف']
    """
    texts, starts, ends = fast_split(_TOKEN_SPLIT, _TOKEN_SPLIT_RE, norm, start, end)
    kinds = map(_KIND_OF.__getitem__, map(itemgetter(0), texts))
    # tuple.__new__ builds the named tuples without their Python-level __new__ (all in C):
    # this runs once per token of every candidate clause
    return list(map(tuple.__new__, repeat(Token), zip(starts, ends, texts, kinds)))


def parse_digits(s: str) -> Decimal | None:
    """Value of a digit group with separators (normalised: ``.`` decimal, ``,`` either).

    >>> parse_digits("41,250"), parse_digits("88.2"), parse_digits("2,5"), parse_digits("1,234,567.5")
    (Decimal('41250'), Decimal('88.2'), Decimal('2.5'), Decimal('1234567.5'))
    """
    if "," in s and "." in s:
        # whichever separator comes last is the decimal point
        thousands, decimal = (",", ".") if s.rfind(".") > s.rfind(",") else (".", ",")
        s = s.replace(thousands, "").replace(decimal, ".")
    elif s.count(",") > 1 or s.count(".") > 1:
        sep = "," if "," in s else "."
        groups = s.split(sep)
        if not all(len(g) == 3 for g in groups[1:]):
            return None
        s = "".join(groups)
    elif "," in s:
        whole, frac = s.split(",")
        s = whole + frac if len(frac) == 3 else whole + "." + frac
    try:
        return Decimal(s)
    except ArithmeticError:
        return None


# --- the word grammar ----------------------------------------------------------------------


class RunItem(NamedTuple):
    """One number word in a run: its reading(s), whether و joins it to the previous word,
    whether it carries the article, and its span (``start`` after any clitic)."""

    infos: tuple[WordInfo, ...]
    waw: bool
    definite: bool
    start: int
    end: int


def _pick(item: RunItem, *kinds: str) -> WordInfo | None:
    """The first reading of ``item`` of one of ``kinds`` (a loop: no generator to build per call)."""
    for info in item.infos:
        if info.kind in kinds:
            return info
    return None


def _below_hundred(run: list[RunItem], k: int) -> tuple[int, int] | None:
    """1-99 at run[k]: ``ثلاثة``, ``ثلاثة عشر``, ``إحدى عشرة``, ``خمسة وعشرون``, ``عشرون``."""
    a = run[k]
    nxt = run[k + 1] if k + 1 < len(run) else None
    unit = _pick(a, "unit", "cunit")
    if unit is not None and nxt is not None:
        if not nxt.waw and _pick(nxt, "ten") and (unit.kind == "cunit" or unit.value >= 3):
            return int(unit.value) + 10, k + 2
        tens = _pick(nxt, "tens")
        if nxt.waw and tens is not None:
            return int(unit.value + tens.value), k + 2
    if unit is not None and unit.kind == "unit":
        return int(unit.value), k + 1
    simple = _pick(a, "ten", "tens")
    if simple is not None:
        return int(simple.value), k + 1
    return None


def _group(run: list[RunItem], k: int) -> tuple[int, int] | None:
    """1-999 at run[k]: optional hundreds (مئة, مئتا, ثلاثمائة, ثلاث مئة) then و + 1-99."""
    hundreds = None
    h = _pick(run[k], "hundred")
    if h is not None:
        hundreds, k2 = int(h.value), k + 1
    else:
        unit = _pick(run[k], "unit")
        if unit is not None and unit.value >= 3 and k + 1 < len(run):
            bare = _pick(run[k + 1], "hundred")
            if bare is not None and bare.form == "bare" and not run[k + 1].waw:
                hundreds, k2 = int(unit.value) * 100, k + 2
    if hundreds is None:
        return _below_hundred(run, k)
    if k2 < len(run) and run[k2].waw:
        rest = _below_hundred(run, k2)
        if rest is not None:
            return hundreds + rest[0], rest[1]
    return hundreds, k2


def _vague(run: list[RunItem]) -> tuple[float, int] | None:
    """``عشرات`` = 10, ``مئات الآلاف`` = 100000, ``مئات مليارات`` = 1e11: the lower bound."""
    first = _pick(run[0], "vague") or _pick(run[0], "scale")
    if first is None or (first.kind == "scale" and first.form != "plural"):
        return None
    value, k = first.value, 1
    if k < len(run) and not run[k].waw:
        scale = _pick(run[k], "scale")
        if scale is not None and scale.form == "plural" and scale.value > value:
            value, k = value * scale.value, k + 1
    return value, k


def _fraction(run: list[RunItem]) -> tuple[float, int, str] | None:
    """``ثلث`` = 1/3 (fraction), ``ثلاثة أرباع`` = 0.75, ``نصف مليون`` = 500000 (words)."""
    frac = _pick(run[0], "fraction")
    if frac is not None:
        if len(run) > 1 and not run[1].waw:
            scale = _pick(run[1], "scale")
            if scale is not None and scale.form in ("singular", "construct"):
                return frac.value * scale.value, 2, "words"
        return frac.value, 1, "fraction"
    unit = _pick(run[0], "unit")
    if unit is not None and len(run) > 1 and not run[1].waw:
        plural = _pick(run[1], "fraction_plural")
        if plural is not None:
            return unit.value * plural.value, 2, "fraction"
    return None


def parse_run(run: list[RunItem]) -> tuple[float, int, str] | None:
    """Longest number at the start of ``run``: ``(value, items used, kind)``; kind is
    words | vague | fraction.

    Groups of 1-999 each followed by a smaller scale than the last, joined by و:
    ``ثلاثة ملايين و خمسمائة ألف و عشرون`` = 3500020.
    """
    if not run:
        return None
    frac = _fraction(run)
    if frac is not None:
        return frac
    total, k, last_scale, started = 0.0, 0, float("inf"), False
    while k < len(run):
        if started and not run[k].waw:
            break
        group = _group(run, k)
        after = group[1] if group else k
        scale = _pick(run[after], "scale") if after < len(run) else None
        joined = scale is not None and scale.value < last_scale and (group is None or not run[after].waw)
        if joined and group is None and scale.form == "plural":
            if not started:
                vague = _vague(run)
                return (vague[0], vague[1], "vague") if vague else None
            joined = False
        if joined and group is not None and scale.form == "dual":
            joined = False
        if joined:
            multiplier = group[0] if group else (2 if scale.form in ("dual", "construct") else 1)
            total += multiplier * scale.value
            last_scale, k, started = scale.value, after + 1, True
            half = run[k] if k < len(run) else None
            if half is not None and half.waw and (h := _pick(half, "fraction")) is not None and h.value == 0.5:
                total, k = total + scale.value / 2, k + 1
            continue
        if group is not None:
            total, k, started = total + group[0], group[1], True
        break
    if not started:
        if _pick(run[0], "vague"):
            vague = _vague(run)
            return (vague[0], vague[1], "vague") if vague else None
        return None
    return total, k, "words"


def _as_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def parse_number_words(s: str) -> int | float | None:
    """The value of a phrase made only of Arabic number words, or None.

    >>> parse_number_words("واحد و أربعون ألفاً و مئتان و خمسون")
    41250
    >>> parse_number_words("مئتي"), parse_number_words("ثلاث مئة"), parse_number_words("ألفا")
    (200, 300, 2000)
    >>> parse_number_words("ثلث"), parse_number_words("عشرات"), parse_number_words("مدينة")
    (0.3333333333333333, 10, None)
    """
    norm = normalize(s)
    tokens = tokenize(norm)
    run = _run_at(norm, tokens, 0)
    if not run or len(run) != sum(1 for t in tokens if not (t.kind == "word" and t.text == "و")):
        return None
    parsed = parse_run(run)
    if parsed is None or parsed[1] != len(run):
        return None
    return _as_number(parsed[0])


def _gap_is_space(norm: str, a: int, b: int) -> bool:
    """Whether ``norm[a:b]`` is empty or only spaces (``str.isspace`` is what ``strip`` strips)."""
    return a >= b or norm[a:b].isspace()


# The longest number phrase (999,999,999,999 in words, with و between parts) is under 30 words;
# capping a run keeps a hostile chain of number words linear rather than quadratic.
MAX_RUN_WORDS = 40


def _run_at(norm: str, tokens: list[Token], i: int) -> list[RunItem]:
    """The consecutive number words from tokens[i], joined by spaces or a standalone و."""
    run: list[RunItem] = []
    prev_end = None
    waw_pending = False
    j = i
    while j < len(tokens) and j - i < MAX_RUN_WORDS:
        tok = tokens[j]
        if tok.kind != "word" or (prev_end is not None and not _gap_is_space(norm, prev_end, tok.start)):
            break
        if tok.text == "و" and run and not waw_pending:
            waw_pending, prev_end, j = True, tok.end, j + 1
            continue
        cw = word_info(tok.text)
        if cw is None or (run and cw.definite and not _pick_scale_plural(cw)):
            break
        waw = waw_pending or cw.waw
        if run and cw.prefix not in ("", "و", "ال"):
            break  # a preposition glued inside a number phrase starts a new phrase
        run.append(RunItem(cw.infos, waw, cw.definite, tok.start + len(cw.prefix), tok.end))
        waw_pending, prev_end, j = False, tok.end, j + 1
    return run


def _pick_scale_plural(cw: ClassifiedWord) -> bool:
    return any(i.kind == "scale" and i.form == "plural" for i in cw.infos)


# --- finding numbers in a line ---------------------------------------------------------------


@stored_at_once
@dataclass(frozen=True)
class NumberMatch:
    """A number found in normalised text; ``start``/``end`` are normalised offsets.

    ``kind``: digits | mixed (digits + scale word) | words | vague | fraction.
    ``definite``: written with the article (العشرة, الـ70) — for the postposed construction
    ("الدول الـ70", "السنوات الست"). ``tok_start``/``tok_end`` index the tokens it covers.
    ``literal``: for digits, the digit string as written (normalised), else "".
    """

    start: int
    end: int
    text: str
    value: int | float
    kind: str
    definite: bool
    tok_start: int
    tok_end: int
    literal: str = ""


def _scale_after(norm: str, tokens: list[Token], j: int, after: int) -> tuple[WordInfo, int] | None:
    """A scale word (ألف, آلاف, مليون, مليار …) at tokens[j], separated by spaces only."""
    if j >= len(tokens) or tokens[j].kind != "word" or not _gap_is_space(norm, after, tokens[j].start):
        return None
    cw = word_info(tokens[j].text)
    if cw is None or cw.prefix:
        return None
    for info in cw.infos:
        if info.kind == "scale" and info.form != "dual":
            return info, j
    return None


def _digits_match(norm: str, tokens: list[Token], i: int) -> NumberMatch:
    tok = tokens[i]
    value = parse_digits(tok.text)
    prev = tokens[i - 1] if i > 0 else None
    glued = prev is not None and prev.kind == "word" and prev.end == tok.start
    spaced_article = prev is not None and prev.text == "ال" and _gap_is_space(norm, prev.end, tok.start)
    definite = (glued and (prev.text.endswith("ال") or prev.text.endswith("لل"))) or spaced_article
    start, end, j = tok.start, tok.end, i + 1
    # "(110) آلاف": the parenthesised number belongs with the scale after it
    in_parens = (
        prev is not None and prev.text == "(" and prev.end == tok.start
        and j < len(tokens) and tokens[j].text == ")" and tokens[j].start == tok.end
    )
    scale = _scale_after(norm, tokens, j + 1, tokens[j].end) if in_parens else _scale_after(norm, tokens, j, end)
    kind = "digits"
    if value is None:
        value = Decimal(0)
    if scale is not None:
        info, sj = scale
        value *= info.value
        if in_parens:
            start = prev.start
        end, j, kind = tokens[sj].end, sj + 1, "mixed"
    return NumberMatch(start, end, norm[start:end], _as_number(value), kind, definite, i, j, tok.text)


def _after_ordinal(tokens: list[Token], i: int) -> bool:
    return i > 0 and tokens[i - 1].kind == "word" and tokens[i - 1].text in _ordinals()


def _number_starts(tokens: list[Token]) -> compress:
    """Indices of the tokens a number can start at: digit groups and number words (the words
    ``word_info`` reads, ``number_word_forms``). Worked out in C, without a Python step per token."""
    is_number_word = map(number_word_forms().__contains__, map(itemgetter(2), tokens))
    is_digits = map("digits".__eq__, map(itemgetter(3), tokens))
    return compress(range(len(tokens)), map(or_, is_number_word, is_digits))


def find_numbers(norm: str, tokens: list[Token] | None = None) -> list[NumberMatch]:
    """Every number in a normalised line, left to right, not overlapping.

    >>> [(n.text, n.value) for n in find_numbers(normalize("نفذ 41250 طلعة و ثمانية ملايين و(110) آلاف"))]
    [('41250', 41250), ('ثمانيه ملايين', 8000000), ('(110) الاف', 110000)]
    """
    tokens = tokenize(norm) if tokens is None else tokens
    out: list[NumberMatch] = []
    i = 0  # the first token not yet inside a number
    for k in _number_starts(tokens):
        if k < i:
            continue
        if tokens[k].kind == "digits":
            m = _digits_match(norm, tokens, k)
            out.append(m)
            i = m.tok_end
        elif not _after_ordinal(tokens, k):
            run = _run_at(norm, tokens, k)
            parsed = parse_run(run)
            if parsed is not None:
                value, used, kind = parsed
                start, end = run[0].start, run[used - 1].end
                tok_end = next(j for j in range(k, len(tokens)) if tokens[j].end == end) + 1
                out.append(NumberMatch(start, end, norm[start:end], _as_number(value), kind, run[0].definite, k, tok_end))
                i = tok_end
    return out
