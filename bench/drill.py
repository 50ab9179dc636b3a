"""Fault drill: conversations going on through kill -9 of a worker, a MariaDB restart and a
Redis restart, on ``psonlinechat serve --workers 2`` with Redis.

    .venv/bin/python bench/drill.py --conversations 50 --fault all --json drill.json

The drill starts a private MariaDB (``mariadb-install-db`` in a temporary folder, then
``mariadbd`` on a free 127.0.0.1 port) and a private Redis, loads PrestaShop's schema into
the first (``bench/chatsetup.py``: one shop per ``--per-shop`` conversations, the module
installed, one signed-in employee per shop), and starts ``serve`` with 2 gevent workers and
``PSONLINECHAT_REDIS_URL`` on the private Redis. The machine's shared MariaDB and Redis are
never touched: only the private instances are restarted, and they are stopped at the end,
whatever happens.

Clients (asyncio ``websockets``, in this process): one operator socket per shop and N
visitor sockets. Each visitor sends a message a second; its shop's operator answers each.
They behave as real clients do: on a lost socket they reconnect with backoff and jitter
(visitors with their resume token and last seq, operators with ``last_seqs``), and re-send
every unacknowledged message with the same ``client_id``; messages typed meanwhile wait.
Every body carries the message's id and its send time.

After a quiet phase (``none``, the reference) each fault in turn gets a phase of its own:

- ``kill9``: SIGKILL to the worker holding the most sockets (gunicorn starts another);
- ``mariadb``: the private MariaDB shut down, started again on the same datadir and port;
- ``redis``: the private Redis stopped and started again on the same port.

For each phase: the sockets the server closed (and how), failed reconnection attempts,
the time from the fault until every socket was back, each visitor's longest silence from
its operator, and the messages of the phase lost, stored twice, received again or out of
order (from the clients' view and from the database's log). ``--serve-command`` runs
another installation's ``psonlinechat`` (a checkout of older code, say).
"""

from __future__ import annotations

import abc
import argparse
import asyncio
import atexit
import contextlib
import dataclasses
import datetime
import json
import os
import pathlib
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus, WebSocketException

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# load puts the repository on sys.path
from load import (  # noqa: E402
    free_port,
    most_open_files,
    process_tree,
    running,
    shared_arguments,
    worker_connections,
)

FAULTS = ("kill9", "mariadb", "redis")
BACKOFF_BASE, BACKOFF_CAP = 0.5, 8.0  # seconds: 0.25–0.5, 0.5–1, 1–2, … 4–8
GREET_TIMEOUT = 15.0
DRAIN_SECONDS = 30.0
#: Refusals a client does not retry: the frame itself is wrong, or so is its target.
FINAL_ERRORS = {"bad_json", "unknown_type", "missing_field", "bad_field", "empty_message",
                "message_too_long", "frame_too_large", "not_found", "not_ongoing",
                "archived", "no_conversation", "hello_first", "already_greeted"}
#: A message counts for the fault that comes within this many seconds after it was sent
#: (one sent just before a fault is caught by it; the others are delivered well before).
MESSAGE_LEAD = 5.0
BODY_RE = re.compile(r"^([qa]) (\d+) (\d+) ")


def now() -> float:
    return time.monotonic()


# --- private services ------------------------------------------------------------------------

class Service(abc.ABC):
    """A server process of the drill's own, on a free 127.0.0.1 port."""

    name = ""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @abc.abstractmethod
    def command(self) -> list[str]:
        """The command line that starts the server."""

    @abc.abstractmethod
    def answers(self) -> bool:
        """Whether the server answers on its port now."""

    def start(self, timeout: float = 120.0) -> None:
        """Start the process and wait until it answers.

        :raises RuntimeError: it exited, or did not answer within ``timeout`` seconds.
        """
        self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = now() + timeout
        while not self.answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"private {self.name} exited with {self.process.returncode}")
            if now() > deadline:
                raise RuntimeError(f"private {self.name} did not answer within {timeout} s")
            time.sleep(0.05)

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM (a clean shutdown), SIGKILL after ``timeout`` seconds."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    def restart(self, pause: float = 0.0) -> dict[str, Any]:
        """Stop, wait ``pause`` seconds, start again on the same port and data; how long
        it was away."""
        started = now()
        self.stop()
        stopped = now()
        time.sleep(pause)
        self.start()
        return {"stopping_s": round(stopped - started, 2), "down_s": round(now() - started, 2)}


