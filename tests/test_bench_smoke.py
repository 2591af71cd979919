"""A small run of the benchmark (N = 20) and of its corpus generator. Figures are not asserted
(speed belongs to the benchmark); that the tool runs, reports every stage and stays exact is."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import synth  # noqa: E402


def test_synthetic_articles_are_distinct_deterministic_and_perturbed():
    first = list(synth.synthetic_texts(30, seed=3))
    assert first == list(synth.synthetic_texts(30, seed=3))
    assert len({hashlib.sha256(t).digest() for t in first}) == 30
    titles, paragraphs = synth.seed_paragraphs()
    real = set(paragraphs)
    body = [ln for t in first for ln in t.decode().split("\n")[4:] if ln]
    with_digits = [ln for ln in body if any(c.isdigit() for c in ln)]
    assert with_digits and not any(ln in real for ln in with_digits[:50])


def test_perturb_keeps_a_month_pair_a_pair_and_a_day_a_day():
    import random

    text = synth.perturb("في 14 تشرين الثاني/نوفمبر 2019 قال العقيد واين", random.Random(1), month_shift=1)
    assert "كانون الأول/ديسمبر" in text
    day = text.split()[1]
    assert 1 <= int(day) <= 28
    assert "واين" not in text and "العقيد " in text


@pytest.mark.slow
def test_bench_smoke_run(tmp_path):
    out = tmp_path / "bench.json"
    cmd = [sys.executable, str(REPO / "bench" / "run_bench.py"), "--sizes", "20", "--jobs", "2", "--verify",
           "--partitioned", "--no-neighbours", "--timeout", "540", "--out", str(out)]
    # Its own session, so a timeout ends the benchmark's child processes too.
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert proc.returncode == 0, stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    (size,) = report["sizes"]
    assert size["n"] == 20 and size["rows"]["articles"] == 20
    assert list(size["stages"]) == ["ingest", "extract", "tables", "validate", "publish", "partitioned"]
    assert all(s["seconds"] > 0 and s["peak_rss_mb"] > 0 for s in size["stages"].values())
    alone = size["extraction_per_core"]  # extract_article alone, in one process
    assert alone["articles"] == 20 and alone["cpu_seconds"] > 0 and "extraction alone (extract_article" in stdout
    incremental = size["incremental"]
    assert incremental["identical_to_clean_build"] is True
    # three rebuilds, each after one more article; the median one is reported, with its cache log
    assert len(incremental["rebuilds"]) == 3 and round(incremental["rebuild_seconds"], 3) == sorted(incremental["rebuilds"])[1]
    (cached, total), = [map(int, m) for m in re.findall(r"(\d+) of (\d+) articles cached, 1 to extract", stdout)]
    assert 20 <= cached <= 22 and total == cached + 1 and "TOTAL" in stdout


def test_the_peak_sampler_names_where_the_build_was_at_its_highs(repo_copy):
    """bench/peaks.py builds a repository while a thread records each new high of its memory and
    where the build was then (docs/performance.md, "What sets the peak"); with ``--timeline``, what
    the process holds after each block is written, by who holds it."""
    out = subprocess.run([sys.executable, str(REPO / "bench" / "peaks.py"), "--root", str(repo_copy), "--top", "3",
                          "--interval", "0.002", "--step", "0", "--timeline"],
                         capture_output=True, text=True, timeout=300, check=True).stdout
    sampled, timeline = out.strip().split("\nafter each block written:\n")
    names, *rows = [line.split() for line in timeline.split("\n")]
    assert names[:4] == ["seconds", "rss", "py_blocks_k", "arrow"]
    assert rows and all(len(row) == len(names) for row in rows)
    seconds = [float(row[0]) for row in rows]
    assert seconds == sorted(seconds) and all(int(row[1]) > 0 and int(row[2]) > 0 for row in rows)
    head, *highs = sampled.split("\n")
    assert re.match(r"built 5 articles; peak \d+ MiB", head)
    assert 1 <= len(highs) <= 3
    for line in highs:
        # a stack of "file:line function" frames; a file may be "<frozen codecs>", with a space
        when_where = re.fullmatch(r"\s*[\d.]+ s\s+\d+ MiB  (.+)", line)
        assert when_where, line
        assert all(re.fullmatch(r".+:\d+ \S+", frame) for frame in when_where[1].split(" <- ")), line
    assert (repo_copy / "data" / "parquet" / "quotes.parquet").is_file()


def test_extract_oracle_passes_the_same_code_and_names_a_changed_article(tmp_path, capsys):
    import extract_oracle

    record = tmp_path / "oracle.json"
    assert extract_oracle.main(["record", "--synthetic", "3", "--out", str(record)]) == 0
    assert extract_oracle.main(["check", "--synthetic", "3", "--out", str(record)]) == 0
    recorded = json.loads(record.read_text(encoding="utf-8"))
    assert {"synthetic/000000", "synthetic/000002"} <= recorded.keys()
    assert any(key.startswith("raw/") for key in recorded)  # the real articles of raw/ are in it

    # a record made by other code: one article's rows differed then
    recorded["synthetic/000001"] = "0" * 64
    record.write_text(json.dumps(recorded), encoding="utf-8")
    capsys.readouterr()
    assert extract_oracle.main(["check", "--synthetic", "3", "--out", str(record)]) == 1
    out = capsys.readouterr().out
    assert "1 differ" in out and "differs: synthetic/000001" in out


def test_extract_oracle_digest_follows_the_rows():
    import extract_oracle
    from coalition_news.extract import extract_article

    real, _ = extract_oracle.oracle_articles(0, real_dirs=(REPO / "raw",))
    rows = extract_article(real[0])
    before = extract_oracle.rows_digest(rows)
    assert extract_oracle.rows_digest(extract_article(real[0])) == before
    rows.figures[0]["value"] = (rows.figures[0]["value"] or 0) + 1  # one cell of one row
    assert extract_oracle.rows_digest(rows) != before
