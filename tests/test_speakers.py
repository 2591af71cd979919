"""Speakers: who each quotation's speaker is, how they are described, every mention of them, and
one speaker per real-world person across articles. Expectations written by reading raw/*.txt."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coalition_news.extract.quotes import extract_speech
from coalition_news.extract.speakers import (
    KINDS,
    SpeakerRef,
    _alone,
    _merged,
    merge_keyed_speakers,
    merge_speakers,
    readable,
    speaker_id,
    speaker_key,
    transliterate,
)
from coalition_news.lines import Line, article_lines

RAW = Path(__file__).parents[1] / "raw"
ARTICLES = sorted(p.stem for p in RAW.glob("*.txt"))


def _lines(article_id: str, text: str | None = None) -> list[Line]:
    if text is None:
        text = (RAW / f"{article_id}.txt").read_text(encoding="utf-8")
    return article_lines(article_id, text)


@pytest.fixture(scope="module")
def speech():
    return {aid: extract_speech(_lines(aid)) for aid in ARTICLES}


def _speakers(quotes) -> dict[str, SpeakerRef]:
    return {q.speaker.name: q.speaker for q in quotes if q.speaker is not None}


# (article, name) → (kind, title, role, affiliation)
SPEAKERS = {
    ("000_6380a1c75a270f68", "واين ماروتو"): ("person", "العقيد", "المتحدث الرسمي باسم التحالف الدولي", "التحالف الدولي"),
    ("001_ed127326e84fb47c", "واين ماروتو"): ("person", "العقيد", 'المتحدث باسم عملية "العزم الصلب"', 'عملية "العزم الصلب"'),
    ("002_a469f832d7dd3b47", "الدول الأعضاء في التحالف الدولي"): ("group", None, None, None),
    ("002_a469f832d7dd3b47", "مايك بومبيو"): ("person", None, "وزير الخارجية الأميركي", None),
    ("002_a469f832d7dd3b47", "شيركو مير"): ("person", None, "رئيس لجنة العلاقات الخارجية في البرلمان العراقي", "البرلمان العراقي"),
    ("002_a469f832d7dd3b47", "محمد رزاق الربيعي"): ("person", None, "الخبير الأمني", None),
    ("002_a469f832d7dd3b47", "جليل خلف"): ("person", "الفريق", "الفريق العسكري المتقاعد", None),
    ("003_596b086985615e85", "خلية الإعلام الأمني الحكومية"): ("organization", None, None, None),
    ("003_596b086985615e85", "ضابط رفيع في الجيش العراقي"): ("anonymous", None, "ضابط رفيع في الجيش العراقي", "الجيش العراقي"),
    ("004_4e84c7e255c49780", "فيلكس غيدني"): ("person", "الميجر جنرال", "نائب قائد التحالف الدولي ضد داعش للاستراتيجية والإسناد", None),
}


@pytest.mark.parametrize("article_id", ARTICLES)
def test_the_speakers_of_each_article(speech, article_id):
    got = {name: (r.kind, r.title, r.role, r.affiliation) for name, r in _speakers(speech[article_id][0]).items()}
    want = {name: v for (aid, name), v in SPEAKERS.items() if aid == article_id}
    assert got == want


def test_bylines_and_people_only_mentioned_are_not_speakers(speech):
    names = {n for aid in ARTICLES for n in _speakers(speech[aid][0])}
    mentioned = {m.speaker.name for aid in ARTICLES for m in speech[aid][1]}
    for person in ("خالد الطائي", "صفاء علوان", "مصطفى الكاظمي", "آمنة السلامي"):
        assert not any(person in n for n in names | mentioned)


def test_anonymous_speakers_stay_in_their_article(speech):
    officer = _speakers(speech["003_596b086985615e85"][0])["ضابط رفيع في الجيش العراقي"]
    assert officer.scope == "003_596b086985615e85"
    assert speaker_key(officer).endswith("@003_596b086985615e85")


@pytest.mark.parametrize("article_id,line,text,mention_type,speaker", [
    ("000_6380a1c75a270f68", 11, "المتحدث الرسمي باسم التحالف الدولي العقید واین ماروتو", "name", "واين ماروتو"),
    ("000_6380a1c75a270f68", 14, "ماروتو", "surname", "واين ماروتو"),
    ("000_6380a1c75a270f68", 18, "المتحدث الرسمي باسم التحالف الدولي", "description", "واين ماروتو"),
    ("000_6380a1c75a270f68", 19, "وتابع", "verb", "واين ماروتو"),
    ("001_ed127326e84fb47c", 5, "المتحدث باسم التحالف ضد داعش", "description", "واين ماروتو"),
    ("002_a469f832d7dd3b47", 16, "وقالوا", "verb", "الدول الأعضاء في التحالف الدولي"),
    ("002_a469f832d7dd3b47", 28, "بومبيو", "surname", "مايك بومبيو"),
    ("002_a469f832d7dd3b47", 40, "ويس", "surname", "شيركو مير"),
    ("002_a469f832d7dd3b47", 54, "الربيعي", "surname", "محمد رزاق الربيعي"),
    ("002_a469f832d7dd3b47", 64, "الفريق العسكري المتقاعد جليل خلف", "name", "جليل خلف"),
    ("003_596b086985615e85", 11, "وأوضحت", "verb", "خلية الإعلام الأمني الحكومية"),
    ("003_596b086985615e85", 17, "الضابط", "description", "ضابط رفيع في الجيش العراقي"),
    ("004_4e84c7e255c49780", 10, "المسؤول العسكري البريطاني", "description", "فيلكس غيدني"),
    ("004_4e84c7e255c49780", 16, "غيدني", "surname", "فيلكس غيدني"),
])
def test_mentions_with_provenance(speech, article_id, line, text, mention_type, speaker):
    mentions = speech[article_id][1]
    hits = [m for m in mentions if m.line == line and m.text == text]
    assert [(m.mention_type, m.speaker.name) for m in hits] == [(mention_type, speaker)]
    raw_line = {ln.line: ln.text for ln in _lines(article_id)}[line]
    assert raw_line[hits[0].start:hits[0].end] == text


def test_one_speaker_across_articles_however_spelled(speech):
    refs = [q.speaker for aid in ARTICLES for q in speech[aid][0] if q.speaker is not None]
    merged = merge_speakers(refs)
    maroto = [k for k, r in merged.items() if r.name == "واين ماروتو"]
    assert len(maroto) == 1  # "العقید واین ماروتو" (Persian ی) in 000 and "العقيد واين ماروتو" in 001
    assert len(merged) == 9
    assert merged[maroto[0]].title == "العقيد"


def test_merge_is_independent_of_input_order(speech):
    refs = [q.speaker for aid in ARTICLES for q in speech[aid][0] if q.speaker is not None]
    shuffled = refs[:]
    random.Random(7).shuffle(shuffled)
    assert merge_speakers(refs) == merge_speakers(shuffled) == merge_speakers(reversed(refs))


# Refs that share keys in every way the merge has to settle: spellings, titles, roles with and
# without affiliations, kinds, transliteration, Wikidata ids, and unnamed speakers scoped to an article.
SPEAKER_REFS = st.builds(
    SpeakerRef,
    name=st.sampled_from(["سامي حداد", "سامی حداد", "سامي  حداد", "وزارة الدفاع", "ضابط رفيع"]),
    kind=st.sampled_from(KINDS),
    title=st.sampled_from([None, "العقيد", "الميجر جنرال"]),
    role=st.sampled_from([None, "", "المتحدث باسم وزارة الدفاع", "ضابط في الشرطة", "المتحدث"]),
    affiliation=st.sampled_from([None, "", "وزارة الدفاع", "الشرطة", "التحالف الدولي"]),
    name_latin=st.sampled_from([None, "Sami Hdad"]),
    wikidata_id=st.sampled_from([None, "Q1", "Q22"]),
    scope=st.sampled_from([None, None, "001_a", "002_b"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(SPEAKER_REFS, st.integers(min_value=0, max_value=3)), max_size=30))
def test_merging_batches_then_their_merges_equals_merging_all(refs_and_batches):
    """A batched build merges each batch's refs, then the batches' merged refs (pipeline)."""
    refs = [ref for ref, _ in refs_and_batches]
    batches = [[ref for ref, b in refs_and_batches if b == batch] for batch in range(4)]
    in_two_steps = merge_speakers(ref for batch in batches for ref in merge_speakers(batch).values())
    assert in_two_steps == merge_speakers(refs)
    keyed = [pair for batch in batches for pair in merge_speakers(batch).items()]  # as blocks keep them
    assert merge_keyed_speakers(keyed) == merge_speakers(refs)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(SPEAKER_REFS, st.integers(min_value=0, max_value=5)), max_size=40),
       st.integers(min_value=1, max_value=6))
def test_folding_the_blocks_merges_as_they_come_equals_merging_all(refs_and_blocks, frame_rows):
    """A build folds each block's merged refs into the speakers seen so far (``tables.SpeakerFold``):
    merges of merges, block after block, give the speakers of one merge of every ref, and the
    table read back from the fold a few rows at a time is the table of that merge."""
    import pandas as pd

    from coalition_news.tables import SpeakerFold, frame, speaker_rows

    refs = [ref for ref, _ in refs_and_blocks]
    fold = SpeakerFold()
    for block in range(6):
        fold.add(merge_speakers([ref for ref, b in refs_and_blocks if b == block]).items())
    assert fold.refs == merge_speakers(refs) and len(fold) == len(merge_speakers(refs))
    parts = list(fold.frames(frame_rows))
    assert all(len(part) >= frame_rows for part in parts[:-1]) and (len(parts) == 1 or len(parts[-1]) > 0)
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), frame("speakers", speaker_rows(refs)))
    fold.close()


def test_a_block_naming_a_speaker_twice_is_merged_before_it_is_folded():
    """``SpeakerFold.add`` takes a block's refs merged within it; given one key twice, it merges them first."""
    from coalition_news.tables import SpeakerFold

    a = SpeakerRef("سامي حداد", "person", role="المتحدث")
    b = SpeakerRef("سامي حداد", "person", title="العقيد", role="المتحدث باسم وزارة الدفاع")
    fold = SpeakerFold()
    fold.add([(speaker_key(a), a), (speaker_key(b), b)])
    assert fold.refs == merge_speakers([a, b])