class PrivateMariaDB(Service):
    name = "MariaDB"

    def __init__(self, root: pathlib.Path) -> None:
        super().__init__(root)
        self.datadir = root / "mariadb"
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={self.datadir}",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, capture_output=True, timeout=300)

    def command(self) -> list[str]:
        d = self.datadir
        return ["/usr/sbin/mariadbd", "--no-defaults", f"--datadir={d}", f"--port={self.port}",
                "--bind-address=127.0.0.1", f"--socket={d}/sock", f"--pid-file={d}/pid",
                "--user=root", "--skip-grant-tables", f"--log-error={self.root}/mariadb.err",
                "--innodb-buffer-pool-size=64M", "--max-connections=400"]

    def answers(self) -> bool:
        import pymysql

        try:
            pymysql.connect(host="127.0.0.1", port=self.port, user="root", connect_timeout=1,
                            ssl_disabled=True).close()
            return True
        except pymysql.MySQLError:
            return False


class PrivateRedis(Service):
    name = "Redis"

    def command(self) -> list[str]:
        return ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--dir", str(self.root),
                "--logfile", str(self.root / "redis.log")]

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), 1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


# --- what the clients saw --------------------------------------------------------------------

@dataclasses.dataclass
class Message:
    """One message the drill sent: a visitor's question or the operator's answer to it."""

    key: str  # q<visitor>-<n> or a<visitor>-<n>, also its client_id
    created: float
    acked: float | None = None
    delivered: float | None = None
    gave_up: str | None = None


@dataclasses.dataclass
class Pending:
    frame: dict[str, Any]
    sent_on: int = -1  # the connection it was last sent on
    retries: int = 0


