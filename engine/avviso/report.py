"""The relazione tecnica: the document an officer attaches to the act, as HTML and PDF.

``render_report(result)`` takes a simulation result (``almp simulate --json`` data) and
returns one self-contained HTML page: inline CSS and SVG charts, no scripts, no network,
every text from a policy or a population file escaped. ``write_pdf(html, path)`` prints it
with WeasyPrint. Italian by default (``lang="en"`` on request), figures in it-IT formats,
editions by name. Charts read in black and white: each series has its own hatching as
well as its colour, values are written on the bars, and labels are laid out so they never
overlap (long labels are shortened on the chart and given whole in the tables).
"""
from __future__ import annotations

from decimal import Decimal
from html import escape

from .. import i18n
from ..i18n import N_, _

# colour and, for black-and-white print, a hatching per series
COLOURS = ("#1f5f8b", "#e07b39", "#4c9a2a", "#a23b72", "#6b5b95", "#c0392b", "#16a085")
HATCH = ("", "M0,8 L8,0", "M0,0 L8,8", "M4,0 L4,8", "M0,4 L8,4", "M0,8 L8,0 M0,0 L8,8", "M0,4 L8,4 M4,0 L4,8")
_STATES = {"not eligible": N_("not eligible"), "no band": N_("no band")}
CHAR_W = Decimal("6.2")  # width of one character at 11px, generous: used to keep labels apart


def _euro(text, lang=None) -> str:
    return "–" if text is None else i18n.money(Decimal(text), lang)


def _pct(text, lang=None) -> str:
    return "–" if text is None else i18n.percent(Decimal(text), lang)


def _signed(text, lang=None) -> str:
    value = Decimal(text)
    return ("+" if value >= 0 else "−") + _euro(abs(value), lang)


def _state(state: str, lang=None) -> str:
    return _(_STATES[state], lang=lang) if state in _STATES else _("fascia {band}", lang=lang, band=state)


def _n(value, lang=None) -> str:
    return i18n.number(value, lang)


def _fit(text: str, width) -> str:
    """``text`` shortened with an ellipsis to fit ``width`` pixels."""
    room = max(int(Decimal(width) / CHAR_W), 3)
    return text if len(text) <= room else text[:room - 1] + "…"


def _fit_tail(text: str, width) -> str:
    """``text`` shortened from the left: edition names differ at their end ('… quarta fase (2020)')."""
    room = max(int(Decimal(width) / CHAR_W), 3)
    return text if len(text) <= room else "…" + text[-(room - 1):]


def _defs() -> str:
    out = ["<defs>"]
    for i, colour in enumerate(COLOURS):
        path = HATCH[i % len(HATCH)]
        lines = f'<path d="{path}" stroke="#000" stroke-width="1.2" opacity="0.55"/>' if path else ""
        out.append(f'<pattern id="s{i}" width="8" height="8" patternUnits="userSpaceOnUse">'
                   f'<rect width="8" height="8" fill="{colour}"/>{lines}</pattern>')
    out.append("</defs>")
    return "".join(out)


def _fill(i: int) -> str:
    return f"url(#s{i % len(COLOURS)})"


def _legend(items: list[str], x0: int, y: int, width: int) -> tuple[str, int]:
    """Legend entries laid left to right, wrapping to a new row before they would overlap."""
    out, x = [], x0
    for i, label in enumerate(items):
        label = _fit(label, width - x0 - 20)
        need = 18 + int(len(label) * CHAR_W) + 14
        if x + need > width and x > x0:
            x, y = x0, y + 16
        out.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{_fill(i)}" stroke="#000" '
                   f'stroke-width="0.5"/><text class="label" x="{x + 16}" y="{y}" font-size="11">{escape(label)}</text>')
        x += need
    return "".join(out), y


