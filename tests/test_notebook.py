"""Notebooks: a live progress bar for runs and batches, and the triage example executed on a fresh kernel."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from checks import run_checklist
from checks.batch.file import BatchSetup
from checks.batch.run import run_batch
from checks.report import NotebookProgress, SkippedReportWarning, load_reports
from lab.practice import BY_ID
from lab.sample_reports import BATCH, CUSTOMERS, write_samples
from lab.smtp import Scenario


def test_progress_is_off_by_default_and_the_bar_fills_as_checks_finish(smtp_lab, lab_config, capsys):
    # Given a lab setup whose password is refused
    config = lab_config(smtp_lab(Scenario.BAD_CREDENTIALS))
    # When it runs as a library call, nothing is drawn
    run_checklist(config)
    assert capsys.readouterr().err == ""
    # When it runs with the notebook progress observer
    stream = io.StringIO()
    report = run_checklist(config, observer=NotebookProgress(file=stream, ascii=True))
    # Then the bar counted every check and the problem
    total = len(report.results)
    assert f"{total}/{total}" in stream.getvalue()
    assert "1 problem" in stream.getvalue()


def test_a_batch_takes_the_same_observer(smtp_lab, lab_settings):
    # Given three setups, one of them with a wrong password
    server = smtp_lab()
    setups = [BatchSetup(name, lab_settings(server, **overrides)) for name, overrides in
              (("good", {}), ("wrong-password", {"password": "not-it"}), ("good-again", {}))]
    # When the batch runs with the notebook progress observer
    stream = io.StringIO()
    run_batch(setups, jobs=3, environ={}, observer=NotebookProgress(file=stream, ascii=True))
    # Then the bar counted the setups and the one with problems
    assert "3/3" in stream.getvalue() and "1 problem" in stream.getvalue()


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOK_TIMEOUT = 180  # seconds per cell; the whole notebook takes about 10 s


def test_the_triage_notebook_is_committed_with_its_outputs_cleared():
    notebook = nbformat.read(EXAMPLES / "triage.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)


def test_the_triage_notebook_runs_top_to_bottom_on_a_fresh_kernel(tmp_path):
    # Given the committed notebook
    notebook = nbformat.read(EXAMPLES / "triage.ipynb", as_version=4)
    # When a fresh kernel (talking over local sockets, not TCP) executes every cell; any cell error fails the test
    kernel = KernelManager(kernel_name="python3", transport="ipc", ip=str(tmp_path / "kernel"))
    NotebookClient(notebook, km=kernel, timeout=NOTEBOOK_TIMEOUT,
                   resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    # Then the live checks, the loaded reports, the chart and the ticket all produced output
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    shown = "\n".join(str(output.get("data", {})) + str(output.get("text", "")) for output in outputs)
    assert "smtp-auth-disabled-tenant': 'problems'" in shown
    assert "forwarded-settings.csv" in shown  # the one file that is not a report, named in a warning
    assert "vegaEmbed" in shown  # the Altair chart
    assert "SMTP relay check" in shown  # the Markdown for the ticket


def test_the_sample_reports_are_made_by_the_lab_and_load_with_the_expected_verdicts(tmp_path):
    # Given the sample customer reports written afresh from the practice lab
    write_samples(tmp_path)
    # When the folder is loaded
    with pytest.warns(SkippedReportWarning, match="forwarded-settings.csv"):
        frame = load_reports(tmp_path)
    # Then every customer is there, and only the working scenarios are ready
    verdicts = frame.drop_duplicates("setup").set_index("setup")["verdict"].to_dict()
    expected = {name: ("ready" if not BY_ID[scenario].breaks else "problems")
                for name, scenario in (*((c, s) for c, s, _ in CUSTOMERS), *BATCH)}
    assert verdicts == expected
    # And the committed samples hold the same customers
    assert set(load_reports_quietly(EXAMPLES / "reports")["setup"]) == set(expected)


def load_reports_quietly(folder: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedReportWarning)
        return load_reports(folder)
