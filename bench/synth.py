"""A synthetic corpus for the benchmark: real paragraphs, recombined and perturbed.

Each synthetic article takes a title and 6–20 body paragraphs from the real seed articles
(``raw/`` of this repository and ``../shared/corpus`` when it is there), then perturbs them so the
extractors cannot lean on anything repeated: every digit run gets new digits of the same length,
every month name becomes another month of the same calendar spelling, and the word after a rank or
honorific (from the ``titles`` lexicon) becomes another common given name. Articles are
deterministic in (seed, index) and all distinct (the build refuses duplicates).

``write_corpus(root, n)`` writes ``root/raw/NNN_<sha16>.txt`` and ``root/raw/sources.yaml``
directly (the layout ``make add`` produces), without the per-file checks of ``register``: the
benchmark measures those separately (``bulk_add``).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import regex

from coalition_news.lexicon import load_lexicon
from coalition_news.manifest import Published, SourceEntry, dump_manifest

REPO = Path(__file__).resolve().parents[1]
SEED_DIRS = (REPO / "raw", REPO.parent / "shared" / "corpus")

# Common Arabic given names used as replacements (general knowledge, not taken from any article).
GIVEN_NAMES = (
    "محمد", "أحمد", "علي", "حسن", "حسين", "عمر", "خالد", "سعيد", "يوسف", "إبراهيم", "مصطفى", "كريم",
    "سامي", "نبيل", "فاضل", "رعد", "جاسم", "ماجد", "طارق", "زياد", "ستيفن", "جون", "مايكل", "ديفيد",
)
# Month names as the press writes them: Levantine/Iraqi and Egyptian/Gulf (CLDR, via babel).
_DIGITS = regex.compile(r"[0-9]+|[٠-٩]+")
_DATELINE = regex.compile(r"• (\d\d)-(\d\d)-(\d{4}), ")  # as synthetic_article writes it
_WESTERN = str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")


@cache
def month_sets() -> tuple[tuple[str, ...], ...]:
    from babel.dates import get_month_names

    return tuple(tuple(get_month_names("wide", locale=loc)[i] for i in range(1, 13)) for loc in ("ar_IQ", "ar_EG"))


@cache
def _month_pattern() -> regex.Pattern:
    names = sorted({m for months in month_sets() for m in months}, key=len, reverse=True)
    return regex.compile(r"(?<!\p{L})(" + "|".join(map(regex.escape, names)) + r")(?!\p{L})")


@cache
def _title_pattern() -> regex.Pattern:
    lexicon = load_lexicon("titles")
    titles = sorted({t for key, v in lexicon.items() if isinstance(v, list) for t in v}, key=len, reverse=True)
    return regex.compile(r"(?<!\p{L})((?:" + "|".join(map(regex.escape, titles)) + r")\s+)(\p{L}+)")


def seed_paragraphs(seed_dirs=SEED_DIRS) -> tuple[list[str], list[str]]:
    """(titles, body paragraphs) of every real article found in ``seed_dirs``."""
    titles, paragraphs = [], []
    for folder in seed_dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.txt")):
            lines = [ln.rstrip("\r") for ln in path.read_text(encoding="utf-8").split("\n")]
            content = [ln for ln in lines if ln.strip()]
            if not content:
                continue
            titles.append(content[0])
            paragraphs += [ln for ln in content[1:] if len(ln) >= 40]
    if not titles or not paragraphs:
        raise SystemExit("no seed articles found (raw/*.txt)")
    return titles, paragraphs


def _new_digits(run: str, rng: random.Random) -> str:
    """Digits of the same kind, keeping the run plausible: a day stays 1–28, a year stays a year."""
    zero = ord("٠") if "٠" <= run[0] <= "٩" else ord("0")
    if len(run) <= 2:
        value = str(rng.randint(1, 28))
    elif len(run) == 4 and run.translate(_WESTERN)[:2] in ("19", "20"):
        value = str(rng.randint(2000, 2025))
    else:
        value = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(len(run) - 1))
    return "".join(chr(zero + int(c)) for c in value)


def perturb(text: str, rng: random.Random, month_shift: int | None = None) -> str:
    """New digits, every month moved by the same shift (so "آب/أغسطس" pairs stay pairs), new names."""
    shift = rng.randint(1, 11) if month_shift is None else month_shift

    def month(m: regex.Match) -> str:
        for months in month_sets():
            if m.group() in months:
                return months[(months.index(m.group()) + shift) % 12]
        return m.group()

    text = _DIGITS.sub(lambda m: _new_digits(m.group(), rng), text)
    text = _month_pattern().sub(month, text)
    return _title_pattern().sub(lambda m: m.group(1) + rng.choice(GIVEN_NAMES), text)


def synthetic_article(index: int, titles: list[str], paragraphs: list[str], seed: int = 0) -> str:
    rng = random.Random(f"{seed}:{index}")
    shift = rng.randint(1, 11)
    head = perturb(rng.choice(titles), rng, shift)
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2014, 2021)
    body = [perturb(p, rng, shift) for p in rng.sample(paragraphs, rng.randint(6, min(20, len(paragraphs))))]
    return "\n".join([head, "", f"  • {day:02d}-{month:02d}-{year}, {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}", "", *body]) + "\n"


def synthetic_texts(n: int, seed: int = 0, seed_dirs=SEED_DIRS) -> Iterator[bytes]:
    """``n`` distinct synthetic articles as UTF-8 bytes."""
    titles, paragraphs = seed_paragraphs(seed_dirs)
    seen: set[str] = set()
    index = 0
    while len(seen) < n:
        data = synthetic_article(index, titles, paragraphs, seed).encode("utf-8")
        index += 1
        digest = hashlib.sha256(data).hexdigest()
        if digest not in seen:
            seen.add(digest)
            yield data


def write_corpus(root: Path, n: int, seed: int = 0, seed_dirs=SEED_DIRS) -> int:
    """Write ``n`` articles and their manifest under ``root/raw``; return the raw bytes written."""
    raw = root / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    entries, total = [], 0
    for number, data in enumerate(synthetic_texts(n, seed, seed_dirs)):
        digest = hashlib.sha256(data).hexdigest()
        name = f"{number:03d}_{digest[:16]}.txt"
        (raw / name).write_bytes(data)
        total += len(data)
        day, month, year = _DATELINE.search(data.decode("utf-8")).groups()
        published = Published(f"{year}-{month}-{day}", "day", "stated", f"The head of the article prints {day}-{month}-{year}.")
        entries.append(SourceEntry(name, digest, "synthetic", None, published, "ar", None))
    (raw / "sources.yaml").write_text(dump_manifest(entries), encoding="utf-8", newline="\n")
    return total


def write_folder(folder: Path, n: int, seed: int) -> int:
    """``n`` loose .txt files in ``folder`` (input for a bulk ``make add FILE=folder/``)."""
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for i, data in enumerate(synthetic_texts(n, seed)):
        (folder / f"article_{i:07d}.txt").write_bytes(data)
        total += len(data)
    return total
