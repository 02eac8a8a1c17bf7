"""`python -m checks`: run the relay checklist from a shell or a script, or explain a server reply.

Exit status: 0 no fail or error; 1 at least one fail or error (for `explain`: nothing known found);
2 bad invocation or invalid settings; 3 incomplete (nothing failed, some checks could not run). Start-up imports
the parser only; the module of the command that runs is imported when it runs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any

from checks.cli.common import EXIT_PROBLEMS, EXIT_USAGE, UsageError
from checks.cli.parser import ParserExit, build_parser, wanted_command

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None, *, stdin: IO[str] | None = None, stdout: IO[str] | None = None,
         stderr: IO[str] | None = None, environ: Mapping[str, str] | None = None, deps: Any = None) -> int:
    """Run the CLI with `argv` (default sys.argv[1:]); returns the exit status, never raises."""
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    environ = os.environ if environ is None else environ
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(stdout, stderr, command=wanted_command(arguments))
    try:
        args = parser.parse_args(arguments)
        if args.command is None:
            parser.print_help(stderr)
            return EXIT_USAGE
        # Only the command that runs is imported: `--help` and `explain` start without MSAL, dnspython or pandas.
        if args.command == "explain":
            from checks.cli.explain import explain_command

            return explain_command(args, stdin=stdin, stdout=stdout, stderr=stderr)
        from checks.cli.run import default_deps  # the engine: every other command runs checks

        deps = deps if deps is not None or args.command in ("history", "audit") else default_deps(environ)
        if args.command == "run":
            from checks.cli.run import run_command

            return run_command(args, stdin=stdin, stdout=stdout, stderr=stderr, environ=environ, deps=deps)
        if args.command == "batch":
            from checks.cli.batch import run_batch_command

            return run_batch_command(args, stdout=stdout, stderr=stderr, environ=environ, deps=deps)
        if args.command == "history":
            from checks.cli.history import run_history_command

            return run_history_command(args, stdout=stdout, stderr=stderr, environ=environ)
        if args.command == "watch":
            from checks.cli.watch import run_watch_command

            return run_watch_command(args, stdout=stdout, stderr=stderr, environ=environ, deps=deps)
        from checks.cli.audit import run_audit_command

        return run_audit_command(args, stdin=stdin, stdout=stdout, stderr=stderr, environ=environ)
    except ParserExit as exc:
        return exc.status
    except UsageError as exc:
        from checks.safe_text import visible  # file names and values from the user reach a terminal inert

        stderr.write(f"error: {visible(exc)}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        stderr.write("error: interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_PROBLEMS
    except Exception as exc:  # noqa: BLE001 - the boundary: one line, never a traceback
        from checks.safe_text import one_line

        stderr.write(f"error: {type(exc).__name__}: {one_line(str(exc).splitlines()[0] if str(exc) else 'unexpected')}\n")
        return EXIT_PROBLEMS
