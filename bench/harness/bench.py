#!/usr/bin/env python3
"""feedrouter's benchmark harness; start it through bench/run, which installs the tools and builds the binaries.

    bench/run [--quick] [--only SCENARIO]... [--no-build] [--keep-workdir] [--no-readme] [--feedrouter PATH]

Scenarios: throughput, latency, alarms, restart, changes, kafka, lifecycle, mqtt, redis, cluster (all by default, in
that order). Writes bench/results/run-<UTC timestamp>.json, latest.json and the chart latest.png; a full run of every
scenario (of this build's binary) also rewrites the results table in bench/README.md. Exit code 0 when every sanity
check passed, 1 when one failed (events lost, a scenario broke), 2 for bad arguments.
"""

import argparse
import atexit
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import report  # noqa: E402
import scenarios  # noqa: E402
from common import (BenchError, install_signal_handlers, kill_all_children, machine_info,  # noqa: E402
                    proc_cpu_seconds, system_cpu)
import common  # noqa: E402
from context import Bench  # noqa: E402

SCENARIOS = ["throughput", "latency", "alarms", "restart", "changes", "kafka", "lifecycle", "mqtt", "redis", "cluster"]


class NoiseMonitor:
    """Samples, once a second, how much CPU the machine spent outside this harness and its children: the noise."""

    def __init__(self):
        self.samples = []
        self.scenario = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _own_cpu():
        t = os.times()
        own = t.user + t.system + t.children_user + t.children_system
        # Only /proc is read: poll() would reap a child that another thread is about to wait for.
        with common._children_lock:
            pids = [p.pid for p in common._children if p.returncode is None]
        return own + sum(proc_cpu_seconds(pid) or 0.0 for pid in pids)

    def _run(self):
        busy0, own0, t0 = system_cpu()[0], self._own_cpu(), time.monotonic()
        while not self._stop.wait(1.0):
            busy1, own1, t1 = system_cpu()[0], self._own_cpu(), time.monotonic()
            foreign = max(0.0, (busy1 - busy0) - (own1 - own0)) / max(1e-3, t1 - t0)
            self.samples.append((self.scenario, round(foreign, 2)))
            busy0, own0, t0 = busy1, own1, t1

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        values = [v for s, v in self.samples if s]
        per = {}
        for s, v in self.samples:
            if s:
                per.setdefault(s, []).append(v)
        mean = round(sum(values) / len(values), 2) if values else None
        return {
            "foreign_cores_mean": mean,
            "foreign_cores_max": max(values) if values else None,
            "per_scenario_mean": {s: round(sum(v) / len(v), 2) for s, v in per.items()},
            "noisy": bool(mean is not None and mean > 0.25),
            "how": "once a second: CPU busy on the whole machine minus CPU of the harness and its children",
        }


def _run(argv, timeout=30):
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        return (proc.stdout or proc.stderr).strip()
    except (OSError, subprocess.SubprocessError):
        return None


def versions(bench, root):
    out = {"feedrouter": (_run([bench.feedrouter_bin, "--version"]) or "").replace("feedrouter ", "") or None}
    out["git_commit"] = _run(["git", "-C", root, "rev-parse", "HEAD"])
    status = _run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"])
    out["git_dirty"] = bool(status)
    out["wrk"] = (_run(["wrk", "--version"]) or "").splitlines()[0].split(" Copyright")[0] if shutil.which("wrk") else None
    out["gnuplot"] = _run(["gnuplot", "--version"]) if shutil.which("gnuplot") else None
    out["python"] = platform.python_version()
    compiler = None
    cache = os.path.join(bench.build_dir, "CMakeCache.txt")
    if os.path.exists(cache):
        with open(cache) as f:
            for line in f:
                if line.startswith("CMAKE_CXX_COMPILER:"):
                    compiler = line.split("=", 1)[1].strip()
    out["compiler"] = ((_run([compiler or "c++", "--version"]) or "").splitlines() or [None])[0]
    for package in ("libcaf-dev", "libboost-dev", "libsqlite3-dev", "libsimdjson-dev", "libssl-dev", "librdkafka-dev"):
        out[package] = _run(["dpkg-query", "-W", "-f=${Version}", package])
    out["loadgen"] = "bench/loadgen (this repository)"
    # Scenario 5's database: pouchdb-server as npm ci installed it, and the Node.js that runs it.
    try:
        with open(os.path.join(bench.couchdb_dir, "node_modules", "pouchdb-server", "package.json")) as f:
            out["pouchdb-server"] = json.load(f).get("version")
    except (OSError, ValueError):
        out["pouchdb-server"] = None
    node = shutil.which("node") or shutil.which("nodejs")
    out["node"] = _run([node, "--version"]) if node else None
    return out


