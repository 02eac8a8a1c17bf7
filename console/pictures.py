"""Pictures of a run: the path of the SMTP conversation coloured by status (Graphviz DOT) and a timeline of
how long each step took (Vega-Lite via Altair). Both render in the browser from data: nothing is fetched."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from checks.model import CheckId, CheckResult, RunReport, Status
from console.icons import STATUS_COLOURS, STATUS_WORDS

FILL = STATUS_COLOURS
LINE = {Status.PASS: "#1a7f37", Status.WARN: "#9a6700", Status.FAIL: "#cf222e", Status.SKIP: "#8c959f",
        Status.ERROR: "#8250df"}
WORST_FIRST = (Status.ERROR, Status.FAIL, Status.WARN, Status.SKIP, Status.PASS)


@dataclass(frozen=True)
class Hop:
    """One stop on the way from the application to a sent message, and the checks that prove it."""

    name: str
    checks: tuple[CheckId, ...]


def hops(report: RunReport) -> tuple[Hop, ...]:
    """The conversation in the order it happens for this report's security (implicit TLS: TLS before greeting)."""
    tcp = Hop(f"TCP {report.port}", (CheckId.PORT,))
    greeting = Hop("greeting", (CheckId.SMTP_GREETING,))
    tls = Hop("TLS", (CheckId.TLS,))
    token = Hop("Entra ID token", (CheckId.OAUTH_TENANT, CheckId.OAUTH_CLIENT, CheckId.OAUTH_SECRET_EXPIRY,
                                   CheckId.OAUTH_TOKEN, CheckId.OAUTH_SCOPES))
    secure = (tls, greeting) if report.security == "tls" else (greeting, tls)
    return (Hop("application", (CheckId.SETTINGS,)), Hop("DNS", (CheckId.DNS_HOST,)), tcp, *secure, token,
            Hop("AUTH", (CheckId.AUTH_MECHANISMS, CheckId.AUTH_CREDENTIALS)), Hop("MAIL FROM", (CheckId.SENDER,)),
            Hop("send", (CheckId.SEND_TEST,)))


def hop_status(report: RunReport, hop: Hop) -> Status | None:
    """The worst status among the hop's checks in this report; None when none of them ran."""
    statuses = {r.status for r in (report.result(c) for c in hop.checks) if r is not None}
    return next((s for s in WORST_FIRST if s in statuses), None)


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def path_dot(report: RunReport) -> str:
    """DOT source of the conversation path; the first broken hop is drawn thick and labelled 'broke here'."""
    lines = ['digraph path {', 'rankdir=LR; bgcolor="transparent"; nodesep=0.2; ranksep=0.25;',
             'node [shape=box, style="rounded,filled", fontname="sans-serif", fontsize=11, margin="0.08,0.04"];',
             'edge [color="#8c959f", arrowsize=0.6];']
    broke = False
    names: list[str] = []
    for index, hop in enumerate(hops(report)):
        status = hop_status(report, hop)
        if status is None and hop.name != "send":
            continue
        node = f"n{index}"
        label = _dot_text(hop.name)
        attributes = {"fillcolor": FILL.get(status, "#ffffff"), "color": LINE.get(status, "#8c959f")}
        if status is None:
            attributes["style"] = '"rounded,dashed"'
            label += "\\n(not asked)"
        elif status in (Status.FAIL, Status.ERROR) and not broke:
            broke = True
            attributes["penwidth"] = "3"
            label += "\\nbroke here"
        else:
            label += f"\\n{STATUS_WORDS[status].lower()}"
        text = ", ".join(f'{k}="{v}"' if not v.startswith('"') else f"{k}={v}" for k, v in attributes.items())
        lines.append(f'{node} [label="{label}", {text}];')
        names.append(node)
    lines += [f"{a} -> {b};" for a, b in zip(names, names[1:], strict=False)]
    lines.append("}")
    return "\n".join(lines)


def timeline_chart(results: Sequence[CheckResult]):
    """Altair bar chart: each check's duration, in checklist order, coloured by status."""
    # lazy: pandas/altair load only when a table or chart is drawn
    import altair as alt
    import pandas as pd

    frame = pd.DataFrame([{"check": r.title, "seconds": r.duration_ms / 1000, "status": STATUS_WORDS[r.status],
                           "order": index} for index, r in enumerate(results)])
    colours = alt.Scale(domain=[STATUS_WORDS[s] for s in LINE], range=list(LINE.values()))
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("seconds:Q", title="seconds"),
        y=alt.Y("check:N", sort=alt.EncodingSortField("order"), title=None),
        color=alt.Color("status:N", scale=colours, legend=alt.Legend(orient="bottom", title=None)),
        tooltip=["check:N", "status:N", alt.Tooltip("seconds:Q", format=".2f")],
    )


def causes_chart(counts: dict[str, int]):
    """Altair bar chart of setups by problem cause, most frequent first."""
    # lazy: pandas/altair load only when a table or chart is drawn
    import altair as alt
    import pandas as pd

    frame = pd.DataFrame({"cause": list(counts), "setups": list(counts.values())})
    return alt.Chart(frame).mark_bar(color=LINE[Status.FAIL]).encode(
        x=alt.X("setups:Q", title="setups", axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("cause:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
        tooltip=["cause:N", "setups:Q"],
    )