class Record:
    """Everything the clients saw, with times, for the figures."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.messages: dict[str, Message] = {}
        self.closes: list[tuple[float, str]] = []  # a greeted socket the server closed
        self.failures: list[tuple[float, str]] = []  # a connection attempt that failed
        self.ups: dict[str, list[tuple[float, bool]]] = {}  # endpoint → (time, up?)
        self.again: list[tuple[float, str]] = []  # a logged event the socket already had
        self.late: list[tuple[float, str]] = []  # a new event below the socket's highest
        self.errors: list[tuple[float, str]] = []
        self.heard: dict[int, list[float]] = {}  # visitor → times an answer arrived
        self.notes: list[tuple[float, str]] = []
        self.sending = True
        self.stopping = False

    def backoff(self, attempt: int) -> float:
        delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** attempt)
        return self.rng.uniform(delay / 2, delay)

    def delivered(self, key: str) -> None:
        message = self.messages.get(key)
        if message is None or message.delivered is not None:
            return
        message.delivered = now()
        if key.startswith("a"):
            self.heard.setdefault(int(key[1:].split("-")[0]), []).append(message.delivered)


def close_code(ws: ClientConnection) -> str:
    frame = ws.protocol.close_rcvd
    return str(frame.code) if frame is not None else "no close frame"


class Endpoint(abc.ABC):
    """One client socket that lives through faults as a real client does."""

    greeting = ""
    kind = ""

    def __init__(self, record: Record, name: str, target: dict[str, Any]) -> None:
        self.record, self.name, self.target = record, name, target
        self.ws: ClientConnection | None = None
        self.connection = 0
        self.pending: dict[str, Pending] = {}
        self.seen: dict[int, set[int]] = {}  # id_conversation → seqs received
        self.top: dict[int, int] = {}  # id_conversation → highest seq received
        self.ready = asyncio.Event()
        record.ups[name] = []

    @property
    def up(self) -> bool:
        return self.ws is not None

    @abc.abstractmethod
    def hello(self) -> dict[str, Any]:
        """The hello frame this client opens (or resumes) with."""

    @abc.abstractmethod
    async def handle(self, event: dict[str, Any], ws: ClientConnection) -> None:
        """Act on one event the server sent."""

    async def _connect(self) -> ClientConnection:
        extra = {"host": self.target["connect_to"]} if self.target.get("connect_to") else {}
        return await connect(self.target["url"],
                             additional_headers=self.target.get("headers") or {},
                             origin=self.target.get("origin"), compression=None, proxy=None,
                             open_timeout=10, ping_interval=None, max_queue=None,
                             close_timeout=2, **extra)

    async def live(self) -> None:
        """Connect, greet, re-send, read; again after each loss, with backoff, until the end."""
        attempt = 0
        while not self.record.stopping:
            try:
                ws = await self._connect()
            except InvalidStatus as exc:
                self._failed(f"HTTP {exc.response.status_code}")
            except (OSError, TimeoutError, WebSocketException) as exc:
                self._failed(type(exc).__name__)
            else:
                if await self._session(ws):
                    attempt = 0
            if self.record.stopping:
                return
            await asyncio.sleep(self.record.backoff(attempt))
            attempt += 1

    def _failed(self, reason: str) -> None:
        if not self.record.stopping:
            self.record.failures.append((now(), reason))

    async def _session(self, ws: ClientConnection) -> bool:
        """One connection: whether it got as far as the greeting."""
        self.connection += 1
        try:
            await ws.send(json.dumps(self.hello()))
            await asyncio.wait_for(self._greet(ws), GREET_TIMEOUT)
            await self._resend(ws)
        except (OSError, TimeoutError, WebSocketException, RuntimeError) as exc:
            code = close_code(ws) if ws.protocol.close_rcvd else type(exc).__name__
            self._failed(f"{self.greeting}: {code}")
            await ws.close()
            return False
        self.ws = ws
        self.record.ups[self.name].append((now(), True))
        self.ready.set()
        try:
            async for text in ws:
                await self.handle(json.loads(text), ws)
        except (OSError, WebSocketException):
            pass
        self.ws = None
        if not self.record.stopping:
            self.record.ups[self.name].append((now(), False))
            self.record.closes.append((now(), close_code(ws)))
        return True

    async def _greet(self, ws: ClientConnection) -> None:
        while True:
            event = json.loads(await ws.recv())
            await self.handle(event, ws)
            if event.get("type") == self.greeting:
                return

    async def _resend(self, ws: ClientConnection) -> None:
        """Send what was never acknowledged (oldest first) on this connection."""
        while todo := [key for key, p in self.pending.items() if p.sent_on != self.connection]:
            for key in todo:
                await self._send_on(ws, key)

    async def _send_on(self, ws: ClientConnection, key: str) -> None:
        pending = self.pending.get(key)
        if pending is not None:
            pending.sent_on = self.connection
            await ws.send(json.dumps(pending.frame))

    async def send(self, key: str, frame: dict[str, Any]) -> None:
        """Queue a message; send it now if the socket is up (else on reconnect)."""
        self.pending[key] = Pending(frame)
        await self.resend(key)

    async def resend(self, key: str) -> None:
        ws = self.ws
        if ws is not None:
            with contextlib.suppress(OSError, WebSocketException):
                await self._send_on(ws, key)

    def acked(self, event: dict[str, Any]) -> None:
        key = event.get("client_id", "")
        self.pending.pop(key, None)
        message = self.record.messages.get(key)
        if message is not None and message.acked is None:
            message.acked = now()

    def refused(self, event: dict[str, Any]) -> None:
        """An ``error`` event: retry the message it names later, unless it can never pass."""
        code = event.get("code", "?")
        self.record.errors.append((now(), code))
        key = event.get("ref", "")
        pending = self.pending.get(key)
        if pending is None:
            return
        if code in FINAL_ERRORS or pending.retries >= 20:
            self.pending.pop(key)
            self.record.messages[key].gave_up = code
            return
        pending.retries += 1
        delay = float(event.get("retry_after") or 0) + self.record.backoff(min(pending.retries, 3))
        asyncio.get_running_loop().call_later(
            delay, lambda: asyncio.ensure_future(self.resend(key)))

    def logged(self, event: dict[str, Any]) -> bool:
        """Note a logged event's seq; whether it is new to this socket."""
        conv, seq = int(event["id_conversation"]), int(event["seq"])
        seen = self.seen.setdefault(conv, set())
        if seq in seen:
            self.record.again.append((now(), self.kind))
            return False
        if seq < self.top.get(conv, 0):
            self.record.late.append((now(), self.kind))
        seen.add(seq)
        self.top[conv] = max(seq, self.top.get(conv, 0))
        return True


