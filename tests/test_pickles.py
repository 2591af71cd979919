"""The per-article records pickled by their field values (``pickles``): read back equal by plain
``pickle.loads``, cheaper to write than Python's own pickling of slots dataclasses, and pickles
written the old way still read."""

from __future__ import annotations

import dataclasses
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coalition_news import pickles
from coalition_news.ingest import Article
from coalition_news.manifest import Published, SourceEntry

text = st.text(max_size=20)
optional_text = st.none() | text
published = st.builds(Published, optional_text, optional_text, optional_text, optional_text)
entries = st.builds(SourceEntry, text, text, optional_text, optional_text, published, text, optional_text,
                    st.integers(min_value=0, max_value=10**6))
articles = st.builds(Article, text, text, optional_text, text, st.integers(min_value=0, max_value=10**9), entries)


@settings(max_examples=60, deadline=None)
@given(st.lists(articles, max_size=6))
def test_articles_read_back_equal_with_plain_pickle(block):
    # e.g. an article whose text is "قال المتحدث" and whose manifest entry has no date
    back = pickle.loads(pickles.dumps(block))
    assert back == block
    assert [type(a.source.published) for a in back] == [Published] * len(block)


def test_every_field_of_the_records_is_written():
    entry = SourceEntry("001_a.txt", "ab" * 32, "الشرق الأوسط", "https://example.org/1",
                        Published("2015-03-03", "day", "manifest", None), "ar", "ملاحظة", 17)
    article = Article("001_a", "raw/001_a.txt", "نص الخبر", "ab" * 32, 15, entry)
    for record in (article, entry, entry.published):
        names = [field.name for field in dataclasses.fields(record)]
        back = pickle.loads(pickles.dumps(record))
        assert [getattr(back, name) for name in names] == [getattr(record, name) for name in names]


def test_the_records_are_written_as_their_class_called_with_their_fields():
    """Not through ``dataclasses``' per-object ``__getstate__`` (which calls ``fields()`` each time)."""
    entry = SourceEntry("001_a.txt", "ab" * 32, None, None, Published(None, None, None, None), "ar", None, 3)
    calls = []
    original = dataclasses.fields

    def counting(obj):
        calls.append(obj)
        return original(obj)

    pickles.dispatch_table()  # made once, before counting
    dataclasses.fields = counting
    try:
        pickles.dumps([entry] * 3)
        ours = len(calls)
        pickle.dumps([entry], protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        dataclasses.fields = original
    assert ours == 0
    assert len(calls) == 2  # the plain pickle's: once for the SourceEntry, once for its Published


def test_pickles_written_by_plain_pickle_still_read():
    entry = SourceEntry("002_b.txt", "cd" * 32, "الحياة", None, Published("2014-09", "month", "text", "سطر"), "ar", None, 9)
    old = pickle.dumps([entry], protocol=pickle.HIGHEST_PROTOCOL)
    assert pickle.loads(old) == pickle.loads(pickles.dumps([entry])) == [entry]


def test_other_values_pickle_as_before():
    value = ("fingerprint\nkey", {b"digest": [1, 2.5, "نص", None]})
    assert pickles.dumps(value) == pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


@pytest.mark.parametrize("cls", [Article, SourceEntry, Published])
def test_each_record_has_a_reducer(cls):
    assert cls in pickles.dispatch_table()
