"""The benchmark's run context: configuration, the tools it drives, the servers it starts, and what it records."""

import json
import os
import shutil
import time

from common import BenchError, Http, ProbedServer, Server, basic_auth, free_port, run_tool, wait_until

NAMESPACE = "bench"
AUTH_KEY = "0b6d5f4e-6c1a-4b8e-9d8f-benchmarkkey:benchsecret"
HOOK_SECRET = "bench-hook-secret-0123456789abcdef"
# feedrouter's default quota (10 000 per namespace) is below the alarm scenario's 100 000.
NAMESPACE_QUOTA = 1000000
# The same event for the baseline and the service: a small GitHub-like push event.
PAYLOAD = json.dumps({"ref": "refs/heads/main", "repository": {"full_name": "bench/feedrouter"},
                      "pusher": {"name": "bench"}, "commits": 1}, separators=(",", ":"))


class Config:
    """Counts and durations; --quick shrinks them so that all scenarios finish in under two minutes."""

    def __init__(self, quick):
        self.quick = quick
        # Scenario 1: throughput.
        self.throughput_seconds = 3 if quick else 10
        self.throughput_connections = 64
        self.throughput_registrations = [1, 100, 1000] if quick else [1, 100, 10000]
        # Scenario 2: latency at fractions of the maximum rate.
        self.latency_seconds = 4 if quick else 8
        self.latency_fractions = [0.5, 0.9] if quick else [0.1, 0.25, 0.5, 0.75, 0.9]
        self.latency_connections = 64
        # Registrations sharing the load when the latency scenario runs without the throughput one before it
        # (otherwise: as many as gave feedrouter its best rate there).
        self.latency_registrations = 100
        # Scenario 3: alarms.
        self.fast_alarms = 1000 if quick else 10000
        self.fast_window_s = 6 if quick else 20
        self.slow_alarms = 10000 if quick else 100000
        self.slow_period_s = 60
        self.slow_window_s = 10 if quick else 60
        # The timer baseline (loadgen on the alarms' schedule, straight to the sink) runs this long at most.
        self.timer_baseline_s = 4 if quick else 20
        # After a window, fires may still arrive this late and count.
        self.grace_s = 2.5
        self.create_connections = 8
        # Scenario 4: restart; the coverage window after /ready (60 s: every alarm is due once).
        self.restart_window_s = 8 if quick else 60
        # Scenario 5: changes feed against pouchdb-server. A burst of docs written with _bulk_docs for the rate with
        # one registration, a tenth of them for the fan-out to many registrations on the same database, and
        # single-doc PUTs at a constant rate for the latency.
        self.changes_docs = 2000 if quick else 10000
        self.changes_bulk_batch = 500
        self.changes_fanout_registrations = 20 if quick else 100
        self.changes_fanout_docs = self.changes_docs // 10
        # pouchdb-server spends about 7 ms of CPU on a single-doc PUT: at 100/s it is nearly busy on 2 shared cores and
        # its answers queue, so the latency is taken at half that.
        self.changes_latency_rate = 50
        self.changes_latency_seconds = 4 if quick else 10
        # Open loop: enough connections that a slow PUT (over 100 ms on a busy machine) does not hold the next back.
        self.changes_latency_connections = 32
        # Docs of an unmeasured first burst that warms pouchdb-server up.
        self.changes_warmup_docs = 1000
        self.changes_heartbeat_s = 5
        # Scenario 6: kafka feed against librdkafka's mock cluster. One registration on a topic of N messages; as many
        # registrations as in the changes fan-out on one topic of N / registrations messages (N deliveries in all);
        # the latency at half the rate one registration reached.
        self.kafka_messages = 20000 if quick else 100000
        self.kafka_partitions = 4
        self.kafka_message_bytes = 100
        self.kafka_fanout_registrations = 20 if quick else 100
        self.kafka_latency_seconds = 4 if quick else 8
        # Scenarios 8 (mqtt) and 9 (redis): the mqtt and redis-stream feeds against mosquitto and redis-server. One
        # registration on a topic (stream) of N messages (entries) sent as fast as the server takes them; as many
        # registrations as in the changes fan-out on one of N / registrations (N deliveries in all); the latency at
        # half the rate one registration reached. Goal: at least this fraction of the raw client's rate.
        self.broker_messages = 20000 if quick else 100000
        self.broker_message_bytes = 100
        self.broker_fanout_registrations = 20 if quick else 100
        self.broker_latency_seconds = 4 if quick else 8
        self.broker_goal_ratio = 0.8
        # One registration fires one request at a time (in order): with batchSize 1, the default of these feeds,
        # its rate is one fire per round trip to the controller. Measured again with batches of up to this many.
        self.broker_batch_size = 1000
        # Scenario 10: cluster. Alarms every minute with catchUp (so that an occurrence missed during a takeover fires
        # once, late), phases spread evenly, created by this many clients at once (8 connections each) through the
        # instances in turn; webhook events at a constant rate over the hooks, through every instance; a steady
        # window, then kill -9 of one instance and a window after it. The first due instant lies this far ahead per
        # registration (at least 5 s), so that creation ends before fires begin: creating through PostgreSQL ran at
        # 350 to 1000/s on the 2 busy cores, on SQLite at 10 000/s.
        self.cluster_instances = 3
        self.cluster_alarms = 6000 if quick else 30000
        self.cluster_alarm_period_s = 60
        self.cluster_create_clients = 3
        self.cluster_create_lead_s_per_registration = {"single": 1 / 1500, "cluster": 1 / 250}
        self.cluster_hooks = 30 if quick else 300
        self.cluster_hook_rate = 100 if quick else 300
        self.cluster_window_s = 15 if quick else 60
        self.cluster_kill_window_s = 25 if quick else 60
        self.cluster_lease_ttl_s = 10
        self.cluster_late_ms = 1000
        self.cluster_takeover_goal_s = 12
        # Scenario 7: lifecycle requests while the controller is saturated. Per-second alarms fire at a sink that
        # answers each fire this late: with feedrouter's 64 connections per origin it takes 64 / delay fires per
        # second, far fewer than scheduled, so fires queue. CREATE, READ and DELETE run one after another, each this
        # many times, on an idle service and then during the saturation.
        self.lifecycle_alarms = 1000 if quick else 10000
        self.lifecycle_fire_delay_ms = 250 if quick else 50
        self.lifecycle_requests = 50 if quick else 300
        # Requests of an unmeasured first round, so that neither measured round pays for a cold start.
        self.lifecycle_warmup_requests = 20
        # How long the fires queue before the lifecycle requests start.
        self.lifecycle_saturate_s = 3 if quick else 10
        self.lifecycle_target_p99_ms = 100


