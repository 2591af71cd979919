"""Stage 2 — lines: split an article into its raw lines and say what each one is.

Every later stage points into this index: a line is ``(article_id, line)``, its exact span in
the raw file, its verbatim text and its kind:

- ``title``: the headline; ``dateline``: a place/agency/date line ("بغداد-واع-", "21 مارس 2021");
- ``byline``: an author or source credit ("خالد الطائي", "المصدر: راديو سوا");
- ``heading``: a subhead between paragraphs ("الضربات الجوية");
- ``caption``: a photo caption, recognised by its credit ("… [حقوق الصورة لوزارة …]", "(الأناضول)");
- ``body``: article text; ``boilerplate``: page furniture ("+A -A", "0 تعليق", "اقرأ أيضا: …").

Lines count from 1 and are separated by ``\\n`` only; a ``\\r`` before it (CRLF files) is not part
of the line's text or span. Blank lines are not in the index. A line whose stripped text repeats an
earlier line of the same article (a caption printed twice) records ``repeat_of``; extractors skip it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import re

import regex

from .lexicon import load_lexicon
from .text.frozen import stored_at_once
from .text.normalise import for_text, has_arabic, normalize, spelled_out

KINDS = ("title", "dateline", "byline", "heading", "caption", "body", "boilerplate")
# Kinds whose text is article content that extractors read.
CONTENT_KINDS = frozenset({"title", "body", "caption", "heading"})


@stored_at_once
@dataclass(frozen=True)
class Line:
    """One non-blank raw line. ``text == raw_text[char_start:char_end]`` always holds."""

    article_id: str
    line: int
    char_start: int
    char_end: int
    text: str
    kind: str = "body"
    repeat_of: int | None = None

    @property
    def extractable(self) -> bool:
        """Whether extractors read this line: content, and not a repeat of an earlier line."""
        return self.kind in CONTENT_KINDS and self.repeat_of is None


def split_lines(article_id: str, text: str) -> list[Line]:
    """The non-blank lines of ``text`` with exact spans, all of kind ``body`` for now.

    >>> [(l.line, l.text) for l in split_lines("a", "عنوان\\n\\nنص\\r\\n")]
    [(1, 'عنوان'), (3, 'نص')]
    """
    return [Line(*fields) for fields in _line_fields(article_id, text)]


def _line_fields(article_id: str, text: str) -> list[tuple[str, int, int, int, str]]:
    """The fields of ``split_lines``' Lines, before any Line is built (``article_lines`` builds
    each line once, with its kind)."""
    out: list[tuple[str, int, int, int, str]] = []
    pos = 0
    for number, raw_line in enumerate(text.split("\n"), start=1):
        start = pos
        pos += len(raw_line) + 1
        if raw_line.endswith("\r"):
            raw_line = raw_line[:-1]
        # the split's piece is the line's text: no slice of ``text``; ``isspace`` is what
        # ``strip`` strips, without building the stripped copy
        if raw_line and not raw_line.isspace():
            out.append((article_id, number, start, start + len(raw_line), raw_line))
    return out


# --- classification -----------------------------------------------------------------------

def _anchored(pattern: str) -> bool:
    """Whether a pattern can only match at the start of the text: it opens with ``^`` and has no
    top-level ``|`` (``^a|b`` finds ``b`` anywhere).

    >>> _anchored(r"^(XS|SM)$"), _anchored(r"^a|b"), _anchored(r"[|^]x"), _anchored(r"بشأن")
    (True, False, False, False)
    """
    if not pattern.startswith("^"):
        return False
    depth, in_class, i = 0, False, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return False
        i += 1
    return True


class _Boilerplate:
    """Whether any boilerplate pattern matches a line: the anchored ones (most) in one
    alternation tried at the start only, the others one search each. Much faster than one
    search of the whole alternation, which tries every pattern at every position."""

    def __init__(self, patterns: list[str]):
        anchored = [p for p in patterns if _anchored(p)]
        self._start = regex.compile("|".join(f"(?:{p})" for p in anchored), regex.IGNORECASE) if anchored else None
        self._anywhere = [regex.compile(p, regex.IGNORECASE) for p in patterns if not _anchored(p)]

    def search(self, text: str) -> bool:
        # a line has no newline, so "^" matches only at 0: match() is search() for these
        if self._start is not None and self._start.match(text):
            return True
        for pattern in self._anywhere:  # a loop, not a generator per line
            if pattern.search(text):
                return True
        return False


@cache
def _furniture():
    lex = load_lexicon("page_furniture")
    patterns = _Boilerplate([normalize(p) for p in lex["boilerplate_patterns"]])
    sections = frozenset(normalize(w) for w in lex["section_labels"])
    credits = sorted({normalize(w).lower() for w in lex["caption_credit_words"]}, key=len, reverse=True)
    credit_alt = "|".join(regex.escape(c) for c in credits)
    caption_end = regex.compile(
        rf"(?:[\[(](?:[^\[\]()]*\s)?(?:{credit_alt})(?:\s[^\[\]()]*)?[\])]|[,\-–]\s*(?:{credit_alt}))\s*$",
        regex.IGNORECASE,
    )
    credit_start = regex.compile(
        r"^(?:" + "|".join(regex.escape(normalize(w)) for w in lex["credit_prefixes"]) + r")\s*[:：]"
    )
    return patterns, sections, caption_end, credit_start


_DATE_ONLY = regex.compile(r"^[\s•·\-–|,]*(?:\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{1,2}\s+\p{L}+(?:\s+\p{L}+)?\s+\d{4})[\s,،]*(?:\d{1,2}:\d{2})?[\s•·]*$")
_AGENCY_DATELINE = regex.compile(r"^\s*\p{L}+(?:\s\p{L}+)?\s*[-–—]\s*\p{L}+(?:\s\p{L}+)?\s*[-–—]")
_SENTENCE_END = regex.compile(r"[.!?؟:\"»”'…]\s*$")
_WORD = regex.compile(r"[\p{L}\p{N}]+")
_WORD_SPLIT = regex.compile(f"({_WORD.pattern})")  # the same words, for a split that keeps them
# the same below U+3000 for stdlib ``re``, which splits off a line's first words in half the time
_WORD_SPLIT_RE = re.compile("([" + spelled_out(r"[\p{L}\p{N}]") + "]+)")
_DIGIT = regex.compile(r"\d")
_FOUR_DIGITS = regex.compile(r"\d{4}")


# Classification only asks whether a line has at most 3, 4 or 8 words, or at least 9, and
# what its first word is: the first nine words answer all of that.
_WORDS_READ = 9


def _words(s: str) -> list[str]:
    return _WORD.findall(s)


def _first_words(s: str, limit: int = _WORDS_READ) -> list[str]:
    """``_words(s)[:limit]``, without scanning a long paragraph to its end: a split with the
    word captured alternates separators and words, and stops after the ``limit``-th."""
    return for_text(_WORD_SPLIT, _WORD_SPLIT_RE, s).split(s, limit)[1::2]


def _is_boilerplate(norm: str, raw: str, words: list[str]) -> bool:
    """``words``: the first words of ``norm`` (at least four of them, when it has them), found once
    per line by ``classify``."""
    patterns, sections, _, _ = _furniture()
    if not has_arabic(raw) and not _FOUR_DIGITS.search(raw):
        return True  # Latin-only interface text: "Accessibility links", "XS"
    if patterns.search(norm):
        return True
    return 0 < len(words) <= 3 and words[0] in sections


# A caption ends with its credit or a closing bracket (then spaces only): a line ending with
# sentence punctuation cannot match, and most paragraphs end so.
_NOT_CAPTION_END = frozenset('.,;:!?"…')


def _is_caption(norm: str) -> bool:
    if norm.rstrip(" ")[-1:] in _NOT_CAPTION_END:
        return False
    return bool(_furniture()[2].search(norm.lower()))


def _ends_sentence(norm: str) -> bool:
    """Whether ``norm`` is closed by sentence punctuation (a paragraph has nine words or more, or
    this; a label has neither).

    ``_SENTENCE_END.search(norm)``, tried at the last non-space character only: a match is a mark
    followed by ``\\s`` to the end, and ``str.rstrip`` strips every ``\\s`` (and a few more), so
    no match starts before it. (Searched from the start, the pattern is tried at every character.)

    >>> _ends_sentence("قال الوزير.  "), _ends_sentence("قال. الوزير")
    (True, False)
    """
    return _SENTENCE_END.search(norm, max(0, len(norm.rstrip()) - 1)) is not None


def classify(lines: list[Line]) -> list[Line]:
    """Give each line its kind and mark verbatim repeats; a pure function of the lines.

    The head of an article (before its first paragraph) holds the title, datelines, bylines,
    breadcrumbs and captions; after it, short unpunctuated lines are subheads.
    """
    return _classified([(ln.article_id, ln.line, ln.char_start, ln.char_end, ln.text) for ln in lines])


def _classified(lines: list[tuple[str, int, int, int, str]]) -> list[Line]:
    """``classify`` of lines given by their fields (article, line, start, end, text)."""
    _, _, _, credit_start = _furniture()
    out: list[Line] = []
    seen: dict[str, Line] = {}
    title_found = False
    in_head = True
    for article_id, number, start, end, text in lines:
        key = text.strip()
        if key in seen:  # a verbatim repeat inherits the kind of its first occurrence
            first = seen[key]
            out.append(Line(article_id, number, start, end, text, first.kind, first.line))
            continue
        norm = normalize(text)
        # The tests below ask whether a line has at most 3, 4 or 8 words: the first five words tell
        # the first two, and the first nine (``_WORDS_READ``, split only for the few lines that get
        # that far) the last; a paragraph is mostly told by its final full stop first.
        words = _first_words(norm, 5)
        n_words = len(words)  # capped at 5: exact up to 4
        if _is_boilerplate(norm, text, words):
            kind = "boilerplate"
        elif credit_start.search(norm):
            kind = "byline"
        elif _is_caption(norm):
            kind = "caption"
        elif _DATE_ONLY.search(norm) or (
            in_head and title_found and _AGENCY_DATELINE.search(norm) and len(_first_words(norm)) <= 8
        ):
            kind = "dateline"
        elif not title_found:
            kind = "title"
            title_found = True
        elif in_head and n_words <= 4 and not _ends_sentence(norm) and not _DIGIT.search(norm):
            kind = "byline"  # a short unpunctuated label in the head, with no digits
        elif not in_head and not _ends_sentence(norm) and len(_first_words(norm)) <= 8:
            kind = "heading"  # unpunctuated and short: a label, not a paragraph
        else:
            kind = "body"
            in_head = False
        new = Line(article_id, number, start, end, text, kind)
        seen[key] = new
        out.append(new)
    return out


def article_lines(article_id: str, text: str) -> list[Line]:
    """``split_lines`` then ``classify``: the lines index of one article (each Line built once)."""
    return _classified(_line_fields(article_id, text))
