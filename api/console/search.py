"""Finding stored decisions for an auditor: by id, subject pseudonym, programme, edition, outcome, period.

Read-only queries on the decision table. The outcome lives inside the stored result text, so
it is checked on the rows the other filters leave (newest first, at most ``SCAN`` of them).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from ..jsontext import loads as jsontext_loads
from ..store.tables import Decision

LIMIT = 50
SCAN = 5000


@dataclass
class Criteria:
    decision_id: str = ""
    pseudonyms: tuple[str, ...] = ()  # the subject's pseudonyms (a subject id has one per caller)
    programme: str = ""
    version: str = ""
    outcome: str = ""  # "" | ammesso | non-ammesso
    kind: str = ""
    start: dt.date | None = None
    end: dt.date | None = None

    @property
    def empty(self) -> bool:
        return not any((self.decision_id, self.pseudonyms, self.programme, self.version, self.outcome, self.kind,
                        self.start, self.end))


@dataclass
class Found:
    id: str
    seq: int
    created_at: dt.datetime
    kind: str
    policy_id: str
    version: str
    as_of: dt.date
    caller: str
    eligible: bool | None
    band: str | None
    amount: str | None


def pseudonym_column():
    """The decision table's subject pseudonym column (``api.subjects``: the keyed hash of a codice fiscale)."""
    return getattr(Decision, "subject", None)


def callers(session) -> list[str]:
    """Every caller that stored a decision: a subject id's pseudonym is scoped to the caller that sent it."""
    return list(session.execute(select(Decision.caller).distinct().limit(1000)).scalars())


def find(session, criteria: Criteria, limit: int = LIMIT) -> tuple[list[Found], bool]:
    """Matching decisions, newest first, and whether more than ``limit`` matched."""
    query = select(Decision)
    if criteria.decision_id:
        query = query.where(Decision.id == criteria.decision_id)
    if criteria.pseudonyms:
        column = pseudonym_column()
        if column is None:
            return [], False
        query = query.where(column.in_(criteria.pseudonyms))
    if criteria.programme:
        query = query.where(Decision.policy_id == criteria.programme)
    if criteria.version:
        query = query.where(Decision.version == criteria.version)
    if criteria.kind:
        query = query.where(Decision.kind == criteria.kind)
    if criteria.start:
        query = query.where(Decision.created_at >= _day(criteria.start))
    if criteria.end:
        query = query.where(Decision.created_at < _day(criteria.end + dt.timedelta(days=1)))
    query = query.order_by(Decision.seq.desc()).limit(SCAN if criteria.outcome else limit + 1)
    out: list[Found] = []
    for row in session.execute(query).scalars():
        result = jsontext_loads(row.result_json)
        eligible = result.get("eligible") if isinstance(result, dict) else None
        if criteria.outcome == "ammesso" and eligible is not True:
            continue
        if criteria.outcome == "non-ammesso" and eligible is not False:
            continue
        band = (result.get("band") or {}) if isinstance(result, dict) else {}
        benefit = (result.get("benefit") or {}) if isinstance(result, dict) else {}
        out.append(Found(row.id, row.seq, row.created_at, row.kind, row.policy_id, row.version, row.as_of,
                         row.caller, eligible, band.get("id") if isinstance(band, dict) else None,
                         benefit.get("amount") if isinstance(benefit, dict) else result.get("dote")))
        if len(out) > limit:
            break
    return out[:limit], len(out) > limit


def _day(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
