"""Time and peak memory of `almp validate` on hostile editions (issue 19, defects 8 and 10).

    python -m bench.hostile_policy [bands|bands-small|deep|long-expression]

Each case writes a scratch policies tree (the real fact dictionary, a minimal edition plus the
hostile part) and runs `almp validate` in a child process; prints wall time, the child's peak
RSS, and the first lines of what it said.
"""
from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MINIMAL = (REPO / "tests" / "conftest.py").read_text().split('MINIMAL = """')[1].split('"""')[0]


def _condition(i: int, length: int = 1900) -> str:
    parts, k = [], 0
    while True:
        part = f"(age >= {18 + (i + k) % 50} or age < {(i * 7 + k) % 97 + 1})"
        if len(" and ".join(parts + [part])) > length:
            return " and ".join(parts)
        parts.append(part)
        k += 1


def edition(case: str) -> str:
    text = MINIMAL.format(version="2020", valid_from="2020-01-01", valid_to="2020-12-31").lstrip()
    if case in ("bands", "bands-small"):  # 1,000 bands (2 MB), or 200 (under the file-size bound)
        count = 1000 if case == "bands" else 200
        text += "bands:\n" + "".join(f"  - id: b{i}\n    label: B{i}\n    when: {_condition(i)}\n"
                                     f"    reference: {{act: act}}\n" for i in range(count))
    elif case == "deep":
        text += "notes: " + "[" * 450 + "1" + "]" * 450 + "\n"
    elif case == "long-expression":
        text = text.replace("when: age >= eta_min", "when: " + " or ".join(["age >= eta_min"] * 25_000))
    else:
        raise SystemExit(f"unknown case {case!r}")
    return text


def main(case: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "national").mkdir()
        shutil.copy(REPO / "policies" / "national" / "facts.yaml", root / "national" / "facts.yaml")
        path = root / "test" / "prog" / "2020.yaml"
        path.parent.mkdir(parents=True)
        path.write_text(edition(case), encoding="utf-8")
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "almp.cli", "validate", str(root)], capture_output=True,
                              text=True, cwd=REPO)
        elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    said = (done.stdout + done.stderr).splitlines()
    print(f"{case}: {path.stat().st_size if path.exists() else len(edition(case).encode())} bytes, exit "
          f"{done.returncode}, {elapsed:.1f} s, peak RSS {peak:.0f} MiB, {sum(map(len, said))} characters of output")
    for line in said[:3]:
        print("   ", line[:200])


if __name__ == "__main__":
    for name in sys.argv[1:] or ["bands", "bands-small", "deep", "long-expression"]:
        main(name)
