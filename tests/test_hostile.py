"""Hostile input: every bad raw file or manifest is refused with its exact message, data/ survives.

Each case breaks a disposable copy of the repository (``repo_copy``) holding a real release in
data/, runs ``python -m coalition_news build`` as a user would, and checks the exact message and
that data/ is byte-identical afterwards. The inputs the build accepts on purpose (a UTF-8 BOM,
CRLF endings, quotation marks that never close, bidi and zero-width marks inside names) are built
and every row of the new article is checked against its raw text. docs/robustness.md says why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from coalition_news import schemas
from coalition_news.ingest import MAX_ARTICLE_BYTES, MAX_LINE_CHARS, IngestError, decode_article, read_raw, sha256_hex
from coalition_news.manifest import Published, SourceEntry, read_manifest, write_manifest
from conftest import REPO, build_fresh_repo, run_cli, tree_bytes

SEED = "000_6380a1c75a270f68.txt"
# An ordinary article body, written for these tests (not from a source article).
BODY = "عنوان الخبر\n\nبغداد - قال المتحدث باسم الوزارة إن القوات نفذت 12 ضربة جوية يوم الخميس.\n"


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    """A release of this checkout's raw/, built once: the data/ every hostile case must keep."""
    return build_fresh_repo(tmp_path_factory.mktemp("release")) / "data"


@pytest.fixture
def root(repo_copy: Path, release: Path) -> Path:
    """``repo_copy`` with a complete release in data/ (the committed one may lag the code)."""
    shutil.rmtree(repo_copy / "data", ignore_errors=True)
    shutil.copytree(release, repo_copy / "data")
    return repo_copy


def register(raw: Path, data: bytes, number: int = 5) -> str:
    """Write ``data`` as a new raw file with a matching manifest entry; return its name."""
    name = f"{number:03d}_{sha256_hex(data)[:16]}.txt"
    (raw / name).write_bytes(data)
    entry = SourceEntry(name, sha256_hex(data), None, None, Published(None, None, None, None), "ar", None)
    write_manifest(raw, read_manifest(raw) + [entry])
    return name


def refused(root: Path, hang_after: int = 600) -> str:
    """Build, expect a refusal, prove data/ survived and no staging folder is left; return stderr.

    ``hang_after`` seconds without an answer count as a hang (a failure), not as slowness.
    """
    before = tree_bytes(root / "data")
    assert before, "the fixture must provide a release to protect"
    result = subprocess.run([sys.executable, "-m", "coalition_news", "--root", str(root), "build"],
                            capture_output=True, text=True, timeout=hang_after)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert tree_bytes(root / "data") == before, "a refused build must leave data/ byte-identical"
    assert not list(root.glob("data.tmp-*")) and not (root / "data.old").exists()
    return result.stderr


def problems(stderr: str) -> list[str]:
    """The listed problems of an ingest refusal: the lines ``  - <problem>``."""
    return [ln[4:] for ln in stderr.splitlines() if ln.startswith("  - ")]


# --- raw files refused, each with its exact message -------------------------------------------

def _invalid_utf8() -> bytes:
    data = "عنوان\nقال الوزير ".encode() + b"\xc3\x28 x\n"
    assert data[31] == 0xC3  # 11 bytes of line 1 + 20 bytes of Arabic before the bad byte
    return data


RAW_REFUSALS = {
    "invalid UTF-8": (
        _invalid_utf8(),
        "line 2, byte 31: not valid UTF-8 (invalid continuation byte: b'\\xc3( x')",
    ),
    "UTF-16 with its byte order mark": (
        "قال الوزير\n".encode("utf-16"),
        "line 1, byte 0: not valid UTF-8 (invalid start byte: b'\\xff\\xfeB\\x06') (it looks like UTF-16; save it as UTF-8)",
    ),
    "UTF-16 without a byte order mark": (
        "قال الوزير\n".encode("utf-16-le"),
        "line 1: contains a NUL character; raw articles are plain text"
        " (it looks like UTF-16 without a byte order mark; save it as UTF-8)",
    ),
    "0 bytes": (b"", "the file is empty (0 bytes)"),
    "whitespace only (and a BOM)": ("\ufeff \n\t\r\n".encode(), "the file is empty (whitespace only)"),
    "NUL bytes": ("عنوان\n\nقال\x00 الوزير\n".encode(), "line 3: contains a NUL character; raw articles are plain text"),
    "no Arabic letter": (
        b"Coalition strikes continue\n\nThe ministry said 12 strikes were carried out.\n",
        "no Arabic letter in the text; raw articles are Arabic news (the wrong file, or the wrong encoding?)",
    ),
    "a 1 MB line": (  # 1,000,000 bytes of Arabic in one line: under the size limit, over the line limit
        ("عنوان\n" + "ب" * 500_000 + "\n").encode(),
        f"line 2 has 500,000 characters, over the limit of {MAX_LINE_CHARS:,}",
    ),
}