class Visitor(Endpoint):
    """A storefront visitor: one conversation, a question a second."""

    greeting = "welcome"
    kind = "visitor"

    def __init__(self, record: Record, index: int, target: dict[str, Any]) -> None:
        super().__init__(record, f"visitor {index}", target)
        self.index = index
        self.token: str | None = None
        self.conversation: int | None = None
        self.opened = asyncio.Event()

    def hello(self) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "hello", "page_url": "http://127.0.0.1/drill"}
        if self.token:
            frame["token"] = self.token
        if self.conversation is not None:
            frame["last_seq"] = self.top.get(self.conversation, 0)
        return frame

    async def handle(self, event: dict[str, Any], ws: ClientConnection) -> None:
        kind = event.get("type")
        if kind == "welcome":
            self.token = event.get("token") or self.token
            if event.get("conversation"):
                self._follow(event["conversation"]["id_conversation"])
            for logged in event.get("events", []):
                self._logged(logged)
        elif kind == "ack":
            self.acked(event)
            if event.get("conversation"):
                self.token = event.get("token") or self.token
                self._follow(event["conversation"]["id_conversation"])
        elif kind in ("message", "ended", "reopened"):
            self._logged(event)
        elif kind == "state" and "conversation" in event:
            self.record.notes.append((now(), "conversation archived"))
            self.token, self.conversation = event.get("token"), None
        elif kind == "error":
            self.refused(event)
        elif kind == "ping":
            await ws.send('{"type": "pong"}')

    def _follow(self, id_conversation: int) -> None:
        self.conversation = int(id_conversation)
        self.opened.set()

    def _logged(self, event: dict[str, Any]) -> None:
        if self.logged(event) and event.get("author") == "operator":
            found = BODY_RE.match(event.get("body", ""))
            if found and found[1] == "a":
                self.record.delivered(f"a{found[2]}-{found[3]}")

    async def talk(self, start: float, period: float) -> None:
        """A question every ``period`` seconds from ``start`` while the drill sends."""
        n = 0
        while True:
            await asyncio.sleep(max(0.0, start + n * period - now()))
            if not self.record.sending:
                return
            key, sent = f"q{self.index}-{n}", now()
            self.record.messages[key] = Message(key, sent)
            await self.send(key, {"type": "message", "client_id": key,
                                  "body": f"q {self.index} {n} {sent:.6f}"})
            n += 1


class Operator(Endpoint):
    """A back-office console following one shop: answers every question at once."""

    greeting = "recap"
    kind = "operator"

    def __init__(self, record: Record, index: int, target: dict[str, Any]) -> None:
        super().__init__(record, f"operator {index}", target)
        self.switched = False

    def hello(self) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "hello", "id_shop": self.target["id_shop"]}
        if self.top:
            frame["last_seqs"] = {str(conv): seq for conv, seq in self.top.items()}
        return frame

    async def _greet(self, ws: ClientConnection) -> None:
        await super()._greet(ws)
        if not self.switched:  # the employee's switch, turned on once
            await ws.send(json.dumps({"type": "status", "online": True}))
            while (event := json.loads(await ws.recv())).get("type") != "status":
                await self.handle(event, ws)
            self.switched = True

    async def handle(self, event: dict[str, Any], ws: ClientConnection) -> None:
        kind = event.get("type")
        if kind == "recap":
            if self.switched and not event.get("online"):
                self.record.notes.append((now(), "operator found offline"))
            for conversation in event.get("conversations", []):
                for logged in conversation.get("events", []):
                    await self._logged(logged)
        elif kind == "ack":
            self.acked(event)
        elif kind in ("message", "ended", "reopened"):
            await self._logged(event)
        elif kind == "error":
            self.refused(event)
        elif kind == "ping":
            await ws.send('{"type": "pong"}')

    async def _logged(self, event: dict[str, Any]) -> None:
        if not self.logged(event) or event.get("author") != "customer":
            return
        found = BODY_RE.match(event.get("body", ""))
        if not found or found[1] != "q":
            return
        self.record.delivered(f"q{found[2]}-{found[3]}")
        key = f"a{found[2]}-{found[3]}"
        if key in self.record.messages:
            return  # answered already
        self.record.messages[key] = Message(key, now())
        await self.send(key, {"type": "message", "id_conversation": event["id_conversation"],
                              "client_id": key,
                              "body": f"a {found[2]} {found[3]} {now():.6f}"})


