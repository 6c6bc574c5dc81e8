"""Which column of a file holds which product field: suggestions from the header names
(synonyms of the common shop exports and languages, then similarity), and a mapping the
user chose. Pure: no I/O.

`suggest_mapping` is the one place that reads header names; the API and the Import page
both call it through the header check, so they always suggest the same.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
import unicodedata
from dataclasses import dataclass, field

FIELDS = ("sku", "name", "description", "price", "active")
REQUIRED_FIELDS = FIELDS[:3]

# Header names each field is known by, best first, written as `normalise_header` leaves
# them: lower case, no accents, words separated by one space. When a file has two of
# them, the earlier one wins (WooCommerce's "Description" over "Short description").
SYNONYMS: dict[str, tuple[str, ...]] = {
    "sku": (
        "sku",
        "variant sku",
        "product sku",
        "item sku",
        "sku code",
        "artikelnummer",
        "artikel nr",
        "art nr",
        "artnr",
        "article number",
        "article no",
        "item number",
        "item no",
        "product number",
        "product code",
        "item code",
        "part number",
        "reference",
        "ref",
        "referencia",
        "codigo",
        "code",
        "codice",
        "numero articolo",
        "code article",
        "handle",
    ),
    "name": (
        "name",
        "title",
        "product name",
        "product title",
        "item name",
        "article name",
        "bezeichnung",
        "artikelbezeichnung",
        "artikelname",
        "produktname",
        "nom",
        "nom du produit",
        "designation",
        "libelle",
        "nombre",
        "nombre del producto",
        "titulo",
        "nome",
        "naam",
        "titel",
    ),
    "description": (
        "description",
        "long description",
        "body html",
        "body",
        "product description",
        "item description",
        "full description",
        "beschreibung",
        "langtext",
        "langbeschreibung",
        "artikelbeschreibung",
        "descripcion",
        "descrizione",
        "omschrijving",
        "desc",
        "descr",
        "beschrijving",
        "details",
        "short description",
        "kurzbeschreibung",
    ),
    "price": (
        "price",
        "variant price",
        "regular price",
        "unit price",
        "retail price",
        "list price",
        "sales price",
        "selling price",
        "preis",
        "verkaufspreis",
        "vk preis",
        "vk",
        "prix",
        "prix de vente",
        "precio",
        "precio de venta",
        "prezzo",
        "prijs",
        "amount",
    ),
    "active": (
        "active",
        "is active",
        "status",
        "published",
        "enabled",
        "visible",
        "online",
        "aktiv",
        "actif",
        "statut",
        "activo",
        "estado",
        "attivo",
        "actief",
    ),
}
# Words that only qualify a header ("Product SKU", "Artikel Preis"): a header with one of
# them first is also looked up without it.
_QUALIFIERS = ("product", "item", "article", "variant", "artikel", "produkt", "produit")
# Words that only say a unit or a tax ("Prix TTC", "Price EUR", "Preis brutto"): a header
# with one of them last is also looked up without it.
_UNITS = ("eur", "usd", "gbp", "chf", "ttc", "ht", "net", "netto", "gross", "brutto", "incl vat")
# Similarity (difflib's ratio) from which a header is offered for a field, and from which
# it is taken without asking when it is the only one.
SUGGEST_RATIO = 0.6
AUTO_RATIO = 0.84

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def normalise_header(header: str) -> str:
    """A header as compared: no BOM, accents, case, punctuation or extra spaces;
    camelCase and snake_case split into words ("productName" -> "product name")."""
    text = header.replace("\ufeff", "")
    text = _CAMEL.sub(" ", text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return _NOT_WORD.sub(" ", text).strip()


def _rank(field_name: str, norm: str) -> float | None:
    """How well a normalised header names a field by its synonyms (lower is better)."""
    names = SYNONYMS[field_name]
    if norm in names:
        return float(names.index(norm))
    first, _, rest = norm.partition(" ")
    if first in _QUALIFIERS and rest in names:
        return names.index(rest) + 0.5
    for unit in _UNITS:
        if norm.endswith(" " + unit) and (base := norm[: -len(unit) - 1]) in names:
            return names.index(base) + 0.5
    return None


# Longest header compared by similarity (difflib's cost grows with the square of it), and
# most columns a header may have for similarity to be tried at all (real exports have a
# few hundred at most; a wider file is matched by synonyms only, in bounded time).
_SIMILAR_MAX_CHARS = 64
_SIMILAR_MAX_COLUMNS = 1000


def _similarity(field_name: str, norm: str) -> float:
    if not norm or len(norm) > _SIMILAR_MAX_CHARS:
        return 0.0
    best = 0.0
    for name in SYNONYMS[field_name]:
        matcher = difflib.SequenceMatcher(None, norm, name)
        if matcher.real_quick_ratio() > best and matcher.quick_ratio() > best:
            best = max(best, matcher.ratio())
    return best


class MappingProblem(ValueError):
    """A mapping the user gave cannot be used (the message names why)."""


@dataclass(frozen=True)
class MappingSuggestion:
    """What the header names say: the column chosen for each field that is clear, the
    fields that are ambiguous, the required ones with no column, and for each field the
    columns worth offering, best first."""

    headers: tuple[str, ...]
    chosen: dict[str, int]
    ambiguous: tuple[str, ...]
    missing: tuple[str, ...]
    candidates: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def settled(self) -> bool:
        """Whether the mapping can be applied without asking the user."""
        return not self.ambiguous and not self.missing

    def suggestions(self) -> dict[str, list[str]]:
        """Field -> the headers offered for it (the chosen one first)."""
        return {f: list(c) for f, c in self.candidates.items() if c}

    def chosen_headers(self) -> dict[str, str]:
        return {f: self.headers[i] for f, i in self.chosen.items()}


def suggest_mapping(headers: list[str] | tuple[str, ...]) -> MappingSuggestion:
    """The best column for each product field from a file's header names.

    A field is taken without asking when one header names it by a synonym (the best
    ranked wins), or, with no synonym, when exactly one header is close enough to one.
    Two headers equally good for one field make it ambiguous; so does a header that is
    the only good one for two fields.
    """
    headers = tuple(headers)
    # Each distinct name is judged once: a header may repeat a name thousands of times.
    unique: dict[str, str] = {}
    norms = [unique.get(h) or unique.setdefault(h, normalise_header(h)) for h in headers]
    rank = functools.cache(_rank)
    similarity = functools.cache(_similarity)
    chosen: dict[str, int] = {}
    ambiguous: list[str] = []
    candidates: dict[str, tuple[str, ...]] = {}
    taken: set[int] = set()

    # Synonyms first: they never overlap between fields, so a header names one field.
    for f in FIELDS:
        ranked = sorted((r, i) for i, n in enumerate(norms) if (r := rank(f, n)) is not None)
        if not ranked:
            continue
        candidates[f] = tuple(headers[i] for _, i in ranked)
        if len(ranked) > 1 and ranked[0][0] == ranked[1][0]:
            ambiguous.append(f)
        else:
            chosen[f] = ranked[0][1]
            taken.add(ranked[0][1])

    # Similarity for the fields left, among the headers no synonym took.
    scores: dict[str, list[tuple[float, int]]] = {}
    for f in FIELDS:
        if f in chosen or f in ambiguous or len(headers) > _SIMILAR_MAX_COLUMNS:
            continue
        scored = [(similarity(f, norms[i]), i) for i in range(len(headers)) if i not in taken]
        scored = sorted(
            ((s, i) for s, i in scored if s >= SUGGEST_RATIO), key=lambda si: (-si[0], si[1])
        )
        if scored:
            scores[f] = scored
            candidates[f] = tuple(headers[i] for _, i in scored)
    auto: dict[int, list[str]] = {}
    for f, scored in scores.items():
        close = [i for s, i in scored if s >= AUTO_RATIO]
        if len(close) == 1:
            auto.setdefault(close[0], []).append(f)
        elif len(close) > 1:
            ambiguous.append(f)
    for i, fields in auto.items():
        if len(fields) == 1:
            chosen[fields[0]] = i
        else:
            ambiguous.extend(fields)

    missing = tuple(f for f in REQUIRED_FIELDS if f not in chosen and f not in ambiguous)
    order = {f: n for n, f in enumerate(FIELDS)}
    return MappingSuggestion(
        headers=headers,
        chosen=dict(sorted(chosen.items(), key=lambda kv: order[kv[0]])),
        ambiguous=tuple(sorted(set(ambiguous), key=order.__getitem__)),
        missing=missing,
        candidates=candidates,
    )


def apply_mapping(
    headers: list[str] | tuple[str, ...], mapping: dict[str, str | None]
) -> dict[str, int]:
    """Field -> column position from a mapping the user gave ({field: header}); a field
    it leaves out takes the suggestion when that is clear. A header is found as written,
    else by its normalised name. Raises MappingProblem naming what does not fit."""
    headers = tuple(headers)
    unknown = sorted(set(mapping) - set(FIELDS))
    if unknown:
        raise MappingProblem(
            f"the mapping names unknown fields: {', '.join(unknown)} "
            f"(the fields are {', '.join(FIELDS)})"
        )
    suggestion = suggest_mapping(headers)
    positions: dict[str, int] = {}
    for f in FIELDS:
        if f in mapping:
            header = mapping[f]
            if header is None or header == "":
                continue  # left out on purpose (a required field is reported below)
            positions[f] = _find_header(headers, header, f)
        elif f in suggestion.chosen:
            positions[f] = suggestion.chosen[f]
    missing = [f for f in REQUIRED_FIELDS if f not in positions]
    if missing:
        raise MappingProblem(f"the mapping gives no column for: {', '.join(missing)}")
    used: dict[int, list[str]] = {}
    for f, i in positions.items():
        used.setdefault(i, []).append(f)
    twice = [(headers[i], fs) for i, fs in used.items() if len(fs) > 1]
    if twice:
        header, fs = twice[0]
        raise MappingProblem(
            f"the column {header!r} is mapped to more than one field: {', '.join(fs)}"
        )
    return positions


# A message lists at most this many of a file's headers, each cut to this many characters:
# a file of thousands of columns, or one whose "header" is a megabyte of text, gets a
# message a person can read.
SHOWN_HEADERS = 30
SHOWN_HEADER_CHARS = 60


def headers_found(headers: list[str] | tuple[str, ...], *, quoted: bool = False) -> str:
    """The file's headers for a message: BOMs and spaces dropped, bounded in count and length."""
    shown = []
    for h in headers[:SHOWN_HEADERS]:
        name = h.replace("\ufeff", "").strip()
        name = name if len(name) <= SHOWN_HEADER_CHARS else name[: SHOWN_HEADER_CHARS - 1] + "…"
        shown.append(repr(name) if quoted else name)
    if len(headers) > SHOWN_HEADERS:
        shown.append(f"and {len(headers) - SHOWN_HEADERS:,} more")
    return ", ".join(shown)


def _find_header(headers: tuple[str, ...], header: str, field_name: str) -> int:
    stripped = [h.replace("\ufeff", "").strip() for h in headers]
    wanted = header.replace("\ufeff", "").strip()
    if wanted in stripped:
        return stripped.index(wanted)
    norms = [normalise_header(h) for h in headers]
    norm = normalise_header(wanted)
    if norm and norms.count(norm) == 1:
        return norms.index(norm)
    raise MappingProblem(
        f"the mapping's column {header!r} for {field_name} is not in the file "
        f"(headers found: {headers_found(headers, quoted=True)})"
    )


def parse_mapping(text: str) -> dict[str, str | None]:
    """A mapping as sent by a client: a JSON object {field: header}. Raises MappingProblem."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise MappingProblem(f"the mapping is not valid JSON ({exc})") from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in value.items()
    ):
        raise MappingProblem(
            'the mapping must be a JSON object of field to header, like {"sku": "Variant SKU"}'
        )
    return value
