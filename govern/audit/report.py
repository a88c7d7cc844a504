"""Self-contained HTML report for a security review (inline SVG, no scripts, no fetches).

Decisions over time, by principal, by policy; top denial reasons; PII masked
by type; chain status from `verify`. Every string from the trail is escaped.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timezone
from html import escape
from typing import Iterable

from .verify import VerifyReport

COLORS = {"allow": "#2e7d32", "rewrite": "#1565c0", "mask": "#6a1b9a", "drop": "#ef6c00", "deny": "#c62828"}
DECISIONS = ("allow", "rewrite", "mask", "drop", "deny")
MAX_DENIALS = 5000  # individual denials listed (the counts above always cover all of them)


class Stats:
    def __init__(self) -> None:
        self.n = 0
        self.by_decision: Counter = Counter()
        self.by_principal: dict[str, Counter] = defaultdict(Counter)
        self.by_policy: Counter = Counter()
        self.denials: Counter = Counter()
        self.pii: Counter = Counter()
        self.times: list[tuple[str, str]] = []  # (time, decision)
        self.denied: list[dict] = []  # every individual denial (and drop), in trail order, up to MAX_DENIALS
        self.denied_total = 0
        self.first = self.last = None

    def add(self, r: dict) -> None:
        self.n += 1
        d = r["decision"]
        self.by_decision[d] += 1
        self.by_principal[r["principal"]["id"]][d] += 1
        for p in r.get("policies") or ():
            self.by_policy[p] += 1
        if d in ("deny", "drop"):
            for reason in r.get("reasons") or ("(no reason given)",):
                self.denials[reason] += 1
            self.denied_total += 1
            if len(self.denied) < MAX_DENIALS:
                self.denied.append(r)
        for k, v in (r.get("pii") or {}).items():
            self.pii[k] += v
        self.times.append((r["time"], d))
        self.first = self.first or r["time"]
        self.last = r["time"]


def _bucket(times: list[tuple[str, str]], nbuckets: int = 24) -> tuple[list[str], list[Counter]]:
    if not times:
        return [], []
    ts = [datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() for t, _ in times]
    lo, hi = min(ts), max(ts)
    width = max((hi - lo) / nbuckets, 1e-6)
    buckets = [Counter() for _ in range(nbuckets)]
    for x, (_, d) in zip(ts, times, strict=True):
        buckets[min(int((x - lo) / width), nbuckets - 1)][d] += 1
    span = hi - lo
    fmt = "%H:%M:%S.%f" if span < 60 else ("%H:%M:%S" if span < 86400 else "%m-%d %H:%M")
    labels = [datetime.fromtimestamp(lo + i * width, timezone.utc).strftime(fmt) for i in range(nbuckets)]
    if span < 60:
        labels = [x[:-3] for x in labels]  # milliseconds
    return labels, buckets


def stacked_bars(labels: list[str], buckets: list[Counter], w: int = 900, h: int = 260) -> str:
    if not buckets:
        return "<p>No records.</p>"
    top = max(sum(b.values()) for b in buckets) or 1
    bw = (w - 60) / len(buckets)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" aria-label="decisions over time">']
    parts.append(f'<line x1="50" y1="{h-40}" x2="{w-10}" y2="{h-40}" stroke="#999"/>')
    parts.append(f'<text x="45" y="20" text-anchor="end" font-size="11">{top}</text>')
    for i, b in enumerate(buckets):
        y = h - 40
        for d in DECISIONS:
            if b[d]:
                bh = b[d] / top * (h - 70)
                y -= bh
                parts.append(f'<rect x="{50 + i*bw + 1:.1f}" y="{y:.1f}" width="{bw-2:.1f}" height="{bh:.1f}" fill="{COLORS[d]}"><title>{escape(labels[i])} {d}: {b[d]}</title></rect>')
        if i % max(1, len(buckets) // 6) == 0:
            parts.append(f'<text x="{50 + i*bw:.1f}" y="{h-22}" font-size="10">{escape(labels[i])}</text>')
    parts.append(_legend(60, h - 6))
    parts.append("</svg>")
    return "".join(parts)


def _legend(x: int, y: int) -> str:
    out = []
    for i, d in enumerate(DECISIONS):
        out.append(f'<rect x="{x + i*90}" y="{y-9}" width="10" height="10" fill="{COLORS[d]}"/><text x="{x + i*90 + 14}" y="{y}" font-size="11">{d}</text>')
    return "".join(out)


def hbars(items: list[tuple[str, Counter | int]], w: int = 900, color: str = "#1565c0", label: str = "") -> str:
    if not items:
        return "<p>None.</p>"
    rowh = 22
    h = rowh * len(items) + 30
    tot = lambda v: sum(v.values()) if isinstance(v, Counter) else v  # noqa: E731
    top = max(tot(v) for _, v in items) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" aria-label="{escape(label)}">']
    for i, (name, v) in enumerate(items):
        y = 10 + i * rowh
        parts.append(f'<text x="195" y="{y+14}" text-anchor="end" font-size="12">{escape(name[:32])}</text>')
        x = 200.0
        segs = [(d, v[d]) for d in DECISIONS if v[d]] if isinstance(v, Counter) else [(None, v)]
        for d, c in segs:
            bw = c / top * (w - 280)
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{bw:.1f}" height="{rowh-6}" fill="{COLORS.get(d, color)}"><title>{escape(name)} {d or ""}: {c}</title></rect>')
            x += bw
        parts.append(f'<text x="{x+6:.1f}" y="{y+14}" font-size="12">{tot(v)}</text>')
    parts.append("</svg>")
    return "".join(parts)


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:980px}
h1{font-size:22px;margin-bottom:4px} h2{font-size:16px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
.badge{display:inline-block;padding:6px 12px;border-radius:4px;color:#fff;font-weight:600}
.ok{background:#2e7d32}.bad{background:#c62828}.warn{background:#ef6c00}
table{border-collapse:collapse;font-size:13px} td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}
.muted{color:#666;font-size:12px} code{font-size:12px}
"""


