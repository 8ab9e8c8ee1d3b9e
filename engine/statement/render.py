"""Render a statement (the structured form of ``model.build_statement``) as JSON, HTML, PDF/A and ODT.

HTML comes from a Jinja2 template with autoescaping (every text of the edition is escaped);
the PDF is that HTML laid out by WeasyPrint as PDF/A-2a (tagged, fonts embedded, sRGB output
intent); the ODT (OpenDocument text, odfpy) is the editable copy for the official who adds the
protocol number and signs. Templates are versioned with the statement (``statement-<v>``).
"""
from __future__ import annotations

import io
import json
import os
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .words import LAYOUT, Words

TEMPLATES = Path(__file__).resolve().parent / "templates"
FORMATS = ("json", "html", "pdf", "odt")
MEDIA_TYPES = {"json": "application/json", "html": "text/html; charset=utf-8", "pdf": "application/pdf",
               "odt": "application/vnd.oasis.opendocument.text"}
PDF_VARIANT = "pdf/a-2a"
FONT_TIMESTAMP = "1704067200"  # 2024-01-01T00:00:00Z, the date stamped on embedded font subsets


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"]),
                       undefined=StrictUndefined, trim_blocks=False, lstrip_blocks=False, keep_trailing_newline=True)


def _css(version: str) -> str:
    return (TEMPLATES / f"statement-{LAYOUT[version]}.css").read_text(encoding="utf-8")


def render_json(statement: dict) -> bytes:
    return json.dumps(statement, ensure_ascii=False, indent=2, sort_keys=False, default=str).encode("utf-8")


def render_html(statement: dict, fragment: bool = False) -> str:
    """A full accessible HTML page, or (``fragment``) the ``<article>`` alone for the web console."""
    version = statement["template_version"]
    template = _env().get_template(f"statement-{LAYOUT[version]}.html.j2")
    words = Words(version, statement["lang"])
    return template.render(st=statement, w=words, css=_css(version), fragment=fragment)


def render_pdf(statement: dict) -> bytes:
    """PDF/A-2a of the HTML page. The PDF's dates are the decision's own, so the bytes repeat."""
    from weasyprint import HTML
    # fontTools stamps each embedded font subset with the current time unless SOURCE_DATE_EPOCH
    # (reproducible-builds.org) is set; any fixed value keeps the same statement's bytes the same
    os.environ.setdefault("SOURCE_DATE_EPOCH", FONT_TIMESTAMP)
    html = render_html(statement)
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf(pdf_variant=PDF_VARIANT, uncompressed_pdf=False)


