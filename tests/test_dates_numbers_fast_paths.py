"""Fast paths of the dates and numbers modules give what their plain definitions give."""

from __future__ import annotations

import re

import regex
from hypothesis import example, given, settings, strategies as st

from coalition_news.extract import figures
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


# --- stdlib re spellings of regex split patterns (``normalise.fast_split``) ---------------------

def _split_pairs():
    from coalition_news.extract import figures
    from coalition_news.text import numbers

    return ((numbers._TOKEN_SPLIT_RE, numbers._TOKEN_SPLIT), (figures._CLAUSE_BREAK_SPLIT_RE, figures._CLAUSE_BREAK_SPLIT))


def test_token_and_clause_splits_are_spelled_alike_below_u3000():
    """Every character below U+3000, alone and among letters, digits, separators and clause
    breaks, splits the same under both engines."""
    from coalition_news.text import normalise

    chars = "".join(map(chr, range(normalise._SPELLED_BELOW)))
    for fast, plain in _split_pairs():
        assert fast.split(chars) == plain.split(chars)
        for c in chars:
            for sample in (f"ق{c}ل {c}1{c}", f"1{c}.{c}2,3{c}4", f".{c}x,{c} {c}\"{c}!", f"\"{c}{c}\" {c}?{c}{c}."):
                assert fast.split(sample) == plain.split(sample), (plain.pattern, hex(ord(c)))


def test_token_split_is_the_token_pattern_in_one_group():
    from coalition_news.text import numbers

    text = "ال70 و2019 (110) الاف 3,5.1 x² ٣"
    assert [m.group() for m in numbers._TOKEN.finditer(text)] == numbers._TOKEN_SPLIT.split(text)[1::2]


_SPLIT_ALPHABET = "قالوفبلكاأة ىيمن0123456789٣.,،_()\"-:؛!? \t\u00a0²\u2fff\u3000\u4e00\U0001d400\u0640"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_SPLIT_ALPHABET, max_size=60), st.integers(0, 10), st.integers(0, 70) | st.none())
@example("ق\u3000ل 1", 2, None)  # a line beyond the spelled range splits by regex
def test_fast_split_of_a_slice_is_match_spans(text, lo, hi):
    """``fast_split`` over ``text[lo:hi]`` (the whole line decides the engine) is ``match_spans``."""
    from coalition_news.text import normalise

    for fast, plain in _split_pairs():
        assert normalise.fast_split(plain, fast, text, lo, hi) == normalise.match_spans(plain, text, lo, hi)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_SPLIT_ALPHABET, max_size=20))
def test_spelled_below_is_every_character_below_u3000(text):
    from coalition_news.text import normalise

    assert normalise.spelled_below(text) == all(ord(c) < 0x3000 for c in text)


# --- the prefix words before a date mention ------------------------------------------------------

def _with_prefix_reference(text, c, published):
    """``_with_prefix`` as first written: every pattern searched."""
    P = dates._prefix_patterns()
    if c.res.precision in ("month", "year"):
        for part in ("start", "middle", "end"):
            if m := P[part].search(text[max(0, c.start - 30): c.start]):
                c = dates._Cand(c.start - (len(m.string) - m.start("p")), c.end, dates._part_of_period(c.res, part), c.kind)
                break
    if c.res.precision == "month" and (m := P["earlier_in"].search(text[max(0, c.start - 40): c.start])):
        c = dates._Cand(c.start - (len(m.string) - m.start("p")), c.end, c.res, c.kind)
    if c.kind != "ago" and (m := P["since"].search(text[max(0, c.start - 12): c.start])):
        if published is None:
            return None
        end = max(published, c.res.date_start)
        c = dates._Cand(c.start - (len(m.string) - m.start("p")), c.end, dates._Res(c.res.date_start, end, "range", "relative"), c.kind)
    return c


def _prefix_phrases():
    w = dates._grammar().words
    return sorted({dates._key(p) for k in ("since", "period_start", "period_middle", "period_end", "earlier_in") for p in w[k]})


_prefix_parts = st.lists(
    st.sampled_from(_prefix_phrases())
    | st.sampled_from(["و", "ف", "ب", "في ", "x", "1", "،", "(", "وقت", "من", "  ", " ", "\t", "\u00a0", "\u2003", "\x1c", "\x85", "\n"]),
    max_size=8,
)


@settings(max_examples=500, deadline=None)
@given(_prefix_parts, st.sampled_from(["", " ", "  ", "\u00a0", "\x1c"]), st.sampled_from(["month", "year", "day"]),
       st.sampled_from(["month", "ago", "year"]), st.booleans())
def test_prefix_endings_skip_only_searches_that_fail(parts, gap, precision, kind, has_published):
    import datetime as dt

    before = "".join(parts) + gap
    text = before + "آذار 2016"
    start = len(before)
    res = dates._Res(dt.date(2016, 3, 1), dt.date(2016, 3, 31), precision, "explicit")
    c = dates._Cand(start, len(text), res, kind)
    published = dt.date(2019, 5, 10) if has_published else None
    assert dates._with_prefix(text, c, published) == _with_prefix_reference(text, c, published)


