"""Events: one row per dated happening of a line — a date mention, the trigger word that says what
happened around it, where, who, and how many were killed or wounded.

>>> import datetime as dt
>>> e, = extract_events("ففي 3 أيار، قُتل أربعة مدنيين في قرية جنوب محافظة ديالى على يد مسلحين.", dt.date(2019, 5, 10))
>>> (e.date_text, str(e.date_start), e.event_type, e.location, e.iso_3166_2, e.fatalities_low, e.actor1)
('3 أيار', '2019-05-03', 'killing', 'قرية جنوب محافظة ديالى', 'IQ-DI', 4, 'مسلحين')

How a date finds its trigger (rules in docs/events.md):

1. the date's clause — the text between clause punctuation (، , ; : . quotes), where a comma right
   next to the date does not end it ("قررت الحكومة في الشهر الماضي، إغلاق …") — and no further than the next or
   previous date mention;
2. if the clause has no trigger stronger than a statement verb, the sentence to the date's left too,
   but not across a complementizer (أن, إن, أنه) or a quotation mark: there the date belongs to the
   reported content, not to the reporting verb;
3. a happening beats a bare statement (tier 1); among happenings the trigger nearest the date wins,
   then the higher tier (violence 3 over other happenings 2).

A date with no trigger in reach is not an event (it is still a date mention of the line).
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import compress
from typing import NamedTuple

import regex

from ..lexicon import load_lexicon
from ..text.dates import DateMention, find_dates
from ..text.frozen import stored_at_once
from ..text.normalise import NormalizedText, PerWord, fast_split, normalize, spelled_below, spelled_out
from ..text.places import Place, places_starting_before


@stored_at_once
@dataclass(frozen=True)
class Event:
    """One dated happening. Spans are line-local; ``date_text == line_text[start:end]``."""

    start: int
    end: int
    date_text: str
    date_start: dt.date
    date_end: dt.date
    date_precision: str  # day | week | month | year | range
    date_basis: str  # explicit | relative
    event_type: str  # a key of lexicons/event_types.yaml
    trigger: str  # the trigger word as written
    trigger_start: int
    trigger_end: int
    acled_event_type: str | None
    acled_sub_event_type: str | None
    actor1: str | None  # who acted, as written
    actor2: str | None  # against whom, as written
    fatalities_low: int | None
    fatalities_high: int | None
    injuries_low: int | None
    injuries_high: int | None
    location: str | None  # the place phrase as written
    location_start: int | None
    location_end: int | None
    country: str | None  # ISO 3166-1 alpha-2
    admin1: str | None  # governorate (Arabic)
    iso_3166_2: str | None
    geonames_id: int | None
    latitude: float | None
    longitude: float | None
    geo_precision: str | None  # city | governorate | country | unknown; None without a location


# --- the taxonomy ------------------------------------------------------------------------------

class _Trigger(NamedTuple):
    type: str
    words: tuple[str, ...]  # normalised; a trailing * marks a prefix


class _Taxonomy(NamedTuple):
    types: dict[str, dict]
    order: dict[str, int]
    singles: list[_Trigger]  # longest phrase first
    compounds: list[tuple[str, tuple[str, ...], tuple[str, ...]]]
    window: int
    complementizers: frozenset[str]
    reach: int  # how many words left of its clause a date may look for its trigger


@cache
def taxonomy() -> _Taxonomy:
    lex = load_lexicon("event_types")
    types = lex["types"]
    singles = [
        _Trigger(name, tuple(normalize(w) for w in phrase.split()))
        for name, spec in types.items() for phrase in spec.get("triggers", [])
    ]
    singles.sort(key=lambda t: -len(t.words))
    compounds = [
        (name, tuple(normalize(w) for w in heads), tuple(normalize(w) for w in cues))
        for name, spec in types.items() for heads, cues in spec.get("compounds", [])
    ]
    return _Taxonomy(types, {n: i for i, n in enumerate(types)}, singles, compounds, int(lex["compound_window"]),
                     frozenset(normalize(w) for w in lex["complementizers"]), int(lex["reach_words"]))


EVENT_TYPES = tuple(load_lexicon("event_types")["types"])


# --- words -------------------------------------------------------------------------------------

class _Word(NamedTuple):
    forms: tuple[str, ...]  # the word, then without proclitics, then without the article
    start: int  # normalised offsets of the whole word
    end: int
    cut: int  # length of its proclitic (و, ف, ب, ل, ك), left out of a trigger's span
    patterns: tuple[frozenset[str], frozenset[str], frozenset[str]]  # ``_patterns_of`` the word


class _Words(NamedTuple):
    """The letter words of a normalised line as parallel lists, index by index: one ``split`` and
    C-level maps instead of an object per word (a line has ~50 words, few of them triggers)."""

    texts: list[str]
    starts: list[int]  # normalised offsets of the whole word
    ends: list[int]
    any_of: list[frozenset[str]]  # the trigger patterns each word matches (``_patterns_of(w)[2]``)


_WORD = regex.compile(r"\p{L}+")  # letters only: "قتل12" is the word قتل
_WORD_SPLIT = regex.compile(f"({_WORD.pattern})")  # the same words, for ``match_spans``
_WORD_SPLIT_RE = re.compile("([" + spelled_out(r"\p{L}") + "]+)")  # the same below U+3000 (``fast_split``)
_PROCLITICS = ("وب", "ول", "فب", "فل", "و", "ف", "ب", "ل", "ك")


@lru_cache(maxsize=65536)
def _forms(word: str) -> tuple[tuple[str, ...], int]:
    """"والضربات" → (("والضربات", "الضربات", "ضربات"), 1): the forms to match, and the proclitic length."""
    out, cut = [word], 0
    for c in _PROCLITICS:
        if word.startswith(c) and len(word) - len(c) >= 2:
            out.append(word[len(c):])
            cut = len(c)
            break
    for f in list(out):
        if (f.startswith("ال") or f.startswith("لل")) and len(f) > 3:
            out.append(f[2:])
    return tuple(dict.fromkeys(out)), cut


def _any_pattern(word: str) -> frozenset[str]:
    """Every trigger pattern the word matches, with or without its proclitic (empty for most words)."""
    return _patterns_of(word)[2]


_ANY_PATTERN = PerWord(_any_pattern)  # every word of a dated line is looked up here


def _word_table(norm: str) -> _Words:
    """The letter words of a normalised line with the trigger patterns of each."""
    texts, starts, ends = fast_split(_WORD_SPLIT, _WORD_SPLIT_RE, norm)
    return _Words(texts, starts, ends, list(map(_ANY_PATTERN.__getitem__, texts)))


def _words(norm: str) -> list[_Word]:
    """The words of ``_word_table`` one object each (a readable view, for tests)."""
    t = _word_table(norm)
    return [_Word(_forms(w)[0], s, e, _forms(w)[1], _patterns_of(w)) for w, s, e in zip(t.texts, t.starts, t.ends)]


@cache
def _pattern_index() -> tuple[frozenset[str], frozenset[str], tuple[int, ...]]:
    """Every trigger pattern of the taxonomy: exact words, prefixes (without *), prefix lengths."""
    tax = taxonomy()
    patterns = {p for t in tax.singles for p in t.words} | {p for _, hs, cs in tax.compounds for p in hs + cs}
    exact = frozenset(p for p in patterns if not p.endswith("*"))
    prefixes = frozenset(p[:-1] for p in patterns if p.endswith("*"))
    return exact, prefixes, tuple(sorted({len(p) for p in prefixes}))


@lru_cache(maxsize=65536)
def _patterns_of(word: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """The trigger patterns a word matches: as the whole word, only after its proclitic is cut,
    and either way (the union, which most callers want)."""
    exact, prefixes, lengths = _pattern_index()
    forms, cut = _forms(word)

    def matched(fs) -> frozenset[str]:
        return frozenset({f for f in fs if f in exact} | {f[:n] + "*" for f in fs for n in lengths if f[:n] in prefixes})

    own = [word] + ([word[2:]] if word.startswith(("ال", "لل")) and len(word) > 3 else [])
    whole = matched(own)
    cut_only = matched(forms) - whole
    return whole, cut_only, whole | cut_only


@cache
def _singles_by_first() -> dict[str, tuple[_Trigger, ...]]:
    out: dict[str, list[_Trigger]] = {}
    for t in taxonomy().singles:
        out.setdefault(t.words[0], []).append(t)
    return {k: tuple(v) for k, v in out.items()}


@lru_cache(maxsize=4096)
def _singles_starting(patterns: frozenset[str]) -> tuple[_Trigger, ...]:
    """The single triggers whose first word is one of ``patterns``: longest phrase first, then by type."""
    index = _singles_by_first()
    found = [t for p in patterns for t in index.get(p, ())]
    return tuple(sorted(found, key=lambda t: (-len(t.words), taxonomy().order[t.type])))


class _Hit(NamedTuple):
    type: str
    start: int  # normalised offsets of the trigger
    end: int


def _trigger_start(word: str, start: int) -> int:
    """Where a trigger word's span starts: after its proclitic only when it matched without it,
    so that بيان and كشفت keep their first letter (وأعلن → أعلن)."""
    whole, cut_only, _ = _patterns_of(word)
    return start + _forms(word)[1] if cut_only and not whole else start


class _TriggerWord(NamedTuple):
    """What a word matching some trigger pattern may do in ``_find_triggers``."""

    singles: tuple[_Trigger, ...]  # the single triggers it may start (``_singles_starting``)
    heads: tuple[int, ...]  # the compounds it may head, and those it may cue (``_compound_roles``)
    cues: tuple[int, ...]
    shift: int  # where its trigger span starts, from the word's start (``_trigger_start``)


def _trigger_word(word: str) -> _TriggerWord:
    patterns = _patterns_of(word)[2]
    return _TriggerWord(_singles_starting(patterns), *_compound_roles(patterns), _trigger_start(word, 0))


_TRIGGER_WORD = PerWord(_trigger_word)  # the few words of a line that match a pattern are looked up here


def _find_triggers(words: _Words) -> list[_Hit]:
    """Every single and compound trigger among the words of a line."""
    any_of = words.any_of
    candidates = list(compress(range(len(any_of)), any_of))  # most words match no pattern at all
    if not candidates:
        return []
    texts, starts, ends, n_words = words.texts, words.starts, words.ends, len(any_of)
    hits: list[_Hit] = []
    taken = 0  # the words before this index may belong to a single trigger found already
    heads_at: dict[int, list[int]] = {}  # compound → the candidates that are its head word, in order
    cues_at: dict[int, list[int]] = {}
    shifts: dict[int, int] = {}  # candidate → its ``_TriggerWord.shift``, for the compounds
    for i in candidates:
        word = _TRIGGER_WORD[texts[i]]
        if i >= taken:  # else inside a phrase: every trigger tried here would include word i
            for t in word.singles:  # longest phrase first: "قصف جوي" before "قصف"
                n = len(t.words)  # its first word matches word i (``_singles_starting``)
                if n == 1 or (i + n <= n_words and all(t.words[k] in any_of[i + k] for k in range(1, n))):
                    hits.append(_Hit(t.type, starts[i] + word.shift, ends[i + n - 1]))
                    taken = i + n
                    break
        if word.heads or word.cues:
            shifts[i] = word.shift
            for c in word.heads:
                heads_at.setdefault(c, []).append(i)
            for c in word.cues:
                cues_at.setdefault(c, []).append(i)
    if not heads_at or not cues_at:
        return hits
    tax = taxonomy()
    w = tax.window
    for c in sorted(heads_at.keys() & cues_at.keys()):  # a compound needs a head with a cue within w words
        cues = cues_at[c]
        for i in heads_at[c]:
            if any(j != i and i - w <= j <= i + w for j in cues):
                hits.append(_Hit(tax.compounds[c][0], starts[i] + shifts[i], ends[i]))
    return hits


@lru_cache(maxsize=4096)
def _compound_roles(patterns: frozenset[str]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The compounds (indices into ``taxonomy().compounds``) a word with these patterns may head,
    and those it may cue."""
    compounds = taxonomy().compounds
    return (tuple(c for c, (_, heads, _) in enumerate(compounds) if not patterns.isdisjoint(heads)),
            tuple(c for c, (_, _, cues) in enumerate(compounds) if not patterns.isdisjoint(cues)))


