"""`python -m checks explain`: decode a pasted server reply or Entra ID error into cause, fix and guide section."""

from __future__ import annotations

import argparse
import json
from typing import IO

from checks.cli.common import EXIT_OK, EXIT_PROBLEMS, UsageError
from checks.knowledge import catalog as knowledge
from checks.knowledge.reader import explain_all, given_values, read_paste
from checks.report.table import safe_text


def explain_command(args: argparse.Namespace, *, stdin: IO[str], stdout: IO[str], stderr: IO[str]) -> int:
    text = stdin.read() if args.text == "-" else args.text
    if not text.strip():
        raise UsageError("explain: give the server reply or error text (or '-' to read it from standard input)")
    values = given_values(username=args.username, host=args.host, port=args.port, tenant=args.tenant_id,
                          client_id=args.client_id)
    reading = read_paste(text, values=values)
    explanations = reading.explanations or tuple(explain_all(text, values=values))
    known = any(getattr(e, "known", True) for e in explanations)
    if args.format == "json":

        document = {"known": known, "read": {"summary": reading.summary(), "total_chars": reading.total_chars,
                                             "read_chars": reading.read_chars, "total_lines": reading.total_lines,
                                             "first_line": reading.first_line, "last_line": reading.last_line,
                                             "client": reading.client},
                    "explanations": [knowledge.to_dict(e) for e in explanations]}
        stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    else:

        rendered = knowledge.render_text(explanations) if explanations else "Nothing known in this text."
        stdout.write(safe_text(reading.summary() + "\n\n" + rendered).rstrip("\n") + "\n")
    stdout.flush()
    return EXIT_OK if known else EXIT_PROBLEMS
