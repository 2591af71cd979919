"""Figures: every stated quantity in one line, normalised, typed and traceable to its span.

>>> [(f.text, f.value, f.unit, f.counted, f.qualifier) for f in extract_figures("كانوا يسيطرون على ما يقارب 110 آلاف كيلومتر مربع")]
[('110 آلاف كيلومتر مربع', 110000.0, 'km2', 'كيلومتر مربع', 'approx')]
>>> [(f.text, f.value, f.unit) for f in extract_figures("نفذت طائرات التحالف عمليتين بمشاركة طائرات الف 16 في عام 2019")]
[('عمليتين', 2.0, 'operation')]

Conventions (each is a decision, kept the same everywhere)
- ``text`` spans the number, its scale word and its unit or counted noun ("110 آلاف كيلومتر
  مربع", "30%", "90 في المائة", "(110) آلاف"). Qualifier words (نحو, أكثر من …), clitics (و, ب, ل)
  and the article of a number (الـ in "يقارب الـ 3000 عسكري") are not part of it; the qualifier is
  recorded in ``qualifier``. In the postposed construction the noun comes first and the text
  starts at it: "السنوات الست", "الدول الـ70".
- Durations are figures: "ست سنوات" → 6 year, "السنوات الست الأخيرة" → 6 year, "40 يوماً" → 40 day.
  A *definite dual* ("الشهرين الأخيرين", "العامين 2018 و2019", "كلا الجانبين") is a reference, not
  a stated count, and is not a figure; an indefinite dual of a known noun is ("عمليتين" → 2).
- Vague plurals (عشرات, مئات, آلاف alone) are figures with the lower bound as value and the
  qualifier ``at_least`` (see ``coalition_news.text.numbers``).
- A fraction (ثلث, نصف, ربع) has unit ``fraction`` unless a unit follows ("نصف ساعة" → 0.5 hour).
- Not figures: dates ("4 حزيران", any number overlapping a ``masked`` span or followed by a
  month name from CLDR via babel), years (after عام/سنة/بحلول …, or a bare 19xx/20xx with no
  known unit), clock times and digit groups joined by / : - ("15-11-2020", "1500 / 1500"), model
  designations ("الف 16", "إف-16", "F-16"), identifiers ("القرار رقم 2254", "عيار 23"), page
  furniture ("0 تعليق"), ordinals, a lone واحد/واحدة ("في آن واحد"), and the definite one/two
  (الأحد, الاثنين are weekdays).
- ``unit``: a code (USD, IQD, EUR, km2, km, percent, year …) or the counted thing in English from
  ``lexicons/units.yaml``; a noun not in the lexicon falls back to itself, normalised, with the
  accusative alif dropped ("عراقيا" → "عراقي"); ``number`` when nothing is counted ("21 على الأقل").
- ``counted`` is the noun as written, with its article when it has one ("عشرات المخابئ" →
  "المخابئ", "45 من عناصر" → "عناصر"); None for percentages, fractions and bare numbers.
- One and two follow their noun: "إرهابي واحد" and "إرهابيين اثنين" are figures when the noun is
  in the lexicon; a lone واحد is not ("في آن واحد").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from bisect import bisect_right
from functools import cache, lru_cache
from typing import Callable, Iterable, NamedTuple, Sequence

import regex
from babel.dates import get_month_names

from ..lexicon import load_lexicon
from ..text.frozen import stored_at_once
from ..text.normalise import NormalizedText, fast_split, for_text, letter_words, normalize, prefix_tree, spelled_out
from ..text.numbers import NumberMatch, Token, find_numbers, number_word_forms, tokenize, word_info

__all__ = ["Figure", "extract_figures"]

QUALIFIERS = ("exact", "approx", "more_than", "less_than", "at_least", "at_most")
VALUE_KINDS = ("digits", "words", "mixed", "vague", "fraction", "dual")
# Locales whose CLDR month names Arabic outlets use (Levantine/Iraqi, Egyptian/Gulf, Maghreb).
MONTH_LOCALES = ("ar_IQ", "ar_EG", "ar_SA", "ar_TN", "ar_DZ", "ar_MA")


@stored_at_once
@dataclass(frozen=True)
class Figure:
    """One stated quantity. ``line_text[start:end] == text`` always holds.

    >>> extract_figures("نفذ  41250 طلعة جوية")[0]
    Figure(start=5, end=20, text='41250 طلعة جوية', value=41250.0, unit='sortie', counted='طلعة جوية', qualifier='exact', value_kind='digits', context=None)
    """

    start: int  # line-local offset of the first character (0-based)
    end: int  # line-local offset just past the last character
    text: str  # verbatim expression: number (+ scale) (+ unit or counted noun)
    value: float  # normalised value: "110 آلاف" → 110000, "30%" → 30, "ثلث" → 0.333…
    unit: str  # USD | IQD | EUR | km2 | km | percent | year | … | counted thing | fallback noun | number | fraction
    counted: str | None  # the counted noun as written ("طلعة جوية", "كهفا"), None when none
    qualifier: str  # exact | approx | more_than | less_than | at_least | at_most
    value_kind: str  # digits | words | mixed (digits + scale word) | vague | fraction | dual
    context: str | None = None  # killed | wounded | trained | arrested | destroyed | displaced | pledged


# --- lexicons, loaded once -------------------------------------------------------------------


def _forms(entry: str) -> list[str]:
    """"طلعة جوية/طلعات جوية" → normalised forms, singular first."""
    return [normalize(f) for f in entry.split("/")]


def _accusative(form: str) -> str | None:
    """كهف → كهفا (كهفاً with tanween, normalised); none for words ending in ة, ا or ء."""
    return None if form[-1] in "هاء" else form + "ا"


def _construct(form: str) -> str | None:
    """مقاتلين → مقاتلي: the sound plural before a genitive ("الآلاف من مقاتلي التنظيم")."""
    return form[:-1] if form.endswith("ين") and len(form) >= 5 and " " not in form else None


def _duals(singular: str) -> tuple[str, ...]:
    """عمليه → عمليتين, عمليتان; كهف → كهفين, كهفان (one-word singulars only)."""
    if " " in singular or len(singular) < 2:
        return ()
    stem = singular[:-1] + "ت" if singular.endswith("ه") else singular
    return (stem + "ين", stem + "ان")


def _longest_first(phrases: Iterable[str], spaces: str = r"\s+", escape: Callable[[str], str] = regex.escape) -> str:
    """A regex for normalised phrases that prefers the longest (a space in a phrase matches a run
    of spaces), written as a prefix tree: the engine follows the one branch the next character
    allows instead of trying 650 nouns in turn (4x faster). It matches what the alternation of
    the phrases sorted longest first matches, because no two branches of a node start with the
    same character (and phrases hold single spaces only), and an optional branch is tried before
    the phrase ending there. (``spaces`` and ``escape`` spell it for stdlib ``re``.)"""
    def branches(node: dict[str, dict]) -> str:
        alternatives = [(spaces if ch == " " else escape(ch)) + branches(child) for ch, child in sorted(node.items()) if ch]
        if not alternatives:
            return ""
        group = alternatives[0] if len(alternatives) == 1 and "" not in node else "(?:" + "|".join(alternatives) + ")"
        return group + "?" if "" in node else group

    return branches(prefix_tree(phrases))


@dataclass(frozen=True)
class _Units:
    forms: dict[str, str]  # normalised noun form → canonical unit
    duals: dict[str, str]  # normalised indefinite dual → canonical unit
    pattern: regex.Pattern  # a known noun (or percent sign/phrase) at a position
    pattern_re: re.Pattern  # the same for stdlib re, on lines below U+3000 (``spelled_below``): faster
    percent: frozenset[str]
    contexts: dict[str, str]
    not_counted: frozenset[str]


@cache
def _units() -> _Units:
    lex = load_lexicon("units")
    forms: dict[str, str] = {}
    singulars: dict[str, str] = {}
    for section in ("measures", "durations", "counted"):
        for canonical, entries in lex[section].items():
            for entry in entries:
                fs = _forms(entry)
                singulars.setdefault(fs[0], canonical)
                for f in fs:
                    forms.setdefault(f, canonical)
                    for variant in (_accusative(f), _construct(f)):
                        if variant:
                            forms.setdefault(variant, canonical)
    duals = {d: c for s, c in singulars.items() for d in _duals(s) if d not in forms}
    forms.update(duals)
    percent = frozenset(normalize(p) for p in lex["percent"])
    body = _longest_first(set(forms) | percent)
    pattern = regex.compile(rf"(?P<art>ال)?(?P<noun>{body})(?![\p{{L}}\p{{N}}])")
    body_re = _longest_first(set(forms) | percent, f"[{_SPACE}]+", re.escape)
    pattern_re = re.compile(f"(?P<art>ال)?(?P<noun>{body_re})(?![{_LETTER}{_NUMBER}])")
    contexts = {normalize(w): name for name, words in lex["contexts"].items() for w in words}
    not_counted = frozenset(normalize(w) for w in lex["not_counted"])
    return _Units(forms, duals, pattern, pattern_re, percent, contexts, not_counted)


@cache
def _number_context_words() -> tuple[frozenset[str], frozenset[str], frozenset[str], tuple[str, ...], frozenset[str]]:
    lex = load_lexicon("number_words")
    norm = lambda ws: frozenset(normalize(w) for w in ws)  # noqa: E731
    return (
        norm(lex["year_markers"]),
        norm(lex["identifier_words"]),
        norm(lex["furniture_nouns"]),
        tuple(sorted(norm(lex["model_prefixes"]), key=len, reverse=True)),
        norm(lex["ordinals"]),
    )


@cache
def _month_words() -> frozenset[str]:
    """First words of every CLDR wide month name in the locales outlets use (حزيران, تشرين, يونيو …)."""
    names = {normalize(n) for loc in MONTH_LOCALES for n in get_month_names("wide", locale=loc).values()}
    return frozenset(n.split(" ")[0] for n in names)


@cache
def _qualifier_patterns() -> tuple[regex.Pattern, regex.Pattern, dict[str, str], dict[str, str], tuple[str, ...]]:
    lex = load_lexicon("qualifiers")

    def phrases(section: str) -> dict[str, str]:
        return {normalize(p): name for name, ps in lex[section].items() for p in ps}

    def alternation(ps) -> str:
        return "|".join(r"\s*".join(regex.escape(w) for w in p.split(" ")) for p in sorted(ps, key=len, reverse=True))

    def by_letters(table: dict[str, str]) -> dict[str, str]:
        # keyed without spaces: "مايقرب من" and "ما يقرب من" are one phrase
        return {p.replace(" ", ""): name for p, name in table.items()}

    before, after = phrases("before"), phrases("after")
    # the phrase ends right before the number, allowing the number's article or a glued ب/ل
    before_re = regex.compile(rf"(?<![\p{{L}}\p{{N}}])[وفبل]?(?P<q>{alternation(before)})\s*(?:ال|ب|ل)?\s*$")
    after_re = regex.compile(rf"\s*(?P<q>{alternation(after)})(?![\p{{L}}])")
    before_letters = by_letters(before)
    return before_re, after_re, before_letters, by_letters(after), tuple(before_letters)


def _may_end_with_qualifier(window: str, phrases: tuple[str, ...]) -> bool:
    """Quick reject for the ``before`` pattern: without its spaces, the text before a number ends
    with a phrase (``phrases`` are keyed without spaces), maybe followed by the number's article
    or a glued ب/ل. (``str.split`` drops every ``\\s`` and more, so this never rejects a match.)"""
    letters = "".join(window.split())
    return (  # the article or ب/ل spelled out, not a generator per number
        letters.endswith(phrases)
        or (letters.endswith("ال") and letters[:-2].endswith(phrases))
        or (letters.endswith(("ب", "ل")) and letters[:-1].endswith(phrases))
    )


_PRONOUN_SUFFIX = regex.compile(r"(?:ه|ها|هم|هن)$")
_CLITICS_ONLY = regex.compile(r"(?:و|ف)?(?:ب|ل|ك)?(?:ال)?|(?:و|ف)?لل")
_CLITICS_BEFORE_ARTICLE = regex.compile(r"^(?:و|ف)?(?:ب|ل|ك)?(?=ال)|^(?:و|ف)?(?=لل)")
_SPACES_AND_ARTICLE = regex.compile(r"\s*(?:ال)?\s*")
_WORDS_AND_MARKS = regex.compile(r"\p{L}+|[^\s\p{L}\p{N}]")
# regex classes spelled for stdlib ``re`` below U+3000 (``spelled_below``): same matches, found faster
_SPACE, _LETTER, _NUMBER = spelled_out(r"\s"), spelled_out(r"\p{L}"), spelled_out(r"\p{N}")
_WORDS_AND_MARKS_RE = re.compile(f"[{_LETTER}]+|[^{_SPACE}{_LETTER}{_NUMBER}]")
# Possessive and anchored on the run's first digit, so a long digit run is scanned once (linear).
_DIGIT_SEQUENCE = regex.compile(r"(?<!\d)\d++(?:\s*[/:]\s*\d+)+|(?<!\d)\d++(?:-\d+)+")
_ARABIC_WORD = regex.compile(r"\p{Arabic}{2,}")


@cache
def _designation_patterns() -> tuple[regex.Pattern, regex.Pattern]:
    """A model series right before 1-3 digits ("الف 16", "إف-16", "F-16", "MQ9"), searched
    at the end of the text before a number; and a series word followed by such digits."""
    prefixes = "|".join(regex.escape(p) for p in _number_context_words()[3])
    before = regex.compile(
        rf"(?:(?<![A-Za-z\d])(?:[A-Za-z]{{1,4}}\s?-\s?|[A-Z]{{1,3}})|(?<![\p{{L}}\p{{N}}])[وب]?(?:{prefixes})(?:\s?-\s?|\s))$"
    )
    after = regex.compile(r"\s?-?\s?\d{1,3}(?![\d.,]?\d)")
    return before, after


def _is_designation(norm: str, num: NumberMatch) -> bool:
    """"طائرات الف 16": neither the 16 nor the الف (thousand) is a quantity."""
    before, after = _designation_patterns()
    if num.kind == "digits" and num.literal.isdigit() and len(num.literal) <= 3:
        return before.search(norm, max(0, num.start - 12), num.start) is not None
    if num.kind == "words" and num.tok_end - num.tok_start == 1 and num.text in _number_context_words()[3]:
        return after.match(norm, num.end) is not None
    return False


# --- helpers on tokens -----------------------------------------------------------------------

_CLITIC = regex.compile(r"^(?:و|ف)?(?:ب|ل|ك)?")


@lru_cache(maxsize=65536)  # bounded: called on the words around every number
def _strip_clitics(word: str) -> str:
    stripped = _CLITIC.sub("", word)
    return stripped if len(stripped) >= 2 else word


def _previous_word(norm: str, tokens: list[Token], i: int) -> tuple[int, Token] | None:
    """The word token before tokens[i] in the same clause (no punctuation between), skipping
    glued clitics (و2019, الـ70, لـ3000) and a spaced article (الـ 3000). A whole word glued to
    the digits is the previous word itself ("عام2014", "لواءي45")."""
    j = i - 1
    if j >= 0 and tokens[j].kind == "word" and tokens[j].end == tokens[i].start:
        if not _CLITICS_ONLY.fullmatch(tokens[j].text):
            return j, tokens[j]
        j -= 1
    if j >= 0 and tokens[j].text == "ال":
        j -= 1
    if j >= 0 and tokens[j].kind == "word":
        return j, tokens[j]
    return None


def _next_nonspace(norm: str, pos: int) -> int:
    while pos < len(norm) and norm[pos].isspace():
        pos += 1
    return pos


def _overlaps(a: tuple[int, int], spans: Sequence[tuple[int, int]]) -> bool:
    return any(a[0] < e and s < a[1] for s, e in spans)


def _fallback_unit(noun: str) -> str:
    """A noun not in the lexicon stands for itself: normalised, accusative alif dropped."""
    return noun[:-1] if noun.endswith("ا") and len(noun) >= 4 else noun


# --- what follows the number -----------------------------------------------------------------


class _Unit(NamedTuple):  # a named tuple: built for every number, at a fifth of a frozen dataclass's cost
    unit: str | None
    counted: tuple[int, int] | None  # normalised span of the counted noun
    end: int  # normalised end of the figure text
    known: bool  # from the lexicon (or percent)


def _unit_after(norm: str, num: NumberMatch) -> _Unit:
    units = _units()
    unit_pattern = for_text(units.pattern, units.pattern_re, norm)
    pos = _next_nonspace(norm, num.end)
    m = unit_pattern.match(norm, pos)
    if m and (not m.group("art") or num.kind == "vague"):
        noun = " ".join(m.group("noun").split())
        if noun in units.percent:
            return _Unit("percent", None, m.end(), True)
        return _Unit(units.forms[noun], (m.start("art") if m.group("art") else m.start("noun"), m.end()), m.end(), True)
    # partitive: "45 من عناصر التنظيم", "أربعة من رجال الشرطة", "11 من معاونيه"
    if norm.startswith("من ", pos):
        noun_pos = _next_nonspace(norm, pos + 2)
        m2 = unit_pattern.match(norm, noun_pos)
        if m2 and m2.group("noun") not in units.percent:
            noun = " ".join(m2.group("noun").split())
            return _Unit(units.forms[noun], (m2.start(), m2.end()), m2.end(), True)
        w2 = _ARABIC_WORD.match(norm, noun_pos)
        stem = _PRONOUN_SUFFIX.sub("", w2.group()) if w2 else ""
        if stem in units.forms:  # the noun carries a possessive pronoun: معاونيه, مساعديهم
            return _Unit(units.forms[stem], w2.span(), w2.end(), True)
    w = _ARABIC_WORD.match(norm, pos)
    if w and (pos == num.end or norm[num.end:pos].isspace()):
        word = w.group()
        definite = word.startswith("ال")
        if (
            word not in units.not_counted
            and (not definite or num.kind == "vague")
            and not word.startswith("و")
            and not word.endswith("وا")  # a past-tense plural verb: "1003 لقوا مصرعهم"
            and word_info(word) is None
            and word not in _month_words()
        ):
            return _Unit(_fallback_unit(word), (w.start(), w.end()), w.end(), False)
    return _Unit(None, None, num.end, False)


def _postposed_noun(norm: str, tokens: list[Token], num: NumberMatch) -> tuple[int, int, str] | None:
    """"السنوات الست", "الدول الـ70": a definite noun right before a definite number.
    Returns the noun's normalised span (after its clitics) and the noun without the article."""
    prev = _previous_word(norm, tokens, num.tok_start)
    if prev is None:
        return None
    j, tok = prev
    if not _gap_is_clause(norm, tok.end, num.start):
        return None
    word = tok.text
    m = _CLITICS_BEFORE_ARTICLE.match(word)
    lead = m.end() if m else 0
    bare = word[lead:]
    if bare.startswith("لل"):
        lead, bare = lead + 1, bare[1:]
    if not bare.startswith("ال") or len(bare) < 4 or word_info(word) is not None:
        return None
    if bare in _units().not_counted or bare in _number_context_words()[4]:
        return None
    return tok.start + lead, tok.end, bare[2:]