def denial_table(st: Stats) -> str:
    """One row per denied (or dropped) request: when, who, what it asked for, why; the seq finds it in the trail."""
    if not st.denied:
        return "<p>No denials.</p>"
    rows = []
    for r in st.denied:
        asked = ", ".join((r.get("columns") or []) or (r.get("tables") or [])) or str((r.get("extra") or {}).get("collection") or "")
        rows.append(f"<tr><td>{r['seq']}</td><td>{escape(r['time'])}</td><td>{escape(r['principal']['id'])}</td>"
                    f"<td>{escape(r['action'])}</td><td>{escape(r['decision'])}</td><td>{escape(asked)}</td>"
                    f"<td>{escape('; '.join(r.get('reasons') or []))}</td></tr>")
    more = (f'<p class="muted">{st.denied_total - len(st.denied)} more not listed; export them with '
            f'<code>govern audit export --decision deny</code>.</p>') if st.denied_total > len(st.denied) else ""
    return ('<table class="denials"><tr><th>seq</th><th>time</th><th>principal</th><th>action</th><th>decision</th>'
            "<th>asked for</th><th>reasons</th></tr>" + "".join(rows) + "</table>" + more)


def render(recs: Iterable[dict], report: VerifyReport | None, title: str = "govern audit report", source: str = "",
           filters: dict | None = None) -> str:
    st = Stats()
    for r in recs:
        st.add(r)
    shown = ", ".join(f"{k}={v}" for k, v in (filters or {}).items()) or "none (every record)"
    labels, buckets = _bucket(st.times)
    if report is None:
        chain = '<span class="badge warn">chain not verified</span>'
    else:
        cls = "ok" if report.ok and not report.torn_tail else ("warn" if report.ok else "bad")
        detail = ""
        if report.first_bad:
            fb = report.first_bad
            detail = f"<p>First bad record: <b>{escape(fb.kind)}</b> — {escape(fb.message)} ({escape(str(fb.where or ''))} line {fb.line})</p>"
        if report.torn_tail:
            detail += f"<p>Torn last line after seq {report.torn_tail['after_seq']} (crash during a write).</p>"
        chain = (f'<span class="badge {cls}">chain {escape(report.status)}</span> '
                 f'<span class="muted">{report.records} records verified; head seq {report.head_seq} '
                 f'<code>{report.head_hash[:16]}…</code>; {report.checkpoints} checkpoints '
                 f'({report.signed_checkpoints} HMAC-verified)</span>{detail}')
    principals = sorted(st.by_principal.items(), key=lambda kv: -sum(kv[1].values()))[:15]
    denial_rows = "".join(f"<tr><td>{c}</td><td>{escape(reason)}</td></tr>" for reason, c in st.denials.most_common(10))
    dec_rows = "".join(f'<tr><td><span style="color:{COLORS[d]}">■</span> {d}</td><td>{st.by_decision[d]}</td></tr>' for d in DECISIONS)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>{CSS}</style></head><body>
<h1>{escape(title)}</h1>
<p class="muted">{escape(source)} · {st.n} records · {escape(st.first or '-')} → {escape(st.last or '-')} · filters: {escape(shown)}</p>
<h2>Chain status</h2>{chain}
<h2>Decisions</h2><table>{dec_rows}</table>
<h2>Decisions over time</h2>{stacked_bars(labels, buckets)}
<h2>By principal</h2>{hbars(principals, label="decisions by principal")}
<h2>By policy</h2>{hbars(st.by_policy.most_common(15), color="#455a64", label="decisions by policy")}
<h2>Top denial reasons</h2>{'<table><tr><th>count</th><th>reason</th></tr>' + denial_rows + '</table>' if denial_rows else '<p>No denials.</p>'}
<h2>Denials, one by one</h2>{denial_table(st)}
<h2>PII masked by type</h2>{hbars(st.pii.most_common(), color="#6a1b9a", label="PII by type")}
<p class="muted">Records carry PII entity types and counts only, never values.</p>
</body></html>
"""
