"""Foreign keys: every reference names a row of the table it refers to. The anti-join compares rows
as integers (``validate.unmatched_rows``); here it is held to the plain definition, a set of tuples."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coalition_news import schemas, validate
from coalition_news.load import load_local
from conftest import REPO

names = st.sampled_from(["001_a", "002_b", "003_c", "أحمد", ""])
numbers = st.integers(min_value=1, max_value=4)


def _reference(child: list[list], parent: list[list]) -> list[int]:
    """The plain definition: rows set in every column whose tuple is not among the parent's."""
    known = set(zip(*parent))
    return [i for i, row in enumerate(zip(*child)) if None not in row and row not in known]


@st.composite
def tables(draw):
    kinds = draw(st.lists(st.sampled_from([names, numbers]), min_size=1, max_size=3))
    n_child, n_parent = draw(st.integers(0, 12)), draw(st.integers(0, 8))
    child = [draw(st.lists(st.one_of(st.none(), kind), min_size=n_child, max_size=n_child)) for kind in kinds]
    parent = [draw(st.lists(kind, min_size=n_parent, max_size=n_parent)) for kind in kinds]
    types = [pa.string() if kind is names else pa.int64() for kind in kinds]
    return child, parent, types


@settings(max_examples=300, deadline=None)
@given(tables())
def test_unmatched_rows_is_the_anti_join_of_the_plain_definition(example):
    child, parent, types = example
    arrays = lambda columns: [pa.array(c, t) for c, t in zip(columns, types)]  # noqa: E731
    expected = _reference(child, parent)
    assert validate.unmatched_rows(arrays(child), arrays(parent)).tolist() == expected
    is_set = pa.array([None not in row for row in zip(*child)] if child[0] else [], pa.bool_()).to_numpy(zero_copy_only=False)
    assert validate._unmatched_rows_by_tuple(arrays(child), arrays(parent), is_set).tolist() == expected


def test_string_and_large_string_columns_compare_by_value():
    child = [pa.array(["a", "b"], pa.large_string())]
    assert validate.unmatched_rows(child, [pa.array(["b"], pa.string())]).tolist() == [0]


@pytest.fixture(scope="module")
def frames():
    if not (REPO / "data" / "parquet" / "quotes.parquet").is_file():
        pytest.skip("no built data/")
    return {t: load_local(t, REPO / "data") for t in schemas.table_names()}


def test_the_release_has_no_dangling_reference(frames):
    assert validate.check_foreign_keys(frames) == []


def test_a_dangling_reference_is_named_with_its_table_article_and_line(frames):
    broken = dict(frames)
    quotes = broken["quotes"] = frames["quotes"].copy()
    row = quotes.index[quotes["speaker_id"].notna()][0]
    quotes.loc[row, "speaker_id"] = "sp_nobody"
    figures = broken["figures"] = frames["figures"].copy()
    figures.loc[figures.index[0], "line"] = 10_000
    problems = validate.check_foreign_keys(broken)
    article, line = quotes.loc[row, "article_id"], quotes.loc[row, "line"]
    assert f"quotes: article {article}, line {line}: speaker_id='sp_nobody' has no match in speakers" in problems
    assert any(p.startswith(f"figures: article {figures.loc[figures.index[0], 'article_id']}, line 10000: ")
               and p.endswith("has no match in lines") for p in problems)
    assert len(problems) == 2


def test_a_null_reference_is_allowed(frames):
    broken = dict(frames)
    quotes = broken["quotes"] = frames["quotes"].copy()
    quotes["speaker_id"] = None
    quotes["speaker_id"] = quotes["speaker_id"].astype(frames["quotes"]["speaker_id"].dtype)
    assert validate.check_foreign_keys(broken) == []