def test_rstrip_strips_every_regex_space():
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    assert "".join(regex.findall(r"\s", every)).rstrip() == ""


# --- leads whose every branch opens with a literal ----------------------------------------------

def _class_first_leads():
    """The leads as first written: a trie, then branches opening with a class or a group."""
    import re

    G = dates._grammar()
    w = G.words
    units = {u: {f: frozenset(dates._key(x) for x in ws) for f, ws in forms.items()}
             for u, forms in dates.load_lexicon("date_words")["units"].items()}
    tod, ordinal, cardinal = dates._firsts(w["times_of_day"]), dates._firsts(G.ordinal_of), dates._firsts(G.cardinal_of)
    year_words = {"عام", "العام", "سنه", "السنه"}
    plural_or_dual = set().union(*(u["plural"] | u["dual"] for u in units.values()))

    def lead(words, *others):
        return re.compile("|".join([dates._trie(words), *others] if words else others))

    number = "[0-9](?<![0-9]{2})"
    day = (r"ال\s*[0-9]", number)
    return {
        "day_month": lead({"يوم"} | ordinal, *day),
        "day_range": lead((), r"(?:بين|من)\s+(?:يومي\s+)?[0-9]", number),
        "day_of_rel_month": lead(ordinal, *day),
        "month": lead({"شهر"} | dates._firsts(G.month_of)),
        "hijri_year": lead(year_words | {"13", "14"}),
        "year_range": lead({"العامين", "عامي"}, r"(?:بين|من)\s+(?:عامي|عام|العام)?\s*[0-9]"),
        "year": lead(year_words, number + "[0-9]{3}"),
        "relative_year_word": lead({"العام", "السنه", "الاسبوع", "الشهر"} | dates._firsts(w["this"])),
        "recent_unit": lead({"العام", "السنه", "الشهر", "الاسبوع"}),
        "last_n_units": lead({"ال" + u for u in plural_or_dual} | {p + c for p in ("ال", "الال") for c in cardinal},
                             r"ال\s*[0-9]", rf"ال\s+ال{dates._trie(cardinal)}", rf"\s+(?:[0-9]|ال{dates._trie(cardinal)})", number),
        "ago": lead({"قبل", "منذ"}),
        "yesterday": lead(tod | dates._firsts(w["day_before_yesterday"] | w["yesterday"] | w["last_night"])),
        "weekday": lead(tod | dates._firsts(G.weekday_of)),
    }


def _lead_positions(lead, text):
    return [i for i in range(len(text) + 1) if lead.match(text, i)]


_lead_texts = st.lists(
    st.sampled_from(sorted({w for k in ("month", "year", "last_n_units", "day_month", "yesterday") for w in
                            (dates._firsts(dates._grammar().month_of) | {"العام", "عامي", "بين", "من", "الايام", "الخمسه", "الال", "يوم", "امس"})}))
    | st.sampled_from(["ال", "ال ", "2019", "5", "12", "٣", " ", "  ", "\t", "\x1c", "\u3000", "\u00a0", "x", "و", "(", "13"]),
    max_size=10,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(_lead_texts)
def test_literal_first_leads_match_where_the_class_first_leads_match(text):
    """Each lead matches at the same positions as its first spelling (``_scan`` uses only where a lead starts)."""
    reference, leads = _class_first_leads(), dates._grammar().leads
    assert set(reference) == set(leads)
    for kind, lead in leads.items():
        assert _lead_positions(lead, text) == _lead_positions(reference[kind], text), kind


def test_literal_first_leads_every_space():
    reference, leads = _class_first_leads(), dates._grammar().leads
    spaces = "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + "\u0085"
    for c in spaces:
        for text in (f"ال{c}5", f"x,{c}{c}5 ايام", f"({c}الخمسه ايام", f"بين{c}عامي 2010", f"من{c}{c}3"):
            for kind, lead in leads.items():
                assert _lead_positions(lead, text) == _lead_positions(reference[kind], text), (kind, hex(ord(c)))


def test_words_and_marks_are_spelled_alike_below_u3000():
    """The words and marks before a figure (its context cue) are found alike by both engines."""
    from coalition_news.extract import figures
    from coalition_news.text import normalise

    chars = "".join(map(chr, range(normalise._SPELLED_BELOW)))
    fast, plain = figures._WORDS_AND_MARKS_RE, figures._WORDS_AND_MARKS
    assert fast.findall(chars) == plain.findall(chars)
    for c in chars:
        sample = f"ق{c}ل {c}1{c}x{c}{c}"
        assert fast.findall(sample, 1, 9) == plain.findall(sample, 1, 9), hex(ord(c))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["ال", " ", "  ", "\t", "\x1c", "\u00a0", "\u2003", "ات", "ين", "ا", "2", "%", "،", "x", "²", "ـ"])
                | st.sampled_from(sorted(figures._units().forms)), max_size=8))