# --- windows -----------------------------------------------------------------------------------

_CLAUSE_END = '،,;؛:.!?؟"«»“”'
_SENTENCE_END = ".!?؟"
_QUOTES = '"«»“”'


_QUOTED_NAME = regex.compile(r'["«“][^"«»“”،,.:;]{1,40}["»”]')
# one punctuation mark of a set, searched forwards, or backwards for the last one before a point
_CLAUSE_MARK, _CLAUSE_MARK_BEFORE = (regex.compile(f"{flag}[{regex.escape(_CLAUSE_END)}]") for flag in ("", "(?r)"))
_SENTENCE_MARK, _SENTENCE_MARK_BEFORE = (regex.compile(f"{flag}[{regex.escape(_SENTENCE_END)}]") for flag in ("", "(?r)"))


@lru_cache(maxsize=256)
def _quoted_names(text: str) -> tuple[tuple[int, int], ...]:
    """Short quotations of at most four words ("العزم الصلب", "داعش"): names, not clause ends."""
    return tuple(m.span() for m in _QUOTED_NAME.finditer(text) if len(m.group().split()) <= 4)


def _ends_clause(text: str, m) -> bool:
    """Whether a clause mark found by a search ends the clause: not the quotation mark of a name."""
    return m.group() not in _QUOTES or not any(a <= m.start() < b for a, b in _quoted_names(text))


