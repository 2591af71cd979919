"""Arabic date expressions → ISO date ranges, with exact verbatim spans.

``find_dates(line_text, published)`` finds every date expression of one line and resolves it to a
``[date_start, date_end]`` range (both inclusive) with a precision and a basis:

>>> import datetime as dt
>>> [(m.text, str(m.date_start), m.precision) for m in find_dates("اجتمع الوزراء في 3 آذار/مارس 2016.", None)]
[('3 آذار/مارس 2016', '2016-03-03', 'day')]
>>> m, = find_dates("وقررت الحكومة في الشهر الماضي، إغلاق المعبر", dt.date(2019, 5, 10))
>>> (m.text, str(m.date_start), str(m.date_end), m.precision, m.basis)
('الشهر الماضي', '2019-04-01', '2019-04-30', 'month', 'relative')

Month names come from CLDR through Babel (every Arabic press tradition: كانون الثاني, يناير, جانفي,
يوليوز) plus the spelling variants of ``lexicons/month_variants.yaml``; dual forms ("14 تشرين
الثاني/نوفمبر 2019", "24 مايو/ أيار", "10 يونيو (حزيران)") are one month expression. Hijri months
and years are converted with hijridate. Relative expressions (يوم أمس, يوم الخميس, الأسبوع الماضي,
الأيام الخمسة الأخيرة, منذ آذار الماضي …) resolve against the publication date; without one
they are not returned. The rules for spans, weeks and vague counts are in docs/events.md.

Matching runs on the normalised text (``NormalizedText``) and spans are mapped back to the raw line.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import filterfalse
from typing import Callable, Iterable, NamedTuple

import babel.dates
import regex
from hijridate import Gregorian, Hijri

from ..lexicon import load_lexicon
from .frozen import stored_at_once
from .normalise import NormalizedText, letter_words, normalize, prefix_tree

PRECISIONS = ("day", "week", "month", "year", "range")
BASES = ("explicit", "relative")


@stored_at_once
@dataclass(frozen=True)
class DateMention:
    """One date expression of a line, resolved.

    ``text == line_text[start:end]``; ``basis`` is ``relative`` when resolving it needed the
    publication date (يوم أمس, الشهر الماضي, and a day or month printed without its year).
    """

    start: int
    end: int
    text: str
    date_start: dt.date
    date_end: dt.date
    precision: str
    basis: str


# --- lexicon → patterns ----------------------------------------------------------------------

def _key(word: str) -> str:
    return normalize(word)


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation of normalised words, longest first, spaces matching any run of spaces."""
    keys = sorted({_key(w) for w in words if w}, key=len, reverse=True)
    return "(?:" + "|".join(r"\s+".join(regex.escape(p) for p in k.split(" ")) for k in keys) + ")"


def _lookup(mapping: dict[int, list[str]]) -> dict[str, int]:
    return {_key(w): n for n, words in mapping.items() for w in words}


class _Grammar(NamedTuple):
    month_of: dict[str, int]
    hijri_month_of: dict[str, int]
    weekday_of: dict[str, int]
    cardinal_of: dict[str, int]
    ordinal_of: dict[str, int]
    words: dict[str, frozenset[str]]
    patterns: list[tuple[str, "regex.Pattern[str]", Callable]]
    leads: dict[str, "re.Pattern[str]"]


def _month_names() -> dict[int, list[str]]:
    """Month number → every spelling: CLDR wide names of all Arabic locales, plus the lexicon's."""
    lex = load_lexicon("month_variants")
    names: dict[int, list[str]] = {n: [] for n in range(1, 13)}
    for loc in lex["cldr_locales"]:
        for n, name in babel.dates.get_month_names("wide", locale=loc).items():
            names[n].append(name)
        for n, name in babel.dates.get_month_names("wide", context="stand-alone", locale=loc).items():
            names[n].append(name)
    for n, extra in lex["variants"].items():
        names[int(n)].extend(extra)
    return names


def _weekday_names() -> dict[int, list[str]]:
    """Python weekday number (Monday 0) → Arabic names, from CLDR."""
    return {n: [name] for n, name in babel.dates.get_day_names("wide", locale="ar").items()}


def _ordinals(lex: dict) -> dict[str, int]:
    """Day ordinals 1–31 as words: التاسع, الحادي عشر, الرابع والعشرين."""
    units = {n: [_key(w) for w in ws] for n, ws in lex["ordinal_units"].items()}
    out: dict[str, int] = {}
    for n, ws in units.items():
        for w in ws:
            if w != _key("الحادي"):
                out[w] = n
    for tens, ws in lex["ordinal_tens"].items():
        for w in ws:
            out[_key(w)] = tens
    for suffix in lex["ordinal_teen_suffix"]:
        for n, ws in units.items():
            for w in ws:
                if n != 1 or w == _key("الحادي"):
                    out[f"{w} {_key(suffix)}"] = 10 + n
    for tens in (20, 30):
        for tw in lex["ordinal_tens"][tens]:
            for n, ws in units.items():
                for w in ws:
                    if tens + n <= 31:
                        out[f"{w} و{_key(tw)}"] = tens + n
    return out


# What joins the two ends of a range, normalised ("10 و15", "من 3 إلى 7", "2014-2017"): one
# definition for the patterns and for the musts that skip them (``_musts``).
_RANGE_JOIN = r"(?:و|الي|حتي|-)"


@cache
def _grammar() -> _Grammar:
    lex = load_lexicon("date_words")
    hij = load_lexicon("hijri_months")
    month_of = _lookup(_month_names())
    hijri_month_of = _lookup({int(k): v for k, v in hij["months"].items()})
    weekday_of = _lookup(_weekday_names())
    cardinal_of = _lookup({int(k): v for k, v in lex["cardinals"].items()})
    ordinal_of = _ordinals(lex)
    words = {k: frozenset(_key(w) for w in v) for k, v in lex.items() if isinstance(v, list)}
    words["hijri_marks"] = frozenset(_key(w) for w in hij["hijri_year_markers"])
    words["hijri_prep_ok"] = frozenset(_key(w) for w in hij["after_preposition_ok"])
    units = {u: {f: frozenset(_key(w) for w in ws) for f, ws in forms.items()} for u, forms in lex["units"].items()}
    G = _Grammar(month_of, hijri_month_of, weekday_of, cardinal_of, ordinal_of, words, [], {})
    G.patterns.extend(_build_patterns(G, units))
    G.leads.update(_build_leads(G, units))
    return G


