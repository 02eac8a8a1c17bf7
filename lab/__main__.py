"""`python -m lab`: start the practice lab on loopback and print the command that checks each scenario."""

from __future__ import annotations

import argparse
import contextlib
import shlex
import signal
import sys
import threading

from lab.practice import SCENARIOS, practice_lab

SECRET_KEYS = ("password", "client_secret", "refresh_token")


def command_for(settings: dict, *, prefix: str = "LAB_") -> tuple[str, dict[str, str]]:
    """The CLI command line for lab settings, with secrets passed by environment variable."""
    words, environment = ["python", "-m", "checks", "run"], {}
    for key, value in settings.items():
        if key in SECRET_KEYS:
            variable = f"{prefix}{key.upper()}"
            environment[variable] = str(value)
            words += [f"--{key.replace('_', '-')}-env", variable]
        else:
            words += [f"--{key.replace('_', '-')}", str(value)]
    return shlex.join(words), environment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab", description=__doc__)
    parser.add_argument("--scenario", action="append", choices=[s.id for s in SCENARIOS],
                        help="start only these scenarios (repeatable); default: all")
    args = parser.parse_args(argv)
    chosen = [s for s in SCENARIOS if not args.scenario or s.id in args.scenario]
    lab = practice_lab()
    print(f"Practice lab on loopback. CA: {lab.pki.ca_file}  DNS: {lab.dns.nameserver}\n")
    exports: dict[str, str] = {}
    for scenario in chosen:
        line, environment = command_for(lab.settings_for(scenario.id),
                                        prefix=f"LAB_{scenario.personality.name}_")
        exports.update(environment)
        expected = f"expect {scenario.breaks} to fail" if scenario.breaks else "expect: ready for go-live"
        print(f"# {scenario.title} ({expected})\n{line}\n")
    print("# lab-only secrets (fake values, valid only against this lab):")
    for name, value in exports.items():
        print(f"export {name}={shlex.quote(value)}")
    print("\nPress Ctrl-C to stop.", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    lab.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
