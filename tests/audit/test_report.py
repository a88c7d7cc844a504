"""HTML report: self-contained, escaped, and it renders in a real browser."""

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from govern.cli.audit import main

from .helpers import fill

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("rep")
    p = d / "trail.jsonl"
    t = fill(p, 400)
    t.record(action="check_sql", principal={"id": "<script>alert(1)</script>"}, decision="deny",
             reasons=["<img src=x onerror=alert(1)>"])
    t.close()
    out = d / "report.html"
    assert main(["audit", "report", "--trail", str(p), "-o", str(out)]) == 0
    return out


def test_report_sections_and_self_contained(report):
    html = report.read_text()
    for title in ("Chain status", "Decisions over time", "By principal", "By policy", "Top denial reasons",
                  "PII masked by type"):
        assert title in html
    assert "chain OK" in html
    assert html.count("<svg") >= 4
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)  # nothing fetched
    assert "<script" not in html  # trail text is escaped, and the page has no scripts
    assert "&lt;script&gt;" in html


def test_report_shows_tampering(tmp_path):
    p = tmp_path / "t.jsonl"
    fill(p, 50).close()
    ls = p.read_bytes().splitlines(keepends=True)
    del ls[20]
    p.write_bytes(b"".join(ls))
    out = tmp_path / "r.html"
    main(["audit", "report", "--trail", str(p), "-o", str(out)])
    html = out.read_text()
    assert "chain TAMPERED" in html and "deleted" in html


def _png_size_and_colours(path: Path) -> tuple[int, int, int]:
    """Width, height and number of distinct colours of an 8-bit RGB(A) PNG (stdlib only)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h, depth, ctype = struct.unpack(">IIBB", data[16:26])
    idat, pos = b"", 8
    while pos < len(data):
        (n,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    raw = zlib.decompress(idat)
    bpp = {2: 3, 6: 4}[ctype]
    stride = w * bpp + 1
    colours = set()
    for y in range(0, h, 7):  # sample rows; filter bytes make raw values approximate, enough to see colour
        row = raw[y * stride + 1:(y + 1) * stride]
        colours.update(row[i:i + 3] for i in range(0, len(row), bpp * 5))
    return w, h, len(colours)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (Debian packages chromium, chromium-driver)")
def test_report_renders_in_headless_chromium(report, tmp_path):
    shot = tmp_path / "report.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
           f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1000,1800", f"--screenshot={shot}",
           report.as_uri()]
    subprocess.run(cmd, check=True, timeout=90, capture_output=True)
    w, h, colours = _png_size_and_colours(shot)
    assert (w, h) == (1000, 1800)
    assert colours > 20  # charts drew: a blank or error page is one or two colours
    dom = subprocess.run([*cmd[:-2], "--dump-dom", report.as_uri()], check=True, timeout=90,
                         capture_output=True, text=True).stdout
    assert dom.count("<rect") > 50 and "Decisions over time" in dom
