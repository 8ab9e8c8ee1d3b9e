"""The simulation report opens in a real browser (headless Chromium) and its charts render.

Needs the ``chromium`` package (Debian/Ubuntu: ``apt-get install -y chromium``); skipped
with a message when no Chromium binary is found.
"""
from __future__ import annotations

import datetime as dt
import shutil
import struct
import subprocess
import zlib
from collections import Counter

import pytest

from engine.avviso import simulate as sim
from engine.avviso.report import render_report
from engine.avviso.synthetic import write_population

CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-dev-shm-usage", "--hide-scrollbars"]


def chromium() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def report_file(tmp_path_factory, registry):
    folder = tmp_path_factory.mktemp("report")
    population = folder / "pop.csv"
    policies = [registry.get("lombardia/dote-unica-lavoro", "2013"), registry.get("lombardia/dote-unica-lavoro",
                                                                                  "2019")]
    as_of = dt.date(2019, 6, 1)
    write_population(registry.dictionary, population, 2_000, "lombardia", 3, as_of)
    tally = sim.run(policies, population, as_of, workers=1)
    summaries = [sim.summarise(p, s, tally.people, sim.parse_rates(["*=0.5"], p))
                 for p, s in zip(policies, tally.states)]
    result = {"population": str(population), "population_meta": None, "as_of": as_of.isoformat(),
              "people": tally.people, "seconds": 0, "durable_check": {"people": 0, "mismatches": 0, "examples": []},
              "editions": summaries, "comparison": sim.compare(summaries[0], summaries[1], tally.transitions)}
    path = folder / "report.html"
    path.write_text(render_report(result), encoding="utf-8")
    return path, summaries


def run_chromium(*args, timeout=90) -> subprocess.CompletedProcess:
    binary = chromium()
    if binary is None:
        pytest.skip("Chromium not installed (apt-get install -y chromium): the browser check of the report is skipped")
    return subprocess.run([binary, *FLAGS, *args], capture_output=True, timeout=timeout)


def test_report_dom_in_chromium_has_the_charts(report_file):
    path, summaries = report_file
    done = run_chromium("--dump-dom", path.as_uri())
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    dom = done.stdout.decode("utf-8")
    assert 'id="people-chart"' in dom and 'id="cost-chart"' in dom
    bands = sum(len(s["bands"]) for s in summaries)
    assert dom.count('<rect class="bar"') >= bands  # one bar per band and edition at least
    assert dom.count('class="budget"') == 2


def _png_pixels(data: bytes) -> tuple[int, int, Counter]:
    """Decode an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes) into a colour histogram."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    idat = b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IDAT":
            idat += body
        else:
            chunks[kind] = body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert depth == 8 and colour in (2, 6)
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    histogram: Counter = Counter()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        if row % 4 == 0:  # a sample of rows is enough for a histogram
            for x in range(0, stride, channels * 2):
                histogram[bytes(line[x:x + 3])] += 1
        previous = line
    return width, height, histogram


def test_report_screenshot_shows_the_chart_colours(report_file, tmp_path):
    path, _ = report_file
    shot = tmp_path / "shot.png"
    done = run_chromium(f"--screenshot={shot}", "--window-size=820,2400", path.as_uri())
    assert done.returncode == 0 and shot.is_file(), done.stderr.decode(errors="replace")[-2000:]
    width, height, histogram = _png_pixels(shot.read_bytes())
    assert (width, height) == (820, 2400)
    total = sum(histogram.values())
    assert histogram[b"\xff\xff\xff"] < total * 0.95  # not a blank page

    def near(colour: str) -> int:
        want = bytes.fromhex(colour.lstrip("#"))
        return sum(n for c, n in histogram.items() if all(abs(a - b) <= 12 for a, b in zip(c, want)))
    # the bar colours of the first two editions are painted
    assert near("#1f5f8b") > 50 and near("#e07b39") > 50


_OVERLAP_PROBE = """<script>
window.addEventListener('load', () => {
  const found = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const boxes = [...svg.querySelectorAll('text.label')].map(t => [t.textContent, t.getBoundingClientRect()]);
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const [ta, a] = boxes[i], [tb, b] = boxes[j];
      if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5)
        found.push(svg.id + ': ' + ta + ' / ' + tb);
    }
    const frame = svg.getBoundingClientRect();
    for (const [t, r] of boxes) if (r.left < frame.left - 0.5 || r.right > frame.right + 0.5) found.push(svg.id + ': outside ' + t);
  }
  const out = document.createElement('pre'); out.id = 'overlaps'; out.textContent = JSON.stringify(found);
  document.body.appendChild(out);
});
</script>"""


def test_report_labels_never_overlap_in_chromium(report_file, tmp_path):
    """Every chart label (axis, values, legend, budget) has its own room, measured by the browser's layout."""
    path, _ = report_file
    probe = tmp_path / "probe.html"
    probe.write_text(path.read_text(encoding="utf-8").replace("</body>", _OVERLAP_PROBE + "</body>"), encoding="utf-8")
    done = run_chromium("--virtual-time-budget=3000", "--dump-dom", probe.as_uri())
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    dom = done.stdout.decode("utf-8")
    found = dom.split('<pre id="overlaps">', 1)[1].split("</pre>", 1)[0]
    assert found == "[]", found


def test_report_is_italian_with_edition_names_and_prints_to_pdf(report_file, tmp_path):
    from engine.avviso.report import write_pdf
    path, summaries = report_file
    html = path.read_text(encoding="utf-8")
    assert "<html lang=it>" in html and "Relazione tecnica" in html and "Persone per fascia" in html
    assert "Dote Unica Lavoro – terza fase (2019)" in html
    import re
    assert not re.search(r"€\s?\d", html) and re.search(r"\d,\d\d €", html)  # 1.800,00 €, never € 1,800.00
    assert all(f'id="s{i}"' in html for i in range(3))  # hatching patterns for black-and-white print
    pdf = tmp_path / "r.pdf"
    write_pdf(html, pdf)
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 5000
