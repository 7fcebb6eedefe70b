"""Scenario 6: the kafka feed against librdkafka's mock cluster, read against raw librdkafka consumers of the same
cluster in the same run (bench/kafka/kafka_tool.cpp holds the cluster, the producer and the raw consumers)."""

import json
import os
import time

from common import BenchError, CpuMeter, LineTool, iso_ms, percentiles, proc_status
from context import NAMESPACE

FEED_MISSING = "feed not available"
# The sink's receivedAt is truncated to the millisecond: half of one is added to every latency.
HALF_MS_US = 500


class KafkaTool(LineTool):
    """The kafka-tool child: the mock cluster lives as long as it does."""

    def __init__(self, b):
        super().__init__("kafka-tool", [b.kafka_tool_bin, "--brokers", "1"],
                         os.path.join(b.workdir, b.next_name("kafka-tool") + ".log"))
        self.bootstrap = self.first["bootstrap"]


def _params(tool, topic):
    return {"feed": "kafka", "brokers": tool.bootstrap, "topic": topic}


def _sink_messages(fires, prefix):
    """The messages the fires of registrations {prefix}N carried: {name: [(partition, offset, n, sent_us, arrival_us)]}
    in the order the sink recorded them."""
    out = {}
    for fire in fires:
        name = fire["trigger"]
        if not name.startswith(prefix):
            continue
        arrival = iso_ms(fire["receivedAt"]) * 1000 + HALF_MS_US
        rows = out.setdefault(name, [])
        for message in (fire.get("body") or {}).get("messages", []):
            try:
                value = json.loads(message["value"])
            except (TypeError, ValueError):
                value = {}
            rows.append((message.get("partition"), message.get("offset"), value.get("n"), value.get("sentUs"),
                         arrival))
    return out


def _analyse(rows, partitions, per_partition):
    """Each registration must see offsets 0..per_partition-1 of every partition exactly once, in order."""
    seen, last = set(), {}
    duplicates = out_of_order = foreign = 0
    for partition, offset, _, _, _ in rows:
        if partition is None or not 0 <= partition < partitions or not 0 <= offset < per_partition:
            foreign += 1
            continue
        if (partition, offset) in seen:
            duplicates += 1
        seen.add((partition, offset))
        if partition in last and offset <= last[partition]:
            out_of_order += 1
        last[partition] = offset
    expected = partitions * per_partition
    return {"expected": expected, "received": len(rows), "missing": expected - len(seen),
            "duplicates": duplicates, "out_of_order": out_of_order, "foreign": foreign}


def _sum(results):
    keys = ("expected", "received", "missing", "duplicates", "out_of_order", "foreign")
    return {k: sum(r[k] for r in results) for k in keys}


def _baseline(b, tool, topic, consumers, count, rate=0):
    """Raw consumers read `topic` from its end while `count` messages are produced into it."""
    cfg = b.cfg
    tool.ask(f"topic {topic} {cfg.kafka_partitions}")
    tool.ask(f"consume {topic} {consumers}")
    meter = CpuMeter({"kafka-tool": tool.pid})
    produced = tool.ask(f"produce {topic} {count} {cfg.kafka_message_bytes} {rate}", timeout=600)
    done = tool.ask(f"wait {count} 300", timeout=330)
    cpu = meter.stop()
    seconds = max(1e-6, (done["last_us"] - produced["first_us"]) / 1e6)
    return {"produced": produced, "received": done["received"], "expected": consumers * count,
            "seconds": round(seconds, 3), "messages_per_s": round(done["received"] / seconds, 1),
            "latency_us": done["latency_us"], "cpu": cpu}


def _create(b, server, tool, prefix, count, topic):
    bodies = _params(tool, topic)
    failures = []
    for i in range(count):
        status, body = b.api(server, "PUT", f"/v1/triggers/{NAMESPACE}/{prefix}{i}", bodies)
        if status != 201:
            failures.append(f"{prefix}{i}: {status} {body}")
    b.check(f"kafka: {count} CREATEs of '{prefix}' answered 201", not failures, "; ".join(failures[:3]) or "all 201")