def _gap_is_clause(norm: str, a: int, b: int) -> bool:
    """Only spaces and an article (الـ) between a postposed noun and its number."""
    return _SPACES_AND_ARTICLE.fullmatch(norm, a, b) is not None


# --- what precedes the number ----------------------------------------------------------------


def _qualifier(norm: str, start: int, end: int) -> tuple[str, int]:
    """The qualifier of the figure at ``[start, end)`` and where the words before it begin
    (the start of a qualifier phrase before the number, else ``start``)."""
    before_re, after_re, before, after, before_endings = _qualifier_patterns()
    window_start = max(0, start - 40)
    window = norm[window_start:start]
    m = before_re.search(window) if _may_end_with_qualifier(window, before_endings) else None
    if m:
        return _lookup(before, m.group("q")), window_start + m.start()
    m = after_re.match(norm, end)
    if m:
        return _lookup(after, m.group("q")), start
    return "exact", start


def _lookup(table: dict[str, str], phrase: str) -> str:
    return table["".join(phrase.split())]


def _context(norm: str, start: int) -> str | None:
    """The nearest cue among the two words before the figure (or before its qualifier)."""
    words = for_text(_WORDS_AND_MARKS, _WORDS_AND_MARKS_RE, norm).findall(norm, max(0, start - 40), start)
    for word in reversed(words[-4:]):
        if not word[0].isalpha():
            return None  # a clause boundary
        cue = _cue(word)
        if cue is not None:
            return cue
    return None


