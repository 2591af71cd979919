"""Enums in schemas/ and the vocabularies the extractors emit are the same lists (no silent drift)."""

from __future__ import annotations

from coalition_news import schemas
from coalition_news.extract import figures
from coalition_news.lexicon import load_lexicon
from coalition_news.lines import KINDS


def test_line_kinds():
    assert set(schemas.enum_values("lines", "kind")) == set(KINDS)


def test_figure_vocabularies():
    assert set(schemas.enum_values("figures", "qualifier")) == set(figures.QUALIFIERS)
    assert set(schemas.enum_values("figures", "value_kind")) == set(figures.VALUE_KINDS)
    assert set(schemas.enum_values("figures", "context")) == set(load_lexicon("units")["contexts"])


def test_event_types():
    from coalition_news.extract.events import EVENT_TYPES

    assert set(schemas.enum_values("events", "event_type")) == set(EVENT_TYPES)


def test_speech_vocabularies():
    from coalition_news.extract import speakers

    assert set(schemas.enum_values("speakers", "kind")) == set(speakers.KINDS)
    assert set(schemas.enum_values("quotes", "attribution")) == set(speakers.ATTRIBUTIONS)
    assert set(schemas.enum_values("speaker_mentions", "mention_type")) == set(speakers.MENTION_TYPES)
    from coalition_news.extract import quotes

    assert set(schemas.enum_values("quotes", "quote_mark")) == set(quotes.QUOTE_MARKS)
