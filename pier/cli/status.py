"""`pier status`: the cluster as a running Pier sees it (admin only), as two tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pier.cli.client_commands import Api, TokenOpt, UrlOpt


def status(
    url: UrlOpt = None,
    token: TokenOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw JSON.")] = False,
) -> None:
    """Show the API processes and workers (slots or GPUs, models loaded, what each runs, last
    heartbeat) and the predictions waiting per model version. Needs the admin token."""
    cluster = Api(url, token).call("GET", "/v1/admin/cluster")
    if as_json:
        typer.echo(json.dumps(cluster, indent=2))
        return
    print_cluster(cluster, Console())


def print_cluster(cluster: dict[str, Any], console: Console) -> None:
    now = _time(cluster.get("time"))
    console.print(processes_table(cluster["processes"], now))
    console.print()
    console.print(queues_table(cluster["queues"]))


def processes_table(processes: list[dict[str, Any]], now: datetime | None) -> Table | Text:
    if not processes:
        return Text("No process has reported a heartbeat yet.", style="yellow")
    alive = sum(1 for p in processes if p["alive"])
    title = f"Processes: {alive} alive" + (
        f", {len(processes) - alive} not answering" if alive < len(processes) else ""
    )
    table = Table(title=title, title_justify="left", title_style="bold")
    for column in ("kind", "host", "pid", "capacity", "models", "loaded", "running now"):
        table.add_column(column, overflow="fold")  # a narrow terminal wraps; nothing is cut
    table.add_column("heartbeat", justify="right", overflow="fold")
    for p in processes:
        heartbeat = f"{duration(p['heartbeat_age'])} ago"
        table.add_row(
            "API" if p["kind"] == "serve" else p["kind"],
            p["host"],
            str(p["pid"]),
            capacity(p),
            ", ".join(p["models"]) if p["models"] else "all",
            "\n".join(loaded(item) for item in p["loaded"]) or "—",
            "\n".join(running(item, now) for item in p["running"]) or "idle",
            Text(
                heartbeat if p["alive"] else f"gone ({heartbeat})",
                style="" if p["alive"] else "red",
            ),
        )
    return table


def queues_table(queues: list[dict[str, Any]]) -> Table | Text:
    if not queues:
        return Text("No prediction is waiting.")
    table = Table(title="Waiting predictions", title_justify="left", title_style="bold")
    table.add_column("model", overflow="fold")
    table.add_column("version", overflow="fold")
    table.add_column("waiting", justify="right")
    table.add_column("in queue", justify="right")
    table.add_column("oldest wait", justify="right")
    for q in queues:
        table.add_row(
            q["model"],
            q["version"][:12],
            str(q["depth"]),
            "—" if q.get("queued") is None else str(q["queued"]),
            duration(q["oldest_wait_seconds"]),
        )
    return table


def capacity(process: dict[str, Any]) -> str:
    if process.get("gpus"):
        return "GPU " + ",".join(str(gpu) for gpu in process["gpus"])
    slots = process["slots"]
    return "no models" if slots == 0 else f"{slots} slot{'s' if slots != 1 else ''}"


def loaded(item: Any) -> str:
    """A loaded version: {"model", "version", "processes", "gpu_processes"?} or a bare
    description. On a GPU worker each process shows its GPUs and the memory it uses there."""
    if not isinstance(item, dict):
        return str(item)
    name = f"{item.get('model') or '?'}:{str(item.get('version', ''))[:12]}"
    count = item.get("processes")
    text = f"{name} ×{count}" if isinstance(count, int) and count > 1 else name
    placed = [p for p in item.get("gpu_processes") or [] if isinstance(p, dict)]
    if placed:
        text += " (" + "; ".join(gpu_process(p) for p in placed) + ")"
    return text


def gpu_process(process: dict[str, Any]) -> str:
    """ "GPU 0,1: 812 MiB" (the memory only where nvidia-smi told it)."""
    gpus = ",".join(str(gpu) for gpu in process.get("gpus") or [])
    text = f"GPU {gpus}" if gpus else "no GPU"
    mib = process.get("memory_mib")
    return f"{text}: {mib} MiB" if isinstance(mib, int) else text


def running(item: dict[str, Any], now: datetime | None) -> str:
    text = f"{item.get('model') or '?'} {item.get('id', '')}"
    since = _time(item.get("since"))
    if since is not None and now is not None:
        text += f" ({duration((now - since).total_seconds())})"
    return text


def duration(seconds: float) -> str:
    """ "850 ms", "4.2 s", "3 min 12 s", "2 h 5 min"."""
    s = max(0.0, float(seconds))
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 10:
        return f"{s:.1f} s"
    if s < 60:
        return f"{s:.0f} s"
    minutes = int(s // 60)
    if minutes < 60:
        return f"{minutes} min {int(s % 60)} s"
    return f"{minutes // 60} h {minutes % 60} min"


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
