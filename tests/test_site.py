"""The static site: exact, nested highlights; links that land on their span; Arabic right to left
in a real browser (headless Chromium)."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coalition_news import load, schemas
from coalition_news.site import Span, highlight
from conftest import copy_built_repo, run_cli

TABLES = schemas.table_names()
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


class Fragments(HTMLParser):
    """Reads highlight() output back: the plain text, and for each span id its pieces of text and
    how many elements carry it as their id."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text, self.stack, self.pieces, self.ids = "", [], {}, {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.stack.append(a.get("data-span"))
        if "id" in a:
            self.ids[a["id"]] = self.ids.get(a["id"], 0) + 1

    def handle_endtag(self, tag):
        self.stack.pop()

    def handle_data(self, data):
        for span_id in filter(None, self.stack):
            self.pieces.setdefault(span_id, []).append((len(self.text), data))
        self.text += data


def read_back(markup: str) -> Fragments:
    parser = Fragments()
    parser.feed(markup)
    parser.close()
    assert parser.stack == [], "unbalanced tags"
    return parser


# --- highlight(): pure -----------------------------------------------------------------------

def test_a_figure_inside_a_quote_nests_inside_it():
    text = 'وقال إن "التحالف نفذ 37800 طلعة جوية"'
    q0, f0 = text.index("التحالف"), text.index("37800")
    markup = highlight(text, 100, [Span(100 + f0, 105 + f0, "f", "f1", ""), Span(100 + q0, 100 + len(text) - 1, "q", "q1", "")])
    assert re.search(r'<span class="hl q" id="q1"[^>]*>التحالف نفذ <span class="hl f" id="f1"[^>]*>37800</span> طلعة جوية</span>', markup)


def test_crossing_spans_are_split_and_keep_one_id():
    back = read_back(highlight("abcdefgh", 0, [Span(1, 5, "q", "q1", ""), Span(3, 7, "m", "m1", "")]))
    assert back.text == "abcdefgh"
    assert back.ids == {"q1": 1, "m1": 1}
    assert "".join(d for _, d in back.pieces["m1"]) == "defg"


def test_spans_are_clipped_to_their_line_and_text_is_escaped():
    back = read_back(highlight("a<b>&c", 10, [Span(5, 12, "q", "q1", 'say "hi"'), Span(15, 30, "e", "e1", "")]))
    assert back.text == "a<b>&c"
    assert "".join(d for _, d in back.pieces["q1"]) == "a<"
    assert "".join(d for _, d in back.pieces["e1"]) == "c"  # file offsets 15.. are line offsets 5..


@st.composite
def text_and_spans(draw):
    text = draw(st.text(alphabet="ابت ثج<&\"'x", min_size=1, max_size=30))
    n = draw(st.integers(0, 6))
    spans = []
    for i in range(n):
        a = draw(st.integers(0, len(text)))
        b = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from("qemf"))
        spans.append(Span(min(a, b), max(a, b), kind, f"{kind}{i}", ""))
    return text, spans


@settings(max_examples=300, deadline=None)
@given(text_and_spans())
def test_highlight_keeps_the_text_and_covers_each_span_exactly(case):
    text, spans = case
    back = read_back(highlight(text, 0, spans))
    assert back.text == text
    for s in spans:
        pieces = back.pieces.get(s.id, [])
        if s.end > s.start:
            assert "".join(d for _, d in pieces) == text[s.start:s.end]
            assert pieces[0][0] == s.start
            assert back.ids[s.id] == 1
        else:
            assert pieces == [] and s.id not in back.ids


# --- the built site -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built from the committed data/ (or a fresh build) into a temporary folder."""
    root = copy_built_repo(tmp_path_factory.mktemp("site") / "repo")
    result = run_cli(root, "site", "--out", str(root / "site"))
    assert result.returncode == 0, result.stderr
    return root / "site"


class Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.hrefs, self.html_attrs, self.resources = set(), [], {}, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.html_attrs = a
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "href" in a:
            self.hrefs.append(a["href"])
        if tag in ("link", "img", "iframe") or (tag == "script" and "src" in a):
            self.resources.append(a)


def parse(path: Path) -> Anchors:
    parser = Anchors()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_every_link_lands_on_an_existing_page_and_anchor(site):
    pages = {p.name: parse(p) for p in site.glob("*.html")}
    assert {"index.html", *(f"{t}.html" for t in TABLES)} <= set(pages)
    for name, page in pages.items():
        assert page.resources == [], f"{name} loads an external resource"
        for href in page.hrefs:
            target, _, anchor = href.partition("#")
            target = target or name
            assert target in pages, f"{name}: link to missing {target}"
            assert not anchor or anchor in pages[target].ids, f"{name}: {href} has no anchor"


