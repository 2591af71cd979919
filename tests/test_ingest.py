"""The build refuses bad raw input with a message naming the file, and data/ survives.

Each case breaks a temporary copy of the repository with a real bad file, runs the build as a user
would (`python -m coalition_news build`), and checks the message and that data/ is byte-identical.
"""

from __future__ import annotations

import shutil

import pytest

from coalition_news.ingest import IngestError, check_raw, decode_article
from coalition_news.manifest import SourceEntry, read_manifest
from conftest import REPO, run_cli, tree_bytes

SEED = "000_6380a1c75a270f68.txt"


def _break_and_build(root, breaker):
    before = tree_bytes(root / "data")
    breaker(root / "raw")
    result = run_cli(root, "build")
    assert result.returncode == 1, result.stdout + result.stderr
    assert tree_bytes(root / "data") == before, "a failed build must leave data/ untouched"
    assert not list(root.glob("data.tmp-*")), "no staging folder is left behind"
    return result.stderr


def _register_bytes(raw, name, data):
    """Write a raw file and a matching manifest entry (so only the content is wrong)."""
    from coalition_news.ingest import sha256_hex
    from coalition_news.manifest import Published, SourceEntry, write_manifest

    (raw / name).write_bytes(data)
    entries = read_manifest(raw) + [SourceEntry(name, sha256_hex(data), None, None, Published(None, None, None, None), "ar", None)]
    write_manifest(raw, entries)


def test_a_raw_file_missing_from_the_manifest_is_refused(repo_copy):
    err = _break_and_build(repo_copy, lambda raw: (raw / "005_aaaaaaaaaaaaaaaa.txt").write_text("قال الوزير", encoding="utf-8"))
    assert "raw/005_aaaaaaaaaaaaaaaa.txt: not listed in raw/sources.yaml" in err


def test_a_manifest_entry_without_its_file_is_refused(repo_copy):
    err = _break_and_build(repo_copy, lambda raw: (raw / SEED).unlink())
    assert f"lists {SEED}, which is not in raw/" in err
    assert "raw/sources.yaml:" in err


def test_a_file_changed_after_registration_is_refused(repo_copy):
    def edit(raw):
        (raw / SEED).write_bytes((raw / SEED).read_bytes() + "تعديل".encode())

    err = _break_and_build(repo_copy, edit)
    assert f"raw/{SEED}: SHA-256 is" in err and "raw files are never edited" in err


def test_undecodable_utf8_names_file_line_and_byte(repo_copy):
    data = "سطر أول\nقال \n".encode() + b"\xff\xfe bad"
    err = _break_and_build(repo_copy, lambda raw: _register_bytes(raw, "005_bbbbbbbbbbbbbbbb.txt", data))
    assert f"raw/005_bbbbbbbbbbbbbbbb.txt: line 3, byte {len(data) - 6}: not valid UTF-8" in err


def test_an_empty_file_is_refused(repo_copy):
    err = _break_and_build(repo_copy, lambda raw: _register_bytes(raw, "005_cccccccccccccccc.txt", b""))
    assert "raw/005_cccccccccccccccc.txt: the file is empty (0 bytes)" in err


def test_two_files_with_the_same_content_are_refused(repo_copy):
    def duplicate(raw):
        shutil.copy(raw / SEED, raw / "005_dddddddddddddddd.txt")
        entries = read_manifest(raw)
        seed = next(e for e in entries if e.file == SEED)
        from dataclasses import replace
        from coalition_news.manifest import write_manifest

        write_manifest(raw, entries + [replace(seed, file="005_dddddddddddddddd.txt")])

    err = _break_and_build(repo_copy, duplicate)
    assert f"same content as raw/{SEED} (duplicate article)" in err or "005_dddddddddddddddd.txt: same content" in err


def test_a_bad_manifest_stops_the_build_with_its_line(repo_copy):
    def bad(raw):
        text = (raw / "sources.yaml").read_text(encoding="utf-8")
        (raw / "sources.yaml").write_text(text.replace("  language: ar\n", "  language: ar\n  mood: happy\n", 1), encoding="utf-8")

    err = _break_and_build(repo_copy, bad)
    assert "raw/sources.yaml:" in err and "unknown field(s) mood" in err


# --- the pure core, case by case ----------------------------------------------------------

def _entries():
    return read_manifest(REPO / "raw")


def test_check_raw_accepts_the_repository():
    files = {p.name: p.read_bytes() for p in (REPO / "raw").glob("*.txt")}
    articles = check_raw(files, _entries())
    assert [a.article_id for a in articles] == sorted(p.stem for p in (REPO / "raw").glob("*.txt"))
    assert all(a.text.encode("utf-8") == files[a.article_id + ".txt"] for a in articles)


def test_check_raw_reports_every_problem_at_once():
    files = {p.name: p.read_bytes() for p in (REPO / "raw").glob("*.txt")}
    files.pop(SEED)
    files["999_ffffffffffffffff.txt"] = "نص".encode()
    with pytest.raises(IngestError) as err:
        check_raw(files, _entries())
    assert len(err.value.problems) == 2


