"""Builds almp's C extensions: the vendored durable-rules core (``third_party/durable_rules``) and ``engine._accel``.

Everything else about the project is declared in pyproject.toml; setuptools reads both.
"""
import sys
from pathlib import Path

from setuptools import Extension, setup

VENDORED = "third_party/durable_rules"
CORE = [f"{VENDORED}/src/rules/{name}.c" for name in ("json", "rete", "state", "events", "regex")]

# Warnings on. The C-API mistakes that broke durable-rules 2.0.28 on Python 3.13 (a call to the
# removed PyEval_CallObject compiled as an implicit declaration, then failed at import) are
# errors here, so a future removal stops the build instead of producing a module that cannot load.
FLAGS = [] if sys.platform == "win32" else [
    "-Wall",
    "-Werror=implicit-function-declaration",
    "-Werror=int-conversion",
    "-Werror=deprecated-declarations",
]

setup(
    ext_modules=[
        Extension(
            "durable_rules_engine",
            sources=[f"{VENDORED}/src/rulespy/rules.c", *CORE],
            include_dirs=[f"{VENDORED}/src/rules"],
            depends=sorted(str(p) for p in Path(VENDORED, "src/rules").glob("*.h")),
            define_macros=[("_GNU_SOURCE", None)],  # asprintf
            extra_compile_args=FLAGS,
        ),
        # the decision path's fact reading and JSON writing (engine/_accel.c says why); the Python
        # code in engine/policy/reader.py and engine/decide/durable.py is the reference and fallback
        Extension("engine._accel", sources=["engine/_accel.c"], extra_compile_args=FLAGS),
    ],
)