# --- faults ----------------------------------------------------------------------------------

def socket_count(pid: int) -> int:
    count = 0
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
    return count


def kill_worker(master: int) -> dict[str, Any]:
    """SIGKILL to the worker with the most sockets; wait for gunicorn's replacement."""
    workers = [pid for pid in process_tree(master) if pid != master]
    victim = max(workers, key=socket_count)
    sockets = socket_count(victim)
    started = now()
    os.kill(victim, signal.SIGKILL)
    while now() - started < 60:
        others = [pid for pid in process_tree(master) if pid != master]
        if victim not in others and len(others) >= len(workers):
            return {"worker": victim, "its_socket_fds": sockets,
                    "replaced_in_s": round(now() - started, 2)}
        time.sleep(0.05)
    return {"worker": victim, "its_socket_fds": sockets, "replaced_in_s": None}


def describe(fault: str, info: dict[str, Any]) -> str:
    if fault == "kill9":
        return f"kill -9 of one of 2 workers (its {info['its_socket_fds']} socket fds)"
    if fault in ("mariadb", "redis"):
        return f"{'MariaDB' if fault == 'mariadb' else 'Redis'} away {info['down_s']} s"
    return "-"


# --- the run ---------------------------------------------------------------------------------

@dataclasses.dataclass
class Phase:
    fault: str
    start: float
    end: float = 0.0
    info: dict[str, Any] = dataclasses.field(default_factory=dict)
    log_from: int = 0
    log_to: int = 0


class Drill:
    def __init__(self, args: argparse.Namespace, plan: dict[str, Any], master: int,
                 mariadb: PrivateMariaDB, redis: PrivateRedis, log: pathlib.Path) -> None:
        self.args, self.master, self.log = args, master, log
        self.mariadb, self.redis = mariadb, redis
        self.record = Record(args.seed)
        self.operators = [Operator(self.record, i, t) for i, t in enumerate(plan["operators"])]
        self.visitors = [Visitor(self.record, i, t) for i, t in enumerate(plan["visitors"])]
        self.phases: list[Phase] = []
        self.tasks: list[asyncio.Task] = []

    @property
    def endpoints(self) -> list[Endpoint]:
        return [*self.operators, *self.visitors]

    async def _all(self, events: list[asyncio.Event], what: str, timeout: float = 120.0) -> None:
        try:
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), timeout)
        except TimeoutError:
            missing = sum(not e.is_set() for e in events)
            raise RuntimeError(f"{missing} of {len(events)} {what} within {timeout} s: "
                               f"{Counter(r for _, r in self.record.failures).most_common(5)}"
                               ) from None

    async def run(self) -> None:
        for endpoint in self.operators:
            self.tasks.append(asyncio.create_task(endpoint.live()))
        await self._all([o.ready for o in self.operators], "operators greeted")
        for endpoint in self.visitors:
            self.tasks.append(asyncio.create_task(endpoint.live()))
        await self._all([v.ready for v in self.visitors], "visitors greeted")
        start, count = now(), len(self.visitors)
        period = 1.0 / self.args.rate
        self.tasks += [asyncio.create_task(v.talk(start + period * i / count, period))
                       for i, v in enumerate(self.visitors)]
        await self._all([v.opened for v in self.visitors], "conversations opened")
        await asyncio.sleep(2.0)
        self._begin("none")
        await asyncio.sleep(self.args.baseline_seconds)
        for fault in self.args.faults:
            phase = self._begin(fault)
            phase.info = await asyncio.to_thread(self._inject, fault)
            await self._settle(phase)
        self.record.sending = False
        self.phases[-1].end = now()
        self.phases[-1].log_to = self._log_size()
        await self._drain()

    def _log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def _begin(self, fault: str) -> Phase:
        at, size = now(), self._log_size()
        if self.phases:
            self.phases[-1].end, self.phases[-1].log_to = at, size
        phase = Phase(fault, at, log_from=size)
        self.phases.append(phase)
        print(f"[{time.strftime('%H:%M:%S')}] phase {fault}", file=sys.stderr)
        return phase

    def _inject(self, fault: str) -> dict[str, Any]:
        if fault == "kill9":
            return kill_worker(self.master)
        if fault == "mariadb":
            return self.mariadb.restart(self.args.down_seconds)
        return self.redis.restart(self.args.down_seconds)

    async def _settle(self, phase: Phase) -> None:
        """At least ``--phase-seconds``, until every socket is up (at most ``--phase-timeout``)."""
        while now() - phase.start < self.args.phase_timeout:
            if now() - phase.start >= self.args.phase_seconds and all(
                    e.up for e in self.endpoints):
                return
            await asyncio.sleep(0.1)

    async def _drain(self) -> None:
        deadline = now() + DRAIN_SECONDS
        while now() < deadline and any(m.delivered is None and m.gave_up is None
                                       for m in self.record.messages.values()):
            await asyncio.sleep(0.2)
        self.record.stopping = True
        for endpoint in self.endpoints:
            if endpoint.ws is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(endpoint.ws.close(), 3)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