def test_every_span_row_is_highlighted_once_on_its_article_page(site):
    for table, letter in (("quotes", "q"), ("speaker_mentions", "m"), ("figures", "f"), ("events", "e")):
        df = load(table, data_dir=site.parent / "data")
        pk = schemas.primary_key(table)[0]
        for article_id, rows in df.groupby("article_id"):
            page = (site / f"article-{article_id}.html").read_text(encoding="utf-8")
            for row_id in rows[pk]:
                assert page.count(f'id="{row_id}"') == 1, row_id
                assert f'href="article-{article_id}.html#{row_id}"' in (site / f"{table}.html").read_text(encoding="utf-8")


def test_highlighted_text_is_the_rows_verbatim_text(site):
    quotes = load("quotes", data_dir=site.parent / "data")
    for article_id, rows in quotes.groupby("article_id"):
        back = read_back((site / f"article-{article_id}.html").read_text(encoding="utf-8").split('<article', 1)[1].split(">", 1)[1].split("</article>")[0])
        for row in rows.itertuples():
            assert "".join(d for _, d in back.pieces[row.quote_id]) == row.text


def test_article_pages_are_arabic_right_to_left(site):
    for path in site.glob("article-*.html"):
        attrs = parse(path).html_attrs
        assert (attrs.get("lang"), attrs.get("dir")) == ("ar", "rtl")


# --- in a real browser ------------------------------------------------------------------------

def chromium() -> str:
    """Debian's chromium; installed with apt when the test runs as root in CI, else the test skips."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found and os.geteuid() == 0 and os.environ.get("CI"):
        subprocess.run(["apt-get", "update"], capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "chromium"], capture_output=True, timeout=1200)
        found = shutil.which("chromium")
    if not found:
        pytest.skip("chromium is not installed (apt-get install -y chromium); the browser checks need it")
    return found


def dump_dom(url: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
            capture_output=True, text=True, timeout=120,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def first_quote(site: Path) -> tuple[str, str]:
    quotes = load("quotes", data_dir=site.parent / "data")
    if quotes.empty:
        pytest.skip("no quotes in the data")
    row = quotes.iloc[0]
    return row["article_id"], row["quote_id"]


def test_following_a_quote_link_highlights_its_span_in_the_browser(site):
    article_id, quote_id = first_quote(site)
    dom = dump_dom(f"{(site / f'article-{article_id}.html').as_uri()}#{quote_id}")
    marked = re.findall(r'<span class="([^"]*)"[^>]*data-span="([^"]+)"', dom)
    targets = {span_id for classes, span_id in marked if "target" in classes.split()}
    assert targets == {quote_id}


def test_the_browser_lays_the_article_out_right_to_left_and_colours_the_target(site, tmp_path):
    """A copy of the page with a probe script that records what the browser computed."""
    article_id, quote_id = first_quote(site)
    probe = f"""<script>
      window.addEventListener('load', function() {{
      var q = document.getElementById({json.dumps(quote_id)});
      document.body.setAttribute('data-probe', JSON.stringify({{
        direction: getComputedStyle(document.querySelector('article')).direction,
        target: (document.querySelector(':target') || {{}}).id,
        targetBackground: getComputedStyle(q).backgroundColor,
        otherQuoteBackground: [].slice.call(document.querySelectorAll('.hl.q')).filter(function(e){{return e.dataset.span !== q.dataset.span}}).map(function(e){{return getComputedStyle(e).backgroundColor}})[0] || null
      }}));
      }});
    </script></body>"""
    page = (site / f"article-{article_id}.html").read_text(encoding="utf-8").replace("</body>", probe)
    copy = site / "probe.html"
    copy.write_text(page, encoding="utf-8")
    try:
        dom = dump_dom(f"{copy.as_uri()}#{quote_id}")
    finally:
        copy.unlink()
    found = json.loads(html.unescape(re.search(r'data-probe="([^"]*)"', dom).group(1)))
    assert found["direction"] == "rtl"
    assert found["target"] == quote_id
    assert found["targetBackground"] == "rgb(255, 169, 77)"  # .hl.target / :target
    assert found["otherQuoteBackground"] in (None, "rgb(255, 243, 191)")  # plain quote colour
