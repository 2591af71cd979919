"""raw/sources.yaml is read safely and checked strictly; each refusal names the line."""

from __future__ import annotations

import pytest

from coalition_news.manifest import ManifestError, parse_manifest, read_manifest, dump_manifest
from conftest import REPO

GOOD = """\
articles:
- file: 000_0123456789abcdef.txt
  sha256: {sha}
  outlet: null
  url: null
  published:
    date: '2020-11-15'
    precision: day
    basis: stated
    reason: The dateline prints it.
  language: ar
  notes: null
""".replace("{sha}", "a" * 64)


def test_the_repository_manifest_lists_every_raw_file_once():
    entries = read_manifest(REPO / "raw")
    assert sorted(e.file for e in entries) == sorted(p.name for p in (REPO / "raw").glob("*.txt"))
    assert all(e.published.basis in ("stated", "inferred", "curated", None) for e in entries)


def test_dump_then_parse_round_trips_the_repository_manifest():
    entries = read_manifest(REPO / "raw")
    text = dump_manifest(entries)
    assert text == (REPO / "raw" / "sources.yaml").read_text(encoding="utf-8")
    assert [e.to_yaml_dict() for e in parse_manifest(text)] == [e.to_yaml_dict() for e in entries]


def test_a_valid_entry_parses_with_its_line():
    [entry] = parse_manifest(GOOD)
    assert entry.article_id == "000_0123456789abcdef"
    assert entry.manifest_line == 2
    assert entry.published.day.isoformat() == "2020-11-15"


@pytest.mark.parametrize(
    "change, message",
    [
        (("  notes: null\n", "  notes: null\n  color: red\n"), "unknown field(s) color"),
        (("  url: null\n", ""), "missing field(s) url"),
        (("file: 000_0123456789abcdef.txt", "file: ../../etc/passwd"), "must be a file name in raw/"),
        (("file: 000_0123456789abcdef.txt", "file: sub/000_0123456789abcdef.txt"), "must be a file name in raw/"),
        (("    precision: day", "    precision: month"), "does not match precision month"),
        (("    basis: stated", "    basis: guessed"), "published.basis"),
        (("'2020-11-15'", "'2020-02-30'"), "not a calendar date"),
        (("  language: ar", "  language: Arabic!"), "BCP 47"),
    ],
)
def test_a_bad_entry_is_refused_with_its_line(change, message):
    old, new = change
    with pytest.raises(ManifestError) as err:
        parse_manifest(GOOD.replace(old, new), "raw/sources.yaml")
    assert message in str(err.value)
    assert "raw/sources.yaml:2" in str(err.value)


def test_python_tags_are_refused_not_executed():
    evil = GOOD.replace("  notes: null", "  notes: !!python/object/apply:os.system ['echo pwned']")
    with pytest.raises(ManifestError, match="not valid safe YAML"):
        parse_manifest(evil)


def test_a_file_listed_twice_is_refused():
    twice = GOOD + GOOD.split("\n", 1)[1]
    with pytest.raises(ManifestError, match="listed twice"):
        parse_manifest(twice)