def _through_feedrouter(b, sink, tool, prefix, registrations, count, rate=0):
    """`registrations` kafka registrations on one fresh topic; `count` messages produced into it. Returns what arrived
    at the sink, with feedrouter's memory and threads before and after the CREATEs."""
    cfg = b.cfg
    topic = f"fr-{prefix}"
    tool.ask(f"topic {topic} {cfg.kafka_partitions}")
    server = b.start_feedrouter(sink.url, b.store_path())
    out = {}
    try:
        b.sink_clear(sink)
        before = proc_status(server.pid)
        # CREATE answers once the end of every partition is stored: every message produced afterwards fires.
        _create(b, server, tool, prefix, registrations, topic)
        time.sleep(1)  # memory 1 s after the last CREATE, as the other scenarios take it
        created = proc_status(server.pid)
        meter = CpuMeter({"feedrouter": server.pid, "sink": sink.pid, "kafka-tool": tool.pid})
        produced = tool.ask(f"produce {topic} {count} {cfg.kafka_message_bytes} {rate}", timeout=600)
        b.sink_settle(sink, 1, timeout=600, quiet=2.0)
        cpu = meter.stop()
        fires = b.sink_fires(sink)
        per = _sink_messages(fires, prefix)
        results = [_analyse(per.get(f"{prefix}{i}", []), cfg.kafka_partitions, count // cfg.kafka_partitions)
                   for i in range(registrations)]
        arrivals = [row[4] for rows in per.values() for row in rows]
        latencies = [row[4] - row[3] for rows in per.values() for row in rows if row[3]]
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


def _check(b, label, result):
    b.check(f"{label}: every message fired exactly once, in partition order",
            result["missing"] == 0 and result["duplicates"] == 0 and result["out_of_order"] == 0
            and result["foreign"] == 0,
            f"{result['received']} of {result['expected']} fired, {result['missing']} missing, "
            f"{result['duplicates']} duplicates, {result['out_of_order']} out of order, {result['foreign']} other")


def _rate(b, sink, tool, registrations, count, available):
    """Fires/s of `registrations` registrations reading a topic of `count` messages, against as many raw consumers."""
    label = f"{registrations} raw librdkafka consumer(s), same cluster and topic size"
    name = (f"kafka -> messages fired/s, {registrations} registration(s) on one topic of {count} messages "
            f"({b.cfg.kafka_partitions} partitions)")
    base = _baseline(b, tool, f"raw-{registrations}", registrations, count)
    b.check(f"kafka baseline, {registrations} raw consumer(s): every message read",
            base["received"] == base["expected"], f"{base['received']} of {base['expected']}")
    b.log(f"  baseline ({registrations} raw consumer(s)): {base['messages_per_s']:.0f} messages/s "
          f"({base['received']} in {base['seconds']} s from the first produce)")
    out = {"baseline": base}
    if not available:
        b.figure("6 kafka", name, None, "messages/s", base["messages_per_s"], label, skipped=FEED_MISSING)
        return out
    fr = _through_feedrouter(b, sink, tool, f"k{registrations}x", registrations, count)
    out["feedrouter"] = fr
    _check(b, f"kafka via feedrouter, {registrations} registration(s)", fr)
    rss = fr["rss_kib"]
    per_kib = (rss["created"].get("VmRSS", 0) - rss["ready"].get("VmRSS", 0)) / registrations
    threads = (rss["created"].get("Threads", 0) - rss["ready"].get("Threads", 0)) / registrations
    fr["per_registration"] = {"rss_kib": round(per_kib, 1), "threads": round(threads, 2)}
    b.log(f"  feedrouter, {registrations} registration(s): {fr['messages_per_s']:.0f} messages/s in {fr['fires']} "
          f"fires; {per_kib:.0f} KiB and {threads:.1f} threads per registration; feedrouter "
          f"{fr['cpu']['feedrouter_cores']} cores")
    b.figure("6 kafka", name, fr["messages_per_s"], "messages/s", base["messages_per_s"], label)
    b.figure("6 kafka", f"resident memory per idle kafka registration ({registrations} registration(s))",
             per_kib / 1024, "MiB", None, None, better="lower", digits=2)
    b.figure("6 kafka", f"threads per kafka registration ({registrations} registration(s))", threads, "threads",
             None, None, better="lower", digits=1)
    return out


def _latency(b, sink, tool, rate, available):
    """Produce -> fire latency of one registration at `rate` messages/s, against a raw consumer at the same rate."""
    cfg = b.cfg
    count = max(cfg.kafka_partitions, int(rate * cfg.kafka_latency_seconds) // cfg.kafka_partitions
                * cfg.kafka_partitions)
    label = "raw librdkafka consumer: produced -> read"
    base = _baseline(b, tool, "raw-latency", 1, count, rate)
    out = {"rate": rate, "messages": count, "baseline": base}
    b.log(f"  baseline at {rate:.0f} messages/s: produced -> read p50 {base['latency_us']['p50'] / 1000:.1f} ms, "
          f"p99 {base['latency_us']['p99'] / 1000:.1f} ms")
    if not available:
        for p in ("p50", "p90", "p99", "max"):
            b.figure("6 kafka", f"produce -> fire {p} at {rate:.0f} messages/s, 1 registration", None, "ms",
                     base["latency_us"][p] / 1000, label, better="lower", skipped=FEED_MISSING, digits=2)
        return out
    fr = _through_feedrouter(b, sink, tool, "lat", 1, count, rate)
    out["feedrouter"] = fr
    _check(b, f"kafka latency via feedrouter at {rate:.0f} messages/s", fr)
    lat = fr["latency_us"]
    b.log(f"  feedrouter at {rate:.0f} messages/s: produced -> fired p50 {(lat['p50'] or 0) / 1000:.1f} ms, "
          f"p99 {(lat['p99'] or 0) / 1000:.1f} ms")
    for p in ("p50", "p90", "p99", "max"):
        b.figure("6 kafka", f"produce -> fire {p} at {rate:.0f} messages/s, 1 registration",
                 None if lat[p] is None else lat[p] / 1000, "ms", base["latency_us"][p] / 1000, label,
                 better="lower", digits=2)
    return out


def kafka(b):
    cfg = b.cfg
    out = {}
    b.scenarios["kafka"] = out
    if not os.access(b.kafka_tool_bin, os.X_OK):
        raise BenchError(f"missing binary {b.kafka_tool_bin}; run bench/run without --no-build")
    sink = b.start_sink()
    tool = None
    try:
        tool = KafkaTool(b)
        b.log(f"  mock cluster at {tool.bootstrap}")
        b.sink_add_triggers(sink, "k1x", 1)
        b.sink_add_triggers(sink, f"k{cfg.kafka_fanout_registrations}x", cfg.kafka_fanout_registrations)
        b.sink_add_triggers(sink, "lat", 1)
        server = b.start_feedrouter(sink.url, b.store_path())
        try:
            tool.ask(f"topic probe {cfg.kafka_partitions}")
            available, why = b.probe_feed(server, "kafka", {"brokers": tool.bootstrap, "topic": "probe"})
        finally:
            server.terminate()
        out["feed_available"] = available
        if not available:
            out.update(skipped=FEED_MISSING, reason=why)
            b.log(f"  kafka: {FEED_MISSING} ({why}); measuring the baselines only")
        single = _rate(b, sink, tool, 1, cfg.kafka_messages, available)
        out["single"] = single
        regs = cfg.kafka_fanout_registrations
        out["fanout"] = _rate(b, sink, tool, regs, cfg.kafka_messages // regs, available)
        fr_rate = (single.get("feedrouter") or single["baseline"])["messages_per_s"]
        out["latency"] = _latency(b, sink, tool, max(cfg.kafka_partitions, fr_rate * 0.5), available)
    finally:
        if tool is not None:
            tool.terminate(timeout=15)
        sink.terminate()
