"""The Arrow CSV writer (``csvtext``) writes the bytes pandas' ``to_csv`` writes, or declines."""

from __future__ import annotations

import csv
import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coalition_news import schemas
from coalition_news.csvtext import csv_bytes, csv_chunks
from coalition_news.files import write_sealed
from coalition_news.publish import CSV_OPTIONS, write_csv
from coalition_news.schemas import ROOT


def pandas_csv(df: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    options = {k: v for k, v in CSV_OPTIONS.items() if k != "encoding"}
    df.to_csv(buffer, quoting=csv.QUOTE_MINIMAL, **options)
    return buffer.getvalue().encode("utf-8")


def release_frame(table: str) -> pd.DataFrame:
    df = pd.read_parquet(ROOT / "data" / "parquet" / f"{table}.parquet")
    return df.astype(schemas.pandas_dtypes(table))


@pytest.mark.parametrize("table", schemas.table_names())
def test_release_tables_are_written_as_pandas_writes_them(table):
    df = release_frame(table)
    expected = (ROOT / "data" / "csv" / f"{table}.csv").read_bytes()
    assert pandas_csv(df) == expected
    assert csv_bytes(df) == expected


def test_chunks_join_to_the_whole_file():
    df = release_frame("quotes")
    assert b"".join(csv_chunks(df, rows=7)) == csv_bytes(df) == pandas_csv(df)


# Text that needs quoting, or nearly: commas (Latin and Arabic), quotes of every kind, LF, spaces,
# empty strings and missing values. A CR is left out: write_csv quotes every text field then
# (publish.csv_quoting) and uses pandas.
TEXT = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from(list('قال،, "«»“”\n\t\'xy0١٢ ')), max_size=12),
    st.text(max_size=8).map(lambda s: s.replace("\r", "")),
)
INTEGER = st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1))
NUMBER = st.one_of(st.just(float("nan")), st.floats(allow_nan=False, width=64), st.sampled_from([0.1, 1e16, 1e-7, -0.0, 100.0]))
BOOLEAN = st.one_of(st.none(), st.booleans())
DATE = st.one_of(st.none(), st.dates(min_value=dt.date(1678, 1, 1), max_value=dt.date(2262, 4, 1)))


@st.composite
def frames(draw):
    n = draw(st.integers(min_value=0, max_value=6))
    columns = {
        "text": pd.array([draw(TEXT) for _ in range(n)], dtype="string"),
        "integer": pd.array([draw(INTEGER) for _ in range(n)], dtype="Int64"),
        "number": np.array([draw(NUMBER) for _ in range(n)], dtype="float64"),
        "flag": pd.array([draw(BOOLEAN) for _ in range(n)], dtype="boolean"),
        "day": pd.to_datetime(pd.Series([draw(DATE) for _ in range(n)], dtype=object)).astype("datetime64[ns]"),
        "more, text": pd.array([draw(TEXT) for _ in range(n)], dtype="string"),
    }
    order = draw(st.permutations(list(columns)))
    return pd.DataFrame({name: columns[name] for name in order})


@settings(max_examples=300, deadline=None)
@given(frames(), st.integers(min_value=1, max_value=4))
def test_generated_frames_are_written_as_pandas_writes_them(df, rows):
    chunks = csv_chunks(df, rows=rows)
    assert chunks is not None
    assert b"".join(chunks) == pandas_csv(df)


def test_declines_what_it_does_not_reproduce():
    assert csv_bytes(pd.DataFrame({"only": pd.array(["", None], dtype="string")})) is None
    assert csv_bytes(pd.DataFrame({"a": [object(), 1], "b": [1, 2]})) is None
    assert csv_bytes(pd.DataFrame({"a": [1, 2], "day": pd.array(["2016-03-15", None], dtype="date32[pyarrow]")})) is None


def test_write_csv_falls_back_to_pandas_when_a_text_cell_holds_a_cr(tmp_path):
    df = pd.DataFrame({"a": pd.array(["عنوان\rفرعي", "x"], dtype="string"), "b": pd.array([1, None], dtype="Int64")})
    write_csv("t", df, tmp_path)
    written = (tmp_path / "csv" / "t.csv").read_bytes()
    assert written.startswith(b'"a","b"\n"\xd8')  # every text field quoted, by pandas
    assert written == df.to_csv(quoting=csv.QUOTE_NONNUMERIC, index=False, lineterminator="\n").encode()


# --- a table written piece by piece (the blocks of a build, some kept from an earlier build) ------

from coalition_news.publish import CsvPiece  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(table=st.sampled_from([t for t in schemas.table_names() if t != "speakers"]),
       cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=5), kept=st.lists(st.booleans(), min_size=6, max_size=6),
       carriage_return=st.booleans())
def test_a_table_written_in_pieces_has_the_bytes_of_the_whole(tmp_path_factory, table, cuts, kept, carriage_return):
    """Pieces formatted, or copied from the lines an earlier piecewise write produced, join to the
    table's file; a CR in a piece to format sends the whole table to the quoting writer."""
    df = release_frame(table)
    if carriage_return:
        text_column = next(c for c in df.columns if isinstance(df[c].dtype, pd.StringDtype) and c != "article_id")
        df.loc[len(df) // 2, text_column] = "سطر\rثان"
    bounds = [0, *sorted(min(c, len(df)) for c in cuts), len(df)]
    frames = [df.iloc[a:b].reset_index(drop=True) for a, b in zip(bounds, bounds[1:])]
    whole, first, second = (tmp_path_factory.mktemp(name) for name in ("whole", "first", "second"))
    assert write_csv(table, df, whole) is None
    written = write_csv(table, df, first, [CsvPiece(f) for f in frames])
    expected = (whole / "csv" / f"{table}.csv").read_bytes()
    assert (first / "csv" / f"{table}.csv").read_bytes() == expected
    if written is None:  # the CR: written whole
        assert carriage_return and b'"\xd8\xb3\xd8\xb7\xd8\xb1\r' in expected
        return
    assert [p.rows for p in written] == [len(f) for f in frames] and not any(p.kept for p in written)
    lines = []
    for i, piece in enumerate(written):
        path = tmp_path_factory.mktemp("kept") / "lines.csv"
        write_sealed(path, expected[piece.start:piece.end])
        lines.append(path if kept[i % len(kept)] else None)
    again = write_csv(table, df, second, [CsvPiece(f, p) for f, p in zip(frames, lines)])
    assert [p._replace(kept=False) for p in again] == written
    assert [p.kept for p in again] == [path is not None for path in lines]
    assert (second / "csv" / f"{table}.csv").read_bytes() == expected


def test_a_kept_piece_that_is_gone_is_formatted(tmp_path):
    df = release_frame("lines")
    half = len(df) // 2
    pieces = [CsvPiece(df.iloc[:half]), CsvPiece(df.iloc[half:].reset_index(drop=True), tmp_path / "gone.csv")]
    write_csv("lines", df, tmp_path)
    assert (tmp_path / "csv" / "lines.csv").read_bytes() == (ROOT / "data" / "csv" / "lines.csv").read_bytes()
    assert write_csv("lines", df, tmp_path, pieces) is not None
    assert (tmp_path / "csv" / "lines.csv").read_bytes() == (ROOT / "data" / "csv" / "lines.csv").read_bytes()
