"""Scenarios 8 and 9: the mqtt feed against mosquitto and the redis-stream feed against redis-server, each read against
raw clients of the same server in the same run (bench/mqtt/mqtt_tool.cpp: libmosquitto subscribers; bench/redis/
redis_tool.cpp: hiredis XREAD loops). The servers are Debian's, started by the harness (servers.py)."""

import os
import time

from common import BenchError, CpuMeter, LineTool, iso_ms, percentiles, proc_status
from context import NAMESPACE
import servers

FEED_MISSING = "feed not available"
# The sink's receivedAt is truncated to the millisecond: half of one is added to every latency.
HALF_MS_US = 500


class BrokerFeed:
    """What differs between the broker feeds: the server, the raw client, the CREATE body and where a fired event
    keeps the message's number and send stamp."""

    def __init__(self, kind, scenario, section, prefix, noun, raw_label, tool_attr, start_server, params, stamp):
        self.kind = kind                  # the feed's name in a CREATE
        self.scenario = scenario          # the figures' scenario column
        self.section = section            # the key in the JSON's scenarios
        self.prefix = prefix              # of trigger names and channels
        self.noun = noun                  # "messages", "entries"
        self.raw_label = raw_label        # what one raw client is
        self.tool_attr = tool_attr        # the Bench attribute holding the tool's path
        self.start_server = start_server  # (bench) -> server with .port and .url
        self.params = params              # (server, channel) -> CREATE body
        self.stamp = stamp                # (fired event) -> (n, sent_us) or (None, None)


def _mqtt_stamp(event):
    payload = event.get("payload")
    if isinstance(payload, dict):
        return payload.get("n"), payload.get("sentUs")
    return None, None


def _redis_stamp(event):
    fields = event.get("fields") or {}
    try:
        return int(fields["n"]), int(fields["sentUs"])
    except (KeyError, TypeError, ValueError):
        return None, None


MQTT = BrokerFeed(
    "mqtt", "8 mqtt", "mqtt", "q", "messages", "raw libmosquitto subscriber", "mqtt_tool_bin", servers.start_mosquitto,
    lambda server, channel: {"feed": "mqtt", "url": server.url, "topic": channel, "qos": 1}, _mqtt_stamp)
REDIS = BrokerFeed(
    "redis-stream", "9 redis", "redis", "r", "entries", "raw hiredis XREAD reader", "redis_tool_bin",
    servers.start_redis,
    lambda server, channel: {"feed": "redis-stream", "url": server.url, "stream": channel, "create": True},
    _redis_stamp)


def _channel(feed, name):
    """A topic or stream of its own for each measurement: bench/NAME (mqtt), bench-NAME (redis)."""
    return f"bench/{name}" if feed is MQTT else f"bench-{name}"


def _events(body):
    """The events one fire carried: a batch's `events`, or the body itself."""
    if isinstance(body, dict) and isinstance(body.get("events"), list):
        return body["events"]
    return [body] if isinstance(body, dict) else []


def _sink_rows(feed, fires, prefix):
    """{trigger name: [(n, sent_us, arrival_us)]} of the fires of registrations {prefix}N, in the sink's order."""
    out = {}
    for fire in fires:
        name = fire["trigger"]
        if not name.startswith(prefix):
            continue
        arrival = iso_ms(fire["receivedAt"]) * 1000 + HALF_MS_US
        rows = out.setdefault(name, [])
        for event in _events(fire.get("body")):
            n, sent = feed.stamp(event)
            rows.append((n, sent, arrival))
    return out


def _analyse(rows, count):
    """Each registration must see messages 0..count-1 exactly once, in the order they were sent."""
    seen = set()
    duplicates = out_of_order = foreign = 0
    last = -1
    for n, _, _ in rows:
        if not isinstance(n, int) or not 0 <= n < count:
            foreign += 1
            continue
        if n in seen:
            duplicates += 1
        seen.add(n)
        if n <= last:
            out_of_order += 1
        last = n
    return {"expected": count, "received": len(rows), "missing": count - len(seen), "duplicates": duplicates,
            "out_of_order": out_of_order, "foreign": foreign}


def _sum(results):
    keys = ("expected", "received", "missing", "duplicates", "out_of_order", "foreign")
    return {k: sum(r[k] for r in results) for k in keys}


def _check(b, label, result):
    b.check(f"{label}: every message fired exactly once, in order",
            result["missing"] == 0 and result["duplicates"] == 0 and result["out_of_order"] == 0
            and result["foreign"] == 0,
            f"{result['received']} of {result['expected']} fired, {result['missing']} missing, "
            f"{result['duplicates']} duplicates, {result['out_of_order']} out of order, {result['foreign']} other")


def _baseline(b, feed, broker, tool, channel, consumers, count, rate=0):
    """Raw clients read `channel` from its end while `count` messages are sent to it."""
    cfg = b.cfg
    tool.ask(f"consume {channel} {consumers}")
    meter = CpuMeter({feed.section + "-tool": tool.pid, "server": broker.pid})
    produced = tool.ask(f"produce {channel} {count} {cfg.broker_message_bytes} {rate}", timeout=600)
    done = tool.ask(f"wait {count} 300", timeout=330)
    cpu = meter.stop()
    seconds = max(1e-6, (done["last_us"] - produced["first_us"]) / 1e6)
    return {"produced": produced, "received": done["received"], "expected": consumers * count,
            "seconds": round(seconds, 3), "messages_per_s": round(done["received"] / seconds, 1),
            "latency_us": done["latency_us"], "cpu": cpu}


