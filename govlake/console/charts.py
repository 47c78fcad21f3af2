"""Bar charts for the report pages, as data the template draws in SVG (no chart library): each
chart is a title and bars (label, value, text shown); a missing value is drawn as no bar with
its text saying so."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Chart:
    id: str
    title: str
    bars: list[tuple[str, float | None, str]]
    unit: str = ""

    @property
    def top(self) -> float:
        return max([v for _, v, _ in self.bars if v is not None] + [0.0]) or 1.0


def _n(v) -> str:
    return "n/a" if v is None else (f"{v:.2f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v))


def report_charts(report: dict, trend: list[dict]) -> list[Chart]:
    out = []
    if trend:
        weeks = [f"{w['from'][5:]}–{w['to'][5:]}" for w in trend]
        out.append(Chart("incidents", "data-security incidents per 10,000 accesses, by week",
                         [(k, w["incidents_per_10000"], _n(w["incidents_per_10000"])) for k, w in zip(weeks, trend)]))
        out.append(Chart("accesses", "accesses to shared data, by week", [(k, w["accesses"], _n(w["accesses"])) for k, w in zip(weeks, trend)]))
        out.append(Chart("turnaround", "contract turnaround, submitted → approved (median hours), by week",
                         [(k, w["turnaround_median_h"], _n(w["turnaround_median_h"])) for k, w in zip(weeks, trend)], "h"))
    qg = report.get("quality_gate") or {}
    if qg.get("available") and qg.get("failed_expectations"):
        out.append(Chart("quality", "quality-gate failures by expectation",
                         [(f"{e['expectation']} {e['column']}", e["count"], _n(e["count"])) for e in qg["failed_expectations"]]))
    fa = report.get("fairness") or {}
    if fa.get("available") and fa.get("comparisons"):
        out.append(Chart("fairness", f"fairness gaps (percentage points; flagged above {fa['threshold_pp']})",
                         [(f"{c['dimension']} · {c['metric']}", c["gap_pp"], _n(c["gap_pp"]) + (" FLAG" if c["flagged"] else ""))
                          for c in fa["comparisons"]], "pp"))
    if "sharing" in report:
        out.append(Chart("sharing", "accesses by provider → consumer",
                         [(f"{s['provider']} → {s['consumer']}", s["accesses"], _n(s["accesses"])) for s in report["sharing"]]))
    return out
