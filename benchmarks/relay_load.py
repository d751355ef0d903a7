"""Relay load: N rooms of two sockets replay a call's signaling, then talk once a second; the cost per message.

    python benchmarks/relay_load.py [--rooms 100,500,1000] [--seconds 5] [--targets bare,peerjs,memory,...]

For each room count and each relay, a fresh server (bound to 127.0.0.1 only, pinned to core 0 while this
generator runs on core 1; two daphne get a core each) admits 2 x N sockets;
each room then sends an offer, an answer and 20 candidates each way at once (the burst), then one
candidate a second per socket for --seconds (the steady phase), and waits at most --drain seconds for
what is still on its way. Everything stops by itself. The relays, each run in the same invocation:

  bare         benchmarks/bare_relay.py under daphne: the floor (no Django, no auth, no validation)
  peerjs       peerjs-server (npm package `peer`, installed into a temporary folder the first time)
  memory       InterKanect, one daphne, in-memory channel layer
  redis-core   InterKanect, one daphne, channels-redis's RedisChannelLayer (every message through Redis)
  redis-pubsub InterKanect, one daphne, channels-redis's RedisPubSubChannelLayer
  redis        InterKanect, one daphne, the app's layer (interkanect/channel_layers.py: RedisChannelLayer
               that keeps messages between consumers of one process in memory)
  two-daphne   InterKanect, two daphne on the app's layer behind nginx with deploy/nginx.conf
               (`hash $request_uri consistent`: both members of a room reach the same process)
The Redis targets need REDIS_URL; they run with benchmarks/layer_settings.py (the layer, and a Redis read
timeout of 15 s).

Columns: admit/s (sockets admitted a second, with the connect phase's PostgreSQL sessions and rows
fetched per socket when DATABASE_URL is PostgreSQL); server CPU µs per relayed message (utime+stime of
the server's processes from /proc, burst and steady phases, divided by the messages delivered; nginx
included for two-daphne, Redis not); burst msg/s; p50/p99 latency of the burst and of the steady
phase; KB of server memory (RSS) per connected socket; lost (sent, never delivered) and errors (error
frames, refused or dropped sockets). Ratios are to the bare relay of the same room count.

Uses DATABASE_URL (default: a throwaway SQLite file) and REDIS_URL (with CHANNELS_PREFIX); the Redis
targets are skipped without it. Benchmark users are created once (usernames `bench-...`) and reused.

"Lost" is what was sent to a connected room-mate and not delivered by the end of --drain: on a saturated
server it includes messages still queued.

The last run's figures on this machine, with the figures from before this work: README.md, "Benchmarks".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ALL_TARGETS = ["bare", "peerjs", "memory", "redis-core", "redis-pubsub", "redis", "two-daphne"]
REDIS_TARGETS = ("redis-core", "redis-pubsub", "redis", "two-daphne")
CANDIDATES = 20  # per side, in the burst
WARM_UP_ROOMS = 8
SDP = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" + "a=x-bench:padding\r\n" * 140
PEER_VERSION = "1.0.2"
PEER_DIR = Path(tempfile.gettempdir()) / f"interkanect-bench-peer-{PEER_VERSION}"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# As the issue measured: one server on one core, this load generator on the other (when there are two).
# Two daphne get a core each (the generator and nginx then share them): what a second process can add.
SERVER_CORES, GENERATOR_CORES = ({0}, {1}) if (os.cpu_count() or 1) >= 2 else (None, None)


def pinned(cores: set[int] | None):
    """preexec_fn for a server process (daphne, node, nginx)."""
    return (lambda: os.sched_setaffinity(0, cores)) if cores else None


# The servers' stderr (tracebacks such as ChannelFull land here), appended across the run.
SERVER_LOG = open(Path(tempfile.gettempdir()) / "relay-load-servers.log", "ab")  # noqa: SIM115


# --- Servers -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, processes: list[subprocess.Popen], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if any(p.poll() is not None for p in processes) or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {port} did not start") from None
            time.sleep(0.1)


def tree(pid: int) -> list[int]:
    """pid and its live descendants (nginx's workers)."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo.extend(int(child) for child in f.read().split())
        except OSError:
            pass
    return pids


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / CLK_TCK


def rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total


@dataclass
class Server:
    protocol: str  # "room", "bare" or "peerjs"
    port: int
    processes: list[subprocess.Popen]
    workdir: Path | None = None

    def pids(self) -> list[int]:
        return [pid for p in self.processes for pid in tree(p.pid)]

    def stop(self) -> None:
        for p in self.processes:
            if p.poll() is None:
                p.terminate()
        for p in self.processes:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def server_env(settings_module: str = "interkanect.settings", redis: bool = False, layer: str = "") -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DJANGO_DEBUG": "0",  # production mode: no query log growing in memory
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "PYTHONPATH": str(ROOT),
        "BENCH_CHANNEL_LAYER": layer,
        # Every socket comes from 127.0.0.1: the per-address join limit is for scripts, not this load.
        "SIGNALING_JOINS_PER_ADDRESS": "1000000",
    }
    if not redis:
        env.pop("REDIS_URL", None)
    return env


