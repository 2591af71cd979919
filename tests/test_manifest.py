"""raw/sources.yaml is read safely and checked strictly; each refusal names the line."""

from __future__ import annotations

import dataclasses

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


# --- the fast path for the canonical layout must read exactly what safe YAML reads -------------

from hypothesis import assume, given, settings, strategies as st  # noqa: E402

from coalition_news.manifest import Published, SourceEntry, _NotCanonical, _parse_canonical, _parse_once  # noqa: E402


def _yaml_reading(text: str):
    _, lines, data = _parse_once(text)
    return lines, data["articles"]


def test_the_fast_path_reads_the_repository_manifest_as_yaml_does():
    text = (REPO / "raw" / "sources.yaml").read_text(encoding="utf-8")
    assert _parse_canonical(text) == _yaml_reading(text)


# Text that trips YAML: indicators, quotes, colons, hashes, words YAML reads as null/bool/number/date,
# Arabic, long phrases that the dumper folds over lines, spaces at the ends.
_TRICKY = st.one_of(
    st.sampled_from(["null", "~", "yes", "No", "on", "2015", "0x1F", "1e3", "2020-11-15", "12:30", "- x", "#x",
                     "a: b", "a #b", "'q'", '"dq"', "x:", " lead", "trail ", "وكالة الأنباء العراقية (واع)",
                     "المصدر: راديو سوا", "&anchor", "*alias", "!tag", "%", "@x", "`x", "|", ">", "?", "[x]", "{x}"]),
    st.text(alphabet=st.sampled_from(list("ab :#'\"-?,[]{}&*!|>%@`\tوكالةالأنباء0123456789\u200f")), max_size=40),
    st.lists(st.sampled_from(["word", "كلمة", "'", ":", "#", "-", "2020", "\"x\""]), min_size=10, max_size=40).map(" ".join),
)


@settings(max_examples=300, deadline=None)
@given(outlet=st.none() | _TRICKY, notes=st.none() | _TRICKY, reason=_TRICKY, url=st.none() | _TRICKY)
def test_the_fast_path_and_yaml_agree_on_any_dumped_manifest(outlet, notes, reason, url):
    entry = SourceEntry("001_0123456789abcdef.txt", "b" * 64, outlet, url,
                        Published("2020-11", "month", "inferred", reason), "ar", notes)
    text = dump_manifest([entry, dataclasses.replace(entry, file="002_0123456789abcdef.txt")])
    try:
        fast = _parse_canonical(text)
    except _NotCanonical:
        return  # the YAML parser reads it; nothing to compare
    assert fast == _yaml_reading(text)


@pytest.mark.parametrize("edit", [
    lambda t: t.replace("  notes: null\n", "  # a comment between fields\n  notes: null\n"),
    lambda t: t.replace("date: '2020-11-15'", "date: 2020-11-15"),
    lambda t: t.replace("outlet: null", 'outlet: "Radio \\u0053awa"'),
    lambda t: t.replace("  url: null\n", "  url:\n"),
])
def test_hand_edits_outside_the_canonical_layout_are_read_by_yaml(edit):
    text = edit(GOOD)
    with pytest.raises(_NotCanonical):
        _parse_canonical(text)
    [entry] = parse_manifest(text)
    assert entry.published.date == "2020-11-15" and entry.manifest_line == 2


@pytest.mark.parametrize("edit, says", [
    (lambda t: t.replace("- file: ", "- - file: "), "not valid safe YAML"),   # a list inside the list
    (lambda t: t.replace("- file: ", "file: "), "not valid safe YAML"),       # the entry's dash lost
    (lambda t: "articles:\n", "holding a list"),                               # YAML reads null, not []
])
def test_what_yaml_refuses_the_fast_path_does_not_read(edit, says):
    # The fast path once read "- - file:" as "- file:", and an entry without its dash as an entry.
    text = edit(GOOD)
    with pytest.raises(_NotCanonical):
        _parse_canonical(text)
    with pytest.raises(ManifestError, match=says):
        parse_manifest(text)


def test_an_invalid_entry_in_a_manifest_yaml_must_read_is_named_as_yaml_names_it():
    # Entries are checked as the fast path reads them; a bad entry before the line where the layout
    # ends must not hide the error YAML's reading finds (here a field given twice).
    bad_then_off_layout = GOOD.replace("language: ar", "language: 'not a tag!'") + GOOD.replace("articles:\n", "").replace(
        "000_", "001_").replace("  notes: null\n", "  notes: null\n  notes: null\n")
    with pytest.raises(ManifestError, match="given twice"):
        parse_manifest(bad_then_off_layout)
    only_bad = GOOD.replace("language: ar", "language: 'not a tag!'")
    with pytest.raises(ManifestError, match=r"sources.yaml:2: .*language"):
        parse_manifest(only_bad)


