"""`python -m lab.sample_reports FOLDER`: the sample customer reports of examples/reports/, made by the lab.

Each customer's setup is a practice scenario checked live on loopback and saved as the customer would send it:
single reports in CSV or JSON, one managed-service provider's batch report, and one file that is not a report.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from checks.batch.file import BatchSetup
from checks.batch.report import batch_to_csv
from checks.batch.run import run_batch
from checks.report.export import write_report
from lab.practice import practice_lab

CUSTOMERS = (  # (customer, practice scenario, format of the report they sent)
    ("acme-portal", "working-gmail", "csv"),
    ("globex-erp", "smtp-auth-disabled-tenant", "json"),
    ("initech-tickets", "app-password-required", "csv"),
    ("umbrella-docs", "expired-cert", "json"),
    ("hooli-crm", "tls-intercepted", "csv"),
    ("wayne-billing", "oauth2-consent-missing", "json"),
    ("stark-hr", "working-m365", "csv"),
    ("wonka-shop", "security-defaults", "json"),
)
BATCH = (("contoso-scanner", "basic-auth-disabled"), ("fabrikam-alerts", "oauth2-working"),
         ("northwind-invoices", "gmail-bad-credentials"), ("tailspin-backup", "no-starttls"))
NOT_A_REPORT = "name,host,port\r\nsomething a customer pasted,smtp.example.com,587\r\n"


def write_samples(folder: Path) -> list[Path]:
    """Check every sample customer against the lab (all at once) and save their reports under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    lab = practice_lab()
    everyone = [(customer, scenario) for customer, scenario, _ in CUSTOMERS] + list(BATCH)
    batch = run_batch([BatchSetup(name, lab.settings_for(scenario), f"setup {number}")
                       for number, (name, scenario) in enumerate(everyone, start=1)], jobs=len(everyone), environ={})
    outcomes = {outcome.name: outcome for outcome in batch.outcomes}
    written = []
    for customer, _, fmt in CUSTOMERS:
        written.append(folder / f"{customer}.{fmt}")
        write_report(outcomes[customer].report, fmt, written[-1])
    provider = replace(batch, outcomes=tuple(outcomes[name] for name, _ in BATCH))
    written.append(folder / "msp-batch.csv")
    written[-1].write_text(batch_to_csv(provider), encoding="utf-8", newline="")
    written.append(folder / "forwarded-settings.csv")
    written[-1].write_text(NOT_A_REPORT, encoding="utf-8", newline="")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.sample_reports", description=__doc__)
    parser.add_argument("folder", type=Path, help="where to write the reports (e.g. examples/reports)")
    args = parser.parse_args(argv)
    for path in write_samples(args.folder):
        print(path)
    practice_lab().stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
