"""The fast paths of the event extractor and the place finder give what the plain definitions give.

Each reference below is the straightforward form (a loop over characters, a scan of every word, a
``finditer`` over the whole window) that the module replaced by searches, bisection and prefilters.
"""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from coalition_news.extract import events
from coalition_news.text import normalise, places
from coalition_news.text.normalise import NormalizedText, normalize

# letters (trigger, actor, place and complementizer material), digits, clause and sentence marks, quotes
_ALPHABET = "قتلاوفبكنيهمدصرعشجط 0123456789.,،؛:!?؟\"«»“”()-\t"
_texts = st.text(alphabet=_ALPHABET, max_size=80)
_PHRASES = ["قتل", "وأعلن", "قصف جوي", "غارة", "القوات العراقية", "داعش", "على يد مسلحين", "أن", "إنه", "قال",
            "في محافظة ديالى", "بقضاء سنجار", "جنوب", "«العزم الصلب»", "ضد", "التحالف الدولي", "، ", ". ", "\"", " "]
_phrased = st.lists(st.sampled_from(_PHRASES) | _texts, max_size=12).map(" ".join)


def _norm(text: str) -> str:
    return NormalizedText.of(text).text


# --- references ---------------------------------------------------------------------------------

def _clause_reference(text, start, end, lo, hi):
    names = [m.span() for m in events._QUOTED_NAME.finditer(text) if len(m.group().split()) <= 4]
    inside_name = lambda i: any(a <= i < b for a, b in names)  # noqa: E731
    a = start
    while a > lo and text[a - 1] == " ":
        a -= 1
    if a > lo and text[a - 1] in "،,":
        a -= 1
    while a > lo and (text[a - 1] not in events._CLAUSE_END or (text[a - 1] in events._QUOTES and inside_name(a - 1))):
        a -= 1
    b = end
    while b < hi and text[b] in " )":
        b += 1
    if b < hi and text[b] in "،,":
        b += 1
    while b < hi and (text[b] not in events._CLAUSE_END or (text[b] in events._QUOTES and inside_name(b))):
        b += 1
    return a, b


def _sentence_left_reference(text, start, lo):
    a = start
    while a > lo and text[a - 1] not in events._SENTENCE_END:
        a -= 1
    return a


def _sentence_right_reference(text, end, hi):
    b = end
    while b < hi and text[b] not in events._SENTENCE_END:
        b += 1
    return b


def _triggers_reference(norm):
    """Every single trigger tried at every word, every compound head against every word."""
    tax = events.taxonomy()
    words = [(m.group(), m.start(), m.end()) for m in events._WORD.finditer(norm)]
    pats = [events._patterns_of(w) for w, _, _ in words]
    any_of = [p[2] for p in pats]
    start_of = lambda i: words[i][1] + (events._forms(words[i][0])[1] if pats[i][1] and not pats[i][0] else 0)  # noqa: E731
    hits, taken = [], set()
    for i in range(len(words)):
        found = [t for t in tax.singles if t.words[0] in any_of[i]]
        for t in sorted(found, key=lambda t: (-len(t.words), tax.order[t.type])):
            n = len(t.words)
            if i + n <= len(words) and not (set(range(i, i + n)) & taken) and all(t.words[k] in any_of[i + k] for k in range(n)):
                hits.append((t.type, start_of(i), words[i + n - 1][2]))
                taken.update(range(i, i + n))
                break
    for name, heads, cues in tax.compounds:
        for i in range(len(words)):
            if not any_of[i].isdisjoint(heads):
                lo, hi = max(0, i - tax.window), min(len(words), i + tax.window + 1)
                if any(j != i and not any_of[j].isdisjoint(cues) for j in range(lo, hi)):
                    hits.append((name, start_of(i), words[i][2]))
    return hits


# --- properties ---------------------------------------------------------------------------------

@settings(max_examples=400, deadline=None)
@given(_texts | _phrased, st.integers(0, 90), st.integers(0, 90), st.integers(0, 90), st.integers(0, 90))
def test_clause_and_sentence_bounds_match_the_character_loops(text, p, q, lo, hi):
    norm = _norm(text)
    start, end = sorted((min(p, len(norm)), min(q, len(norm))))
    lo, hi = min(lo, len(norm)), min(hi, len(norm))  # lo > start and hi < end too: the loops' edge cases
    assert events._clause(norm, start, end, lo, hi) == _clause_reference(norm, start, end, lo, hi)
    assert events._sentence_left(norm, start, lo) == _sentence_left_reference(norm, start, lo)
    assert events._sentence_right(norm, end, hi) == _sentence_right_reference(norm, end, hi)


@settings(max_examples=300, deadline=None)
@given(_phrased)
def test_triggers_match_the_scan_of_every_word(text):
    norm = _norm(text)
    assert [tuple(h) for h in events._find_triggers(events._word_table(norm))] == _triggers_reference(norm)