def _clause(text: str, start: int, end: int, lo: int, hi: int) -> tuple[int, int]:
    """The clause around ``text[start:end]`` within ``[lo, hi)``; punctuation touching the date is
    skipped, and so are the quotation marks of a quoted name."""
    a = start
    while a > lo and text[a - 1] == " ":
        a -= 1
    if a > lo and text[a - 1] in "،,":
        a -= 1
    if a > lo:  # one past the last clause mark in text[lo:a], else lo
        m = _CLAUSE_MARK_BEFORE.search(text, lo, a)
        while m and not _ends_clause(text, m):
            m = _CLAUSE_MARK_BEFORE.search(text, lo, m.start())
        a = m.end() if m else lo
    b = end
    while b < hi and text[b] in " )":
        b += 1
    if b < hi and text[b] in "،,":
        b += 1
    if b < hi:  # the first clause mark in text[b:hi], else hi
        m = _CLAUSE_MARK.search(text, b, hi)
        while m and not _ends_clause(text, m):
            m = _CLAUSE_MARK.search(text, m.end(), hi)
        b = m.start() if m else hi
    return a, b


def _sentence_left(text: str, start: int, lo: int) -> int:
    """One past the last sentence mark in text[lo:start], else lo (``start`` if not after lo)."""
    if start <= lo:
        return start
    m = _SENTENCE_MARK_BEFORE.search(text, lo, start)
    return m.end() if m else lo