def render_odt(statement: dict) -> bytes:
    """An editable OpenDocument text with the same content, and blanks for protocol and signature."""
    from odf.opendocument import OpenDocumentText
    from odf.style import ParagraphProperties, Style, TableColumnProperties, TextProperties
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, List, ListItem, P, Span

    words = Words(statement["template_version"], statement["lang"])
    doc = OpenDocumentText()
    bold = Style(name="Bold", family="text")
    bold.addElement(TextProperties(fontweight="bold"))
    mono = Style(name="Calc", family="text")
    mono.addElement(TextProperties(fontfamily="DejaVu Sans Mono"))
    title = Style(name="Title1", family="paragraph")
    title.addElement(TextProperties(fontsize="16pt", fontweight="bold"))
    h2 = Style(name="Heading2", family="paragraph")
    h2.addElement(TextProperties(fontsize="13pt", fontweight="bold"))
    h2.addElement(ParagraphProperties(margintop="0.4cm", marginbottom="0.15cm"))
    h3 = Style(name="Heading3", family="paragraph")
    h3.addElement(TextProperties(fontsize="11pt", fontweight="bold"))
    col = Style(name="Col", family="table-column")
    col.addElement(TableColumnProperties(columnwidth="6cm"))
    for s in (bold, mono, title, h2, h3):
        doc.automaticstyles.addElement(s)
    doc.automaticstyles.addElement(col)
    text = doc.text

    def para(*parts, style=None):
        p = P(stylename=style) if style else P()
        for part in parts:
            if isinstance(part, tuple):
                p.addElement(Span(stylename=part[0], text=part[1]))
            elif part:
                p.addText(part)
        return p

    def heading(words_text, level=2):
        text.addElement(H(outlinelevel=level, stylename=h2 if level == 2 else h3, text=words_text))

    def steps(items):
        lst = List()
        for s in items:
            item = ListItem()
            item.addElement(para(s["text"], " " if s.get("calc") else "", (mono, s["calc"]) if s.get("calc") else "",
                                 (" " + s["after"]) if s.get("after") else ""))
            lst.addElement(item)
        text.addElement(lst)

    def table(rows):
        t = Table(name=f"T{len(text.childNodes)}")
        t.addElement(TableColumn(numbercolumnsrepeated=len(rows[0]) if rows else 1, stylename=col))
        for row in rows:
            tr = TableRow()
            for cell in row:
                tc = TableCell(valuetype="string")
                tc.addElement(P(text=str(cell)))
                tr.addElement(tc)
            t.addElement(tr)
        text.addElement(t)

    st = statement
    text.addElement(para(st["heading"]["authority"]))
    text.addElement(H(outlinelevel=1, stylename=title, text=st["title"]))
    text.addElement(para(st["subtitle"]))
    if st.get("warning"):
        text.addElement(para((bold, st["warning"])))
    heading(words("h.heading"))
    table([(r["label"], r["value"]) for r in st["heading"]["rows"]])
    heading(words("h.facts"))
    table([(f["label"], f["text"], f["origin_text"]) for f in st["facts"]])
    heading(words("h.reasons"))
    for r in st["reasons"]:
        text.addElement(para((bold, r["label"]), f" ({r['reference']})" if r["reference"] else "", ": ",
                             (bold, r["outcome_text"]), f", {r['values_text']}" if r["values_text"] else "", "."))
        text.addElement(para(r["sentence"]))
        if r.get("reason"):
            text.addElement(para(r["reason"]))
        for a in r.get("alternatives") or []:
            text.addElement(para("– ", (bold, a["label"]), ": ", a["outcome_text"], ". ", a["sentence"],
                                 f" — {words('with_values')}: {a['values_text']}" if a["values_text"] else "", "."))
    for r in st["points"]:
        text.addElement(para((bold, r["label"]), f" ({r['reference']})" if r["reference"] else "", ": ",
                             (bold, r["outcome_text"]), f", {r['values_text']}" if r["values_text"] else "", "."))
        text.addElement(para(r["sentence"]))
    for b in st["bands"]:
        text.addElement(para((bold, f"{words('band')} {b['id']} – {b['band_label']}"),
                             f" ({b['reference']})" if b["reference"] else "", ": ", b["outcome_text"],
                             f", {b['values_text']}" if b["values_text"] else "", "."))
        text.addElement(para(b["sentence"]))
    heading(words("h.outcome"))
    out = st["outcome"]
    text.addElement(para((bold, out["summary"])))
    for r in out.get("refusal_reasons") or []:
        text.addElement(para("– ", (bold, r["label"]), f" ({r['reference']})" if r.get("reference") else "",
                             f": {r['reason']}" if r.get("reason") else ""))
    if out.get("items"):
        steps(out["items"])
    for line in out.get("lines") or []:
        heading(line["title"], 3)
        if line.get("reference"):
            text.addElement(para(f"({line['reference']})"))
        steps(line["steps"])
    if out.get("totals"):
        steps(out["totals"])
    if st.get("provisional"):
        heading(words("h.provisional"))
        for p in st["provisional"]:
            text.addElement(para(p))
    if st.get("comparison"):
        c = st["comparison"]
        heading(words("h.comparison"))
        text.addElement(para(c["text"]))
        if c["items"]:
            table([("", st["heading"]["edition"], c["edition"])] + [(i["label"], i["was"], i["text"])
                                                                    for i in c["items"]])
    if st.get("notice"):
        heading(st["notice"]["title"])
        for p in st["notice"]["paragraphs"]:
            text.addElement(para(p))
    if st.get("appeal"):
        heading(st["appeal"]["title"])
        if st["appeal"]["intro"]:
            text.addElement(para(st["appeal"]["intro"]))
        for r in st["appeal"]["remedies"]:
            text.addElement(para("– " + r))
        for p in st["appeal"]["paragraphs"]:
            text.addElement(para(p))
    if st.get("acts"):
        heading(words("h.acts"))
        for a in st["acts"]:
            text.addElement(para("– " + a))
    if st.get("is_decision"):
        text.addElement(para(""))
        text.addElement(para((bold, words("protocol")), " ______________________   ", (bold, words("date")),
                             " ____________"))
        text.addElement(para((bold, words("signature")), " ______________________________"))
    text.addElement(para(st["footer"]))
    doc.meta.addElement(_meta_title(st))
    buffer = io.BytesIO()
    doc.write(buffer)
    return buffer.getvalue()


def _meta_title(st):
    from odf.dc import Title
    return Title(text=f"{st['title']} – {st['heading']['edition']}")


def render(statement: dict, fmt: str) -> bytes:
    if fmt == "json":
        return render_json(statement)
    if fmt == "html":
        return render_html(statement).encode("utf-8")
    if fmt == "pdf":
        return render_pdf(statement)
    if fmt == "odt":
        return render_odt(statement)
    raise ValueError(f"unknown statement format {fmt!r}; use one of {', '.join(FORMATS)}")
