"""Shared pieces of the benchmark harness: child processes, a small HTTP client, CPU and memory readings, statistics.

Only the Python standard library. Every wait is bounded; every child process is registered and ended on exit.
"""

import base64
import calendar
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.parse

# -- errors -------------------------------------------------------------------------------------------------------


class BenchError(Exception):
    """A failure of the harness or of its set-up (not a finding about the service)."""


# -- child processes ----------------------------------------------------------------------------------------------

_children = []
_children_lock = threading.Lock()


def _register(proc):
    with _children_lock:
        _children.append(proc)


def _unregister(proc):
    with _children_lock:
        if proc in _children:
            _children.remove(proc)


def kill_all_children():
    """Ends every child still running: SIGTERM, then SIGKILL after a short grace. Only our own children, by pid."""
    with _children_lock:
        procs = list(_children)
    for proc in procs:
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
            except OSError:
                pass
    deadline = time.monotonic() + 5
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                proc.kill()
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        _unregister(proc)


def install_signal_handlers():
    """SIGINT/SIGTERM/SIGHUP end the children and exit; the harness never leaves a server running."""

    def on_signal(signum, _frame):
        kill_all_children()
        os._exit(128 + signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)


class _Child:
    """What every long-running child has: its process, its log, and a way to end it."""

    def alive(self):
        return self.proc.poll() is None

    def terminate(self, timeout=60.0):
        """SIGTERM and wait; returns (exit code, seconds taken). SIGKILL when it does not exit in time."""
        start = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(timeout=10)
            code = f"killed after {timeout:.0f} s (SIGTERM ignored)"
        _unregister(self.proc)
        self._log.close()
        return code, time.monotonic() - start

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        _unregister(self.proc)
        self._log.close()


class LineTool(_Child):
    """A tool child that answers each command line on its stdin with one JSON line (bench/kafka, bench/mqtt,
    bench/redis); its first line says it is ready."""

    def __init__(self, name, argv, log_path, start_timeout=30.0):
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log)
        _register(self.proc)
        self.pid = self.proc.pid
        self.first = self._answer(start_timeout)

    def _answer(self, timeout):
        line = _read_line_with_timeout(self.proc.stdout, timeout)
        if line is None:
            self.kill()
            raise BenchError(f"{self.name} did not answer within {timeout:.0f} s; see {self.log_path}")
        return json.loads(line)

    def ask(self, command, timeout=120):
        self.proc.stdin.write((command + "\n").encode())
        self.proc.stdin.flush()
        answer = self._answer(timeout)
        if "error" in answer:
            raise BenchError(f"{self.name}: {command}: {answer['error']}")
        return answer


class Server(_Child):
    """A long-running child (fake controller or feedrouter) that prints its URL on its first stdout line."""

    def __init__(self, name, argv, url_prefix, log_path, start_timeout=30.0):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.started_at = time.monotonic()
        self.started_wall = time.time()
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL)
        _register(self.proc)
        self.pid = self.proc.pid
        line = _read_line_with_timeout(self.proc.stdout, start_timeout)
        self.listening_at = time.monotonic()
        if line is None or not line.startswith(url_prefix):
            self.kill()
            raise BenchError(f"{name} did not start (first line {line!r}); see {log_path}")
        self.url = line[len(url_prefix):].strip()
        # Drain stdout in the background so the child can never block on a full pipe.
        threading.Thread(target=_drain, args=(self.proc.stdout,), daemon=True).start()


class ProbedServer(_Child):
    """A long-running child that listens on a port chosen for it and says nothing useful on stdout (pouchdb-server):
    ready once `GET /` answers 200. Its stdout and stderr go to its log; it runs in `cwd`."""

    def __init__(self, name, argv, url, cwd, log_path, start_timeout=60.0):
        self.name = name
        self.argv = argv
        self.url = url
        self.log_path = log_path
        self.started_at = time.monotonic()
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=cwd)
        _register(self.proc)
        self.pid = self.proc.pid
        client = Http(url, timeout=5)

        def answers():
            if self.proc.poll() is not None:
                raise _Exited()
            return client.request("GET", "/")[0] == 200

        try:
            ready = wait_until(answers, start_timeout, interval=0.025)
        except _Exited:
            ready = False
        finally:
            client.close()
        if not ready:
            exited = self.proc.poll()
            self.kill()
            raise BenchError(f"{name} did not answer GET / with 200 within {start_timeout:.0f} s"
                             + (f" (it exited with {exited})" if exited is not None else "") + f"; see {log_path}")
        self.ready_after = time.monotonic() - self.started_at


class _Exited(Exception):
    """A child ended while the harness waited for it to answer."""


def free_port():
    """A loopback port that was free a moment ago (the kernel picks it for a socket bound to port 0, closed again);
    a child that then fails to bind it is started again on another one."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _read_line_with_timeout(stream, timeout):
    result = []

    def reader():
        try:
            result.append(stream.readline().decode("utf-8", "replace"))
        except (OSError, ValueError):
            result.append(None)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    t.join(timeout)
    if not result or not result[0]:
        return None
    return result[0].rstrip("\n")


def _drain(stream):
    try:
        while stream.read(65536):
            pass
    except (OSError, ValueError):
        pass


def run_tool(argv, env=None, timeout=900.0):
    """Runs a load generator to completion. Returns (exit code, stdout text, stderr text, cpu seconds it used)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)
    _register(proc)
    out_chunks, err_chunks = [], []
    t_out = threading.Thread(target=lambda: out_chunks.append(proc.stdout.read()), daemon=True)
    t_err = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True)
    t_out.start()
    t_err.start()
    # wait4 gives the child's own CPU time; Popen's bookkeeping is updated by hand.
    deadline = time.monotonic() + timeout
    cpu = 0.0
    code = None
    while code is None:
        try:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        except ChildProcessError:
            # Reaped elsewhere (it should not be): the exit code is still known, the CPU time is not.
            code = proc.wait()
            break
        if pid == proc.pid:
            code = os.waitstatus_to_exitcode(status)
            proc.returncode = code
            cpu = usage.ru_utime + usage.ru_stime
            break
        if time.monotonic() > deadline:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            _unregister(proc)
            raise BenchError(f"{argv[0]} did not finish within {timeout:.0f} s")
        time.sleep(0.02)
    t_out.join(10)
    t_err.join(10)
    _unregister(proc)
    out = (out_chunks[0] if out_chunks else b"").decode("utf-8", "replace")
    err = (err_chunks[0] if err_chunks else b"").decode("utf-8", "replace")
    return code, out, err, cpu


