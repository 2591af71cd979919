"""Pickling the build's per-article records (``Article``, ``SourceEntry``, ``Published``) by their
field values.

Python pickles a slots dataclass through ``dataclasses``' own ``__getstate__``/``__setstate__``,
which call ``dataclasses.fields()`` for every object, both ways. A build pickles one of each per
article: the blocks waiting their turn (``pipeline.WaitingBlocks``) and the manifest's checked
entries (``derived.keep``), ~2 s of a 100,000-article build that changes nothing. Pickled as
"the class, called with its field values", they cost half as much, and read back the same objects
(docs/performance.md, "Pickling the per-article records").

The classes themselves are left as they are: their modules are part of the extractor fingerprint
(``cache``), and giving them a ``__reduce__`` would make every user extract their corpus again.
A pickle written here is read by plain ``pickle.loads``; one written before is still read.
"""

from __future__ import annotations

import copyreg
import dataclasses
import functools
import io
import operator
import pickle
from collections.abc import Callable


def _by_fields(cls: type) -> Callable[[object], tuple[type, tuple]]:
    """A reducer: ``obj`` → ``(cls, (field values…))``, which pickle calls back as ``cls(*values)``."""
    names = [field.name for field in dataclasses.fields(cls) if field.init]
    values = operator.attrgetter(*names)
    if len(names) == 1:
        return lambda obj: (cls, (values(obj),))
    return lambda obj: (cls, values(obj))


@functools.cache
def dispatch_table() -> dict:
    """``copyreg``'s reducers, and the per-article records' by their fields. Imported here, at
    first use, because ``manifest`` and ``ingest`` themselves store values through ``derived``."""
    from .ingest import Article
    from .manifest import Published, SourceEntry

    table = copyreg.dispatch_table.copy()
    table.update({cls: _by_fields(cls) for cls in (Article, SourceEntry, Published)})
    return table


def dumps(value: object) -> bytes:
    """``pickle.dumps(value, HIGHEST_PROTOCOL)``, with the per-article records by their fields."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = dispatch_table()
    pickler.dump(value)
    return buffer.getvalue()
