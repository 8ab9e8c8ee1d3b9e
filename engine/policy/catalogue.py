"""The national lists every basket shares: the art. 18 service catalogue and region groups.

Both live once under ``policies/national/`` (``services.yaml``, ``region-groups.yaml``).
An edition that declares a basket or outcome payments carries their exact texts in its
bundle, so its content hash changes when they change and replay needs nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import Code, PolicyError, PolicyErrors, SourceLocation
from .loader import load_text

SERVICES_FILE = "national/services.yaml"
REGION_GROUPS_FILE = "national/region-groups.yaml"
SHARED_FILES = (SERVICES_FILE, REGION_GROUPS_FILE)
# Top-level policy keys that read the shared lists.
COST_KEYS = ("basket", "outcomes")


@dataclass(frozen=True)
class Service:
    code: str
    label: str
    article: str


@dataclass(frozen=True)
class RegionGroup:
    name: str
    label: str
    regions: frozenset
    status: str
    source: str


@dataclass(frozen=True)
class Catalogue:
    act_id: str
    act_title: str
    act_url: str
    services: dict  # code -> Service
    region_groups: dict  # name -> RegionGroup


def uses_catalogue(data) -> bool:
    return isinstance(data, dict) and any(k in data for k in COST_KEYS)


def attach_shared_texts(bundle: dict, data, root: str | Path) -> dict:
    """Add the shared national texts to an edition's bundle when the edition prices services."""
    if not uses_catalogue(data):
        return bundle
    root = Path(root)
    shared = {}
    for rel in SHARED_FILES:
        path = root / rel
        if path.is_file():
            shared[rel] = path.read_text(encoding="utf-8")
    return {**bundle, "shared": shared}


def catalogue_from_bundle(bundle: dict, region_values) -> Catalogue:
    shared = bundle.get("shared") or {}
    missing = [rel for rel in SHARED_FILES if rel not in shared]
    if missing:
        raise PolicyErrors([PolicyError(Code.CATALOGUE_ERROR, f"{', '.join(missing)} not found", SourceLocation(m),
                                        "the policies root must hold the national service catalogue and "
                                        "region groups") for m in missing])
    return _parse(shared[SERVICES_FILE], shared[REGION_GROUPS_FILE], tuple(region_values))


@lru_cache(maxsize=16)
def _parse(services_text: str, groups_text: str, region_values: tuple) -> Catalogue:
    errors: list[PolicyError] = []
    sdoc = load_text(services_text, SERVICES_FILE)
    gdoc = load_text(groups_text, REGION_GROUPS_FILE)
    sdata = sdoc.data if isinstance(sdoc.data, dict) else {}
    gdata = gdoc.data if isinstance(gdoc.data, dict) else {}
    act = sdata.get("act") or {}
    services = {}
    raw_services = sdata.get("services")
    if not isinstance(raw_services, dict) or not raw_services:
        errors.append(PolicyError(Code.CATALOGUE_ERROR, "'services' must map codes to services",
                                  sdoc.location(("services",))))
        raw_services = {}
    for code, spec in raw_services.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("label"), str):
            errors.append(PolicyError(Code.CATALOGUE_ERROR, f"service '{code}' needs a label",
                                      sdoc.location(("services", code))))
            continue
        services[str(code)] = Service(str(code), spec["label"], str(spec.get("article", "")))
    groups = {}
    for name, spec in (gdata.get("groups") or {}).items():
        regions = spec.get("regions") if isinstance(spec, dict) else None
        if not isinstance(regions, list) or not regions:
            errors.append(PolicyError(Code.CATALOGUE_ERROR, f"region group '{name}' needs a list of regions",
                                      gdoc.location(("groups", name))))
            continue
        for i, region in enumerate(regions):
            if region not in region_values:
                errors.append(PolicyError(Code.CATALOGUE_ERROR, f"'{region}' is not a region of facts.yaml",
                                          gdoc.location(("groups", name, "regions", i))))
        groups[name] = RegionGroup(name, spec.get("label", name), frozenset(regions), spec.get("status", "uncertain"),
                                   str(spec.get("source", "")))
    if errors:
        raise PolicyErrors(errors)
    return Catalogue(act.get("id", "dlgs-150-2015"), act.get("title", ""), act.get("url", ""), services, groups)
