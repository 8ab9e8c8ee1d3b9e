"""Italian regions and autonomous provinces: ISTAT codes, official names and almp's region codes.

The table ``data/istat-regions.csv`` is derived, not typed: it is the distinct regions (and the two
autonomous provinces, Bolzano/Bozen and Trento, which hold the powers of a region in labour policy)
of ISTAT's list of territorial units, "Codici statistici delle unità amministrative territoriali:
comuni, città metropolitane, province e regioni", file ``Elenco-comuni-italiani.csv``
(https://www.istat.it/classificazione/codici-dei-comuni-delle-province-e-delle-regioni/,
download https://www.istat.it/storage/codici-unita-amministrative/Elenco-comuni-italiani.csv).
Regenerate it from a newer copy of that file with::

    python -m engine.policy.regions Elenco-comuni-italiani.csv > engine/policy/data/istat-regions.csv

A caller may name a region by its ISTAT code (``"03"`` or ``"3"``), its official name in any
letter case, with or without accents (``"Lombardia"``, ``"Valle d'Aosta/Vallée d'Aoste"``, either
half of a bilingual name), or almp's code (``"lombardia"``). An autonomous province (ISTAT unit code
``"021"``/``"022"``, ``"Trento"``, ``"Provincia autonoma di Bolzano"``) stands for its region,
Trentino-Alto Adige/Südtirol, which is how the fact dictionary's ``regions`` list counts it.
"""
from __future__ import annotations

import csv
import difflib
import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).resolve().parent / "data" / "istat-regions.csv"
SOURCE = ("ISTAT, Codici statistici delle unità amministrative territoriali (Elenco-comuni-italiani.csv), "
          "https://www.istat.it/classificazione/codici-dei-comuni-delle-province-e-delle-regioni/")
COLUMNS = ("istat_code", "name", "almp_code", "kind", "region_istat_code", "nuts2")


@dataclass(frozen=True)
class Region:
    istat_code: str  # "03"; for an autonomous province its unit code, "021" / "022"
    name: str  # the official denomination, bilingual where it is
    almp_code: str  # the value of the fact dictionary's regions list
    kind: str  # regione | provincia_autonoma
    region_istat_code: str  # the region it belongs to (itself for a region)
    nuts2: str

    def canonical(self) -> dict:
        """What a response says about the region a caller named."""
        region = by_istat()[self.region_istat_code]
        out = {"code": region.almp_code, "istat": region.istat_code, "name": region.name}
        if self.kind == "provincia_autonoma":
            out["provincia_autonoma"] = {"istat": self.istat_code, "name": self.name}
        return out


def _fold(text: str) -> str:
    """Letter case, accents, apostrophes, hyphens and spacing do not matter when matching a name."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def almp_code(name: str) -> str:
    """almp's code of a region: its Italian name folded ("Emilia-Romagna" -> "emilia_romagna")."""
    return _fold(name.split("/")[0]).replace(" ", "_")


@lru_cache(maxsize=1)
def regions() -> tuple[Region, ...]:
    with TABLE.open(encoding="utf-8", newline="") as handle:
        return tuple(Region(**row) for row in csv.DictReader(line for line in handle if not line.startswith("#")))


@lru_cache(maxsize=1)
def by_istat() -> dict[str, Region]:
    return {r.istat_code: r for r in regions()}


@lru_cache(maxsize=1)
def _lookup() -> dict[str, Region]:
    table: dict[str, Region] = {}
    for r in regions():
        names = {r.name, *r.name.split("/")}
        if r.kind == "provincia_autonoma":
            names |= {f"Provincia autonoma di {n}" for n in list(names)}
        else:
            table[r.almp_code] = r
            table[str(int(r.istat_code))] = r
        table[r.istat_code] = r
        for name in names:
            table.setdefault(_fold(name), r)
    return table


def resolve(value: str) -> Region | None:
    """The region or autonomous province ``value`` names, or None."""
    if not isinstance(value, str) or len(value) > 80:
        return None
    table = _lookup()
    return table.get(value) or table.get(value.strip()) or table.get(_fold(value))


def closest(value: str, n: int = 3) -> list[str]:
    """The official names and codes closest to an unrecognised ``value`` (for error messages)."""
    if not isinstance(value, str):
        return []
    folded = _fold(value[:80])
    by_folded = {}
    for r in regions():
        by_folded.setdefault(_fold(r.name), r.name)
        for part in r.name.split("/"):
            by_folded.setdefault(_fold(part), r.name)
        if r.kind == "regione":
            by_folded.setdefault(r.almp_code.replace("_", " "), r.almp_code)
    hits = difflib.get_close_matches(folded, list(by_folded), n=n * 2, cutoff=0.5)
    out: list[str] = []
    for hit in hits:
        if by_folded[hit] not in out:
            out.append(by_folded[hit])
    return out[:n]


def canonical_regions(dictionary, raw: dict) -> dict:
    """{fact: canonical form} for every region fact of ``raw`` (already checked: unknown values are skipped)."""
    out = {}
    for name, value in raw.items():
        fact = dictionary.facts.get(name)
        if fact is not None and fact.values_from == "regions" and value is not None:
            region = resolve(value)
            if region is not None:
                out[name] = region.canonical()
    return out


# -- deriving the table from ISTAT's file -------------------------------------------------------------
def build_table(istat_csv: str | Path) -> list[dict]:
    """The rows of ``data/istat-regions.csv`` from ISTAT's Elenco-comuni-italiani.csv (latin-1, ';')."""
    with open(istat_csv, encoding="latin-1", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    header = [" ".join(h.split()) for h in rows[0]]

    def col(prefix):
        return next(i for i, h in enumerate(header) if h.startswith(prefix))

    region_code, region_name = col("Codice Regione"), col("Denominazione Regione")
    unit_code = col("Codice dell'Unità territoriale sovracomunale")
    unit_name = col("Denominazione dell'Unità territoriale sovracomunale")
    unit_kind = col("Tipologia di Unità territoriale sovracomunale")
    nuts2 = col("Codice NUTS2 2024")
    out: dict[str, dict] = {}
    for row in rows[1:]:
        if len(row) < len(header):
            continue
        code = row[region_code]
        if code not in out:
            out[code] = {"istat_code": code, "name": row[region_name], "almp_code": almp_code(row[region_name]),
                         "kind": "regione", "region_istat_code": code, "nuts2": row[nuts2]}
        if row[unit_kind].strip() == "2":  # ISTAT's type 2: provincia autonoma
            out.setdefault(row[unit_code], {"istat_code": row[unit_code], "name": row[unit_name],
                                            "almp_code": almp_code(row[region_name]), "kind": "provincia_autonoma",
                                            "region_istat_code": code, "nuts2": row[nuts2]})
    regions_ = sorted((r for r in out.values() if r["kind"] == "regione"), key=lambda r: r["istat_code"])
    for r in regions_:  # a region split over two NUTS2 units (Trentino-Alto Adige) has none of its own
        if r["istat_code"] in {p["region_istat_code"] for p in out.values() if p["kind"] == "provincia_autonoma"}:
            r["nuts2"] = ""
    return regions_ + sorted((r for r in out.values() if r["kind"] != "regione"), key=lambda r: r["istat_code"])


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m engine.policy.regions Elenco-comuni-italiani.csv", file=sys.stderr)
        return 2
    writer = csv.DictWriter(sys.stdout, COLUMNS, lineterminator="\n")
    print(f"# {SOURCE}")
    writer.writeheader()
    writer.writerows(build_table(argv[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