@lru_cache(maxsize=65536)  # bounded: the words before every figure
def _cue(word: str) -> str | None:
    """The context a word cues, as written or without its clitics."""
    contexts = _units().contexts
    return contexts[word] if word in contexts else contexts.get(_strip_clitics(word))


# --- rejection rules ---------------------------------------------------------------------------


def _blocked_spans(norm: str) -> list[tuple[int, int]]:
    """Dates and times written with separators ("15-11-2020", "07:16") and page counters ("1500 / 1500")."""
    if "/" not in norm and ":" not in norm and "-" not in norm:
        return []  # quick reject: every such sequence has one of the separators
    return [m.span() for m in _DIGIT_SEQUENCE.finditer(norm)]


def _is_year_like(num: NumberMatch) -> bool:
    return num.kind == "digits" and num.literal.isdigit() and len(num.literal) == 4 and 1900 <= int(num.literal) <= 2099


def _rejected_by_context(norm: str, tokens: list[Token], num: NumberMatch) -> bool:
    year_markers, identifiers, furniture, _, _ = _number_context_words()
    prev = _previous_word(norm, tokens, num.tok_start)
    if prev is not None and _gap_is_clause(norm, prev[1].end, num.start):
        word = prev[1].text
        if word in year_markers or word in identifiers:
            return True
        bare = _strip_clitics(word)
        if bare in year_markers or bare in identifiers:
            return True
    nxt = num.tok_end
    if nxt < len(tokens) and tokens[nxt].kind == "word" and norm[num.end:tokens[nxt].start].isspace():
        following = tokens[nxt].text
        if following in _month_words() or _strip_clitics(following) in _month_words() or following in furniture:
            return True
    if num.kind == "words" and num.tok_end - num.tok_start == 1 and num.definite and num.value <= 2:
        return True  # الاثنين and الأحد are weekdays
    return False


