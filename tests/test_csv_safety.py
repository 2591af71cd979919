"""Spreadsheet safety: the CSVs keep verbatim text, even text a spreadsheet would run as a formula.

Policy (docs/robustness.md): a cell starting with = + - @ (or TAB/CR) is written exactly as the raw
text has it — no leading apostrophe, no escaping beyond RFC 4180 quoting — because the verbatim
columns must equal ``raw_text[char_start:char_end]`` byte for byte in the CSV as in the Parquet,
and frictionless validates the CSV. Opening the CSV safely is the reader's step (import as text, or
read the Parquet); the documentation says how.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coalition_news import schemas
from coalition_news.ingest import read_raw, sha256_hex
from coalition_news.manifest import Published, SourceEntry, read_manifest, write_manifest
from coalition_news.pipeline import extract_all
from coalition_news.publish import write_release
from coalition_news.tables import build_tables
from coalition_news.validate import validate_frames
from conftest import REPO

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# An article written for this test: page furniture and body lines a spreadsheet would evaluate.
FORMULA_ARTICLE = "\n".join([
    "عنوان: التحالف يعلن حصيلة الضربات",
    "+A -A",
    '=HYPERLINK("http://example.invalid/?x=1","انقر هنا")',
    "@SUM(A1:A9) قال المتحدث إن 12 ضربة نفذت",
    "-2+3 قال الوزير: «=1+1 ليست معادلة»",
    "+964 رقم الهاتف, و\"اقتباس\" بفاصلة",
    "\tسطر يبدأ بمسافة جدولة قال المتحدث إن 40 جنديا وصلوا",
    "",
]).encode()


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """This checkout's raw/ plus the formula article, through extract → tables → validate → write."""
    tmp = tmp_path_factory.mktemp("csv")
    raw = tmp / "raw"
    shutil.copytree(REPO / "raw", raw)
    name = f"005_{sha256_hex(FORMULA_ARTICLE)[:16]}.txt"
    (raw / name).write_bytes(FORMULA_ARTICLE)
    entry = SourceEntry(name, sha256_hex(FORMULA_ARTICLE), None, None, Published(None, None, None, None), "ar", None)
    write_manifest(raw, read_manifest(raw) + [entry])
    articles = read_raw(raw)
    texts = {a.article_id: a.text for a in articles}
    frames = build_tables(extract_all(articles))
    validate_frames(frames, texts)
    write_release(frames, tmp / "data")
    return tmp / "data", texts


def formula_cells(out: Path, table: str) -> list[dict]:
    """Rows of ``table``'s CSV (parsed by the csv module, as a spreadsheet would) whose verbatim
    cell starts with a formula prefix."""
    column = schemas.verbatim_column(table)
    text = (out / "csv" / f"{table}.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    return [r for r in rows if r[column].startswith(FORMULA_PREFIXES)]


def test_formula_like_cells_are_written_verbatim(release):
    out, texts = release
    found = {}
    for table in schemas.table_names():
        column = schemas.verbatim_column(table)
        if column is None:
            continue
        for row in formula_cells(out, table):
            raw = texts[row["article_id"]][int(row["char_start"]):int(row["char_end"])]
            assert row[column] == raw, (table, row)  # not "'+A -A", not escaped
            found.setdefault(table, []).append(row[column])
    lines = found.get("lines", [])
    assert "+A -A" in lines, "the seed articles' page furniture '+A -A' starts with +"
    assert '=HYPERLINK("http://example.invalid/?x=1","انقر هنا")' in lines
    assert any(t.startswith("@SUM") for t in lines) and any(t.startswith("-2+3") for t in lines)


def test_a_formula_line_is_quoted_only_as_rfc_4180_requires(release):
    out, _ = release
    data = (out / "csv" / "lines.csv").read_text(encoding="utf-8")
    assert ',"=HYPERLINK(""http://example.invalid/?x=1"",""انقر هنا"")",' in data  # quotes doubled, nothing added
    assert ",+A -A," in data and ",'+A -A," not in data


def test_the_parquet_holds_the_same_verbatim_text(release):
    out, _ = release
    for table in schemas.table_names():
        column = schemas.verbatim_column(table)
        if column is None:
            continue
        csv_cells = sorted(r[column] for r in formula_cells(out, table))
        parquet_cells = sorted(v for v in pq.read_table(out / "parquet" / f"{table}.parquet").column(column).to_pylist()
                               if v and v.startswith(FORMULA_PREFIXES))
        assert csv_cells == parquet_cells, table


def test_the_committed_release_keeps_plus_a_minus_a_verbatim():
    lines = REPO / "data" / "csv" / "lines.csv"
    if not lines.is_file():
        pytest.skip("data/ has not been built in this checkout")
    assert ",+A -A,boilerplate," in lines.read_text(encoding="utf-8")


def test_a_lone_cr_inside_a_cell_is_quoted_so_no_reader_splits_the_row(tmp_path):
    """Python's csv writer leaves a lone CR unquoted with LF line endings; readers would split there."""
    from coalition_news.extract import extract_article
    from coalition_news.ingest import Article
    from coalition_news.validate import check_written

    text = "عنوان\rفرعي\n\nقال الوزير إن 12 ضربة نفذت.\rوأضاف أن 30 جنديا وصلوا.\n"
    data = text.encode()
    name = f"005_{sha256_hex(data)[:16]}"
    entry = SourceEntry(name + ".txt", sha256_hex(data), None, None, Published(None, None, None, None), "ar", None)
    frames = build_tables([extract_article(Article(name, f"raw/{name}.txt", text, sha256_hex(data), len(data), entry))])
    write_release(frames, tmp_path / "data")
    assert check_written(tmp_path / "data") == []  # the Parquet and the CSV read back equal
    with open(tmp_path / "data" / "csv" / "lines.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["text"] for r in rows] == ["عنوان\rفرعي", "قال الوزير إن 12 ضربة نفذت.\rوأضاف أن 30 جنديا وصلوا."]


def test_tables_without_a_cr_keep_minimal_quoting(release):
    out, _ = release
    header = (out / "csv" / "lines.csv").read_text(encoding="utf-8").splitlines()[0]
    assert not header.startswith('"'), "only a table holding a CR is written with every text field quoted"


@pytest.mark.parametrize("edit", ["cell", "row", "null"])
def test_check_written_reports_a_csv_that_no_longer_matches_its_parquet(tmp_path, edit):
    """check_written reads both files back (pyarrow) and names the table and column that differ."""
    from coalition_news.validate import check_written

    shutil.copytree(REPO / "data", tmp_path / "data")
    path = tmp_path / "data" / "csv" / "figures.csv"
    header, first, *rest = path.read_text(encoding="utf-8").split("\n")
    fields = next(csv.reader([first]))
    column = header.split(",").index("text")
    if edit == "cell":
        fields[column] = fields[column] + "0"
        rows = [",".join(f'"{f}"' if "," in f else f for f in fields), *rest]
    elif edit == "row":
        rows = rest
    else:
        fields[column] = ""
        rows = [",".join(f'"{f}"' if "," in f else f for f in fields), *rest]
    path.write_text("\n".join([header, *rows]), encoding="utf-8")
    problems = check_written(tmp_path / "data")
    assert len(problems) == 1 and problems[0].startswith("figures:"), problems
    assert problems[0].endswith("differ: text") if edit != "row" else ("rows instead of" in problems[0])


@pytest.mark.parametrize("rows", [1, 3, 64, 1 << 16])
@pytest.mark.parametrize("edit", ["none", "extra row", "missing row", "cell"])
def test_parquet_and_csv_are_compared_as_streams_whatever_their_cut(tmp_path, rows, edit):
    """check_written compares ``rows`` rows at a time (bounded memory); a row more or less, or one
    cell changed, anywhere in the stream, is still found."""
    import pyarrow.parquet as pq

    from coalition_news.validate import _differing_columns

    path = tmp_path / "figures.csv"
    header, *lines = (REPO / "data" / "csv" / "figures.csv").read_bytes().splitlines(keepends=True)
    middle = len(lines) // 2
    if edit == "extra row":
        lines.append(lines[-1])
    elif edit == "missing row":
        del lines[middle]
    elif edit == "cell":
        fields = lines[middle].decode("utf-8").split(",")
        fields[3] = str(int(fields[3]) + 1)  # char_start
        lines[middle] = ",".join(fields).encode("utf-8")
    path.write_bytes(header + b"".join(lines))
    parquet = pq.ParquetFile(REPO / "data" / "parquet" / "figures.parquet")
    differing = _differing_columns("figures", parquet, path, rows)
    expected = {"none": [], "cell": ["char_start"]}.get(edit)
    if expected is not None:
        assert differing == expected
    else:
        assert len(differing) == 1 and "rows instead of" in differing[0]


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=4), kept=st.lists(st.booleans(), min_size=5, max_size=5),
       rows=st.sampled_from([1, 3, 7, 1 << 16]), edited=st.integers(min_value=0, max_value=39))