# --- figures ---------------------------------------------------------------------------------

def in_phase(t: float, phases: list[Phase], index: int, lead: float = 0.0) -> bool:
    """Whether ``t`` falls in the phase (moved ``lead`` seconds earlier; the last phase
    runs to the end of the drill)."""
    start = phases[index].start - lead if index else 0.0
    return start <= t and (index == len(phases) - 1 or t < phases[index].end - lead)


def counted(items: list[tuple[float, str]], phases: list[Phase], index: int) -> dict[str, int]:
    return dict(Counter(what for t, what in items if in_phase(t, phases, index)).most_common())


def back_after(record: Record, phase: Phase) -> float | None | str:
    """Seconds from the fault until the last socket lost in the phase was up again."""
    latest, lost = phase.start, False
    for history in record.ups.values():
        downs = [t for t, up in history if not up and phase.start <= t < phase.end]
        if not downs:
            continue
        lost = True
        ups = [t for t, up in history if up and t > downs[-1]]
        if not ups:
            return "not all back"
        latest = max(latest, ups[0])
    return round(latest - phase.start, 2) if lost else None


def silences(record: Record, visitors: int, start: float, end: float) -> list[float]:
    """Each visitor's longest wait between answers from its operator within [start, end]."""
    result = []
    for index in range(visitors):
        times = sorted(record.heard.get(index, []))
        previous = max((t for t in times if t <= start), default=start)
        longest = 0.0
        for t in times:
            if start < t <= end:
                longest, previous = max(longest, t - previous), t
        result.append(max(longest, end - previous))
    return result


def database_log(database_url: str, port: int, prefix: str) -> list[tuple[int, int, str]]:
    """(id_conversation, seq, body) of every message in the private database's log."""
    import pymysql

    name = database_url.rsplit("/", 1)[1].split("?")[0]
    with pymysql.connect(host="127.0.0.1", port=port, user="root", database=name,
                         ssl_disabled=True) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT id_conversation, seq, body FROM `{prefix}psonlinechat_message` "
                    "WHERE kind = 'message' ORDER BY id_conversation, seq")
        return list(cur.fetchall())


def log_checks(rows: list[tuple[int, int, str]]) -> tuple[Counter, set[str]]:
    """Per message key: how often it is stored; and the keys stored after a later one of
    the same sender in the same conversation."""
    stored: Counter = Counter()
    disordered: set[str] = set()
    highest: dict[tuple[int, str], int] = {}
    for conv, _seq, body in rows:
        found = BODY_RE.match(body)
        if not found:
            continue
        key = f"{found[1]}{found[2]}-{found[3]}"
        stored[key] += 1
        sender, n = (conv, found[1]), int(found[3])
        if n < highest.get(sender, -1):
            disordered.add(key)
        highest[sender] = max(n, highest.get(sender, -1))
    return stored, disordered