def _noun_before_one_or_two(norm: str, tokens: list[Token], num: NumberMatch) -> tuple[int, int, str] | None:
    """"إرهابي واحد", "إرهابيين اثنين": one and two follow the noun they count.
    Returns the noun's normalised span and its unit when the noun is in the lexicon."""
    if num.kind != "words" or num.tok_end - num.tok_start != 1 or num.value > 2 or num.definite:
        return None
    i = num.tok_start - 1
    if i < 0 or tokens[i].kind != "word" or not norm[tokens[i].end:num.start].isspace():
        return None
    lead = _CLITIC.match(tokens[i].text).end()
    noun = tokens[i].text[lead:]
    unit = _units().forms.get(noun)
    return (tokens[i].start + lead, tokens[i].end, unit) if unit else None


# --- the extractor ------------------------------------------------------------------------------


def _figure(
    line: str,
    to_raw: Callable[[int, int], tuple[int, int]],
    norm: str,
    tokens: list[Token],
    num: NumberMatch,
) -> tuple[Figure, int] | None:
    """The figure a number states, with its normalised end, or None when it is not a figure."""
    if _rejected_by_context(norm, tokens, num):
        return None
    unit = _unit_after(norm, num)
    start, end = num.start, unit.end
    counted, unit_name = unit.counted, unit.unit
    before = _noun_before_one_or_two(norm, tokens, num)
    if before is not None:
        start, counted, unit_name, end = before[0], before[:2], before[2], num.end
    elif num.kind == "words" and num.value == 1 and num.tok_end - num.tok_start == 1:
        return None  # "في آن واحد", "واحدة من آخر المناطق": one without a counted noun before it
    if unit_name is None and num.definite:
        postposed = _postposed_noun(norm, tokens, num)
        if postposed is not None:
            noun_start, noun_end, bare = postposed
            start, counted = noun_start, (noun_start, noun_end)
            unit_name = _units().forms.get(bare) or _fallback_unit(bare)
    if num.kind in ("words", "fraction") and num.definite and unit_name is None:
        return None  # "المائة", "الثلاثة": a definite number word with nothing counted
    if _is_year_like(num) and not unit.known and not (counted and norm[counted[1] - 1] == "ا"):
        return None  # a year ("2019 بلغت", "في 2014على"), unless an accusative noun follows ("2070 عراقيا")
    if num.kind == "fraction" and not unit.known:
        unit_name, counted, end = "fraction", None, num.end
    if unit_name is None:
        unit_name = "number"  # nothing counted: "قتل 21 على الأقل"
    qualifier, words_before = _qualifier(norm, start, end)
    if num.kind == "vague" and qualifier == "exact":
        qualifier = "at_least"
    raw_start, raw_end = to_raw(start, end)
    counted_text = None
    if counted is not None:
        cs, ce = to_raw(*counted)
        counted_text = line[cs:ce]
    fig = Figure(
        start=raw_start,
        end=raw_end,
        text=line[raw_start:raw_end],
        value=float(num.value),
        unit=unit_name,
        counted=counted_text,
        qualifier=qualifier,
        value_kind=num.kind,
        context=_context(norm, words_before),
    )
    return fig, end


