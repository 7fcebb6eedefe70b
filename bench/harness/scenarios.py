"""The scenarios: 1 to 5 and 7 here, kafka (6), mqtt and redis (8, 9) and cluster (10) in modules of their own.
Each measures feedrouter and, in the same run, a baseline that shows the physical limit of the machine for the same
work (the same load generator straight to the sink, the same client against an in-memory server, a plain process
start, raw readers of the same database's changes), and records figures, chart points and sanity checks on the Bench
context."""

import csv
import hashlib
import hmac
import json
import math
import os
import re
import selectors
import socket
import sqlite3
import threading
import time
import urllib.parse

from common import BenchError, CpuMeter, Http, iso_ms, percentiles, proc_status, wait_until
from context import AUTH_KEY, HOOK_SECRET, NAMESPACE, PAYLOAD
from alarm_burst import alarm_burst
from servers import start_nginx

FEED_MISSING = "skipped: feed not available"

# The timestamped event: the payload plus the request's number and the instants it was scheduled for and sent at.
EVENT_TEMPLATE = ('{"benchSeq":{seq},"benchSentUs":{sent_us},"benchSchedUs":{sched_us},'
                  + PAYLOAD[1:])
_SEQ_RE = re.compile(r'benchSeq\\*"\s*:\s*(\d+)')
_SENT_RE = re.compile(r'benchSentUs\\*"\s*:\s*(\d+)')
_SCHED_RE = re.compile(r'benchSchedUs\\*"\s*:\s*(\d+)')


def fire_path(name):
    return f"/api/v1/namespaces/{NAMESPACE}/triggers/{name}"


def write_lines(path, lines):
    with open(path, "w") as f:
        for line in lines:
            f.write(line + "\n")
    return path


def read_records(path):
    """The loadgen's per-request CSV: list of dicts with int fields and the captured text."""
    rows = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            rows.append({"seq": int(row["seq"]), "sched_us": int(row["sched_us"]), "sent_us": int(row["sent_us"]),
                         "done_us": int(row["done_us"]), "status": int(row["status"]),
                         "captured": row.get("captured", "")})
    return rows


