"""Outputs of a run: the JSON file, the chart (gnuplot) and the results table in bench/README.md."""

import json
import os
import shutil
import subprocess
import tempfile

README_BEGIN = "<!-- results:begin (written by bench/run after a full run; edit outside these markers) -->"
README_END = "<!-- results:end -->"


def write_json(result, results_dir, run_id, complete):
    """run-<id>.json, latest.json, and latest-full.json when `complete` (a full run of every scenario)."""
    os.makedirs(results_dir, exist_ok=True)
    path = os.path.join(results_dir, f"run-{run_id}.json")
    text = json.dumps(result, indent=1, sort_keys=False) + "\n"
    for name in [f"run-{run_id}.json", "latest.json"] + (["latest-full.json"] if complete else []):
        with open(os.path.join(results_dir, name), "w") as f:
            f.write(text)
    return path


def _fmt(value, unit):
    if value is None:
        return "–"
    if isinstance(value, float) and abs(value) >= 100:
        text = f"{value:,.0f}"
    elif isinstance(value, float):
        text = f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    else:
        text = f"{value:,}" if isinstance(value, int) else str(value)
    return f"{text} {unit}".strip()


def figures_table(figures):
    lines = ["| scenario | figure | feedrouter | baseline | ratio | baseline is |",
             "|---|---|---:|---:|---:|---|"]
    notes = []
    for row in figures:
        value = row.get("skipped") if row.get("skipped") and row["value"] is None else _fmt(row["value"], row["unit"])
        if row.get("note"):
            if row["note"] not in notes:
                notes.append(row["note"])
            value += f" (note {notes.index(row['note']) + 1})"
        ratio = "–" if row["ratio"] is None else f"{row['ratio']:.2f}×"
        if row["ratio"] is not None:
            ratio += " (higher is better)" if row["better"] == "higher" else " (lower is better)"
        lines.append(f"| {row['scenario']} | {row['figure']} | {value} | {_fmt(row['baseline'], row['unit'])} | "
                     f"{ratio} | {row.get('baseline_label') or '–'} |")
    for i, note in enumerate(notes):
        lines.append("")
        lines.append(f"Note {i + 1}: {note}.")
    return "\n".join(lines)


def results_section(result):
    run, machine, versions = result["run"], result["machine"], result["versions"]
    noise = result.get("noise", {})
    sanity = result["sanity"]
    lines = [
        f"Latest full run: **{run['finished']}** ({run['duration_s']:.0f} s), `{run['command']}`",
        "",
        f"- machine: {machine['cpu_model']}, {machine['cores']} cores, {machine['memory_mib']} MiB, "
        f"{machine['kernel']}; load average at start {machine['load_average_at_start']}",
        f"- versions: feedrouter {versions.get('feedrouter')} (commit {versions.get('git_commit', '?')[:12]}"
        f"{', uncommitted changes' if versions.get('git_dirty') else ''}), {versions.get('compiler')}, "
        f"CAF {versions.get('libcaf-dev')}, SQLite {versions.get('libsqlite3-dev')}, {versions.get('wrk')}",
        f"- noise: other processes used on average {noise.get('foreign_cores_mean', '?')} of "
        f"{machine['cores']} cores during the measurements (max {noise.get('foreign_cores_max', '?')})"
        + (" — **the machine was busy with other work: the numbers are noisy**" if noise.get("noisy") else ""),
        f"- sanity: {'every check passed' if sanity['ok'] else 'FAILED: ' + '; '.join(sanity['failed'])}",
        "",
        figures_table(result["figures"]),
        "",
        "![throughput and latency against load](results/latest-full.png)",
        "",
        "The whole record of this run: [results/latest-full.json](results/latest-full.json).",
    ]
    return "\n".join(lines)


def update_readme(readme_path, result):
    with open(readme_path) as f:
        text = f.read()
    begin, end = text.find(README_BEGIN), text.find(README_END)
    if begin < 0 or end < begin:
        return False
    text = text[:begin + len(README_BEGIN)] + "\n" + results_section(result) + "\n" + text[end:]
    with open(readme_path, "w") as f:
        f.write(text)
    return True


def _series(points):
    grouped = {}
    for name, x, y in points:
        if x and y is not None:
            grouped.setdefault(name, []).append((x, y))
    return {name: sorted(values) for name, values in grouped.items()}


# One colour per series in both panels: baselines in greens and blues, feedrouter in warm colours.
_COLOURS = {
    "baseline: wrk -> sink (max)": "#1b9e77",
    "baseline: loadgen -> sink": "#1f78b4",
    "baseline: timer -> sink (lateness)": "#33a02c",
    "feedrouter webhook": "#d95f02",
    "feedrouter alarms": "#e7298a",
    "feedrouter alarms (lateness)": "#e7298a",
}
_SPARE = ["#6a3d9a", "#b15928", "#a6761d", "#666666"]