@cache
def _dual_word_forms() -> frozenset[str]:
    """The indefinite duals with the clitics they may carry (وعمليتين, بعمليتين)."""
    clitics = [a + b for a in ("", "و", "ف") for b in ("", "ب", "ل", "ك")]
    return frozenset(c + d for d in _units().duals for c in clitics)


def _dual_figures(
    line: str, to_raw, norm: str, tokens: list[Token], taken: list[tuple[int, int]]
) -> list[Figure]:
    """Indefinite duals of known nouns: "نفذت عمليتين" → 2 operation."""
    duals, dual_words = _units().duals, _dual_word_forms()
    out = []
    for i, tok in enumerate(tokens):
        if tok.text not in dual_words:
            continue  # quick reject: a dual is one of these words once its clitics are stripped
        lead = _CLITIC.match(tok.text).end()
        noun = tok.text[lead:]
        if noun not in duals or _overlaps((tok.start, tok.end), taken):
            continue
        prev = tokens[i - 1] if i else None
        if prev is not None and (prev.kind == "digits" or word_info(prev.text) is not None):
            continue
        start, end = tok.start + lead, tok.end
        rs, re_ = to_raw(start, end)
        out.append(Figure(rs, re_, line[rs:re_], 2.0, duals[noun], line[rs:re_], "exact", "dual", _context(norm, start)))
    return out


