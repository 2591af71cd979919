"""Quotations: which quoted text is speech, its exact span, its reporting verb and its speaker.

The expected quotes of the five source articles were written by reading them (GOLD below); the
article facts live here, never in the extractor. Each row: line, how the quoted text starts,
reporting verb (lemma), how the speaker was found, speaker name, partial quotation or not.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coalition_news.extract.quotes import Quote, extract_speech, quote_pairs, verb_form
from coalition_news.lines import Line, article_lines
from coalition_news.text.normalise import normalize

RAW = Path(__file__).parents[1] / "raw"
CORPUS = Path(__file__).parents[2] / "shared" / "corpus"

MAROTO = "واين ماروتو"
POMPEO, SHIRKO, RUBAIE, KHALAF = "مايك بومبيو", "شيركو مير", "محمد رزاق الربيعي", "جليل خلف"
MEMBERS = "الدول الأعضاء في التحالف الدولي"
CELL, OFFICER = "خلية الإعلام الأمني الحكومية", "ضابط رفيع في الجيش العراقي"
GEDNEY = "فيلكس غيدني"

GOLD: dict[str, list[tuple[int, str, str, str, str, bool]]] = {
    "000_6380a1c75a270f68": [
        (11, "القوات العراقية أثبتت نجاحها", "قال", "explicit", MAROTO, False),
        (14, "القوات الأميركية الموجود", "أشار", "surname", MAROTO, False),
        (14, "إعادة تموضع قوات التحالف", "بين", "surname", MAROTO, False),
        (18, "الضربات الجوية التي ينفذها", "أوضح", "title", MAROTO, False),
        (18, "التحالف الدولي نفذ", "أشار", "title", MAROTO, False),
        (19, "ضربات طيران التحالف الدولي", "تابع", "resumed", MAROTO, False),
        (19, "قوات التحالف الدولي انتقلت", "أكد", "resumed", MAROTO, False),
        (20, "الغرض من هذه العمليات", "لفت", "resumed", MAROTO, False),
        (24, "عصابات داعش هزمت على الأرض", "ذكر", "surname", MAROTO, False),
        (24, "عصابات داعش منيت بهزيمة", "نوه", "surname", MAROTO, False),
        (25, "عصابات داعش تحتضر", "أكد", "resumed", MAROTO, False),
    ],
    "001_ed127326e84fb47c": [
        (7, "قبل خمس سنوات، سيطر", "قال", "explicit", MAROTO, False),
        (11, "جهاز مكافحة الإرهاب العراقي نفذ", "كشف", "surname", MAROTO, False),
        (11, "نفذوا غارة في محافظة نينوى", "كشف", "surname", MAROTO, False),
        (13, "داعش وبعض الجماعات الخارجة", "مضى", "title", MAROTO, False),
    ],
    "002_a469f832d7dd3b47": [
        (16, "الهدف الوحيد للتحالف الدولي", "قال", "resumed", MEMBERS, True),
        (18, "معركتنا ضد داعش مستمرة", "أكد", "explicit", POMPEO, False),
        (24, "علينا أن نواصل استئصال", "أضاف", "resumed", POMPEO, False),
        (28, "صحيح أن جائحة", "تابع", "surname", POMPEO, False),
        (34, "نثمن ونقدر عاليا", "قال", "explicit", SHIRKO, False),
        (36, "الخطر الإرهابي عن بلادنا", "أضاف", "resumed", SHIRKO, True),
        (38, "نحتاج للإبقاء على وتيرة", "تابع", "resumed", SHIRKO, False),
        (40, "توحيد الصفوف وترتيب البيت الداخلي", "حث", "surname", SHIRKO, True),
        (40, "عاملا أساسيا في محاربة الإرهاب", "اعتبر", "surname", SHIRKO, True),
        (48, "لا يخفى على المتتبع", "قال", "explicit", RUBAIE, False),
        (52, "نتيجة لتلك الشراكة", "تابع", "resumed", RUBAIE, False),
        (56, "استئناف داعش لعملياتها", "أكد", "resumed", RUBAIE, False),
        (64, "التحالف الدولي يمتلك قدرات", "أشار", "explicit", KHALAF, False),
        (68, "لقد حققنا مع حلفائنا", "قال", "resumed", KHALAF, False),
        (68, "جهودنا المشتركة للقضاء", "أوضح", "resumed", KHALAF, False),
        (70, "وجعلها اليوم أكثر قدرة", "لفت", "surname", KHALAF, True),
        (72, "من مصلحتنا توثيق شراكتنا", "شدد", "resumed", KHALAF, False),
    ],
    "003_596b086985615e85": [
        (9, "طائرات التحالف الدولي نفذت", "قال", "explicit", CELL, False),
        (9, "الضربات أدت إلى تدمير", "بين", "explicit", CELL, False),
        (11, "تلك الضربات جاءت بتوجيه", "أوضح", "resumed", CELL, False),
        (11, "ستنشر لاحقاً النتائج", "أشار", "resumed", CELL, False),
        (15, "عمليات التنسيق والتعاون", "قال", "explicit", OFFICER, False),
        (15, "القوات العراقية تنفذ حالياً", "بين", "explicit", OFFICER, False),
        (17, "كذلك فإن التحالف يقدم", "أوضح", "title", OFFICER, False),
        (17, "التحالف الدولي يُعَدّ جزءاً", "أشار", "title", OFFICER, False),
    ],
    "004_4e84c7e255c49780": [
        (10, "انتصارا لا يصدق", "قال", "title", GEDNEY, True),
        (10, "دعم المعركة ضد داعش", "أشار", "title", GEDNEY, True),
        (12, "عددا من قادة داعش", "قال", "resumed", GEDNEY, False),
        (18, "من الواضح أن كلا الجانبين", "أضاف", "resumed", GEDNEY, False),
        (22, "مجرد هراء وافتراءات", "قال", "title", GEDNEY, True),
        (26, "يتحركون بحرية ومن دون عقاب", "أكد", "resumed", GEDNEY, True),
        (26, "التحالف والقوات الشريكة", "أكد", "resumed", GEDNEY, False),
        (28, "سنستمر في دعم قوات سورية", "أردف", "resumed", GEDNEY, False),
    ],
}

# Quoted names and scare quotes that must NOT be quotations: (article, line, quoted text).
NOT_QUOTES = [
    ("001_ed127326e84fb47c", 7, "العزم الصلب"),
    ("001_ed127326e84fb47c", 13, "العزم الصلب"),
    ("002_a469f832d7dd3b47", 12, "الدولة الإسلامية"),
    ("003_596b086985615e85", 1, "داعش"),
    ("003_596b086985615e85", 15, "العربي الجديد"),
    ("003_596b086985615e85", 19, "تحالف الفتح"),
    ("003_596b086985615e85", 19, "الحشد الشعبي"),
    ("004_4e84c7e255c49780", 10, "راديو سوا"),
    ("004_4e84c7e255c49780", 14, "بشكل كامل"),
]


def _article(article_id: str) -> list[Line]:
    return article_lines(article_id, (RAW / f"{article_id}.txt").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def extracted() -> dict[str, tuple[list[Quote], list]]:
    return {aid: extract_speech(_article(aid)) for aid in GOLD}


def _matches(q: Quote, line: int, start: str) -> bool:
    return q.line == line and q.text.startswith(start)


@pytest.mark.parametrize("article_id", sorted(GOLD))
def test_the_quotes_of_each_source_article(extracted, article_id):
    quotes, _ = extracted[article_id]
    got = [(q.line, q.reporting_verb, q.attribution, q.speaker.name if q.speaker else None, q.is_partial)
           for q in quotes]
    want = [(line, verb, attribution, speaker, partial) for line, _, verb, attribution, speaker, partial in GOLD[article_id]]
    assert got == want
    for q, (line, start, *_rest) in zip(quotes, GOLD[article_id]):
        assert _matches(q, line, start), (q.line, q.text[:40])


@pytest.mark.parametrize("article_id", sorted(GOLD))
def test_every_span_is_verbatim_and_excludes_the_marks(extracted, article_id):
    lines = {ln.line: ln.text for ln in _article(article_id)}
    quotes, mentions = extracted[article_id]
    for q in quotes:
        assert lines[q.line][q.start:q.end] == q.text
        assert q.text == q.text.strip() and q.text[0] not in "\"«“" and q.text[-1] not in "\"»”"
        assert lines[q.line][q.start - 1] in "\"«“" or lines[q.line][:q.start].rstrip()[-1] in "\"«“"
    for m in mentions:
        assert lines[m.line][m.start:m.end] == m.text


@pytest.mark.parametrize("article_id,line,text", NOT_QUOTES)
def test_quoted_names_and_scare_quotes_are_not_quotations(extracted, article_id, line, text):
    quotes, _ = extracted[article_id]
    assert not [q for q in quotes if q.line == line and q.text == text]


def test_a_stray_final_mark_does_not_swallow_the_reporting_clause(extracted):
    quotes, _ = extracted["000_6380a1c75a270f68"]
    line11 = [q for q in quotes if q.line == 11]
    assert len(line11) == 1
    assert "لافتاً" not in line11[0].text and line11[0].text.endswith("فخور بهذه النجاح")


def test_a_quote_right_after_a_parenthesis_is_found(extracted):
    quotes, _ = extracted["001_ed127326e84fb47c"]
    assert quotes[0].text.startswith("قبل خمس سنوات") and quotes[0].text.endswith("بحلول 2019")


def test_quality_on_the_five_articles(extracted):
    """Precision and recall of quotations, and the share attributed correctly (speaker and
    attribution), against GOLD. The figures are printed for the report (pytest -s)."""
    tp = fp = fn = correct = 0
    for aid, gold in GOLD.items():
        quotes, _ = extracted[aid]
        unmatched = list(quotes)
        for line, start, verb, attribution, speaker, _ in gold:
            hit = next((q for q in unmatched if _matches(q, line, start)), None)
            if hit is None:
                fn += 1
                continue
            unmatched.remove(hit)
            tp += 1
            correct += hit.speaker is not None and hit.speaker.name == speaker and hit.attribution == attribution
        fp += len(unmatched)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    print(f"\nquotes: precision {precision:.3f} recall {recall:.3f} attributed correctly {correct / (tp + fn):.3f} "
          f"(gold {tp + fn}, found {tp + fp})")
    assert precision == 1.0 and recall == 1.0 and correct == tp + fn


# --- quotation marks and classification, on small examples ---------------------------------

def _one_line(text: str, article_id: str = "t") -> tuple[list[Quote], list]:
    return extract_speech([Line(article_id, 1, 0, len(text), text, "body")])


def test_guillemets_and_curly_quotes_are_quotations():
    quotes, _ = _one_line("وقال المتحدث باسم الوزارة العميد يحيى رسول إن «طيران التحالف الدولي نفذ ضربة جوية نوعية»")
    assert [(q.text, q.quote_mark, q.speaker.name) for q in quotes] == [("طيران التحالف الدولي نفذ ضربة جوية نوعية", "«", "يحيى رسول")]
    quotes, _ = _one_line("وأضاف الوزير: “نحن مستعدون للبقاء حتى الهزيمة النهائية”، مشيرا إلى أن ‘المهمة لم تتغير بعد’.")
    assert [(q.text, q.quote_mark, q.reporting_verb) for q in quotes] == [
        ("نحن مستعدون للبقاء حتى الهزيمة النهائية", "“", "أضاف"), ("المهمة لم تتغير بعد", "‘", "أشار")]


def test_swapped_guillemets_of_right_to_left_typesetting():
    quotes, _ = _one_line("وقال الضابط إن »القوات تتقدم من ثلاثة محاور نحو المدينة« مساء الأحد.")
    assert [q.text for q in quotes] == ["القوات تتقدم من ثلاثة محاور نحو المدينة"]


def test_a_name_quoted_inside_a_quotation_with_the_same_marks():
    text = 'وأكدت "نحن مستعدون للبقاء حتى الهزيمة النهائية لتنظيم "الدولة الإسلامية"، وسنبقى مركزين على ذلك".'
    quotes, _ = _one_line(text)
    assert [q.text for q in quotes] == [text[text.index("نحن"):text.rindex('"')]]


def test_short_quotes_are_speech_only_when_a_verb_or_colon_introduces_them():
    quotes, _ = _one_line("وعندما سئل تونر عن الهجوم، أجاب: «لا».")
    assert [q.text for q in quotes] == ["لا"]
    quotes, _ = _one_line('وأعلن رئيس الوزراء سيطرة قوات بلاده "بشكل كامل" على الحدود.')
    assert quotes == []


@pytest.mark.parametrize("text", [
    'قدم "تحالف الفتح" طلبا رسميا إلى وزارة الخارجية',
    'وقال مبيناً لـ"العربي الجديد" إن الوضع مستقر',
    'ضد تنظيم "الدولة الإسلامية في العراق والشام" في سوريا',
    'وذكرت صحيفة «القدس العربي» نقلا عن مصادرها',
])
def test_names_in_quotation_marks(text):
    assert _one_line(text)[0] == []


def test_quote_pairs_leave_a_final_stray_mark_unpaired():
    s = 'إن "القوات أثبتت نجاحها "، لافتاً إلى أن مهمة التحالف هي الاستقرار".'
    first = s.index('"')
    assert quote_pairs(s) == [(first, s.index('"', first + 1))]


@pytest.mark.parametrize("word,lemma,gender,participle", [
    ("وقالت", "قال", "f", False), ("مبينة", "بين", "f", True), ("مشيراً", "أشار", "m", True),
    ("وشددوا", "شدد", "pl", False), ("قالوا", "قال", "pl", False), ("منوها", "نوه", "m", True),
    ("وأردف", "أردف", "m", False), ("قائلاً", "قال", "m", True), ("لافتاً", "لفت", "m", True),
])
def test_reporting_verb_forms(word, lemma, gender, participle):
    form = verb_form(normalize(word))
    assert (form.lemma, form.gender, form.participle) == (lemma, gender, participle)


@pytest.mark.parametrize("word", ["بين", "رأي", "طالب", "القول"])
def test_words_that_only_look_like_reporting_verbs(word):
    assert verb_form(normalize(word)) is None


# --- every article of the shared corpus ----------------------------------------------------

def _corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(CORPUS.glob("*.txt"))


def test_corpus_runs_with_exact_spans_and_finds_guillemet_quotes():
    files = _corpus_files()
    if not files:
        pytest.skip("../shared/corpus is not available")
    marks = set()
    for path in files:
        text = path.read_text(encoding="utf-8")
        lines = article_lines(path.stem, text)
        by_no = {ln.line: ln.text for ln in lines}
        quotes, mentions = extract_speech(lines)
        for q in quotes:
            assert by_no[q.line][q.start:q.end] == q.text and q.text.strip()
            marks.add(q.quote_mark)
        for m in mentions:
            assert by_no[m.line][m.start:m.end] == m.text
        if "«" in text and "»" in text:
            assert any(q.quote_mark in "«»" for q in quotes), path.name
    assert {'"', "«"} <= marks


# --- any text at all: no exception, every span verbatim --------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PIECES = st.sampled_from([
    "وقال", "وأضاف", "مشيراً", "إن", "أن", "المتحدث", "باسم", "التحالف", "العقید", "واین", "ماروتو", "الضابط",
    "تنظيم", "لـ", "عملية", "في", "،", ":", ".", " ", '"', "«", "»", "“", "”", "‘", "’", "(", ")", "ـ", "َّ",
    "\u00a0", "\u200f", "داعش", "قوات", "37800", "٣٧٨٠٠", "خلية", "وأوضحت", "وكان", "قد", "ويس",
])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_PIECES, max_size=40).map(" ".join), min_size=1, max_size=5))
def test_arbitrary_paragraphs_never_break_the_extractor(paragraphs):
    text = "عنوان\n\n" + "\n".join(paragraphs) + "\n"
    lines = article_lines("h", text)
    by_no = {ln.line: ln.text for ln in lines}
    quotes, mentions = extract_speech(lines)
    for q in quotes:
        assert by_no[q.line][q.start:q.end] == q.text
    for m in mentions:
        assert by_no[m.line][m.start:m.end] == m.text


@settings(max_examples=200, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join), st.data())
def test_fast_normalisation_equals_normalized_text(raw, data):
    from coalition_news.text.normalise import NormalizedText
    from conftest import ReferenceNormalized

    fast, slow = NormalizedText.of(raw), ReferenceNormalized(raw)
    assert fast.text == slow.text
    n = len(slow.text)
    start = data.draw(st.integers(0, n))
    end = data.draw(st.integers(start, n))
    assert fast.raw_span(start, end) == slow.raw_span(start, end)
    for i, raw_pos in enumerate(slow.offsets[:-1]):
        assert fast.norm_index(raw_pos) == i


# --- generalisation: three corpus articles annotated by reading them --------------------------
# Other outlets (Sky News Arabia, France 24, Asharq al-Awsat), other marks (« », ’ ‘). Speaker None:
# a journalist's question, not attributable to a named speaker.
TONER, RYAN = "مارك تونر", "شون رايان"
CORPUS_GOLD: dict[str, list[tuple[int, str, str | None, str | None]]] = {
    "antcorpus-antcorpus.multisource.data__SK-middleEast-3470-20180819": [
        (4, "سنبقى في العراق", "أكد", RYAN), (5, "لا تزال الجيوب", "تابع", RYAN),
        (6, "من أجل تطهير", "أوضح", RYAN), (7, "يجب علينا أن ننهي", "قال", RYAN),
    ],
    "antcorpus-antcorpus.multisource.data__FR-internationalNews-551-20180405": [
        (3, "هزيمة تنظيم", "أكد", "وزارة الدفاع الأمريكية البنتاغون"), (5, "هدفنا في سوريا", "قال", "داينا وايت"),
        (5, "تلك المهمة لم تتغير", "أضاف", "داينا وايت"), (7, "لطالما اعتقدنا", "قال", "كينيث ماكنزي"),
    ],
    "inparallel-SaudiNewsNet__2015-08-07_147_aawsat": [
        (3, "مزيدا من التدخل", "انتقد", "روسيا"), (4, "الآن، صارت", "قال", "جيف ديفيز"),
        (7, "بهدف العودة", "أشار", TONER), (8, "كما كنت ذكرت", "أضاف", TONER), (8, "رغم أننا نريد", "قال", TONER),
        (9, "نحاول العمل", "قال", TONER), (10, "بسبب الفساد", "أضاف", TONER), (11, "أعتقد أنه أمر", "قال", TONER),
        (12, "يظل تركيزنا", "أضاف", TONER), (13, "بسبب ضعف قوات الأسد", None, None), (13, "نحن نتحدث", "قال", TONER),
        (14, "هل تدعمون", None, None), (14, "نظل واضحين", "قال", TONER), (15, "هل الهجوم على", None, None),
        (15, "لا", "أجاب", TONER), (15, "هل ستحارب", "كرر", "الصحافي"), (15, "نعم", "أجاب", TONER),
    ],
}


def test_quality_on_annotated_corpus_articles():
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not available")
    tp = fp = fn = speaker_ok = verb_ok = 0
    for aid, gold in CORPUS_GOLD.items():
        quotes, _ = extract_speech(article_lines(aid, (CORPUS / f"{aid}.txt").read_text(encoding="utf-8")))
        unmatched = list(quotes)
        for line, start, verb, speaker in gold:
            hit = next((q for q in unmatched if q.line == line and q.text.startswith(start)), None)
            if hit is None:
                fn += 1
                continue
            unmatched.remove(hit)
            tp += 1
            speaker_ok += (hit.speaker.name if hit.speaker else None) == speaker
            verb_ok += hit.reporting_verb == verb
        fp += len(unmatched)
    n = tp + fn
    print(f"\ncorpus sample: precision {tp / (tp + fp):.3f} recall {tp / n:.3f} "
          f"speaker correct {speaker_ok / n:.3f} verb correct {verb_ok / n:.3f} (gold {n})")
    assert tp / (tp + fp) >= 0.95 and tp / n >= 0.95 and speaker_ok / n >= 0.85


def test_a_quote_given_its_speaker_equals_dataclasses_replace():
    """``_with_speaker`` spells out every field of ``Quote``: it must stay equal to ``replace``."""
    from dataclasses import replace

    from coalition_news.extract.quotes import _with_speaker
    from coalition_news.extract.speakers import SpeakerRef

    from dataclasses import fields

    q = Quote(3, 5, 9, "نعم", "قال", "explicit", None, "«", True)
    ref = SpeakerRef("سامي حداد", "person", "العقيد")
    assert _with_speaker(q, ref) == replace(q, speaker=ref)
    # a field added to Quote, even with a default, fails this count: pass it on in _with_speaker
    assert len(fields(Quote)) == len(q.__dict__) == 9


def test_words_are_counted_up_to_one_more_than_a_short_quotation():
    from coalition_news.extract.quotes import SHORT_QUOTE_WORDS, _WORDS_AND_NUMBERS, _count_words

    for text in ("", "لا", "نعم 3 مرات", "القوات تواصل تقدمها في المحور 12 الشمالي", "، . !"):
        full = len(_WORDS_AND_NUMBERS.findall(text))
        assert _count_words(text, 0, len(text)) == min(full, SHORT_QUOTE_WORDS + 1)