def main():
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts and windows; under two minutes")
    parser.add_argument("--only", action="append", choices=SCENARIOS, metavar="SCENARIO",
                        help=f"run only this scenario (repeatable): {', '.join(SCENARIOS)}")
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    parser.add_argument("--loadgen", required=True, help="path of the loadgen binary (bench/run passes it)")
    parser.add_argument("--results", help="where results go (default bench/results)")
    parser.add_argument("--keep-workdir", action="store_true", help="keep the stores, logs and CSVs of the run")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite the table in bench/README.md")
    parser.add_argument("--feedrouter", metavar="PATH",
                        help="the feedrouter binary to measure (default: app/feedrouter of the build directory)")
    parser.add_argument("--no-build", action="store_true", help=argparse.SUPPRESS)  # handled by bench/run
    args = parser.parse_args()
    selected = [s for s in SCENARIOS if not args.only or s in args.only]
    results_dir = args.results or os.path.join(args.root, "bench", "results")

    install_signal_handlers()
    atexit.register(kill_all_children)
    started = datetime.datetime.now(datetime.timezone.utc)
    run_id = started.strftime("%Y%m%dT%H%M%SZ")
    workdir = tempfile.mkdtemp(prefix=f"feedrouter-bench-{run_id}-")
    bench = Bench(args.root, args.loadgen, workdir, args.quick, args.feedrouter)
    mode = "quick" if args.quick else "full"
    command = ("bench/run" + (" --quick" if args.quick else "") + "".join(f" --only {s}" for s in (args.only or []))
               + (f" --feedrouter {args.feedrouter}" if args.feedrouter else ""))
    bench.log(f"feedrouter bench, {mode} mode: {', '.join(selected)}; work directory {workdir}")
    machine = machine_info()
    bench.log(f"machine: {machine['cpu_model']}, {machine['cores']} cores; load average {machine['load_average_at_start']}")
    vers = versions(bench, args.root)
    noise = NoiseMonitor()
    noise.start()
    errors = []
    t_start = time.monotonic()
    for name in selected:
        bench.log(f"scenario {name}")
        noise.scenario = name
        t = time.monotonic()
        try:
            if name == "alarms":
                scenarios.alarms(bench, keep_for_restart="restart" in selected)
            else:
                getattr(scenarios, name)(bench)
        except (BenchError, OSError, ValueError, KeyError) as e:
            errors.append(f"{name}: {e}")
            bench.check(f"scenario {name} ran to the end", False, f"{type(e).__name__}: {e}")
            traceback.print_exc()
            # A broken scenario must not leave servers behind for the next one.
            leftover = bench.handover.pop("restart", None)
            if leftover:
                for key in ("server", "sink"):
                    leftover[key].kill()
        noise.scenario = None
        bench.log(f"scenario {name} took {time.monotonic() - t:.0f} s")
    noise_summary = noise.stop()
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    finished = datetime.datetime.now(datetime.timezone.utc)
    failed = [f"{c['name']}: {c['detail']}" for c in bench.checks if not c["ok"]]
    result = {
        "schema": 1,
        "run": {"id": run_id, "mode": mode, "scenarios": selected, "command": command,
                "started": started.isoformat(timespec="seconds"), "finished": finished.isoformat(timespec="seconds"),
                "duration_s": round(time.monotonic() - t_start, 1)},
        "machine": machine,
        "versions": vers,
        "config": vars(bench.cfg),
        "noise": noise_summary,
        "sanity": {"ok": not failed, "failed": failed, "checks": bench.checks},
        "figures": bench.figures,
        "scenarios": bench.scenarios,
        "chart": bench.chart,
        "sink_fire_fetches": bench.fire_fetches,
    }
    complete = mode == "full" and not args.only and not args.feedrouter
    path = report.write_json(result, results_dir, run_id, complete)
    bench.log(f"results: {path}")
    try:
        png = report.draw_chart(bench.chart, result, results_dir, run_id, complete)
        bench.log(f"chart: {png}" if png else "chart: gnuplot is not installed")
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        bench.log(f"chart: {e}")
    print()
    print(report.figures_table(bench.figures))
    print()
    if complete and not args.no_readme:
        readme = os.path.join(args.root, "bench", "README.md")
        if os.path.exists(readme) and report.update_readme(readme, result):
            bench.log("bench/README.md: results table updated")
    if noise_summary["noisy"]:
        bench.log(f"NOTE: other processes used {noise_summary['foreign_cores_mean']} cores on average: noisy numbers")
    if not args.keep_workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    if failed:
        bench.log("SANITY FAILED (events lost or a scenario broke):")
        for line in failed:
            bench.log("  " + line)
        return 1
    bench.log("sanity: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