def extract_figures(text: str, masked: Sequence[tuple[int, int]] = ()) -> list[Figure]:
    """All figures in one line of text, left to right.

    ``masked`` are line-local raw spans of date expressions found by the date parser; a number
    overlapping one is not a figure.

    >>> [(f.text, f.value, f.unit, f.qualifier) for f in extract_figures("شن التحالف أكثر من ألف عملية")]
    [('ألف عملية', 1000.0, 'operation', 'more_than')]
    """
    nt = NormalizedText.of(text)
    norm, to_raw = nt.text, nt.raw_span
    clauses, has_duals = _candidate_clauses(norm)
    if not clauses:
        return []  # most lines: nothing that could be a number
    blocked = _blocked_spans(norm)
    figures: list[Figure] = []
    taken: list[tuple[int, int]] = []
    claimed_until = 0
    for clause_start, clause_end in clauses:
        tokens = tokenize(norm, clause_start, clause_end)
        for num in find_numbers(norm, tokens):
            if num.start < claimed_until or (blocked and _overlaps((num.start, num.end), blocked)) or _is_designation(norm, num):
                continue
            if masked and _overlaps(to_raw(num.start, num.end), masked):
                continue
            found = _figure(text, to_raw, norm, tokens, num)
            if found is None:
                continue
            fig, end = found
            figures.append(fig)
            taken.append((num.start, end))
            claimed_until = end
        if has_duals:
            duals = _dual_figures(text, to_raw, norm, tokens, taken)
            figures += [f for f in duals if not (masked and _overlaps((f.start, f.end), masked))]
    return sorted(figures, key=lambda f: f.start)


