"""Who is speaking: speaker descriptions inside one article, and one speaker per person across articles.

Arabic news names a speaker in the clause of the reporting verb, in a fixed order:

    وقال  المتحدث الرسمي باسم وزارة الدفاع   العقيد   سامی حداد   في مقابلة …: إن "…"
          └──────────── role ───────────────┘ └title┘ └── name ──┘ └ adjunct: ends the description

and later refers back to the same speaker by a verb alone (وأضاف، وتابع), by surname (حداد), or
by a description (المتحدث الرسمي باسم الوزارة، الضابط، المسؤول العسكري الفرنسي). This module
parses such descriptions from tokens (``parse_np``), keeps the speakers of one article in a
``SpeakerRegistry`` that resolves each later reference, and gives every speaker a cross-article key
(``speaker_key``) and id (``speaker_id``). The quotation finder (``quotes.py``) drives it.

All parsing works on the normalised text (``coalition_news.text.normalise``); every reported span
is mapped back to the raw line, so ``line_text[start:end] == text`` always holds.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import repeat
from typing import NamedTuple

import regex

from ..lexicon import load_lexicon
from ..text.frozen import stored_at_once
from ..text.normalise import NormalizedText, TranslationTable, match_spans, normalize, spelled_out

KINDS = ("person", "organization", "group", "anonymous")
ATTRIBUTIONS = ("explicit", "resumed", "surname", "title", "none")
MENTION_TYPES = ("name", "surname", "title", "description", "verb")


@stored_at_once
@dataclass(frozen=True)
class SpeakerRef:
    """A speaker as one article describes it (before cross-article merging).

    >>> SpeakerRef("سامي حداد", "person", "العقيد", "المتحدث الرسمي باسم وزارة الدفاع").kind
    'person'
    """

    name: str                      # readable Arabic name without title: "سامي حداد"
    kind: str                      # person | organization | group | anonymous
    title: str | None = None       # rank or honorific as written: "العقيد", "الميجر جنرال"
    role: str | None = None        # descriptive role as written: "المتحدث الرسمي باسم وزارة الدفاع"
    affiliation: str | None = None # body the role belongs to: "التحالف الدولي"
    name_latin: str | None = None  # rule-based transliteration: "Sami Hdad"
    wikidata_id: str | None = None # from the authority file, only for a name the text states
    scope: str | None = None       # article_id for unnamed speakers ("ضابط رفيع"): never merged across articles


@stored_at_once
@dataclass(frozen=True)
class Mention:
    """One place where an article refers to a speaker; ``line_text[start:end] == text``."""

    line: int
    start: int
    end: int
    text: str
    mention_type: str  # name | surname | title | description | verb
    speaker: SpeakerRef


# --- lexicons -----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Lex:
    person_heads: frozenset[str]
    anaphoric_heads: frozenset[str]
    plural_person_heads: frozenset[str]
    organization_heads: frozenset[str]
    group_heads: frozenset[str]
    name_markers: frozenset[str]
    name_stops: frozenset[str]
    adjunct_words: frozenset[str]
    description_prepositions: frozenset[str]
    name_particles: frozenset[str]
    name_second_parts: frozenset[str]
    titles: dict[str, tuple[tuple[str, ...], ...]]  # first token → title token sequences, longest first
    figures: dict[str, str]                           # normalised name → wikidata id


def _norm_set(words: Iterable[str]) -> frozenset[str]:
    return frozenset(normalize(w) for w in words)


@cache
def lexicon() -> _Lex:
    """The speaker lexicons, normalised once."""
    sn = load_lexicon("speaker_nouns")
    tl = load_lexicon("titles")
    titles: dict[str, list[tuple[str, ...]]] = {}
    for entry in [*tl["military"], *tl["honorifics"]]:
        toks = tuple(normalize(entry).split())
        variants = {toks}
        if toks[0].startswith("ال"):
            variants.add((toks[0][2:],) + toks[1:])  # "عقيد" as well as "العقيد"
        for v in variants:
            titles.setdefault(v[0], []).append(v)
    figures: dict[str, str] = {}
    try:
        for fig in load_lexicon("public_figures")["figures"]:
            for name in fig["names"]:
                figures[normalize(name)] = fig["wikidata_id"]
    except Exception:  # the authority file is optional
        pass
    return _Lex(
        person_heads=_norm_set(sn["person_heads"]),
        anaphoric_heads=_norm_set(sn["anaphoric_heads"]),
        plural_person_heads=_norm_set(sn["plural_person_heads"]),
        organization_heads=_norm_set(sn["organization_heads"]),
        group_heads=_norm_set(sn["group_heads"]),
        name_markers=_norm_set(sn["name_markers"]),
        name_stops=_norm_set(sn["name_stops"]),
        adjunct_words=_norm_set(sn["adjunct_words"]),
        description_prepositions=_norm_set(sn["description_prepositions"]),
        name_particles=_norm_set(sn["name_particles"]),
        name_second_parts=_norm_set(sn["name_second_parts"]),
        titles={k: tuple(sorted(set(v), key=len, reverse=True)) for k, v in titles.items()},
        figures=figures,
    )


# --- tokens and word shapes ---------------------------------------------------------------

class Tok(NamedTuple):
    """A token of the normalised line: word ``w``, number ``n``, punctuation ``p``,
    quoted name ``N`` or quoted speech ``Q`` (a whole quotation, marks included).
    (A named tuple: lines have many tokens and tuples are cheap to build.)"""

    kind: str
    norm: str
    start: int
    end: int


# Letters then letters/digits, numbers, single punctuation marks. The standard library's ``re``
# is Unicode-aware for \w and \d and 2-3x faster than ``regex`` here; on normalised text (no
# combining marks) this equals \p{L}[\p{L}\p{N}]*|\p{N}+…|[^\s\p{L}\p{N}] (checked on the corpus).
_TOKEN = re.compile(r"[^\W\d_]\w*|\d+(?:[.,]\d+)*|[^\s\w]|_")


_TOKEN_SPLIT = re.compile(f"({_TOKEN.pattern})")


_BMP = 0x10000


# ``_TOKEN_SPLIT`` with its classes spelled out: a class of ranges within the BMP is a bitmap test
# in ``re``, cheaper than the Unicode category tests of \w and \d. The same within the BMP (tested
# on every such character); a text holding a character beyond it is split by ``_TOKEN_SPLIT``.
_LETTER, _WORD, _DIGIT, _MARK = (spelled_out(c, _BMP, re) for c in (r"[^\W\d_]", r"\w", r"\d", r"[^\s\w]"))
_TOKEN_SPLIT_BMP = re.compile(f"([{_LETTER}][{_WORD}]*|[{_DIGIT}]+(?:[.,][{_DIGIT}]+)*|[{_MARK}]|_)")


def _within_bmp(text: str) -> bool:
    """No character beyond U+FFFF (one would take two UTF-16 units): a C loop, no regex scan.
    ("utf-16", with its two-byte BOM, is the encoder ``str.encode`` reaches without a codec lookup.)"""
    return len(text.encode("utf-16", "surrogatepass")) == 2 * len(text) + 2


class _KindOf(dict):
    """A token → its kind (w, n, p), worked out once per distinct token from its first character.
    (Keyed by the whole token: no one-character string is cut per token, and the token's hash,
    computed here, is the one every later lookup of the word reuses.) Cleared when it grows
    large, so it holds at most a working vocabulary."""

    def __missing__(self, token: str) -> str:
        if len(self) >= 65536:
            self.clear()
        c = token[0]
        kind = self[token] = "w" if c.isalpha() else "n" if c.isdigit() else "p"
        return kind


_KIND_OF = _KindOf()


def tokenize(ntext: str, lo: int = 0, hi: int | None = None) -> list[Tok]:
    """Word, number and punctuation tokens of ``ntext[lo:hi]`` (offsets into ``ntext``)."""
    return tokens_of(ntext, token_split(ntext[lo:hi] if lo or hi is not None else ntext), lo, hi)


def token_split(text: str) -> re.Pattern:
    """The split pattern ``tokens_of`` uses for ``text`` or any part of it: the spelled-out one
    when ``text`` is within the BMP (a part of a text beyond it splits the same either way).
    A line with several quotations is tested once, not once per piece between them."""
    return _TOKEN_SPLIT_BMP if _within_bmp(text) else _TOKEN_SPLIT


def tokens_of(ntext: str, split: re.Pattern, lo: int = 0, hi: int | None = None) -> list[Tok]:
    """``tokenize(ntext, lo, hi)`` with ``split`` from ``token_split`` of the whole line, chosen
    once for all its pieces."""
    texts, starts, ends = match_spans(split, ntext, lo, hi)
    # tuple.__new__ builds the named tuples without their Python-level __new__ (all in C)
    return list(map(tuple.__new__, repeat(Tok), zip(map(_KIND_OF.__getitem__, texts), texts, starts, ends)))


@lru_cache(maxsize=65536)
def without_conjunction(w: str) -> tuple[str, ...]:
    """The word and, when it starts with و/ف, the word without it ("وقال" → ("وقال", "قال"))."""
    return (w, w[1:]) if len(w) > 2 and w[0] in "وف" else (w,)


@lru_cache(maxsize=65536)
def without_article(w: str) -> str:
    """"المتحدث" → "متحدث", "للاستراتيجية" → "استراتيجية"; other words unchanged."""
    if w.startswith("ال") and len(w) > 3:
        return w[2:]
    if w.startswith("لل") and len(w) > 3:
        return w[2:]
    return w


@lru_cache(maxsize=65536)
def is_definite(w: str) -> bool:
    """Carries the article, possibly behind a one-letter prefix: الجيش، والإسناد، للاستراتيجية."""
    return w.startswith("ال") or w.startswith("لل") or (len(w) > 3 and w[0] in "وفبك" and w[1:3] == "ال")


@lru_cache(maxsize=65536)
def head_in(w: str, heads: frozenset[str]) -> bool:
    """Whether ``w`` (with or without و/ف and article) is one of ``heads``."""
    return any(c in heads or without_article(c) in heads for c in without_conjunction(w))


@lru_cache(maxsize=65536)
def base(w: str) -> str:
    """A word without conjunction and article, for comparing descriptions."""
    c = without_conjunction(w)[-1] if w[:1] in "وف" and len(w) > 3 and w[1:3] == "ال" else w
    return without_article(c)


# --- noun phrases ---------------------------------------------------------------------------

@stored_at_once
@dataclass(frozen=True)
class NounPhrase:
    """A speaker description found at tokens ``[first, last)``; spans are token index pairs."""

    first: int
    last: int
    kind: str                              # person | organization | group | anonymous | description
    title: tuple[int, int] | None = None
    role: tuple[int, int] | None = None
    name: tuple[int, int] | None = None
    head: str | None = None                # head noun of the role, without article
    definite: bool = False


def _is_word(t: Tok | None) -> bool:
    return t is not None and t.kind == "w"


def _at(toks: list[Tok], i: int) -> Tok | None:
    return toks[i] if 0 <= i < len(toks) else None


def title_length(toks: list[Tok], i: int) -> int:
    """Number of tokens of the (possibly chained) title at ``i``: "الفريق اللواء الركن" → 3."""
    # quick reject (most calls): the token at ``i`` is no word that can start a title
    if not 0 <= i < len(toks) or toks[i].norm not in _title_starts():
        return 0
    lex = lexicon()
    n = 0
    while True:
        t = _at(toks, i + n)
        if not _is_word(t):
            return n
        cands = lex.titles.get(t.norm) or (lex.titles.get(t.norm[1:]) if n == 0 and t.norm[:1] == "و" else None)
        if not cands:
            return n
        for seq in cands:
            words = [x.norm for x in toks[i + n: i + n + len(seq)]]
            if len(words) == len(seq) and all(a == b or (k == 0 and a[1:] == b) for k, (a, b) in enumerate(zip(words, seq))):
                n += len(seq)
                break
        else:
            return n


@cache
def _title_starts() -> frozenset[str]:
    """Every word a title can begin with (with و): a superset of what ``title_length`` accepts
    first (a punctuation token is never one, so the token kind need not be checked)."""
    titles = lexicon().titles
    return frozenset(titles) | {"و" + w for w in titles}


@lru_cache(maxsize=65536)
def _is_stop(w: str) -> bool:
    lex = lexicon()
    return any(c in lex.name_stops for c in without_conjunction(w)) or w in lex.name_stops


def _name_like(t: Tok | None, is_verb) -> bool:
    """A word that can be part of a personal name: not a function word, verb or office noun."""
    if not _is_word(t) or len(t.norm) < 2:
        return False
    lex = lexicon()
    return not (_is_stop(t.norm) or is_verb(t.norm) or head_in(t.norm, lex.person_heads)
                or head_in(t.norm, lex.plural_person_heads))


def parse_name(toks: list[Tok], i: int, is_verb, min_before_prefixed: int = 1, after_description: bool = False) -> int:
    """End (exclusive) of the personal name starting at ``i``; ``i`` when there is none.

    Bare words (no article), up to four; a nisba with the article (الجبوري) only as the last word;
    a word after عبد/أبو may carry the article (عبد الأمير). A later word with the preposition ل
    is a dative ("كريم صالح لمراسلنا", "وصل لموقع"), and the third of three words followed by a
    definite noun is the head of an object ("… التزام التحالف"): neither belongs to the name.
    """
    lex = lexicon()
    k = i
    while k - i < 4:
        t = _at(toks, k)
        prev = _at(toks, k - 1)
        if k > i and _is_word(t) and (prev.norm in lex.name_particles or t.norm in lex.name_second_parts):
            k += 1  # عبد الأمير، أبو بكر، مال الله، نور الدين
            continue
        if not _name_like(t, is_verb) or title_length(toks, k) or (k > i and _object_with_pronoun(t.norm)):
            break
        w = t.norm
        nxt = _at(toks, k + 1)
        if is_definite(w):
            final_nisba = w.endswith("ي") and not (_is_word(nxt) and (is_definite(nxt.norm) or _name_like(nxt, is_verb)))
            # a family name with the article, proved by a role in apposition: "لؤي المقداد، رئيس مركز …"
            before_role = k > i and _role_apposition_at(toks, k + 1)
            # after an office or rank, a family name with the article ends the phrase:
            # "الناشط السياسي الموصلي غانم العابد، لـ…", "المتحدث باسم الوزارة أحمد الصحاف إن"
            family = after_description and k > i and w.startswith("ال") and (
                _closes_subject(nxt) or _ends_subject(nxt) or is_verb(nxt.norm))
            if final_nisba or before_role or family:
                k += 1
            break
        if (w[0] == "ل" and k - i >= min_before_prefixed) or (w[0] in "لب" and k == i and (
                _known_noun(w[1:]) or (nxt is not None and nxt.kind == "N") or not (
                    _name_like(nxt, is_verb) and (not is_definite(nxt.norm) or _role_apposition_at(toks, k + 2))
                    or _closes_subject(nxt)))):
            break  # a dative or prepositional phrase: "لمراسلنا"، "لوكالة الأنباء"، "لتنظيم ما يعرف …"
        k += 1
    nxt = _at(toks, k)
    if k - i >= 3 and _is_word(nxt) and is_definite(nxt.norm) and not toks[k - 1].norm.startswith("ال") \
            and toks[k - 2].norm not in lex.name_particles and not head_in(nxt.norm, lex.person_heads):
        k -= 1  # once only: "التزام" also begins with ال, so a definite-looking word is weak evidence
    return k


def _parse_description(toks: list[Tok], i: int) -> tuple[int, str]:
    """End of an office/organisation description starting with its head at ``i``, and the state of
    its last word ("def" when it ends on a definite word, after which a bare word starts a name)."""
    lex = lexicon()
    state = "def" if is_definite(toks[i].norm) else "bare"
    j = i + 1
    while j < len(toks):
        t = toks[j]
        if t.kind == "N":  # a quoted name inside the description: عملية "الفجر الجديد"
            state, j = "def", j + 1
            continue
        if t.kind != "w" or title_length(toks, j):
            break
        w = t.norm
        if w in lex.description_prepositions:
            nxt = _at(toks, j + 1)
            if nxt is None or nxt.kind not in ("w", "N") or (nxt.kind == "w" and (
                    without_article(nxt.norm) in lex.adjunct_words or nxt.norm in lex.adjunct_words or _is_stop(nxt.norm))):
                break
            state, j = "prep", j + 1
            continue
        if _is_stop(w):
            break
        if is_definite(w):
            state, j = "def", j + 1
            continue
        if w[0] == "ل" and len(w) > 2 and state != "def":  # لجهاز مكافحة الإرهاب
            state, j = "prep", j + 1
            continue
        if state in ("bare", "prep"):  # construct chain or adjective: نائب قائد، ضابط رفيع، ضد داعش
            state, j = "bare", j + 1
            continue
        break  # a bare word after a definite one: a name begins
    return j, state


def parse_np(toks: list[Tok], i: int, is_verb, subject: bool = False) -> NounPhrase | None:
    """The speaker description starting at token ``i``, or None.

    ``subject``: the tokens follow a reporting verb, so a bare name ("وقال ترامب إن") or a
    definite noun phrase ("قال البنتاغون") is also a speaker description.
    """
    lex = lexicon()
    t = _at(toks, i)
    if not _is_word(t):
        return None
    if title_length(toks, i):
        return _from_title(toks, i, i, None, None, is_verb)
    w = t.norm
    if head_in(w, lex.person_heads):
        end, state = _parse_description(toks, i)
        head = next((without_article(c) for c in without_conjunction(w) if without_article(c) in lex.person_heads), base(w))
        nxt = _at(toks, end)
        if nxt is not None and nxt.norm in (",", "هو", "هي") and title_length(toks, end + 1):
            return _from_title(toks, i, end + 1, (i, end), head, is_verb)
        if title_length(toks, end):
            return _from_title(toks, i, end, (i, end), head, is_verb)
        # "المبعوث الخاص للرئيس الأميركي دونالد ترامب": a name after a second office in the genitive
        # (للرئيس) belongs to that office, not to the head of the phrase
        inner_office = any(toks[k].kind == "w" and toks[k].norm[:1] == "ل" and (
            head_in(toks[k].norm[1:], lex.person_heads) or toks[k].norm[2:] in lex.person_heads) for k in range(i + 1, end))
        if state == "def" and not inner_office:
            ne = parse_name(toks, end, is_verb, after_description=True)
            if ne > end:
                return _with_apposition(toks, NounPhrase(i, ne, "person", None, (i, end), (end, ne), head, True), is_verb)
        if nxt is not None and nxt.norm == "," and _is_word(_at(toks, end + 1)) and head_in(toks[end + 1].norm, lex.person_heads):
            inner = parse_np(toks, end + 1, is_verb)
            if inner is not None and inner.name is not None:  # the name comes in a second description
                return NounPhrase(i, inner.last, "person", inner.title, (i, end), inner.name, head, True)
        definite = is_definite(w)
        return NounPhrase(i, end, "description" if definite else "anonymous", None, (i, end), None, head, definite)
    if head_in(w, lex.plural_person_heads):
        end, _ = _parse_description(toks, i)
        return NounPhrase(i, end, "anonymous", None, (i, end), None, base(w), is_definite(w))
    if head_in(w, lex.group_heads) and (is_definite(w) or subject):
        end, _ = _parse_description(toks, i)
        return NounPhrase(i, end, "group", None, (i, end), None, base(w), is_definite(w))
    nxt = _at(toks, i + 1)
    if subject and is_definite(w) and w.endswith("ي") and not _is_stop(w) and (
            _ends_subject(nxt) or (_is_word(nxt) and is_verb(nxt.norm))):
        return NounPhrase(i, i + 1, "person", None, None, (i, i + 1), None, True)  # "وذكر الجبوري أنه"
    if head_in(w, lex.organization_heads) or (subject and is_definite(w) and not _is_stop(w)):
        end, _ = _parse_description(toks, i)
        return NounPhrase(i, end, "organization", None, (i, end), None, base(w), is_definite(w))
    if subject and _name_like(t, is_verb) and not is_definite(w):
        ne = parse_name(toks, i, is_verb)
        if ne > i:
            return _with_apposition(toks, NounPhrase(i, ne, "person", None, None, (i, ne), None, True), is_verb)
    return None


# أن/إن and بأن with their pronoun suffixes, as normalised (alef forms unified)
COMPLEMENTISERS = frozenset({"ان", "بان", "انه", "انها", "انهم", "انهما", "بانه", "بانها"})


_PRONOUN_SUFFIX = re.compile(r"(?:اته|اتها|اتهم)$")


def _object_with_pronoun(w: str) -> bool:
    """A plural noun with a possessive pronoun ("تصريحاته", "قواتها"): an object after a name, not
    part of it. (Singular -ته is left alone: names such as شحاتة end like زيارته.)"""
    return len(w) > 4 and bool(_PRONOUN_SUFFIX.search(w))


def _role_apposition_at(toks: list[Tok], k: int) -> bool:
    """A comma then an office noun at ``k``: "…، رئيس مركز …" — what follows a full name."""
    t, nxt = _at(toks, k), _at(toks, k + 1)
    return t is not None and t.norm == "," and _is_word(nxt) and head_in(nxt.norm, lexicon().person_heads)


@lru_cache(maxsize=65536)
def _known_noun(w: str) -> bool:
    """A noun of the speaker lexicons (office, organisation, group, quoted-name marker)."""
    lex = lexicon()
    return any(head_in(w, heads) for heads in (lex.person_heads, lex.organization_heads, lex.group_heads, lex.name_markers))


def _closes_subject(t: Tok | None) -> bool:
    """Punctuation, a quotation or a complementiser (أن/إن): the subject is over."""
    return t is None or t.kind in ("p", "Q") or (t.kind == "w" and without_conjunction(t.norm)[-1] in COMPLEMENTISERS)


def _ends_subject(t: Tok | None) -> bool:
    """What may follow a speaker's name: end of line, punctuation, a quotation, a function word."""
    if t is None or t.kind in ("p", "Q", "N"):
        return True
    return t.kind == "w" and (_is_stop(t.norm) or t.norm.startswith("ل"))


