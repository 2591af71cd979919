"""The release's CSV text, formatted column by column in Arrow instead of cell by cell in Python.

``csv_chunks(df)`` yields, and ``csv_bytes(df)`` returns, exactly the bytes of ``df.to_csv(index=False,
lineterminator="\\n", date_format="%Y-%m-%d", quoting=csv.QUOTE_MINIMAL)``. pandas formats each cell
with Python's csv module and holds the GIL throughout; Arrow's string kernels do it a column at a
time, 3–5× faster on the 10k-article tables (docs/performance.md). The rules reproduced, by type:

- text: as is; quoted (``"…"``, inner ``"`` doubled) when it holds a comma, a double quote or an LF
  — exactly the characters Python's csv writer quotes (delimiter, quote character, line terminator);
- integer: decimal digits; number: numpy's shortest round-trip repr (``1.5``, ``1e+16``), as pandas
  writes floats when no ``float_format`` is given; boolean: ``True`` / ``False``; date: ``YYYY-MM-DD``;
- a missing value of any type: the empty string.

``csv_chunks`` returns None for what it does not reproduce — a table of one column (its lone empty
field is written ``""``), a column of any other dtype — and the caller
uses pandas. tests/test_csvtext.py compares the bytes with pandas' on the release and on generated
frames.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

CHUNK_ROWS = 100_000  # rows formatted at a time: bounds the memory of the text

# Python's csv writer (QUOTE_MINIMAL, lineterminator "\n") quotes a field holding one of these.
_NEEDS_QUOTES = r'[,"\n]'


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())


_EMPTY = _text("")


def _quoted(cells: pa.Array) -> pa.Array:
    """A comma, a quote or a newline puts the cell in quotes: ``قال "نعم" أمس`` → ``"قال ""نعم"" أمس"``."""
    needs = pc.match_substring_regex(cells, _NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return cells
    wrapped = pc.binary_join_element_wise(_text('"'), pc.replace_substring(cells, '"', '""'), _text('"'), _EMPTY)
    return pc.if_else(needs, wrapped, cells)


def _handled(series: pd.Series) -> bool:
    """Whether ``_cells`` formats this column exactly as pandas does."""
    dtype = series.dtype
    # datetime64[ns] spans the years 1677–2262: every year has four digits, as pandas writes it
    return isinstance(dtype, (pd.StringDtype, pd.Int64Dtype, pd.BooleanDtype)) or dtype in (np.float64, "datetime64[ns]")


def _cells(series: pd.Series) -> pa.Array:
    """One column as CSV cells: large_string, no nulls."""
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        return _quoted(pc.fill_null(pa.array(series, type=pa.large_string(), from_pandas=True), _EMPTY))
    if isinstance(dtype, pd.Int64Dtype):
        return pc.fill_null(pc.cast(pa.array(series, type=pa.int64(), from_pandas=True), pa.large_string()), _EMPTY)
    if isinstance(dtype, pd.BooleanDtype):
        flags = pa.array(series, type=pa.bool_(), from_pandas=True)
        return pc.fill_null(pc.if_else(flags, _text("True"), _text("False")), _EMPTY)
    if dtype == np.float64:
        values = series.to_numpy()
        text = values.astype(str).astype(object)  # numpy's shortest repr per value, as pandas writes floats
        text[np.isnan(values)] = ""
        return pa.array(text, type=pa.large_string())
    days = pa.array(series, type=pa.timestamp("ns"), from_pandas=True).cast(pa.date32())
    return pc.fill_null(pc.cast(days, pa.large_string()), _EMPTY)


def csv_chunks(df: pd.DataFrame, rows: int = CHUNK_ROWS) -> Iterator[bytes] | None:
    """The CSV file of ``df`` — the header line, then ``rows`` LF-terminated lines at a time — or
    None when a column is not handled (see above). Chunks bound the memory the text takes."""
    if len(df.columns) < 2 or not all(_handled(df[name]) for name in df.columns):
        return None
    return _chunks(df, rows)


def _chunks(df: pd.DataFrame, rows: int) -> Iterator[bytes]:
    header = _quoted(pa.array([str(c) for c in df.columns], type=pa.large_string())).to_pylist()
    yield (",".join(header) + "\n").encode("utf-8")
    for start in range(0, len(df), rows):
        part = df.iloc[start:start + rows]
        lines = pc.binary_join_element_wise(*(_cells(part[name]) for name in part.columns), _text(","))
        yield _concatenated(pc.binary_join_element_wise(lines, _EMPTY, _text("\n")))  # "a,b" → "a,b\n"


def csv_bytes(df: pd.DataFrame) -> bytes | None:
    """The whole CSV file of ``df`` as bytes, or None (see ``csv_chunks``)."""
    chunks = csv_chunks(df)
    return None if chunks is None else b"".join(chunks)


def _concatenated(cells: pa.Array) -> bytes:
    """All cells' bytes end to end: a string array's value buffer, between its first and last offset."""
    cells = cells.combine_chunks() if isinstance(cells, pa.ChunkedArray) else cells
    _, offsets, data = cells.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int64, count=len(cells) + 1, offset=cells.offset * 8)
    return memoryview(data)[bounds[0]:bounds[-1]].tobytes() if data is not None else b""
