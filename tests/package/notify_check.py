#!/usr/bin/python3
"""Runs a feedrouter binary under a fake systemd: $NOTIFY_SOCKET is a datagram socket of this script.

    notify_check.py FEEDROUTER_BIN WORK_DIR

Passes when the service says READY=1 and /ready answers 200 right after it, feeds the watchdog (WATCHDOG=1) while it
runs, says STOPPING=1 on SIGTERM and exits 0.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

TIMEOUT_S = 10
WATCHDOG_USEC = 300_000


class Service:
    """The feedrouter process under test, its stderr kept in a file of the work directory."""

    def __init__(self, binary, work, notify_path):
        env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDROUTER_")}
        env.update(NOTIFY_SOCKET=notify_path, WATCHDOG_USEC=str(WATCHDOG_USEC))
        self.stderr_path = os.path.join(work, "notify-check.stderr")
        store = "sqlite:" + os.path.join(work, "notify-check.db")
        with open(self.stderr_path, "wb") as stderr:
            self.proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--store", store], env=env,
                                         stdout=subprocess.PIPE, stderr=stderr)

    def fail(self, message):
        self.proc.kill()
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            print(f"notify_check: {message}\nstderr:\n{f.read()}", file=sys.stderr)
        sys.exit(1)


def receive_state(sock, state, service):
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            message = sock.recv(4096).decode()
        except socket.timeout:
            break
        if message.startswith(state):
            return message
    service.fail(f"no {state} within {TIMEOUT_S} s")
    return None


def main():
    binary, work = sys.argv[1], sys.argv[2]
    notify_path = os.path.join(work, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(notify_path)
    service = Service(binary, work, notify_path)
    line = service.proc.stdout.readline().decode().strip()
    if not line.startswith("feedrouter listening on http://"):
        service.fail(f"unexpected first line {line!r}")
    base = line.split(" on ", 1)[1]
    ready = receive_state(sock, "READY=1", service)
    with urllib.request.urlopen(base + "/ready", timeout=TIMEOUT_S) as answer:
        if answer.status != 200:
            service.fail(f"READY=1 came while /ready answers {answer.status}")
    for _ in range(3):
        receive_state(sock, "WATCHDOG=1", service)
    service.proc.send_signal(signal.SIGTERM)
    receive_state(sock, "STOPPING=1", service)
    code = service.proc.wait(timeout=TIMEOUT_S)
    if code != 0:
        service.fail(f"exit code {code} after SIGTERM")
    print("notify_check: " + ready.replace("\n", " ") + "; WATCHDOG=1 fed; STOPPING=1 on SIGTERM; exit 0")


if __name__ == "__main__":
    main()