class Bench:
    """Everything a scenario needs: binaries, a work directory, servers, load generators, and the result record."""

    def __init__(self, root, loadgen, workdir, quick, feedrouter_bin=None):
        self.root = root
        self.build_dir = os.environ.get("FEEDROUTER_BUILD_DIR", os.path.join(root, "build"))
        # Another build's binary may be measured with this checkout's harness and sink (bench/run --feedrouter PATH).
        self.feedrouter_bin = feedrouter_bin or os.path.join(self.build_dir, "app", "feedrouter")
        self.sink_bin = os.path.join(self.build_dir, "tests", "support", "fake-controller")
        self.loadgen_bin = loadgen
        # Scenario 6's mock cluster, producer and raw consumers: built beside the load generator (bench/CMakeLists.txt).
        self.kafka_tool_bin = os.path.join(os.path.dirname(loadgen), "kafka-tool")
        # The raw clients of scenarios 8 and 9, built beside it too.
        self.mqtt_tool_bin = os.path.join(os.path.dirname(loadgen), "mqtt-tool")
        self.redis_tool_bin = os.path.join(os.path.dirname(loadgen), "redis-tool")
        self.wrk_script = os.path.join(root, "bench", "wrk", "post.lua")
        # The CouchDB-compatible server of scenario 5: scripts/dev build installs it with npm ci (bench/run calls that
        # unless --no-build); checked when the scenario starts, so the others run without it.
        self.couchdb_dir = os.path.join(root, "tests", "support", "couchdb")
        self.couchdb_script = os.path.join(self.couchdb_dir, "node_modules", "pouchdb-server", "bin", "pouchdb-server")
        self.workdir = workdir
        self.cfg = Config(quick)
        self.auth = basic_auth(AUTH_KEY)
        self.figures = []        # the flat table: one row per figure, with its baseline
        self.checks = []         # sanity checks: {name, ok, detail}
        self.scenarios = {}      # per-scenario detail
        self.chart = {"throughput": [], "latency": []}
        self.handover = {}       # state one scenario leaves for the next (the alarm store for the restart)
        self.fire_fetches = []   # every GET /_fake/fires: count, bytes, seconds
        self._serial = 0
        for path in (self.feedrouter_bin, self.sink_bin, self.loadgen_bin):
            if not os.access(path, os.X_OK):
                raise BenchError(f"missing binary {path}; run bench/run without --no-build")
        if shutil.which("wrk") is None:
            raise BenchError("wrk is not installed; bench/run installs it")

    # -- recording --------------------------------------------------------------------------------------------------

    def figure(self, scenario, name, value, unit, baseline=None, baseline_label=None, better="higher",
               skipped=None, note=None, digits=1):
        """Adds one row of the results table. `better` says which direction is good, so a ratio can be read."""
        row = {
            "scenario": scenario, "figure": name, "unit": unit,
            "value": None if value is None else round(value, digits),
            "baseline": None if baseline is None else round(baseline, digits),
            "baseline_label": baseline_label, "better": better,
            "ratio": None if value is None or not baseline else round(value / baseline, 3),
        }
        if skipped:
            row["skipped"] = skipped
        if note:
            row["note"] = note
        self.figures.append(row)
        return row

    def check(self, name, ok, detail):
        self.checks.append({"name": name, "ok": bool(ok), "detail": detail})
        mark = "ok  " if ok else "FAIL"
        self.log(f"  check {mark} {name}: {detail}")
        return ok

    def log(self, text):
        print(time.strftime("%H:%M:%S ") + text, flush=True)

    def next_name(self, stem):
        self._serial += 1
        return f"{stem}-{self._serial}"

    # -- servers ----------------------------------------------------------------------------------------------------

    def start_sink(self, threads=2, fire_delay_ms=0):
        log = os.path.join(self.workdir, self.next_name("sink") + ".log")
        return Server("fake-controller",
                      [self.sink_bin, "--listen", "127.0.0.1:0", "--threads", str(threads),
                       "--fire-delay-ms", str(fire_delay_ms)],
                      "listening on ", log)

    def start_feedrouter(self, sink_url, store_path, ready_timeout=900.0, verify_auth=False, extra=()):
        """Starts feedrouter on `store_path` (a SQLite file, or a postgresql:// URI) and waits for /ready 200; returns
        the server, with `ready_after` the seconds from exec to ready. With `verify_auth` each CREATE's key is checked
        with the sink, which must then hold the trigger."""
        log = os.path.join(self.workdir, self.next_name("feedrouter") + ".log")
        store = store_path if store_path.startswith("postgresql://") else "sqlite:" + store_path
        server = Server("feedrouter",
                        [self.feedrouter_bin, "--listen", "127.0.0.1:0", "--api-host", sink_url,
                         "--store", store, "--log-level", "warn",
                         # The changes scenario's CouchDB listens on 127.0.0.1, refused by the default egress policy.
                         "--allow-egress", "127.0.0.1",
                         # Every registration of the bench is in one namespace, up to 100 000 of them at once.
                         "--max-registrations-per-namespace", str(NAMESPACE_QUOTA)]
                        + ([] if verify_auth else ["--no-verify-auth"]) + list(extra),
                        "feedrouter listening on ", log, start_timeout=ready_timeout)
        client = Http(server.url, timeout=5)
        ready = wait_until(lambda: client.request("GET", "/ready")[0] == 200, ready_timeout, interval=0.01)
        ready_at = time.monotonic()
        client.close()
        if not ready:
            server.kill()
            raise BenchError(f"feedrouter was not ready within {ready_timeout:.0f} s; see {log}")
        server.ready_after = ready_at - server.started_at
        return server

    def start_couchdb(self, attempts=3):
        """Starts pouchdb-server (leveldb files in a fresh folder of the work directory, which is also its cwd: it
        writes config.json and log.txt there) and waits for `GET /` 200. A port taken between picking and binding it
        is retried on another one."""
        node = shutil.which("node") or shutil.which("nodejs")
        if node is None:
            raise BenchError("node is not installed; scripts/dev build installs it")
        if not os.path.exists(self.couchdb_script):
            raise BenchError(f"pouchdb-server is not installed ({self.couchdb_script} is missing): run "
                             "scripts/dev build, which runs npm ci in tests/support/couchdb (bench/run does unless "
                             "--no-build)")
        data_dir = os.path.join(self.workdir, self.next_name("couchdb"))
        os.makedirs(data_dir)
        config = os.path.join(data_dir, "config.json")
        # Without it, pouchdb-server logs a line per request to log.txt; warnings and errors still go there.
        with open(config, "w") as f:
            json.dump({"log": {"level": "warning"}}, f)
        last_error = None
        for _ in range(attempts):
            port = free_port()
            argv = [node, self.couchdb_script, "--host", "127.0.0.1", "--port", str(port), "--dir", data_dir,
                    "--config", config, "--no-stdout-logs", "--no-color"]
            try:
                server = ProbedServer("pouchdb-server", argv, f"http://127.0.0.1:{port}", data_dir,
                                      data_dir + ".log", start_timeout=60)
            except BenchError as e:
                last_error = e
                continue
            server.data_dir = data_dir
            return server
        raise last_error

    def store_path(self):
        return os.path.join(self.workdir, self.next_name("store") + ".db")

    # -- the sink's routes ------------------------------------------------------------------------------------------

    def sink_count(self, sink):
        # nginx (servers.start_nginx) counts its fires itself.
        if hasattr(sink, "fire_count"):
            return sink.fire_count()
        client = Http(sink.url, timeout=30)
        try:
            status, body = client.json("GET", "/_fake/fires/count")
        finally:
            client.close()
        if status != 200:
            raise BenchError(f"GET /_fake/fires/count answered {status}")
        return body["count"]

    def sink_clear(self, sink):
        client = Http(sink.url, timeout=30)
        try:
            status, _ = client.request("DELETE", "/_fake/fires")
        finally:
            client.close()
        if status != 204:
            raise BenchError(f"DELETE /_fake/fires answered {status}")

    def sink_fires(self, sink):
        """Every recorded fire (the heavy route: one JSON document with all of them)."""
        client = Http(sink.url, timeout=300)
        t = time.monotonic()
        try:
            status, body = client.request("GET", "/_fake/fires")
        finally:
            client.close()
        if status != 200:
            raise BenchError(f"GET /_fake/fires answered {status}")
        fetched = time.monotonic()
        fires = json.loads(body)["fires"]
        # How heavy the route is: the run keeps these so that a lighter one can be judged worth it.
        self.fire_fetches.append({"fires": len(fires), "bytes": len(body), "fetch_s": round(fetched - t, 3),
                                  "parse_s": round(time.monotonic() - fetched, 3)})
        return fires

    def sink_settle(self, sink, at_least, timeout=60.0, quiet=2.0):
        """Waits until the sink holds `at_least` fires and its count stopped moving for `quiet` seconds (bounded)."""
        deadline = time.monotonic() + timeout
        last, last_change = self.sink_count(sink), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.2)
            count = self.sink_count(sink)
            if count != last:
                last, last_change = count, time.monotonic()
            elif count >= at_least and time.monotonic() - last_change >= quiet:
                break
            elif count < at_least and time.monotonic() - last_change >= max(quiet, 10.0):
                break  # stalled below the target: report it, do not wait forever
        return last, time.monotonic() - last_change

    def sink_add_triggers(self, sink, prefix, count):
        """Creates triggers NAMESPACE/{prefix}0.. in the sink with the bench key; returns the loadgen summary."""
        if count == 0:
            return None
        result = self.loadgen(sink.url, method="PUT", path=f"/_fake/triggers/{NAMESPACE}/{prefix}{{seq}}",
                              body=json.dumps({"authKey": AUTH_KEY}), requests=count,
                              connections=self.cfg.create_connections, threads=2)
        if result["ok"] != count:
            raise BenchError(f"the sink accepted {result['ok']} of {count} triggers: {result['status']}")
        return result

    # -- load generators --------------------------------------------------------------------------------------------

    def loadgen(self, url, path=None, paths_file=None, method="POST", body=None, bodies_file=None, headers=(),
                connections=8,
                threads=2, rate=0, requests=None, duration=None, capture=None, records=None, hmac_secret=None,
                timeout_ms=30000):
        argv = [self.loadgen_bin, "--url", url, "--method", method, "--connections", str(connections),
                "--threads", str(threads), "--rate", str(rate), "--timeout-ms", str(timeout_ms)]
        argv += ["--paths-file", paths_file] if paths_file else ["--path", path]
        if bodies_file is not None:
            argv += ["--bodies-file", bodies_file]
        elif body is not None:
            argv += ["--body", body]
        for header in headers:
            argv += ["--header", header]
        if requests is not None:
            argv += ["--requests", str(requests)]
        else:
            argv += ["--duration", str(duration)]
        if capture:
            argv += ["--capture", capture]
        if records:
            argv += ["--records", records]
        if hmac_secret:
            argv += ["--hmac-secret", hmac_secret]
        argv += ["--max-seconds", "900"]
        code, out, err, cpu = run_tool(argv, timeout=1000)
        if code != 0:
            raise BenchError(f"loadgen failed ({code}): {err.strip()}")
        result = json.loads(out.strip().splitlines()[-1])
        result["cpu_s"] = cpu
        return result

    def wrk(self, url, duration, connections, body, headers=(), paths_file=None, threads=2):
        env = dict(os.environ)
        env["BENCH_BODY"] = body
        env["BENCH_HEADERS"] = "\n".join(headers)
        env["BENCH_PATHS_FILE"] = paths_file or ""
        argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
                "-s", self.wrk_script, url]
        code, out, err, cpu = run_tool(argv, env=env, timeout=duration + 120)
        line = next((x for x in out.splitlines() if x.startswith("BENCH_RESULT ")), None)
        if code != 0 or line is None:
            raise BenchError(f"wrk failed ({code}): {err.strip() or out.strip()}")
        result = json.loads(line[len("BENCH_RESULT "):])
        result["cpu_s"] = cpu
        return result

    # -- feedrouter's API -------------------------------------------------------------------------------------------

    def api(self, server, method, path, body=None, timeout=60):
        client = Http(server.url, timeout=timeout)
        try:
            return client.json(method, path, body, {"Authorization": self.auth})
        finally:
            client.close()

    def probe_feed(self, server, kind, params=None):
        """Whether feedrouter serves feed `kind`: a CREATE naming it answers 400 with field "feed" when it does not."""
        name = f"probe-{kind}"
        status, body = self.api(server, "PUT", f"/v1/triggers/{NAMESPACE}/{name}", dict({"feed": kind}, **(params or {})))
        if status == 400 and isinstance(body, dict) and body.get("field") == "feed":
            return False, body.get("error", "unknown feed kind")
        if status in (200, 201):
            self.api(server, "DELETE", f"/v1/triggers/{NAMESPACE}/{name}")
        return True, body

    def metrics(self, server):
        """The counters of /metrics that the harness cross-checks: fires ok and failed."""
        client = Http(server.url, timeout=30)
        try:
            status, body = client.request("GET", "/metrics")
        finally:
            client.close()
        out = {}
        for line in body.decode().splitlines():
            if line.startswith("feedrouter_fires_total{"):
                outcome = line.split('outcome="', 1)[1].split('"', 1)[0]
                out[outcome] = int(float(line.rsplit(" ", 1)[1]))
        return out