# Units, kept for resolution: unit word (normalised) → (unit, count implied by the form)
@cache
def _unit_of() -> dict[str, tuple[str, int | None]]:
    lex = load_lexicon("date_words")
    out: dict[str, tuple[str, int | None]] = {}
    for unit, forms in lex["units"].items():
        for w in forms["singular"]:
            out[_key(w)] = (unit, 1)
        for w in forms["dual"]:
            out[_key(w)] = (unit, 2)
        for w in forms["plural"]:
            out[_key(w)] = (unit, None)
    return out


_B = r"(?<![\p{L}\p{N}])(?:[وفبلك]{1,2}(?=\S))?"  # word start, optional clitics outside the span
_E = r"(?![\p{L}\p{N}])"  # word end


def _build_patterns(G: _Grammar, units: dict) -> list[tuple[str, "regex.Pattern[str]", Callable]]:
    w = G.words
    month = _alternation(G.month_of)
    month_expr = rf"(?P<m1>{month})(?:\s*[/\-]\s*(?P<m2>{month})|\s*\(\s*(?P<m3>{month})\s*\))?"
    hmonth = _alternation(G.hijri_month_of)
    weekday = _alternation(G.weekday_of)
    ordinal = _alternation(G.ordinal_of)
    cardinal = _alternation(G.cardinal_of)
    past, recent, current, nxt = (_alternation(w[k]) for k in ("past", "recent", "current", "next"))
    this, few = _alternation(w["this"]), _alternation(w["few"])
    tod = _alternation(w["times_of_day"])
    year_word = r"(?:عام|العام|سنه|السنه)"
    rel_year = rf"(?:(?:العام|السنه)\s+(?:{past}|{current}|{nxt})|{this}\s+(?:العام|السنه))"
    hmark = _alternation(w["hijri_marks"])
    sing = _alternation(set().union(*(u["singular"] for u in units.values())))
    dual = _alternation(set().union(*(u["dual"] for u in units.values())))
    plural = _alternation(set().union(*(u["plural"] for u in units.values())))
    day_num = r"(?:ال\s*)?(?P<d>\d{1,2})(?!\d)"
    day_words = rf"(?P<dw>{ordinal})\s+من"
    year_tail = rf"(?:\s*,?\s+(?:من\s+)?(?:{year_word}\s+)?(?P<y>\d{{4}})(?!\d)(?:\s*م{_E})?|\s+(?P<q>{past}|{current}|{nxt}){_E}|\s+(?:من\s+)?(?P<ry>{rel_year}){_E})?"
    c = regex.compile
    return [
        ("numeric", c(rf"(?<![\d/.\-])(?P<core>(?P<a>\d{{1,2}})\s*(?P<sep>[-/.])\s*(?P<b>\d{{1,2}})\s*(?P=sep)\s*(?P<y>\d{{4}})|(?P<y2>\d{{4}})-(?P<b2>\d{{1,2}})-(?P<a2>\d{{1,2}}))(?![\d])"), _numeric),
        ("hijri_day", c(rf"{_B}(?P<core>{day_num}\s+(?P<hm>{hmonth})\s+(?P<hy>\d{{4}})\s*{hmark}{_E})"), _hijri_day),
        ("day_month", c(rf"{_B}(?P<core>(?:يوم\s+)?(?:{day_num}|{day_words})\s+{month_expr}{year_tail}){_E}"), _day_month),
        ("day_range", c(rf"{_B}(?P<core>(?:(?:بين|من)\s+(?:يومي\s+)?)?(?P<d1>\d{{1,2}})\s*{_RANGE_JOIN}\s*(?P<d>\d{{1,2}})\s+{month_expr}{year_tail}){_E}"), _day_range),
        ("day_of_rel_month", c(rf"{_B}(?P<core>(?:{day_num}|{day_words})\s+(?P<rm>الشهر\s+(?:{past}|{current})|{this}\s+الشهر)){_E}"), _day_of_relative_month),
        ("month", c(rf"{_B}(?P<core>(?:شهر\s+)?{month_expr}{year_tail}){_E}"), _month),
        ("hijri_month", c(rf"{_B}(?P<core>(?P<sh>شهر\s+)?(?P<hm>{hmonth})(?:\s+(?P<hy>\d{{4}})\s*{hmark}|\s+(?P<q>{past}|{current}|{nxt}|المبارك|الفضيل))?){_E}"), _hijri_month),
        ("hijri_year", c(rf"{_B}(?P<core>(?:{year_word}\s+)?(?P<hy>1[34]\d\d)\s*{hmark}){_E}"), _hijri_year),
        ("year_range", c(rf"{_B}(?P<core>(?:(?:ال)?عامين|عامي|(?:بين|من)\s+(?:عامي|عام|العام)?)\s*(?P<y1>\d{{4}})\s+{_RANGE_JOIN}\s*(?:عام\s+)?(?P<y2>\d{{4}}))(?!\d)"), _years_between),
        ("year", c(rf"{_B}(?P<core>(?:(?P<yw>{year_word})\s+)?(?P<y>\d{{4}})(?:\s*م{_E})?)(?!\d)"), _year),
        ("relative_year_word", c(rf"{_B}(?P<core>{rel_year}|(?P<u>الاسبوع|الشهر)\s+(?P<q>{past}|{current}|{nxt})|{this}\s+(?P<u2>الاسبوع|الشهر)){_E}"), _relative_unit),
        ("recent_unit", c(rf"{_B}(?P<core>(?P<u>العام|السنه|الشهر|الاسبوع)\s+{recent}){_E}"), _recent_single_unit),
        ("last_n_units", c(rf"{_B}(?P<core>ال(?P<u>{plural})\s+(?:ال(?P<nw>{cardinal})\s+|(?P<fw>{few})\s+)?(?:{past}|{recent})|(?:ال)?\s*(?:(?P<n>\d{{1,3}})|ال(?P<nw2>{cardinal}))\s+(?P<u2>{plural}|{sing})\s+(?:ال)?(?:{past}|{recent})|ال(?P<ud>{dual})\s+(?:{past}|{recent})){_E}"), _last_n_units),
        ("ago", c(rf"{_B}(?P<core>(?P<op>قبل|منذ)\s+(?:(?P<n>\d{{1,3}})\s+(?P<u>{plural}|{sing})|(?P<nw>{cardinal})\s+(?P<u2>{plural}|{sing})|(?P<ud>{dual})|(?P<us>{sing}))){_E}"), _ago),
        ("yesterday", c(rf"{_B}(?P<core>(?:{tod}\s+)?(?P<k>{_alternation(w['day_before_yesterday'])}|{_alternation(w['yesterday'])}|{_alternation(w['last_night'])})(?:\s*,?\s*(?P<wd>{weekday}))?){_E}"), _yesterday),
        ("today", c(rf"{_B}(?P<core>{_alternation(w['today'])}(?:\s*,?\s*(?P<wd>{weekday}))?){_E}(?!\s+{_alternation(w['not_today_followers'])}{_E})"), _today),
        ("weekday", c(rf"{_B}(?<!كل\s+)(?P<core>(?:{tod}\s+)?(?P<wd>{weekday})(?:\s+(?P<wd2>{weekday}))?(?:\s+(?P<q>قبل\s+(?:ال)?ماضي|{past}|{nxt}))?){_E}"), _weekday),
    ]