def test_thousands_of_problems_make_a_short_message_and_are_all_kept():
    """3,000 files copied into raw/ without ``make add``: the message names the first 100 and
    counts the rest by kind (at most five kinds, then the others together); ``problems`` keeps
    every one."""
    from coalition_news.ingest import MAX_SHOWN

    files = {p.name: p.read_bytes() for p in (REPO / "raw").glob("*.txt")}
    files.update({f"{n}_{n:016x}.txt": f"نص {n}".encode() for n in range(1000, 4000)})
    with pytest.raises(IngestError) as err:
        check_raw(files, _entries())
    assert len(err.value.problems) == 3000
    message = str(err.value).splitlines()
    assert len(message) == 1 + MAX_SHOWN + 1
    assert message[-1] == "  … and 2,900 more: not listed in raw/sources.yaml (register it with `make add FILE=...`)"

    gone = [SourceEntry(f"{n}_{n:016x}.txt", "a" * 64, None, None, _entries()[0].published, "ar", None) for n in range(5000, 5300)]
    with pytest.raises(IngestError) as err:
        check_raw({}, gone)
    message = str(err.value).splitlines()  # each names its own file: all kinds differ
    assert len(err.value.problems) == 300 and len(message) == 1 + MAX_SHOWN + 6
    assert message[-1] == "  … and 195 more of other kinds"


@pytest.mark.parametrize(
    "data, message",
    [
        (b"   \n\t\n", "the file is empty (whitespace only)"),
        ("قال".encode("utf-16"), "looks like UTF-16"),
        ("قال\x00".encode(), "line 1: contains a NUL character"),
        (b"abc\n\xc3(", "line 2, byte 4: not valid UTF-8"),
    ],
)
def test_decode_article_refusals(data, message):
    with pytest.raises(IngestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        decode_article("raw/x.txt", data)


def test_ingest_leaves_the_garbage_collector_as_it_found_it(repo_copy):
    """read_raw runs without the cyclic collector (it only makes acyclic objects) and restores it,
    also when it refuses the input."""
    import gc

    from coalition_news.ingest import read_raw

    assert gc.isenabled()
    read_raw(repo_copy / "raw")
    assert gc.isenabled()
    (repo_copy / "raw" / "999_ffffffffffffffff.txt").write_bytes("نص".encode())
    with pytest.raises(IngestError):
        read_raw(repo_copy / "raw")
    assert gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(IngestError):
            read_raw(repo_copy / "raw")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_ingest_error_raised_in_a_worker_reaches_the_build_whole():
    """Errors cross from worker processes pickled; the message and every problem survive."""
    import pickle

    err = IngestError(["raw/007_0123456789abcdef.txt: changed during the build", "raw/x.txt: empty"])
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is IngestError and str(again) == str(err) and again.problems == err.problems


def test_what_the_listing_refuses_is_reported_in_file_name_order(repo_copy):
    """raw/ is read entry by entry, in the order the file system lists it; the problems still come
    in file-name order, each file's own in the order they were found."""
    from coalition_news.ingest import MAX_ARTICLE_BYTES, read_raw

    raw = repo_copy / "raw"
    names = [f"{n:03d}_{n:016x}" for n in range(900, 960)]
    for i, name in enumerate(names):
        if i % 3 == 0:
            (raw / f"{name}.pdf").write_bytes(b"%PDF")
        elif i % 3 == 1:
            (raw / name).mkdir()
        else:
            (raw / f"{name}.txt").write_bytes(b" " * (MAX_ARTICLE_BYTES + 1))
    with pytest.raises(IngestError) as err:
        read_raw(raw)
    files = [p.split(": ", 1)[0] for p in err.value.problems]
    assert files == sorted(files) and len(files) == 60 + 20  # an oversized file is also unlisted
    too_large = err.value.problems[files.index(f"raw/{names[2]}.txt"):][:2]
    assert "larger than the limit" in too_large[0] and "not listed" in too_large[1]


def test_ingest_holds_little_per_article_at_once(tmp_path):
    """read_raw's highest allocation, per article (tracemalloc): the manifest's entries and the
    articles, not copies of the manifest's text or a list of the whole listing. Here once ~3,000 bytes
    an article (the manifest's text split and copied whole: ~2,100 without that; the listing sorted and
    held, each file's path kept and interned), ~1,300 since."""
    import tracemalloc

    from coalition_news.ingest import read_raw, sha256_hex
    from coalition_news.manifest import Published, write_manifest

    raw = tmp_path / "raw"
    raw.mkdir()
    entries = []
    for n in range(3000):
        data = f"قال المتحدث في البيان رقم {n} إن العمليات مستمرة.\n".encode()
        digest = sha256_hex(data)
        name = f"{n:04d}_{digest[:16]}.txt"
        (raw / name).write_bytes(data)
        entries.append(SourceEntry(name, digest, "وكالة الأنباء", None,
                                   Published("2020-11", "month", "inferred", "The dateline prints it."), "ar", None))
    write_manifest(raw, entries)
    tracemalloc.start()
    try:
        articles = read_raw(raw, unread_ok=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(articles) == 3000 and articles[-1].text is None
    assert peak / 3000 < 1_700, f"{peak / 3000:,.0f} bytes an article at once"