def _many_speakers(n: int, seed: int = 7) -> list[SpeakerRef]:
    """``n`` made-up people with two-word Arabic names (no source article's), a third of them with a role."""
    letters = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
    rng = random.Random(seed)
    word = lambda: "".join(rng.choice(letters) for _ in range(rng.randint(3, 7)))  # noqa: E731
    return [SpeakerRef(f"{word()} {word()}", "person", role=f"المتحدث باسم {word()}" if i % 3 == 0 else None)
            for i in range(n)]


def test_the_fold_holds_its_speakers_on_disk_not_in_memory():
    """The fold keeps its speakers in a temporary SQLite database: adding 20,000 speakers, block
    by block, leaves almost nothing held by Python (7 KB; the fold of dataclasses it replaced held
    6.9 MB here), and the table comes back a frame at a time."""
    import gc
    import tracemalloc

    from coalition_news.extract import forget_text_memos
    from coalition_news.tables import SpeakerFold

    blocks = [list(merge_speakers(_many_speakers(2_000, seed)).items()) for seed in range(10)]
    fold = SpeakerFold()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        n_speakers = len({key for block in blocks for key, _ in block})
        while blocks:  # each block let go once folded, as a build does (with the UTF-8 copies SQLite made of its texts)
            fold.add(blocks.pop())
            forget_text_memos()  # as a build does after each block: ``speaker_id``'s cache
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(fold) == n_speakers > 19_000
    assert held < 256 * 1024, f"the fold holds {held:,} bytes of Python objects"
    sizes = [len(part) for part in fold.frames(5_000)]
    assert sum(sizes) == len(fold) and len(sizes) >= 4
    fold.close()