# How a match of each pattern begins, for ``_scan``: after ``_B``'s clitics (at most _REACH letters),
# the core opens with one of these. Leads are stdlib ``re`` (several times faster than ``regex`` at
# finding literal words); they use only literals, ``[0-9]`` and ``\s``, which cover the patterns'
# ``\d`` on lines without other digits (``_OTHER_DIGIT``) and their ``\s`` (regex's ⊆ re's, tested).
# Without a lead (scanned whole): numeric (regex already skips to its digits), today (one literal)
# and the rare hijri_day and hijri_month.
_REACH = 2


def _trie(words: Iterable[str]) -> str:
    """A regex matching where one of ``words`` (non-empty literals) begins, shared prefixes factored
    out: ``re`` tries an alternation's branches one by one, and most of these words begin with ال.
    A word that extends a shorter one is left out: where it matches, so does the shorter one.

    >>> _trie(["الاحد", "الاثنين", "امس", "امسيه"])
    'ا(?:لا(?:ثنين|حد)|مس)'
    """
    branches = _trie_branches(words)
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


def _trie_branches(words: Iterable[str]) -> list[str]:
    """The top-level branches of ``_trie(words)``, one per first character (a literal).

    >>> _trie_branches(["امس", "يوم"])
    ['امس', 'يوم']
    """
    def emit(node: dict) -> str:
        if "" in node:
            return ""
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    tree = prefix_tree(words)
    return [""] if "" in tree else [re.escape(ch) + emit(child) for ch, child in sorted(tree.items())]


def _literal_first(firsts: Iterable[str], rest: str) -> list[str]:
    """``[firsts]rest`` as one branch per first character.

    A lead whose every top-level branch opens with a literal gets from ``re`` the set of its
    first characters, and its search skips in C to them (two to three times fewer instructions
    than trying the pattern at every position, which a class or a group in front prevents).

    >>> _literal_first("12", "x")
    ['1x', '2x']
    """
    return [re.escape(c) + rest for c in firsts]


def _firsts(words: Iterable[str]) -> set[str]:
    """First words of normalised (possibly multi-word) keys: where a match of the key begins."""
    return {k.split(" ")[0] for k in words}


# Every character stdlib re's ``\s`` matches is below U+3001 (the last is U+3000, IDEOGRAPHIC
# SPACE; a test scans all 1.1M code points): scanning them all took ~0.2 s of each process's first
# extraction.
_RE_WHITESPACE_BELOW = 0x3001


def re_whitespace() -> str:
    r"""Every character stdlib re's ``\s`` matches, in code point order.

    >>> re_whitespace()[:6] == "\t\n\x0b\x0c\r\x1c"
    True
    """
    return "".join(re.findall(r"\s", "".join(map(chr, range(_RE_WHITESPACE_BELOW)))))


def _build_leads(G: _Grammar, units: dict) -> dict[str, "re.Pattern[str]"]:
    w = G.words
    tod, ordinal, cardinal = _firsts(w["times_of_day"]), _firsts(G.ordinal_of), _firsts(G.cardinal_of)
    year_words = {"عام", "العام", "سنه", "السنه"}
    plural_or_dual = set().union(*(u["plural"] | u["dual"] for u in units.values()))

    def lead(words: Iterable[str], *others: list[str]) -> "re.Pattern[str]":
        """Words (as a trie) or other branches, every branch opening with a literal (``_literal_first``)."""
        return re.compile("|".join([*(_trie_branches(words) if words else ()), *(b for bs in others for b in bs)]))

    digits = "0123456789"
    re_spaces = re_whitespace()
    # a number's first digit: a core opening with a number follows a clitic or a non-letter (``_B``)
    number = _literal_first(digits, "(?<![0-9]{2})")
    day = ([r"ال\s*[0-9]"], number)  # a day number: "الـ5", "5" (or an ordinal: "الخامس من")
    return {
        "day_month": lead({"يوم"} | ordinal, *day),
        "day_range": lead((), _literal_first(["بين", "من"], r"\s+(?:يومي\s+)?[0-9]"), number),
        "day_of_rel_month": lead(ordinal, *day),
        "month": lead({"شهر"} | _firsts(G.month_of)),
        "hijri_year": lead(year_words | {"13", "14"}),
        "year_range": lead({"العامين", "عامي"}, _literal_first(["بين", "من"], r"\s+(?:عامي|عام|العام)?\s*[0-9]")),
        "year": lead(year_words, _literal_first(digits, "(?<![0-9]{2})[0-9]{3}")),
        "relative_year_word": lead({"العام", "السنه", "الاسبوع", "الشهر"} | _firsts(w["this"])),
        "recent_unit": lead({"العام", "السنه", "الشهر", "الاسبوع"}),
        # "الأيام الماضية", "الشهرين"; a count after ال, spaces or nothing: "الـ5 أيام", "الخمسة أيام", "5 أيام"
        "last_n_units": lead({"ال" + u for u in plural_or_dual} | {p + c for p in ("ال", "الال") for c in cardinal},
                             [r"ال\s*[0-9]", rf"ال\s+ال{_trie(cardinal)}"],
                             _literal_first(re_spaces, rf"\s*(?:[0-9]|ال{_trie(cardinal)})"), number),
        "ago": lead({"قبل", "منذ"}),
        "yesterday": lead(tod | _firsts(w["day_before_yesterday"] | w["yesterday"] | w["last_night"])),
        "weekday": lead(tod | _firsts(G.weekday_of)),
    }


class _AfterWordChar(dict):
    """Character → whether ``_B``'s lookbehind ``(?<![\\p{L}\\p{N}])`` fails after it (a letter or
    a number in regex's tables), worked out once per distinct character."""

    def __missing__(self, c: str) -> bool:
        inside = self[c] = _LETTER_OR_NUMBER.match(c) is not None
        return inside


_LETTER_OR_NUMBER = regex.compile(r"[\p{L}\p{N}]")
_INSIDE_WORD = _AfterWordChar()


