"""Frozen dataclasses built by the thousand (lines, quotes, mentions, figures, numbers, dates,
places, events), stored at once.

The ``__init__`` that ``dataclasses`` writes for a frozen class sets each field through
``object.__setattr__`` (the class's own ``__setattr__`` refuses), one call per field: ~14,000
instructions for nine fields, against ~6,500 for one ``__dict__`` update. ``stored_at_once`` gives
the class that cheaper ``__init__``, with the same parameters, defaults and resulting instance
(tests/test_speech_fast_paths.py compares it with the ``__init__`` dataclasses writes).
"""

from __future__ import annotations

from dataclasses import MISSING, fields


def stored_at_once(cls):
    """Give a frozen dataclass an ``__init__`` that stores all its fields with one ``__dict__`` update.

    Only for fields that are plain init parameters (no ``default_factory``, ``init=False``,
    ``kw_only`` or ``__post_init__``): anything else is refused with TypeError.

    >>> from dataclasses import dataclass
    >>> @stored_at_once
    ... @dataclass(frozen=True)
    ... class Span:
    ...     start: int
    ...     end: int
    ...     text: str = ""
    >>> Span(3, 7, "داعش")
    Span(start=3, end=7, text='داعش')
    """
    params = fields(cls)
    if any(not f.init or f.kw_only or f.default_factory is not MISSING for f in params) or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: only plain fields can be stored at once")
    names = [f.name for f in params]
    namespace: dict = {}
    exec(f"def __init__(self, {', '.join(names)}):\n"  # the way dataclasses itself writes __init__
         f"    self.__dict__.update({', '.join(f'{n}={n}' for n in names)})", namespace)
    init = namespace["__init__"]
    init.__defaults__ = tuple(f.default for f in params if f.default is not MISSING) or None
    init.__annotations__ = {**{f.name: f.type for f in params}, "return": None}
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    cls.__init__ = init
    return cls
