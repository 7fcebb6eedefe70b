"""Scenario 3, part 3: an alarm burst. Many alarms share one six-field cron, so every one of them falls due at the
same instant; the burst is over when the last of them reached the sink. Its baseline, in the same run: the time the
sink needs to take as many requests from the load generator, on as many connections as feedrouter opens to one
controller."""

import datetime
import json
import math
import time

from common import CpuMeter, iso_ms, percentiles
from context import NAMESPACE

# feedrouter's connections to one controller origin (net/http_client.hpp, max_connections_per_origin): the baseline
# gets as many, so both sides may have the same number of requests in flight.
CONNECTIONS_PER_ORIGIN = 64
# Seconds the burst instant lies ahead of the start of creation: enough for the CREATEs at a pessimistic 500/s on a
# busy machine, plus a margin. An alarm created after its instant would wait a year: the check below reports it.
CREATE_LEAD_S = 5.0
CREATE_RATE_PESSIMISTIC = 500.0
# After the last expected fire arrived, the sink is watched this long for a duplicate.
DUPLICATE_WATCH_S = 2.0


def burst_cron(instant_s):
    """A six-field cron (seconds first) that matches the UTC instant `instant_s` once a year."""
    t = datetime.datetime.fromtimestamp(instant_s, datetime.timezone.utc)
    return f"{t.second} {t.minute} {t.hour} {t.day} {t.month} *"


def _sink_baseline(b, sink, count):
    """The sink takes `count` fire requests from the load generator as fast as it can: the time that takes."""
    res = b.loadgen(sink.url, path=f"/api/v1/namespaces/{NAMESPACE}/triggers/base{{seq}}",
                    body=json.dumps({"burst": True}), headers=[f"Authorization: {b.auth}"], requests=count,
                    connections=CONNECTIONS_PER_ORIGIN, threads=2)
    return {"requests": count, "ok": res["ok"], "seconds": res["active_s"], "cpu_s": res["cpu_s"]}


def alarm_burst(b, out):
    """Creates the burst's alarms, waits for their instant, and records how late the burst's fires arrived."""
    from scenarios import create_registrations  # scenarios imports this module: import at call time

    count = 1000 if b.cfg.quick else 10000
    sc = "3 alarms"
    label = f"{count} alarms due at the same instant"
    sink = b.start_sink()
    server = None
    try:
        b.sink_add_triggers(sink, "base", count)
        baseline = _sink_baseline(b, sink, count)
        b.sink_clear(sink)
        b.sink_add_triggers(sink, "burst", count)
        server = b.start_feedrouter(sink.url, b.store_path())
        instant = math.ceil(time.time() + CREATE_LEAD_S + count / CREATE_RATE_PESSIMISTIC)
        created, _ = create_registrations(b, server, "burst", count,
                                          {"feed": "alarm", "cron": burst_cron(instant), "timezone": "UTC"})
        created_in_time = time.time() < instant
        b.check(f"{label}: every alarm was created before the instant", created_in_time,
                f"creation ended {time.time() - instant:+.1f} s from the instant")
        time.sleep(max(0.0, instant - time.time() - 0.5))
        meter = CpuMeter({"feedrouter": server.pid})
        settled, _ = b.sink_settle(sink, count, timeout=120, quiet=DUPLICATE_WATCH_S)
        cpu = meter.stop()
        fires = b.sink_fires(sink)
        lateness = []
        seen, duplicates = set(), 0
        for f in fires:
            if f["trigger"] in seen:
                duplicates += 1
                continue
            seen.add(f["trigger"])
            lateness.append(iso_ms(f["receivedAt"]) + 0.5 - instant * 1000.0)
        lat = {k: (None if v is None else round(v, 2)) if k != "count" else v
               for k, v in percentiles(lateness, (50, 99)).items()}
        missed = count - len(seen)
        b.check(f"{label}: each alarm fired once", missed == 0 and duplicates == 0,
                f"{len(seen)} of {count} fired, {duplicates} duplicates ({settled} fires recorded)")
        last_ms = lat["max"]
        baseline_ms = baseline["seconds"] * 1000.0
        b.log(f"  {label}: the last fire arrived {last_ms} ms after the instant (p50 {lat['p50']} ms, "
              f"p99 {lat['p99']} ms); the sink takes {count} requests from loadgen in {baseline_ms:.0f} ms")
        out["burst"] = {"alarms": count, "instant_s": instant, "create": created, "lateness_ms": lat,
                        "missed": missed, "duplicates": duplicates, "baseline": baseline, "cpu": cpu}
        b.figure(sc, f"{label}: burst complete (last fire after the instant)", last_ms, "ms", baseline_ms,
                 f"loadgen -> sink, {count} requests on {CONNECTIONS_PER_ORIGIN} connections", better="lower")
        for p in ("p50", "p99"):
            b.figure(sc, f"{label}: lateness {p}", lat[p], "ms", None, None, better="lower", digits=2)
    finally:
        if server is not None:
            server.terminate(timeout=15)
        sink.terminate()