def _sentence_right(text: str, end: int, hi: int) -> int:
    """The first sentence mark in text[end:hi], else hi (``end`` if not before hi)."""
    if end >= hi:
        return end
    m = _SENTENCE_MARK.search(text, end, hi)
    return m.start() if m else hi


def _inside(words: _Words, a: int, b: int) -> range:
    """The indices of the words lying wholly in ``[a, b)``: starts and ends both rise with the index."""
    return range(bisect_left(words.starts, a), bisect_right(words.ends, b))


def _words_between(words: _Words, a: int, b: int) -> int:
    return len(_inside(words, a, b))


def _crosses_report(text: str, words: _Words, a: int, b: int) -> bool:
    """Whether ``text[a:b]`` holds a complementizer (أن, إنه) or opens or closes a quotation."""
    if sum(text[a:b].count(q) for q in _QUOTES) % 2:  # an opened quotation, not a quoted name
        return True
    comp = taxonomy().complementizers
    return any(not comp.isdisjoint(_forms(words.texts[i])[0][:2]) for i in _inside(words, a, b))


def _pick(hits: list[_Hit], d_start: int, d_end: int) -> _Hit | None:
    """A happening over a bare statement, then the trigger nearest the date, then the higher tier,
    then the type listed first."""
    if not hits:
        return None
    tax = taxonomy()

    def distance(h: _Hit) -> int:
        return d_start - h.end if h.end <= d_start else h.start - d_end if h.start >= d_end else 0

    tier = lambda h: tax.types[h.type]["tier"]  # noqa: E731
    return min(hits, key=lambda h: (tier(h) == 1, distance(h), -tier(h), tax.order[h.type]))