def people_chart(editions: list[dict], lang=None) -> str:
    """Grouped bars: people per fascia, one hatched colour per edition, values on the bars."""
    bands: list[tuple[str, str]] = []
    for s in editions:
        for b in s["bands"]:
            if b["band"] not in [x[0] for x in bands]:
                bands.append((b["band"], b["label"]))
    counts = [{b["band"]: b["people"] for b in s["bands"]} for s in editions]
    top = max([c for cs in counts for c in cs.values()] + [1])
    width, left, top_pad = 680, 64, 24
    plot_h = 190
    group = Decimal(width - left - 10) / max(len(bands), 1)
    bar = min(Decimal(48), (group - 12) / max(len(editions), 1))
    axis_y = top_pad + plot_h
    legend_y = axis_y + 48
    legend, last_y = _legend([s.get("name") or s["policy"] for s in editions], left, legend_y, width)
    height = last_y + 14
    parts = [f'<svg class="chart" id="people-chart" role="img" aria-label="{escape(_("People per fascia", lang=lang))}" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
             _defs()]
    for i in range(5):
        value = Decimal(top) * i / 4
        y = top_pad + plot_h - Decimal(plot_h) * i / 4
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#bbb" stroke-width="0.5"/>'
                     f'<text class="label" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
                     f'{_n(value.quantize(Decimal(1)), lang)}</text>')
    for g, (band_id, label) in enumerate(bands):
        x0 = left + g * group + (group - bar * len(editions)) / 2
        for e, cs in enumerate(counts):
            n = cs.get(band_id, 0)
            h = Decimal(plot_h) * n / top
            x = x0 + e * bar
            y = top_pad + plot_h - h
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" '
                         f'fill="{_fill(e)}" stroke="#000" stroke-width="0.5"><title>{escape(editions[e].get("name") or editions[e]["policy"])} – '
                         f'{escape(_("fascia {band}", lang=lang, band=band_id))}: {_n(n, lang)}</title></rect>')
            text = _n(n, lang)
            size = 10 if len(text) * 6 <= bar + 4 else 8
            # values that do not fit side by side alternate in height so they never overlap
            lift = 3 + (11 if e % 2 and len(text) * (size * Decimal("0.62")) > bar else 0)
            parts.append(f'<text class="label" x="{x + (bar - 2) / 2:.1f}" y="{y - lift:.1f}" text-anchor="middle" '
                         f'font-size="{size}">{text}</text>')
        centre = left + g * group + group / 2
        parts.append(f'<text class="label" x="{centre:.1f}" y="{axis_y + 16}" text-anchor="middle" font-size="11">'
                     f'{escape(_fit(_("fascia {band}", lang=lang, band=band_id), group - 4))}</text>'
                     f'<text class="label" x="{centre:.1f}" y="{axis_y + 30}" text-anchor="middle" font-size="10" '
                     f'fill="#333">{escape(_fit(label, group - 4))}</text>')
    parts.append(legend)
    parts.append("</svg>")
    return "".join(parts)


def cost_chart(editions: list[dict], lang=None) -> str:
    """Horizontal bars: commitments (stacked by fascia) against the budget line of each edition."""
    values = [Decimal(s["commitments"]) for s in editions] + \
             [Decimal(s["budget"]) for s in editions if s["budget"] is not None]
    top = max(values + [Decimal(1)])
    width, row, left, right_pad = 680, 70, 130, 150
    scale = Decimal(width - left - right_pad) / top
    bands = max((s["bands"] for s in editions), key=len)
    legend_y = 30 + row * len(editions) + 14
    legend, last_y = _legend([_("fascia {band}", lang=lang, band=b["band"]) for b in bands], left, legend_y, width)
    height = last_y + 12
    parts = [f'<svg class="chart" id="cost-chart" role="img" aria-label="{escape(_("Commitments against budget", lang=lang))}" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
             _defs()]
    for e, s in enumerate(editions):
        y = 24 + e * row
        parts.append(f'<text class="label" x="{left - 8}" y="{y + 19}" text-anchor="end" font-size="11">'
                     f'{escape(_fit_tail(s.get("name") or s["policy"], left - 12))}</text>')
        x = Decimal(left)
        for i, b in enumerate(s["bands"]):
            w = Decimal(b["commitments"]) * scale
            if w <= 0:
                continue
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{y}" width="{w:.1f}" height="28" fill="{_fill(i)}" '
                         f'stroke="#000" stroke-width="0.5"><title>{escape(_("fascia {band}", lang=lang, band=b["band"]))}: '
                         f'{_euro(b["commitments"], lang)}</title></rect>')
            x += w
        parts.append(f'<text class="label" x="{x + 4:.1f}" y="{y + 19}" font-size="11">'
                     f'{escape(_euro(s["commitments"], lang))}</text>')
        if s["budget"] is not None:
            bx = left + Decimal(s["budget"]) * scale
            text = _("budget {amount}", lang=lang, amount=_euro(s["budget"], lang))
            # the budget label sits under the bar, where no other label is, kept inside the chart
            tx = min(max(bx, Decimal(left) + len(text) * CHAR_W / 2), Decimal(width) - len(text) * CHAR_W / 2 - 4)
            parts.append(f'<line class="budget" x1="{bx:.1f}" x2="{bx:.1f}" y1="{y - 4}" y2="{y + 34}" '
                         f'stroke="#000" stroke-width="2" stroke-dasharray="5,3"/>'
                         f'<text class="label" x="{tx:.1f}" y="{y + 46}" text-anchor="middle" font-size="10">'
                         f'{escape(text)}</text>')
    parts.append(legend)
    parts.append("</svg>")
    return "".join(parts)


