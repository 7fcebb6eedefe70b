#!/usr/bin/python3
"""Checks feedrouter's /metrics exposition with the Prometheus client's own text parser.

    check_exposition.py --dump METRICS_DUMP   runs the dump program with durations around the first histogram bounds
                                              (the first one a failed fire and commit) and checks the buckets and
                                              the counts, then everything below
    check_exposition.py --file FILE           checks an exposition taken from a running service

Checked always: the text parses; names follow Prometheus conventions (feedrouter_ prefix, counters end in _total,
histograms of durations in _seconds, gauges never in _total); every histogram has cumulative buckets ending in +Inf
that equal its _count; no series appears twice; no label carries a per-trigger value, and `feed` takes only the fixed
feed kinds.
"""

import argparse
import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families

FEED_KINDS = {"alarm", "webhook", "github", "poll", "changes", "kafka", "mqtt", "redis-stream", "other"}
FORBIDDEN_LABELS = {"trigger", "namespace", "name", "hook", "hookId", "url", "activationId"}

# Durations in microseconds on both sides of the first bounds (1 ms, 2 ms, 5 ms): `le` is inclusive, so a fire of
# exactly 1.000 ms belongs in le="0.001".
DURATIONS_US = [999, 1000, 1001, 2000, 2001, 5000, 5001]
EXPECTED_CUMULATIVE = {"0.001": 2, "0.002": 4, "0.005": 6}


def fail(message):
    print("check_exposition: " + message, file=sys.stderr)
    sys.exit(1)


def check_families(text):
    families = list(text_string_to_metric_families(text))
    if not families:
        fail("no metric families")
    seen = set()
    for family in families:
        if not family.name.startswith("feedrouter_"):
            fail(f"{family.name}: not under the feedrouter_ prefix")
        if family.type == "counter" and not all(s.name == family.name + "_total" for s in family.samples):
            fail(f"{family.name}: a counter's samples must end in _total")
        if family.type == "gauge" and family.name.endswith("_total"):
            fail(f"{family.name}: a gauge must not end in _total")
        if family.type == "histogram":
            check_histogram(family)
        if family.type not in {"counter", "gauge", "histogram"}:
            fail(f"{family.name}: unexpected type {family.type}")
        if not family.documentation:
            fail(f"{family.name}: no HELP text")
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            if key in seen:
                fail(f"{sample.name}{sample.labels}: the series appears twice")
            seen.add(key)
            bad = FORBIDDEN_LABELS & set(sample.labels)
            if bad:
                fail(f"{sample.name}: per-registration label {bad}")
            if "feed" in sample.labels and sample.labels["feed"] not in FEED_KINDS:
                fail(f"{sample.name}: feed label {sample.labels['feed']!r} is not a fixed feed kind")
    return {family.name: family for family in families}


def check_histogram(family):
    if not family.name.endswith("_seconds") and not family.name.endswith("_bytes"):
        fail(f"{family.name}: a histogram's name must end in its unit (_seconds, _bytes)")
    buckets = [s for s in family.samples if s.name == family.name + "_bucket"]
    counts = [s.value for s in family.samples if s.name == family.name + "_count"]
    if len(counts) != 1 or not buckets or buckets[-1].labels.get("le") != "+Inf":
        fail(f"{family.name}: needs buckets ending in le=\"+Inf\" and one _count")
    bounds = [float(b.labels["le"]) for b in buckets]
    if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
        fail(f"{family.name}: bucket bounds are not strictly increasing")
    values = [b.value for b in buckets]
    if values != sorted(values):
        fail(f"{family.name}: bucket counts are not cumulative")
    if values[-1] != counts[0]:
        fail(f"{family.name}: le=\"+Inf\" ({values[-1]}) differs from _count ({counts[0]})")


def cumulative_by_le(family):
    return {s.labels["le"]: s.value for s in family.samples if s.name == family.name + "_bucket"}


def check_boundaries(families):
    for name in ("feedrouter_fire_duration_seconds", "feedrouter_store_commit_duration_seconds"):
        buckets = cumulative_by_le(families[name])
        # The fire histogram's first bounds are exactly these; the commit histogram's start lower.
        checked_bounds = EXPECTED_CUMULATIVE.items() if name == "feedrouter_fire_duration_seconds" else []
        for le, expected in checked_bounds:
            if buckets.get(le) != expected:
                fail(f"{name}: le=\"{le}\" counts {buckets.get(le)}, expected {expected} of {DURATIONS_US} us")
        # Every bound, counted the way Prometheus defines it: observations <= le, compared in whole microseconds.
        for le, value in buckets.items():
            if le == "+Inf":
                continue
            bound_us = round(float(le) * 1_000_000)
            expected = sum(1 for d in DURATIONS_US if d <= bound_us)
            if value != expected:
                fail(f"{name}: le=\"{le}\" counts {value}, expected {expected}")


def sample_value(families, family, labels):
    for sample in families[family].samples:
        if sample.labels == labels and not sample.name.endswith("_created"):
            return sample.value
    fail(f"{family}{labels}: no such sample")


def check_dump_counts(families):
    expectations = [
        ("feedrouter_events_accepted", {"feed": "webhook"}, 3),
        ("feedrouter_events_fired", {"feed": "webhook"}, 2),
        ("feedrouter_events_dead_lettered", {"feed": "webhook"}, 1),
        ("feedrouter_events_dropped", {"feed": "webhook", "reason": "filtered"}, 1),
        ("feedrouter_registrations", {"feed": "alarm", "state": "active"}, 1),
        ("feedrouter_registrations", {"feed": "other", "state": "disabled"}, 1),
        ("feedrouter_registrations_auto_disabled", {"feed": "poll"}, 1),
        ("feedrouter_source_errors", {"feed": "changes"}, 1),
        ("feedrouter_source_reconnects", {"feed": "changes"}, 1),
        ("feedrouter_fires", {"outcome": "ok"}, len(DURATIONS_US) - 1),
        ("feedrouter_fires", {"outcome": "failed"}, 1),
        ("feedrouter_fire_failures", {"reason": "unavailable"}, 1),
        ("feedrouter_store_commit_failures", {}, 1),
        ("feedrouter_api_requests", {}, 1),
        ("feedrouter_ready", {}, 1),
    ]
    for family, labels, expected in expectations:
        value = sample_value(families, family, labels)
        if value != expected:
            fail(f"{family}{labels} is {value}, expected {expected}")


def main():
    parser = argparse.ArgumentParser()
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--dump", help="the metrics_dump program")
    source.add_argument("--file", help="an exposition taken from a running service")
    args = parser.parse_args()
    if args.dump:
        text = subprocess.run([args.dump] + [str(d) for d in DURATIONS_US], check=True, capture_output=True,
                              text=True).stdout
    else:
        with open(args.file, encoding="utf-8") as f:
            text = f.read()
    families = check_families(text)
    if args.dump:
        check_boundaries(families)
        check_dump_counts(families)
    print(f"check_exposition: {len(families)} metric families are well-formed")


if __name__ == "__main__":
    main()