# --- casualties and actors ---------------------------------------------------------------------

@cache
def _number_words() -> dict[str, int]:
    lex = load_lexicon("date_words")
    out = {normalize(w): int(n) for n, ws in lex["cardinals"].items() for w in ws}
    out[normalize("أحد")] = 1
    out[normalize("إحدى")] = 1
    return out


def _parse_count(s: str) -> int | None:
    """"19" → 19, "ثلاثة" → 3, "أحد" → 1; the shared number parser when it is there."""
    s = s.replace(",", "")
    if s.isdigit():
        return int(s)
    counts = _word_counts()
    return counts[s] if s in counts else _parse_count_word(s)


@cache
def _word_counts() -> dict[str, int | None]:
    """``_parse_count_word`` of every number word of ``_casualty_patterns``, worked out once (the
    count of a casualty pattern is digits or one of these words)."""
    return {w: _parse_count_word(w) for w in _number_words()}


def _parse_count_word(s: str) -> int | None:
    """"ثلاثة" → 3: the shared number parser when it is there, else the cardinals of ``date_words``."""
    try:  # optional: the full Arabic number parser built alongside this module
        from ..text.numbers import parse_number_words  # type: ignore
    except ImportError:
        parse_number_words = None
    if parse_number_words is not None:
        try:
            v = parse_number_words(s)
            if isinstance(v, (int, float)) and v == int(v):
                return int(v)
        except Exception:  # noqa: BLE001 - any failure of the optional parser falls back to ours
            pass
    return _number_words().get(s)


@cache
def _casualty_patterns(engine=regex):
    """The casualty patterns: killed-verb + number, number + killed-noun, then the same for the
    injured. ``engine=re``: the same patterns for stdlib ``re``, their classes spelled out below
    U+3000 (for a line holding no other character, ``spelled_below``; ``re`` scans them faster)."""
    # the classes as written inside brackets: letters, digits, spaces
    L, D, S = ((spelled_out(c) if engine is re else c) for c in (r"\p{L}", r"\d", r"\s"))
    nums = sorted(_number_words(), key=len, reverse=True)
    num = rf"(?P<n>[{D}][{D},]*|" + "|".join(engine.escape(n) for n in nums) + r")"
    killed_verbs = r"(?:مقتل|قتل|قتلت|قتلوا|يقتل|مصرع|اعدام|اعدم)"
    hurt_verbs = r"(?:اصابه|اصيب|اصابة|جرح|جرحت)"
    about = rf"(?:نحو[{S}]+|حوالي[{S}]+|اكثر[{S}]+من[{S}]+)?"
    b = rf"(?<![{L}])[وفب]?"
    return (
        engine.compile(rf"{b}{killed_verbs}(?:[{S}]+|(?=[{D}])){about}{num}(?![{L}{D}])"),
        engine.compile(rf"{num}[{S}]+(?:قتيل|قتيلا|قتلي)(?![{L}])"),
        engine.compile(rf"{b}{hurt_verbs}[{S}]+{about}{num}(?![{L}{D}])"),
        engine.compile(rf"{num}[{S}]+(?:جريح|جريحا|جرحي|مصابا|مصابين)(?![{L}])"),
    )


# Every killed (resp. injured) word of ``_casualty_patterns`` contains one of these: a window with
# none of them cannot match, and the number alternations are not scanned.
_KILLED_CUES = ("قتل", "قتيل", "مصرع", "اعد")
_HURT_CUES = ("صاب", "صيب", "جرح", "جريح")
# The patterns opening with the number alternation (the costly ones to scan) need a noun for the
# dead or the wounded, which holds one of these: a window with a verb only ("مقتل") skips them.
_KILLED_NOUN_CUES = ("قتيل", "قتلي")
_HURT_NOUN_CUES = ("جريح", "جرحي", "مصاب")


