"""Erasure (GDPR art. 17) and retention limits (art. 5(1)(e)): destroying subjects' data keys.

Erasing a subject clears the wrapped data key(s) of their pseudonym and records who, when and
why; their decisions stay in the chain (the row hash covers the ciphertext, which stays), their
outcome, band and edition stay readable for statistics and audit, their facts are unreadable.
Each data key carries ``retain_until``, the latest end of retention of the decisions it seals
(the edition's ``retention.years`` after each decision); ``apply`` erases the keys past it.

Erasure takes the chain-head lock, so no decision can be sealed under a key while it is destroyed.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.i18n import _

from .periodic import Periodic, seconds_from_env, start_on
from .store.repository import FOREVER, _lock_head
from .store.tables import DataKey, Decision

MAX_WHY = 200
log = logging.getLogger("almp.retention")


@dataclass(frozen=True)
class Erased:
    keys: int  # data keys destroyed
    decisions: int  # decisions whose facts became unreadable


@dataclass(frozen=True)
class RetentionReport:
    today: dt.date
    due_subjects: int  # keys of a pseudonymous subject past retention
    due_anonymous: int  # keys of single decisions taken without a subject pseudonym, past retention
    due_decisions: int
    kept_forever: int  # live keys whose decisions' edition states no retention period
    clear_decisions: int  # decisions stored before sealing existed: their facts are in clear in the chain
    applied: bool


def _decisions_of(session: Session, key: DataKey) -> int:
    if key.subject is None:
        return 1
    # a subject's keys follow one another (a new one only after erasure): the live key seals every
    # decision of the subject since it was made
    return session.execute(select(func.count()).select_from(Decision).where(
        Decision.subject == key.subject, Decision.created_at >= key.created_at,
        Decision.sealed.is_not(None))).scalar_one()


def _erase(session: Session, keys: list[DataKey], by: str, why: str, now: dt.datetime) -> int:
    ids = [k.id for k in keys]
    for start in range(0, len(ids), 500):
        session.execute(update(DataKey).where(DataKey.id.in_(ids[start:start + 500]), DataKey.erased_at.is_(None))
                        .values(wrapped=None, erased_at=now, erased_by=by[:128], erased_why=why[:MAX_WHY]))
    return len(ids)


def erase_subject(session: Session, subject: str, *, by: str, why: str,
                  now: dt.datetime | None = None) -> Erased:
    """Destroy the live data key of ``subject`` (a pseudonym). Call inside ``session.begin()``."""
    now = now or dt.datetime.now(dt.timezone.utc)
    _lock_head(session)
    keys = list(session.execute(select(DataKey).where(DataKey.subject == subject,
                                                      DataKey.erased_at.is_(None))).scalars())
    decisions = sum(_decisions_of(session, k) for k in keys)
    return Erased(_erase(session, keys, by, why, now), decisions)


def erase_decision(session: Session, decision_id: str, *, by: str, why: str,
                   now: dt.datetime | None = None) -> tuple[str | None, Erased] | None:
    """Destroy the data key that seals ``decision_id``: its subject's, or its own for a decision taken
    without one. (subject or None, what was erased); None when there is no such sealed decision."""
    from .store.sealing import SealBroken, key_id_of
    now = now or dt.datetime.now(dt.timezone.utc)
    _lock_head(session)
    row = session.execute(select(Decision.subject, Decision.sealed).where(Decision.id == decision_id)).one_or_none()
    if row is None or row.sealed is None:
        return None
    try:
        key = session.get(DataKey, key_id_of(row.sealed))
    except SealBroken:
        return None
    if key is None or key.erased_at is not None:
        return row.subject, Erased(0, 0)
    decisions = _decisions_of(session, key)
    return row.subject, Erased(_erase(session, [key], by, why, now), decisions)


def apply(session: Session, *, today: dt.date, by: str, dry_run: bool = False,
          now: dt.datetime | None = None) -> RetentionReport:
    """Erase every data key whose retention ended before ``today``. Call inside ``session.begin()``."""
    now = now or dt.datetime.now(dt.timezone.utc)
    _lock_head(session)
    due = list(session.execute(select(DataKey).where(DataKey.erased_at.is_(None),
                                                     DataKey.retain_until < today)).scalars())
    forever = session.execute(select(func.count()).select_from(DataKey).where(
        DataKey.erased_at.is_(None), DataKey.retain_until >= FOREVER)).scalar_one()
    clear = session.execute(select(func.count()).select_from(Decision).where(
        Decision.sealed.is_(None))).scalar_one()
    decisions = sum(_decisions_of(session, k) for k in due)
    if not dry_run and due:
        _erase(session, due, by, "retention", now)
    return RetentionReport(today=today, due_subjects=sum(1 for k in due if k.subject is not None),
                           due_anonymous=sum(1 for k in due if k.subject is None), due_decisions=decisions,
                           kept_forever=forever, clear_decisions=clear, applied=not dry_run)


EVERY_ENV = "ALMP_RETENTION_EVERY"


class RetentionScheduler(Periodic):
    """Applies retention every ``every`` seconds in a daemon thread (what `almp serve --retention-every` runs).

    Safe in every worker at once: erasure takes the chain-head lock and only erases keys not yet erased.
    The log line gives counts, never a pseudonym.
    """

    thread_name = "almp-retention"

    def __init__(self, service, every: float):
        super().__init__(every)
        self.service = service

    def run_once(self) -> RetentionReport:
        report = self.service.apply_retention(today=dt.datetime.now(dt.timezone.utc).date(), by="service:retention")
        if report.due_subjects or report.due_anonymous:
            log.warning("%s", _("retention: {n} subjects past their retention period erased ({d} decisions)",
                                n=report.due_subjects + report.due_anonymous, d=report.due_decisions))
        return report

    def failed(self, exc: Exception) -> None:
        log.warning("%s", _("retention postponed: {error}", error=exc.__class__.__name__))


def start_from_env(app) -> RetentionScheduler | None:
    """Start applying retention when ``ALMP_RETENTION_EVERY`` is a positive number of seconds."""
    every = seconds_from_env(EVERY_ENV)
    return start_on(app, "retention", RetentionScheduler(app.state.service, every)) if every else None