def _scan(pattern: "regex.Pattern[str]", lead: "re.Pattern[str]", text: str):
    """``pattern.finditer(text)``, trying the pattern only just before each ``lead``.

    Every match starting at ``s`` has a lead starting in ``[s, s + _REACH]``: so no match starts
    more than _REACH before the first lead at or after any position, and the pattern need only be
    tried at the _REACH + 1 starts up to each lead (lookbehinds still see the text before them).
    Every pattern with a lead opens with ``_B``, whose lookbehind rules out a start just after a
    letter or number: most of the starts before a lead, skipped without calling ``regex``.
    The patterns never match the empty string, so each match moves the scan forward."""
    inside_word = _INSIDE_WORD
    ruled_out = 0  # no match starts before this (or it overlaps one found)
    while (found := lead.search(text, ruled_out)) is not None:
        at = found.start()
        for start in range(max(ruled_out, at - _REACH), at + 1):
            if start and inside_word[text[start - 1]]:
                continue  # _B's lookbehind fails here
            if (m := pattern.match(text, start)) is not None:
                yield m
                ruled_out = m.end()
                break
        else:
            ruled_out = at + 1


# --- resolution helpers ----------------------------------------------------------------------

class _Res(NamedTuple):
    date_start: dt.date
    date_end: dt.date
    precision: str
    basis: str