def github_signature(body):
    return "sha256=" + hmac.new(HOOK_SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()


def analyse_events(fires, ok_seqs, since="sent"):
    """Matches the sink's fires with the events sent (by benchSeq). Latency in ms from the send (or the scheduled
    instant) to the sink's receivedAt; receivedAt has millisecond resolution, so 0.5 ms is added (unbiased)."""
    seen = set()
    duplicates = 0
    foreign = 0
    latencies = []
    for f in fires:
        body = f.get("body")
        if isinstance(body, dict) and "benchSeq" in body:
            seq = body["benchSeq"]
            stamp = body["benchSentUs"] if since == "sent" else body["benchSchedUs"]
        else:
            text = json.dumps(body)
            m_seq = _SEQ_RE.search(text)
            m_stamp = (_SENT_RE if since == "sent" else _SCHED_RE).search(text)
            if not m_seq or not m_stamp:
                foreign += 1
                continue
            seq, stamp = int(m_seq.group(1)), int(m_stamp.group(1))
        if seq in seen:
            duplicates += 1
            continue
        seen.add(seq)
        latencies.append(iso_ms(f["receivedAt"]) + 0.5 - stamp / 1000.0)
    missing = len(ok_seqs - seen)
    return {"received": len(seen), "duplicates": duplicates, "missing": missing, "foreign": foreign,
            "latency_ms": {k: (None if v is None else round(v, 2)) if k != "count" else v
                           for k, v in percentiles(latencies).items()}}


def analyse_alarms(fires, anchors, period_ms, t0, t1):
    """Alarm fires of the registrations in `anchors` (name -> startDate ms) whose scheduled instant lies in [t0, t1).

    An interval alarm is due at anchor + k * period, so a fire received at r belongs to the occurrence
    k = (r - anchor) // period and is (r - anchor) % period late; lateness beyond a period cannot be told from a
    fire of the next occurrence and shows as a duplicate plus a miss."""
    expected = 0
    for c in anchors.values():
        k_first = max(0, math.ceil((t0 - c) / period_ms))
        k_last = math.ceil((t1 - c) / period_ms) - 1
        expected += max(0, k_last - k_first + 1)
    seen = set()
    duplicates = 0
    latencies = []
    others = 0
    for f in fires:
        c = anchors.get(f["trigger"])
        if c is None:
            others += 1
            continue
        r = iso_ms(f["receivedAt"])
        k = (r - c) // period_ms
        s = c + k * period_ms
        if k < 0 or not t0 <= s < t1:
            continue
        key = (f["trigger"], k)
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        latencies.append(r - s + 0.5)
    lat = percentiles(latencies)
    return {"expected": expected, "matched": len(seen), "missed": expected - len(seen), "duplicates": duplicates,
            "other_triggers": others,
            "lateness_ms": {k: (None if v is None else round(v, 2)) if k != "count" else v for k, v in lat.items()}}


class CountSampler:
    """Polls the sink's fire count in the background (cheap route) to see the fire rate over time."""

    def __init__(self, bench, sink, interval=0.5):
        self.bench, self.sink, self.interval = bench, sink, interval
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                self.samples.append((time.time(), self.bench.sink_count(self.sink)))
            except (OSError, BenchError):
                pass
            self._stop.wait(self.interval)

    def stop(self):
        self._stop.set()
        self._thread.join(10)
        return self.samples


# -- registrations ------------------------------------------------------------------------------------------------

def create_registrations(b, server, prefix, count, params, capture="created"):
    """CREATEs `count` registrations {prefix}0.. through the API with a few keep-alive connections; `params` is one
    body for all, or a list with one body per registration. Returns (loadgen summary, records)."""
    records = os.path.join(b.workdir, b.next_name(f"create-{prefix}") + ".csv")
    bodies_file = None
    if isinstance(params, list):
        bodies_file = write_lines(os.path.join(b.workdir, b.next_name(f"bodies-{prefix}") + ".txt"),
                                  [json.dumps(p) for p in params])
    result = b.loadgen(server.url, method="PUT", path=f"/v1/triggers/{NAMESPACE}/{prefix}{{seq}}",
                       body=None if bodies_file else json.dumps(params), bodies_file=bodies_file,
                       headers=[f"Authorization: {b.auth}"], requests=count,
                       connections=b.cfg.create_connections, threads=2, capture=capture, records=records,
                       timeout_ms=60000)
    rows = read_records(records)
    bad = {k: v for k, v in result["status"].items() if k != "201"}
    b.check(f"create {count} '{prefix}' registrations: every CREATE answered 201", not bad,
            f"statuses {result['status']}")
    return result, rows


# Creation is timed before the first alarm is due: the first occurrences are this many seconds per registration
# ahead (at least 2 s), which is enough when CREATE manages 1500/s.
CREATE_LEAD_S_PER_REGISTRATION = 1 / 1500


def alarm_population(prefix, count, period_s):
    """Interval alarms whose phases are spread evenly over the period: registration i has the startDate
    base + i * period / count, so it is due at startDate + k * period and, from `base` on, the population fires at a
    steady count / period per second. `base` is a whole second far enough ahead for the CREATEs to finish first, so
    the create rate is measured without fires competing. Returns (anchors by trigger name, CREATE bodies, base ms)."""
    period_ms = period_s * 1000
    lead = max(2.0, count * CREATE_LEAD_S_PER_REGISTRATION)
    base = math.ceil(time.time() + lead) * 1000
    anchors, bodies = {}, []
    for i in range(count):
        anchor = base + (i * period_ms) // count
        anchors[f"{prefix}{i}"] = anchor
        bodies.append({"feed": "alarm", "seconds": period_s, "startDate": anchor})
    return anchors, bodies, base


# -- scenario 1: fire throughput ------------------------------------------------------------------------------------

# Fires of one registration on the wire at once in the pipelined run (feedrouter's --fire-window).
PIPELINED_FIRE_WINDOW = 32
# Registrations sharing the webhook load in the run against nginx.
NGINX_REGISTRATIONS = 100

def _wrk_against_sink(b, sink, k):
    cfg = b.cfg
    paths = None
    if k > 1:
        paths = write_lines(os.path.join(b.workdir, f"sink-paths-{k}.txt"), [fire_path(f"h{i}") for i in range(k)])
    before = b.sink_count(sink)
    meter = CpuMeter({"sink": sink.pid})
    res = b.wrk(sink.url + fire_path("h0"), cfg.throughput_seconds, cfg.throughput_connections, PAYLOAD,
                [f"Authorization: {b.auth}"], paths)
    cpu = meter.stop({"wrk": res["cpu_s"]})
    ok = res["requests"] - res["errors"]["status"]
    after, _ = b.sink_settle(sink, before + ok, timeout=30, quiet=0.5)
    recorded = after - before
    seconds = res["duration_us"] / 1e6
    b.check(f"throughput baseline, {k} trigger(s): every answered POST is recorded at the sink",
            ok <= recorded <= res["requests"] + cfg.throughput_connections,
            f"{ok} answered 2xx, {recorded} recorded (in flight at the end: up to {cfg.throughput_connections})")
    return {"registrations": k, "events_per_s": ok / seconds, "requests": res["requests"], "answered_2xx": ok,
            "recorded": recorded, "wrk": res, "cpu": cpu}


def _hook_paths(b, server, prefix, k):
    """Creates k webhook registrations and returns the paths of their ingress URLs."""
    params = {"feed": "webhook", "secret": HOOK_SECRET, "signature": "hmac-sha256"}
    _, rows = create_registrations(b, server, prefix, k, params, capture="hookUrl")
    paths = []
    for r in rows:
        if not r["captured"]:
            raise BenchError("a webhook CREATE answer has no status.hookUrl")
        paths.append(urllib.parse.urlsplit(r["captured"]).path)
    return paths


def _wrk_through_feedrouter(b, sink, k, extra=()):
    cfg = b.cfg
    server = b.start_feedrouter(sink.url, b.store_path(), extra=extra)
    try:
        paths = _hook_paths(b, server, "h", k)
        paths_file = write_lines(os.path.join(b.workdir, b.next_name(f"hook-paths-{k}") + ".txt"), paths)
        headers = [f"X-Hub-Signature-256: {github_signature(PAYLOAD)}", "X-GitHub-Event: push"]
        before = b.sink_count(sink)
        sampler = CountSampler(b, sink)
        meter = CpuMeter({"feedrouter": server.pid, "sink": sink.pid})
        res = b.wrk(server.url + paths[0], cfg.throughput_seconds, cfg.throughput_connections, PAYLOAD, headers,
                    paths_file if k > 1 else None)
        wrk_end = time.monotonic()
        at_end = b.sink_count(sink)
        cpu = meter.stop({"wrk": res["cpu_s"]})
        accepted = res["requests"] - res["errors"]["status"]
        after, quiet_for = b.sink_settle(sink, before + accepted, timeout=120)
        drain_s = max(0.0, time.monotonic() - quiet_for - wrk_end)
        samples = sampler.stop()
        seconds = res["duration_us"] / 1e6
        recorded = after - before
        b.check(f"throughput via feedrouter, {k} registration(s): every accepted event fired at the sink",
                recorded >= accepted, f"{accepted} accepted (2xx), {recorded} fires recorded")
        return {"registrations": k, "events_per_s": accepted / seconds,
                "fires_per_s": (at_end - before) / seconds, "accepted": accepted, "recorded": recorded,
                "drain_s": round(drain_s, 2), "count_samples": samples,
                "non_2xx": res["errors"]["status"], "wrk": res, "cpu": cpu, "rss_kib": proc_status(server.pid)}
    finally:
        server.terminate()


def throughput(b):
    cfg = b.cfg
    out = {"baseline": [], "feedrouter": []}
    b.scenarios["throughput"] = out
    sink = b.start_sink()
    try:
        b.sink_add_triggers(sink, "h", max(cfg.throughput_registrations))
        for k in cfg.throughput_registrations:
            base = _wrk_against_sink(b, sink, k)
            out["baseline"].append(base)
            b.log(f"  baseline (wrk -> sink), {k} trigger(s): {base['events_per_s']:.0f} events/s")
        probe = b.start_feedrouter(sink.url, b.store_path())
        available, why = b.probe_feed(probe, "webhook", {"secret": HOOK_SECRET})
        probe.terminate()
        out["webhook_available"] = available
        for base in out["baseline"]:
            k = base["registrations"]
            label = f"wrk -> sink, {k} trigger(s)"
            if not available:
                out["feedrouter"].append({"registrations": k, "skipped": FEED_MISSING, "reason": why})
                b.figure("1 throughput", f"events/s in, {k} registration(s)", None, "events/s",
                         base["events_per_s"], label, skipped=FEED_MISSING)
                b.figure("1 throughput", f"fires/s out, {k} registration(s)", None, "fires/s",
                         base["events_per_s"], label, skipped=FEED_MISSING)
                continue
            fr = _wrk_through_feedrouter(b, sink, k)
            out["feedrouter"].append(fr)
            b.log(f"  feedrouter, {k} registration(s): {fr['events_per_s']:.0f} events/s in, "
                  f"{fr['fires_per_s']:.0f} fires/s out")
            rejected = None
            if fr["non_2xx"]:
                rejected = (f"{fr['non_2xx']} of {fr['wrk']['requests']} events with {k} registration(s) were answered "
                            f"4xx/5xx (flow control) and are not counted as in")
            _throughput_figures(b, f"{k} registration(s)", fr, base["events_per_s"], label, note=rejected)
        if not available:
            b.log(f"  feedrouter: webhook {FEED_MISSING} ({why})")
        first = out["baseline"][0]
        b.chart["throughput"].append(("baseline: wrk -> sink (max)", first["events_per_s"], first["events_per_s"]))
        # Scenario 2 works at fractions of the best rate feedrouter reached, spread over as many registrations.
        best = max(out["feedrouter"], key=lambda x: x["fires_per_s"]) if available else first
        b.handover["max_rate"] = {
            "baseline": first["events_per_s"],
            "feedrouter": best["fires_per_s"] if available else None,
            "registrations": best["registrations"],
        }
        if available:
            _pipelined_one_registration(b, sink, out)
    finally:
        sink.terminate()
    if available:
        _against_nginx(b, out)


def _pipelined_one_registration(b, sink, out):
    """One registration with up to PIPELINED_FIRE_WINDOW fires on the wire, their outcomes applied in order."""
    base = next(x for x in out["baseline"] if x["registrations"] == 1)
    fr = _wrk_through_feedrouter(b, sink, 1, extra=["--fire-window", str(PIPELINED_FIRE_WINDOW)])
    out["pipelined"] = fr
    b.log(f"  feedrouter, 1 registration, --fire-window {PIPELINED_FIRE_WINDOW}: {fr['events_per_s']:.0f} events/s "
          f"in, {fr['fires_per_s']:.0f} fires/s out")
    _throughput_figures(b, f"1 registration(s), --fire-window {PIPELINED_FIRE_WINDOW}", fr, base["events_per_s"],
                        "wrk -> sink, 1 trigger(s)")


def _against_nginx(b, out):
    """The same webhook load with nginx as the controller, read against wrk straight at nginx: the fastest sink this
    machine has, where the fake controller is a sink of ours that records every fire."""
    nginx = start_nginx(b)
    try:
        base = _wrk_against_sink(b, nginx, 1)
        b.log(f"  baseline (wrk -> nginx): {base['events_per_s']:.0f} events/s")
        fr = _wrk_through_feedrouter(b, nginx, NGINX_REGISTRATIONS)
    finally:
        nginx.terminate()
    out["nginx"] = {"baseline": base, "feedrouter": fr}
    b.log(f"  feedrouter -> nginx, {NGINX_REGISTRATIONS} registration(s): {fr['events_per_s']:.0f} events/s in, "
          f"{fr['fires_per_s']:.0f} fires/s out")
    _throughput_figures(b, f"{NGINX_REGISTRATIONS} registration(s), nginx as the controller", fr,
                        base["events_per_s"], "wrk -> nginx")


def _throughput_figures(b, name, fr, baseline, label, note=None):
    """The two rows of a run through feedrouter: events in (answered 2xx) and fires out, against `baseline`/s."""
    b.figure("1 throughput", f"events/s in, {name}", fr["events_per_s"], "events/s", baseline, label, note=note)
    b.figure("1 throughput", f"fires/s out, {name}", fr["fires_per_s"], "fires/s", baseline, label)


# -- scenario 2: fan-out latency ------------------------------------------------------------------------------------

def _open_loop_point(b, sink, url, paths_file, rate, hmac_secret=None):
    """Sends timestamped events at a constant rate (round robin over the paths); returns the latency to the sink and
    the loss accounting."""
    cfg = b.cfg
    b.sink_clear(sink)
    records = os.path.join(b.workdir, b.next_name("latency") + ".csv")
    headers = [f"Authorization: {b.auth}"] if hmac_secret is None else ["X-GitHub-Event: push"]
    meter = CpuMeter({"sink": sink.pid})
    res = b.loadgen(url, paths_file=paths_file, body=EVENT_TEMPLATE, headers=headers, rate=rate,
                    duration=cfg.latency_seconds, connections=cfg.latency_connections, threads=2, records=records,
                    hmac_secret=hmac_secret, timeout_ms=10000)
    cpu = meter.stop({"loadgen": res["cpu_s"]})
    ok_seqs = {r["seq"] for r in read_records(records) if 200 <= r["status"] < 300}
    b.sink_settle(sink, len(ok_seqs), timeout=60, quiet=0.5)
    fires = b.sink_fires(sink)
    result = analyse_events(fires, ok_seqs)
    result.update(target_rate=rate, sent=res["requests"], answered_2xx=len(ok_seqs),
                  achieved_rate=result["received"] / cfg.latency_seconds, statuses=res["status"],
                  response_latency_us=res["latency_from_sent_us"], send_lag_us=res["send_lag_us"], cpu=cpu)
    return result


def latency(b):
    cfg = b.cfg
    out = {"points": []}
    b.scenarios["latency"] = out
    sink = b.start_sink()
    server = None
    try:
        max_rate = b.handover.get("max_rate")
        k = max_rate["registrations"] if max_rate else cfg.latency_registrations
        b.sink_add_triggers(sink, "h", k)
        sink_paths = write_lines(os.path.join(b.workdir, b.next_name("latency-sink-paths") + ".txt"),
                                 [fire_path(f"h{i}") for i in range(k)])
        if max_rate is None:
            base = _wrk_against_sink(b, sink, k)
            max_rate = {"baseline": base["events_per_s"], "feedrouter": None, "registrations": k}
        server = b.start_feedrouter(sink.url, b.store_path())
        available, why = b.probe_feed(server, "webhook", {"secret": HOOK_SECRET})
        hook_paths = None
        if available:
            if max_rate.get("feedrouter") is None:
                server.terminate()
                max_rate["feedrouter"] = _wrk_through_feedrouter(b, sink, k)["fires_per_s"]
                server = b.start_feedrouter(sink.url, b.store_path())
            hook_paths = write_lines(os.path.join(b.workdir, b.next_name("latency-hook-paths") + ".txt"),
                                     _hook_paths(b, server, "h", k))
        reference = max_rate["feedrouter"] if available else max_rate["baseline"]
        out.update(max_rate=max_rate, reference_rate=reference, registrations=k, webhook_available=available,
                   reference_of=f"feedrouter's maximum fire rate with {k} registration(s)" if available
                   else "the baseline's maximum rate (feedrouter's webhook feed is not available)")
        for fraction in cfg.latency_fractions:
            rate = max(1, round(reference * fraction))
            base = _open_loop_point(b, sink, sink.url, sink_paths, rate)
            point = {"fraction": fraction, "rate": rate, "baseline": base}
            b.check(f"latency baseline at {rate}/s: every answered event recorded once",
                    base["missing"] == 0, f"{base['answered_2xx']} answered, {base['received']} recorded, "
                    f"{base['missing']} missing, {base['duplicates']} duplicates")
            b.chart["latency"].append(("baseline: loadgen -> sink", rate, base["latency_ms"]))
            b.chart["throughput"].append(("baseline: loadgen -> sink", rate, base["achieved_rate"]))
            lat = base["latency_ms"]
            b.log(f"  {int(fraction * 100)}% ({rate}/s over {k}) baseline: p50 {lat['p50']} ms, p99 {lat['p99']} ms")
            if available:
                fr = _open_loop_point(b, sink, server.url, hook_paths, rate, hmac_secret=HOOK_SECRET)
                point["feedrouter"] = fr
                b.check(f"latency via feedrouter at {rate}/s: every accepted event fired",
                        fr["missing"] == 0, f"{fr['answered_2xx']} accepted, {fr['received']} fired, "
                        f"{fr['missing']} missing, {fr['duplicates']} duplicates")
                b.chart["latency"].append(("feedrouter webhook", rate, fr["latency_ms"]))
                b.chart["throughput"].append(("feedrouter webhook", rate, fr["achieved_rate"]))
                frl = fr["latency_ms"]
                b.log(f"  {int(fraction * 100)}% ({rate}/s over {k}) feedrouter: p50 {frl['p50']} ms, "
                      f"p99 {frl['p99']} ms")
            else:
                point["feedrouter"] = {"skipped": FEED_MISSING, "reason": why}
            out["points"].append(point)
            if fraction in (0.5, 0.9):
                pct = int(fraction * 100)
                frl = point["feedrouter"].get("latency_ms", {})
                # An open-loop generator that falls behind its schedule offers less than asked: say so.
                lags = [base["send_lag_us"]["p99"]] + ([point["feedrouter"]["send_lag_us"]["p99"]]
                                                      if available else [])
                note = None
                if max(lags) > 10000:
                    note = (f"the load generator fell behind its schedule (send lag p99 up to "
                            f"{max(lags) / 1000:.0f} ms): the machine could not offer this rate on time; "
                            f"latency counts from the actual send")
                for p in ("p50", "p90", "p99", "max"):
                    b.figure("2 latency", f"event -> sink {p} at {pct}% of max ({rate}/s over {k} registration(s))",
                             frl.get(p), "ms", lat[p], "loadgen -> sink, same rate and triggers", better="lower",
                             skipped=None if available else FEED_MISSING, digits=2, note=note)
        if not available:
            b.log(f"  feedrouter: webhook {FEED_MISSING}")
    finally:
        if server is not None:
            server.terminate()
        sink.terminate()


# -- scenario 3: alarm scale -----------------------------------------------------------------------------------------

def _direct_timer_baseline(b, sink, trigger, rate, seconds):
    """The timer floor: loadgen fires at `rate` straight at the sink on a fixed schedule; lateness = arrival minus
    the scheduled instant, exactly as for an alarm."""
    b.sink_clear(sink)
    records = os.path.join(b.workdir, b.next_name("timer") + ".csv")
    res = b.loadgen(sink.url, path=fire_path(trigger), body=EVENT_TEMPLATE, headers=[f"Authorization: {b.auth}"],
                    rate=rate, duration=seconds, connections=64, threads=2, records=records)
    ok_seqs = {r["seq"] for r in read_records(records) if 200 <= r["status"] < 300}
    b.sink_settle(sink, len(ok_seqs), timeout=30, quiet=0.5)
    result = analyse_events(b.sink_fires(sink), ok_seqs, since="scheduled")
    b.sink_clear(sink)
    result.update(rate=rate, achieved_rate=result["received"] / seconds, cpu_s=res["cpu_s"],
                  cpu_ms_per_1000=res["cpu_s"] * 1e6 / max(1, result["received"]))
    return result


def _alarm_block(b, label, prefix, count, period_s, window_s, keep=False):
    """One alarm population in a fresh sink and a fresh feedrouter: baselines, creation, memory, a window of fires."""
    period_ms = period_s * 1000
    rate = count / period_s
    block = {"alarms": count, "period_s": period_s, "scheduled_fires_per_s": rate}
    sink = b.start_sink()
    server = None
    try:
        # Baselines first, while feedrouter does not run: the sink as an in-memory registry of the same triggers
        # (creation rate and memory per entry), then the timer floor.
        b.sink_add_triggers(sink, "h", 1)
        rss_sink0 = proc_status(sink.pid).get("VmRSS", 0)
        sink_put = b.sink_add_triggers(sink, prefix, count)
        rss_sink1 = proc_status(sink.pid).get("VmRSS", 0)
        timer = _direct_timer_baseline(b, sink, "h0", rate, min(window_s, b.cfg.timer_baseline_s))
        block.update(sink_put=sink_put, timer_baseline=timer)
        # feedrouter: create, memory.
        store = b.store_path()
        server = b.start_feedrouter(sink.url, store)
        rss0 = proc_status(server.pid)
        anchors, bodies, base = alarm_population(prefix, count, period_s)
        created_res, _ = create_registrations(b, server, prefix, count, bodies)
        created_at = time.time()
        time.sleep(1)
        rss1 = proc_status(server.pid)
        store_bytes = sum(os.path.getsize(store + ext) for ext in ("", "-wal") if os.path.exists(store + ext))
        fires_during_creation = b.sink_count(sink)
        block.update(create=created_res, rss_before_kib=rss0, rss_after_kib=rss1, store_bytes=store_bytes,
                     store_bytes_per_registration=store_bytes / count, first_due_ms=base,
                     create_finished_before_first_due=created_at * 1000 < base,
                     fires_during_creation=fires_during_creation)
        create_rate = created_res["ok"] / created_res["active_s"]
        base_create_rate = sink_put["ok"] / sink_put["active_s"]
        rss_per = (rss1.get("VmRSS", 0) - rss0.get("VmRSS", 0)) * 1024 / count
        sink_per = (rss_sink1 - rss_sink0) * 1024 / count
        b.log(f"  {label}: created {count} at {create_rate:.0f}/s (sink baseline {base_create_rate:.0f}/s); "
              f"{rss_per:.0f} B RSS per registration (sink {sink_per:.0f} B, store {store_bytes / count:.0f} B)")
        # The window: fires whose scheduled instant lies in [t0, t1), from the first due instant on.
        metrics0 = b.metrics(server)
        b.sink_clear(sink)
        t0 = max(int(time.time() * 1000) + 1500, base)
        t1 = t0 + window_s * 1000
        time.sleep(max(0.0, t0 / 1000 - time.time()))
        meter = CpuMeter({"feedrouter": server.pid, "sink": sink.pid})
        sampler = CountSampler(b, sink)
        time.sleep(max(0.0, t1 / 1000 - time.time()))
        cpu = meter.stop()
        time.sleep(b.cfg.grace_s)
        samples = sampler.stop()
        metrics1 = b.metrics(server)
        rss2 = proc_status(server.pid)
        result = analyse_alarms(b.sink_fires(sink), anchors, period_ms, t0, t1)
        failed = metrics1.get("failed", 0) - metrics0.get("failed", 0)
        sustained = result["matched"] / window_s
        fr_cpu_s = cpu["feedrouter_cores"] * cpu["wall_s"]
        per_1000 = fr_cpu_s * 1e6 / result["matched"] if result["matched"] else None
        block.update(window_s=window_s, window=result, cpu=cpu, failed_fires=failed, rss_end_kib=rss2,
                     fires_per_s=sustained, count_samples=samples[:400], feedrouter_cpu_ms_per_1000_fires=per_1000)
        b.check(f"{label}: every scheduled occurrence in the window fired once",
                result["expected"] > 0 and result["missed"] == 0 and result["duplicates"] == 0,
                f"{result['expected']} due, {result['matched']} fired, {result['missed']} missed, "
                f"{result['duplicates']} duplicates, {failed} failed fires reported by feedrouter")
        lat = result["lateness_ms"]
        # Lateness is (arrival - anchor) mod period: once fires run a period late it wraps and means nothing.
        wrapped = result["missed"] > 0.01 * max(1, result["expected"]) or (lat["p90"] or 0) > period_ms / 2
        lateness_note = ("saturated: occurrences were skipped or fires ran about a period late, so lateness "
                         "(taken modulo the period) understates it") if wrapped else None
        block["lateness_saturated"] = wrapped
        b.log(f"  {label}: {sustained:.0f} fires/s sustained of {rate:.0f} scheduled; lateness p50 {lat['p50']} ms, "
              f"p99 {lat['p99']} ms (timer baseline p50 {timer['latency_ms']['p50']} ms, "
              f"p99 {timer['latency_ms']['p99']} ms); feedrouter {cpu['feedrouter_cores']} cores")
        sc = "3 alarms"
        b.figure(sc, f"{label}: create rate", create_rate, "registrations/s", base_create_rate,
                 "same client PUTs the same triggers into the sink's in-memory table")
        b.figure(sc, f"{label}: resident memory per registration", rss_per / 1024, "KiB", sink_per / 1024,
                 "sink RSS per trigger it holds (name, key, flags in a hash map)", better="lower", digits=2)
        b.figure(sc, f"{label}: fires/s sustained", sustained, "fires/s", timer["achieved_rate"],
                 f"loadgen -> sink on the same schedule ({rate:.0f}/s)")
        for p in ("p50", "p99", "max"):
            b.figure(sc, f"{label}: lateness {p}", lat[p], "ms", timer["latency_ms"][p],
                     "loadgen -> sink, scheduled instant to arrival", better="lower", digits=2, note=lateness_note)
        b.figure(sc, f"{label}: feedrouter CPU per 1000 fires", per_1000, "ms", timer["cpu_ms_per_1000"],
                 "loadgen CPU per 1000 requests sent", better="lower", digits=1)
        b.chart["throughput"].append(("feedrouter alarms", rate, sustained))
        b.chart["latency"].append(("feedrouter alarms (lateness)", rate, lat))
        b.chart["latency"].append(("baseline: timer -> sink (lateness)", rate, timer["latency_ms"]))
        if keep:
            kept = {"sink": sink, "server": server, "store": store, "anchors": anchors, "period_s": period_s}
            sink = server = None
            return block, kept
        return block, None
    finally:
        # Not measured here (the restart scenario measures shutdown): a short grace, then SIGKILL.
        if server is not None:
            server.terminate(timeout=15)
        if sink is not None:
            sink.terminate()


def alarms(b, keep_for_restart=False):
    cfg = b.cfg
    out = {}
    b.scenarios["alarms"] = out
    out["fast"], _ = _alarm_block(b, f"{cfg.fast_alarms} alarms every 1 s", "f", cfg.fast_alarms, 1,
                                  cfg.fast_window_s)
    # Before the slow block, whose service may be kept running for the restart scenario.
    alarm_burst(b, out)
    out["slow"], kept = _alarm_block(b, f"{cfg.slow_alarms} alarms every {cfg.slow_period_s} s", "s",
                                     cfg.slow_alarms, cfg.slow_period_s, cfg.slow_window_s, keep=keep_for_restart)
    if kept:
        b.handover["restart"] = kept


# -- scenario 4: restart recovery ------------------------------------------------------------------------------------

def restart(b):
    cfg = b.cfg
    out = {}
    b.scenarios["restart"] = out
    state = b.handover.pop("restart", None)
    if state is None:
        sink = b.start_sink()
        b.sink_add_triggers(sink, "s", cfg.slow_alarms)
        store = b.store_path()
        server = b.start_feedrouter(sink.url, store)
        anchors, bodies, _ = alarm_population("s", cfg.slow_alarms, cfg.slow_period_s)
        create_registrations(b, server, "s", cfg.slow_alarms, bodies)
        state = {"sink": sink, "server": server, "store": store, "anchors": anchors, "period_s": cfg.slow_period_s}
    sink, server, store, anchors = state["sink"], state["server"], state["store"], state["anchors"]
    count = len(anchors)
    try:
        code, stop_s = server.terminate(timeout=120)
        out.update(registrations=count, shutdown_s=round(stop_s, 3), shutdown_exit=code)
        b.check("restart: SIGTERM stops feedrouter cleanly", code == 0, f"exit {code} after {stop_s:.2f} s")
        # Baseline 1: reading every stored row with SQLite itself (the I/O floor of loading the store).
        t = time.monotonic()
        db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
        rows = db.execute("SELECT * FROM registrations").fetchall()
        db.close()
        read_s = time.monotonic() - t
        out.update(store_rows=len(rows), store_read_s=round(read_s, 3),
                   store_bytes=sum(os.path.getsize(store + e) for e in ("", "-wal") if os.path.exists(store + e)))
        b.check("restart: the store holds every registration", len(rows) == count, f"{len(rows)} rows, {count} created")
        # Baseline 2: a start on an empty store (the process's own start-up floor).
        empty = b.start_feedrouter(sink.url, b.store_path())
        empty_ready = empty.ready_after
        empty_code, empty_stop_s = empty.terminate()
        out.update(empty_store_shutdown_s=round(empty_stop_s, 3), empty_store_shutdown_exit=empty_code)
        # The restart itself.
        b.sink_clear(sink)
        server = b.start_feedrouter(sink.url, store, ready_timeout=600)
        ready_wall = time.time()
        listening_s = server.listening_at - server.started_at
        client = Http(server.url, timeout=10)
        _, ready_body = client.json("GET", "/ready")
        client.close()
        first = wait_until(lambda: b.sink_count(sink) > 0, cfg.slow_period_s + 15, interval=0.01)
        first_fire_s = time.monotonic() - server.started_at if first else None
        rss = proc_status(server.pid)
        out.update(exec_to_listening_s=round(listening_s, 3), exec_to_ready_s=round(server.ready_after, 3),
                   exec_to_first_fire_s=None if first_fire_s is None else round(first_fire_s, 3),
                   ready_answer=ready_body, rss_after_ready_kib=rss, empty_store_ready_s=round(empty_ready, 3))
        b.check("restart: /ready counts every stored registration",
                isinstance(ready_body, dict) and ready_body.get("registrations") == count, f"/ready said {ready_body}")
        b.log(f"  restart with {count} registrations: listening after {listening_s:.2f} s, ready after "
              f"{server.ready_after:.2f} s (empty store {empty_ready:.2f} s, SQLite reads the rows in {read_s:.2f} s), "
              f"first fire after {first_fire_s if first_fire_s is None else round(first_fire_s, 2)} s")
        # Coverage: every occurrence due after /ready fires (with a 60 s window: every registration once).
        t0 = int(ready_wall * 1000) + 1000
        t1 = t0 + cfg.restart_window_s * 1000
        time.sleep(max(0.0, t1 / 1000 - time.time()) + cfg.grace_s)
        result = analyse_alarms(b.sink_fires(sink), anchors, state["period_s"] * 1000, t0, t1)
        out.update(coverage_window_s=cfg.restart_window_s, coverage=result)
        b.check("restart: every occurrence due after /ready fired once",
                result["missed"] == 0 and result["duplicates"] == 0,
                f"{result['expected']} due in {cfg.restart_window_s} s, {result['matched']} fired, "
                f"{result['missed']} missed, {result['duplicates']} duplicates")
        sc = "4 restart"
        b.figure(sc, f"exec -> /ready with {count} registrations", server.ready_after, "s", empty_ready,
                 "exec -> /ready on an empty store", better="lower", digits=3)
        b.figure(sc, f"exec -> /ready minus empty-store start, per 1000 registrations",
                 1e6 * max(0.0, server.ready_after - empty_ready) / max(1, count), "ms",
                 1e6 * read_s / max(1, count), "SQLite reading the same rows (SELECT *), per 1000",
                 better="lower", digits=2)
        b.figure(sc, "exec -> first fire", first_fire_s, "s", empty_ready, "exec -> /ready on an empty store",
                 better="lower", digits=3)
        b.figure(sc, f"occurrences fired in the first {cfg.restart_window_s} s after /ready",
                 100.0 * result["matched"] / max(1, result["expected"]), "%", 100.0, "every occurrence due")
        b.figure(sc, f"SIGTERM -> exit with {count} registrations", stop_s, "s", empty_stop_s,
                 "SIGTERM -> exit with an empty store", better="lower", digits=3)
        server.terminate(timeout=15)  # not measured: the first shutdown was
    finally:
        sink.terminate()


# -- scenario 5: changes feed ----------------------------------------------------------------------------------------

def _couch(url, method, path, body=None, timeout=120):
    client = Http(url, timeout=timeout)
    try:
        return client.json(method, path, body)
    finally:
        client.close()


def _create_db(couch, db):
    status, body = _couch(couch.url, "PUT", f"/{db}")
    if status != 201:
        raise BenchError(f"pouchdb-server: PUT /{db} answered {status}: {body}")


def _update_seq(couch, db):
    """Where the database ends now: a raw reader that starts there sees exactly the writes that follow."""
    status, body = _couch(couch.url, "GET", f"/{db}")
    if status != 200 or not isinstance(body, dict) or "update_seq" not in body:
        raise BenchError(f"pouchdb-server: GET /{db} answered {status}: {body}")
    return body["update_seq"]


def _doc_ids(count):
    return [f"d{i:06d}" for i in range(1, count + 1)]


def _bulk_write(couch, db, ids, batch):
    """Writes one small doc per id with _bulk_docs, `batch` at a time over one keep-alive connection, each batch sent
    as soon as the previous one was answered. Returns the wall-clock start and end and the docs not written."""
    client = Http(couch.url, timeout=300)
    failed = []
    started = time.time()
    try:
        for i in range(0, len(ids), batch):
            docs = [{"_id": doc_id, "n": i + k} for k, doc_id in enumerate(ids[i:i + batch])]
            status, body = client.json("POST", f"/{db}/_bulk_docs", {"docs": docs})
            if status != 201 or not isinstance(body, list):
                raise BenchError(f"pouchdb-server: POST /{db}/_bulk_docs answered {status}")
            failed += [r.get("id") for r in body if not r.get("ok")]
    finally:
        client.close()
    finished = time.time()
    return {"started": started, "finished": finished, "docs": len(ids), "failed": len(failed),
            "write_s": round(finished - started, 3), "docs_per_s": len(ids) / max(1e-6, finished - started)}


class _FeedConnection:
    """One continuous _changes request and what has arrived on it; chunked or not, as the server answers."""

    def __init__(self, index, sock):
        self.index = index
        self.sock = sock
        self.raw = bytearray()    # received, not yet de-chunked
        self.body = bytearray()   # de-chunked, not yet split into lines
        self.status = None
        self.chunked = False
        self.ended = False


class ChangesReader:
    """`count` raw readers of a database's continuous _changes feed (HTTP/1.1, as feedrouter reads it), all served by
    one thread with a selector: the server's own emission, without feedrouter. Each row is kept with the wall-clock
    instant its bytes arrived; parsing waits until the end."""

    def __init__(self, couch, db, since, count=1, heartbeat_ms=5000):
        parts = urllib.parse.urlsplit(couch.url)
        query = urllib.parse.urlencode({"feed": "continuous", "since": since, "heartbeat": heartbeat_ms})
        request = (f"GET /{db}/_changes?{query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                   "Accept: application/json\r\n\r\n").encode()
        self.rows = [[] for _ in range(count)]  # per reader: (arrival wall-clock s, line bytes)
        self.errors = []
        self._selector = selectors.DefaultSelector()
        self._conns = []
        for i in range(count):
            sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
            sock.sendall(request)
            sock.setblocking(False)
            conn = _FeedConnection(i, sock)
            self._conns.append(conn)
            self._selector.register(sock, selectors.EVENT_READ, conn)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            for key, _ in self._selector.select(0.1):
                conn = key.data
                try:
                    data = conn.sock.recv(262144)
                except BlockingIOError:
                    continue
                except OSError as e:
                    data = b""
                    self.errors.append(f"reader {conn.index}: {e}")
                now = time.time()
                if not data:
                    conn.ended = True
                    self._selector.unregister(conn.sock)
                    continue
                self._on_data(conn, data, now)

    def _on_data(self, conn, data, now):
        conn.raw += data
        if conn.status is None:
            end = conn.raw.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(conn.raw[:end]).decode("latin-1")
            del conn.raw[:end + 4]
            conn.status = int(head.split(" ", 2)[1])
            conn.chunked = "\r\ntransfer-encoding: chunked" in head.lower()
        if conn.chunked:
            pos = 0
            while True:
                line_end = conn.raw.find(b"\r\n", pos)
                if line_end < 0:
                    break
                size = int(bytes(conn.raw[pos:line_end]).split(b";")[0], 16)
                if size == 0:
                    conn.ended = True
                    break
                if len(conn.raw) < line_end + 2 + size + 2:
                    break
                conn.body += conn.raw[line_end + 2:line_end + 2 + size]
                pos = line_end + 2 + size + 2
            del conn.raw[:pos]
        else:
            conn.body += conn.raw
            conn.raw.clear()
        lines = conn.body.split(b"\n")
        conn.body = bytearray(lines.pop())
        # Empty lines are heartbeats.
        self.rows[conn.index].extend((now, bytes(line)) for line in lines if line.strip())

    def total(self):
        return sum(len(r) for r in self.rows)

    def wait_connected(self, timeout=30.0):
        """Waits for every reader's answer head; the server registers the listener before it answers."""
        if not wait_until(lambda: all(c.status is not None for c in self._conns), timeout):
            raise BenchError("a raw _changes reader got no answer")
        bad = [c.status for c in self._conns if c.status != 200]
        if bad:
            raise BenchError(f"a raw _changes reader was answered {bad[0]}")

    def wait_rows(self, expected, timeout, stall=15.0):
        """Waits until `expected` rows arrived in all, at most `timeout` s and at most `stall` s without a new one."""
        deadline = time.monotonic() + timeout
        last, last_change = self.total(), time.monotonic()
        while time.monotonic() < deadline:
            count = self.total()
            if count >= expected:
                return count
            if count != last:
                last, last_change = count, time.monotonic()
            elif time.monotonic() - last_change > stall:
                break
            time.sleep(0.02)
        return self.total()

    def close(self):
        self._stop.set()
        self._thread.join(5)
        for conn in self._conns:
            try:
                conn.sock.close()
            except OSError:
                pass
        self._selector.close()

    def parsed(self, index=0):
        """Reader `index`'s rows as (arrival ms, row object), in arrival order."""
        out = []
        for arrival, line in self.rows[index]:
            try:
                out.append((arrival * 1000.0, json.loads(line)))
            except ValueError:
                out.append((arrival * 1000.0, None))
        return out


def _seq_number(seq):
    """The number in front of a sequence: pouchdb-server's are integers, CouchDB's "23-g1AAAA..."."""
    try:
        return int(str(seq).split("-", 1)[0])
    except ValueError:
        return None


def analyse_changes(rows, ids):
    """One consumer's change rows (arrival ms, row), in arrival order, against the doc ids written: each id once, and
    the sequence increasing from row to row. A fire of a batching registration ({"events": [...]}) counts its rows."""
    wanted = set(ids)
    seen = {}
    duplicates = foreign = out_of_order = 0
    last_seq = None
    for arrival, body in rows:
        for row in (body["events"] if isinstance(body, dict) and isinstance(body.get("events"), list) else [body]):
            doc_id = row.get("id") if isinstance(row, dict) else None
            if doc_id not in wanted:
                foreign += 1
                continue
            if doc_id in seen:
                duplicates += 1
            else:
                seen[doc_id] = arrival
            seq = _seq_number(row.get("seq"))
            if seq is None or (last_seq is not None and seq <= last_seq):
                out_of_order += 1
            if seq is not None:
                last_seq = seq
    return {"expected": len(wanted), "received": len(seen), "missing": len(wanted) - len(seen),
            "duplicates": duplicates, "foreign": foreign, "out_of_order": out_of_order,
            "last_ms": max(seen.values()) if seen else None, "arrivals": seen}


def _sink_rows(fires, trigger):
    """The fires of `trigger` as (arrival ms, body), in the order the sink recorded them. receivedAt is truncated to
    the millisecond, so 0.5 ms is added (unbiased)."""
    return [(iso_ms(f["receivedAt"]) + 0.5, f["body"]) for f in fires if f["trigger"] == trigger]


def _summary(result):
    return {k: v for k, v in result.items() if k != "arrivals"}


def _wait_checkpoints(b, server, names, timeout=60.0):
    """Waits until READ shows a checkpoint for every registration: its since=now position is stored, so every change
    from here on fires (the feed connects right after). Returns the seconds it took."""
    pending = set(names)
    start = time.monotonic()
    while pending and time.monotonic() - start < timeout:
        for name in list(pending):
            status, body = b.api(server, "GET", f"/v1/triggers/{NAMESPACE}/{name}")
            if status == 200 and isinstance(body, dict) and body.get("status", {}).get("checkpoint"):
                pending.discard(name)
        if pending:
            time.sleep(0.05)
    if pending:
        raise BenchError(f"{len(pending)} changes registration(s) showed no checkpoint within {timeout:.0f} s")
    return time.monotonic() - start


def _shutdown(b, server):
    """SIGTERM; what it took is kept (with open changes feeds it is not instant)."""
    code, seconds = server.terminate()
    b.log(f"  feedrouter stopped: exit {code} after {seconds:.2f} s")
    return {"exit": code, "seconds": round(seconds, 3)}


def _changes_params(b, couch, db):
    return {"feed": "changes", "url": couch.url, "dbname": db, "since": "now",
            "heartbeatSeconds": b.cfg.changes_heartbeat_s}


def _raw_burst(b, couch, db, ids, readers):
    """The baseline of a burst: `readers` raw readers follow a fresh database from its end while `ids` are written;
    rows/s = rows / (last row's arrival - first write's start)."""
    cfg = b.cfg
    _create_db(couch, db)
    reader = ChangesReader(couch, db, _update_seq(couch, db), readers, cfg.changes_heartbeat_s * 1000)
    try:
        reader.wait_connected()
        meter = CpuMeter({"couchdb": couch.pid, "harness": os.getpid()})
        writes = _bulk_write(couch, db, ids, cfg.changes_bulk_batch)
        expected = readers * len(ids)
        reader.wait_rows(expected, timeout=600)
        cpu = meter.stop()
    finally:
        reader.close()
    results = [analyse_changes(reader.parsed(i), ids) for i in range(readers)]
    return writes, results, cpu, reader.errors


# Width of a bucket of a burst's arrival timeline in the JSON (where a burst ran slow, and whether the writes were
# done long before the last row).
TIMELINE_BUCKET_S = 0.5


def _timeline(results, started):
    """Rows arriving per TIMELINE_BUCKET_S since the first write's start, over all consumers."""
    buckets = {}
    for r in results:
        for arrival in r["arrivals"].values():
            k = max(0, int((arrival / 1000.0 - started) / TIMELINE_BUCKET_S))
            buckets[k] = buckets.get(k, 0) + 1
    return [buckets.get(k, 0) for k in range(max(buckets) + 1)] if buckets else []


def _burst_totals(results, writes):
    """Totals over the consumers of one burst, and the rate from the first write's start to the last arrival."""
    received = sum(r["received"] for r in results)
    last = max((r["last_ms"] for r in results if r["last_ms"] is not None), default=None)
    elapsed = None if last is None else last / 1000.0 - writes["started"]
    return {"consumers": len(results), "expected": sum(r["expected"] for r in results), "received": received,
            "missing": sum(r["missing"] for r in results), "duplicates": sum(r["duplicates"] for r in results),
            "foreign": sum(r["foreign"] for r in results), "out_of_order": sum(r["out_of_order"] for r in results),
            "elapsed_s": None if elapsed is None else round(elapsed, 3),
            "rows_per_s": received / elapsed if elapsed and elapsed > 0 else None, "writes": writes,
            "timeline_bucket_s": TIMELINE_BUCKET_S, "timeline": _timeline(results, writes["started"])}


def _check_burst(b, label, totals, per_consumer):
    writes = totals["writes"]
    b.check(f"{label}: every doc written", writes["failed"] == 0,
            f"{writes['docs']} docs, {writes['failed']} not written")
    b.check(f"{label}: every {per_consumer} got every doc exactly once",
            totals["missing"] == 0 and totals["duplicates"] == 0 and totals["foreign"] == 0,
            f"{totals['expected']} expected, {totals['received']} received, {totals['missing']} missing, "
            f"{totals['duplicates']} duplicates, {totals['foreign']} other rows")
    b.check(f"{label}: rows arrive in seq order", totals["out_of_order"] == 0,
            f"{totals['out_of_order']} rows not after the one before")


def _warm_up(b, couch):
    """A burst nobody measures: a freshly started pouchdb-server runs its first writes and feeds through Node's JIT,
    and the baseline, which always comes first, would pay for that alone."""
    ids = _doc_ids(b.cfg.changes_warmup_docs)
    writes, results, _, _ = _raw_burst(b, couch, "warmup", ids, 1)
    totals = _burst_totals(results, writes)
    return {k: totals[k] for k in ("expected", "received", "elapsed_s", "rows_per_s")}


def _changes_rate(b, sink, couch, available):
    """Figure 1: one registration, a _bulk_docs burst of N docs; changes fired per second."""
    cfg = b.cfg
    ids = _doc_ids(cfg.changes_docs)
    out = {}
    writes, results, cpu, errors = _raw_burst(b, couch, "raw-rate", ids, 1)
    base = _burst_totals(results, writes)
    base.update(cpu=cpu, reader_errors=errors)
    out["baseline"] = base
    _check_burst(b, "changes baseline, 1 raw reader", base, "reader")
    b.log(f"  baseline (raw reader): {base['rows_per_s'] or 0:.0f} rows/s over {len(ids)} docs "
          f"(written in {writes['write_s']} s, {writes['docs_per_s']:.0f} docs/s)")
    label = "raw continuous reader, same burst into a fresh database"
    name = f"changes -> fires/s, 1 registration ({len(ids)} docs, _bulk_docs of {cfg.changes_bulk_batch})"
    if not available:
        b.figure("5 changes", name, None, "changes/s", base["rows_per_s"], label, skipped=FEED_MISSING)
        return out
    server = b.start_feedrouter(sink.url, b.store_path())
    try:
        _create_db(couch, "rate")
        b.sink_clear(sink)
        status, body = b.api(server, "PUT", f"/v1/triggers/{NAMESPACE}/r0", _changes_params(b, couch, "rate"))
        b.check("changes: CREATE answered 201", status == 201, f"{status} {body if status != 201 else ''}".strip())
        out["checkpoint_after_s"] = round(_wait_checkpoints(b, server, ["r0"]), 3)
        metrics0 = b.metrics(server)
        meter = CpuMeter({"feedrouter": server.pid, "sink": sink.pid, "couchdb": couch.pid, "harness": os.getpid()})
        writes = _bulk_write(couch, "rate", ids, cfg.changes_bulk_batch)
        b.sink_settle(sink, len(ids), timeout=600)
        cpu = meter.stop()
        fires = b.sink_fires(sink)
        metrics1 = b.metrics(server)
        fr = _burst_totals([analyse_changes(_sink_rows(fires, "r0"), ids)], writes)
        fr.update(cpu=cpu, failed_fires=metrics1.get("failed", 0) - metrics0.get("failed", 0),
                  rss_kib=proc_status(server.pid))
        out["feedrouter"] = fr
        _check_burst(b, "changes via feedrouter, 1 registration", fr, "registration")
        b.log(f"  feedrouter, 1 registration: {fr['rows_per_s'] or 0:.0f} changes/s fired over {len(ids)} docs "
              f"(written in {writes['write_s']} s); feedrouter {cpu['feedrouter_cores']} cores, "
              f"pouchdb-server {cpu['couchdb_cores']} cores")
        b.figure("5 changes", name, fr["rows_per_s"], "changes/s", base["rows_per_s"], label)
    finally:
        out["shutdown"] = _shutdown(b, server)
    return out


def _changes_fanout(b, sink, couch, available):
    """Figure 2: R registrations on one database, N/10 docs; fires per second, and feedrouter's memory."""
    cfg = b.cfg
    regs = cfg.changes_fanout_registrations
    ids = _doc_ids(cfg.changes_fanout_docs)
    out = {"registrations": regs, "docs": len(ids)}
    writes, results, cpu, errors = _raw_burst(b, couch, "raw-fan", ids, regs)
    base = _burst_totals(results, writes)
    base.update(cpu=cpu, reader_errors=errors)
    out["baseline"] = base
    _check_burst(b, f"changes baseline, {regs} raw readers", base, "reader")
    b.log(f"  baseline ({regs} raw readers): {base['rows_per_s'] or 0:.0f} rows/s over {len(ids)} docs")
    label = f"{regs} raw continuous readers, same burst into a fresh database"
    name = f"fan-out fires/s, {regs} registrations on one database ({len(ids)} docs)"
    mem_name = f"resident memory with {regs} open changes feeds"
    mem_label = "the same feedrouter after /ready, before the CREATEs"
    if not available:
        b.figure("5 changes", name, None, "fires/s", base["rows_per_s"], label, skipped=FEED_MISSING)
        b.figure("5 changes", mem_name, None, "MiB", None, mem_label, skipped=FEED_MISSING)
        return out
    server = b.start_feedrouter(sink.url, b.store_path())
    try:
        _create_db(couch, "fan")
        b.sink_clear(sink)
        rss0 = proc_status(server.pid)
        create_registrations(b, server, "f", regs, _changes_params(b, couch, "fan"))
        out["checkpoints_after_s"] = round(_wait_checkpoints(b, server, [f"f{i}" for i in range(regs)]), 3)
        time.sleep(1)  # as for the alarms: memory 1 s after the last CREATE
        rss1 = proc_status(server.pid)
        metrics0 = b.metrics(server)
        meter = CpuMeter({"feedrouter": server.pid, "sink": sink.pid, "couchdb": couch.pid, "harness": os.getpid()})
        writes = _bulk_write(couch, "fan", ids, cfg.changes_bulk_batch)
        b.sink_settle(sink, regs * len(ids), timeout=900)
        cpu = meter.stop()
        rss2 = proc_status(server.pid)
        fires = b.sink_fires(sink)
        metrics1 = b.metrics(server)
        per = [analyse_changes(_sink_rows(fires, f"f{i}"), ids) for i in range(regs)]
        fr = _burst_totals(per, writes)
        incomplete = sorted((r["received"], f"f{i}") for i, r in enumerate(per) if r["received"] < len(ids))
        rss_per = (rss1.get("VmRSS", 0) - rss0.get("VmRSS", 0)) / regs
        fr.update(cpu=cpu, failed_fires=metrics1.get("failed", 0) - metrics0.get("failed", 0),
                  rss_after_ready_kib=rss0, rss_with_open_feeds_kib=rss1, rss_after_burst_kib=rss2,
                  rss_per_open_feed_kib=round(rss_per, 1), incomplete_registrations=incomplete[:10])
        out["feedrouter"] = fr
        _check_burst(b, f"changes via feedrouter, {regs} registrations", fr, "registration")
        b.log(f"  feedrouter, {regs} registrations: {fr['rows_per_s'] or 0:.0f} fires/s over {len(ids)} docs; "
              f"RSS {rss0.get('VmRSS', 0) / 1024:.1f} MiB after /ready, {rss1.get('VmRSS', 0) / 1024:.1f} MiB with "
              f"{regs} open feeds ({rss_per:.0f} KiB each), {rss2.get('VmRSS', 0) / 1024:.1f} MiB after the burst; "
              f"feedrouter {cpu['feedrouter_cores']} cores, pouchdb-server {cpu['couchdb_cores']} cores")
        b.figure("5 changes", name, fr["rows_per_s"], "fires/s", base["rows_per_s"], label)
        b.figure("5 changes", mem_name, rss1.get("VmRSS", 0) / 1024, "MiB", rss0.get("VmRSS", 0) / 1024, mem_label,
                 better="lower", digits=2)
    finally:
        out["shutdown"] = _shutdown(b, server)
    return out


def _paced_puts(b, couch, db):
    """Single-doc PUTs /{db}/d{seq} at a constant rate (open loop); returns {doc id: answer instant in ms} for the
    docs answered 201, and the loadgen summary."""
    cfg = b.cfg
    records = os.path.join(b.workdir, b.next_name(f"puts-{db}") + ".csv")
    res = b.loadgen(couch.url, method="PUT", path=f"/{db}/d{{seq}}", body='{"n":{seq},"sentUs":{sent_us}}',
                    headers=["Content-Type: application/json"], rate=cfg.changes_latency_rate,
                    duration=cfg.changes_latency_seconds, connections=cfg.changes_latency_connections, threads=1,
                    records=records)
    answered = {f"d{r['seq']}": r["done_us"] / 1000.0 for r in read_records(records) if r["status"] == 201}
    return answered, res


def _latencies(result, answered):
    values = [arrival - answered[doc_id] for doc_id, arrival in result["arrivals"].items() if doc_id in answered]
    return {k: (None if v is None else round(v, 2)) if k != "count" else v for k, v in percentiles(values).items()}


def _changes_latency(b, sink, couch, available):
    """Figure 3: single-doc PUTs at a moderate constant rate; write answered -> fire arrived at the sink."""
    cfg = b.cfg
    rate, seconds = cfg.changes_latency_rate, cfg.changes_latency_seconds
    out = {"rate": rate, "seconds": seconds}
    _create_db(couch, "raw-lat")
    reader = ChangesReader(couch, "raw-lat", _update_seq(couch, "raw-lat"), 1, cfg.changes_heartbeat_s * 1000)
    try:
        reader.wait_connected()
        meter = CpuMeter({"couchdb": couch.pid, "harness": os.getpid()})
        answered, res = _paced_puts(b, couch, "raw-lat")
        cpu = meter.stop({"loadgen": res["cpu_s"]})
        reader.wait_rows(len(answered), timeout=60)
    finally:
        reader.close()
    result = analyse_changes(reader.parsed(), list(answered))
    lat = _latencies(result, answered)
    base = dict(_summary(result), latency_ms=lat, statuses=res["status"], send_lag_us=res["send_lag_us"],
                put_latency_us=res["latency_from_sent_us"], cpu=cpu)
    out["baseline"] = base
    b.check(f"changes latency baseline at {rate} PUTs/s: every answered PUT seen once, in seq order",
            result["missing"] == 0 and result["duplicates"] == 0 and result["out_of_order"] == 0
            and res["status"].get("201", 0) == res["requests"],
            f"{res['requests']} PUTs, statuses {res['status']}, {result['received']} rows, "
            f"{result['missing']} missing, {result['duplicates']} duplicates, {result['out_of_order']} out of order")
    b.log(f"  baseline (raw reader) at {rate} PUTs/s: write answered -> row p50 {lat['p50']} ms, "
          f"p99 {lat['p99']} ms; PUT answered p50 {res['latency_from_sent_us']['p50'] / 1000:.1f} ms, "
          f"pouchdb-server {cpu['couchdb_cores']} cores")
    label = "raw continuous reader: write answered -> row arrived"
    if not available:
        for p in ("p50", "p90", "p99", "max"):
            b.figure("5 changes", f"write -> fire {p} at {rate} PUTs/s, 1 registration", None, "ms", lat[p], label,
                     better="lower", skipped=FEED_MISSING, digits=2)
        return out
    server = b.start_feedrouter(sink.url, b.store_path())
    try:
        _create_db(couch, "lat")
        b.sink_clear(sink)
        status, body = b.api(server, "PUT", f"/v1/triggers/{NAMESPACE}/l0", _changes_params(b, couch, "lat"))
        b.check("changes latency: CREATE answered 201", status == 201,
                f"{status} {body if status != 201 else ''}".strip())
        _wait_checkpoints(b, server, ["l0"])
        meter = CpuMeter({"feedrouter": server.pid, "sink": sink.pid, "couchdb": couch.pid})
        answered, res = _paced_puts(b, couch, "lat")
        cpu = meter.stop({"loadgen": res["cpu_s"]})
        b.sink_settle(sink, len(answered), timeout=60, quiet=0.5)
        result = analyse_changes(_sink_rows(b.sink_fires(sink), "l0"), list(answered))
        flat = _latencies(result, answered)
        fr = dict(_summary(result), latency_ms=flat, statuses=res["status"], send_lag_us=res["send_lag_us"],
                  put_latency_us=res["latency_from_sent_us"], cpu=cpu)
        out["feedrouter"] = fr
        b.check(f"changes latency via feedrouter at {rate} PUTs/s: every answered PUT fired once, in seq order",
                result["missing"] == 0 and result["duplicates"] == 0 and result["out_of_order"] == 0
                and result["foreign"] == 0 and res["status"].get("201", 0) == res["requests"],
                f"{res['requests']} PUTs, statuses {res['status']}, {result['received']} fired, "
                f"{result['missing']} missing, {result['duplicates']} duplicates, "
                f"{result['out_of_order']} out of order")
        b.log(f"  feedrouter at {rate} PUTs/s: write answered -> fire p50 {flat['p50']} ms, p99 {flat['p99']} ms; "
              f"PUT answered p50 {res['latency_from_sent_us']['p50'] / 1000:.1f} ms, pouchdb-server "
              f"{cpu['couchdb_cores']} cores, feedrouter {cpu['feedrouter_cores']} cores")
        for p in ("p50", "p90", "p99", "max"):
            b.figure("5 changes", f"write -> fire {p} at {rate} PUTs/s, 1 registration", flat[p], "ms", lat[p],
                     label, better="lower", digits=2)
    finally:
        out["shutdown"] = _shutdown(b, server)
    return out


def changes(b):
    cfg = b.cfg
    out = {}
    b.scenarios["changes"] = out
    sink = b.start_sink()
    couch = None
    try:
        couch = b.start_couchdb()
        _, welcome = _couch(couch.url, "GET", "/")
        welcome = welcome if isinstance(welcome, dict) else {}
        out["couchdb"] = {"server": "pouchdb-server", "version": welcome.get("version"),
                          "adapters": welcome.get("pouchdb-adapters"), "started_in_s": round(couch.ready_after, 2)}
        b.log(f"  pouchdb-server {out['couchdb']['version']} at {couch.url} (ready after {couch.ready_after:.1f} s)")
        b.sink_add_triggers(sink, "r", 1)
        b.sink_add_triggers(sink, "f", cfg.changes_fanout_registrations)
        b.sink_add_triggers(sink, "l", 1)
        server = b.start_feedrouter(sink.url, b.store_path())
        try:
            _create_db(couch, "probe")
            available, why = b.probe_feed(server, "changes", {"url": couch.url, "dbname": "probe"})
        finally:
            server.terminate()
        out["feed_available"] = available
        out["warm_up"] = _warm_up(b, couch)
        if not available:
            out.update(skipped=FEED_MISSING, reason=why)
            b.log(f"  changes: {FEED_MISSING} ({why}); measuring the baselines only")
        out["rate"] = _changes_rate(b, sink, couch, available)
        out["fanout"] = _changes_fanout(b, sink, couch, available)
        out["latency"] = _changes_latency(b, sink, couch, available)
    finally:
        if couch is not None:
            couch.terminate(timeout=15)
        sink.terminate()


# -- scenario 6: the kafka feed (a module of its own) -----------------------------------------------------------------

from kafka_scenario import kafka  # noqa: E402,F401
from broker_scenarios import mqtt, redis  # noqa: E402,F401
from cluster_scenario import cluster  # noqa: E402,F401


# -- scenario 7: lifecycle requests while the controller is saturated --------------------------------------------------

def _lifecycle_round(b, server, prefix, count):
    """CREATEs, READs and DELETEs registrations {prefix}0..{count-1}, one request at a time on one keep-alive
    connection, as a tenant's CLI does; returns the latency (ms) percentiles and statuses of each operation."""
    client = Http(server.url, timeout=120)
    headers = {"Authorization": b.auth}
    body = json.dumps({"feed": "alarm", "minutes": 60})
    requests = (("create", "PUT", body, 201), ("read", "GET", None, 200), ("delete", "DELETE", None, 204))
    out = {}
    try:
        for op, method, payload, expected in requests:
            latencies, statuses = [], {}
            for i in range(count):
                started = time.perf_counter()
                status, _ = client.request(method, f"/v1/triggers/{NAMESPACE}/{prefix}{i}", payload, headers)
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[str(status)] = statuses.get(str(status), 0) + 1
            out[op] = {"latency_ms": percentiles(latencies), "status": statuses, "expected": expected,
                       "ok": statuses.get(str(expected), 0)}
    finally:
        client.close()
    return out


def lifecycle(b):
    """The lifecycle API served ahead of firing work: CREATE (with the authKey check at the controller), READ and
    DELETE latency while per-second alarms keep a slow controller saturated, against the same requests on the same
    service before the alarms exist."""
    cfg = b.cfg
    out = {"alarms": cfg.lifecycle_alarms, "fire_delay_ms": cfg.lifecycle_fire_delay_ms,
           "requests_per_operation": cfg.lifecycle_requests, "target_p99_ms": cfg.lifecycle_target_p99_ms}
    b.scenarios["lifecycle"] = out
    sink = b.start_sink(fire_delay_ms=cfg.lifecycle_fire_delay_ms)
    server = None
    try:
        # Every trigger the service creates must exist at the sink: CREATE checks the key there.
        b.sink_add_triggers(sink, "f", cfg.lifecycle_alarms)
        b.sink_add_triggers(sink, "idle", cfg.lifecycle_requests)
        b.sink_add_triggers(sink, "busy", cfg.lifecycle_requests)
        b.sink_add_triggers(sink, "warm", cfg.lifecycle_warmup_requests)
        server = b.start_feedrouter(sink.url, b.store_path(), verify_auth=True)
        _lifecycle_round(b, server, "warm", cfg.lifecycle_warmup_requests)
        idle = _lifecycle_round(b, server, "idle", cfg.lifecycle_requests)
        out["idle"] = idle
        _, bodies, base = alarm_population("f", cfg.lifecycle_alarms, 1)
        create_registrations(b, server, "f", cfg.lifecycle_alarms, bodies)
        # The rate the sink takes fires at, over the seconds before the requests: fires arrive in waves (all
        # connections answered at once), so a window much shorter than that would not tell the rate.
        time.sleep(max(0.0, base / 1000 - time.time()) + 1)
        fires0, t0 = b.sink_count(sink), time.monotonic()
        time.sleep(cfg.lifecycle_saturate_s)
        fires1, t1 = b.sink_count(sink), time.monotonic()
        fired_per_s = (fires1 - fires0) / max(1e-3, t1 - t0)
        load0 = [round(x, 2) for x in os.getloadavg()]
        meter = CpuMeter({"feedrouter": server.pid, "sink": sink.pid})
        busy = _lifecycle_round(b, server, "busy", cfg.lifecycle_requests)
        cpu = meter.stop()
        # feedrouter's connections per origin: the most fires the sink can have in hand at once.
        capacity = 64 * 1000 / cfg.lifecycle_fire_delay_ms
        out.update(busy=busy, fires_per_s_at_sink=fired_per_s, sink_capacity_fires_per_s=capacity,
                   scheduled_fires_per_s=cfg.lifecycle_alarms, cpu=cpu, load_average=load0)
        saturated = fired_per_s < 0.9 * cfg.lifecycle_alarms
        b.check("lifecycle: the controller was saturated when the requests began", saturated,
                f"{fired_per_s:.0f} fires/s reached the sink of {cfg.lifecycle_alarms}/s scheduled")
        for phase, result in (("idle", idle), ("saturated", busy)):
            bad = {op: r["status"] for op, r in result.items() if r["ok"] != cfg.lifecycle_requests}
            b.check(f"lifecycle ({phase}): every request answered as expected", not bad, f"statuses {bad or 'ok'}")
        met = all(busy[op]["latency_ms"]["p99"] < cfg.lifecycle_target_p99_ms for op in busy)
        out["target_met"] = met
        note = (f"load average {load0[0]} on {os.cpu_count()} cores: other work shares this machine"
                if load0[0] > (os.cpu_count() or 1) else None)
        sc = "7 lifecycle"
        for op in ("create", "read", "delete"):
            for p in ("p50", "p99"):
                b.figure(sc, f"{op} {p} while {cfg.lifecycle_alarms} alarms/s saturate the controller "
                             f"({fired_per_s:.0f} fires/s taken)",
                         busy[op]["latency_ms"][p], "ms", idle[op]["latency_ms"][p],
                         "the same requests on the same service before the alarms existed", better="lower",
                         digits=2, note=note)
        b.log(f"  lifecycle while saturated ({fired_per_s:.0f} fires/s taken of {cfg.lifecycle_alarms}/s): "
              + ", ".join(f"{op} p50 {busy[op]['latency_ms']['p50']:.1f} ms p99 {busy[op]['latency_ms']['p99']:.1f} ms"
                          for op in busy)
              + f"; idle: " + ", ".join(f"{op} p99 {idle[op]['latency_ms']['p99']:.1f} ms" for op in idle)
              + f"; target p99 < {cfg.lifecycle_target_p99_ms} ms {'met' if met else 'NOT met'}; load average {load0}")
    finally:
        if server is not None:
            server.terminate(timeout=15)
        sink.terminate()
