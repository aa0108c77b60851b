"""Markdown table of a benchmark run: ``python tests/benchmarks/run.py | tee run.jsonl``, then
``python tests/benchmarks/table.py run.jsonl`` (or from stdin)."""

from __future__ import annotations

import fileinput
import json


def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.3g}" if abs(x) < 10 else f"{x:.0f}"
    return str(x)


def main() -> None:
    print("| benchmark | case | value | floor (same run) | ratio | target | met |")
    print("|---|---|---|---|---|---|---|")
    for line in fileinput.input():
        if not line.strip().startswith("{"):
            continue
        r = json.loads(line)
        unit = r.get("unit") or ""
        met = {True: "yes", False: "**no**", None: "-"}[r.get("met")]
        floor = f"{_fmt(r.get('baseline'))} {unit}" if r.get("baseline") is not None else "-"
        value = f"{_fmt(r.get('value'))} {unit}" if r.get("value") is not None else r.get("skipped", "-")
        print(f"| {r['name']} | {r.get('case', '')} | {value} | {floor} | {_fmt(r.get('ratio'))} | "
              f"{r.get('target') or '-'} | {met} |")


if __name__ == "__main__":
    main()