def tracebacks(log: pathlib.Path, start: int, end: int) -> int:
    with open(log, "rb") as f:
        f.seek(start)
        return f.read(max(0, end - start)).count(b"Traceback (most recent call last)")


def figures(drill: Drill, rows: list[tuple[int, int, str]]) -> dict[str, Any]:
    record, phases = drill.record, drill.phases
    stored, disordered = log_checks(rows)
    result = {}
    for index, phase in enumerate(phases):
        mine = [m for m in record.messages.values()
                if in_phase(m.created, phases, index, MESSAGE_LEAD)]
        waits = silences(record, len(drill.visitors), phase.start, phase.end)
        delays = sorted((m.delivered - m.created, m.key) for m in mine if m.delivered is not None)
        result[phase.fault] = {
            "fault": describe(phase.fault, phase.info), "fault_info": phase.info,
            "seconds": round(phase.end - phase.start, 1),
            "sockets": len(drill.endpoints),
            "closed_by_server": counted(record.closes, phases, index),
            "failed_attempts": counted(record.failures, phases, index),
            "all_back_after_s": back_after(record, phase),
            "silence_s": {"median": round(statistics.median(waits), 2),
                          "max": round(max(waits), 2)},
            "sent": {"questions": sum(m.key.startswith("q") for m in mine),
                     "answers": sum(m.key.startswith("a") for m in mine)},
            "lost": sum(m.delivered is None for m in mine),
            "never_stored": sum(stored[m.key] == 0 and m.gave_up is None for m in mine),
            "unacknowledged": sum(m.acked is None for m in mine),
            "gave_up": dict(Counter(m.gave_up for m in mine if m.gave_up)),
            "stored_twice": sum(stored[m.key] > 1 for m in mine),
            "received_again": counted(record.again, phases, index),
            "late": counted(record.late, phases, index),
            "log_out_of_order": sum(m.key in disordered for m in mine),
            "slowest_delivery_s": round(delays[-1][0], 2) if delays else None,
            "slowest_messages": [(key, round(d, 2)) for d, key in delays[-5:]],
            "errors": counted(record.errors, phases, index),
            "notes": counted(record.notes, phases, index),
            "tracebacks_in_log": tracebacks(drill.log, phase.log_from, phase.log_to),
        }
    return result