@settings(max_examples=300, deadline=None)
@given(_texts | _phrased, st.integers(0, 90), st.integers(0, 90))
def test_word_counts_and_complementizers_match_the_scan(text, a, b):
    norm = _norm(text)
    words = events._word_table(norm)
    spans = [(m.group(), m.start(), m.end()) for m in events._WORD.finditer(norm)]
    assert list(zip(words.texts, words.starts, words.ends)) == spans
    assert words.any_of == [events._patterns_of(w)[2] for w, _, _ in spans]
    inside = [w for w, s, e in spans if a <= s and e <= b]
    assert events._words_between(words, a, b) == len(inside)
    comp = events.taxonomy().complementizers
    expected = sum(norm[a:b].count(q) for q in events._QUOTES) % 2 == 1 or any(
        events._forms(w)[0][0] in comp or (len(events._forms(w)[0]) > 1 and events._forms(w)[0][1] in comp) for w in inside)
    assert events._crosses_report(norm, words, a, b) == expected


@settings(max_examples=500, deadline=None)
@given(_texts | _phrased, st.integers(0, 90), st.integers(0, 90))
def test_actor_matches_are_the_finditer_matches(text, a, b):
    norm = _norm(text)
    a, b = min(a, len(norm)), min(b, len(norm))  # windows cutting words at either edge, and empty ones
    actor = events._actor_patterns()[0]
    fast = events._actor_matches(actor, norm, a, b, events._word_table(norm))
    assert [m.span() for m in fast] == [m.span() for m in actor.finditer(norm[a:b])]
    whole = events._actor_matches(actor, norm, 0, len(norm), events._word_table(norm))
    assert [m.span() for m in whole] == [m.span() for m in actor.finditer(norm)]


def test_actor_matches_in_every_window_of_a_few_lines():
    """Every window, so also those cutting a word into one that opens a match ("و|داعش")."""
    actor = events._actor_patterns()[0]
    for line in ("قصفت والقوات العراقية وداعش، فالتحالف الدولي", "XوداعشY لقوات الأمن بالحكومة العراقية 3"):
        norm = _norm(line)
        words = events._word_table(norm)
        for a in range(len(norm) + 1):
            for b in range(a, len(norm) + 1):
                fast = events._actor_matches(actor, norm, a, b, words)
                assert [m.span() for m in fast] == [m.span() for m in actor.finditer(norm[a:b])], (a, b)


def test_actor_openers_cover_every_name_and_head():
    openers = events._actor_openers()
    assert openers is not None
    for phrase in ("التحالف الدولي", "وداعش", "لقوات الأمن", "بالقوات العراقية", "فالحكومة العراقية"):
        assert events._actor_patterns()[0].search(normalize(phrase))
        assert events._WORD.match(normalize(phrase)).group() in openers


@settings(max_examples=300, deadline=None)
@given(_texts | _phrased)
def test_place_tokens_are_the_finditer_tokens(text):
    from coalition_news.text.normalise import match_spans

    norm = _norm(text)
    words, starts, ends = match_spans(places._TOKEN_SPLIT, norm)
    assert list(zip(words, starts, ends)) == [(m.group(), m.start(), m.end()) for m in places._TOKEN.finditer(norm)]
    reference = [k for k, w in enumerate(words) if places._may_open(w) or (k and words[k - 1] == "في")]
    assert places._openers(words) == reference


def test_spelled_out_classes_split_like_regex_below_u3000():
    """Every character below U+3000, alone and between letters, splits the same under both engines."""
    chars = "".join(map(chr, range(normalise._SPELLED_BELOW)))
    for fast, plain in ((events._WORD_SPLIT_RE, events._WORD_SPLIT), (places._TOKEN_SPLIT_RE, places._TOKEN_SPLIT)):
        assert fast.split(chars) == plain.split(chars)
        for c in chars:
            sample = f"ق{c}ل {c}1{c}"
            assert fast.split(sample) == plain.split(sample), hex(ord(c))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_ALPHABET + "\u2fff\u3000\u4e00\U0001d400²\x1c\u00a0", max_size=60) | st.text(max_size=30))
def test_fast_split_is_match_spans_of_the_regex_pattern(text):
    from coalition_news.text.normalise import match_spans

    for fast, plain in ((events._WORD_SPLIT_RE, events._WORD_SPLIT), (places._TOKEN_SPLIT_RE, places._TOKEN_SPLIT)):
        assert normalise.fast_split(plain, fast, text) == match_spans(plain, text)


_CASUALTY_PHRASES = ["مقتل", "قتل", "قتيلا", "قتلى", "مصرع", "إعدام", "إصابة", "أصيب", "جرحى", "جريحا", "مصابين", "جرحت",
                     "4", "12", "ثلاثة", "خمسة", "نحو", "أكثر من", "و", " "]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_CASUALTY_PHRASES) | _texts, max_size=10).map(" ".join))
def test_casualties_skip_number_first_patterns_only_without_their_nouns(text):
    """A number-first casualty pattern ("12 قتيلا") matches only where its noun cue is: skipping
    it in a window without one finds the same counts as scanning every pattern."""
    window = normalize(text)
    k1, k2, h1, h2 = events._casualty_patterns()
    for pattern, cues in ((k2, events._KILLED_NOUN_CUES), (h2, events._HURT_NOUN_CUES)):
        if pattern.search(window):
            assert any(c in window for c in cues)
    assert events._casualties(window) == _casualties_reference(window)