def test_a_csv_written_in_pieces_is_read_back_where_it_was_formatted(tmp_path_factory, cuts, kept, rows, edited):
    """With pieces (some kept, some formatted), a changed cell is found when it lies in a formatted
    piece, wherever the pieces and the stream's cuts fall; kept pieces are not read back. The pieces
    must cover the file and add up to the Parquet file's rows."""
    import pyarrow.parquet as pq

    from coalition_news.publish import WrittenPiece
    from coalition_news.validate import _differing_columns_of_pieces

    header, *lines = (REPO / "data" / "csv" / "figures.csv").read_bytes().splitlines(keepends=True)
    lines = lines[:40]
    n, edited = len(lines), edited % len(lines)
    bounds = [0, *sorted(min(c, n) for c in cuts), n]
    pieces, start = [], len(header)
    for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
        size = sum(len(line) for line in lines[a:b])
        pieces.append(WrittenPiece(start, start + size, b - a, kept[i % len(kept)]))
        start += size
    fields = lines[edited].decode("utf-8").split(",")
    fields[3] = str(int(fields[3]) + 1)  # char_start
    changed = lines[:edited] + [",".join(fields).encode("utf-8")] + lines[edited + 1:]
    folder = tmp_path_factory.mktemp("pieces")
    parquet_path = folder / "figures.parquet"
    pq.write_table(pq.read_table(REPO / "data" / "parquet" / "figures.parquet").slice(0, n), parquet_path)
    path = folder / "figures.csv"
    parquet = pq.ParquetFile(parquet_path)
    path.write_bytes(header + b"".join(lines))
    assert _differing_columns_of_pieces("figures", parquet, path, pieces, rows) == []
    path.write_bytes(header + b"".join(changed))
    in_kept_piece = next(p.kept for p, (a, b) in zip(pieces, zip(bounds, bounds[1:])) if a <= edited < b)
    assert _differing_columns_of_pieces("figures", parquet, path, pieces, rows) == ([] if in_kept_piece else ["char_start"])
    path.write_bytes(header + b"".join(lines) + lines[-1])
    assert _differing_columns_of_pieces("figures", parquet, path, pieces, rows) == ["the pieces written do not cover the file"]
    path.write_bytes(header + b"".join(lines))
    one_more = pieces[:-1] + [pieces[-1]._replace(rows=pieces[-1].rows + 1)]
    assert _differing_columns_of_pieces("figures", parquet, path, one_more, rows) == [f"{n + 1} rows instead of {n}"]