def _from_title(toks, first, ti, role, head, is_verb) -> NounPhrase:
    """A description that reaches a title at ``ti``: adjectives, then the name ("الفريق العسكري
    المتقاعد كريم صالح"); a title alone ("ولفت العقيد إلى") is a description by title."""
    te = ti + title_length(toks, ti)
    k = te
    while _is_word(_at(toks, k)) and is_definite(toks[k].norm) and not _is_stop(toks[k].norm):
        nxt = _at(toks, k + 1)
        if _is_word(nxt) and (is_definite(nxt.norm) or _name_like(nxt, is_verb)) and not _is_stop(nxt.norm):
            k += 1  # an adjective of the title
        else:
            break
    ne = parse_name(toks, k, is_verb, after_description=True)
    if role is None and k > te:
        role = (ti, k)  # "الفريق العسكري المتقاعد": the title with its adjectives is the role
    if ne == k and role is None and first == ti and not is_definite(toks[ti].norm):
        # "وقال عقيد في شرطة محافظة الأنبار": an indefinite rank with no name is an unnamed source
        end, _ = _parse_description(toks, te - 1)
        return NounPhrase(first, max(end, te), "anonymous", (ti, te), (ti, max(end, te)), None, base(toks[ti].norm), False)
    if ne == k:
        return NounPhrase(first, k, "description", (ti, te), role, None, head, True)
    return _with_apposition(toks, NounPhrase(first, ne, "person", (ti, te), role, (k, ne), head, True), is_verb)