@pytest.mark.parametrize("case", RAW_REFUSALS, ids=list(RAW_REFUSALS))
def test_a_bad_raw_file_is_refused_with_its_exact_message(root, case):
    data, message = RAW_REFUSALS[case]
    name = register(root / "raw", data)
    assert problems(refused(root)) == [f"raw/{name}: {message}"]


def test_a_50_mb_file_is_refused_by_its_size(root):
    data = ("عنوان\n" + "نص الخبر " * 9).encode() + b"\n"
    data = data * (50 * 1024 * 1024 // len(data) + 1)
    name = register(root / "raw", data)
    assert problems(refused(root)) == [f"raw/{name}: {len(data):,} bytes is larger than the limit of {MAX_ARTICLE_BYTES:,} bytes"]


def test_a_file_changed_after_it_was_registered_is_refused(root):
    seed = root / "raw" / SEED
    registered = sha256_hex(seed.read_bytes())
    seed.write_bytes(seed.read_bytes() + "سطر أضيف لاحقا\n".encode())
    [problem] = problems(refused(root))
    assert problem == (
        f"raw/{SEED}: SHA-256 is {sha256_hex(seed.read_bytes())}, but raw/sources.yaml:13 registered {registered};"
        " raw files are never edited (add a changed article as a new file)"
    )


def test_the_same_content_under_two_names_is_refused(root):
    copy = "005_" + "d" * 16 + ".txt"
    shutil.copy(root / "raw" / SEED, root / "raw" / copy)
    seed = next(e for e in read_manifest(root / "raw") if e.file == SEED)
    write_manifest(root / "raw", read_manifest(root / "raw") + [SourceEntry(copy, seed.sha256, None, None, seed.published, "ar", None)])
    assert problems(refused(root)) == [f"raw/{copy}: same content as raw/{SEED} (duplicate article)"]


def test_a_symbolic_link_in_raw_is_refused(root):
    os.symlink("/etc/passwd", root / "raw" / "005_eeeeeeeeeeeeeeee.txt")
    assert problems(refused(root)) == [
        "raw/005_eeeeeeeeeeeeeeee.txt: unexpected entry in raw/ (only .txt articles and sources.yaml belong there; no folders or links)"
    ]


def test_every_problem_is_reported_in_one_run(root):
    bad_utf8 = register(root / "raw", RAW_REFUSALS["invalid UTF-8"][0], 5)
    empty = register(root / "raw", b"", 6)
    assert sorted(problems(refused(root))) == sorted(
        [f"raw/{bad_utf8}: {RAW_REFUSALS['invalid UTF-8'][1]}", f"raw/{empty}: the file is empty (0 bytes)"]
    )


# --- the manifest: strict, safe, and named by line ----------------------------------------------

def _edit_manifest(root: Path, old: str, new: str) -> None:
    path = root / "raw" / "sources.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


MANIFEST_REFUSALS = {
    "an unknown field": (
        ("  language: ar\n", "  language: ar\n  mood: happy\n"),
        "raw/sources.yaml:13: unknown field(s) mood; allowed: file, sha256, outlet, url, published, language, notes",
    ),
    "a missing field": (("  url: null\n", ""), "raw/sources.yaml:13: missing field(s) url"),
    "a path outside raw/": (
        (f"- file: {SEED}", "- file: ../../etc/passwd"),
        "raw/sources.yaml:13: file '../../etc/passwd' must be a file name in raw/ of the form NNN_<16 hex digits>.txt (no folders, no '..')",
    ),
    "a field given twice": (
        ("  url: null\n", "  url: null\n  url: https://example.org/\n"),
        "raw/sources.yaml:17: the field 'url' is given twice in one mapping",
    ),
}


@pytest.mark.parametrize("case", MANIFEST_REFUSALS, ids=list(MANIFEST_REFUSALS))
def test_a_bad_manifest_is_refused_with_its_exact_message(root, case):
    (old, new), message = MANIFEST_REFUSALS[case]
    _edit_manifest(root, old, new)
    assert refused(root).strip() == f"error: {message}"


def test_a_python_tag_in_the_manifest_is_refused_and_never_run(root, tmp_path):
    marker = tmp_path / "pwned"
    _edit_manifest(root, "  url: null\n", f"  url: !!python/object/apply:os.system ['touch {marker}']\n")
    err = refused(root)
    assert err.startswith("error: raw/sources.yaml:") and "not valid safe YAML" in err
    assert "could not determine a constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.system'" in err
    assert not marker.exists()


def test_a_yaml_alias_bomb_in_the_manifest_is_refused_quickly(root):
    """"Billion laughs": 9 levels of 9 aliases. Safe YAML shares the nodes; so must every check."""
    levels = ['lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    levels += [f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
    path = root / "raw" / "sources.yaml"
    text = path.read_text(encoding="utf-8").replace("articles:\n", "\n".join(levels) + "\narticles:\n", 1)
    path.write_text(text.replace("  url: null\n", "  url: *l9\n", 1), encoding="utf-8")
    # Walking 9**9 alias references would take minutes: two minutes without an answer is a hang.
    assert refused(root, hang_after=120).strip() == (
        "error: raw/sources.yaml: the manifest must be a mapping with exactly one key, 'articles', holding a list"
    )


def test_a_manifest_that_is_not_utf8_is_refused_with_its_byte(root):
    path = root / "raw" / "sources.yaml"
    text = path.read_bytes()
    offset = text.index(b"  outlet: null")
    path.write_bytes(text[:offset] + b"  outlet: Caf\xe9 Press\n" + text[offset + len(b"  outlet: null\n"):])
    line = text[:offset].count(b"\n") + 1
    assert refused(root).strip() == f"error: raw/sources.yaml:{line}: byte {offset + 13}: not valid UTF-8 (invalid continuation byte); save the manifest as UTF-8"


# --- accepted on purpose: built, and every row stays verbatim ------------------------------------

def _rows_of(root: Path, article_id: str) -> dict[str, pd.DataFrame]:
    out = {}
    for table in schemas.table_names():
        df = pd.read_csv(root / "data" / "csv" / f"{table}.csv", dtype=str, keep_default_na=False)
        if "article_id" in df.columns:
            out[table] = df[df["article_id"] == article_id]
    return out


def _bidi_article(mark: str) -> str:
    name = f"العقيد وا{mark}ين ما{mark}رو"
    return f"عنوان\n\nوقال المتحدث باسم التحالف {name}: «نواصل دعم القوات العراقية».\nوأكد {name} أن 300 جندي وصلوا.\n"


BIDI_MARKS = ["\u200c", "\u200d", "\u200b", "\u200f", "\u200e", "\u202b", "\u2066", "\u061c", "\u0640"]
ACCEPTED = {
    "lf": BODY.encode(),
    "bom": b"\xef\xbb\xbf" + BODY.encode(),
    "crlf": BODY.replace("\n", "\r\n").encode(),
    "unclosed": "عنوان\n\nوقال الوزير: «إن الحرب لم تنته بعد\nوأضاف \"سنواصل العمل\n“ثم قال ” « «\n".encode(),
    **{f"bidi {ord(mark):04X}": _bidi_article(mark).encode() for mark in BIDI_MARKS},
    # a lone CR (old Mac files) and Unicode's other line breaks are not line breaks: only LF is
    "lone cr": "عنوان\rفرعي\n\nقال الوزير إن 12 ضربة نفذت.\rوأضاف أن 30 جنديا وصلوا.\n".encode(),
    "other breaks": "عنوان\n\nقال\u2028الوزير\x0cإن\x0b12\x85ضربة\u2029نفذت \x1c أمس.\n".encode(),
    # a line of exactly MAX_LINE_CHARS characters is accepted and extracted like any other
    "line at the limit": ("عنوان\n\n" + ("وقال الوزير إن 12 ضربة جوية نفذت أمس. " * 1000)[:MAX_LINE_CHARS] + "\n").encode(),
}


@pytest.fixture(scope="module")
def accepted(tmp_path_factory) -> dict[str, tuple[str, dict[str, pd.DataFrame]]]:
    """Every accepted-on-purpose article registered in one repository and built once (it is slow)."""
    root = tmp_path_factory.mktemp("accepted")
    shutil.copytree(REPO / "raw", root / "raw")
    names = {case: register(root / "raw", data, 5 + i) for i, (case, data) in enumerate(ACCEPTED.items())}
    result = run_cli(root, "build")
    assert result.returncode == 0, result.stderr
    return {case: (ACCEPTED[case].decode("utf-8"), _rows_of(root, name[:-4])) for case, name in names.items()}


@pytest.mark.parametrize("case", ACCEPTED)
def test_every_row_of_an_accepted_oddity_is_verbatim(accepted, case):
    text, rows = accepted[case]
    assert len(rows["lines"]) > 0
    checked = 0
    for table, df in rows.items():
        verbatim = schemas.verbatim_column(table)
        for row in df.itertuples(index=False) if verbatim else ():
            start, end = int(row.char_start), int(row.char_end)
            assert text[start:end] == getattr(row, verbatim), (table, row)
            assert text.count("\n", 0, start) + 1 == int(row.line), (table, row)
            checked += 1
    assert checked >= len(rows["lines"])


def test_a_utf8_bom_is_accepted_and_counted_as_character_0(accepted):
    text, rows = accepted["bom"]
    first = rows["lines"].iloc[0]
    assert (first.line, first.char_start, first.text) == ("1", "0", "\ufeffعنوان الخبر")
    assert text[0] == "\ufeff"
    line3 = rows["lines"][rows["lines"].line == "3"].iloc[0]
    assert int(line3.char_start) == len("\ufeffعنوان الخبر\n\n")  # the BOM shifts every offset by one


def test_crlf_endings_are_accepted_and_cr_is_outside_every_span(accepted):
    text, rows = accepted["crlf"]
    assert "\r" in text
    for df in rows.values():
        for column in ("text", "date_text"):
            if column in df.columns:
                assert not df[column].str.contains("\r").any()
    for row in rows["lines"].itertuples(index=False):
        assert text[int(row.char_end)] == "\r"  # the CR counts in offsets, after the line's span


def test_crlf_gives_the_rows_of_lf_with_offsets_moved_by_one_cr_per_line(accepted):
    _, lf = accepted["lf"]
    _, crlf = accepted["crlf"]
    for table in ("lines", "quotes", "figures", "events", "speaker_mentions"):
        verbatim = schemas.verbatim_column(table)
        assert list(crlf[table][verbatim]) == list(lf[table][verbatim]), table
        shifted = [int(s) + int(n) - 1 for s, n in zip(lf[table]["char_start"], lf[table]["line"])]
        assert [int(s) for s in crlf[table]["char_start"]] == shifted, table


@pytest.mark.parametrize("case, n_lines", [("lone cr", 2), ("other breaks", 2)])
def test_only_lf_breaks_lines(accepted, case, n_lines):
    text, rows = accepted[case]
    assert list(rows["lines"].line.astype(int)) == [1, 3] and len(rows["lines"]) == n_lines
    assert rows["lines"].text.iloc[-1] == text.split("\n")[2]  # CR, U+2028, FF, VT, NEL … kept inside


def test_a_line_of_exactly_the_limit_is_built(accepted):
    text, rows = accepted["line at the limit"]
    assert [int(e) - int(s) for s, e in zip(rows["lines"].char_start, rows["lines"].char_end)][-1] == MAX_LINE_CHARS
    assert len(rows["figures"]) > 100  # extracted, not skipped


def test_quotation_marks_that_never_close_do_not_break_the_build(accepted):
    text, rows = accepted["unclosed"]
    assert len(rows["lines"]) == 4  # lines 1, 3, 4, 5: no quote swallowed the lines after it


@pytest.mark.parametrize("mark", BIDI_MARKS, ids=[f"U+{ord(m):04X}" for m in BIDI_MARKS])
def test_bidi_and_zero_width_marks_inside_names_stay_verbatim(accepted, mark):
    text, rows = accepted[f"bidi {ord(mark):04X}"]
    kept = [v for df in rows.values() for col in ("text", "name") if col in df.columns for v in df[col] if mark in v]
    assert len(kept) >= 2, "the mark must stay in the verbatim columns (both lines at least), never be normalised away"


# --- the limits, tested on both sides ---------------------------------------------------------

def test_the_line_limit_on_both_sides():
    at_limit = ("عنوان\n" + "ب" * MAX_LINE_CHARS + "\n").encode()
    assert len(decode_article("raw/x.txt", at_limit).split("\n")[1]) == MAX_LINE_CHARS
    over = ("عنوان\n" + "ب" * (MAX_LINE_CHARS + 1) + "\n").encode()
    with pytest.raises(IngestError) as err:
        decode_article("raw/x.txt", over)
    assert err.value.problems == [f"raw/x.txt: line 2 has {MAX_LINE_CHARS + 1:,} characters, over the limit of {MAX_LINE_CHARS:,}"]


def _article_of_bytes(n: int) -> bytes:
    line = ("نص " * 1000).encode() + b"\n"
    data = "عنوان\n".encode() + line * (n // len(line))
    return data + b"x" * (n - len(data))


def test_the_size_limit_on_both_sides_in_read_raw(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    write_manifest(raw, [])
    at_limit = register(raw, _article_of_bytes(MAX_ARTICLE_BYTES), 0)
    [article] = read_raw(raw)
    assert article.n_bytes == MAX_ARTICLE_BYTES
    over = register(raw, _article_of_bytes(MAX_ARTICLE_BYTES + 1), 1)
    with pytest.raises(IngestError) as err:
        read_raw(raw)
    assert err.value.problems == [f"raw/{over}: {MAX_ARTICLE_BYTES + 1:,} bytes is larger than the limit of {MAX_ARTICLE_BYTES:,} bytes"]
    assert at_limit != over
