"""The Italian statement of reasons of a decision (l. 241/1990 art. 3 and 10-bis): model and renderings.

    record = DecisionRecord(kind, as_of, input, result, id=..., created_at=..., template_version=...)
    statement = build_statement(record, policy, authority, lang="it")   # structured (the JSON form)
    render(statement, "html" | "pdf" | "odt" | "json") -> bytes
    render_html(statement, fragment=True)                              # the <article> for the web console
"""
from .authority import Authority, authority_folder, load_authorities, parse_authority
from .model import DecisionRecord, StatementError, build_statement, unstored_record
from .render import FORMATS, MEDIA_TYPES, render, render_html
from .words import TEMPLATE_VERSION, TEMPLATE_VERSIONS

__all__ = ["Authority", "DecisionRecord", "FORMATS", "MEDIA_TYPES", "StatementError", "TEMPLATE_VERSION",
           "TEMPLATE_VERSIONS", "authority_folder", "build_statement", "load_authorities", "parse_authority",
           "render", "render_html", "unstored_record"]