def _casualties_reference(window: str) -> tuple[int | None, int | None]:
    """Every pattern scanned: the earliest match with a count, killed then injured."""
    k1, k2, h1, h2 = events._casualty_patterns()

    def first(*patterns):
        found = sorted((m for p in patterns for m in p.finditer(window)), key=lambda m: m.start())
        return next((v for m in found if (v := events._parse_count(m.group("n"))) is not None), None)

    return first(k1, k2), first(h1, h2)


@settings(max_examples=300, deadline=None)
@given(_texts | _phrased, st.integers(0, 90))
def test_places_starting_before_a_limit_are_those_of_the_whole_line(text, limit):
    """The scan stopped at ``limit`` finds the first places of the whole line, all that start before it."""
    nt = NormalizedText.of(text)
    whole = places.find_places(text)
    first = places.places_starting_before(text, limit)
    assert first == whole[:len(first)]
    assert all(nt.norm_index(p.start) >= limit for p in whole[len(first):])
    assert places.places_starting_before(text, None) == whole


def test_number_words_count_as_the_parser_says():
    """The table of number-word counts gives what parsing each word gives."""
    for word in events._number_words():
        assert events._parse_count(word) == events._parse_count_word(word)
    assert events._parse_count("1,200") == 1200 and events._parse_count("مدينة") is None


def _actors_reference(text, a, b, anchor, words):
    """Every actor match and every target test worked out, as the rules say."""
    actor, by_hand, against = events._actor_patterns()
    found = [(a + m.start("a"), a + m.end("a")) for m in actor.finditer(text[a:b])]
    is_target = lambda sp: bool(against.search(text[max(a, sp[0] - 25): sp[0]]))  # noqa: E731
    m = by_hand.search(text[a:b])
    first = (a + m.start("a"), a + m.end("a")) if m else None
    if first is None:
        after = [sp for sp in found if sp[0] >= anchor[1] and len(text[anchor[1]:sp[0]].split()) <= 3 and not is_target(sp)]
        before = [sp for sp in found if sp[1] <= anchor[0] and not is_target(sp)]
        first = after[0] if after else before[0] if before else None
    target = next((sp for sp in found if sp[0] >= anchor[1] and is_target(sp) and sp != first), None)
    return first, target


_ACTOR_PHRASES = _PHRASES + ["على يد", "علي يد قوات", "استهدفت", "ضد داعش", "على", "نفذت طائرات التحالف", "الجيش العراقي"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_ACTOR_PHRASES) | _texts, max_size=12).map(" ".join),
       st.integers(0, 90), st.integers(0, 90), st.integers(0, 90))
def test_actors_are_those_of_the_rules(text, a, b, t):
    norm = _norm(text)
    a, b = sorted((min(a, len(norm)), min(b, len(norm))))
    t = min(t, len(norm))
    anchor = (t, min(t + 3, len(norm)))
    words = events._word_table(norm)
    assert events._actors(norm, a, b, anchor, words) == _actors_reference(norm, a, b, anchor, words)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_CASUALTY_PHRASES + ["اثنتي عشرة", "١٢", "3,000", "\t", "\u00a0", "\x1c"]) | _texts,
                max_size=10).map(" ".join))
def test_casualty_patterns_for_re_match_those_for_regex(text):
    """Below U+3000 the stdlib ``re`` spelling of each casualty pattern finds the same matches."""
    window = normalize(text)
    assert normalise.spelled_below(window)
    for fast, plain in zip(events._casualty_patterns(events.re), events._casualty_patterns()):
        assert [(m.span(), m.group("n")) for m in fast.finditer(window)] == [(m.span(), m.group("n")) for m in plain.finditer(window)]
    assert events._casualties(window, True) == events._casualties(window) == _casualties_reference(window)


def _match_at_reference(words, i, table_id):
    """Every length from the longest entry down, each tried as a key."""
    table = places._tables()[table_id]
    longest = max(len(k) for k in table)
    for first, cut in [(words[i], 0)] + [(words[i][len(c):], len(c)) for c in places._CLITICS
                                         if words[i].startswith(c) and len(words[i]) > len(c) + 1]:
        for n in range(min(longest, len(words) - i), 0, -1):
            if (first, *words[i + 1: i + n]) in table:
                return n, (table[(first, *words[i + 1: i + n])], cut)
    return None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PHRASES + ["صلاح الدين", "بمحافظة صلاح الدين", "تل عفر", "ولاية", "سهل نينوى", "الموصل"])
                | _texts, max_size=12).map(" ".join))
def test_place_entries_tried_at_their_lengths_only(text):
    from coalition_news.text.normalise import match_spans

    words = match_spans(places._TOKEN_SPLIT, _norm(text))[0]
    for i in range(len(words)):
        for table_id in (places._ENTITIES, places._HEADS):
            assert places._match_at(words, i, table_id) == _match_at_reference(words, i, table_id)
