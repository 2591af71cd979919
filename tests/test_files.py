"""Files written whole or not at all, and sealed files streamed (build/files.py)."""

from __future__ import annotations

import io

import pytest

from coalition_news.files import _CHUNK, append_sealed, read_sealed, write_sealed, write_sealed_range, written_atomically

# Arabic lines over more than two chunks: the streamed copies cross chunk boundaries mid-character.
TEXT = ("قال المتحدث إن الطائرات نفذت 12 غارة قرب الموصل.\n" * (2 * _CHUNK // 40)).encode("utf-8")


@pytest.mark.parametrize("start,end", [(0, len(TEXT)), (7, len(TEXT) - 3), (_CHUNK - 1, 2 * _CHUNK + 1), (5, 5)])
def test_a_sealed_range_is_the_sealed_file_of_those_bytes(tmp_path, start, end):
    source = tmp_path / "lines.csv"
    source.write_bytes(TEXT)
    write_sealed_range(tmp_path / "streamed", source, start, end)
    write_sealed(tmp_path / "whole", TEXT[start:end])
    assert (tmp_path / "streamed").read_bytes() == (tmp_path / "whole").read_bytes()
    assert read_sealed(tmp_path / "streamed") == TEXT[start:end]


def test_a_range_past_the_end_of_its_source_is_refused_and_writes_nothing(tmp_path):
    source = tmp_path / "lines.csv"
    source.write_bytes(TEXT[:100])
    with pytest.raises(OSError, match="early"):
        write_sealed_range(tmp_path / "kept", source, 50, 150)
    assert list(tmp_path.iterdir()) == [source]


def test_appending_sealed_lines_copies_them_or_leaves_the_output_as_it_was(tmp_path):
    kept = tmp_path / "kept"
    write_sealed(kept, TEXT)
    out = io.BytesIO()
    out.write(b"header\n")
    assert append_sealed(kept, out) and out.getvalue() == b"header\n" + TEXT

    damaged = bytearray(kept.read_bytes())
    damaged[-(_CHUNK + 10)] ^= 1  # one bit, in a chunk other than the first
    kept.write_bytes(bytes(damaged))
    before = out.getvalue()
    assert not append_sealed(kept, out)
    assert out.getvalue() == before and out.tell() == len(before)

    kept.write_bytes(kept.read_bytes()[: len(kept.read_bytes()) // 2])  # truncated
    assert not append_sealed(kept, out) and out.getvalue() == before
    assert not append_sealed(tmp_path / "missing", out) and out.getvalue() == before
    kept.write_bytes(TEXT)  # no seal line at all
    assert not append_sealed(kept, out) and out.getvalue() == before


def test_a_streamed_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "block.pickle"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with written_atomically(path) as out:
            out.write(b"half of the new")
            raise RuntimeError("killed mid-write")
    assert path.read_bytes() == b"old" and list(tmp_path.iterdir()) == [path]
    with written_atomically(path) as out:
        out.write(b"new")
    assert path.read_bytes() == b"new" and list(tmp_path.iterdir()) == [path]