def start_daphne(
    app: str, env: dict[str, str], port: int | None = None, cores: set[int] | None = SERVER_CORES
) -> tuple[subprocess.Popen, int]:
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(port), app],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=SERVER_LOG,
        preexec_fn=pinned(cores),
    )
    return process, port


def start(target: str) -> Server:
    if target == "bare":
        process, port = start_daphne("benchmarks.bare_relay:application", server_env())
        wait_for_port(port, [process])
        return Server("bare", port, [process])
    if target == "peerjs":
        bin_js = PEER_DIR / "node_modules" / "peer" / "dist" / "bin" / "peerjs.js"
        if not bin_js.exists():
            PEER_DIR.mkdir(parents=True, exist_ok=True)
            print(f"installing peer@{PEER_VERSION} into {PEER_DIR} ...", flush=True)
            subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(PEER_DIR), f"peer@{PEER_VERSION}"],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        port = free_port()
        process = subprocess.Popen(
            ["node", str(bin_js), "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=pinned(SERVER_CORES),
        )
        wait_for_port(port, [process])
        return Server("peerjs", port, [process])
    if target == "memory":
        process, port = start_daphne("interkanect.asgi:application", server_env())
        wait_for_port(port, [process])
        return Server("room", port, [process])
    if target in ("redis-core", "redis-pubsub", "redis"):
        layer = target.removeprefix("redis").removeprefix("-") or "local"
        env = server_env("benchmarks.layer_settings", redis=True, layer=layer)
        process, port = start_daphne("interkanect.asgi:application", env)
        wait_for_port(port, [process])
        return Server("room", port, [process])
    if target == "two-daphne":
        processes, ports = [], []
        for core in range(2):
            env = server_env("benchmarks.layer_settings", redis=True, layer="local")
            process, port = start_daphne("interkanect.asgi:application", env, cores={core} if SERVER_CORES else None)
            processes.append(process)
            ports.append(port)
        for port in ports:
            wait_for_port(port, processes)
        workdir = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
        os.chmod(workdir, 0o755)
        port = free_port()
        config = (ROOT / "deploy" / "nginx.conf").read_text()
        config = config.replace("worker_processes auto;", "worker_processes 1;")
        config = config.replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{port};")
        servers = "\n".join(f"        server 127.0.0.1:{p};" for p in ports)
        config = re.sub(r"(?m)^ *server 127\.0\.0\.1:8001;\n *server 127\.0\.0\.1:8002;", servers, config)
        (workdir / "nginx.conf").write_text(config)
        nginx = subprocess.Popen(
            ["nginx", "-e", "stderr", "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=SERVER_LOG,
        )
        processes.insert(0, nginx)
        wait_for_port(port, processes)
        return Server("room", port, processes, workdir)
    raise ValueError(target)


# --- Benchmark data (users, consultations, sessions) ----------------------------------------------


def setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{Path(tempfile.mkdtemp(prefix='relay-load-')) / 'db.sqlite3'}")
    os.environ.setdefault("DJANGO_PASSWORD_HASHERS", "django.contrib.auth.hashers.MD5PasswordHasher")
    os.environ.setdefault("DJANGO_SECRET_KEY", "relay-load-benchmark-" + "k" * 50)
    os.environ["DJANGO_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["DJANGO_SETTINGS_MODULE"] = "interkanect.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def rooms_with_sessions(count: int) -> list[tuple[str, str, str]]:
    """(token, SME's session key, client's session key) for `count` ready rooms, created once and reused."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session

    from accounts.models import User
    from sessions_app.models import Consultation
    from tests.factories import make_client, make_ready_consultation, make_sme

    existing = {
        c.sme.username: c
        for c in Consultation.objects.filter(sme__username__startswith="bench-sme-").select_related("sme", "client")
    }
    rooms = []
    for i in range(count):
        consultation = existing.get(f"bench-sme-{i}")
        if consultation is None:
            if i % 100 == 0:
                print(f"creating benchmark rooms {i}..{min(count, i + 100) - 1}", flush=True)
            sme = User.objects.filter(username=f"bench-sme-{i}").first() or make_sme(username=f"bench-sme-{i}")
            client = User.objects.filter(username=f"bench-client-{i}").first() or make_client(
                username=f"bench-client-{i}"
            )
            consultation = make_ready_consultation(sme=sme, client=client, minutes=480)
        rooms.append(consultation)
    sessions, keys = [], []
    for i, consultation in enumerate(rooms):
        pair = []
        for role, user in (("sme", consultation.sme), ("client", consultation.client)):
            store = SessionStore()
            store[SESSION_KEY] = str(user.pk)
            store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            store[HASH_SESSION_KEY] = user.get_session_auth_hash()
            key = f"bench{role}{i:08d}".ljust(32, "0")  # fixed, so a later run replaces instead of piling up
            sessions.append(
                Session(session_key=key, session_data=store.encode(store._session), expire_date=store.get_expiry_date())
            )
            pair.append(key)
        keys.append((consultation.token, *pair))
    Session.objects.filter(session_key__in=[s.session_key for s in sessions]).delete()
    Session.objects.bulk_create(sessions, batch_size=500)
    return keys


def reset_rooms(tokens: list[str]) -> None:
    """Every room ready and empty again, as before its first call (so each relay pays the same admission)."""
    from sessions_app.models import Consultation

    Consultation.objects.filter(token__in=tokens).update(
        sme_channel="", client_channel="", state=Consultation.State.READY, live_at=None, last_left_at=None
    )


def postgres_stats() -> tuple[int, int] | None:
    """(sessions opened, rows fetched) so far in this database, or None off PostgreSQL."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions, tup_fetched FROM pg_stat_database WHERE datname = current_database()")
        sessions, rows = cursor.fetchone()
    return sessions, rows


# --- Load generator --------------------------------------------------------------------------------


@dataclass
class Stats:
    burst_latency: list[float] = field(default_factory=list)
    steady_latency: list[float] = field(default_factory=list)
    received: int = 0
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    last_burst_at: float = 0.0

    def error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1


class Client:
    """One socket of a room, speaking the server's protocol."""

    def __init__(self, run: Run, room: int, side: int) -> None:
        self.run, self.room, self.side = run, room, side
        self.ws = None
        self.ready = asyncio.Event()  # the other member is known to the server
        self.reader: asyncio.Task | None = None

    def url_and_headers(self) -> tuple[str, dict[str, str]]:
        run = self.run
        base = f"ws://127.0.0.1:{run.server.port}"
        if run.server.protocol == "room":
            token, *keys = run.rooms[self.room]
            headers = {"Cookie": f"sessionid={keys[self.side]}", "Origin": f"http://127.0.0.1:{run.server.port}"}
            return f"{base}/ws/rooms/{token}/", headers
        if run.server.protocol == "bare":
            return f"{base}/ws/{self.room}", {}
        return f"{base}/peerjs?key=peerjs&id=r{self.room}-{self.side}&token=t", {}

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        url, headers = self.url_and_headers()
        self.ws = await connect(
            url, additional_headers=headers, compression=None, ping_interval=None, open_timeout=120, max_queue=None
        )
        self.reader = asyncio.create_task(self.read())

    def frame(self, kind: str, phase: str) -> str:
        stamp = f"{phase}:{time.perf_counter()!r}"
        if kind == "candidate":
            body = {
                "candidate": {
                    "candidate": "candidate:842163049 1 udp 1677729535 192.0.2.1 50541 typ srflx raddr 0.0.0.0 rport 0",
                    "sdpMid": "0",
                    "sdpMLineIndex": 0,
                    "usernameFragment": stamp,
                }
            }
        else:
            body = {"sdp": SDP + f"a=x-stamp:{stamp}\r\n"}
        if self.run.server.protocol == "peerjs":
            return json.dumps({"type": kind.upper(), "payload": body, "dst": f"r{self.room}-{1 - self.side}"})
        return json.dumps({"type": kind, **body})

    async def send(self, kind: str, phase: str) -> None:
        try:
            await self.ws.send(self.frame(kind, phase))
            self.run.sent += 1
        except Exception:
            self.run.stats.error("send failed")

    async def read(self) -> None:
        stats, protocol = self.run.stats, self.run.server.protocol
        try:
            async for text in self.ws:
                now = time.perf_counter()
                message = json.loads(text)
                kind = message.get("type")
                if protocol == "peerjs":
                    if kind == "OPEN":
                        self.ready.set()
                        continue
                    if kind in ("OFFER", "ANSWER", "CANDIDATE"):
                        message = message["payload"]
                    elif kind == "ERROR":
                        stats.error(message.get("payload", {}).get("msg", "error"))
                        continue
                    else:
                        continue
                elif protocol == "bare" and "peer" in message:
                    if message["peer"] in ("present", "joined"):
                        self.ready.set()
                    continue
                elif protocol == "room" and kind not in ("offer", "answer", "candidate"):
                    if kind == "error":
                        stats.error(message.get("code", "error"))
                    elif (kind == "welcome" and message.get("peer_present")) or kind == "peer-joined":
                        self.ready.set()
                    continue
                if "candidate" in message:
                    stamp = message["candidate"]["usernameFragment"]
                else:
                    stamp = message["sdp"].rsplit("a=x-stamp:", 1)[1].strip()
                phase, sent_at = stamp.split(":")
                stats.received += 1
                if phase == "b":
                    stats.burst_latency.append(now - float(sent_at))
                    stats.last_burst_at = now
                else:
                    stats.steady_latency.append(now - float(sent_at))
        except Exception as error:  # the server closed or dropped the socket
            if not self.run.closing:
                stats.error(f"closed: {type(error).__name__}")
            return
        if not self.run.closing:
            stats.error(f"closed {self.ws.close_code}")


class Run:
    def __init__(self, server: Server, rooms: list[tuple[str, str, str]]) -> None:
        self.server, self.rooms = server, rooms
        self.stats = Stats()
        self.sent = 0
        self.closing = False
        self.clients = [Client(self, room, side) for room in range(len(rooms)) for side in (0, 1)]

    async def admit(self, concurrency: int = 16) -> float:
        """Connect every socket (the first member of each room before the second); seconds taken."""
        gate = asyncio.Semaphore(concurrency)

        async def one(client: Client) -> None:
            async with gate:
                try:
                    await client.connect()
                except Exception as error:
                    self.stats.error(f"connect: {type(error).__name__}")

        started = time.perf_counter()
        await asyncio.gather(*(one(c) for c in self.clients if c.side == 0))
        await asyncio.gather(*(one(c) for c in self.clients if c.side == 1))
        took = time.perf_counter() - started
        waits = [c.ready.wait() for c in self.clients if c.ws is not None]
        try:
            await asyncio.wait_for(asyncio.gather(*waits), timeout=30)
        except TimeoutError:
            self.stats.error("peer never seen")
        return took

    def paired(self, client: Client) -> bool:
        """Both sockets of the room connected (a socket that could not connect is counted among the errors;
        what its room-mate would send to it is not counted as lost)."""
        return client.ws is not None and self.clients[2 * client.room + 1 - client.side].ws is not None

    async def burst(self) -> None:
        async def one(client: Client) -> None:
            if not self.paired(client):
                return
            await client.send("offer" if client.side == 0 else "answer", "b")
            for _ in range(CANDIDATES):
                await client.send("candidate", "b")

        await asyncio.gather(*(one(c) for c in self.clients))

    async def steady(self, seconds: int) -> None:
        async def one(client: Client) -> None:
            if not self.paired(client):
                return
            await asyncio.sleep(random.random())
            for _ in range(seconds):
                started = time.perf_counter()
                await client.send("candidate", "s")
                await asyncio.sleep(max(0.0, 1 - (time.perf_counter() - started)))

        await asyncio.gather(*(one(c) for c in self.clients))

    async def drain(self, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while self.stats.received < self.sent and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        self.closing = True
        await asyncio.gather(*(c.ws.close() for c in self.clients if c.ws is not None), return_exceptions=True)
        for c in self.clients:
            if c.reader:
                c.reader.cancel()


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def measure(target: str, rooms: list[tuple[str, str, str]], args) -> dict:
    if target not in ("bare", "peerjs"):
        await asyncio.to_thread(reset_rooms, [r[0] for r in rooms])
    server = start(target)
    if GENERATOR_CORES:
        os.sched_setaffinity(0, GENERATOR_CORES | (SERVER_CORES if target == "two-daphne" else set()))
    try:
        # Warm up: a few rooms connect, relay and leave, so imports and first-use costs are not counted
        # (several, so that each process behind the proxy gets some).
        warm = Run(server, rooms[:WARM_UP_ROOMS])
        await warm.admit(args.connect_concurrency)
        await warm.burst()
        await warm.drain(5)
        await warm.close()
        await asyncio.sleep(1)
        if target not in ("bare", "peerjs"):
            await asyncio.to_thread(reset_rooms, [r[0] for r in rooms[:WARM_UP_ROOMS]])

        run = Run(server, rooms)
        rss_before = rss_kb(server.pids())
        pg_before = await asyncio.to_thread(postgres_stats)
        admit_seconds = await run.admit(args.connect_concurrency)
        await asyncio.sleep(1.5)  # PostgreSQL publishes its statistics about once a second
        pg_after = await asyncio.to_thread(postgres_stats)
        sockets = sum(1 for c in run.clients if c.ws is not None)
        rss_after = rss_kb(server.pids())

        cpu_before = cpu_seconds(server.pids())
        burst_started = time.perf_counter()
        await run.burst()
        await run.drain(args.drain)
        burst_received = run.stats.received
        burst_seconds = max(run.stats.last_burst_at - burst_started, 1e-9)
        await run.steady(args.seconds)
        await run.drain(args.drain)
        cpu_used = cpu_seconds(server.pids()) - cpu_before
        result = {
            "target": target,
            "rooms": len(rooms),
            "admit_per_s": sockets / admit_seconds,
            "pg_sessions": (pg_after[0] - pg_before[0]) / max(sockets, 1) if pg_before else None,
            "pg_rows": (pg_after[1] - pg_before[1]) / max(sockets, 1) if pg_before else None,
            "cpu_us": cpu_used / max(run.stats.received, 1) * 1e6,
            "burst_rate": burst_received / burst_seconds,
            "burst_p50": quantile(run.stats.burst_latency, 0.5) * 1e3,
            "burst_p99": quantile(run.stats.burst_latency, 0.99) * 1e3,
            "steady_p50": quantile(run.stats.steady_latency, 0.5) * 1e3,
            "steady_p99": quantile(run.stats.steady_latency, 0.99) * 1e3,
            "kb_per_socket": (rss_after - rss_before) / max(sockets, 1),
            "lost": run.sent - run.stats.received,
            "errors": run.stats.errors,
            "error_kinds": dict(run.stats.error_kinds),
        }
        await run.close()
        return result
    finally:
        server.stop()


# --- Report ----------------------------------------------------------------------------------------

HEADER = (
    "| relay | rooms | admit/s | PG sessions, rows per socket | CPU µs/msg (× bare) | burst msg/s (× bare) "
    "| burst p50/p99 ms | steady p50/p99 ms | KB/socket | lost | errors |"
)


def row(r: dict, bare: dict | None) -> str:
    def ratio(value: float, anchor_key: str) -> str:
        return f" ({value / bare[anchor_key]:.2f}×)" if bare and bare[anchor_key] else ""

    pg = f"{r['pg_sessions']:.2f}, {r['pg_rows']:.0f}" if r["pg_sessions"] is not None else "-"
    if r["target"] in ("bare", "peerjs"):
        pg = "-"
    kinds = ", ".join(f"{k} {v}" for k, v in r["error_kinds"].items())
    return (
        f"| {r['target']} | {r['rooms']} | {r['admit_per_s']:.0f} | {pg} "
        f"| {r['cpu_us']:.0f}{ratio(r['cpu_us'], 'cpu_us')} "
        f"| {r['burst_rate']:.0f}{ratio(r['burst_rate'], 'burst_rate')} "
        f"| {r['burst_p50']:.0f}/{r['burst_p99']:.0f} | {r['steady_p50']:.1f}/{r['steady_p99']:.1f} "
        f"| {r['kb_per_socket']:.0f} | {r['lost']} | {r['errors']}{' (' + kinds + ')' if kinds else ''} |"
    )


async def main_async(args) -> None:
    room_counts = [int(n) for n in args.rooms.split(",")]
    targets = [t for t in args.targets.split(",") if t]
    if not os.environ.get("REDIS_URL"):
        skipped = [t for t in targets if t in REDIS_TARGETS]
        if skipped:
            print(f"REDIS_URL is not set: skipping {', '.join(skipped)}")
        targets = [t for t in targets if t not in skipped]
    if "two-daphne" in targets and not shutil.which("nginx"):
        print("nginx is not installed: skipping two-daphne")
        targets.remove("two-daphne")
    all_rooms = await asyncio.to_thread(rooms_with_sessions, max(room_counts))
    print(HEADER)
    print("|---" * (HEADER.count("|") - 1) + "|")
    results = []
    for count in room_counts:
        bare = None
        by_target = {}
        for target in targets:
            result = await measure(target, all_rooms[:count], args)
            if target == "bare":
                bare = result
            by_target[target] = result
            results.append(result)
            print(row(result, bare), flush=True)
        if "redis" in by_target and "two-daphne" in by_target:
            one, two = by_target["redis"], by_target["two-daphne"]
            print(
                f"|   two-daphne / one daphne on Redis, {count} rooms: burst msg/s "
                f"{two['burst_rate'] / one['burst_rate']:.2f}× (target ≥ 1.6×) |",
                flush=True,
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", default="100,500,1000", help="comma-separated room counts (2 sockets each)")
    parser.add_argument("--seconds", type=int, default=5, help="steady phase: one message a second per socket")
    parser.add_argument("--drain", type=float, default=10, help="most seconds to wait for messages still on their way")
    parser.add_argument("--targets", default=",".join(ALL_TARGETS), help=f"some of {','.join(ALL_TARGETS)}")
    parser.add_argument(
        "--connect-concurrency",
        type=int,
        default=16,
        help="sockets opening at once (daphne drops a handshake after 5 s)",
    )
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if max(int(n) for n in args.rooms.split(",")) > 2000:
        parser.error("at most 2000 rooms (4000 sockets) on one machine")
    # A stopped benchmark stops its servers too (the `finally` blocks run on SIGTERM as on Ctrl-C).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if GENERATOR_CORES:
        os.sched_setaffinity(0, GENERATOR_CORES)
    setup_django()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
