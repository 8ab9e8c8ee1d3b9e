"""Programmi: every programme with its editions on a timeline; an edition read as the act; its YAML."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from .act import read_edition, timeline
from .session import User, need
from .views import page

router = APIRouter()
Signed = Annotated[User, Depends(need())]


def service(request: Request):
    return request.app.state.service()


def programmes(registry) -> list[dict]:
    out = []
    for policy_id, editions in sorted(registry.by_id.items()):
        latest = editions[-1]
        out.append({"id": policy_id, "title": latest.title, "authority": latest.authority,
                    "editions": editions, "timeline": timeline(editions)})
    return out


@router.get("/programmi")
async def list_programmes(request: Request, user: Signed):
    return page(request, "programmi.html", user=user, programmes=programmes(service(request).registry))


@router.get("/programmi/{authority}/{programme}/{version}")
async def edition(request: Request, authority: str, programme: str, version: str, user: Signed):
    registry = service(request).registry
    policy = registry.get(f"{authority}/{programme}", version)
    editions = registry.editions(policy.id)
    return page(request, "edizione.html", user=user, policy=policy, act=read_edition(policy), editions=editions)


@router.get("/programmi/{authority}/{programme}/{version}/yaml")
async def edition_yaml(request: Request, authority: str, programme: str, version: str, user: Signed):
    policy = service(request).registry.get(f"{authority}/{programme}", version)
    lines = policy.bundle["policy"].splitlines()
    placeholder_lines = {f.location.line for f in policy.figures if f.status == "placeholder"}
    return page(request, "yaml.html", user=user, policy=policy, lines=lines, marked=placeholder_lines)