def _edition_table(s: dict, lang=None) -> str:
    t = lambda m, **k: _(m, lang=lang, **k)  # noqa: E731
    rows = "".join(
        f"<tr><td>{escape(t('fascia {band}', band=b['band']))} {escape(b['label'])}</td>"
        f"<td class=n>{_n(b['people'], lang)}</td>"
        f"<td class=n>{_euro(b['amount'], lang)}{'' if b['amount_status'] == 'confirmed' else ' *'}</td>"
        f"<td class=n>{_euro(b['commitments'], lang)}</td><td class=n>{_euro(b.get('expected_payments'), lang)}</td></tr>"
        for b in s["bands"])
    verdict = "" if s["budget"] is None else (
        f'<span class="over">{escape(t("over budget"))}</span>' if s["over_budget"] else escape(t("within budget")))
    notes = []
    if s["provisional_amounts"]:
        notes.append(escape(t("* not a confirmed figure (fasce {bands})", bands=", ".join(s["provisional_amounts"]))))
    return (f"<h3>{escape(s.get('name') or s['policy'])}</h3>"
            f"<p>{escape(t('Eligible: {eligible} of {people} ({rate}).', eligible=_n(s['eligible'], lang), people=_n(s['people'], lang), rate=_pct(s['eligibility_rate'], lang)))} "
            f"{escape(t('Commitments {commitments} against a budget of {budget} ({used}).', commitments=_euro(s['commitments'], lang), budget=_euro(s['budget'], lang), used=_pct(s['budget_used'], lang)) if s['budget'] is not None else t('Commitments {commitments}; the edition states no budget.', commitments=_euro(s['commitments'], lang)))} "
            f"{verdict}</p>"
            f"<table><tr><th>{escape(t('fascia'))}</th><th>{escape(t('people'))}</th><th>{escape(t('dote'))}</th>"
            f"<th>{escape(t('commitments'))}</th><th>{escape(t('expected payments'))}</th></tr>{rows}"
            f"<tr class=total><td>{escape(t('total'))}</td><td class=n>{_n(s['eligible'] - s['no_band'], lang)}</td><td></td>"
            f"<td class=n>{_euro(s['commitments'], lang)}</td><td class=n>{_euro(s['expected_payments'], lang)}</td></tr>"
            f"</table><p class=note>{' '.join(notes)}</p>")


def _assumptions(result: dict, lang=None) -> str:
    t = lambda m, **k: _(m, lang=lang, **k)  # noqa: E731
    rows = []
    for s in result["editions"]:
        name = escape(s.get("name") or s["policy"])
        rows.append(f"<tr><td>{name}</td><td>{escape(t('take-up (share of eligible people who apply)'))}</td>"
                    f"<td class=n>{_pct(s['take_up'], lang)}</td><td><code>--take-up</code></td></tr>")
        for band, rate in (s.get("outcome_rates") or {}).items():
            rows.append(f"<tr><td>{name}</td><td>{escape(t('outcome rate, fascia {band}', band=band))}</td>"
                        f"<td class=n>{_pct(rate, lang)}</td><td><code>--outcome-rate {escape(band)}=…</code></td></tr>")
        if s.get("outcome_basis"):
            basis = s["outcome_basis"]
            words = t("the outcome payment by fascia of rule '{rule}'", rule=basis.split(":", 1)[1]) \
                if basis.startswith("outcome:") else t("the dote value of the fascia")
            rows.append(f"<tr><td>{name}</td><td>{escape(t('one outcome pays'))}</td><td>{escape(words)}</td>"
                        f"<td><code>--outcome-rule</code></td></tr>")
    return (f"<table><tr><th>{escape(t('edition'))}</th><th>{escape(t('assumption'))}</th><th>{escape(t('value'))}</th>"
            f"<th>{escape(t('to change it'))}</th></tr>{''.join(rows)}</table>"
            f"<p class=note>{escape(t('Commitments = people × dote × take-up; expected payments = people × take-up × outcome rate × what one outcome pays. Change an assumption with the option shown and run almp report again.'))}</p>")


