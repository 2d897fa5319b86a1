"""Import cost of ``<engine>.graph`` in a fresh interpreter.

Each sample starts a new ``python`` and times ``import <engine>.graph`` inside it
with ``perf_counter``; interpreter start-up is therefore excluded without having
to subtract a separately measured (and noisy) bare start.

Both engines are timed from compiled bytecode, as an installed package is: pip
compiles LangGraph's modules at install time, while swiftgraph runs from an
editable checkout, and on machines that set ``PYTHONDONTWRITEBYTECODE`` its modules
would otherwise be compiled from source on every import. ``setup`` compiles the
engine's package once (``engines.compile_package``) before sampling.
"""

from __future__ import annotations

import subprocess
import sys

from engines import child_env, compile_package
from harness import Metric, Workload, check

CODE = "import time; t = time.perf_counter(); import {mod}; print(repr(time.perf_counter() - t))"


class ImportTime(Workload):
    name = "import"
    title = "import <engine>.graph (fresh process)"
    metrics = (Metric("import_ms", "import", "ms", target=30),)
    reps, quick_reps = 7, 3
    max_reps, budget_s, quick_budget_s = 15, 2.0, 0.5

    def setup(self, E, quick):
        compile_package(E.name)
        cmd = [sys.executable, "-c", CODE.format(mod=f"{E.name}.graph")]
        env = child_env()

        def sample():
            p = subprocess.run(
                cmd, capture_output=True, text=True, env=env, timeout=120, check=False
            )
            check(p.returncode == 0, f"import failed: {p.stderr.strip()[-300:]}")
            return {"import_ms": float(p.stdout.strip().splitlines()[-1]) * 1e3}

        return sample


WORKLOADS = [ImportTime()]