def test_speakers_whose_ids_collide_share_a_frame_and_are_reported(monkeypatch):
    """Two keys whose ``speaker_id`` collide (12 hex digits of SHA-256): the fold reads them back
    in one frame, however small the frames, and the key checks name the repeated id."""
    from coalition_news import tables
    from coalition_news.validate import BlockChecks

    refs = _many_speakers(40)
    keys = sorted(speaker_key(r) for r in refs)
    colliding = {keys[10], keys[30]}
    monkeypatch.setattr(tables, "speaker_id", lambda key: "sp_000000000000" if key in colliding else speaker_id(key))
    fold = tables.SpeakerFold()
    fold.add(merge_speakers(refs).items())
    checks = BlockChecks()
    parts = list(fold.frames(1))
    assert [len(p) for p in parts].count(2) == 1 and len(parts) == 39
    for part in parts:
        checks.add({"speakers": part})
    problems = checks.problems()
    assert len(problems) == 2 and all("speaker_id: field_uniqueness failed for 'sp_000000000000'" in p for p in problems), problems
    fold.close()


@settings(max_examples=300, deadline=None)
@given(SPEAKER_REFS)
def test_a_speaker_named_once_is_merged_as_a_group_of_one(ref):
    """``merge_speakers`` takes a shortcut for a key with one ref (most speakers): the same ref."""
    assert _alone(ref) == _merged([ref])
    assert merge_speakers([ref]) == {speaker_key(ref): _merged([ref])}


