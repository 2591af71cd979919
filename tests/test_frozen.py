"""``text.frozen.stored_at_once``: the frozen dataclasses built by the thousand get a cheaper
``__init__`` that builds exactly what the one ``dataclasses`` writes would build."""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from coalition_news import lines
from coalition_news.extract import events, figures, quotes, speakers
from coalition_news.text import dates, numbers, places
from coalition_news.text.frozen import stored_at_once

STORED_AT_ONCE = (quotes.Quote, quotes._Candidate, speakers.NounPhrase, speakers.Mention, speakers.SpeakerRef,
                  figures.Figure, numbers.NumberMatch, dates.DateMention)


def _as_dataclasses_writes_it(cls):
    """``cls`` again, with the ``__init__`` that dataclasses writes for a frozen class."""
    defaults = {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}
    return dataclasses.dataclass(frozen=True)(type(cls.__name__, (), {"__annotations__": dict(cls.__annotations__), **defaults}))


@pytest.mark.parametrize("cls", STORED_AT_ONCE, ids=lambda c: c.__name__)
def test_stored_at_once_builds_what_the_dataclass_init_builds(cls):
    assert cls.__init__.__code__.co_names == ("__dict__", "update")  # the __init__ stored_at_once writes
    plain = _as_dataclasses_writes_it(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    required = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING]
    values = [f"v{k}" for k in range(len(names))]
    for args, kwargs in ((values, {}), (values[: len(required)], {}), ([], dict(zip(names, values))),
                         (values[:1], dict(zip(names[1:len(required)], values[1:])))):
        fast, slow = cls(*args, **kwargs), plain(*args, **kwargs)
        assert list(vars(fast).items()) == list(vars(slow).items())  # same fields, same order
        assert repr(fast).split("(", 1)[1] == repr(slow).split("(", 1)[1]
        assert hash(fast) == hash(dataclasses.replace(fast)) and fast == dataclasses.replace(fast)
        assert pickle.loads(pickle.dumps(fast)) == fast
    for args, kwargs in ((values + ["extra"], {}), (values[: len(required) - 1], {}), (values, {names[0]: 1})):
        with pytest.raises(TypeError):
            cls(*args, **kwargs)
        with pytest.raises(TypeError):
            plain(*args, **kwargs)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(cls(*values), names[0], None)
    assert inspect.signature(cls) == inspect.signature(plain)


def test_stored_at_once_refuses_what_it_cannot_store():
    @dataclasses.dataclass(frozen=True)
    class WithFactory:
        xs: list = dataclasses.field(default_factory=list)

    @dataclasses.dataclass(frozen=True)
    class WithPostInit:
        x: int

        def __post_init__(self):
            pass

    for cls in (WithFactory, WithPostInit):
        with pytest.raises(TypeError):
            stored_at_once(cls)


@pytest.mark.parametrize("cls", (lines.Line, places.Place, events.Event), ids=lambda c: c.__name__)
def test_lines_places_and_events_are_stored_at_once_too(cls):
    test_stored_at_once_builds_what_the_dataclass_init_builds(cls)