# -- HTTP ---------------------------------------------------------------------------------------------------------


def basic_auth(key):
    return "Basic " + base64.b64encode(key.encode()).decode()


class Http:
    """A keep-alive HTTP/1.1 client for one base URL (loopback only); one per thread."""

    def __init__(self, base_url, timeout=30.0):
        parts = urllib.parse.urlsplit(base_url)
        if parts.hostname not in ("127.0.0.1", "localhost"):
            raise BenchError(f"refusing a non-loopback URL: {base_url}")
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        """Returns (status, body bytes). One reconnect on a dropped keep-alive connection."""
        data = None
        hdrs = dict(headers or {})
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            if isinstance(data, str):
                data = data.encode()
            hdrs.setdefault("Content-Type", "application/json")
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                res = self.conn.getresponse()
                payload = res.read()
                if res.getheader("Connection", "").lower() == "close":
                    self.close()
                return res.status, payload
            except (ConnectionError, http.client.HTTPException, OSError):
                self.close()
                if attempt == 1:
                    raise
        raise BenchError("unreachable")

    def json(self, method, path, body=None, headers=None):
        status, payload = self.request(method, path, body, headers)
        try:
            return status, json.loads(payload) if payload else None
        except ValueError:
            return status, None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def wait_until(predicate, timeout, interval=0.02):
    """Polls `predicate` until it returns a truthy value or `timeout` seconds passed; returns the value or None."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except (OSError, http.client.HTTPException, BenchError):
            value = None
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


# -- CPU, memory, machine -----------------------------------------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid):
    """User + system CPU seconds a process used so far, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (OSError, IndexError, ValueError):
        return None


def system_cpu():
    """(busy seconds, total seconds) over all cores since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    values = [int(x) for x in parts[:8]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / _TICKS, sum(values) / _TICKS


def proc_status(pid):
    """VmRSS and VmHWM in KiB from /proc/PID/status."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:", "Threads:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


class CpuMeter:
    """CPU used over an interval by named processes, by the whole machine, and by everything else (noise)."""

    def __init__(self, pids):
        self.pids = dict(pids)
        self.start = time.monotonic()
        self.busy0, self.total0 = system_cpu()
        self.own0 = {name: proc_cpu_seconds(pid) or 0.0 for name, pid in self.pids.items()}

    def stop(self, extra_cpu=None):
        """Returns {wall_s, cores_busy, <name>_cores, foreign_cores}; `extra_cpu` adds CPU seconds of tools that ran."""
        wall = max(1e-6, time.monotonic() - self.start)
        busy1, _ = system_cpu()
        result = {"wall_s": round(wall, 3), "machine_cores_busy": round((busy1 - self.busy0) / wall, 2)}
        own_total = 0.0
        for name, pid in self.pids.items():
            used = (proc_cpu_seconds(pid) or self.own0[name]) - self.own0[name]
            own_total += used
            result[f"{name}_cores"] = round(used / wall, 2)
        for name, seconds in (extra_cpu or {}).items():
            own_total += seconds
            result[f"{name}_cores"] = round(seconds / wall, 2)
        result["foreign_cores"] = round(max(0.0, (busy1 - self.busy0) - own_total) / wall, 2)
        return result


def machine_info():
    model, mhz = None, None
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name") and model is None:
                model = line.split(":", 1)[1].strip()
            if line.startswith("cpu MHz") and mhz is None:
                mhz = float(line.split(":", 1)[1])
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    uname = os.uname()
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "cpu_mhz": mhz,
        "memory_mib": mem_kb // 1024,
        "kernel": f"{uname.sysname} {uname.release}",
        "hostname": uname.nodename,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


# -- time and statistics ------------------------------------------------------------------------------------------

_second_cache = {}


def iso_ms(text):
    """Milliseconds since the epoch of an ISO-8601 UTC time as the services write it: 2026-11-27T08:00:00.000Z."""
    head = text[:19]
    base = _second_cache.get(head)
    if base is None:
        base = calendar.timegm(time.strptime(head, "%Y-%m-%dT%H:%M:%S")) * 1000
        _second_cache[head] = base
    frac = text[20:23] if len(text) > 20 and text[19] == "." else "0"
    return base + int(frac)


def percentiles(values, points=(50, 90, 99)):
    """Nearest-rank percentiles plus max and count; None values when empty."""
    if not values:
        out = {f"p{p}": None for p in points}
        out.update(max=None, count=0)
        return out
    ordered = sorted(values)
    n = len(ordered)
    out = {}
    for p in points:
        rank = min(n - 1, max(0, int(round(p / 100.0 * (n - 1)))))
        out[f"p{p}"] = ordered[rank]
    out["max"] = ordered[-1]
    out["count"] = n
    return out


def ratio(value, baseline):
    if value is None or baseline in (None, 0):
        return None
    return round(value / baseline, 3)


def rounded(value, digits=1):
    return None if value is None else round(value, digits)