def _counts(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    if not total:
        return "0"
    return f"{total} (" + ", ".join(f"{what} ×{n}" for what, n in counts.items()) + ")"


ROWS = (
    ("fault", lambda f: f["fault"]),
    ("sockets closed by the server (of all)",
     lambda f: f"{_counts(f['closed_by_server'])} of {f['sockets']}"),
    ("failed reconnection attempts", lambda f: _counts(f["failed_attempts"])),
    ("fault → all sockets back (s)", lambda f: f["all_back_after_s"] or "-"),
    ("longest silence per visitor, median / max (s)",
     lambda f: f"{f['silence_s']['median']} / {f['silence_s']['max']}"),
    ("messages sent (questions + answers)",
     lambda f: f"{f['sent']['questions']} + {f['sent']['answers']}"),
    ("messages lost: never delivered (never stored)",
     lambda f: f"{f['lost']} ({f['never_stored']})"),
    ("stored twice", lambda f: f["stored_twice"]),
    ("events received again (a seq the socket had)", lambda f: _counts(f["received_again"])),
    ("events out of order (below the socket's highest)", lambda f: _counts(f["late"])),
    ("messages out of order in the log", lambda f: f["log_out_of_order"]),
    ("slowest delivery (s)", lambda f: f["slowest_delivery_s"]),
    ("error events", lambda f: _counts(f["errors"])),
    ("tracebacks in the server's log", lambda f: f["tracebacks_in_log"]),
)


def table(result: dict[str, dict[str, Any]]) -> str:
    names = list(result)
    lines = ["| figure | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for label, get in ROWS:
        lines.append(f"| {label} | " + " | ".join(str(get(result[n])) for n in names) + " |")
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------------

def serve_command(args: argparse.Namespace, port: int) -> list[str]:
    launcher = (args.serve_command.split() if args.serve_command
                else [str(pathlib.Path(sys.executable).with_name("psonlinechat"))])
    return [*launcher, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2",
            "--worker-class", "gevent",
            "--worker-connections", str(worker_connections(args.conversations))]


def drill_on(args: argparse.Namespace, mariadb: PrivateMariaDB,
             redis: PrivateRedis) -> dict[str, Any]:
    # tests.support.shopdb reads where MariaDB is at import: the private one, in this process.
    os.environ.update(PSONLINECHAT_TEST_DB_HOST="127.0.0.1",
                      PSONLINECHAT_TEST_DB_PORT=str(mariadb.port))
    from chatsetup import prepared_shop

    from tests.support import shopdb

    assert shopdb.MARIADB["port"] == mariadb.port, "shopdb was imported before the drill"
    port = free_port()
    args.logs.mkdir(parents=True, exist_ok=True)
    log = args.logs / "drill-serve.log"
    with prepared_shop(args.conversations, args.per_shop, port) as shop:
        env = dict(os.environ, **shop.environment,
                   PSONLINECHAT_REDIS_URL=f"redis://127.0.0.1:{redis.port}/0",
                   PSONLINECHAT_SECRET_KEY=os.urandom(24).hex())
        with running(serve_command(args, port), env, port, log) as server:
            drill = Drill(args, shop.plan(0, args.rate), server.pid, mariadb, redis, log)
            limit = 300 + args.baseline_seconds + len(args.faults) * args.phase_timeout
            asyncio.run(asyncio.wait_for(drill.run(), limit))
        rows = database_log(shop.environment["PSONLINECHAT_DATABASE_URL"], mariadb.port,
                            shop.environment["PSONLINECHAT_TABLE_PREFIX"])
        return figures(drill, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared_arguments(parser, conversations=50, per_shop=5,
                     logs="where the server's log goes (drill-serve.log)",
                     json_help="also write the figures here")
    parser.add_argument("--fault", choices=(*FAULTS, "all"), default="all")
    parser.add_argument("--baseline-seconds", type=float, default=10.0,
                        help="the quiet phase before the faults")
    parser.add_argument("--phase-seconds", type=float, default=40.0,
                        help="each fault's phase lasts at least this long")
    parser.add_argument("--phase-timeout", type=float, default=120.0,
                        help="and at most this long, even if sockets are still away")
    parser.add_argument("--down-seconds", type=float, default=0.0,
                        help="keep MariaDB or Redis stopped this long before starting it "
                        "again (a slower restart)")
    parser.add_argument("--serve-command", help="the psonlinechat command to run serve with "
                        "(default: the one next to this Python)")
    parser.add_argument("--seed", type=int, default=8, help="for the reconnection jitter")
    args = parser.parse_args()
    if args.conversations < 1 or args.per_shop < 1 or args.rate <= 0:
        parser.error("--conversations, --per-shop and --rate must be positive")
    args.faults = FAULTS if args.fault == "all" else (args.fault,)
    most_open_files(parser)

    root = pathlib.Path(tempfile.mkdtemp(prefix="psonlinechat-drill-"))
    services: list[Service] = []

    def clean_up() -> None:
        for service in reversed(services):
            service.stop()
        services.clear()
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(clean_up)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        services.append(PrivateMariaDB(root))
        services[-1].start()
        services.append(PrivateRedis(root))
        services[-1].start()
        result = drill_on(args, *services)  # type: ignore[arg-type]
    finally:
        clean_up()
    command = " ".join([sys.executable, *sys.argv])
    print(f"\n{datetime.date.today()}: {args.conversations} conversations, "
          f"{-(-args.conversations // args.per_shop)} shops "
          f"with one operator socket each, serve --workers 2 (gevent) with Redis, "
          f"{os.cpu_count()} cores\n`{command}`\n")
    print(table(result))
    print(f"\nthe server's log: {args.logs / 'drill-serve.log'}")
    if args.json:
        args.json.write_text(json.dumps({"date": str(datetime.date.today()),
                                         "command": command, "phases": result}, indent=2))


if __name__ == "__main__":
    main()