def _with_apposition(toks, np: NounPhrase, is_verb) -> NounPhrase:
    """A role written after the name: "جيف ديفيز، متحدث باسم البنتاغون"، "معدي العبيدي زعيم عشائر …"."""
    lex = lexicon()
    j = np.last
    if _at(toks, j) is not None and toks[j].norm == ",":
        j += 1
    t = _at(toks, j)
    if np.role is None and _is_word(t) and head_in(t.norm, lex.person_heads):
        end, _ = _parse_description(toks, j)
        head = base(t.norm)
        return NounPhrase(np.first, end, np.kind, np.title, (j, end), np.name, head, np.definite)
    return np


# --- readable forms -----------------------------------------------------------------------

# (kept characters remembered: see TranslationTable)
_PERSIAN = TranslationTable(str.maketrans({"ی": "ي", "ک": "ك", "ې": "ي", "ۍ": "ي", "ڪ": "ك", "ە": "ه", "ۀ": "ه"}))
_MARKS = regex.compile(r"[\u064B-\u065F\u0670\u06D6-\u06ED\u0640\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_EDGE = regex.compile(r"^[\s,،:;؛.\-–—]+|[\s,،:;؛.\-–—]+$")


@lru_cache(maxsize=65536)
def readable(raw: str) -> str:
    """Raw text as a canonical readable Arabic string: Persian letters → Arabic, no diacritics or
    tatweel, single spaces (``"العقید  سامی"`` → ``"العقيد سامي"``); hamza and ة are kept."""
    s = _MARKS.sub("", raw.translate(_PERSIAN))
    return _EDGE.sub("", " ".join(s.split()))


_LATIN = {
    "ا": "a", "أ": "a", "إ": "i", "آ": "a", "ٱ": "a", "ب": "b", "ت": "t", "ث": "th", "ج": "j", "ح": "h",
    "خ": "kh", "د": "d", "ذ": "dh", "ر": "r", "ز": "z", "س": "s", "ش": "sh", "ص": "s", "ض": "d", "ط": "t",
    "ظ": "z", "ع": "'", "غ": "gh", "ف": "f", "ق": "q", "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": "h",
    "ة": "a", "ى": "a", "ء": "'", "ئ": "'", "ؤ": "'", "گ": "g", "پ": "p", "چ": "ch", "ڤ": "v",
}


@lru_cache(maxsize=65536)
def transliterate(name: str) -> str:
    """A simple, documented rule-based romanisation (consonants after ALA-LC without diacritics;
    و/ي are w/y at the start of a word or after a vowel letter, u/i elsewhere; article "al-").

    >>> transliterate("سامي حداد")
    'Sami Hdad'
    >>> transliterate("علي حسن الجبوري")
    "'li Hsn al-Jburi"
    """
    words = []
    for word in readable(name).split():
        prefix = ""
        if word.startswith("ال") and len(word) > 3:
            prefix, word = "al-", word[2:]
        out = []
        for k, c in enumerate(word):
            prev = word[k - 1] if k else ""
            if c in "وي":
                at_start = k == 0
                after_vowel = prev in "اأإآىوي" and k + 1 < len(word)
                before_alef = k + 1 < len(word) and word[k + 1] in "اأإآى"
                consonant = at_start or after_vowel or before_alef
                out.append(("w" if c == "و" else "y") if consonant else ("u" if c == "و" else "i"))
            else:
                out.append(_LATIN.get(c, c if c.isascii() else ""))
        latin = "".join(out)
        words.append(prefix + latin[:1].upper() + latin[1:])
    return " ".join(words)


# --- one article's speakers -------------------------------------------------------------------

@dataclass
class _Entity:
    eid: int
    kind: str
    name: str                   # readable
    name_key: str               # normalised, for matching
    title: str | None = None
    role: str | None = None
    head: str | None = None     # role head, normalised without article
    genders: frozenset = frozenset({"m"})
    named: bool = False
    merged_into: int | None = None


@dataclass
class Resolution:
    """How one reference was resolved: the speaker, how it was found, and the mention type."""

    eid: int | None
    attribution: str
    mention_type: str | None


@dataclass
class SpeakerRegistry:
    """The speakers of one article and the chain of who spoke last.

    ``resolve(np, …)`` turns a parsed description into a speaker (new or known); ``resume(gender)``
    returns the speaker a bare verb continues (the latest one whose gender agrees).
    """

    article_id: str
    entities: list[_Entity] = field(default_factory=list)
    chain: list[int] = field(default_factory=list)   # speakers (subjects of reporting verbs), most recent last
    seen: list[int] = field(default_factory=list)    # every speaker or person mentioned, most recent last
    mentions: list[tuple[int, int, int, str, str, int]] = field(default_factory=list)
    # ``_live`` and ``known_name_words``, kept until a speaker is added or merged (both are read
    # at every reporting verb, and most verbs add no speaker)
    _live_entities: tuple[_Entity, ...] | None = field(default=None, init=False, repr=False, compare=False)
    _name_words: frozenset[str] | None = field(default=None, init=False, repr=False, compare=False)

    # -- lookups
    def _live(self) -> tuple[_Entity, ...]:
        if self._live_entities is None:
            self._live_entities = tuple(e for e in self.entities if e.merged_into is None)
        return self._live_entities

    def _speakers_changed(self) -> None:
        """Forget what was worked out from the speakers: one was added or merged."""
        self._live_entities = self._name_words = None

    def _recent(self, ents: list[_Entity]) -> _Entity | None:
        order = {eid: k for k, eid in enumerate(self.seen)}
        ents = [e for e in ents if e.eid in order]
        return max(ents, key=lambda e: order[e.eid]) if ents else None

    def entity(self, eid: int) -> _Entity:
        e = self.entities[eid]
        while e.merged_into is not None:
            e = self.entities[e.merged_into]
        return e

    def push(self, eid: int, speaking: bool = True) -> None:
        """Record that ``eid`` was just referred to; ``speaking``: as the subject of a reporting
        verb (a person merely mentioned — "وعن دعوة الرئيس ترامب … قال" — does not take the chain)."""
        eid = self.entity(eid).eid
        for order in (self.chain, self.seen) if speaking else (self.seen,):
            if eid in order:
                order.remove(eid)
            order.append(eid)

    def _new(self, **kw) -> _Entity:
        e = _Entity(eid=len(self.entities), **kw)
        self.entities.append(e)
        self._speakers_changed()
        return e

    def resume(self, gender: str) -> int | None:
        """The latest speaker a bare verb of this gender (m, f, pl) can continue."""
        for order in (self.chain, self.seen):  # speakers first, then people only mentioned
            for eid in reversed(order):
                if gender in self.entity(eid).genders:
                    return self.entity(eid).eid
        order = self.chain or self.seen
        return self.entity(order[-1]).eid if order else None

    # -- resolution
    def resolve(self, np: NounPhrase, texts: dict[str, str | None], gender: str, subject: bool) -> Resolution:
        """Find or create the speaker ``np`` describes. ``texts``: readable name/title/role."""
        lex = lexicon()
        name, title, role = texts.get("name"), texts.get("title"), texts.get("role")
        genders = frozenset({gender}) if gender in ("f", "pl") else frozenset({"m"})
        if name:
            key = normalize(name)
            live = [e for e in self._live() if e.named and e.kind == "person"]
            same = [e for e in live if e.name_key == key]
            if same:
                e = self._recent(same) or same[-1]
                self._fill(e, title, role, np.head)
                return Resolution(e.eid, "explicit", "name")
            toks = key.split()
            if len(toks) == 1 and key.startswith("ال") and np.title is not None and not any(
                    toks[0] in e.name_key.split() for e in live):
                known = self._by_description(np, texts.get("description") or "", title)
                if known is not None:
                    return Resolution(known.eid, "title", "title")
            if len(toks) == 1:
                # a surname, also with a role or rank ("وقال القائد روبرتسون"), or a compound
                # surname written joined ("عبدالرحمن" for "رامي عبد الرحمن")
                by_surname = [e for e in live if toks[0] in e.name_key.split()
                              or toks[0] == "".join(e.name_key.split()[-2:])]
                if by_surname:
                    e = self._recent(by_surname) or by_surname[-1]
                    self._fill(e, title, role, np.head)
                    return Resolution(e.eid, "surname", "surname")
            if len(toks) == 1 and np.title is None and np.role is None:
                split = self._split_surname(toks[0]) if subject else None
                if split is not None:
                    return Resolution(split.eid, "surname", "surname")
            e = self._new(kind="person", name=name, name_key=key, title=title, role=role, head=np.head,
                          genders=genders, named=True)
            return Resolution(e.eid, "explicit", "name")
        if np.kind in ("organization", "group"):
            key = normalize(texts.get("description") or "")
            same = [e for e in self._live() if e.kind == np.kind and e.name_key == key]
            if same:
                return Resolution(same[-1].eid, "explicit", "name")
            if np.last - np.first == 1:  # "الخلية", "الوزارة": the organisation named before
                by_head = [e for e in self._live() if e.kind == np.kind and e.head == np.head]
                if by_head and np.definite:
                    e = self._recent(by_head) or by_head[-1]
                    return Resolution(e.eid, "title", "description")
            if np.kind == "group":
                genders = frozenset({"pl", "f"})
            else:
                genders = frozenset({"f"}) if (np.head or "").endswith(("ه", "ات")) else frozenset({"m"})
            e = self._new(kind=np.kind, name=texts.get("description") or "", name_key=key, head=np.head,
                          genders=genders)
            return Resolution(e.eid, "explicit", "name")
        # a description without a name: a known speaker by role or title, or a new unnamed source
        desc = texts.get("description") or ""
        known = self._by_description(np, desc, title)
        if known is not None:
            self._fill(known, title, None, None)
            return Resolution(known.eid, "title", "title" if np.role is None else "description")
        if np.kind == "anonymous" and np.head in lex.plural_person_heads:
            genders = frozenset({"pl"})
        kind = "person" if np.definite else "anonymous"
        e = self._new(kind=kind, name=desc, name_key=normalize(desc), title=title, role=role or desc,
                      head=np.head, genders=genders)
        return Resolution(e.eid, "explicit", "description")

    def known_name_words(self) -> frozenset[str]:
        """Every word of every named person's name (for "وذكر الجبوري" or "قال المقداد")."""
        if self._name_words is None:
            self._name_words = frozenset(w for e in self._live() if e.named for w in e.name_key.split())
        return self._name_words

    def _fill(self, e: _Entity, title, role, head) -> None:
        if title and not e.title:
            e.title = title
        if role and not e.role:
            e.role, e.head = role, head or e.head

    def _by_description(self, np: NounPhrase, desc: str, title: str | None) -> _Entity | None:
        """A speaker already in the article that this description re-describes."""
        lex = lexicon()
        people = [e for e in self._live() if e.kind in ("person", "anonymous")]
        words = _description_words(desc)
        if np.role is not None and words:
            matches = []
            for e in people:
                if e.head != np.head:
                    continue
                ewords = _description_words(e.role or "")
                if ewords and (words <= ewords or ewords <= words):
                    matches.append(e)
            if matches:
                return self._recent(matches) or matches[-1]
        if np.role is None and title:  # "العقيد" alone
            tkey = without_article(normalize(title))
            matches = [e for e in people if e.title and without_article(normalize(e.title)) == tkey]
            if matches:
                return self._recent(matches) or matches[-1]
        if np.definite and (np.head in lex.anaphoric_heads or (np.role is None and title)):
            named = [e for e in people if e.named]
            return self._recent(named)
        return None

    def _split_surname(self, token: str) -> _Entity | None:
        """A one-word name never seen before that completes the chain speaker's surname when the
        outlet printed it split ("دلشاد بير" … "داود" for بيرداود): evidence is that the speaker's last
        name word is a short fragment (≤ 3 letters) and no other speaker is current."""
        order = self.chain or self.seen
        if not order:
            return None
        e = self.entity(order[-1])
        if not e.named or e.kind != "person":
            return None
        last = e.name_key.split()[-1]
        if len(last) <= 3 and len(token) >= 2 and not token.startswith("ال") and token not in e.name_key.split():
            return e
        return None

    def merge_descriptions(self) -> None:
        """An unnamed definite description ("المتحدث باسم القيادة المركزية") and the only named
        speaker of the article with the same role head are one speaker."""
        for e in self._live():
            if e.named or e.kind != "person" or not e.head:
                continue
            named = [x for x in self._live() if x.named and x.kind == "person" and x.head == e.head]
            if len(named) == 1:
                e.merged_into = named[0].eid
                self._speakers_changed()
                if not named[0].role:
                    named[0].role = e.role

    def record(self, line: int, nt: NormalizedText, nstart: int, nend: int, mention_type: str, eid: int) -> None:
        s, e = nt.raw_span(nstart, nend)
        self.mentions.append((line, s, e, nt.raw[s:e], mention_type, eid))

    def speaker_ref(self, eid: int) -> SpeakerRef:
        e = self.entity(eid)
        lex = lexicon()
        return SpeakerRef(
            name=e.name,
            kind=e.kind,
            title=e.title,
            role=e.role,
            affiliation=affiliation_of(e.role) if e.kind in ("person", "anonymous") else None,
            name_latin=transliterate(e.name) if e.named else None,
            wikidata_id=lex.figures.get(e.name_key) if e.named else None,
            scope=None if (e.named or e.kind in ("organization",)) else self.article_id,
        )


@lru_cache(maxsize=65536)
def _description_words(desc: str) -> frozenset[str]:
    """The content words of a description, without conjunction and article, for comparing two
    descriptions (a speaker's role is compared again at each later description)."""
    return frozenset(base(w) for w in normalize(desc).split() if not _is_stop(w)) - {""}


_AFFILIATION = regex.compile(r"(?:^|\s)(?:باسم|في|لدى)\s+(.+)$")


def affiliation_of(role: str | None) -> str | None:
    """The body a role belongs to, when the role says it: "المتحدث الرسمي باسم وزارة الدفاع" →
    "وزارة الدفاع"; "ضابط رفيع في الشرطة" → "الشرطة".

    >>> affiliation_of("ضابط رفيع في الشرطة")
    'الشرطة'
    """
    if not role:
        return None
    m = _AFFILIATION.search(role)
    return m.group(1).strip() if m else None


# --- across articles ------------------------------------------------------------------------

def speaker_key(ref: SpeakerRef) -> str:
    """The cross-article matching key: the normalised name without titles (and, for unnamed
    speakers, the article they belong to).

    >>> speaker_key(SpeakerRef("سامی حداد", "person")) == speaker_key(SpeakerRef("العقيد سامي حداد", "person"))
    True
    """
    return _speaker_key(ref.name, ref.scope)


@lru_cache(maxsize=65536)
def _speaker_key(name: str, scope: str | None) -> str:
    """``speaker_key`` of a name and scope (a speaker recurs in many quotes and mentions)."""
    toks = tokenize(normalize(name))
    n = title_length(toks, 0) if toks else 0
    key = " ".join(t.norm for t in toks[n:] if t.kind != "p" or t.norm == '"') or normalize(name)
    return f"{key}@{scope}" if scope else key


@lru_cache(maxsize=65536)
def speaker_id(key: str) -> str:
    """A stable id from the key's content: ``"sp_" + sha256(key)[:12]``. (Cached: a speaker's id is
    asked for at each of its quotes and mentions.)"""
    return "sp_" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def _fullest(values: Iterable[str | None]) -> str | None:
    """The longest non-empty value; ties broken alphabetically (independent of input order)."""
    vals = sorted({v for v in values if v}, key=lambda v: (-len(v), v))
    return vals[0] if vals else None


def merge_speakers(refs: Iterable[SpeakerRef]) -> dict[str, SpeakerRef]:
    """One canonical ``SpeakerRef`` per ``speaker_key``, combining the fullest title, role and
    affiliation seen in any article; the result does not depend on the input order, and merging
    merged groups again changes nothing (a batched build merges each batch, then the batches)."""
    return merge_keyed_speakers(keyed_speakers(refs))


def keyed_speakers(refs: Iterable[SpeakerRef]) -> Iterator[tuple[str, SpeakerRef]]:
    """(``speaker_key``, ref) of each ref."""
    keys: dict[tuple[str, str | None], str] = {}  # a name recurs in many articles: key it once
    for r in refs:
        key = keys.get((r.name, r.scope))
        if key is None:
            key = keys[(r.name, r.scope)] = speaker_key(r)
        yield key, r


def merge_keyed_speakers(keyed: Iterable[tuple[str, SpeakerRef]]) -> dict[str, SpeakerRef]:
    """``merge_speakers`` of refs given with their ``speaker_key``: the merged speakers of a block
    keep their keys, so merging the blocks of a release does not work them out again (~20 µs a
    speaker: tokens and titles)."""
    groups: dict[str, list[SpeakerRef]] = {}
    for key, r in keyed:
        groups.setdefault(key, []).append(r)
    return {key: _alone(rs[0]) if len(rs) == 1 else _merged(rs) for key, rs in groups.items()}


def _merged(rs: list[SpeakerRef]) -> SpeakerRef:
    """The canonical ``SpeakerRef`` of refs sharing a ``speaker_key`` (``merge_speakers``)."""
    kinds = sorted({r.kind for r in rs}, key=KINDS.index)
    name = sorted({r.name for r in rs}, key=lambda n: (n != readable(n), n))[0]
    # role and affiliation come together from the fullest description, so they stay consistent
    # (an empty role or affiliation counts as none: ties are then equal, whatever the input order)
    described = sorted(rs, key=lambda r: (-len(r.role or ""), r.role or "", r.affiliation or ""))[0]
    return SpeakerRef(
        name=name,
        kind=kinds[0],
        title=_fullest(r.title for r in rs),
        role=described.role or None,
        affiliation=(described.affiliation or None) if described.role else _fullest(r.affiliation for r in rs),
        name_latin=transliterate(name) if any(r.name_latin for r in rs) else None,
        wikidata_id=_fullest(r.wikidata_id for r in rs),
        scope=rs[0].scope,
    )


def _alone(r: SpeakerRef) -> SpeakerRef:
    """``_merged([r])`` without its sorts: most speakers are named in one article (a test holds
    the two equal)."""
    return SpeakerRef(
        name=r.name,
        kind=r.kind,
        title=r.title or None,
        role=r.role or None,
        affiliation=r.affiliation or None,
        name_latin=transliterate(r.name) if r.name_latin else None,
        wikidata_id=r.wikidata_id or None,
        scope=r.scope,
    )


def extract_speech(lines):
    """Same as ``coalition_news.extract.quotes.extract_speech`` (quotes and speaker mentions)."""
    from .quotes import extract_speech as _extract

    return _extract(lines)