def render_report(result: dict, lang: str | None = None, publication: dict | None = None) -> str:
    """The relazione tecnica of a simulation result, as one HTML page."""
    lang = i18n.language(lang)
    t = lambda m, **k: _(m, lang=lang, **k)  # noqa: E731
    editions = result["editions"]
    names = [s.get("name") or s["policy"] for s in editions]
    title = t("Technical report: {names}", names=" – ".join(names) if len(names) < 2
              else t("{new} compared with {old}", new=names[-1], old=names[0]))
    meta = result.get("population_meta") or {}
    check = result["durable_check"]
    sections = [f"<h1>{escape(title)}</h1>"]
    if publication:
        sections.append(f"<p class=meta>{escape(t('Published under act {number} of {day} by {who} on {when}; content hash {hash}.', number=publication['act']['number'], day=i18n.date(publication['act']['date'], lang), who=publication['published_by'], when=publication['published_at'][:10], hash=publication['content_hash'][:23]))}</p>")
    sections += [
        f"<p class=meta>{escape(t('Population {file}: {people} people{meta}; evaluated on {day}.', file=str(result['population']), people=_n(result['people'], lang), meta=_meta_line(meta, lang), day=i18n.date(result['as_of'], lang)))} "
        f"{escape(t('Checked on durable-rules: {people} people, {mismatches} mismatches.', people=_n(check['people'], lang), mismatches=check['mismatches']))}</p>",
        f"<h2>{escape(t('Assumptions'))}</h2>", _assumptions(result, lang),
        f"<h2>{escape(t('People per fascia'))}</h2>", people_chart(editions, lang),
        f"<h2>{escape(t('Commitments against budget'))}</h2>", cost_chart(editions, lang),
        f"<p class=note>{escape(t('Bars: commitments by fascia (hatching tells the fasce apart in black and white); dashed line: the budget of the edition.'))}</p>"]
    sections += [_edition_table(s, lang) for s in editions]
    comp = result.get("comparison")
    if comp:
        rows = "".join(f"<tr><td>{escape(_state(m['from'], lang))}</td><td>{escape(_state(m['to'], lang))}</td>"
                       f"<td class=n>{_n(m['people'], lang)}</td></tr>" for m in comp["transitions"])
        delta = ("+" if comp["eligible_delta"] >= 0 else "") + _n(comp["eligible_delta"], lang)
        text = t("{people} people change eligibility or fascia (eligible {delta}); commitments change by {commitments}.",
                 people=_n(comp["changed_people"], lang), delta=delta,
                 commitments=_signed(comp["commitments_delta"], lang))
        if "budget_left" in comp:
            text += " " + t("Budget left under the new edition: {amount}.", amount=_euro(comp["budget_left"], lang))
        if comp.get("expected_payments_comparable") is False:
            text += " " + t("expected payments are not compared: the two editions pay outcomes on different bases")
        sections.append(
            f"<h2>{escape(t('Who changes from {old} to {new}', old=names[0], new=names[-1]))}</h2><p>{escape(text)}</p>"
            + (f"<table><tr><th>{escape(t('from'))}</th><th>{escape(t('to'))}</th><th>{escape(t('people'))}</th></tr>"
               f"{rows}</table>" if rows else ""))
    if meta.get("assumptions"):
        items = "".join(f"<li><b>{escape(str(k))}</b>: {escape(str(v))}</li>" for k, v in meta["assumptions"].items())
        sections.append(f"<h2>{escape(t('Population assumptions'))}</h2><p class=note>{escape(str(meta.get('warning', '')))}</p>"
                        f"<ul class=note>{items}</ul>")
    hashes = ", ".join(f"{escape(n)}: <code>{escape(s['content_hash'][:23])}</code>" for n, s in zip(names, editions))
    sections.append(f"<p class=note>{escape(t('Content hashes of the editions:'))} {hashes}</p>")
    return (f"<!DOCTYPE html><html lang={lang}><head><meta charset=utf-8>"
            f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
            + "".join(sections) + "</body></html>\n")


