"""Above a row threshold, frictionless validates a sample of articles (chosen by id) with the rows
that depend on them, copied byte for byte; the other checks still read every row. A package whose
bytes passed before is not validated again."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from coalition_news import validate
from coalition_news.schemas import table_names
from coalition_news.validate import frictionless_validate, in_sample, sample_every, write_sample_package

from conftest import REPO

CSV = REPO / "data" / "csv"

pytestmark = pytest.mark.skipif(not all((CSV / f"{t}.csv").is_file() for t in table_names()), reason="no built data/")


def _package(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    shutil.copytree(CSV, root / "data" / "csv")
    return root


def _article_ids() -> list[str]:
    with (CSV / "articles.csv").open(encoding="utf-8", newline="") as f:
        return [row["article_id"] for row in csv.DictReader(f)]


def _break_a_line_number(root: Path, article_id: str) -> None:
    """Make the ``line`` of one lines.csv row of ``article_id`` a word: not an integer."""
    path = root / "data" / "csv" / "lines.csv"
    rows = path.read_text(encoding="utf-8").split("\n")
    i = next(i for i, r in enumerate(rows) if r.startswith(article_id + ","))
    fields = rows[i].split(",")
    fields[1] = "سطر"
    rows[i] = ",".join(fields)
    path.write_text("\n".join(rows), encoding="utf-8", newline="")


def _rows() -> int:
    return sum(len((CSV / f"{t}.csv").read_bytes().splitlines()) - 1 for t in table_names())


def _sampled_and_not(every: int) -> tuple[str, str]:
    """An article the sample of one in ``every`` keeps, and one it leaves out (not the first)."""
    ids = _article_ids()
    chosen = [i for i in ids if in_sample(i, every)] or ids[:1]
    left = [i for i in ids[1:] if i not in chosen]
    if not left:
        pytest.skip("every article of data/ is in the sample")
    return chosen[0], left[0]


def test_the_sample_keeps_the_articles_chosen_by_id_and_the_speakers_they_reference(tmp_path):
    out = tmp_path / "sample"
    every, kept = write_sample_package(CSV, out, every=2)
    ids = _article_ids()
    chosen = {i for i in ids if in_sample(i, 2)} or {ids[0]}
    with (out / "articles.csv").open(encoding="utf-8", newline="") as f:
        assert {r["article_id"] for r in csv.DictReader(f)} == chosen
    with (out / "quotes.csv").open(encoding="utf-8", newline="") as f:
        quoted = {r["speaker_id"] for r in csv.DictReader(f) if r["speaker_id"]}
    with (out / "speakers.csv").open(encoding="utf-8", newline="") as f:
        speakers = {r["speaker_id"] for r in csv.DictReader(f)}
    assert quoted <= speakers
    # rows are copied verbatim: every sampled line of lines.csv is a line of the original
    original = set((CSV / "lines.csv").read_text(encoding="utf-8").splitlines())
    assert set((out / "lines.csv").read_text(encoding="utf-8").splitlines()) <= original
    assert 0 < kept < sum(len((CSV / f"{t}.csv").read_text(encoding="utf-8").splitlines()) for t in table_names())


def test_the_sampled_package_is_valid_when_the_release_is(tmp_path):
    assert frictionless_validate(_package(tmp_path), full_rows=10) == []


def test_the_sample_is_about_one_article_in_a_power_of_two():
    assert [sample_every(rows, 10_000) for rows in (1, 10_000, 10_001, 20_000, 460_000, 640_000, 640_001)] == [1, 1, 2, 2, 64, 64, 128]
    ids = [f"{i:03d}_{i:016x}" for i in range(4000)]
    assert 4000 / 64 * 0.8 < sum(in_sample(i, 64) for i in ids) < 4000 / 64 * 1.2


def test_sampling_catches_an_error_in_a_sampled_article(tmp_path):
    root = _package(tmp_path)
    sampled, _ = _sampled_and_not(sample_every(_rows(), 10))
    _break_a_line_number(root, sampled)
    problems = frictionless_validate(root, full_rows=10)
    assert problems and all("sample" in p for p in problems)
    assert any("lines" in p for p in problems)


def test_an_error_outside_the_sample_is_left_to_a_full_validation(tmp_path):
    root = _package(tmp_path)
    _, outside = _sampled_and_not(sample_every(_rows(), 10))
    _break_a_line_number(root, outside)
    assert frictionless_validate(root, full_rows=10) == []
    assert any("lines" in p for p in frictionless_validate(root))


def _without_article(root: Path, article_id: str) -> None:
    """Drop every row of ``article_id`` from the package's CSVs (as if it had never been added)."""
    for table in table_names():
        path = root / "data" / "csv" / f"{table}.csv"
        header, *rows = path.read_bytes().splitlines(keepends=True)
        path.write_bytes(header + b"".join(r for r in rows if not r.startswith(article_id.encode() + b",")))