def _through_feedrouter(b, feed, sink, broker, tool, prefix, registrations, count, rate=0, extra=None):
    """`registrations` registrations (CREATE body plus `extra`) on one fresh channel; `count` messages sent to it.
    Returns what arrived at the sink, with feedrouter's memory and threads before and after the CREATEs."""
    channel = _channel(feed, prefix)
    params = dict(feed.params(broker, channel), **(extra or {}))
    server = b.start_feedrouter(sink.url, b.store_path())
    out = {}
    try:
        b.sink_clear(sink)
        before = proc_status(server.pid)
        # CREATE answers once the position is kept (the broker session subscribed, the stream's end stored): every
        # message sent afterwards fires.
        failures = []
        for i in range(registrations):
            status, body = b.api(server, "PUT", f"/v1/triggers/{NAMESPACE}/{prefix}{i}", params)
            if status != 201:
                failures.append(f"{prefix}{i}: {status} {body}")
        b.check(f"{feed.section}: {registrations} CREATEs of '{prefix}' answered 201", not failures,
                "; ".join(failures[:3]) or "all 201")
        time.sleep(1)  # memory 1 s after the last CREATE, as the other scenarios take it
        created = proc_status(server.pid)
        meter = CpuMeter({"feedrouter": server.pid, "sink": sink.pid, "server": broker.pid,
                          feed.section + "-tool": tool.pid})
        produced = tool.ask(f"produce {channel} {count} {b.cfg.broker_message_bytes} {rate}", timeout=600)
        b.sink_settle(sink, 1, timeout=600, quiet=2.0)
        cpu = meter.stop()
        fires = b.sink_fires(sink)
        per = _sink_rows(feed, fires, prefix)
        results = [_analyse(per.get(f"{prefix}{i}", []), count) for i in range(registrations)]
        arrivals = [row[2] for rows in per.values() for row in rows]
        latencies = [row[2] - row[1] for rows in per.values() for row in rows if row[1]]
        last = max(arrivals) if arrivals else produced["first_us"]
        seconds = max(1e-6, (last - produced["first_us"]) / 1e6)
        total = _sum(results)
        out = dict(total, produced=produced, fires=len(fires), seconds=round(seconds, 3),
                   messages_per_s=round(total["received"] / seconds, 1), cpu=cpu,
                   latency_us=percentiles(latencies), rss_kib={"ready": before, "created": created,
                                                                 "after": proc_status(server.pid)})
    finally:
        code, took = server.terminate()
        out["shutdown"] = {"exit_code": code, "seconds": round(took, 2)}
    return out


def _rate(b, feed, sink, broker, tool, registrations, count, available, batch=None, base=None):
    """Fires/s of `registrations` registrations on a channel of `count` messages (with `batchSize: batch` when
    given), against as many raw clients (`base`: measured already)."""
    label = f"{registrations} {feed.raw_label}(s), same server, same number of {feed.noun}"
    batched = f" with batchSize {batch}" if batch else ""
    name = f"{feed.noun} fired/s, {registrations} registration(s){batched} on one channel of {count} {feed.noun}"
    if base is None:
        base = _baseline(b, feed, broker, tool, _channel(feed, f"raw-{registrations}"), registrations, count)
        b.check(f"{feed.section} baseline, {registrations} raw client(s): every message read",
                base["received"] == base["expected"], f"{base['received']} of {base['expected']}")
        b.log(f"  baseline ({registrations} raw client(s)): {base['messages_per_s']:.0f} {feed.noun}/s "
              f"({base['received']} in {base['seconds']} s from the first send)")
    out = {"baseline": base}
    if not available:
        b.figure(feed.scenario, name, None, f"{feed.noun}/s", base["messages_per_s"], label, skipped=FEED_MISSING)
        return out
    # A batch goes out as soon as the previous fire was answered (no window): kafka's defaults.
    extra = {"batchSize": batch, "batchWindowMs": 0} if batch else None
    prefix = f"{feed.prefix}{registrations}{'b' if batch else 'x'}"
    fr = _through_feedrouter(b, feed, sink, broker, tool, prefix, registrations, count, extra=extra)
    out["feedrouter"] = fr
    _check(b, f"{feed.section} via feedrouter, {registrations} registration(s){batched}", fr)
    rss = fr["rss_kib"]
    per_kib = (rss["created"].get("VmRSS", 0) - rss["ready"].get("VmRSS", 0)) / registrations
    threads = (rss["created"].get("Threads", 0) - rss["ready"].get("Threads", 0)) / registrations
    fr["per_registration"] = {"rss_kib": round(per_kib, 1), "threads": round(threads, 2)}
    b.log(f"  feedrouter, {registrations} registration(s){batched}: {fr['messages_per_s']:.0f} {feed.noun}/s in "
          f"{fr['fires']} fires ({fr['messages_per_s'] / max(1e-6, base['messages_per_s']):.2f}x the raw client); "
          f"{per_kib:.0f} KiB and {threads:.1f} threads per registration; feedrouter {fr['cpu']['feedrouter_cores']} "
          f"cores")
    b.figure(feed.scenario, name, fr["messages_per_s"], f"{feed.noun}/s", base["messages_per_s"], label,
             note=None if fr["messages_per_s"] >= b.cfg.broker_goal_ratio * base["messages_per_s"] else
             f"{feed.section}: below the goal of {b.cfg.broker_goal_ratio}x the raw client")
    if not batch:
        b.figure(feed.scenario, f"resident memory per idle {feed.kind} registration ({registrations} registration(s))",
                 per_kib / 1024, "MiB", None, None, better="lower", digits=2)
    return out