def write_pdf(html: str, path) -> None:
    """Print the report to PDF with WeasyPrint (a maintained HTML-to-PDF library)."""
    from weasyprint import HTML
    HTML(string=html).write_pdf(str(path))


def _meta_line(meta: dict, lang=None) -> str:
    if not meta:
        return " " + _("(no sidecar: origin and assumptions not stated)", lang=lang)
    return " " + _("({kind}, region {region}, seed {seed}, reference date {day})", lang=lang,
                   kind=meta.get("kind", "extract"), region=meta.get("region", "?"), seed=meta.get("seed", "-"),
                   day=i18n.date(meta["as_of"], lang) if meta.get("as_of") else "?")


_CSS = """
body{font-family:'DejaVu Sans',system-ui,sans-serif;max-width:780px;margin:24px auto;color:#111;
font-size:13px;line-height:1.4}
h1{font-size:19px}h2{font-size:15px;margin-top:22px;border-bottom:1px solid #999}h3{font-size:13px}
table{border-collapse:collapse;width:100%;margin:6px 0}td,th{border-bottom:1px solid #ccc;padding:3px 6px;
text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}tr.total td{font-weight:bold}
.note,.meta{color:#333;font-size:11px}.over{font-weight:bold;text-decoration:underline}code{font-size:11px}
svg.chart{display:block;margin:6px 0}svg text{font-family:'DejaVu Sans',sans-serif}
@page{size:A4;margin:18mm}
@media print{body{margin:0}}
"""


# Messages written inside f-strings, where the catalogue extractor cannot see them: listed here so that
# engine.i18n.check finds each one and the test of the Italian catalogue covers them.
_IN_F_STRINGS = (
    N_('Commitments {commitments}; the edition states no budget.'),
    N_('fascia {band}'),
    N_('People per fascia'),
    N_('Commitments against budget'),
    N_('budget {amount}'),
    N_('over budget'),
    N_('within budget'),
    N_('* not a confirmed figure (fasce {bands})'),
    N_('Eligible: {eligible} of {people} ({rate}).'),
    N_('Commitments {commitments} against a budget of {budget} ({used}).'),
    N_('fascia'),
    N_('people'),
    N_('dote'),
    N_('commitments'),
    N_('expected payments'),
    N_('total'),
    N_('take-up (share of eligible people who apply)'),
    N_('outcome rate, fascia {band}'),
    N_("the outcome payment by fascia of rule '{rule}'"),
    N_('the dote value of the fascia'),
    N_('one outcome pays'),
    N_('edition'),
    N_('assumption'),
    N_('value'),
    N_('to change it'),
    N_('Commitments = people × dote × take-up; expected payments = people × take-up × outcome rate × what one outcome pays. Change an assumption with the option shown and run almp report again.'),
    N_('Technical report: {names}'),
    N_('{new} compared with {old}'),
    N_('Published under act {number} of {day} by {who} on {when}; content hash {hash}.'),
    N_('Population {file}: {people} people{meta}; evaluated on {day}.'),
    N_('Checked on durable-rules: {people} people, {mismatches} mismatches.'),
    N_('Assumptions'),
    N_('Bars: commitments by fascia (hatching tells the fasce apart in black and white); dashed line: the budget of the edition.'),
    N_('{people} people change eligibility or fascia (eligible {delta}); commitments change by {commitments}.'),
    N_('Budget left under the new edition: {amount}.'),
    N_('expected payments are not compared: the two editions pay outcomes on different bases'),
    N_('Who changes from {old} to {new}'),
    N_('from'),
    N_('to'),
    N_('Population assumptions'),
    N_('Content hashes of the editions:'),
    N_('(no sidecar: origin and assumptions not stated)'),
    N_('({kind}, region {region}, seed {seed}, reference date {day})'),
)
