"""The servers the scenarios start besides the sink: nginx, mosquitto, redis-server and PostgreSQL from Debian, each on a
free 127.0.0.1 port with its configuration (written here), data and log in a directory of the work directory, as the
tests start them (tests/support). Each runs as a child of the harness and is ended with it; no system service is
used or disturbed."""

import os
import pwd
import signal
import socket
import subprocess
import time

from common import BenchError, _Child, _Exited, _register, _unregister, free_port, wait_until

MOSQUITTO = "/usr/sbin/mosquitto"
NGINX = "/usr/sbin/nginx"
REDIS_SERVER = "/usr/bin/redis-server"
# Debian's postgresql-15 puts its programs here, not on PATH.
POSTGRES_BIN = "/usr/lib/postgresql/15/bin"
START_TIMEOUT_S = 30
# A port taken between picking and binding it: the server exits, and starts again on another one.
START_ATTEMPTS = 3
# mosquitto drops what a client has not received beyond max_queued_messages (default 1000): a registration behind
# a burst of 100 000 messages must get them all.
MOSQUITTO_MAX_QUEUED = 1000000
# QoS 1 messages the broker sends one client before it acknowledged them: mosquitto's default, written out because
# it bounds the mqtt feed's rate (the feed acknowledges only what it stored).
MOSQUITTO_MAX_INFLIGHT = 20
# nginx's worker processes: as many as the fake controller's I/O threads, so that the two sinks get the same cores.
NGINX_WORKERS = 2
# The route nginx counts its requests on (stub_status); every other path is a fire.
NGINX_STATUS_PATH = "/_nginx/status"
# What nginx answers every fire: the controller's 202 with an activation id.
NGINX_FIRE_ANSWER = '{"activationId":"00000000000000000000000000000000"}'
# The PostgreSQL role and database the cluster scenario's instances log in to (trust over 127.0.0.1: no password).
PG_ROLE = "feedrouter"


def _running_as_root():
    return os.geteuid() == 0


def service_dir(b, stem, user):
    """A fresh directory of the work directory for a server that runs as (or switches to) `user` when the harness
    runs as root: it belongs to that user, and the work directory lets others pass through (not read) it."""
    path = os.path.join(b.workdir, b.next_name(stem))
    os.makedirs(path)
    if _running_as_root():
        os.chmod(b.workdir, 0o711)
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def _chown_tree(path, user):
    if not _running_as_root():
        return
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _connects(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class ServiceProcess(_Child):
    """A server in the foreground, its output in `log_path`, ready once `ready()` holds; `user` (when the harness is
    root) is the account it runs as."""

    def __init__(self, name, argv, log_path, ready, cwd=None, user=None):
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "ab")
        as_user = {}
        if user and _running_as_root():
            as_user = {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=cwd, **as_user)
        _register(self.proc)
        self.pid = self.proc.pid
        started = time.monotonic()

        def up():
            if self.proc.poll() is not None:
                raise _Exited()
            return ready()

        try:
            ok = wait_until(up, START_TIMEOUT_S, interval=0.05)
        except _Exited:
            ok = False
        if not ok:
            exited = self.proc.poll()
            self.kill()
            raise BenchError(f"{name} did not start" + (f" (it exited with {exited})" if exited is not None else
                                                        f" within {START_TIMEOUT_S} s") + f"; see {log_path}")
        self.ready_after = time.monotonic() - started


def _server_dir(b, binary, package, stem):
    """Checks that `binary` (of the Debian `package`) is installed; returns a fresh directory of the work directory."""
    if not os.access(binary, os.X_OK):
        raise BenchError(f"{binary} is missing: bench/run installs the {package} package")
    directory = os.path.join(b.workdir, b.next_name(stem))
    os.makedirs(directory)
    return directory


def _start_on_free_port(make):
    """Calls make(port) on free ports until a server starts."""
    last = None
    for _ in range(START_ATTEMPTS):
        try:
            return make(free_port())
        except BenchError as e:
            last = e
    raise last


def start_mosquitto(b):
    """mosquitto 2.0 with a persistent store, anonymous access and the queue bound raised; returns the process with
    `port` and `url`. Started as root it switches to the `mosquitto` user, whose directory this is."""
    if not os.access(MOSQUITTO, os.X_OK):
        raise BenchError(f"{MOSQUITTO} is missing: bench/run installs the mosquitto package")
    directory = service_dir(b, "mosquitto", "mosquitto")
    os.makedirs(os.path.join(directory, "data"), exist_ok=True)

    def make(port):
        config = os.path.join(directory, "mosquitto.conf")
        with open(config, "w") as f:
            f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\n"
                    f"persistence true\npersistence_location {directory}/data/\n"
                    f"max_queued_messages {MOSQUITTO_MAX_QUEUED}\nmax_inflight_messages {MOSQUITTO_MAX_INFLIGHT}\n"
                    f"log_dest file {directory}/mosquitto.log\nlog_type error\nlog_type warning\nlog_type notice\n")
        _chown_tree(directory, "mosquitto")
        server = ServiceProcess("mosquitto", [MOSQUITTO, "-c", config], directory + ".stderr",
                                lambda: _connects(port))
        server.port, server.url, server.directory = port, f"mqtt://127.0.0.1:{port}", directory
        return server

    return _start_on_free_port(make)