def test_unit_pattern_is_spelled_alike_for_re(parts):
    """Below U+3000 the stdlib re spelling of the unit pattern matches as the regex one, groups included."""
    units = figures._units()
    text = "".join(parts)
    for pos in range(len(text) + 1):
        plain, fast = units.pattern.match(text, pos), units.pattern_re.match(text, pos)
        assert (plain is None) == (fast is None), (text, pos)
        if plain is not None:
            assert [plain.span(g) for g in ("art", "noun")] + [plain.span()] == [fast.span(g) for g in ("art", "noun")] + [fast.span()]


def test_unit_pattern_spaces_and_lookahead_every_character_below_u3000():
    from coalition_news.extract import figures

    units = figures._units()
    noun = next(f for f in sorted(units.forms) if " " in f)
    first, rest = noun.split(" ", 1)
    for c in map(chr, range(0x3000)):
        for text in (f"{first}{c}{rest}", f"{first}{c}{c}{rest}{c}", f"ال{noun}{c}"):
            plain, fast = units.pattern.match(text), units.pattern_re.match(text)
            assert (plain and plain.span()) == (fast and fast.span()), hex(ord(c))


def test_re_whitespace_is_every_code_point_re_calls_space():
    """``re_whitespace`` scans only below U+3001: no code point above it is ``\\s`` to re."""
    every = "".join(map(chr, range(0x110000)))
    assert dates.re_whitespace() == "".join(re.findall(r"\s", every))
    assert "\u3000" in dates.re_whitespace()


# --- cues and musts: a pattern is skipped only on a line where it cannot match ----------------------

def test_cue_tries_find_a_line_with_a_cue_word():
    """Each cue trie is found in a text exactly when one of its words is."""
    for kind, words in dates._cue_words().items():
        cue = dates._cues()[kind]
        for word in words:
            for text in (word, f"x {word} y", f"و{word}", word[:-1], f"{word[:-1]} {word[1:]}"):
                assert (cue.search(text) is not None) == any(w in text for w in words), (kind, text)


_must_texts = st.lists(
    st.sampled_from(["بين", "من", "عامي", "العامين", "عام", "و", "الي", "حتي", "-", "هـ", "ه", "للهجره", "هجريه",
                     "آذار", "مارس", "1441", "2014", "2017", "10", "15", "3", "(", "،", "/", ".", "2019-04-12"])
    | st.sampled_from([" ", "  ", "\t", "\u00a0", "\u2003", "\x1c"]),
    max_size=12,
).map("".join)


@settings(max_examples=600, deadline=None)
@given(_must_texts)
@example("بين 10 و15 آذار 2017")
@example("بين عامي 2014 و 2017")
@example("عام 1441 هـ")
@example("العامين 2014-عام  2017")
@example("12-04-2019 و3 / 4 /2016 و2019-4-3")
def test_every_match_holds_its_must(text):
    """Wherever a pattern with a must matches (on a line with no digits beyond 0-9), its must is
    found inside the match: skipping the pattern when the line lacks it loses nothing."""
    from coalition_news.text.normalise import NormalizedText

    G = dates._grammar()
    for sample in (text, NormalizedText.of(text).text):
        for kind, pattern, _ in G.patterns:
            must = dates._musts().get(kind)
            if must is None:
                continue
            for m in pattern.finditer(sample, overlapped=True):
                assert must.search(m.group()) is not None, (kind, sample, m.group())


def test_musts_apply_only_where_the_leads_do():
    """A must spells digits as [0-9]: a line with other digits scans every pattern whole."""
    from coalition_news.text.normalise import NormalizedText

    line = NormalizedText.of("بين 𝟙𝟘 و𝟙𝟝 آذار 2017").text  # mathematical digits: \\d to regex, not [0-9]
    assert dates._OTHER_DIGIT.search(line)
    assert "day_range" in {c.kind for c in dates._candidates(line, None)}


def _cue_alphabet():
    w = dates._grammar().words
    words = {"العام", "السنة", "الشهر", "الأسبوع", "الأيام", "أيام", "الخمسة", "5", "قبل", "منذ", "سنوات", "العاشر", "من"}
    return sorted(words | set(w["recent"]) | set(w["past"]))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_cue_alphabet()) | st.sampled_from([" ", "  ", "و", "،"]), max_size=8).map("".join))
@example("في السنة الأخيرة")
@example("خلال الأيام الخمسة الأخيرة")
def test_every_match_holds_a_cue_word(text):
    """Wherever a pattern with cue words matches, one of them is inside the match."""
    from coalition_news.text.normalise import NormalizedText

    norm = NormalizedText.of(text).text
    for kind, pattern, _ in dates._grammar().patterns:
        words = dates._cue_words().get(kind)
        if words:
            for m in pattern.finditer(norm, overlapped=True):
                assert any(c in m.group() for c in words), (kind, norm)
