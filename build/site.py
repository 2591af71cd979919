"""A static HTML site to read the dataset: each article right-to-left with every extracted span
highlighted, and one page per table whose rows link to their highlighted span.

``make site`` writes ``site/`` (no server, no internet: inline CSS, no CDN, ten lines of script):

- ``index.html``: the articles and the tables;
- ``article-<article_id>.html``: the article's lines (``dir="rtl" lang="ar"``), each line anchored
  ``#L<line>``, each quote, speaker mention, figure and event wrapped at its exact character span
  and anchored by its row id (``article-000_….html#000_…-q0001234``);
- ``<table>.html``: every row of the table; ids, lines, speakers and quotes are links.

Spans may nest or overlap (a figure inside a quote, a speaker mention inside a quote). The text of
a line is cut at every span boundary and each piece is wrapped in the spans covering it, outermost
first; a span that crosses another is split into several elements, the first carrying its ``id``
and all carrying ``data-span`` with it. Following a link highlights the ``:target`` (CSS) and, with
the inline script, every piece of a split span (class ``target``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import schemas
from .load import load

# Span tables, in the order their highlights nest when two spans are identical (outermost first).
SPAN_TABLES = {"quotes": "q", "events": "e", "speaker_mentions": "m", "figures": "f"}
SPAN_LABELS = {"q": "quote", "e": "event date", "m": "speaker mention", "f": "figure"}
CSS = """
body{font-family:"Noto Naskh Arabic","Amiri","DejaVu Sans",Arial,sans-serif;margin:1.5rem auto;max-width:70rem;line-height:1.9;color:#222;padding:0 1rem}
nav,.meta,.legend{font-family:"DejaVu Sans",Arial,sans-serif;font-size:.9rem}
.text{font-size:1.2rem;border:1px solid #ddd;padding:1rem 1.5rem;background:#fff}
.line{margin:.2rem 0}.line .ln{display:inline-block;min-width:2.2em;color:#999;font-size:.75rem;text-decoration:none;margin-inline-end:.6em}
.line.kind-boilerplate,.line.repeat{color:#999}.line.kind-title{font-weight:bold;font-size:1.3rem}
.hl{border-radius:3px;padding:0 1px}
.hl.q{background:#fff3bf}
.hl.m{border-bottom:3px solid #1c7ed6;background:#e7f5ff}
.hl.f{background:#d3f9d8;outline:1px solid #2b8a3e}
.hl.e{background:#f3d9fa;border-bottom:2px dashed #862e9c}
.hl.target,.hl:target,.line:target{background:#ffa94d;outline:3px solid #d9480f}
table{border-collapse:collapse;font-size:.85rem;margin:1rem 0}td,th{border:1px solid #ddd;padding:.2rem .4rem;vertical-align:top}
th{background:#f1f3f5;position:sticky;top:0}tr:target{background:#ffe8cc}td.null{color:#bbb}
.legend span{margin-inline-end:1rem}
"""
SCRIPT = """
function markTarget(){
  document.querySelectorAll('.target').forEach(function(e){e.classList.remove('target')});
  var id=decodeURIComponent(location.hash.slice(1)); if(!id) return;
  document.querySelectorAll('[data-span="'+CSS.escape(id)+'"]').forEach(function(e){e.classList.add('target')});
}
markTarget(); window.addEventListener('hashchange', markTarget);
"""


@dataclass(frozen=True)
class Span:
    """One highlighted span, in file offsets: ``Span(120, 134, "f", "000_…-f0000120", "figure: 110000 USD")``."""

    start: int
    end: int
    kind: str
    id: str
    title: str


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def nesting_key(span: Span) -> tuple:
    """Outer spans first: earlier start, then longer, then the SPAN_TABLES order."""
    return (span.start, -span.end, list(SPAN_LABELS).index(span.kind), span.id)


def open_tag(span: Span, first: bool) -> str:
    id_attr = f' id="{esc(span.id)}"' if first else ""
    cont = "" if first else " cont"
    return f'<span class="hl {span.kind}{cont}"{id_attr} data-span="{esc(span.id)}" title="{esc(span.title)}">'


def highlight(text: str, offset: int, spans: list[Span]) -> str:
    """HTML of one line's ``text`` (starting at file offset ``offset``) with ``spans`` wrapped.

    Nested spans nest; crossing spans are split. ``highlight("قال إن 20 طائرة", 0,
    [Span(4, 15, "q", "q1", ""), Span(7, 9, "f", "f1", "")])`` wraps "20" inside the quote.
    """
    end_of_line = offset + len(text)
    local = sorted(
        (Span(max(s.start, offset) - offset, min(s.end, end_of_line) - offset, s.kind, s.id, s.title)
         for s in spans if s.start < end_of_line and s.end > offset and s.end > s.start),
        key=nesting_key,
    )
    cuts = sorted({0, len(text), *(s.start for s in local), *(s.end for s in local)})
    out: list[str] = []
    stack: list[Span] = []
    opened: set[str] = set()
    for a, b in zip(cuts, cuts[1:]):
        covering = [s for s in local if s.start <= a and b <= s.end]
        keep = 0
        while keep < len(stack) and keep < len(covering) and stack[keep] == covering[keep]:
            keep += 1
        out.append("</span>" * (len(stack) - keep))
        for s in covering[keep:]:
            out.append(open_tag(s, s.id not in opened))
            opened.add(s.id)
        stack = covering
        out.append(esc(text[a:b]))
    out.append("</span>" * len(stack))
    return "".join(out)


def article_spans(tables: dict[str, pd.DataFrame], article_id: str) -> list[Span]:
    speakers = tables["speakers"].set_index("speaker_id")["name"].to_dict()
    spans = []
    for table, kind in SPAN_TABLES.items():
        df = tables[table]
        pk = schemas.primary_key(table)[0]
        for row in df[df["article_id"] == article_id].itertuples(index=False):
            spans.append(Span(int(row.char_start), int(row.char_end), kind, getattr(row, pk), span_title(kind, row, speakers)))
    return spans


def span_title(kind: str, row, speakers: dict[str, str]) -> str:
    """The tooltip of a highlight: what the row says about its span."""
    label = SPAN_LABELS[kind]
    if kind == "q":
        who = speakers.get(row.speaker_id, "no speaker found") if pd.notna(row.speaker_id) else "no speaker found"
        verb = f" ({row.reporting_verb})" if pd.notna(row.reporting_verb) else ""
        return f"{label}: {who}{verb}"
    if kind == "m":
        return f"{label}: {speakers.get(row.speaker_id, row.speaker_id)} [{row.mention_type}]"
    if kind == "f":
        return f"{label}: {fmt(row.value)} {fmt(row.unit)} [{row.qualifier}]"
    return f"{label}: {fmt(row.event_type)} {fmt(row.date_start)} – {fmt(row.date_end)} [{row.date_precision}]"


def fmt(value) -> str:
    """A cell as text: '' for null, dates as YYYY-MM-DD, whole floats without '.0'."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def article_file(article_id: str) -> str:
    return f"article-{article_id}.html"


def cell_link(table: str, column: str, row: dict) -> str | None:
    """Where a cell links to: spans to their highlight, lines to their line, speakers to their row."""
    value = row[column]
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    pk = schemas.primary_key(table)
    if table in SPAN_TABLES and column == pk[0]:
        return f"{article_file(row['article_id'])}#{value}"
    if column == "article_id":
        return article_file(value)
    if column == "line" and "article_id" in row:
        return f"{article_file(row['article_id'])}#L{value}"
    if column == "speaker_id":
        return f"speakers.html#{value}"
    if column == "quote_id":
        return f"{article_file(row['article_id'])}#{value}"
    return None


def table_html(table: str, df: pd.DataFrame, row_anchors: bool = True, extra: dict[str, dict[str, str]] | None = None) -> str:
    """All rows of ``df`` as an HTML table; with ``row_anchors`` each row's id is its primary key
    (off on article pages, where that id belongs to the highlighted span). ``extra`` adds columns:
    heading → {row id → cell HTML}."""
    columns = list(df.columns)
    pk = schemas.primary_key(table)
    extra = extra or {}
    head = "".join(f"<th>{esc(c)}</th>" for c in [*columns, *extra])
    body = []
    for row in df.to_dict("records"):
        row_id = "-".join(fmt(row[c]) for c in pk)
        cells = []
        for c in columns:
            text, link = fmt(row[c]), cell_link(table, c, row)
            inner = f'<a href="{esc(link)}">{esc(text)}</a>' if link else esc(text)
            cells.append(f'<td dir="auto"{" class=null" if text == "" else ""}>{inner}</td>')
        cells += [f"<td>{column.get(row_id, '')}</td>" for column in extra.values()]
        anchor = f' id="{esc(row_id)}"' if row_anchors else ""
        body.append(f'<tr{anchor}>{"".join(cells)}</tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table>"


def page(title: str, body: str, lang: str = "en", direction: str = "ltr") -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}" dir="{direction}">\n<head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body>\n{body}\n"
        f"<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )


def nav() -> str:
    links = " · ".join(f'<a href="{t}.html">{t}</a>' for t in schemas.table_names())
    return f'<nav dir="ltr" lang="en"><a href="index.html">index</a> · tables: {links}</nav>'


def legend() -> str:
    items = "".join(f'<span class="hl {k}">{label}</span>' for k, label in SPAN_LABELS.items())
    return f'<p class="legend" dir="ltr" lang="en">Highlights: {items} — hover for details; follow a link to see its span.</p>'


def article_page(article: dict, tables: dict[str, pd.DataFrame]) -> str:
    aid = article["article_id"]
    spans = article_spans(tables, aid)
    lines = tables["lines"][tables["lines"]["article_id"] == aid]
    rendered = []
    for ln in lines.itertuples(index=False):
        classes = f"line kind-{ln.kind}" + (" repeat" if pd.notna(ln.repeat_of) else "")
        rendered.append(
            f'<p class="{classes}" id="L{ln.line}"><a class="ln" href="#L{ln.line}">{ln.line}</a>'
            f"{highlight(ln.text, int(ln.char_start), spans)}</p>"
        )
    meta = (
        f'<div class="meta" dir="ltr" lang="en"><p>{esc(aid)} · {esc(fmt(article["source_name"]) or "outlet unknown")} · '
        f'published {esc(fmt(article["published_period"]) or "unknown")} ({esc(fmt(article["published_date_basis"]) or "-")}) · '
        f'<code>{esc(article["raw_path"])}</code> · text © its publisher, shown for verification (see LICENSE)</p></div>'
    )
    rows = []
    for table in SPAN_TABLES:
        df = tables[table][tables[table]["article_id"] == aid]
        rows.append(f'<h2 dir="ltr">{table} ({len(df)})</h2>' + table_html(table, df, row_anchors=False))
    body = (
        f'{nav()}\n<h1 dir="auto">{esc(fmt(article["title"]) or aid)}</h1>\n{meta}\n{legend()}\n'
        f'<article class="text" dir="rtl" lang="ar">\n' + "\n".join(rendered) + "\n</article>\n"
        f'<section dir="ltr" lang="en">{"".join(rows)}</section>'
    )
    return page(fmt(article["title"]) or aid, body, lang="ar", direction="rtl")


def index_page(tables: dict[str, pd.DataFrame]) -> str:
    counts = {t: tables[t]["article_id"].value_counts() for t in SPAN_TABLES}
    items = []
    for a in tables["articles"].to_dict("records"):
        n = ", ".join(f"{counts[t].get(a['article_id'], 0)} {t}" for t in SPAN_TABLES)
        items.append(
            f'<li><a href="{article_file(a["article_id"])}" dir="auto">{esc(fmt(a["title"]) or a["article_id"])}</a> '
            f'<small>({esc(fmt(a["source_name"]) or "outlet unknown")}, {esc(fmt(a["published_period"]) or "date unknown")}; {n})</small></li>'
        )
    tables_list = "".join(f'<li><a href="{t}.html">{t}</a> ({len(tables[t])} rows)</li>' for t in schemas.table_names())
    body = (
        f"{nav()}\n<h1>{esc(schemas.datapackage()['title'])}</h1>\n<h2>Articles</h2><ul>{''.join(items)}</ul>"
        f"<h2>Tables</h2><ul>{tables_list}</ul>"
        "<p>Article texts are © their publishers and are shown only so that each row can be checked "
        "against its source; see LICENSE.</p>"
    )
    return page("coalition_news", body)


def speaker_links(tables: dict[str, pd.DataFrame]) -> dict[str, dict[str, str]]:
    """For the speakers page: each speaker's quotes and mentions, as links to their spans."""
    columns = {}
    for table, heading in (("quotes", "quotes"), ("speaker_mentions", "mentions")):
        pk = schemas.primary_key(table)[0]
        links: dict[str, list[str]] = {}
        for row in tables[table].dropna(subset=["speaker_id"]).itertuples(index=False):
            href = f"{article_file(row.article_id)}#{getattr(row, pk)}"
            links.setdefault(row.speaker_id, []).append(f'<a href="{esc(href)}">{esc(getattr(row, pk))}</a>')
        columns[heading] = {sid: "<br>".join(items) for sid, items in links.items()}
    return columns


def build_site(data_dir: Path, out_dir: Path) -> Path:
    """Write the site for the tables in ``data_dir`` into ``out_dir``; returns ``out_dir``."""
    tables = {t: load(t, data_dir=data_dir) for t in schemas.table_names()}
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = {"index.html": index_page(tables)}
    for a in tables["articles"].to_dict("records"):
        pages[article_file(a["article_id"])] = article_page(a, tables)
    for t in schemas.table_names():
        extra = speaker_links(tables) if t == "speakers" else None
        pages[f"{t}.html"] = page(t, f"{nav()}\n<h1>{t} ({len(tables[t])} rows)</h1>\n{table_html(t, tables[t], extra=extra)}")
    for name, content in pages.items():
        (out_dir / name).write_text(content, encoding="utf-8", newline="\n")
    return out_dir
