"""Report import does bounded work: a file of millions of empty results is refused in milliseconds."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from checks.report.reader import ReportFormatError, read_report

RUN = '{"run": {"id": "x", "started_at": "2026-11-30T00:00:00+00:00", "host": "h", "port": 587}, "results": ['


@pytest.mark.parametrize("entry", ["{}", "[]", "0"])
def test_a_20_mb_report_of_empty_results_is_refused_quickly_and_in_little_memory(entry):
    # Given a 19.5 MB JSON "report" of millions of empty results
    data = (RUN + ",".join([entry] * (19_500_000 // (len(entry) + 1))) + "]}").encode()[:19_500_000 - 2] + b"]}"
    # When it is opened
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ReportFormatError) as refused:
            read_report(data, name="big.json")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - started
    # Then it is refused plainly, fast, without building millions of objects
    print(f"\nreport import of 19.5 MB of {entry!r}: refused in {elapsed:.2f} s, peak {peak / 1e6:.0f} MB")
    assert "not one of our reports" in str(refused.value) or "at most 200" in str(refused.value)
    assert elapsed < 2.0 and peak < 100e6


def test_a_run_with_too_many_rows_is_refused():
    rows = "\n".join("r,2026-11-30T00:00:00+00:00,p,h,587,s,settings,T,pass,x,,,,1" for _ in range(201))
    header = "run_id,started_at,profile,host,port,sender,check_id,title,status,summary,details,remediation," \
             "guide_section,duration_ms\n"
    with pytest.raises(ReportFormatError, match="at most 200"):
        read_report(header + rows, name="r.csv")


def test_the_open_report_page_parses_the_same_uploads_once():
    from console.reports_io import load_reports_once

    state: dict = {}
    report = ('{"run": {"id": "r1", "started_at": "2026-11-30T00:00:00+00:00", "host": "h", "port": 587}, '
              '"results": [{"check_id": "settings", "title": "Settings", "status": "pass", "summary": "ok"}]}')
    first = load_reports_once(state, [("a.json", report.encode())])
    again = load_reports_once(state, [("a.json", report.encode())])
    other = load_reports_once(state, [("a.json", report.replace("r1", "r2").encode())])
    assert again is first and other is not first and first.reports and not first.errors
