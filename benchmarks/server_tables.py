"""The Markdown tables of the server section (``benchmarks/server_results.ServerRun``)."""

from __future__ import annotations

from benchmarks.server_results import CLIENTS, FLOOR, SERVE, ServerRun
from benchmarks.server_routes import label
from benchmarks.targets import MB, target_rows


def render(run: ServerRun) -> list[str]:
    if not run.rates and not run.bursts:
        return []
    fetched = ", ".join(f"{n} ({name})" for name, n in run.token_fetches.items())
    lines = ["voigpt serve (j) against its floor (i) on each API route, each one uvicorn "
             f"process ({'; '.join(f'({k}) {v}' for k, v in run.loaded.items())}); tokens "
             f"fetched by each voigpt serve: {fetched or 'not read'}:", ""]
    lines += _rates(run) + _latencies(run) + _paced(run) + _bursts(run) + _memory(run)
    return lines


def render_targets(run: ServerRun) -> list[str]:
    return ["Against the targets" + (" (a quick run: shown, not judged)" if run.quick else "")
            + ":", "", *target_rows(run.targets(), judged=not run.quick), ""]


def _rates(run: ServerRun) -> list[str]:
    if not run.rates:
        return []
    lines = [f"Requests/s at {CLIENTS} keep-alive clients (median of turns; CPU of the loaded "
             "process, psutil, per request and in cores; --state memory):", "",
             "| server | route | upstream | requests/s | vs (i) | CPU/request | vs (i) | busy "
             "| upstream CPU/request | errors |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in run.rates:
        floor = run.rate(FLOOR, r.route, r.upstream)
        per_second = f"{r.per_second / floor.per_second:.2f}x" if floor else ""
        cpu = f"{r.cpu / floor.cpu:.2f}x" if floor and floor.cpu else ""
        lines.append(f"| {r.label} | {label(r.route)} | {r.upstream} | {r.per_second:,.0f} | "
                     f"{per_second} | {_us(r.cpu)} | {cpu} | {r.cpu * r.per_second:.2f} cores "
                     f"| {_us(r.upstream_cpu)} | {r.errors} |")
    for u in run.upstreams:
        lines.append(f"| {u.label} | {label(u.route)} | {u.upstream} | {u.per_second:,.0f} "
                     f"| | | | {u.cpu * u.per_second:.2f} cores | {_us(u.cpu)} | {u.errors} |")
    return [*lines, ""]


def _latencies(run: ServerRun) -> list[str]:
    if not run.latencies:
        return []
    lines = ["One client, one request at a time, stand-in upstream (all requests of all "
             "turns; added: (j) minus (i) on the same route):", "",
             "| server | route | median | p99 | added median | added p99 | requests | errors |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for x in run.latencies:
        floor = run.latency(FLOOR, x.route)
        added = (f"{_signed_ms(x.median - floor.median)} | {_signed_ms(x.p99 - floor.p99)}"
                 if floor and x.server == SERVE else " | ")
        lines.append(f"| {x.label} | {label(x.route)} | {_us(x.median)} | {_us(x.p99)} | "
                     f"{added} | {x.requests:,} | {x.errors} |")
    return [*lines, ""]


def _paced(run: ServerRun) -> list[str]:
    if not run.paced:
        return []
    lines = ["Open loop at a fixed rate, stand-in upstream (each request timed from when it "
             "was due; each turn's p50 and p99, the median over turns):", "",
             "| server | route | rate | p50 | p99 | p99 vs (i) | requests | errors |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for p in run.paced:
        floor = run.paced_run(FLOOR, p.route, p.rate)
        added = _signed_ms(p.p99 - floor.p99) if floor and p.server == SERVE else ""
        lines.append(f"| {p.label} | {label(p.route)} | {p.rate:g}/s | {_ms(p.p50)} | "
                     f"{_ms(p.p99)} | {added} | {p.requests:,} | {p.errors} |")
    return [*lines, ""]


def _bursts(run: ServerRun) -> list[str]:
    if not run.bursts:
        return []
    lines = ["Clients sending at once on new connections, emulator service time (wall to the "
             "last answer, median of turns):", "",
             "| server | route | clients | service | wall | errors |",
             "|---|---|---:|---:|---:|---:|"]
    for b in run.bursts:
        lines.append(f"| {b.label} | {label(b.route)} | {b.clients} | {b.service:g} s | "
                     f"{b.wall:.2f} s | {b.errors} |")
    return [*lines, ""]


def _memory(run: ServerRun) -> list[str]:
    if not run.memory:
        return []
    points = max(len(m.samples) for m in run.memory)
    heads = [f"RSS at {n + 1}/{points}" for n in range(points)]
    lines = [f"Resident memory of a voigpt serve process of its own ({CLIENTS} clients, stand-in "
             "upstream, --state memory; RSS after the warm-up, then after each equal part of "
             "the run; growth: from the first part to the end):", "",
             "| server | route | started with | after warm-up | " + " | ".join(heads)
             + " | requests | growth | errors | its metrics |",
             "|---|---|---|---:|" + "---:|" * points + "---:|---:|---:|---|"]
    for m in run.memory:
        cells = [f"{rss / MB:.1f} MB" for _, rss in m.samples]
        cells += [""] * (points - len(cells))
        lines.append(f"| {m.label} | {label(m.route)} | `{m.flags}` | {m.warmed / MB:.1f} MB | "
                     + " | ".join(cells) + f" | {m.requests:,} | "
                     f"{m.growth / MB:+.2f} MB | {m.errors} | {m.seen} |")
    return [*lines, ""]


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs" if seconds else ""


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def _signed_ms(seconds: float) -> str:
    return f"{seconds * 1e3:+.2f} ms"