def _casualties(window: str, below: bool = False) -> tuple[int | None, int | None]:
    """(killed, injured) stated in a window: "مقتل أربعة … وإصابة ثلاثة" → (4, 3). ``below``: every
    character of the window is below U+3000 (``spelled_below`` of its line), so ``re`` may scan it."""
    k1, k2, h1, h2 = _casualty_patterns(re if below else regex)

    def first(verb_first, number_first, noun_cues) -> int | None:
        patterns = (verb_first, number_first) if any(c in window for c in noun_cues) else (verb_first,)
        found = [m for p in patterns for m in p.finditer(window)]
        for m in sorted(found, key=lambda m: m.start()):
            v = _parse_count(m.group("n"))
            if v is not None:
                return v
        return None

    killed = first(k1, k2, _KILLED_NOUN_CUES) if any(c in window for c in _KILLED_CUES) else None
    hurt = first(h1, h2, _HURT_NOUN_CUES) if any(c in window for c in _HURT_CUES) else None
    return killed, hurt


@cache
def _actor_patterns():
    lex = load_lexicon("actors")
    names = sorted({normalize(n) for n in lex["names"]}, key=len, reverse=True)
    heads = sorted({normalize(n) for n in lex["heads"]}, key=len, reverse=True)
    alt = lambda ws: "|".join(r"\s+".join(regex.escape(p) for p in w.split()) for w in ws)  # noqa: E731
    b = r"(?<![\p{L}])(?:[وفب]|ل(?!ل))?"  # not "لل": "للحكومة" has lost the article's alef
    stop = rf"(?!(?:{alt(normalize(w) for w in lex['stop'])})(?![\p{{L}}]))"
    # the rest of a definite noun phrase: ال-words, or an idafa word before one ("مكافحة الإرهاب")
    rest = rf"(?:\s+{stop}(?:ال\p{{L}}+|(?![بلو])\p{{L}}+(?=\s+{stop}ال\p{{L}}{{2,}})))"
    actor = regex.compile(rf"{b}(?P<a>(?:{alt(heads)}){rest}{{1,3}}|(?:{alt(names)}){rest}{{0,2}})(?![\p{{L}}])")
    by_hand = regex.compile(rf"{_BY_HAND}\s+(?P<a>\p{{L}}+{rest}{{0,3}})")
    against = regex.compile(r"(?:ضد|استهدف\p{L}*|علي)\s+(?:\p{L}+\s*)?[\"«]?$")
    return actor, by_hand, against


@cache
def _actor_openers() -> frozenset[str] | None:
    """The letter words an actor match can start with: the first word of a name or head, bare or
    after a proclitic. A match is not preceded by a letter, and its first word (a name's, a
    head's) is followed by a space or a non-letter, so it begins a letter word that is one of
    these. None when a first word is not all letters (then every position is tried)."""
    lex = load_lexicon("actors")
    firsts = {normalize(n).split()[0] for n in list(lex["names"]) + list(lex["heads"])}
    if not all(_WORD.fullmatch(f) for f in firsts):
        return None
    return frozenset(firsts | {c + f for f in firsts for c in "وفبل"})


def _actor_matches(actor, text: str, a: int, b: int, words: _Words) -> list:
    """``actor.finditer(text[a:b])``, tried only where a word of ``_actor_openers`` starts (the
    words of the window are those of the line, ``words``, the two at its edges clipped): the next
    match is the first one at such a start at or after the end of the previous one."""
    window = text[a:b]
    openers = _actor_openers()
    if openers is None:
        return list(actor.finditer(window))
    starts, ends, texts = words.starts, words.ends, words.texts
    i, j = bisect_right(ends, a), bisect_left(starts, b)  # the words overlapping [a, b)
    opening = [starts[k] for k in compress(range(i, j), map(openers.__contains__, texts[i:j])) if a <= starts[k] and ends[k] <= b]
    for k in {i, j - 1} if i < j else ():  # an edge word cut by the window is a word of the window as cut
        lo, hi = max(starts[k], a), min(ends[k], b)
        if (lo, hi) != (starts[k], ends[k]) and text[lo:hi] in openers:
            opening.append(lo)
    out, pos = [], 0
    for start in sorted(opening):
        if start - a >= pos:
            m = actor.match(window, start - a)
            if m:
                out.append(m)
                pos = m.end()
    return out


