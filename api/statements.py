"""Statements of reasons of stored decisions, for the HTTP route, the CLI and the web console.

Nothing here knows about HTTP. A statement is built only from the stored decision (input,
result, trace), the edition compiled from its stored texts, and the authority text and
template version recorded with the decision (its ``statement_basis``), so it reads the same
whenever it is produced. Decisions stored before statements existed have no basis: their
statement uses template 1 and the authority file in force now, and says the template was not
recorded.
"""
from __future__ import annotations

import logging

from engine.errors import InputErrors, PolicyNotFound
from engine.statement import (Authority, DecisionRecord, StatementError, authority_folder, build_statement,
                              load_authorities, parse_authority, render, render_html)
from engine.statement.words import TEMPLATE_VERSION

from .store import repository

access_log = logging.getLogger("almp.access")


def record_read(service, *, caller: str, decision_id: str, what: str) -> None:
    """Every read of a decision's personal data is recorded (l. 241/1990 statements included).

    Hook for the decision log's read-access record: until that lands this writes one line to the
    ``almp.access`` logger, naming who read which decision and in what form (never the data itself).
    """
    recorder = getattr(service, "record_read", None)
    if callable(recorder):
        recorder(caller=caller, decision_id=decision_id, what=what)
        return
    access_log.info("read decision=%s caller=%s what=%s", decision_id, caller, what)


class Statements:
    """Builds and renders the statement of a stored decision; records each read."""

    def __init__(self, service, authorities: dict[str, Authority] | None = None):
        self.service = service
        root = getattr(service.registry, "root", None)
        self.authorities = authorities if authorities is not None else (load_authorities(root) if root else {})

    # -- at decision time
    def basis_for(self, policy) -> tuple[dict, Authority | None]:
        """What a new decision records for its statement: template version and authority text hash."""
        authority = self.authorities.get(authority_folder(policy.id))
        return {"template": TEMPLATE_VERSION, "authority": authority.hash if authority else None}, authority

    # -- reading
    def statement(self, decision_id: str, *, caller: str, lang: str = "it", compare: str | None = None,
                  what: str = "statement") -> dict:
        """The structured statement (raises DecisionNotFound, PolicyNotFound for ``compare``, StatementError)."""
        stored = self.service.get(decision_id)
        with self.service.store.reading() as session:
            policy = self.service.editions.get(session, stored.content_hash)
            basis, authority_text = repository.get_statement_basis(session, decision_id)
        authority = self._authority(stored.policy_id, basis, authority_text)
        comparison = self._comparison(stored, compare) if compare else None
        record = DecisionRecord(kind=stored.kind, as_of=stored.as_of, input=stored.input,
                                result=stored.full_result(), id=stored.id, created_at=stored.created_at,
                                template_version=(basis or {}).get("template"))
        statement = build_statement(record, policy, authority, lang=lang, comparison=comparison)
        record_read(self.service, caller=caller, decision_id=decision_id, what=what)
        return statement

    def document(self, decision_id: str, fmt: str, *, caller: str, lang: str = "it",
                 compare: str | None = None) -> bytes:
        statement = self.statement(decision_id, caller=caller, lang=lang, compare=compare, what=f"statement.{fmt}")
        return render(statement, fmt)

    def html_fragment(self, decision_id: str, *, caller: str, lang: str = "it") -> str:
        """The statement as an HTML ``<article>`` for the web console (escaped, no page chrome)."""
        return render_html(self.statement(decision_id, caller=caller, lang=lang, what="statement.html"),
                           fragment=True)

    def _authority(self, policy_id: str, basis: dict | None, text: str | None) -> Authority | None:
        folder = authority_folder(policy_id)
        if basis is not None and text is not None:
            return parse_authority(text, folder)
        if basis is not None and basis.get("authority") is None:
            return None  # no authority file when it was decided: the statement says so
        return self.authorities.get(folder)

    def _comparison(self, stored, version: str) -> dict:
        policy = self.service.registry.get(stored.policy_id, version)
        from .service import StoredInputMismatch
        try:
            replay = self.service.replay_stored(stored, version)
        except StoredInputMismatch as exc:
            return {"policy": policy, "result": None,
                    "input_problems": sorted({".".join(str(p) for p in problem.path) for problem in exc.problems})}
        return {"policy": policy, "result": replay["result"]}


__all__ = ["InputErrors", "PolicyNotFound", "StatementError", "Statements", "record_read"]
