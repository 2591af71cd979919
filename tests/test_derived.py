"""Reference data kept between builds (``derived``): the gazetteer, the manifest's checked entries
and the digests of raw contents that passed ingest are read back only when they are what a fresh
computation would give; anything else is computed (and checked) again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coalition_news import derived
from coalition_news.ingest import CHECKED_RAW, IngestError, check_raw, read_raw, sha256_hex
from coalition_news.manifest import (
    MANIFEST_ENTRIES, Published, SourceEntry, _parse_checked, dump_manifest, load_manifest, read_manifest,
    write_manifest,
)
from coalition_news.pipeline import BuildOptions, build

from conftest import REPO, tree_bytes


def test_memo_outside_a_build_computes_every_time(tmp_path):
    calls = []
    assert derived.memo("x", "k", lambda: calls.append(1) or len(calls)) == 1
    assert derived.memo("x", "k", lambda: calls.append(1) or len(calls)) == 2
    assert derived.recall("x", "absent") == "absent"


def test_memo_reads_back_only_for_the_same_key_and_fingerprint(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"call": len(calls)}

    with derived.stored_in(tmp_path, "fingerprint-a"):
        assert derived.memo("x", "k1", compute) == {"call": 1}
        assert derived.memo("x", "k1", compute) == {"call": 1}   # read back, not computed
        assert derived.memo("x", "k2", compute) == {"call": 2}   # another key
    with derived.stored_in(tmp_path, "fingerprint-b"):
        assert derived.memo("x", "k2", compute) == {"call": 3}   # another extractor
    (tmp_path / "x.pickle").write_bytes(b"\x80\x05truncated")
    with derived.stored_in(tmp_path, "fingerprint-b"):
        assert derived.memo("x", "k2", compute) == {"call": 4}   # a damaged file is a miss
    assert len(calls) == 4 and not list(tmp_path.glob("*.tmp-*"))


def test_keep_and_recall_are_tied_to_the_fingerprint(tmp_path):
    with derived.stored_in(tmp_path, "a"):
        derived.keep("digests", frozenset({"d1"}))
        assert derived.recall("digests", frozenset()) == {"d1"}
    with derived.stored_in(tmp_path, "b"):
        assert derived.recall("digests", frozenset()) == frozenset()


def test_a_checked_digest_is_only_decoded_and_any_other_content_is_checked():
    """``check_raw`` trusts ``checked`` for exactly those bytes: here an English text, which the
    checks refuse, passes only when its digest is given (as a build gives the digests of contents
    that passed before)."""
    data = "no Arabic here\n".encode()
    entry = SourceEntry("a.txt", sha256_hex(data), None, None, Published(None, None, None, None), "ar", None)
    with pytest.raises(IngestError, match="no Arabic letter"):
        check_raw({"a.txt": data}, [entry])
    (article,) = check_raw({"a.txt": data}, [entry], checked={sha256_hex(data)})
    assert article.text == "no Arabic here\n"
    with pytest.raises(IngestError, match="no Arabic letter"):
        check_raw({"a.txt": data}, [entry], checked={sha256_hex(b"other bytes")})


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "raw", root / "raw")
    return root


def test_a_build_keeps_the_digests_it_checked_and_still_refuses_a_bad_new_file(tmp_path):
    root = _repo(tmp_path)
    build(root, BuildOptions(jobs=1))
    with derived.stored_in(root / ".cache" / "derived", _fingerprint(root)):
        checked = derived.recall(CHECKED_RAW, frozenset())
        assert checked == {e.sha256 for e in read_manifest(root / "raw")}
        # a new file that fails a check is refused although others come from the kept digests
        bad = "English only\n".encode()
        (root / "raw" / "999_00000000000000ba.txt").write_bytes(bad)
        entries = read_manifest(root / "raw")
        write_manifest(root / "raw", entries + [SourceEntry("999_00000000000000ba.txt", sha256_hex(bad), None, None, entries[0].published, "ar", None)])
        with pytest.raises(IngestError, match="999_00000000000000ba.txt: no Arabic letter"):
            read_raw(root / "raw")


def _fingerprint(root: Path) -> str:
    from coalition_news.cache import extractor_fingerprint

    return extractor_fingerprint()


def _entry(number: int, outlet: str | None) -> SourceEntry:
    return SourceEntry(f"{number:04d}_{number:016x}.txt", f"{number:064x}", outlet, None,
                       Published("2020-11", "month", "inferred", f"reason {number}"), "ar", None)


@settings(max_examples=60, deadline=None)
@given(old=st.sets(st.integers(0, 400), min_size=1, max_size=25), new=st.sets(st.integers(0, 400), max_size=5),
       outlet=st.none() | st.sampled_from(["وكالة الأنباء", "BBC: عربي", "'q'", "null"]))
def test_entries_read_with_those_known_from_before_equal_a_fresh_reading(old, new, outlet):
    """After ``make add`` inserts entries (anywhere: "1000_" sorts before "999_"), the entries
    known by a digest of their text from the last build's reading stand in for reading them again: every
    entry, and its line, is what a fresh reading gives."""
    before = dump_manifest([_entry(n, outlet) for n in old])
    _, _, known = _parse_checked(before, "raw/sources.yaml")
    after = dump_manifest([_entry(n, outlet) for n in old | new])
    fresh = _parse_checked(after, "raw/sources.yaml")
    assert _parse_checked(after, "raw/sources.yaml", known) == fresh
    assert [e.manifest_line for e in fresh[0]] == sorted(e.manifest_line for e in fresh[0])


def test_a_build_keeps_the_manifest_entries_by_their_text(tmp_path):
    root = _repo(tmp_path)
    build(root, BuildOptions(jobs=1))
    with derived.stored_in(root / ".cache" / "derived", _fingerprint(root)):
        known = derived.recall(MANIFEST_ENTRIES, {})
        assert sorted(e.file for e in known.values()) == sorted(p.name for p in (root / "raw").glob("*.txt"))
        # a hand edit of one entry is read and checked afresh (here: refused)
        text = (root / "raw" / "sources.yaml").read_text(encoding="utf-8")
        first = next(iter(known.values()))
        (root / "raw" / "sources.yaml").write_text(text.replace(f"sha256: {first.sha256}", "sha256: not-a-digest", 1),
                                                   encoding="utf-8")
        with pytest.raises(Exception, match="sha256"):
            load_manifest(root / "raw")


def test_rebuilding_with_everything_kept_gives_the_same_bytes(tmp_path):
    root = _repo(tmp_path)
    build(root, BuildOptions(jobs=1))
    first = tree_bytes(root / "data")
    # (the gazetteer is stored too, unless this test process had built it before the build)
    assert {"checked-raw.pickle", "manifest-entries.pickle"} <= {p.name for p in (root / ".cache" / "derived").iterdir()}
    build(root, BuildOptions(jobs=1))
    assert tree_bytes(root / "data") == first


def test_the_gazetteer_read_back_equals_a_fresh_one(tmp_path):
    from coalition_news.text import places

    with derived.stored_in(tmp_path, "f"):
        built = derived.memo("gazetteer", "", places._build_gazetteer)
        read_back = derived.memo("gazetteer", "", lambda: pytest.fail("built again"))
    assert read_back == built == places._gazetteer()


# --- raw files left unread when unchanged since their content passed ---------------------------

def test_unchanged_raw_files_are_not_read_and_their_texts_come_when_needed(tmp_path, monkeypatch):
    from coalition_news import ingest
    from coalition_news.ingest import with_texts

    root = _repo(tmp_path)
    build(root, BuildOptions(jobs=1))
    read = []  # the files each read_raw read (and checked), by name
    real_check = ingest.check_raw
    monkeypatch.setattr(ingest, "check_raw", lambda files, *a, **k: read.append(sorted(files)) or real_check(files, *a, **k))
    with derived.stored_in(root / ".cache" / "derived", _fingerprint(root)):
        fresh = read_raw(root / "raw", unread_ok=True)  # the files were written < 1 s ago: read again
        assert len(read[-1]) == len(fresh) > 0
        monkeypatch.setattr(ingest, "RACY_NS", 0)  # as if the last look were long after the last change
        lazy = read_raw(root / "raw", unread_ok=True)
        assert read[-1] == []
        # a build's articles come without their texts, read block by block (``with_texts``)
        assert all(a.text is None for a in lazy) and all(a.text is None for a in fresh)
        assert [a.text for a in with_texts(lazy, root)] == [a.text for a in read_raw(root / "raw")]
        assert [(a.article_id, a.sha256, a.n_bytes, a.source) for a in lazy] == [
            (a.article_id, a.sha256, a.n_bytes, a.source) for a in fresh]


def test_a_raw_file_edited_in_place_is_read_and_refused_even_with_its_old_times(tmp_path, monkeypatch):
    """Same size, modification time put back: the change time still moves, so the file is read,
    and its new SHA-256 is refused. A file that changes after ingest is refused when its text is
    read for extraction."""
    import os

    from coalition_news import ingest
    from coalition_news.ingest import with_texts

    root = _repo(tmp_path)
    build(root, BuildOptions(jobs=1))
    monkeypatch.setattr(ingest, "RACY_NS", 0)
    path = sorted((root / "raw").glob("*.txt"))[0]
    with derived.stored_in(root / ".cache" / "derived", _fingerprint(root)):
        lazy = read_raw(root / "raw", unread_ok=True)
        before = path.stat()
        data = path.read_bytes()
        path.write_bytes(data.replace("ال".encode(), "أل".encode(), 1))
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert path.stat().st_size == before.st_size
        with pytest.raises(IngestError, match=f"{path.name}: changed during the build"):
            with_texts(lazy, root)
        with pytest.raises(IngestError, match=f"{path.name}: SHA-256 is"):
            read_raw(root / "raw", unread_ok=True)
