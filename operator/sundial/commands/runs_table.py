"""The table of ``sundial runs``: columns for people (``-o json`` is for programs)."""

from __future__ import annotations

from typing import Any


def duration_text(ms: int | None) -> str:
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms}ms"
    seconds = ms // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return "".join(f"{v}{u}" for v, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if v) or "0s"


def render_table(document: dict[str, Any]) -> str:
    """Columns for people; ``-o json`` for programs."""
    header = ("WORKFLOW ID", "STATUS", "SCHEDULED", "STARTED", "CLOSED", "DURATION", "COST", "TOKENS", "MODEL",
              "ERROR")
    rows = [header] + [(
        r["workflowId"], r["status"], r["scheduledTime"] or "-", r["startedAt"] or "-", r["closedAt"] or "-",
        duration_text(r["durationMs"]), "-" if r["costUSD"] is None else f"${r['costUSD']:.4f}",
        "-" if r["totalTokens"] is None else str(r["totalTokens"]), r["model"] or "-",
        _short(r["error"]) if r["error"] else "-") for r in document["runs"]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in rows[:1]]
    for row, run in zip(rows[1:], document["runs"], strict=True):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if "query" in run:  # --show-result
            lines += io_lines(run)
    selection, size, page = document["selection"], document["pageSize"], document["page"]
    first = (page - 1) * size + 1 if document["runs"] else 0
    shown = f"runs {first}-{first + len(document['runs']) - 1}" if document["runs"] else "no runs"
    unknown = f" ({selection['runsWithoutCost']} without a reported cost)" if selection["runsWithoutCost"] else ""
    lines.append(f"{shown} of {selection['count']} (page {page} of {document['pages']}); "
                 f"cost of all {selection['count']}: ${selection['costUSD']:.4f}{unknown}")
    return "\n".join(lines)


def io_lines(run: dict[str, Any]) -> list[str]:
    """The query and result under a table row; a cut result says how much of it is shown."""
    query = "-" if run["query"] is None else " ".join(run["query"].split())
    result, size = run["result"], run["resultChars"]
    if result is None:
        shown = "-"
    else:
        flat = " ".join(result.split())
        shown = flat + (f" … ({len(result)} of {size} characters shown)" if len(result) < size else "")
    return [f"    query:  {query}", f"    result: {shown}"]


def _short(text: str, width: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"
