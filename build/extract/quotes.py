"""Direct quotations, their reporting verbs and their speakers, line by line through one article.

A quotation is text between quotation marks that is *speech*:

    وقال المتحدث … العقيد سامي حداد …: إن "القوات تواصل تقدمها في المحور الشمالي …"
    → Quote(text="القوات تواصل تقدمها في المحور الشمالي …", reporting_verb="قال", attribution="explicit",
            speaker=SpeakerRef(name="سامي حداد", title="العقيد", …))

and not a NAME in quotation marks (عملية "الفجر الجديد"، تنظيم "الدولة الإسلامية"، لـ"القدس العربي")
or a scare quote ("بشكل نهائي"). The decision uses evidence in the sentence, never a list of names:

1. a noun that introduces a name right before the mark (عملية، تنظيم، صحيفة … in
   ``speaker_nouns.yaml``), or the preposition لـ/بـ glued to the mark → a name;
2. one to three words are speech only when they close a clause right after a reporting verb or a
   colon (أجاب: «لا»); otherwise they are a name or scare quote (``"بشكل نهائي"``, ``"داعش"``);
3. four words or more are speech; when no reporting verb, complementiser (أن/إن) or colon
   introduces them they are a *partial* quotation inside indirect speech (``is_partial``).

Quotation marks are paired per style ("…", «…», “…”, ‘…’). With an odd number of marks in a
paragraph, the stray mark is chosen by the shape of the text around each mark (an opening mark is
followed by a word, a closing one follows a word and precedes punctuation or a space); a stray
mark never pairs across the reporting clause of another quotation.

The reporting verb is the nearest one before the quotation in its sentence (after the previous
quotation), as its lemma from ``reporting_verbs.yaml``; "وأردف قائلاً" gives أردف. A quotation
with no verb of its own continues the previous one in the line ("…"، وأنهم "…"); one with no
verb before it may take a verb right after it ("…"، قال الوزير).

``attribution`` says how the speaker was found:

- ``explicit``: named or described in the reporting clause (وقال … العقيد سامي حداد; قال ضابط رفيع);
- ``surname``: by a surname of a speaker named earlier (وأشار حداد; also a split surname, see
  ``SpeakerRegistry._split_surname``);
- ``title``: by a rank, office or description of a speaker named earlier (وأوضح المتحدث الرسمي
  باسم الوزارة; وأوضح الضابط; المسؤول العسكري الفرنسي);
- ``resumed``: by a verb alone (وأضاف، وتابع، وأوضحت) — the latest speaker whose gender and number
  agree with the verb; captions, headings and boilerplate between paragraphs do not break the chain;
- ``none``: no speaker can be found.

A participle after a finite verb in the same sentence (…، مشيراً إلى أن "…") shares that verb's
speaker and attribution.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import compress, count
from operator import itemgetter


from ..lexicon import load_lexicon
from ..text.frozen import stored_at_once
from ..text.normalise import NormalizedText, letter_words, normalize
from .speakers import (
    COMPLEMENTISERS,
    Mention,
    NounPhrase,
    Resolution,
    SpeakerRef,
    SpeakerRegistry,
    Tok,
    base,
    head_in,
    lexicon,
    parse_np,
    readable,
    title_length,
    _DIGIT,
    _LETTER,
    _TOKEN_SPLIT_BMP,
    _WORD,
    _known_noun,
    token_split,
    tokenize,
    tokens_of,
    without_conjunction,
)

SHORT_QUOTE_WORDS = 3  # a quotation of at most this many words needs a reporting verb or colon right before it
MAX_MARKS_SEARCHED = 99  # above this many marks of one style in a line, the stray mark is not searched for


@stored_at_once
@dataclass(frozen=True)
class Quote:
    """One direct quotation; ``line_text[start:end] == text`` (the marks are outside the span)."""

    line: int
    start: int
    end: int
    text: str
    reporting_verb: str | None   # lemma: قال, أكد, أشار …
    attribution: str             # explicit | resumed | surname | title | none
    speaker: SpeakerRef | None
    quote_mark: str = '"'        # the opening mark as printed: " « “ ‘
    is_partial: bool = False     # a fragment quoted inside indirect speech: قدمت العون لنا لإبعاد "الخطر …"


# --- reporting verbs ------------------------------------------------------------------------

@dataclass(frozen=True)
class VerbForm:
    lemma: str
    gender: str        # m | f | pl
    participle: bool


@cache
def reporting_verbs() -> dict[str, VerbForm]:
    """Normalised surface form → its lemma, agreement and whether it is a participle."""
    lex = load_lexicon("reporting_verbs")
    out: dict[str, VerbForm] = {}
    for lemma, forms in lex["verbs"].items():
        for key, words in forms.items():
            gender = key.removeprefix("part_")
            for w in words or []:
                out.setdefault(normalize(w), VerbForm(lemma, gender, key.startswith("part_")))
    return out


@cache
def verbal_noun_after() -> frozenset[str]:
    return frozenset(normalize(w) for w in load_lexicon("reporting_verbs")["verbal_noun_after"])


@cache
def speech_nouns() -> frozenset[str]:
    return frozenset(normalize(w) for w in load_lexicon("reporting_verbs")["speech_nouns"])


@lru_cache(maxsize=65536)
def verb_form(word: str) -> VerbForm | None:
    """The reporting verb a normalised word is, with or without و/ف: "واوضحت" → أوضح (f)."""
    forms = reporting_verbs()
    for c in without_conjunction(word):
        if c in forms:
            return forms[c]
    return None


def _is_verb(word: str) -> bool:
    return verb_form(word) is not None


# --- fast normalisation with an offset map ---------------------------------------------------



# --- quotation marks ----------------------------------------------------------------------

_MARK_CLASSES = {'"': '"', "«": "«»", "»": "«»", "“": "“”", "”": "“”", "„": "“”", "‟": "“”", "‘": "‘’", "’": "‘’"}
# Every mark a quotation can open with, as printed (outlets writing right to left may swap » and «):
# the quote_mark vocabulary of the quotes table.
QUOTE_MARKS = tuple(_MARK_CLASSES)
# every mark in one pattern: the plain definition of what ``_mark_positions`` and ``_has_mark`` find
_ANY_MARK = re.compile("[" + "".join(_MARK_CLASSES) + "]")
_CLOSE_FOLLOW = set("،,.:;؛!?؟)]}-–—…") | {""}


def _letter(c: str) -> bool:
    return c != "" and (c.isalnum() or c == "\u0640")


def _opener_score(s: str, i: int) -> int:
    """How much the mark at ``i`` looks like an opening mark (followed by a word, after a space)."""
    prv = s[i - 1] if i > 0 else ""
    nxt = s[i + 1] if i + 1 < len(s) else ""
    score = 0
    if nxt == "":
        score -= 3
    elif _letter(nxt) or nxt in "([":
        score += 2
    elif nxt.isspace():
        score += 1 if i + 2 < len(s) and _letter(s[i + 2]) else -1
    else:
        score -= 3
    if prv == "" or prv.isspace() or prv in "(:[-–—/)\u0640":
        score += 1
    elif _letter(prv):
        score += 0 if (i < 2 or not _letter(s[i - 2])) else -1  # "لـ" or "ل" glued: fine; inside a word: not
    return score


def _closer_score(s: str, i: int) -> int:
    """How much the mark at ``i`` looks like a closing mark (after a word, before punctuation)."""
    prv = s[i - 1] if i > 0 else ""
    nxt = s[i + 1] if i + 1 < len(s) else ""
    score = 0
    if prv == "":
        score -= 3
    elif _letter(prv) or prv in ".!?؟…)]'’":
        score += 2
    elif prv.isspace():
        score += 1 if i >= 2 and _letter(s[i - 2]) else -1
    if nxt in _CLOSE_FOLLOW or nxt.isspace() or nxt == "(":
        score += 1
    elif _letter(nxt):
        score -= 1
    return score


def _pair_class(s: str, positions: list[int], directional: str | None) -> list[tuple[int, int]]:
    """Pair the marks of one style left to right; with an odd count, leave out the mark whose
    absence gives the best-shaped pairs (ties: the latest mark, so a final stray mark never pairs
    backwards over a reporting clause)."""
    if len(positions) == 2:  # one quotation (most lines): one pair, nothing to score
        return [(positions[0], positions[1])]

    def score_open(i: int) -> int:
        sc = _opener_score(s, i)
        if directional:
            sc += 3 if s[i] == directional[0] else -5
        return sc

    def score_close(i: int) -> int:
        sc = _closer_score(s, i)
        if directional:
            sc += 3 if s[i] == directional[1] else -5
        return sc

    def pairs_of(ps: list[int]) -> list[tuple[int, int]]:
        return [(ps[k], ps[k + 1]) for k in range(0, len(ps) - 1, 2)]

    if len(positions) % 2 == 0:
        return _merge_nested(pairs_of(positions), score_open)
    if len(positions) > MAX_MARKS_SEARCHED:  # pathological line: no quadratic search, drop the last
        return pairs_of(positions[:-1])
    # each mark's scores, worked out once: every choice of the stray mark re-pairs the same marks
    opening = {i: score_open(i) for i in positions}
    closing = {i: score_close(i) for i in positions}
    best, best_score = [], None
    for drop in range(len(positions)):
        rest = positions[:drop] + positions[drop + 1:]
        pairs = pairs_of(rest)
        sc = sum(opening[a] + closing[b] for a, b in pairs)
        stray = positions[drop]
        sc -= 4 * sum(1 for a, b in pairs if a < stray < b)  # a stray mark inside a quotation is unlikely
        if best_score is None or sc >= best_score:
            best, best_score = pairs, sc
    return best


def _merge_nested(pairs: list[tuple[int, int]], score_open) -> list[tuple[int, int]]:
    """A pair whose opening mark cannot open (it is followed by punctuation: "…"، وسنبقى …") closes
    an outer quotation instead, around a name quoted inside it with the same marks:
    "نحن مستعدون … لتنظيم "الدولة الإسلامية"، وسنبقى …"."""
    out: list[tuple[int, int]] = []
    for a, b in pairs:
        if out and score_open(a) < 0:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _has_mark(s: str) -> bool:
    """Whether ``s`` holds a quotation mark: ``_ANY_MARK.search(s)``, by one ``str`` search per
    mark (a memchr-like scan in C; the regex tests its class on every character)."""
    return any(map(s.__contains__, QUOTE_MARKS))


def _mark_positions(s: str) -> dict[str, list[int]]:
    """The offsets of the marks of each style in ``s``, in order (the ``_ANY_MARK`` matches by
    style), found by ``str.find`` per mark."""
    by_class: dict[str, list[int]] = {}
    for mark in compress(QUOTE_MARKS, map(s.__contains__, QUOTE_MARKS)):  # ``in``: cheaper than a failed find
        i = s.find(mark)
        positions = by_class.setdefault(_MARK_CLASSES[mark], [])
        while i != -1:
            positions.append(i)
            i = s.find(mark, i + 1)
    for cls, positions in by_class.items():
        if len(cls) == 2:  # two marks make the style: their offsets interleave
            positions.sort()
    return by_class


def quote_pairs(s: str) -> list[tuple[int, int]]:
    """(open, close) raw offsets of the outermost quotation-mark pairs in a line, in order.

    >>> quote_pairs('قال إن "نعم" و«لا»')
    [(7, 11), (14, 17)]
    """
    by_class = _mark_positions(s)
    if not by_class:
        return []
    pairs: list[tuple[int, int]] = []
    for cls, positions in by_class.items():
        directional = None
        if len(cls) == 2:  # « » and “ ”: outlets writing right-to-left sometimes swap them
            first, last = s[positions[0]], s[positions[-1]]
            # swapped only when consistently so (»…« at both ends); a lone » first is a stray
            # closing mark of a quotation begun in an earlier paragraph
            directional = cls[::-1] if (first, last) == (cls[1], cls[0]) else cls
            if cls == "‘’" or cls == "“”":
                directional = None if all(s[p] == first for p in positions) else directional
        pairs.extend(_pair_class(s, positions, directional))
    if len(by_class) == 1:
        return pairs  # one style (most lines): its pairs are in order and never nest or cross
    pairs.sort(key=lambda p: (p[0], -p[1]))
    kept: list[tuple[int, int]] = []
    for a, b in pairs:
        if kept and a < kept[-1][1]:
            continue  # nested in (or crossing) a kept quotation: part of its text
        kept.append((a, b))
    return kept


# --- quotation or name? -------------------------------------------------------------------

@stored_at_once
@dataclass(frozen=True)
class _Candidate:
    open: int          # normalised offsets of the marks
    close: int
    raw_open: int
    raw_close: int
    speech: bool
    partial: bool
    tok: int           # index of its Q or N token in the line's tokens


def _classify(ntext: str, toks: list[Tok], n_words: int, a: int, b: int, prev_name: bool) -> tuple[bool, bool]:
    """(is speech, is partial) for the quotation whose marks are at normalised ``a`` and ``b``,
    with ``n_words`` words inside; ``toks`` are the context tokens before the opening mark."""
    if not n_words:
        return False, False
    before = toks  # the caller passes the context tokens before the opening mark
    glued = a > 0 and ntext[a - 1] in "لبك" and (a < 2 or not ntext[a - 2].isalnum())
    if glued:
        return False, False  # لـ"القدس العربي", بـ"الإرهابيين"
    last = before[-1] if before else None
    gap = ntext[last.end:a].strip() if last is not None else ""
    if last is not None and last.kind == "w" and gap == "":
        lex = lexicon()
        # the marker is in construct with the name, so it has no article: تنظيم "الدولة الإسلامية",
        # لتنظيم "…", وعملية "…"; "عناصر التنظيم "يتحركون …"" is speech about the organisation
        stripped = last.norm
        for _ in range(2):
            if stripped not in lex.name_markers and stripped[:1] in "وفبلك" and len(stripped) > 3:
                stripped = stripped[1:]
        if stripped in lex.name_markers:
            return False, False
        if last.norm == "و" and prev_name:
            return False, False  # "الموت لأمريكا" و"الموت لإسرائيل": a list of names
    colon = gap.endswith(":") or (last is not None and last.norm == ":")
    complementiser = last is not None and last.kind == "w" and without_conjunction(last.norm)[-1] in COMPLEMENTISERS
    introduced = colon or (last is not None and (_is_verb(last.norm) or complementiser))
    if not introduced and last is not None and last.kind == "p":
        # "وقال العقيد …، يوم أمس السبت (…)"قبل": the verb's own clause, with no أن/إن opening an
        # indirect-speech clause between the verb and the mark
        last_verb = next((k for k in range(len(before) - 1, -1, -1)
                          if before[k].kind == "w" and _is_verb(before[k].norm)), None)
        introduced = last_verb is not None and not any(
            t.kind == "w" and without_conjunction(t.norm)[-1] in COMPLEMENTISERS for t in before[last_verb + 1:])
    if n_words <= SHORT_QUOTE_WORDS:
        after = ntext[b + 1:b + 2]
        closes_clause = after == "" or after in ".,;:!?)" or ntext[b + 1:].strip()[:1] in ("", ".", ",", ";", ":", "!", "?")
        # a reporting verb among the last four tokens (looked at only for short quotations)
        verb_near = any(t.kind == "w" and _is_verb(t.norm) for t in before[-4:])
        if (colon or (verb_near and introduced)) and closes_clause:
            return True, False
        return False, False
    return True, not introduced


# --- the article pass -------------------------------------------------------------------------

# the words and numbers ``tokenize`` makes (for counting the words inside a quotation)
_WORDS_AND_NUMBERS = re.compile(r"[^\W\d_]\w*|\d+(?:[.,]\d+)*")


def _first_words_pattern(n: int, word: str = _WORDS_AND_NUMBERS.pattern, skip: str = r"[\W_]") -> re.Pattern:
    """One pattern for the first ``n`` words and numbers of a text, each in its own group, nested:
    ``(?:skip*(word)(?:skip*(word)…)?)?``, where ``skip`` is what is neither a letter nor a digit,
    so it stops exactly where ``_WORDS_AND_NUMBERS`` matches next. The last group that took part
    (``lastindex``) is the number of words, up to ``n``."""
    nested = ""
    for _ in range(n):
        nested = "(?:" + skip + "*(" + word + ")" + nested + ")?"
    return re.compile(nested)


_FIRST_WORDS = _first_words_pattern(SHORT_QUOTE_WORDS + 1)
# the same with the classes spelled out, for a line within the BMP (as ``_TOKEN_SPLIT_BMP``): a
# class of ranges is a bitmap test, cheaper than the Unicode category tests of \w and \d
_FIRST_WORDS_BMP = _first_words_pattern(
    SHORT_QUOTE_WORDS + 1, f"[{_LETTER}][{_WORD}]*|[{_DIGIT}]+(?:[.,][{_DIGIT}]+)*", f"[^{_LETTER}{_DIGIT}]")


def _count_words(ntext: str, lo: int, hi: int, first_words: re.Pattern = _FIRST_WORDS) -> int:
    """The words and numbers in ``ntext[lo:hi]``, counted up to one more than a short quotation
    has (``_classify`` only tells none, short and long apart): a long quotation is not scanned whole.
    (``len(list(islice(_WORDS_AND_NUMBERS.finditer(ntext, lo, hi), SHORT_QUOTE_WORDS + 1)))``, in
    one match: no match object per word; ``_FIRST_WORDS_BMP`` for a line within the BMP.)"""
    return first_words.match(ntext, lo, hi).lastindex or 0


def _tokens_and_candidates(raw: str, nt: NormalizedText) -> tuple[list[Tok], list[_Candidate]]:
    """The tokens of a line, with each quotation as one ``Q`` (speech) or ``N`` (name) token, and
    the classified quotation candidates. Only the text outside quotation marks is tokenised:
    inside, words are just counted."""
    ntext = nt.text
    pairs = quote_pairs(raw)
    if not pairs:
        return tokenize(ntext), []
    outside: list[Tok] = []  # the tokens outside quotations so far: the context before a mark
    toks: list[Tok] = []
    cands: list[_Candidate] = []
    pos = 0
    prev_name = False
    split = token_split(ntext)
    first_words = _FIRST_WORDS_BMP if split is _TOKEN_SPLIT_BMP else _FIRST_WORDS
    for ra, rb in pairs:
        a, b = nt.norm_index(ra), nt.norm_index(rb)
        segment = tokens_of(ntext, split, pos, a)
        outside += segment
        toks += segment
        n_words = _count_words(ntext, a + 1, b, first_words)
        speech, partial = _classify(ntext, outside, n_words, a, b, prev_name)
        prev_name = not speech
        cands.append(_Candidate(a, b, ra, rb, speech, partial, len(toks)))
        # built as ``tokens_of`` builds tokens: no Python-level ``Tok.__new__``
        toks.append(tuple.__new__(Tok, ("Q" if speech else "N", ntext[a + 1:b], a, b + 1)))
        pos = b + 1
    toks += tokens_of(ntext, split, pos)
    return toks, cands


def _texts(np: NounPhrase, toks: list[Tok], nt: NormalizedText) -> dict[str, str | None]:
    """Readable name, title, role and whole description of a parsed noun phrase."""
    read: dict[tuple[int, int], str | None] = {}  # the whole description is often the role or the name

    def span(p):
        if p is None or p[1] <= p[0]:
            return None
        if p not in read:
            s, e = nt.raw_span(toks[p[0]].start, toks[p[1] - 1].end)
            read[p] = readable(nt.raw[s:e]) or None
        return read[p]

    return {"name": span(np.name), "title": span(np.title), "role": span(np.role),
            "description": span((np.first, np.last))}


@dataclass
class _VerbHit:
    tok: int
    form: VerbForm
    resolution: Resolution


def _skip_adjunct(toks: list[Tok], j: int) -> int:
    """Skip a dative right after the verb: "وأضاف لمراسلنا أن"، "وقال لـ"راديو سوا" …"."""
    t = toks[j] if j < len(toks) else None
    nxt = toks[j + 1] if j + 1 < len(toks) else None
    if t is not None and t.kind == "w" and t.norm.startswith("ل") and len(t.norm) > 2 and not head_in(t.norm, lexicon().person_heads) \
            and (_known_noun(t.norm[1:]) or nxt is None or nxt.kind in ("p", "Q", "N") or verb_form(nxt.norm) is None
                 and without_conjunction(nxt.norm)[-1] in COMPLEMENTISERS or _is_preposition(nxt)):
        return j + 1  # but "وقال لؤي المقداد" is a name
    if t is not None and t.kind == "w" and t.norm == "ل" and j + 1 < len(toks) and toks[j + 1].kind == "N":
        return j + 2
    return j


@cache
def _trigger_words() -> frozenset[str]:
    """Every word that can start something this module reads outside a reporting clause: a
    reporting verb, an office or group noun, a title (with and without و/ف and the article)."""
    lex = lexicon()
    heads = lex.person_heads | lex.group_heads  # organisations only matter as a verb's subject
    words = set(reporting_verbs()) | set(lex.titles) | heads | {"ال" + h for h in heads}
    words |= {p + w for w in words for p in ("و", "ف")} | {"لل" + h for h in heads}
    return frozenset(words)


@cache
def _word_info() -> dict[str, tuple[VerbForm | None, bool, bool, bool]]:
    """For every word that can start something: (reporting verb form, office noun, group noun,
    title start). One dictionary lookup per token in the hot loop; every entry is checked
    against the functions it stands for (``verb_form``, ``head_in``, ``_may_start_title``)."""
    lex = lexicon()
    candidates = set()
    for w in set(reporting_verbs()) | set(lex.titles) | lex.person_heads | lex.group_heads:
        for article in ("", "ال", "لل"):
            for conj in ("", "و", "ف"):
                candidates.add(conj + article + w)
    out = {}
    for w in candidates:
        info = (verb_form(w), head_in(w, lex.person_heads), head_in(w, lex.group_heads), _may_start_title(w))
        if info[0] is not None or any(info[1:]):
            out[w] = info
    return out


def _nothing_to_read(marked: bool, ntext: str) -> bool:
    """No quotation mark and no word that could report speech or describe a speaker: the line
    can be skipped whole (most background paragraphs), which keeps extraction fast."""
    return not marked and _trigger_words().isdisjoint(letter_words(ntext))


def _process_line(line, reg: SpeakerRegistry, is_body: bool) -> list[tuple[Quote, int | None]]:
    raw = line.text
    nt = NormalizedText.of(raw)
    marked = _has_mark(raw)
    if _nothing_to_read(marked, nt.text):
        return []
    # a line without marks has no quotation: its tokens are all there is (no marks looked for again)
    toks, cands = _tokens_and_candidates(raw, nt) if marked else (tokenize(nt.text), [])
    hits: list[_VerbHit] = []
    last_finite: _VerbHit | None = None
    i = 0
    infos = _word_info()
    # most words start nothing: visit only the tokens that have an entry (found in C: the
    # indices whose token text is a key of ``infos``)
    starts = list(compress(count(), map(infos.__contains__, map(itemgetter(1), toks))))
    while i < len(toks):
        k = bisect_left(starts, i)
        if k == len(starts):
            break
        i = starts[k]
        t = toks[i]
        form, person_head, group_head, title_start = infos[t.norm]
        if form is not None and i > 0 and toks[i - 1].norm in verbal_noun_after():
            form = None  # "طلب عدم كشف هويته": a verbal noun
        if form is not None:
            hit, nxt = _resolve_verb(toks, i, form, last_finite, reg, nt, line.line, is_body)
            i = max(nxt, i + 1)  # always move forward
            hits.append(hit)
            if not form.participle:
                last_finite = hit
            continue
        if is_body and ((person_head and t.norm[:1] not in "لب")  # not "بيان للمتحدثة"
                        or (i <= 1 and group_head)
                        or (title_start and title_length(toks, i))):
            np = parse_np(toks, i, _is_verb)
            if np is not None and np.name is None and np.role is not None:
                np = _name_before_role(toks, i, np)
            if np is not None and (np.name is not None or np.kind == "group"):
                res = reg.resolve(np, _texts(np, toks, nt), "m", subject=False)
                reg.record(line.line, nt, toks[np.first].start, toks[np.last - 1].end, res.mention_type, res.eid)
                reg.push(res.eid, speaking=False)
                i = np.last
                continue
        i += 1
    return _assign(line, toks, cands, hits, reg, nt)


def _name_before_role(toks: list[Tok], i: int, np: NounPhrase) -> NounPhrase:
    """"وعبر بريت ماكغورك المبعوث الخاص …": a sentence-initial verb, a two-word name, then its
    office (definite). The name is the one before the office."""
    if i < 3 or not toks[i].norm.startswith(("ال", "وال")):
        return np
    a, b, first = toks[i - 2], toks[i - 1], toks[i - 3]
    clause_start = i == 3 or toks[i - 4].kind == "p"
    names = all(t.kind == "w" and not t.norm.startswith("ال") and not _known_noun(t.norm) and verb_form(t.norm) is None
                and without_conjunction(t.norm)[-1] not in lexicon().name_stops for t in (a, b))
    if clause_start and first.kind == "w" and first.norm[:1] in "وف" and names:
        return NounPhrase(i - 2, np.last, "person", np.title, np.role, (i - 2, i), np.head, True)
    return np


def _is_preposition(t: Tok) -> bool:
    return t.kind == "w" and t.norm in lexicon().description_prepositions | {"الي", "علي", "عن", "مع"}


def _may_start_title(w: str) -> bool:
    titles = lexicon().titles
    return w in titles or (w[:1] == "و" and w[1:] in titles)


def _resolve_verb(toks, i, form: VerbForm, last_finite, reg: SpeakerRegistry, nt, line_no, is_body):
    """Who speaks through the reporting verb at token ``i``; returns the hit and the next token."""
    if form.participle:
        if last_finite is not None:
            return _VerbHit(i, form, last_finite.resolution), i + 1
        # a participle with no finite verb before it in the line continues the chain; it is not
        # recorded as a mention (its subject may be a name in quotation marks: قدّم "تيار الحكمة" … معتبراً)
        eid = reg.resume(form.gender)
        res = Resolution(eid, "resumed" if eid is not None else "none", "verb" if eid is not None else None)
        return _VerbHit(i, form, res), i + 1
    j = _skip_adjunct(toks, i + 1)
    t = toks[j] if j < len(toks) else None
    if t is not None and t.kind == "w" and base(t.norm) in speech_nouns():
        np = None  # "وأضاف البيان": the statement speaks for whoever issued it
    elif t is not None and t.kind == "w" and t.norm in reg.known_name_words():
        np = NounPhrase(j, j + 1, "person", None, None, (j, j + 1), None, True)  # "وقال المقداد"
    else:
        np = parse_np(toks, j, _is_verb, subject=True)
    if np is not None and np.kind == "person" and np.role is None and np.title is None:
        np = _accept_bare_name(toks, np, reg)
    if np is None:
        np = _fronted_subject(toks, i, reg)
    if np is None and last_finite is not None and _in_complement_of(toks, last_finite.tok, i):
        # "قال مصدر … إنه يعتقد أن "…"": a verb inside what an earlier verb reports has its speaker
        return _VerbHit(i, form, last_finite.resolution), i + 1
    if np is not None:
        texts = _texts(np, toks, nt)
        res = reg.resolve(np, texts, form.gender, subject=True)
        if res.eid is not None:
            reg.record(line_no, nt, toks[np.first].start, toks[np.last - 1].end, res.mention_type, res.eid)
            if is_body:
                reg.push(res.eid)
        return _VerbHit(i, form, res), max(np.last, i + 1)  # a fronted subject lies before the verb
    eid = reg.resume(form.gender)
    if eid is None:
        return _VerbHit(i, form, Resolution(None, "none", None)), i + 1
    reg.record(line_no, nt, toks[i].start, toks[i].end, "verb", eid)
    if is_body:
        reg.push(eid)
    return _VerbHit(i, form, Resolution(eid, "resumed", "verb")), i + 1


_HARD_AFTER_NAME = frozenset({",", ":", ".", ";", "(", "-"})
_KANA = frozenset({"كان", "وكان", "كانت", "وكانت"})


def _fronted_subject(toks, i: int, reg: SpeakerRegistry) -> NounPhrase | None:
    """The subject placed before the verb in "وكان بوتين قد قال": كان + subject + قد + verb."""
    if i < 3 or toks[i - 1].norm != "قد":
        return None
    for k in range(i - 2, max(i - 8, 0) - 1, -1):
        if toks[k].norm in _KANA:
            np = parse_np(toks, k + 1, _is_verb, subject=True)
            if np is not None and np.last == i - 1:
                return np
            words = [t.norm for t in toks[k + 1:i - 1]]
            if len(words) == 1 and words[0] in reg.known_name_words():
                return NounPhrase(k + 1, i - 1, "person", None, None, (k + 1, i - 1), None, True)
            return None
    return None


def _accept_bare_name(toks, np: NounPhrase, reg: SpeakerRegistry) -> NounPhrase | None:
    """A bare word after a verb is a subject name only with evidence: it names a known speaker,
    continues a split surname, or is followed by what ends a subject (أن/إن، a colon, a preposition
    …). "وأكد استمرار المهمة" has none: a verb with its object, not a speaker."""
    words = [t.norm for t in toks[np.name[0]:np.name[1]]]
    known = reg.known_name_words()
    if any(w in known for w in words):
        return np
    if len(words) == 1 and reg._split_surname(words[0]) is not None:
        return np
    nxt = toks[np.last] if np.last < len(toks) else None
    lex = lexicon()
    if nxt is None or nxt.kind in ("Q", "N") or nxt.norm in _HARD_AFTER_NAME:
        return np
    if nxt.kind == "w" and (nxt.norm in lex.name_stops or without_conjunction(nxt.norm)[-1] in lex.name_stops
                            or nxt.norm.startswith("ل")):
        return np
    return None


def _assign(line, toks: list[Tok], cands: list[_Candidate], hits: list[_VerbHit], reg, nt) -> list[tuple[Quote, int | None]]:
    """Give each speech quotation its reporting verb and speaker (with the speaker's registry id)."""
    out: list[tuple[Quote, int | None]] = []
    if not any(c.speech for c in cands):
        return out  # no speech quotation (most lines): nothing to assign
    window_start = 0
    prev: Quote | None = None
    prev_res: Resolution | None = None
    for c in cands:
        if not c.speech:
            continue
        k = c.tok
        in_window = [h for h in hits if window_start <= toks[h.tok].start < c.open]
        lemma, res = None, None
        if in_window:
            h = in_window[-1]
            if h.form.participle and h.form.lemma == "قال" and len(in_window) > 1:
                h = in_window[-2]  # "وأردف قائلا": the main verb introduces the quotation
            lemma, res = h.form.lemma, h.resolution
        elif prev is not None:
            lemma, res = prev.reporting_verb, prev_res
        elif _opens_sentence(toks, k):
            # "«…»، قال الوزير": a verb right after a quotation that opens its sentence (not one
            # inside a phrase: "وفي إجابة على سؤال عن «…»، قال تونر" answers the question)
            after = [h for h in hits if h.tok > k and all(t.kind == "p" for t in toks[k + 1:h.tok])]
            if after:
                lemma, res = after[0].form.lemma, after[0].resolution
        eid = res.eid if res is not None else None
        s, e = _trim(line.text, c.raw_open + 1, c.raw_close)
        # the speaker itself is filled in at the end of the article, once descriptions are merged
        q = Quote(line.line, s, e, line.text[s:e], lemma, res.attribution if eid is not None else "none", None,
                  line.text[c.raw_open], c.partial)
        out.append((q, eid))
        prev, prev_res = q, res
        window_start = c.close + 1
    return out


def _in_complement_of(toks: list[Tok], earlier: int, i: int) -> bool:
    """Whether the verb at ``i`` opens the أن/إن clause of the verb at ``earlier`` ("قال … إنه
    يعتقد"), in the same sentence and before any quotation. A verb with و/ف ("وأردف") is a new,
    coordinated clause instead."""
    between = toks[earlier + 1:i]
    if not between or toks[i].norm[:1] in "وف":
        return False
    if any(t.kind == "Q" or (t.kind == "p" and t.norm in ".!?") for t in between):
        return False
    return between[-1].kind == "w" and between[-1].norm in COMPLEMENTISERS


def _opens_sentence(toks: list[Tok], k: int) -> bool:
    """No word between the start of the sentence (line start or a full stop) and token ``k``."""
    for t in reversed(toks[:k]):
        if t.kind == "p" and t.norm in ".!?":
            return True
        if t.kind in ("w", "n", "Q", "N") and t.norm not in ("و", "ف"):
            return False
    return True


def _trim(s: str, a: int, b: int) -> tuple[int, int]:
    while a < b and s[a].isspace():
        a += 1
    while b > a and s[b - 1].isspace():
        b -= 1
    return a, b


def _with_speaker(q: Quote, speaker: SpeakerRef) -> Quote:
    """``dataclasses.replace(q, speaker=speaker)``, without its per-call look at the fields."""
    return Quote(q.line, q.start, q.end, q.text, q.reporting_verb, q.attribution, speaker, q.quote_mark, q.is_partial)


def extract_speech(lines) -> tuple[list[Quote], list[Mention]]:
    """All direct quotations of one article and every mention of their speakers.

    ``lines``: the article's ``Line`` objects in order. Non-extractable lines (boilerplate,
    repeats) are skipped; captions and headings yield their own quotations but do not move the
    attribution chain, so "وأضاف" after a photo caption still continues the previous speaker.
    """
    lines = list(lines)
    article_id = lines[0].article_id if lines else ""
    reg = SpeakerRegistry(article_id)
    staged: list[tuple[Quote, int | None]] = []
    for ln in lines:
        if not ln.extractable:
            continue
        staged.extend(_process_line(ln, reg, is_body=ln.kind == "body"))
    reg.merge_descriptions()
    refs: dict[int, SpeakerRef] = {}

    def ref_of(eid: int) -> SpeakerRef:
        eid = reg.entity(eid).eid
        if eid not in refs:
            refs[eid] = reg.speaker_ref(eid)
        return refs[eid]

    quotes = [_with_speaker(q, ref_of(eid)) if eid is not None else q for q, eid in staged]
    spoken = {reg.entity(eid).eid for _, eid in staged if eid is not None}
    mentions = []
    seen = set()
    for line_no, s, e, text, mtype, eid in reg.mentions:
        if reg.entity(eid).eid in spoken and (line_no, s, e) not in seen:
            seen.add((line_no, s, e))
            mentions.append(Mention(line_no, s, e, text, mtype, ref_of(eid)))
    return quotes, mentions