def _actors(text: str, a: int, b: int, anchor: tuple[int, int], words: _Words) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """Normalised spans of actor1 (who acted) and actor2 (the target) in ``text[a:b]`` (``words``: those of ``text``).

    actor1: "على يد X"; else the actor right after the trigger (VSO: "نفذت طائرات التحالف"); else
    the first actor of the window before the trigger (SVO: "القوات العراقية تنفذ"). actor2: the first
    actor after ضد, استهدف or على that follows the trigger.
    """
    actor, by_hand, against = _actor_patterns()
    found = [(a + m.start("a"), a + m.end("a")) for m in _actor_matches(actor, text, a, b, words)]
    by_hand_cue = _BY_HAND_CUE.search(text, a, b)
    if not found and not by_hand_cue:
        return None, None  # neither an actor of the lists nor "على يد" in the window
    targets: dict[tuple[int, int], bool] = {}  # span → whether ضد, استهدف or على comes before it

    def is_target(sp: tuple[int, int]) -> bool:
        if sp not in targets:
            targets[sp] = bool(against.search(text[max(a, sp[0] - 25): sp[0]]))
        return targets[sp]

    m = by_hand.search(text[a:b]) if by_hand_cue else None
    first: tuple[int, int] | None = (a + m.start("a"), a + m.end("a")) if m else None
    if first is None:  # the first actor after the trigger, else the first before it (not a target)
        first = next((sp for sp in found if sp[0] >= anchor[1] and len(text[anchor[1]:sp[0]].split()) <= 3
                      and not is_target(sp)), None)
        if first is None:
            first = next((sp for sp in found if sp[1] <= anchor[0] and not is_target(sp)), None)
    target = next((sp for sp in found if sp[0] >= anchor[1] and is_target(sp) and sp != first), None)
    return first, target


# "على يد" (at the hands of), normalised: what precedes actor1 in ``_actor_patterns``' ``by_hand``.
_BY_HAND = r"علي\s+يد"
# What every ``by_hand`` match holds (stdlib ``re``, whose ``\s`` takes in every space ``regex``'s
# does): a window without it has no such match, and is not searched with the costlier pattern.
_BY_HAND_CUE = re.compile(rf"{_BY_HAND}\s")


# --- public API --------------------------------------------------------------------------------

def extract_events(text: str, published: dt.date | None, published_latest: dt.date | None = None) -> list[Event]:
    """The events of one line: each resolvable date mention with a trigger in reach.

    ``published_latest``: the last possible publication day when only a period is known (see
    ``find_dates``)."""
    mentions = find_dates(text, published, published_latest)
    if not mentions:
        return []
    nt = NormalizedText.of(text)
    norm = nt.text
    words = _word_table(norm)
    hits = _find_triggers(words)
    if not hits:
        return []  # no date of the line has a trigger to reach
    spans = [(nt.norm_index(m.start), nt.norm_index(m.end)) for m in mentions]
    found: list[tuple] = []  # the arguments of ``_event`` but the places, for each dated trigger
    for k, (mention, (ds, de)) in enumerate(zip(mentions, spans)):
        lo = spans[k - 1][1] if k else 0
        hi = spans[k + 1][0] if k + 1 < len(spans) else len(norm)
        ca, cb = _clause(norm, ds, de, lo, hi)
        in_clause = [h for h in hits if ca <= h.start and h.end <= cb and not (h.start < de and h.end > ds)]
        best = _pick(in_clause, ds, de)
        if best is None or taxonomy().types[best.type]["tier"] < 2:
            sa = _sentence_left(norm, ds, lo)
            left = [h for h in hits if sa <= h.start and h.end <= ca and _words_between(words, h.end, ds) <= taxonomy().reach
                    and not _crosses_report(norm, words, h.end, ds)]
            best = _pick(in_clause + left, ds, de)
        if best is None:
            continue
        window = (min(ca, best.start), max(cb, best.end))
        anchor = min((h for h in hits if h.type == best.type and window[0] <= h.start and h.end <= window[1]),
                     key=lambda h: h.start)
        found.append((mention, best, anchor, window, _sentence_right(norm, cb, hi)))
    if not found:
        return []
    # The places of the line, found once; an event takes one inside its window only, so a place
    # starting after the last window's end is not looked for.
    places = places_starting_before(text, max(window[1] for _, _, _, window, _ in found))
    return [_event(text, nt, mention, best, anchor, window, right_end, places, words)
            for mention, best, anchor, window, right_end in found]


