"""A one-page HTML report of a simulation that an officer can attach to the act.

Self-contained: inline CSS and SVG charts, no scripts, no network, so it opens the same
in any browser and prints to PDF. Every text from a policy or a population file is
escaped. Figures come from the simulation result (``almp simulate --json`` data).
"""
from __future__ import annotations

from decimal import Decimal
from html import escape

COLOURS = ("#1f5f8b", "#e07b39", "#4c9a2a", "#a23b72", "#6b5b95", "#c0392b", "#16a085")
_STATE_NAMES = {"not eligible": "not eligible", "no band": "no band"}


def _euro(text) -> str:
    return "–" if text is None else f"€ {Decimal(text):,.2f}"


def _pct(text) -> str:
    return "–" if text is None else f"{Decimal(text) * 100:.1f}%"


def _state(state: str) -> str:
    return _STATE_NAMES.get(state, f"fascia {state}")


def people_chart(editions: list[dict]) -> str:
    """Grouped bars: people per band, one colour per edition."""
    bands: list[tuple[str, str]] = []
    for s in editions:
        for b in s["bands"]:
            if b["band"] not in [x[0] for x in bands]:
                bands.append((b["band"], b["label"]))
    counts = [{b["band"]: b["people"] for b in s["bands"]} for s in editions]
    top = max([c for cs in counts for c in cs.values()] + [1])
    width, height, left, bottom, top_pad = 640, 260, 60, 40, 20
    plot_h = height - bottom - top_pad
    group = (width - left - 10) / max(len(bands), 1)
    bar = min(48.0, (group - 12) / max(len(editions), 1))
    parts = [f'<svg class="chart" id="people-chart" role="img" aria-label="People per band" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">']
    for i in range(5):
        value = top * i / 4
        y = top_pad + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{value:,.0f}</text>')
    for g, (band_id, label) in enumerate(bands):
        x0 = left + g * group + (group - bar * len(editions)) / 2
        for e, cs in enumerate(counts):
            n = cs.get(band_id, 0)
            h = plot_h * n / top
            x = x0 + e * bar
            y = top_pad + plot_h - h
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" '
                         f'fill="{COLOURS[e % len(COLOURS)]}"><title>{escape(editions[e]["policy"])} fascia '
                         f'{escape(band_id)}: {n:,}</title></rect>')
            parts.append(f'<text x="{x + (bar - 2) / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                         f'font-size="10">{n:,}</text>')
        parts.append(f'<text x="{left + g * group + group / 2:.1f}" y="{height - bottom + 16}" '
                     f'text-anchor="middle" font-size="12">{escape(band_id)} {escape(label)}</text>')
    parts.append(_legend(editions, left, height - 8))
    parts.append("</svg>")
    return "".join(parts)


def cost_chart(editions: list[dict]) -> str:
    """Horizontal bars: commitments (stacked by band) and expected payments against the budget line."""
    values = [Decimal(s["commitments"]) for s in editions] + \
             [Decimal(s["budget"]) for s in editions if s["budget"] is not None]
    top = max(values + [Decimal(1)])
    width, row, left = 640, 56, 150
    height = 40 + row * len(editions) + 30
    scale = Decimal(width - left - 30) / top
    parts = [f'<svg class="chart" id="cost-chart" role="img" aria-label="Cost against budget" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">']
    for e, s in enumerate(editions):
        y = 20 + e * row
        parts.append(f'<text x="{left - 8}" y="{y + 20}" text-anchor="end" font-size="12">'
                     f'{escape(s["policy"].split("@")[-1])}</text>')
        x = Decimal(left)
        for i, b in enumerate(s["bands"]):
            w = Decimal(b["commitments"]) * scale
            if w <= 0:
                continue
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{y}" width="{w:.1f}" height="28" '
                         f'fill="{COLOURS[i % len(COLOURS)]}" opacity="0.85"><title>fascia {escape(b["band"])}: '
                         f'{_euro(b["commitments"])}</title></rect>')
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 19}" font-size="11">{_euro(s["commitments"])}</text>')
        if s.get("expected_payments") is not None:
            w = Decimal(s["expected_payments"]) * scale
            parts.append(f'<rect x="{left}" y="{y + 31}" width="{w:.1f}" height="6" fill="#333">'
                         f'<title>expected payments {_euro(s["expected_payments"])}</title></rect>')
        if s["budget"] is not None:
            bx = left + Decimal(s["budget"]) * scale
            anchor = "end" if bx > width - 120 else "middle"
            parts.append(f'<line class="budget" x1="{bx:.1f}" x2="{bx:.1f}" y1="{y - 6}" y2="{y + 42}" '
                         f'stroke="#c0392b" stroke-width="2" stroke-dasharray="5,3"/>'
                         f'<text x="{bx:.1f}" y="{y - 8}" text-anchor="{anchor}" font-size="10" fill="#c0392b">'
                         f'budget {_euro(s["budget"])}</text>')
    legend_y = height - 10
    bands = max((s["bands"] for s in editions), key=len)
    for i, b in enumerate(bands):
        x = left - 140 + i * 90
        parts.append(f'<rect x="{x}" y="{legend_y - 10}" width="10" height="10" '
                     f'fill="{COLOURS[i % len(COLOURS)]}"/><text x="{x + 14}" y="{legend_y}" '
                     f'font-size="11">fascia {escape(b["band"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _legend(editions, x, y) -> str:
    out = []
    for e, s in enumerate(editions):
        out.append(f'<rect x="{x + e * 220}" y="{y - 10}" width="10" height="10" fill="{COLOURS[e % len(COLOURS)]}"/>'
                   f'<text x="{x + e * 220 + 14}" y="{y}" font-size="11">{escape(s["policy"])}</text>')
    return "".join(out)


def _edition_table(s: dict) -> str:
    rows = "".join(
        f"<tr><td>{escape(b['band'])} {escape(b['label'])}</td><td class=n>{b['people']:,}</td>"
        f"<td class=n>{_euro(b['amount'])}{'' if b['amount_status'] == 'confirmed' else ' *'}</td>"
        f"<td class=n>{_euro(b['commitments'])}</td><td class=n>{_euro(b.get('expected_payments'))}</td></tr>"
        for b in s["bands"])
    verdict = "" if s["budget"] is None else (
        '<span class="over">over budget</span>' if s["over_budget"] else "within budget")
    notes = []
    if s["provisional_amounts"]:
        notes.append(f"* not a confirmed figure (fasce {escape(', '.join(s['provisional_amounts']))}).")
    if s["outcome_rates"]:
        notes.append("Outcome rates assumed: " + escape(", ".join(f"fascia {k} {_pct(v)}"
                                                                for k, v in s["outcome_rates"].items()))
                     + f"; one outcome pays {escape(s.get('outcome_basis') or '')}.")
    if Decimal(s["take_up"]) != 1:
        notes.append(f"Take-up assumed: {_pct(s['take_up'])} of eligible people apply.")
    return (f"<h3>{escape(s['policy'])}</h3>"
            f"<p>Eligible: <b>{s['eligible']:,}</b> of {s['people']:,} ({_pct(s['eligibility_rate'])}). "
            f"Commitments <b>{_euro(s['commitments'])}</b> against a budget of {_euro(s['budget'])} "
            f"({_pct(s['budget_used'])}, {verdict}).</p>"
            f"<table><tr><th>fascia</th><th>people</th><th>dote</th><th>commitments</th>"
            f"<th>expected payments</th></tr>{rows}"
            f"<tr class=total><td>total</td><td class=n>{s['eligible'] - s['no_band']:,}</td><td></td>"
            f"<td class=n>{_euro(s['commitments'])}</td><td class=n>{_euro(s['expected_payments'])}</td></tr>"
            f"</table><p class=note>{' '.join(notes)}</p>")


def render_report(result: dict) -> str:
    editions = result["editions"]
    title = " vs ".join(s["policy"] for s in editions)
    meta = result.get("population_meta") or {}
    sections = [f"<h1>Simulation: {escape(title)}</h1>",
                f"<p class=meta>Population <code>{escape(str(result['population']))}</code>: "
                f"{result['people']:,} people{_meta_line(meta)}; evaluated as of {escape(result['as_of'])}. "
                f"Edition hashes: {', '.join('<code>' + escape(s['content_hash'][:19]) + '</code>' for s in editions)}. "
                f"Checked on durable-rules: {result['durable_check']['people']:,} people, "
                f"{result['durable_check']['mismatches']} mismatch(es).</p>",
                "<h2>People per band</h2>", people_chart(editions),
                "<h2>Cost against budget</h2>", cost_chart(editions),
                "<p class=note>Bars: commitments (people × dote value), by fascia; thin dark bar: expected "
                "outcome payments; dashed line: the edition's budget.</p>"]
    sections += [_edition_table(s) for s in editions]
    comp = result.get("comparison")
    if comp:
        rows = "".join(f"<tr><td>{escape(_state(m['from']))}</td><td>{escape(_state(m['to']))}</td>"
                       f"<td class=n>{m['people']:,}</td></tr>" for m in comp["transitions"])
        sections.append(
            f"<h2>What changes from {escape(comp['from'])} to {escape(comp['to'])}</h2>"
            f"<p><b>{comp['changed_people']:,}</b> people change eligibility or band "
            f"(eligible {comp['eligible_delta']:+,}). Commitments change by <b>{_signed(comp['commitments_delta'])}</b>"
            + (f"; budget left under the new edition: {_euro(comp['budget_left'])}" if "budget_left" in comp else "")
            + ".</p>"
            + (f"<table><tr><th>from</th><th>to</th><th>people</th></tr>{rows}</table>" if rows else ""))
    if meta.get("assumptions"):
        items = "".join(f"<li><b>{escape(str(k))}</b>: {escape(str(v))}</li>" for k, v in meta["assumptions"].items())
        sections.append(f"<h2>Population assumptions</h2><p class=note>{escape(str(meta.get('warning', '')))}</p>"
                        f"<ul class=note>{items}</ul>")
    return ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
            + "".join(sections) + "</body></html>\n")


def _meta_line(meta: dict) -> str:
    if not meta:
        return " (no sidecar: origin and assumptions not stated)"
    return escape(f" ({meta.get('kind', 'extract')}, region {meta.get('region', '?')}, seed {meta.get('seed', '-')}, "
                  f"reference date {meta.get('as_of', '?')})")


def _signed(text) -> str:
    value = Decimal(text)
    return ("+" if value >= 0 else "−") + _euro(abs(value))


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:780px;margin:24px auto;color:#222;
font-size:14px;line-height:1.4}
h1{font-size:20px}h2{font-size:16px;margin-top:22px;border-bottom:1px solid #ccc}h3{font-size:14px}
table{border-collapse:collapse;width:100%;margin:6px 0}td,th{border-bottom:1px solid #e3e3e3;padding:3px 6px;
text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}tr.total td{font-weight:bold}
.note,.meta{color:#555;font-size:12px}.over{color:#c0392b;font-weight:bold}code{font-size:12px}
svg.chart{display:block;margin:6px 0}
@media print{body{margin:0}}
"""
