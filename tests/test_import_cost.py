"""SQL governance never loads the PII engine's heavy dependencies.

`import govern`, `Governor.from_path` and `check_sql` must not import Presidio or
spaCy (≈0.9 s of a 1.7 s import when they did, through bundle.models → pii.settings);
they load on the first use of a PII feature. Checked in a fresh interpreter, where
nothing else has imported them yet. The time it saves is measured side by side in
benchmarks/bench_import.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
import govern
from govern import Governor
from govern.audit import AuditTrail
gov = Governor.from_path(sys.argv[1], audit=AuditTrail.null(), hash_key="probe-key-probe-key")
decision = gov.check_sql("SELECT c.name, c.email FROM customers c JOIN orders o ON o.customer_id = c.id", gov.principal("eve"))
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"presidio_analyzer", "presidio_anonymizer", "spacy", "thinc"})
after = None
if len(sys.argv) > 2:  # then use a PII feature: now they load
    gov.mask_text("call me at +1 415 555 0100", gov.principal("eve"))
    after = sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in {"presidio_analyzer", "spacy"}})
print(json.dumps({"allowed": decision.allowed, "heavy": heavy, "after": after}))
"""


def _probe(*extra: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, str(ROOT / "policies"), *extra], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_sql_path_does_not_import_presidio_or_spacy():
    result = _probe()
    assert result["allowed"]
    assert result["heavy"] == []


def test_a_pii_feature_still_loads_them():
    """The probe can see the modules when they are loaded (the test above can fail)."""
    result = _probe("mask")
    assert result["heavy"] == []
    assert result["after"] == ["presidio_analyzer", "spacy"]