def start_nginx(b):
    """nginx answering every POST with the controller's 202 and nothing else: the fastest sink this machine has, so
    that a figure is also read against what the machine can answer at all. No access log; the fires are counted by
    stub_status, whose request total also counts every status request (`fire_count` subtracts them). Returns the
    process with `port`, `url` and `fire_count()`."""
    directory = _server_dir(b, NGINX, "nginx-light", "nginx")

    def make(port):
        config = os.path.join(directory, "nginx.conf")
        with open(config, "w") as f:
            f.write(f"""daemon off;
worker_processes {NGINX_WORKERS};
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {directory}/body;
  keepalive_requests 10000000;
  server {{
    listen 127.0.0.1:{port};
    location = {NGINX_STATUS_PATH} {{ stub_status; }}
    location / {{
      default_type application/json;
      return 202 '{NGINX_FIRE_ANSWER}';
    }}
  }}
}}
""")
        server = ServiceProcess("nginx", [NGINX, "-p", directory, "-c", config], directory + ".stderr",
                                lambda: _connects(port))
        server.port, server.url, server.directory = port, f"http://127.0.0.1:{port}", directory
        server.fire_count = _nginx_fire_counter(port)
        return server

    return _start_on_free_port(make)


def _nginx_fire_counter(port):
    status_requests = 0

    def fire_count():
        nonlocal status_requests
        status_requests += 1
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(f"GET {NGINX_STATUS_PATH} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
            answer = b""
            while chunk := s.recv(4096):
                answer += chunk
        # "Active connections: N \nserver accepts handled requests\n A H R \n...": R counts this request too.
        lines = answer.decode(errors="replace").split("\r\n\r\n", 1)[-1].splitlines()
        try:
            requests = int(lines[2].split()[2])
        except (IndexError, ValueError):
            raise BenchError(f"nginx stub_status answered {answer[:200]!r}")
        return requests - status_requests

    return fire_count


def _redis_answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(b):
    """redis-server 7.0 with an append-only file (fsync every second, Redis's default) and no snapshots; returns the
    process with `port` and `url`."""
    directory = _server_dir(b, REDIS_SERVER, "redis-server", "redis")

    def make(port):
        config = os.path.join(directory, "redis.conf")
        with open(config, "w") as f:
            f.write(f"port {port}\nbind 127.0.0.1\ndir {directory}\nsave \"\"\nappendonly yes\n"
                    f"daemonize no\nlogfile {directory}/redis.log\n")
        server = ServiceProcess("redis-server", [REDIS_SERVER, config], directory + ".stderr",
                                lambda: _redis_answers(port))
        server.port, server.url, server.directory = port, f"redis://127.0.0.1:{port}", directory
        return server

    return _start_on_free_port(make)


class Postgres:
    """PostgreSQL 15: initdb into a directory of the work directory, then the server in the foreground on a free
    port, its socket in that directory; as the `postgres` user when the harness is root (the server refuses root).
    Durability as SQLite's WAL with synchronous=NORMAL, which feedrouter's SQLite store uses: fsync on, commits not
    waiting for it (synchronous_commit=off), so a crash of the machine may lose the last fraction of a second."""

    def __init__(self, b):
        for tool in ("initdb", "postgres", "psql"):
            if not os.access(os.path.join(POSTGRES_BIN, tool), os.X_OK):
                raise BenchError(f"{POSTGRES_BIN}/{tool} is missing: bench/run installs the postgresql package")
        self.directory = service_dir(b, "postgres", "postgres")
        self.data = os.path.join(self.directory, "data")
        self.user = "postgres"
        as_user = {}
        if _running_as_root():
            as_user = {"user": self.user, "group": pwd.getpwnam(self.user).pw_gid, "extra_groups": []}
        initdb = subprocess.run([os.path.join(POSTGRES_BIN, "initdb"), "-D", self.data, "-U", "postgres",
                                 "--auth-local=trust", "--auth-host=trust", "-E", "UTF8", "--locale=C", "--no-sync"],
                                capture_output=True, text=True, cwd=self.directory, timeout=120, **as_user)
        if initdb.returncode != 0:
            raise BenchError(f"initdb failed: {initdb.stderr.strip()[-2000:]}")

        def make(port):
            argv = [os.path.join(POSTGRES_BIN, "postgres"), "-D", self.data, "-p", str(port), "-k", self.directory,
                    "-c", "listen_addresses=127.0.0.1", "-c", "synchronous_commit=off"]
            server = ServiceProcess("postgres", argv, self.directory + ".log", lambda: self._answers(port),
                                    cwd=self.directory, user=self.user)
            server.port = port
            return server

        self.server = _start_on_free_port(make)
        self.port, self.pid = self.server.port, self.server.pid
        self.sql(f"CREATE ROLE {PG_ROLE} LOGIN")

    def _answers(self, port):
        probe = subprocess.run([os.path.join(POSTGRES_BIN, "psql"), "-h", self.directory, "-p", str(port), "-U",
                                "postgres", "-d", "postgres", "-Atc", "SELECT 1"],
                               capture_output=True, text=True, timeout=10)
        return probe.returncode == 0

    def sql(self, statement, db="postgres"):
        """Runs `statement` as the superuser over the socket; returns the rows, columns split at tabs."""
        proc = subprocess.run([os.path.join(POSTGRES_BIN, "psql"), "-h", self.directory, "-p", str(self.port), "-U",
                               "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-AtF", "\t", "-c", statement],
                              capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise BenchError(f"psql: {statement[:80]}: {proc.stderr.strip()}")
        return [line.split("\t") for line in proc.stdout.splitlines() if line]

    def create_database(self, name):
        """A new database owned by the login role; returns its URI (no password: trust over 127.0.0.1)."""
        self.sql(f"CREATE DATABASE {name} OWNER {PG_ROLE}")
        return f"postgresql://{PG_ROLE}@127.0.0.1:{self.port}/{name}"

    def stop(self, timeout=60.0):
        """A fast shutdown (SIGINT: sessions are ended, nothing committed is lost)."""
        proc = self.server.proc
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        _unregister(proc)
        self.server._log.close()