# --- make add inserts new entries into the existing text ---------------------------------------

from coalition_news.manifest import with_entries_inserted  # noqa: E402


def _entry(number: int, reason: str = "The dateline prints it.") -> SourceEntry:
    return SourceEntry(f"{number:03d}_{number:016x}.txt", f"{number:064x}", None, None,
                       Published("2020-11", "month", "inferred", reason), "ar", None)


@settings(max_examples=100, deadline=None)
@given(old=st.sets(st.integers(0, 2500), min_size=1, max_size=30), new=st.sets(st.integers(0, 2500), min_size=1, max_size=5),
       reason=_TRICKY)
def test_inserting_entries_gives_the_canonical_dump_of_all_of_them(old, new, reason):
    new -= old
    old_entries = [_entry(n, reason) for n in sorted(old)]
    new_entries = [_entry(n) for n in sorted(new)]
    text = dump_manifest(old_entries)
    inserted = with_entries_inserted(text, new_entries)
    try:
        _parse_canonical(text)
    except _NotCanonical:
        assert inserted is None  # make add rewrites such a manifest whole
        return
    # "1000_…" sorts before "999_…": a new entry may land anywhere, not only at the end
    assert inserted == dump_manifest(old_entries + new_entries)


def test_a_manifest_outside_the_canonical_layout_is_not_edited_in_place():
    text = GOOD.replace("  notes: null\n", "  # curated by hand\n  notes: null\n")
    assert with_entries_inserted(text, [_entry(7)]) is None
    assert with_entries_inserted("articles: []\n", [_entry(7)]) is None


@settings(max_examples=60, deadline=None)
@given(old=st.sets(st.integers(0, 2500), min_size=1, max_size=20), new=st.sets(st.integers(0, 2500), min_size=1, max_size=4),
       reason=_TRICKY.filter(str.strip), by_hand=st.booleans())  # a reason must say something
def test_make_add_inserts_from_the_first_read_as_a_second_parse_would(tmp_path_factory, old, new, reason, by_hand):
    """``add_to_manifest`` takes the entry lines from ``load_manifest`` (no second parse) and writes
    what ``with_entries_inserted`` gives, or the canonical dump of all entries when the text is
    not in the canonical layout (a comment added by hand)."""
    from coalition_news.manifest import add_to_manifest, load_manifest

    new -= old
    assume(new)
    raw = tmp_path_factory.mktemp("raw")
    text = dump_manifest([_entry(n, reason) for n in sorted(old)])
    if by_hand:
        text = text.replace("articles:\n", "articles:\n# kept by hand\n", 1)
    (raw / "sources.yaml").write_text(text, encoding="utf-8")
    manifest = load_manifest(raw)
    new_entries = [_entry(n) for n in sorted(new)]
    add_to_manifest(raw, manifest, new_entries)
    expected = with_entries_inserted(text, new_entries)
    if expected is None:
        expected = dump_manifest(manifest.entries + new_entries)
    assert (raw / "sources.yaml").read_text(encoding="utf-8") == expected
    assert [e.file for e in read_manifest(raw)] == sorted(e.file for e in manifest.entries + new_entries)


def test_reading_a_large_manifest_makes_no_copy_of_its_text():
    # The fast path once split the whole text into a list of lines to find its header, then copied
    # the body twice and split it into entries: ~7 bytes allocated per character of the text at
    # once (200 MB at 100,000 entries, a build's ingest peak). Read in place, the peak is the
    # checked entries (~1.5 bytes per character) and one entry's text at a time.
    import hashlib
    import tracemalloc

    from coalition_news.manifest import _entry_text

    one = _entry_text(SourceEntry("000_0123456789abcdef.txt", "a" * 64, "وكالة الأنباء", None,
                                  Published("2020-11", "month", "inferred", "The dateline prints it."), "ar", None))
    digests = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(10_000)]
    text = "articles:\n" + "".join(one.replace("000_0123456789abcdef", f"{i:06d}_{h[:16]}").replace("a" * 64, h)
                                   for i, h in enumerate(digests))
    tracemalloc.start()
    try:
        entries = parse_manifest(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [e.sha256 for e in entries] == digests and entries[-1].manifest_line == 1 + 11 * 9_999 + 1
    assert peak < 3 * len(text), f"{peak / len(text):.1f} bytes allocated at once per character of the manifest"