def test_an_article_outside_the_sample_leaves_the_sample_s_bytes_as_they_were(tmp_path):
    """Why the sample is chosen by id: adding an article the sample does not keep changes no byte of
    the sample, so its last frictionless pass still stands (``passed``)."""
    every = 2
    _, outside = _sampled_and_not(every)
    full, fewer = _package(tmp_path / "full"), _package(tmp_path / "fewer")
    _without_article(fewer, outside)
    samples = []
    for root in (full, fewer):
        write_sample_package(root / "data" / "csv", root / "sample", every)
        samples.append({t: (root / "sample" / f"{t}.csv").read_bytes() for t in table_names()})
    assert samples[0] == samples[1]
    assert (full / "data" / "csv" / "lines.csv").read_bytes() != (fewer / "data" / "csv" / "lines.csv").read_bytes()


def test_bytes_that_passed_are_not_validated_again_and_any_change_is(tmp_path, monkeypatch):
    root, passed = _package(tmp_path), tmp_path / "cache" / "frictionless-passed"
    assert frictionless_validate(root, passed=passed) == []
    assert passed.read_text() == validate.package_digest(root)
    reports = []
    real_report = validate._frictionless_report
    monkeypatch.setattr(validate, "_frictionless_report", lambda r: reports.append(r) or real_report(r))
    assert frictionless_validate(root, passed=passed) == [] and reports == []  # the same bytes: known to pass
    _break_a_line_number(root, _article_ids()[-1])  # one byte changed anywhere: validated again
    problems = frictionless_validate(root, passed=passed)
    assert len(reports) == 1 and any("lines" in p for p in problems)
    assert passed.read_text() != validate.package_digest(root)  # a failing package is never recorded
    assert frictionless_validate(root) == problems  # and the record changes nothing without it


def test_the_record_of_a_pass_names_the_schemas_too(tmp_path, monkeypatch):
    root = _package(tmp_path)
    before = validate.package_digest(root)
    real = validate.schemas.table_schema

    def with_a_tighter_bound(table):
        schema = real(table)
        return {**schema, "description": "changed"} if table == "lines" else schema

    monkeypatch.setattr(validate.schemas, "table_schema", with_a_tighter_bound)
    assert validate.package_digest(root) != before


@pytest.mark.parametrize("table", table_names())
def test_records_are_the_csv_reader_s_and_their_raw_text_is_the_file(table):
    from coalition_news.validate import _csv_records

    path = CSV / f"{table}.csv"
    records = list(_csv_records(path))
    with path.open(encoding="utf-8", newline="") as f:
        assert [fields for fields, _ in records] == list(csv.reader(f))
    assert "".join(raw for _, raw in records) == path.read_bytes().decode("utf-8")


def test_a_record_spanning_lines_is_kept_whole(tmp_path):
    from coalition_news.validate import _csv_records

    path = tmp_path / "t.csv"
    path.write_bytes('article_id,text\n1,"سطر\nثان"\n2,\u2028ثالث\r\n3,"\rرابع"\n'.encode())
    assert list(_csv_records(path)) == [
        (["article_id", "text"], "article_id,text\n"),
        (["1", "سطر\nثان"], '1,"سطر\nثان"\n'),
        (["2", "\u2028ثالث"], "2,\u2028ثالث\r\n"),
        (["3", "\rرابع"], '3,"\rرابع"\n'),
    ]


@pytest.mark.parametrize("table", table_names())
def test_keyed_records_are_the_written_rows_with_their_keys(table):
    from coalition_news.validate import _SAMPLE_KEYS, _keyed_records

    path = CSV / f"{table}.csv"
    header, ids, records = _keyed_records(path)
    assert header + b"".join(records) == path.read_bytes()
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert ids.to_pylist() == [{k: r[k] for k in _SAMPLE_KEYS if k in r} for r in rows]


def test_keyed_records_fall_back_to_the_csv_module_when_a_record_spans_lines(tmp_path):
    from coalition_news.validate import _keyed_records

    path = tmp_path / "t.csv"
    path.write_bytes('article_id,text,speaker_id\n001_a,"سطر\nثان",sp_1\n002_b,ثالث,\n'.encode())
    header, ids, records = _keyed_records(path)
    assert header == b"article_id,text,speaker_id\n"
    assert ids.to_pylist() == [{"article_id": "001_a", "speaker_id": "sp_1"}, {"article_id": "002_b", "speaker_id": ""}]
    assert list(records) == ['001_a,"سطر\nثان",sp_1\n'.encode(), "002_b,ثالث,\n".encode()]