def _latency(b, feed, sink, broker, tool, rate, available):
    """Send -> fire latency of one registration at `rate` messages/s, against a raw client at the same rate."""
    count = max(1, int(rate * b.cfg.broker_latency_seconds))
    label = f"{feed.raw_label}: sent -> read"
    base = _baseline(b, feed, broker, tool, _channel(feed, "raw-latency"), 1, count, rate)
    out = {"rate": rate, "messages": count, "baseline": base}
    b.log(f"  baseline at {rate:.0f} {feed.noun}/s: sent -> read p50 {base['latency_us']['p50'] / 1000:.2f} ms, "
          f"p99 {base['latency_us']['p99'] / 1000:.2f} ms")
    title = f"send -> fire {{}} at {rate:.0f} {feed.noun}/s (half the rate 1 registration reached), 1 registration"
    if not available:
        for p in ("p50", "p99"):
            b.figure(feed.scenario, title.format(p), None, "ms", base["latency_us"][p] / 1000, label, better="lower",
                     skipped=FEED_MISSING, digits=2)
        return out
    fr = _through_feedrouter(b, feed, sink, broker, tool, f"{feed.prefix}lat", 1, count, rate)
    out["feedrouter"] = fr
    _check(b, f"{feed.section} latency via feedrouter at {rate:.0f} {feed.noun}/s", fr)
    lat = fr["latency_us"]
    b.log(f"  feedrouter at {rate:.0f} {feed.noun}/s: sent -> fired p50 {(lat['p50'] or 0) / 1000:.2f} ms, "
          f"p99 {(lat['p99'] or 0) / 1000:.2f} ms")
    for p in ("p50", "p99"):
        b.figure(feed.scenario, title.format(p), None if lat[p] is None else lat[p] / 1000, "ms",
                 base["latency_us"][p] / 1000, label, better="lower", digits=2)
    return out


def _run(b, feed):
    cfg = b.cfg
    out = {}
    b.scenarios[feed.section] = out
    tool_bin = getattr(b, feed.tool_attr)
    if not os.access(tool_bin, os.X_OK):
        raise BenchError(f"missing binary {tool_bin}; run bench/run without --no-build")
    sink = b.start_sink()
    broker = tool = None
    try:
        broker = feed.start_server(b)
        b.log(f"  {broker.name} at {broker.url} (up in {broker.ready_after:.2f} s)")
        tool = LineTool(os.path.basename(tool_bin), [tool_bin, "--port", str(broker.port)],
                        os.path.join(b.workdir, b.next_name(os.path.basename(tool_bin)) + ".log"))
        fanout = cfg.broker_fanout_registrations
        for prefix, count in ((f"{feed.prefix}1x", 1), (f"{feed.prefix}1b", 1), (f"{feed.prefix}{fanout}x", fanout),
                              (f"{feed.prefix}lat", 1)):
            b.sink_add_triggers(sink, prefix, count)
        server = b.start_feedrouter(sink.url, b.store_path())
        try:
            available, why = b.probe_feed(server, feed.kind, feed.params(broker, _channel(feed, "probe")))
        finally:
            server.terminate()
        out["feed_available"] = available
        if not available:
            out.update(skipped=FEED_MISSING, reason=why)
            b.log(f"  {feed.kind}: {FEED_MISSING} ({why}); measuring the baselines only")
        single = _rate(b, feed, sink, broker, tool, 1, cfg.broker_messages, available)
        out["single"] = single
        out["single_batched"] = _rate(b, feed, sink, broker, tool, 1, cfg.broker_messages, available,
                                      batch=cfg.broker_batch_size, base=single["baseline"])
        out["fanout"] = _rate(b, feed, sink, broker, tool, fanout, cfg.broker_messages // fanout, available)
        fr_rate = (single.get("feedrouter") or single["baseline"])["messages_per_s"]
        out["latency"] = _latency(b, feed, sink, broker, tool, max(1.0, fr_rate * 0.5), available)
    finally:
        if tool is not None:
            tool.terminate(timeout=15)
        if broker is not None:
            broker.terminate(timeout=15)
        sink.terminate()


def mqtt(b):
    _run(b, MQTT)


def redis(b):
    _run(b, REDIS)
