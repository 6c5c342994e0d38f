#!/usr/bin/env python3
"""tests/bench/summary.py: the one table of `make bench` (issue 7).

Reads what the benchmarks wrote to out/bench/ (posting, pay_batch, reports,
audit, notices .json), prints one row per figure with the reference measured
in the same run, their ratio, the target and whether it is met, and writes
the same rows to out/bench/summary.json.  A benchmark that did not run gives
rows marked "not run"; nothing here measures or guesses a figure.

    python3 tests/bench/summary.py [OUT_DIR]
"""
import json
import os
import sys
import time


def load(out, name):
    try:
        with open(os.path.join(out, name + ".json"), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def row(rows, figure, value, unit, reference, ref_value, ratio, target, met, source, note=None):
    rows.append({"figure": figure, "value": value, "unit": unit, "reference": reference,
                 "reference_value": ref_value, "ratio": ratio, "target": target, "met": met,
                 "source": source, "note": note})


def div(a, b):
    return round(a / b, 3) if a is not None and b else None


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "out", "bench")
    rows = []
    loads = {}

    p = load(out, "posting")
    if p:
        loads["posting"] = dict(p["machine"], date=p.get("date"))
        for c, r in sorted(p["runs"].items(), key=lambda kv: int(kv[0])):
            eight = int(c) == 8
            row(rows, f"single-voucher posting, {c} client{'s' if c != '1' else ''}, one book",
                r["earmark_vouchers_per_second"], "vouchers/s", f"pgbench TPC-B-like, {c} client{'s' if c != '1' else ''}, tps",
                r["tpcb_tps"], div(r["earmark_vouchers_per_second"], r["tpcb_tps"]),
                ">= 0.50 of TPC-B-like" if eight else None,
                (r["earmark_vouchers_per_second"] >= 0.5 * r["tpcb_tps"]) if eight else None, "posting",
                "by CPU per transaction %.3f (%s ms a voucher, %s ms a TPC-B-like transaction)"
                % (r["cpu_ratio"], r["earmark_cpu_ms_per_voucher"], r["tpcb_cpu_ms_per_transaction"])
                if "cpu_ratio" in r else None)
        b = next((v for k, v in p.items() if k.startswith("books_")), None)
        if b:
            row(rows, f"single-voucher posting, {b['clients']} clients, one book each",
                b["earmark_vouchers_per_second"], "vouchers/s", "pgbench TPC-B-like, same clients, tps",
                b["tpcb_tps_same_clients"], div(b["earmark_vouchers_per_second"], b["tpcb_tps_same_clients"]),
                None, None, "posting")
    else:
        row(rows, "single-voucher posting, 8 clients", None, "vouchers/s", "pgbench TPC-B-like", None, None,
            ">= 0.50 of TPC-B-like", None, "posting", "not run")

    b = load(out, "pay_batch")
    if b:
        loads["pay_batch"] = dict(b["machine"], date=b.get("date"))
        s = b["steps"]
        n = b["lines"]
        lps = n / s["checked_and_posted"]["seconds"]
        cps = n / s["copy"]["seconds"]
        row(rows, f"batch posting ({n:,} lines: pay batch + review + post)", round(lps), "lines/s",
            "plain COPY into an unindexed table, rows/s", round(cps), div(lps, cps), ">= 0.30 of COPY",
            lps / cps >= 0.30, "pay_batch",
            "; ".join(x for x in (
                "by CPU seconds %.3f" % (s["copy"]["cpu_seconds"] / s["checked_and_posted"]["cpu_seconds"])
                if s["checked_and_posted"]["cpu_seconds"] else None,
                "profiled: timings include EXPLAIN ANALYZE" if b.get("profiled") else None) if x))
    else:
        row(rows, "batch posting", None, "lines/s", "plain COPY", None, None, ">= 0.30 of COPY", None,
            "pay_batch", "not run")

    r = load(out, "reports")
    if r:
        loads["reports"] = dict(r["machine"], date=r.get("date"))
        qm = r["queries_ms"]
        n = r["lines"]
        small = n < 10_000_000
        note = f"on {n:,} lines, not 10 million: BENCH_REPORT_LINES" if small else None
        for key, label, ref, target in (("trial_balance", "trial balance", "count_lines", 200),
                                        ("household_ledger", "household ledger", "index_lookup", 20),
                                        ("fund_statement", "fund statement", "count_lines", 500)):
            med = qm[key]["median"]
            refl = "count(*) over all lines, ms" if ref == "count_lines" else "one line by its key, ms"
            row(rows, f"{label} on {n:,} lines, median", med, "ms", refl, qm[ref]["median"],
                div(med, qm[ref]["median"]), f"< {target} ms on 10 M lines",
                (med < target) if not small else None, "reports", note)
    else:
        row(rows, "trial balance on 10 M lines", None, "ms", "count(*)", None, None, "< 200 ms", None,
            "reports", "not run")

    a = load(out, "audit")
    if a:
        loads["audit"] = dict(a["machine"], date=a.get("date"))
        n = a["lines"]
        sha = a["sha256sum_package_seconds"]
        sha_rate = n / sha if sha else None
        for k in ("export", "verify"):
            e = a[k]
            met = e["lines_per_second"] >= 200000 and e["peak_mib"] <= 64
            row(rows, f"audit {k} ({n:,} lines), peak {e['peak_mib']} MiB", e["lines_per_second"], "lines/s",
                "sha256sum of the package, lines/s", round(sha_rate) if sha_rate else None,
                div(e["lines_per_second"], sha_rate), ">= 200,000 lines/s in <= 64 MiB", met, "audit",
                None if k == "export" else "target of issue 5")
    else:
        row(rows, "audit export", None, "lines/s", "sha256sum", None, None, ">= 200,000 lines/s in <= 64 MiB",
            None, "audit", "not run")

    n = load(out, "notices")
    if n:
        loads["notices"] = dict(n["machine"], date=n.get("date"))
        ref = n["reference_commands_per_second"]
        for f in ("html", "pdf", "txt", "xml"):
            v = n["formats"][f]["notices_per_second"]
            row(rows, f"notices made, {f}", v, "notices/s", "earmark voucher list, commands/s", ref, div(v, ref),
                None, None, "notices")
    else:
        row(rows, "notices made", None, "notices/s", "earmark voucher list", None, None, None, None, "notices",
            "not run")

    summary = {"benchmark": "summary", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "cpus": os.cpu_count(), "machine_load": loads, "rows": rows}
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, ensure_ascii=False, indent=2)
        f.write("\n")

    def fmt(v):
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:,.3f}" if v < 10 else f"{v:,.1f}"
        return f"{v:,}"

    print("make bench: summary (each figure beside its reference, measured in the same run)")
    w = max(len(x["figure"]) for x in rows)
    print(f"{'figure':<{w}}  {'value':>12} {'unit':<10} {'reference':>12}  {'ratio':>7}  {'target':<32} met")
    print(f"{'-' * 6:<{w}}  {'-----':>12} {'----':<10} {'---------':>12}  {'-----':>7}  {'------':<32} ---")
    for x in rows:
        met = "-" if x["met"] is None else ("yes" if x["met"] else "NO")
        print(f"{x['figure']:<{w}}  {fmt(x['value']):>12} {x['unit']:<10} {fmt(x['reference_value']):>12}  "
              f"{fmt(x['ratio']):>7}  {x['target'] or '-':<32} {met}")
    print()
    for x in rows:
        print(f"  {x['figure']}: reference is {x['reference']}" + (f"; {x['note']}" if x["note"] else ""))
    print()
    print("run at (UTC), load average (1 min) before/after and the server's huge pages, per benchmark:")
    for k, m in loads.items():
        print(f"  {k:<10} {m.get('date')}  load {m.get('load_before')}/{m.get('load_after')}"
              f"  huge pages: {m.get('huge_pages', 'not recorded')}")
    print(f"figures: {os.path.relpath(os.path.join(out, 'summary.json'))}")


if __name__ == "__main__":
    main()
