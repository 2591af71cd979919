"""Normalisation for matching: letters unified, marks dropped, and every span maps back exactly."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from coalition_news.text import normalise
from coalition_news.text.normalise import NormalizedText, has_arabic, normalize, to_western_digits


def test_persian_letters_diacritics_tatweel_and_spaces():
    assert normalize("العقید  واین") == "العقيد واين"
    assert normalize("إلَّا ٣٠٠٠") == "الا 3000"
    assert normalize("قلَّ\u00a0فيها") == "قل فيها"
    assert normalize("«داعش»") == '"داعش"'
    assert normalize("مـــاروتو") == "ماروتو"


def test_digits_keep_their_length():
    assert to_western_digits("٣٧٬٨٠٠ و۳۰۰۰") == "37,800 و3000"


def test_raw_span_covers_the_marks_of_the_last_letter():
    nt = NormalizedText.of("قلَّ فيها")
    assert nt.text == "قل فيها"
    assert nt.raw_span(0, 2) == (0, 4)
    assert nt.raw[slice(*nt.raw_span(3, 7))] == "فيها"


ARABICISH = st.text(alphabet=st.sampled_from(list("قالعديیکىةأإآ ًٌَُِّْـ\u200f\u00a0«»٣0")), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.one_of(ARABICISH, st.text(max_size=40)))
def test_every_normalised_span_maps_to_a_raw_span_that_normalises_back(raw):
    nt = NormalizedText.of(raw)
    assert len(nt.offsets) == len(nt.text) + 1
    for start in range(len(nt.text)):
        for end in range(start + 1, min(len(nt.text), start + 6) + 1):
            rs, re_ = nt.raw_span(start, end)
            assert 0 <= rs < re_ <= len(raw)
            assert NormalizedText.of(raw[rs:re_]).text == nt.text[start:end]


def test_has_arabic():
    assert has_arabic("XS قال") and not has_arabic("+A -A")


@settings(max_examples=300, deadline=None)
@given(st.one_of(ARABICISH, st.text(max_size=40)), st.integers(0, 45), st.integers(0, 45))
def test_raw_span_is_the_offsets_definition(raw, start, end):
    """Spans of texts with nothing deleted take the identity shortcut; all follow the offsets."""
    nt = NormalizedText.of(raw)
    start, end = min(start, len(nt.text)), min(end, len(nt.text))
    offsets = nt.offsets
    if end <= start:
        assert nt.raw_span(start, end) == (offsets[start], offsets[start])
    else:
        raw_end = offsets[end - 1] + 1
        while raw_end < offsets[end] and raw[raw_end] in "\u0640" + "".join(map(chr, range(0x064B, 0x0660))) + "\u0670" + "".join(map(chr, range(0x06D6, 0x06EE))):
            raw_end += 1
        assert nt.raw_span(start, end) == (offsets[start], raw_end)


@given(st.text(max_size=30))
def test_has_arabic_is_the_letter_ranges(text):
    assert has_arabic(text) == any("\u0621" <= c <= "\u064a" or "\u0671" <= c <= "\u06d3" for c in text)


def test_deleted_characters_are_found_where_translate_deletes_them():
    """``_DELETED`` (stdlib re) finds exactly the characters the translation table deletes."""
    from coalition_news.text import normalise

    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    deleted = [i for i, ch in enumerate(every) if normalise.translation_table().get(ord(ch), ch) is None]
    assert [m.start() for m in normalise._DELETED.finditer(every)] == deleted


def test_per_word_memo_gives_the_function_and_forgets_at_its_limit():
    from coalition_news.text.normalise import PerWord

    calls = []
    memo = PerWord(lambda w: calls.append(w) or len(w), limit=2)
    assert list(map(memo.__getitem__, ["قال", "ان", "قال"])) == [3, 2, 3]
    assert calls == ["قال", "ان"]  # worked out once per word
    assert memo["الجيش"] == 5 and len(memo) == 1  # full: cleared before the new word is stored


# the characters the table changes, and some it keeps (letters, digits, a space, a tab, a newline)
_SOME_OF_EVERY_KIND = sorted({chr(c) for c in normalise.translation_table()} | set("قال الوزير 12 ok\t\n"))


@given(st.text(alphabet=st.sampled_from(_SOME_OF_EVERY_KIND), max_size=60))
def test_translated_equals_one_pass_of_the_table(text):
    """``translated`` replaces each changed character in turn; one ``str.translate`` is the reference:
    "قالَ «نعم»" → 'قال "نعم"'."""
    normalise.translated.cache_clear()
    assert normalise.translated(text) == text.translate(dict(normalise.translation_table()))