# --- frictionless in a second process (a build of at least PARALLEL_MIN_ARTICLES articles) -------

def test_the_second_process_reports_what_frictionless_reports_here(tmp_path):
    from coalition_news.validate import CheckProcess

    good, bad = _package(tmp_path / "good"), _package(tmp_path / "bad")
    _break_a_line_number(bad, _article_ids()[0])
    with CheckProcess() as checker:
        assert checker.frictionless(good).result() == ([], [])
        problems, messages = checker.frictionless(bad).result()  # one process, several packages
    assert problems == frictionless_validate(bad) and any("lines" in p for p in problems)


def test_the_second_process_answers_each_job_whatever_order_they_are_read_in(tmp_path):
    """Two jobs in flight, read last first: each gets its own answer; pandera's row checks there
    report what they report here."""
    import pandas as pd

    from coalition_news.schemas import pandas_dtypes
    from coalition_news.validate import CheckProcess, schema_row_problems

    frames = {t: pd.read_parquet(REPO / "data" / "parquet" / f"{t}.parquet").astype(pandas_dtypes(t)) for t in table_names()}
    lines = frames["lines"]
    frames["lines"] = lines.assign(char_start=lines["char_start"].where(lines["line"] != 2, -5))
    with CheckProcess() as checker:
        rows, conformance = checker.schema_rows(frames), checker.frictionless(_package(tmp_path))
        assert conformance.result() == ([], [])
        problems = rows.result()
    assert problems == schema_row_problems(frames)
    assert problems and all("lines: " in p and "line 2: column char_start: greater_than_or_equal_to" in p for p in problems)


def test_a_release_refused_by_the_second_process_is_not_published(tmp_path):
    """``publish`` with frictionless running in the second process: a CSV it refuses stops the
    swap, and data/ keeps the previous release."""
    import pandas as pd

    from coalition_news import publish as P
    from coalition_news.load import load_local
    from coalition_news.validate import CheckProcess, ValidationError

    frames = {t: load_local(t, REPO / "data") for t in table_names()}
    data_dir = tmp_path / "data"
    shutil.copytree(REPO / "data", data_dir)
    before = {p: p.read_bytes() for p in data_dir.rglob("*") if p.is_file()}
    original = P.ReleaseWriter.close

    def close_then_break(self, csv_written=None):  # a CSV that frictionless refuses
        def break_then_go_on():
            _break_a_line_number(self.out_dir.parent, _article_ids()[0])
            if csv_written is not None:
                csv_written()  # frictionless starts here

        return original(self, break_then_go_on)

    P.ReleaseWriter.close = close_then_break
    try:
        with CheckProcess() as checker, pytest.raises(ValidationError, match="frictionless: lines"):
            P.publish(frames, data_dir, checker)
    finally:
        P.ReleaseWriter.close = original
    assert {p: p.read_bytes() for p in data_dir.rglob("*") if p.is_file()} == before
    assert not list(tmp_path.glob("data.tmp-*"))


def test_a_second_process_that_dies_fails_the_build_with_a_message(tmp_path):
    from coalition_news.errors import BuildError
    from coalition_news.validate import CheckProcess

    with pytest.raises(BuildError, match="check process ended unexpectedly"):
        with CheckProcess() as checker:
            checker._process.kill()
            checker.frictionless(_package(tmp_path)).result()


@pytest.mark.parametrize("chunk", [1, 7, 4096, 1 << 22])
def test_line_ends_read_in_chunks_are_the_file_s_line_ends(tmp_path, chunk):
    from coalition_news.validate import _line_ends

    data = (CSV / "quotes.csv").read_bytes()[:20_000] + "سطر بلا نهاية".encode()
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    ends, ends_with_lf = _line_ends(path, chunk)
    assert ends.tolist() == [i + 1 for i, byte in enumerate(data) if byte == ord("\n")]
    assert not ends_with_lf
    path.write_bytes(data + b"\n")
    assert _line_ends(path, chunk)[1]


@pytest.mark.parametrize("seed", range(5))
def test_picked_line_records_are_the_bytes_of_those_lines(seed):
    """Records are read a run of consecutive records at a time; any mask gives the lines it marks."""
    import numpy as np

    from coalition_news.validate import _keyed_records

    path = CSV / "lines.csv"
    header, ids, records = _keyed_records(path)
    assert type(records).__name__ == "_LineRecords"  # one record per line: read by offsets
    lines = path.read_bytes().splitlines(keepends=True)[1:]
    mask = np.random.default_rng(seed).random(len(lines)) < [0.0, 0.05, 0.5, 0.95, 1.0][seed]
    assert records.pick(mask) == [line for line, kept in zip(lines, mask) if kept]