# A clause ends at punctuation followed by a space, or at a quotation mark; no figure crosses one.
_CLAUSE_BREAK = regex.compile(r'[.,;:!?]\s+|"')
_CLAUSE_BREAK_SPLIT = regex.compile(f"({_CLAUSE_BREAK.pattern})")  # for match_spans
# The same below U+3000 (``fast_split``), for stdlib ``re`` and opening with one class of characters,
# which ``re`` skips to in C (twice as fast as either engine on the alternation): a quotation
# mark is a break alone, other punctuation with the spaces after it.
_CLAUSE_BREAK_SPLIT_RE = re.compile(f'([.,;:!?"](?:(?<=")|[{_SPACE}]+))')
_DIGIT_RUN = regex.compile(r"\d+")


@cache
def _candidate_words() -> frozenset[str]:
    """The words that put a clause forward: number words and indefinite duals, with clitics."""
    return number_word_forms() | _dual_word_forms()


def _candidate_clauses(norm: str) -> tuple[list[tuple[int, int]], bool]:
    """The spans of the clauses that hold a digit, a number word or a dual noun, so that only
    they are tokenized (a paragraph usually states its figures in one or two clauses), and
    whether the line has a dual noun at all."""
    candidates = letter_words(norm) & _candidate_words()  # letter_words is shared with the quotes prefilter
    first_digit = _DIGIT_RUN.search(norm)
    if not candidates and first_digit is None:
        return [], False  # quick reject: most lines
    positions = [m.start() for m in _DIGIT_RUN.finditer(norm, first_digit.start())] if first_digit else []
    for word in candidates:
        i = norm.find(word)
        while i != -1:
            positions.append(i)
            i = norm.find(word, i + 1)
    # clause boundaries as running sums of the split's lengths (in C, no match objects)
    cuts = [0, *fast_split(_CLAUSE_BREAK_SPLIT, _CLAUSE_BREAK_SPLIT_RE, norm)[2], len(norm)]
    spans: list[tuple[int, int]] = []
    for c in sorted({bisect_right(cuts, p) - 1 for p in positions}):
        start, end = cuts[c], cuts[c + 1]
        if spans and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans, not candidates.isdisjoint(_dual_word_forms())