def _event(text: str, nt: NormalizedText, m: DateMention, hit: _Hit, anchor: _Hit, window: tuple[int, int],
           right_end: int, places: list[Place], words: _Words) -> Event:
    tax = taxonomy()
    spec = tax.types[hit.type]
    a, b = window
    t_start, t_end = nt.raw_span(hit.start, hit.end)
    raw_a, raw_b = nt.raw_span(a, b) if b > a else (0, 0)
    raw_b = _before_subordinate_clause(text, max(m.end, t_end), raw_b)
    place = _nearest_place(places, raw_a, raw_b, (t_start + m.start) // 2)
    killed, hurt = _casualties(nt.text[a:right_end], spelled_below(nt.text))
    actor1, actor2 = _actors(nt.text, a, right_end, (anchor.start, anchor.end), words)
    as_text = lambda span: text[slice(*nt.raw_span(*span))] if span else None  # noqa: E731
    return Event(
        start=m.start, end=m.end, date_text=m.text, date_start=m.date_start, date_end=m.date_end,
        date_precision=m.precision, date_basis=m.basis, event_type=hit.type,
        trigger=text[t_start:t_end], trigger_start=t_start, trigger_end=t_end,
        acled_event_type=spec.get("acled_event_type"), acled_sub_event_type=spec.get("acled_sub_event_type"),
        actor1=as_text(actor1), actor2=as_text(actor2),
        fatalities_low=killed, fatalities_high=killed, injuries_low=hurt, injuries_high=hurt,
        location=place.text if place else None,
        location_start=place.start if place else None, location_end=place.end if place else None,
        country=place.country if place else None, admin1=place.admin1 if place else None,
        iso_3166_2=place.iso_3166_2 if place else None, geonames_id=place.geonames_id if place else None,
        latitude=place.latitude if place else None, longitude=place.longitude if place else None,
        geo_precision=place.geo_precision if place else None,
    )


@cache
def _subordinators():
    words = load_lexicon("event_types")["location_stops"]
    return regex.compile(r"(?<![\p{L}])[وف]?(?:" + "|".join(regex.escape(normalize(w)) for w in words) + r")(?![\p{L}])")


def _before_subordinate_clause(text: str, start: int, end: int) -> int:
    """Where the event's own clause ends for its location: at "بعد", "قبل", "إثر" … after the date
    and the trigger ("تم إنشاء التحالف … في 2014 … بعد سيطرة داعش على … في العراق": not the founding's place)."""
    m = _subordinators().search(_alef_unified(text), start, end)
    return m.start() if m else end


def _alef_unified(text: str) -> str:
    """The line with alef forms unified, same length (for word tests on raw offsets).
    (Three ``str.replace`` calls: ``str.translate`` looks up every character of Arabic text.)"""
    return text.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا")


def _nearest_place(places: list[Place], a: int, b: int, anchor: int) -> Place | None:
    """The most precise place phrase inside the event's window ("ناحية العلم شرقي محافظة صلاح الدين"
    over "العراق"), then the one nearest to the trigger and the date."""
    inside = [p for p in places if a <= p.start and p.end <= b]
    if not inside:
        return None
    rank = {"city": 0, "governorate": 1, "unknown": 2, "country": 3}
    return min(inside, key=lambda p: (rank.get(p.geo_precision, 2), abs((p.start + p.end) // 2 - anchor)))