def _month_range(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def _year_range(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _shift_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _minus(d: dt.date, unit: str, n: int) -> dt.date:
    if unit == "hour":  # "خلال الـ24 ساعة الماضية": whole days, rounded up
        return d - dt.timedelta(days=-(-n // 24))
    if unit == "day":
        return d - dt.timedelta(days=n)
    if unit == "week":
        return d - dt.timedelta(weeks=n)
    if unit == "month":
        return _shift_months(d, -n)
    return _shift_months(d, -12 * n)


def _unit_range(unit: str, anchor: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar week (ISO, Monday–Sunday), month or year containing ``anchor``."""
    if unit == "week":
        monday = anchor - dt.timedelta(days=anchor.weekday())
        return monday, monday + dt.timedelta(days=6)
    if unit == "month":
        return _month_range(anchor.year, anchor.month)
    return _year_range(anchor.year)


def _month_number(G: _Grammar, m) -> int | None:
    """The month of a (possibly dual) month expression; a dual form naming two months is refused."""
    first = G.month_of.get(_squash(m.group("m1")))
    second = m.group("m2") or m.group("m3")
    if second is not None and G.month_of.get(_squash(second)) != first:
        return None
    return first


def _squash(s: str) -> str:
    return " ".join(s.split())


def _qualifier(G: _Grammar, q: str | None) -> str | None:
    """'past' | 'current' | 'next' for a qualifier word, None when absent."""
    if not q:
        return None
    q = _squash(q)
    for kind in ("past", "current", "next"):
        if q in G.words[kind]:
            return kind
    return None


def _year_of_relative(G: _Grammar, ry: str, published: dt.date) -> int:
    """'العام الماضي' → published.year - 1, 'العام الجاري'/'هذا العام' → published.year, 'المقبل' → +1."""
    words = set(_squash(ry).split())
    if words & G.words["past"]:
        return published.year - 1
    if words & G.words["next"]:
        return published.year + 1
    return published.year


def _month_year(G: _Grammar, m, month: int, published: dt.date | None) -> tuple[int, str] | None:
    """Year of a month expression, and the basis: stated, or the one that fits publication."""
    if m.group("y"):
        return int(m.group("y")), "explicit"
    if published is None:
        return None
    if m.group("ry"):
        return _year_of_relative(G, m.group("ry"), published), "relative"
    q = _qualifier(G, m.group("q"))
    if q == "next":
        return (published.year if month > published.month else published.year + 1), "relative"
    if q == "past":  # "أكتوبر الماضي": the last October strictly before the publication month
        return (published.year if month < published.month else published.year - 1), "relative"
    return (published.year if month <= published.month else published.year - 1), "relative"


def _day_value(G: _Grammar, m) -> int | None:
    if m.group("d"):
        return int(m.group("d"))
    return G.ordinal_of.get(_squash(m.group("dw")))


def _safe_date(y: int, mo: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, mo, d)
    except ValueError:
        return None


# --- handlers: match → resolution (None when it is not a resolvable date) ----------------------

def _numeric(G, m, published) -> _Res | None:
    """"12-04-2019" (day-month-year, the Arabic order), "2019-04-12" (ISO)."""
    if m.group("y2"):
        d = _safe_date(int(m.group("y2")), int(m.group("b2")), int(m.group("a2")))
    else:
        a, b, y = int(m.group("a")), int(m.group("b")), int(m.group("y"))
        d = _safe_date(y, b, a) or _safe_date(y, a, b)
    if d is None or not 1900 <= d.year <= 2100:
        return None
    return _Res(d, d, "day", "explicit")


def _day_month(G, m, published) -> _Res | None:
    """"3 آذار/مارس 2016", "في الخامس من أيار/مايو", "الـ7 فيفري الماضي"."""
    month, day = _month_number(G, m), _day_value(G, m)
    if month is None or day is None:
        return None
    if m.group("y"):
        d = _safe_date(int(m.group("y")), month, day)
        return _Res(d, d, "day", "explicit") if d else None
    if published is None:
        return None
    if m.group("ry"):
        d = _safe_date(_year_of_relative(G, m.group("ry"), published), month, day)
        return _Res(d, d, "day", "relative") if d else None
    q = _qualifier(G, m.group("q"))
    for year in ((published.year, published.year + 1) if q == "next" else (published.year, published.year - 1)):
        d = _safe_date(year, month, day)
        if d and ((d > published) if q == "next" else (d <= published)):
            return _Res(d, d, "day", "relative")
    return None


def _day_range(G, m, published) -> _Res | None:
    """"بين 10 و15 آذار 2017", "من 3 إلى 7 أيار": from the first day to the second, in that month."""
    last = _day_month(G, m, published)
    first_day = int(m.group("d1"))
    if last is None or not 1 <= first_day < last.date_start.day:
        return None
    return _Res(last.date_start.replace(day=first_day), last.date_end, "range", last.basis)


def _day_of_relative_month(G, m, published) -> _Res | None:
    """"الرابع والعشرين من الشهر الماضي"."""
    day = _day_value(G, m)
    if published is None or day is None:
        return None
    words = set(_squash(m.group("rm")).split())
    anchor = _shift_months(published.replace(day=1), -1) if words & G.words["past"] else published
    d = _safe_date(anchor.year, anchor.month, day)
    return _Res(d, d, "day", "relative") if d else None


def _month(G, m, published) -> _Res | None:
    """"أيلول/سبتمبر عام 2014", "تشرين الأول 2014", "نوفمبر الماضي"; a bare name needs a cue word."""
    month = _month_number(G, m)
    if month is None:
        return None
    stated = m.group("y") or m.group("q") or m.group("ry") or m.group("m2") or m.group("m3")
    if not stated and not m.group("core").startswith("شهر") and not _cue_before(G, m, "month_cues"):
        return None  # "مارس" alone is also a verb (he practised)
    ym = _month_year(G, m, month, published)
    if ym is None:
        return None
    start, end = _month_range(ym[0], month)
    return _Res(start, end, "month", ym[1])


def _hijri_to_range(year: int, month: int | None) -> tuple[dt.date, dt.date] | None:
    try:
        if month is None:
            start = Hijri(year, 1, 1).to_gregorian()
            end = Hijri(year + 1, 1, 1).to_gregorian()
        else:
            start = Hijri(year, month, 1).to_gregorian()
            nxt = Hijri(year + (month == 12), month % 12 + 1, 1).to_gregorian()
            end = nxt
    except (ValueError, OverflowError):
        return None
    return dt.date(start.year, start.month, start.day), dt.date(end.year, end.month, end.day) - dt.timedelta(days=1)


def _hijri_day(G, m, published) -> _Res | None:
    """"15 رمضان 1441 هـ"."""
    try:
        g = Hijri(int(m.group("hy")), G.hijri_month_of[_squash(m.group("hm"))], int(m.group("d"))).to_gregorian()
    except (ValueError, OverflowError, KeyError):
        return None
    d = dt.date(g.year, g.month, g.day)
    return _Res(d, d, "day", "explicit")


def _hijri_month(G, m, published) -> _Res | None:
    """"رمضان 1441 هـ" (explicit), "شهر رمضان الماضي" (the last one that ended before publication)."""
    name = _squash(m.group("hm"))
    month = G.hijri_month_of[name]
    if m.group("hy"):
        r = _hijri_to_range(int(m.group("hy")), month)
        return _Res(*r, "month", "explicit") if r else None
    if not (m.group("sh") or m.group("q") or (name in G.words["hijri_prep_ok"] and _cue_before(G, m, "month_cues"))):
        return None  # رجب, صفر, رمضان are also names and words
    if published is None:
        return None
    q = _qualifier(G, m.group("q"))
    hy = Gregorian(published.year, published.month, published.day).to_hijri().year
    candidates = [r for y in (hy - 1, hy, hy + 1) if (r := _hijri_to_range(y, month))]
    if q == "past":
        chosen = [r for r in candidates if r[1] < published][-1:]
    elif q == "next":
        chosen = [r for r in candidates if r[0] > published][:1]
    else:
        chosen = [r for r in candidates if r[0] <= published][-1:]
    return _Res(*chosen[0], "month", "relative") if chosen else None


def _hijri_year(G, m, published) -> _Res | None:
    """"1441 هـ" → 2019-08-31 … 2020-08-19."""
    r = _hijri_to_range(int(m.group("hy")), None)
    return _Res(*r, "year", "explicit") if r else None


def _years_between(G, m, published) -> _Res | None:
    """"العامين 2018 و2019", "بين عامي 2014 و2017"."""
    y1, y2 = int(m.group("y1")), int(m.group("y2"))
    if not (1900 <= y1 < y2 <= 2100):
        return None
    return _Res(dt.date(y1, 1, 1), dt.date(y2, 12, 31), "range", "explicit")


def _year(G, m, published) -> _Res | None:
    """"عام 2014", "في 2014": a four-digit number is a year only after a year word or a cue."""
    y = int(m.group("y"))
    if not 1900 <= y <= 2100:
        return None
    if not m.group("yw") and not _cue_before(G, m, "year_cues"):
        return None  # "يعدم 2070 عراقيا" is a count
    return _Res(*_year_range(y), "year", "explicit")


def _relative_unit(G, m, published) -> _Res | None:
    """"الأسبوع الماضي", "الشهر الماضي", "العام الجاري", "هذا العام", "العام المقبل"."""
    if published is None:
        return None
    core = _squash(m.group("core"))
    unit = "week" if "الاسبوع" in core else "month" if "الشهر" in core else "year"
    words = set(core.split())
    step = -1 if words & G.words["past"] else 1 if words & G.words["next"] else 0
    if unit == "week":
        anchor = published + dt.timedelta(weeks=step)
    elif unit == "month":
        anchor = _shift_months(published.replace(day=1), step)
    else:
        anchor = published.replace(year=published.year + step, day=1)
    start, end = _unit_range(unit, anchor)
    return _Res(start, end, unit, "relative")


def _recent_single_unit(G, m, published) -> _Res | None:
    """"في السنة الأخيرة" → the twelve months up to publication (a range)."""
    if published is None:
        return None
    unit = {"العام": "year", "السنه": "year", "الشهر": "month", "الاسبوع": "week"}[_squash(m.group("u"))]
    return _Res(_minus(published, unit, 1), published, "range", "relative")


# a plural with no number ("الأسابيع الماضية") is read as three units, the least an Arabic plural means
VAGUE_PLURAL_COUNT = 3


def _count_and_unit(G, m) -> tuple[int, str] | None:
    units = _unit_of()
    for ug in ("ud", "us"):
        if ug in m.re.groupindex and m.group(ug):
            unit, n = units[_squash(m.group(ug))]
            return n or 1, unit
    unit_word = m.group("u") or m.group("u2")
    if unit_word is None:
        return None
    unit, implied = units[_squash(unit_word)]
    for ng in ("n", "nw", "nw2"):
        if ng in m.re.groupindex and m.group(ng):
            v = m.group(ng)
            return (int(v) if v.isdigit() else G.cardinal_of[_squash(v)]), unit
    return implied or VAGUE_PLURAL_COUNT, unit


def _last_n_units(G, m, published) -> _Res | None:
    """"الأيام الخمسة الأخيرة", "الخمسة أيام الماضية", "الشهرين الأخيرين", "السنوات الثلاث الأخيرة"."""
    cu = _count_and_unit(G, m)
    if published is None or cu is None or cu[0] == 0:
        return None
    n, unit = cu
    return _Res(_minus(published, unit, n), published, "range", "relative")


def _ago(G, m, published) -> _Res | None:
    """"قبل ثلاث سنوات" → that year; "منذ أربع سنوات" → the four years up to publication."""
    cu = _count_and_unit(G, m)
    if published is None or cu is None:
        return None
    n, unit = cu
    point = _minus(published, unit, n)
    if m.group("op") == "منذ" or unit == "hour":  # "قبل ساعتين": that day or the one before
        return _Res(point, published, "range", "relative")
    if unit == "day":
        return _Res(point, point, "day", "relative")
    return _Res(*_unit_range(unit, point), unit, "relative")


def _yesterday(G, m, published) -> _Res | None:
    """"يوم أمس السبت", "ليل أمس", "أول أمس", "الليلة الماضية"."""
    if published is None:
        return None
    back = 2 if _squash(m.group("k")) in G.words["day_before_yesterday"] else 1
    d = published - dt.timedelta(days=back)
    return _Res(d, d, "day", "relative")


def _today(G, m, published) -> _Res | None:
    """"اليوم الأحد" → the publication day."""
    if published is None:
        return None
    return _Res(published, published, "day", "relative")


def _weekday(G, m, published) -> _Res | None:
    """"يوم الخميس": the latest Thursday on or before publication; "الثلاثاء الماضي": strictly before."""
    if published is None:
        return None
    wd = G.weekday_of[_squash(m.group("wd"))]
    q = _squash(m.group("q") or "")
    back = (published.weekday() - wd) % 7
    if q.startswith("قبل"):
        back = (back or 7) + 7
    elif q and q in G.words["past"]:
        back = back or 7
    elif q and q in G.words["next"]:
        d = published + dt.timedelta(days=(wd - published.weekday()) % 7 or 7)
        return _Res(d, d, "day", "relative")
    d = published - dt.timedelta(days=back)
    if m.group("wd2"):  # "ليل الأحد الاثنين": the night from one day to the next
        return _Res(d, d + dt.timedelta(days=1), "range", "relative")
    return _Res(d, d, "day", "relative")


def _cue_before(G: _Grammar, m, cue_list: str) -> bool:
    """Whether the word before the match (clitics و/ف/ب/ل stripped) is a cue such as في, منذ, عام."""
    before = m.string[: m.start("core")]
    # the clitic inside the match ("لعام", "وفي") belongs to the previous word's role
    prefix = m.string[m.start(): m.start("core")]
    if prefix and prefix[-1] in "بل":  # "بـ2019", "لعام": the clitic itself is the cue
        return True
    words = _LETTERS.findall(before[-20:])
    if not words:
        return False
    prev = words[-1]
    cues = G.words[cue_list]
    return prev in cues or (len(prev) > 1 and prev[0] in "وفبل" and prev[1:] in cues) or (
        len(prev) > 2 and prev[:2] in ("وب", "ول", "فب", "فل", "وف") and prev[2:] in cues
    )


# --- composition: prefixes (منذ, مطلع, في وقت سابق من) and merged forms ------------------------------

class _Cand(NamedTuple):
    start: int  # normalised offsets
    end: int
    res: _Res | None  # None: a date whose resolution needs the publication date, which is missing
    kind: str


# which cheap look-up must succeed before a pattern is worth running on a line (every numeric
# date holds a four-digit year: "3/4/2016", "2016-04-03")
_GATE_OF = {
    "numeric": "digits4", "hijri_year": "digits4", "year_range": "digits4", "year": "digits4",
    "hijri_day": "hijri", "hijri_month": "hijri", "day_month": "month", "month": "month", "day_range": "month",
    "day_of_rel_month": "period", "relative_year_word": "period", "recent_unit": "period",
    "last_n_units": "unit", "ago": "unit", "yesterday": "yesterday", "today": "today", "weekday": "weekday",
}


@cache
def _gates() -> dict[str, frozenset[str]]:
    """For each gate, the words (first words of multi-word names) whose presence opens it."""
    G = _grammar()
    w = G.words
    firsts = lambda words: frozenset(k.split(" ")[0] for k in words)  # noqa: E731
    return {
        "hijri": firsts(G.hijri_month_of),
        "month": firsts(G.month_of),
        "period": frozenset({"الاسبوع", "الشهر", "العام", "السنه"}),
        "unit": firsts(_unit_of()) | firsts("ال" + u for u in _unit_of()),
        "yesterday": firsts(w["yesterday"] | w["last_night"] | w["day_before_yesterday"]),
        "today": firsts(w["today"]),
        "weekday": firsts(G.weekday_of),
    }


_LETTERS = regex.compile(r"\p{L}+")
_DIGIT = regex.compile(r"\d")
_OTHER_DIGIT = regex.compile(r"[^\D0-9]")  # a digit the leads' [0-9] would miss (normalising leaves none of Arabic's)
_FOUR_DIGITS = regex.compile(r"\d{4}")  # every year pattern needs four digits in a row


_ONE_LETTER_CLITICS = "وفبلك"
_TWO_LETTER_CLITICS = ("وب", "ول", "فب", "وف", "لل")


@cache
def _gates_of_word() -> dict[str, frozenset[str]]:
    """Word as written (with or without a clitic: "وأمس", "للشهر") → the gates it opens.

    The clitic forms are spelled out here once, so a line costs one look-up per distinct word."""
    out: dict[str, set[str]] = {}
    for name, keys in _gates().items():
        for key in keys:
            for form in (key, *(c + key for c in _ONE_LETTER_CLITICS), *(c + key for c in _TWO_LETTER_CLITICS)):
                out.setdefault(form, set()).add(name)
    return {form: frozenset(names) for form, names in out.items()}


@cache
def _gate_words() -> frozenset[str]:
    """The words of ``_gates_of_word`` as a set, for one intersection with a line's runs."""
    return frozenset(_gates_of_word())


@lru_cache(maxsize=65536)
def _gates_of_run(run: str) -> frozenset[str]:
    """The gates opened by the letter words (``\\p{L}+``) inside one run of ``letter_words``.

    Such a run is usually one letter word; it may also join letters with characters ``\\p{L}``
    leaves out (a "²"), or miss a letter newer than Python's Unicode tables. Either way every
    gate word of the line is a letter word inside some run, so no gate it opens is lost."""
    index = _gates_of_word()
    return frozenset().union(*(index.get(word, ()) for word in _LETTERS.findall(run)))


def _open_gates(nt_text: str) -> set[str]:
    """Which patterns are worth running: a word test per gate instead of a regex scan per pattern.
    The distinct words come from ``letter_words``, which the quotes and figures prefilters of the
    same line read too."""
    runs = letter_words(nt_text)
    index = _gates_of_word()
    # a run of letters only (str.isalpha: each is \p{L} too, tested) is one word, looked up whole:
    # the words of the index among them by one set intersection; the rare other runs split up
    opened: set[str] = set().union(*map(index.__getitem__, runs & _gate_words()))
    if not "".join(runs).isalpha():  # one test for the whole line: the other runs are rare
        opened.update(*map(_gates_of_run, filterfalse(str.isalpha, runs)))
    if _DIGIT.search(nt_text):
        opened.add("digit")
        if _FOUR_DIGITS.search(nt_text):
            opened.add("digits4")
    return opened


@cache
def _cue_words() -> dict[str, tuple[str, ...]]:
    """For some patterns, strings one of which every match contains (first words of the words the
    pattern requires): an opened gate still skips a pattern whose cue is not in the line."""
    w = _grammar().words
    firsts = lambda words: tuple(sorted({k.split(" ")[0] for k in words}))  # noqa: E731
    return {
        "last_n_units": firsts(w["past"] | w["recent"]),  # "الأيام الخمسة الأخيرة"
        "ago": ("قبل", "منذ"),  # "قبل ثلاث سنوات"
        "day_of_rel_month": ("الشهر",),  # "العاشر من الشهر الماضي"
        "recent_unit": firsts(w["recent"]),  # "السنة الأخيرة"
    }


@cache
def _cues() -> dict[str, "re.Pattern[str]"]:
    """``_cue_words`` as one stdlib ``re`` trie per pattern: one search in C, not a test per word."""
    return {kind: re.compile(_trie(words)) for kind, words in _cue_words().items()}


@cache
def _musts() -> dict[str, "re.Pattern[str]"]:
    """For some patterns, a stdlib ``re`` pattern found inside every match: on a line where the
    leads apply (``[0-9]`` covers ``\\d``; ``\\s`` covers regex's), a pattern is skipped when its
    must is absent. Each is the part of the core that makes the pattern rare (a Hijri mark after a
    year, a connective between two numbers); searching for it costs less than the lead's scan."""
    w = _grammar().words
    between = rf"\s*{_RANGE_JOIN}\s*"
    return {
        "hijri_year": re.compile(rf"1[34][0-9]{{2}}\s*{_trie(_firsts(w['hijri_marks']))}"),  # "1441 هـ"
        "day_range": re.compile(rf"[0-9]{between}[0-9]"),  # "بين 10 و15 آذار"
        "year_range": re.compile(rf"[0-9]{{4}}\s+{_RANGE_JOIN}\s*(?:عام\s+)?[0-9]{{4}}"),  # "2014 و2017"
        # "12-04-2019" (the two separators alike), "2019-04-12"; one class first, which re skips to in C
        "numeric": re.compile(r"[0-9](?:\s*[-/.]\s*[0-9]{1,2}\s*[-/.]\s*[0-9]{4}|[0-9]{3}-[0-9]{1,2}-[0-9])"),
    }


@lru_cache(maxsize=1024)
def _runnable(open_gates: frozenset[str]) -> tuple[tuple[str, "regex.Pattern[str]", Callable, "re.Pattern[str] | None", tuple[str, ...], int], ...]:
    """The patterns an opened set of gates lets run, in pattern order (ties in ``_select`` keep it),
    each with its lead (None: scanned whole), its cues (empty: none) and the number of its
    ``core`` group (``regex`` finds a group by name only after failing to read it as a number)."""
    G, cues, musts = _grammar(), _cues(), _musts()
    return tuple((kind, pattern, handler, G.leads.get(kind), cues.get(kind), musts.get(kind), pattern.groupindex["core"])
                 for kind, pattern, handler in G.patterns if _GATE_OF[kind] in open_gates)


def _candidates(nt_text: str, published: dt.date | None) -> list[_Cand]:
    G = _grammar()
    open_gates = _open_gates(nt_text)
    use_leads = "digit" not in open_gates or not _OTHER_DIGIT.search(nt_text)
    out: list[_Cand] = []
    for kind, pattern, handler, lead, cue, must, core in _runnable(frozenset(open_gates)):
        if cue is not None and cue.search(nt_text) is None:
            continue
        if must is not None and use_leads and must.search(nt_text) is None:
            continue
        for m in (_scan(pattern, lead, nt_text) if lead and use_leads else pattern.finditer(nt_text, overlapped=False)):
            res = handler(G, m, published)
            if res is not None:
                start, end = m.span(core)
                out.append(_Cand(start, end, res, kind))
    return out


def _select(cands: list[_Cand]) -> list[_Cand]:
    """Non-overlapping candidates, longest first (so "آذار/مارس 2016" beats "2016")."""
    chosen: list[_Cand] = []
    for c in sorted(cands, key=lambda c: (-(c.end - c.start), c.start)):
        if all(c.end <= o.start or c.start >= o.end for o in chosen):
            chosen.append(c)
    return sorted(chosen, key=lambda c: c.start)


@cache
def _prefix_patterns():
    w = _grammar().words
    alt = _alternation
    return {
        "since": regex.compile(rf"(?:^|(?<=[^\p{{L}}]))[وف]?(?P<p>{alt(w['since'])})\s+$"),
        "start": regex.compile(rf"(?:^|(?<=[^\p{{L}}]))[وفبل]?(?P<p>{alt(w['period_start'])})\s+$"),
        "middle": regex.compile(rf"(?:^|(?<=[^\p{{L}}]))[وفبل]?(?P<p>{alt(w['period_middle'])})\s+$"),
        "end": regex.compile(rf"(?:^|(?<=[^\p{{L}}]))[وفبل]?(?P<p>{alt(w['period_end'])})\s+$"),
        "earlier_in": regex.compile(rf"(?:^|(?<=[^\p{{L}}]))[وف]?(?P<p>{alt(w['earlier_in'])})\s+$"),
    }


def _part_of_period(res: _Res, part: str) -> _Res:
    """First, middle or last third of a month (days 1–10, 11–20, 21–end) or of a year (4 months)."""
    s, e = res.date_start, res.date_end
    if res.precision == "month":
        cuts = [(s, s.replace(day=10)), (s.replace(day=11), s.replace(day=20)), (s.replace(day=21), e)]
    else:
        cuts = [(s, _month_range(s.year, 4)[1]), (dt.date(s.year, 5, 1), _month_range(s.year, 8)[1]), (dt.date(s.year, 9, 1), e)]
    a, b = cuts[("start", "middle", "end").index(part)]
    return _Res(a, b, "range", res.basis)


@cache
def _prefix_endings() -> dict[str, tuple[str, ...]]:
    """For each prefix pattern, the last words of its phrases: the text before a mention, trailing
    spaces stripped, ends with one of them wherever the pattern matches (its phrase is followed
    by ``\\s+`` only, and ``str.rstrip`` strips every ``\\s`` of regex, tested)."""
    w = _grammar().words
    last_words = lambda words: tuple(sorted({_key(p).split(" ")[-1] for p in words}))  # noqa: E731
    return {"since": last_words(w["since"]), "start": last_words(w["period_start"]),
            "middle": last_words(w["period_middle"]), "end": last_words(w["period_end"]),
            "earlier_in": last_words(w["earlier_in"])}


def _with_prefix(text: str, c: _Cand, published: dt.date | None) -> _Cand | None:
    """Extend a mention over a preceding modifier: "مطلع", "أواخر", "في وقت سابق من", then "منذ".

    A pattern is searched only when the words before the mention end as one of its phrases does
    (most mentions have none): each window below lies within these 40 characters."""
    P, endings = _prefix_patterns(), _prefix_endings()
    words_before = text[max(0, c.start - 40): c.start].rstrip()
    if c.res.precision in ("month", "year"):
        for part in ("start", "middle", "end"):
            if words_before.endswith(endings[part]) and (m := P[part].search(text[max(0, c.start - 30): c.start])):
                c = _Cand(c.start - (len(m.string) - m.start("p")), c.end, _part_of_period(c.res, part), c.kind)
                words_before = text[max(0, c.start - 40): c.start].rstrip()  # the mention now starts earlier
                break
    if c.res.precision == "month" and words_before.endswith(endings["earlier_in"]) and (
        m := P["earlier_in"].search(text[max(0, c.start - 40): c.start])
    ):
        c = _Cand(c.start - (len(m.string) - m.start("p")), c.end, c.res, c.kind)
        words_before = text[max(0, c.start - 40): c.start].rstrip()
    if c.kind != "ago" and words_before.endswith(endings["since"]) and (m := P["since"].search(text[max(0, c.start - 12): c.start])):
        if published is None:
            return None  # "منذ 2011" runs to publication: without it there is no range to give
        end = max(published, c.res.date_start)
        c = _Cand(c.start - (len(m.string) - m.start("p")), c.end, _Res(c.res.date_start, end, "range", "relative"), c.kind)
    return c


_JOIN_GAP = regex.compile(r"\s*[,]?\s*(\()?\s*$")
_CLOSING_BRACKET = regex.compile(r"\s*\)")
_DAY_KINDS = ("yesterday", "today", "weekday")


def _pin_year_by_weekday(day: _Cand, date: _Cand, published: dt.date | None) -> _Res:
    """"يوم الخميس 4 حزيران/يونيو": a printed weekday picks the year a day and month lack.

    Of the publication year and the year before, the one where that day falls on that weekday —
    when exactly one does. This holds even when only the publication month is known (the two ends
    of the window then agree), where "the latest 4 June on or before publication" cannot decide.
    """
    if day.kind != "weekday" or date.kind != "day_month" or date.res.basis != "relative" or published is None:
        return date.res
    weekday = day.res.date_start.weekday()
    month, dom = date.res.date_start.month, date.res.date_start.day
    fits = [d for y in (published.year - 1, published.year) if (d := _safe_date(y, month, dom)) and d.weekday() == weekday]
    return _Res(fits[0], fits[0], "day", "relative") if len(fits) == 1 else date.res


def _merge_day_with_date(text: str, cands: list[_Cand], published: dt.date | None = None) -> list[_Cand]:
    """"يوم أمس الجمعة (3 أيار 2019)", "اليوم الاثنين 7 يناير 2019": one mention, dated by the
    stated date (which is the more precise statement of the same day)."""
    out: list[_Cand] = []
    for c in cands:
        prev = out[-1] if out else None
        if prev and prev.kind in _DAY_KINDS and c.kind in ("day_month", "numeric") and c.res.precision == "day":
            gap = text[prev.end: c.start]
            m = _JOIN_GAP.fullmatch(gap)
            if m and len(gap) <= 4:
                end = c.end
                if m.group(1):  # a parenthesised date: take the closing bracket too
                    close = _CLOSING_BRACKET.match(text, end)
                    if not close:
                        out.append(c)
                        continue
                    end = close.end()
                out[-1] = _Cand(prev.start, end, _pin_year_by_weekday(prev, c, published), "merged")
                continue
        out.append(c)
    return out


# --- public API --------------------------------------------------------------------------------

def find_dates(text: str, published: dt.date | None, published_latest: dt.date | None = None) -> list[DateMention]:
    """Every date expression of ``text`` (one line), resolved; relative ones need ``published``.

    When only a period of publication is known (June 2020), pass its first and last days as
    ``published`` and ``published_latest``: a relative expression is kept only when it resolves the
    same way on both days — and so on every day between, since resolution only steps forward with
    the publication date ("شهر رمضان الماضي" is kept, "يوم الخميس" is not).

    >>> import datetime as dt
    >>> [(m.text, str(m.date_start), m.basis) for m in find_dates("وأعلن يوم أمس الجمعة (3 أيار 2019)", dt.date(2019, 5, 4))]
    [('يوم أمس الجمعة (3 أيار 2019)', '2019-05-03', 'explicit')]
    >>> [m.text for m in find_dates("خلال شهر رمضان الماضي ويوم الخميس", dt.date(2020, 6, 1), dt.date(2020, 6, 30))]
    ['شهر رمضان الماضي']
    """
    early = _find_dates_cached(text, published)
    if published is None or published_latest is None or published_latest == published:
        return list(early)
    late = {_resolution(m) for m in _find_dates_cached(text, published_latest)}
    return [m for m in early if _resolution(m) in late]


def _resolution(m: DateMention) -> tuple:
    return m.start, m.end, m.date_start, m.date_end, m.precision


@lru_cache(maxsize=4096)
def _find_dates_cached(text: str, published: dt.date | None) -> tuple[DateMention, ...]:
    """One parse per (line, publication date): the orchestrator and the event extractor share it."""
    nt = NormalizedText.of(text)
    found = _candidates(nt.text, published)
    if not found:  # most lines
        return ()
    cands = _merge_day_with_date(nt.text, _select(found), published)
    out: list[DateMention] = []
    for c in cands:
        c = _with_prefix(nt.text, c, published)
        if c is None or (published is None and c.res.basis == "relative"):
            continue
        start, end = nt.raw_span(c.start, c.end)
        out.append(DateMention(start, end, text[start:end], c.res.date_start, c.res.date_end, c.res.precision, c.res.basis))
    return tuple(out)


def find_publication_date(lines) -> tuple[dt.date, str] | None:
    """The publication date stated in an article's dateline ("12-04-2019, 10:30", "3 يناير 2018").

    Only lines classified as ``dateline`` count: a caption's date in the head of an article is the
    date of its photo, not of the article.
    """
    for line in lines:
        if line.kind != "dateline":
            continue
        for m in find_dates(line.text, None):
            if m.precision == "day" and m.basis == "explicit":
                return m.date_start, m.text
    return None