def _colour(name, used):
    if name not in _COLOURS:
        _COLOURS[name] = _SPARE[len(used) % len(_SPARE)]
        used.append(name)
    return _COLOURS[name]


def _gp_quote(text):
    return "'" + text.replace("'", "''") + "'"


def _gp_dquote(text):
    """A double-quoted gnuplot string: backslash escapes are interpreted, so a newline can be written as \\n."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def draw_chart(chart, result, results_dir, run_id, complete):
    """Two panels: delivered rate and latency against offered load. Returns the PNG path, or None without gnuplot."""
    gnuplot = shutil.which("gnuplot")
    if gnuplot is None:
        return None
    tmp = tempfile.mkdtemp(prefix="bench-chart-")
    try:
        png = os.path.join(results_dir, f"run-{run_id}.png")
        plots_tp, plots_lat, spare = [], [], []
        for i, (name, values) in enumerate(_series(chart["throughput"]).items()):
            path = os.path.join(tmp, f"tp{i}.dat")
            with open(path, "w") as f:
                for x, y in values:
                    f.write(f"{x} {max(y, 1e-3)}\n")
            plots_tp.append(f"{_gp_quote(path)} using 1:2 with linespoints pt 7 lw 2 lc rgb '{_colour(name, spare)}' "
                            f"title {_gp_quote(name)}")
        lat_points = [(name, x, lat) for name, x, lat in chart["latency"] if lat and lat.get("p50") is not None]
        for i, (name, values) in enumerate(_series(lat_points).items()):
            path = os.path.join(tmp, f"lat{i}.dat")
            with open(path, "w") as f:
                for x, lat in values:
                    f.write(f"{x} {max(lat['p50'], 0.05)} {max(lat['p99'], 0.05)}\n")
            colour = _colour(name, spare)
            plots_lat.append(f"{_gp_quote(path)} using 1:2 with linespoints pt 7 lw 2 lc rgb '{colour}' "
                             f"title {_gp_quote(name + ' p50')}")
            plots_lat.append(f"{_gp_quote(path)} using 1:3 with linespoints pt 6 lw 1 dt 2 lc rgb '{colour}' "
                             f"title {_gp_quote(name + ' p99')}")
        skipped = sorted({row["skipped"] for row in result["figures"] if row.get("skipped")})
        note = ("feedrouter webhook / changes: " + "; ".join(skipped)) if skipped else ""
        machine = result["machine"]
        title = (f"feedrouter bench {result['run']['mode']} run {result['run']['finished']} - "
                 f"{machine['cpu_model']}, {machine['cores']} cores")
        script = [
            "set terminal pngcairo size 1500,650 noenhanced font ',10'",
            f"set output {_gp_quote(png)}",
            f"set multiplot layout 1,2 title {_gp_dquote(title + chr(10) + note)}",
            "set logscale xy", "set grid", "set key top left box opaque",
            # Fixed axes, so that charts of different runs compare at a glance.
            "set xrange [100:100000]", "set yrange [100:100000]",
            "set xlabel 'offered load: events/s sent, or alarm fires/s scheduled'",
            "set ylabel 'delivered to the sink per s'",
            "set title 'throughput against load'",
            "plot " + ", ".join(["x with lines lc rgb 'gray' dt 3 title 'delivered = offered'"] + plots_tp),
            "set ylabel 'ms (arrival at the sink minus send or scheduled instant)'",
            "set title 'latency against load (p50 solid, p99 dashed)'",
            "set autoscale y",
            ("plot " + ", ".join(plots_lat)) if plots_lat else
            "set label 'no latency measured in this run' at graph 0.5, 0.5 center\n"
            "unset key\nset yrange [0.1:1000]\nplot 1 notitle lc rgb 'white'",
            "unset multiplot",
        ]
        script_path = os.path.join(tmp, "chart.gp")
        with open(script_path, "w") as f:
            f.write("\n".join(script) + "\n")
        proc = subprocess.run([gnuplot, script_path], capture_output=True, text=True, timeout=60)
        if proc.returncode != 0 or not os.path.exists(png):
            raise RuntimeError(f"gnuplot failed: {proc.stderr.strip()}")
        shutil.copyfile(png, os.path.join(results_dir, "latest.png"))
        if complete:
            shutil.copyfile(png, os.path.join(results_dir, "latest-full.png"))
        return png
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