@pytest.mark.parametrize("a,b", [
    (SpeakerRef("واین ماروتو", "person"), SpeakerRef("واين ماروتو", "person")),
    (SpeakerRef("العقيد واين ماروتو", "person"), SpeakerRef("واين ماروتو", "person")),
    (SpeakerRef("مايك بومبيـو", "person"), SpeakerRef("مايك بومبيو", "person")),
    (SpeakerRef("أحمد إبراهيم", "person"), SpeakerRef("احمد ابراهيم", "person")),
])
def test_speaker_key_sees_through_spelling(a, b):
    assert speaker_key(a) == speaker_key(b)
    assert speaker_id(speaker_key(a)) == speaker_id(speaker_key(b))


def test_speaker_id_is_stable_and_content_derived():
    key = speaker_key(SpeakerRef("واين ماروتو", "person"))
    assert speaker_id(key) == speaker_id(key) and speaker_id(key).startswith("sp_") and len(speaker_id(key)) == 15
    assert speaker_id(key) != speaker_id(speaker_key(SpeakerRef("مايك بومبيو", "person")))


def test_authority_file_only_enriches_a_named_speaker(speech):
    pompeo = _speakers(speech["002_a469f832d7dd3b47"][0])["مايك بومبيو"]
    assert pompeo.wikidata_id == "Q473239"
    others = [r for aid in ARTICLES for r in _speakers(speech[aid][0]).values() if r.name != "مايك بومبيو"]
    assert all(r.wikidata_id is None for r in others)


def test_readable_names_and_transliteration(speech):
    maroto = _speakers(speech["000_6380a1c75a270f68"][0])["واين ماروتو"]
    assert maroto.name == readable("واین ماروتو") == "واين ماروتو"
    assert maroto.name_latin == transliterate("واين ماروتو") == "Wayn Marutu"
    assert transliterate("مايك بومبيو") == "Mayk Bumbiu"


# --- perturbation: the output follows the text, not a memory of it -------------------------

def test_renaming_a_speaker_and_changing_a_rank_changes_the_output():
    aid = "000_6380a1c75a270f68"
    text = (RAW / f"{aid}.txt").read_text(encoding="utf-8")
    changed = text.replace("العقید واین ماروتو", "المقدم جون سميث").replace("ماروتو", "سميث")
    quotes, mentions = extract_speech(_lines(aid, changed))
    assert len(quotes) == 11
    assert {(q.speaker.name, q.speaker.title) for q in quotes} == {("جون سميث", "المقدم")}
    assert [q.attribution for q in quotes if q.line == 14] == ["surname", "surname"]
    assert not any("ماروتو" in m.text for m in mentions)


def test_a_feminine_organisation_is_resumed_by_a_feminine_verb():
    text = ('قالت وزارة الدفاع في بيان إن "القوات نفذت عمليات واسعة في المنطقة الغربية".\n'
            'وقال الخبير العسكري أحمد سالم إن "العمليات ستستمر حتى نهاية الشهر الحالي".\n'
            'وأوضحت أن "الضربات دمرت مخازن أسلحة ومعامل للتفخيخ".\n')
    quotes, _ = extract_speech(article_lines("t", "عنوان الخبر\n\n" + text))
    assert [(q.speaker.name, q.attribution) for q in quotes] == [
        ("وزارة الدفاع", "explicit"), ("أحمد سالم", "explicit"), ("وزارة الدفاع", "resumed")]


def test_a_caption_between_paragraphs_does_not_break_the_chain():
    text = ('عنوان الخبر\n\n'
            'وقال المتحدث باسم القيادة العميد سعد معن إن "القوات الأمنية تواصل تطهير المناطق المحررة".\n'
            'جنود عراقيون في الموصل [حقوق الصورة لوزارة الدفاع]\n'
            'وأضاف أن "العمليات مستمرة حتى القضاء على آخر خلية إرهابية".\n')
    lines = article_lines("t", text)
    assert [ln.kind for ln in lines][2] == "caption"
    quotes, _ = extract_speech(lines)
    assert [(q.speaker.name, q.attribution) for q in quotes] == [("سعد معن", "explicit"), ("سعد معن", "resumed")]


# --- constructions seen in other outlets (small examples written for the rule) -------------

def _speech(*paragraphs: str):
    return extract_speech(article_lines("t", "عنوان الخبر\n\n" + "\n".join(paragraphs) + "\n"))


def test_an_indefinite_rank_without_a_name_is_an_anonymous_source():
    quotes, _ = _speech('وقال عقيد في شرطة محافظة الأنبار طلب عدم كشف هويته إن "المقبرة الجماعية تضم نحو 400 جثة".')
    assert [(q.reporting_verb, q.speaker.kind, q.speaker.name) for q in quotes] == [
        ("قال", "anonymous", "عقيد في شرطة محافظة الأنبار")]


