"""The HTML report in a real headless Chromium: every task in the DOM, a non-blank
screenshot showing the critical path colour, and no console errors.

Chromium is driven through its command line only (``--dump-dom``,
``--screenshot``, ``--enable-logging=stderr``), so no Python browser driver is
needed.  Debian package: ``chromium``.  Under ``CI=true`` a missing browser is a
failure, not a skip, so the check can't silently stop running.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from swiftgraph._internal.draw import END, START, graph_from_edges
from swiftgraph._internal.timeline import TaskRecord, Timeline
from swiftgraph.report import write_html

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing may come from the network anyway
    "--enable-logging=stderr",
    "--v=0",
)
CONSOLE = re.compile(r"CONSOLE[:(]\d*|Uncaught")
ORANGE, BLUE = (0xE8, 0x59, 0x0C), (0x4C, 0x6E, 0xF5)  # critical path / other bars


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    msg = "headless Chromium not found: install Debian's `chromium` package (apt-get install -y chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(msg)
    pytest.skip(msg)


def _run(chromium: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    cmd = [chromium, *FLAGS, f"--user-data-dir={profile}", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp, check=False)
    assert proc.returncode == 0, f"chromium failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    return proc


def _console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if CONSOLE.search(line)]


def _timeline() -> Timeline:
    """A busy run: supersteps, a subgraph with inner tasks, a failure, odd names."""
    tasks = [TaskRecord("t0", "parse", 0, 0.0, 0.8, "ok", input={"cv": "x" * 500})]
    for i in range(8):
        start = 0.8 + 0.01 * i
        tasks.append(TaskRecord(f"f{i}", f"fetch_{i}", 1, start, start + 0.3 + 0.2 * i, "ok"))
    tasks.append(TaskRecord("sub", "enrich", 1, 0.8, 2.0, "ok"))
    ns = ("enrich:sub",)
    tasks += [
        TaskRecord("s1", "lookup", 0, 0.8, 1.3, "ok", namespace=ns),
        TaskRecord("s2", "score", 1, 1.3, 2.0, "ok", namespace=ns),
        TaskRecord(
            "bad", "<img src=x onerror=alert(1)>", 1, 0.9, 1.1, "error", error="ValueError('x')"
        ),
    ]
    tasks.append(TaskRecord("d", "decide", 2, 2.58, 2.95, "ok", output="hire"))
    return Timeline("run-browser", "hiring", 0.0, 3.0, tasks)


def _graph():  # type: ignore[no-untyped-def]
    names = ["parse", *(f"fetch_{i}" for i in range(8)), "enrich", "decide"]
    edges = [(START, "parse", False, None)]
    edges += [("parse", n, False, None) for n in names[1:-1]]
    edges += [(n, "decide", False, None) for n in names[1:-1]]
    edges += [("decide", END, True, "done"), ("decide", "parse", True, "retry")]
    return graph_from_edges([START, *names, END], edges)


def _add_bytes(x: bytes, y: bytes) -> bytes:
    """Bytewise (x + y) mod 256 at C speed: SWAR on two big integers."""
    n, lo, hi = (
        len(x),
        int.from_bytes(b"\x7f" * len(x), "big"),
        int.from_bytes(b"\x80" * len(x), "big"),
    )
    a, b = int.from_bytes(x, "big"), int.from_bytes(y, "big")
    return (((a & lo) + (b & lo)) ^ ((a ^ b) & hi)).to_bytes(n, "big")


def _png_rgb(data: bytes) -> tuple[int, int, bytes]:
    """Decode an 8-bit RGB/RGBA PNG with the stdlib: (width, height, packed RGB bytes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, bpp = 8, b"", 0, 0, 3
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6), (depth, color)
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride = zlib.decompress(idat), width * bpp
    prev, out = bytes(stride), bytearray()
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]
        if ftype == 2:  # Up: the common case, vectorised
            line = _add_bytes(line, prev)
        elif ftype in (1, 3, 4):  # Sub / Average / Paeth: byte by byte
            cur = bytearray(line)
            for i in range(stride):
                a = cur[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                if ftype == 1:
                    pred = a
                elif ftype == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                cur[i] = (cur[i] + pred) & 255
            line = bytes(cur)
        prev = line
        if bpp == 4:  # drop alpha
            rgb = bytearray(width * 3)
            for k in range(3):
                rgb[k::3] = line[k::4]
            line = bytes(rgb)
        out += line
    return width, height, bytes(out)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_html(_timeline(), path, graph=_graph(), title="Browser check")
    return path


def test_dom_has_every_task_and_script_ran(chromium: str, report: Path, tmp_path: Path) -> None:
    proc = _run(chromium, tmp_path, "--dump-dom", report.as_uri())
    dom = proc.stdout
    assert _console_errors(proc.stderr) == []
    expected = [t.id for t in _timeline().tasks]
    rows = re.findall(r'<tr class="task" data-task-id="([^"]+)"', dom)
    assert sorted(rows) == sorted(expected)
    bars = re.findall(r'<rect class="bar[^"]*" data-task-id="([^"]+)"', dom)
    assert sorted(bars) == sorted(expected)
    assert 'data-report-ready="1"' in dom  # the inline script ran to its end
    assert "<img src=x" not in dom and "onerror=alert" not in dom.replace(
        "onerror=alert(1)&gt;", ""
    )


def test_screenshot_is_not_blank_and_shows_the_critical_path(
    chromium: str, report: Path, tmp_path: Path
) -> None:
    shot = tmp_path / "shot.png"
    proc = _run(
        chromium, tmp_path, f"--screenshot={shot}", "--window-size=1200,900", report.as_uri()
    )
    assert _console_errors(proc.stderr) == []
    width, height, rgb = _png_rgb(shot.read_bytes())
    assert (width, height) == (1200, 900)
    sample = [rgb[i : i + 3] for i in range(0, len(rgb), 3 * 7)]
    colours = {bytes(v // 16 for v in px) for px in sample}
    assert len(colours) > 20, "screenshot looks blank"
    white = sum(1 for px in sample if min(px) > 240)
    assert white < len(sample) * 0.97, "screenshot is (almost) all white"
    # solid bar fills, matched exactly: the critical path must be visible, and the rest
    assert rgb.count(bytes(ORANGE)) > 2000, "no critical-path bars visible"
    assert rgb.count(bytes(BLUE)) > 500, "no regular task bars visible"


def test_console_error_detection_works(chromium: str, tmp_path: Path) -> None:
    """Control: the harness does notice a page that throws."""
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><p>x</p><script>nosuchfunction();</script>", encoding="utf-8")
    proc = _run(chromium, tmp_path, "--dump-dom", page.as_uri())
    assert any("Uncaught" in line for line in _console_errors(proc.stderr))