def test_a_family_name_with_the_article_before_a_role_in_apposition():
    quotes, _ = _speech('وقال لؤي المقداد، رئيس مركز «مسارات» للدراسات، إن «التحالف لا ينسق مع النظام في أي غارة».')
    assert [(q.speaker.name, q.speaker.role) for q in quotes] == [("لؤي المقداد", "رئيس مركز «مسارات» للدراسات")]


def test_a_name_then_its_role():
    quotes, _ = _speech('قال جيف ديفيز، متحدث باسم البنتاغون: «الآن، صارت قوات التحالف أقرب إلى الأهداف».')
    assert [(q.speaker.name, q.speaker.role, q.speaker.affiliation) for q in quotes] == [
        ("جيف ديفيز", "متحدث باسم البنتاغون", "البنتاغون")]


def test_a_statement_speaks_for_its_issuer():
    quotes, _ = _speech('قالت المتحدثة باسم الخارجية هيذر نويرت: "سنواصل دعم شركائنا في المنطقة".',
                        'وأضاف البيان: "سنعمل مع حلفائنا من أجل تأمين الحدود ضد التنظيم".')
    assert [(q.speaker.name, q.attribution) for q in quotes] == [("هيذر نويرت", "explicit"), ("هيذر نويرت", "resumed")]


def test_a_subject_before_the_verb_with_kana():
    quotes, _ = _speech('وقال المتحدث باسم البنتاغون، القائد شون روبرتسون، إن "ليس لدينا أي معلومات تدعم هذا العدد".',
                        'وأعاد الرئيس الروسي فلاديمير بوتين تصريحاته أمس.',
                        'وكان بوتين قد قال في وقت سابق: "لا يزال ممثلو داعش في عدة مناطق من المنطقة".')
    assert [(q.speaker.name, q.attribution) for q in quotes] == [("شون روبرتسون", "explicit"), ("فلاديمير بوتين", "surname")]
    assert quotes[0].speaker.role == "المتحدث باسم البنتاغون"


def test_merged_role_and_affiliation_come_from_the_same_description(speech):
    refs = [q.speaker for aid in ARTICLES for q in speech[aid][0] if q.speaker is not None]
    maroto = next(r for r in merge_speakers(refs).values() if r.name == "واين ماروتو")
    assert (maroto.role, maroto.affiliation) == ("المتحدث الرسمي باسم التحالف الدولي", "التحالف الدولي")


def test_a_name_before_its_office_and_an_office_in_the_genitive():
    quotes, _ = _speech('وعبر بريت ماكغورك المبعوث الخاص للرئيس الأميركي دونالد ترامب عن عزم التحالف.',
                        'وقال في مؤتمر صحافي "نحن عازمون على الانتصار سريعا على التنظيم".')
    assert [(q.speaker.name, q.speaker.role, q.attribution) for q in quotes] == [
        ("بريت ماكغورك", "المبعوث الخاص للرئيس الأميركي", "resumed")]


def test_a_surname_with_a_rank_and_a_compound_name_written_joined():
    quotes, _ = _speech('وقال مدير المرصد رامي عبد الرحمن إن "الضربات دمرت جسرين رئيسيين في المحافظة".',
                        'وقال عبدالرحمن إن "هذه الضربات لا تقطع الطريق على التنظيم نحو العراق".',
                        'وقال المتحدث باسم البنتاغون، القائد شون روبرتسون، إن "ليس لدينا أي معلومات جديدة".',
                        'وقال القائد روبرتسون "على العكس، حرر التحالف أكثر من مساحة الأرض".')
    assert [(q.speaker.name, q.attribution) for q in quotes] == [
        ("رامي عبد الرحمن", "explicit"), ("رامي عبد الرحمن", "surname"),
        ("شون روبرتسون", "explicit"), ("شون روبرتسون", "surname")]


@settings(max_examples=100, deadline=None)
@given(st.lists(SPEAKER_REFS, max_size=30))
def test_the_speakers_table_made_column_by_column_is_the_table_of_its_rows(refs):
    """``tables.speakers_frame`` (no dict a speaker) equals ``frame`` of ``keyed_speaker_rows``."""
    import pandas as pd

    from coalition_news.extract.speakers import keyed_speakers
    from coalition_news.tables import frame, keyed_speaker_rows, speakers_frame

    keyed = list(keyed_speakers(refs))
    pd.testing.assert_frame_equal(speakers_frame(keyed), frame("speakers", keyed_speaker_rows(keyed)))
