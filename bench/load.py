"""Load run: the chat under ``psonlinechat serve`` against two references, same load.

    .venv/bin/python bench/load.py --conversations 100 --duration 20

For each target in turn (the chat, the bare websockets relay of ``bench/relay.py``, then
the persisted floor of ``bench/floor.py``: flask-sock on gevent committing one INSERT per
message before relaying it) it starts the server as a subprocess on a free 127.0.0.1
port, runs ``bench/loadgen.py`` in another process (N visitor sockets and one operator
socket per ``--per-shop`` conversations; every visitor sends one message a second, its
operator answers each at once), samples the server's memory and CPU from /proc
meanwhile, stops the server, and finally prints a table of all with the ratios ours /
relay and ours / floor (``--only`` picks targets). The chat runs on a fresh MariaDB
database (the module installed, one signed-in employee per operator socket, the
merchant's cap on simultaneous conversations lifted) that is dropped at the end, the
floor on a fresh database of its own; ``--redis`` adds a Redis broker to the chat.
Everything is bounded in time and cleaned up, even on errors or Ctrl-C.

The machine this was written on has 2 cores: the load generator, the server and MariaDB
share them, so absolute figures are pessimistic; the ratios to the references are the figure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import pathlib
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))  # tests.support.shopdb: fresh PrestaShop databases on MariaDB

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port} within {timeout} s")


def process_tree(root: int) -> list[int]:
    """``root`` and its descendants, from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = pathlib.Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return tree


def rss_and_cpu(pid: int) -> tuple[int, float]:
    """Resident bytes and CPU seconds (user + system) of one process."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        rss_pages = int(pathlib.Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0, 0.0
    return rss_pages * PAGE_SIZE, (int(stat[11]) + int(stat[12])) / CLOCK_TICKS


def database_pid() -> int | None:
    """The MariaDB (or MySQL) server's process, if it runs on this machine."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if pathlib.Path(f"/proc/{entry}/comm").read_text().strip() in {"mariadbd",
                                                                               "mysqld"}:
                    return int(entry)
    return None


class Sampler(threading.Thread):
    """Samples the RSS and CPU of a process tree twice a second."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.stop = threading.Event()
        self.peak_rss = 0
        self.peak_worker_rss = 0
        self.cpu_start = self._cpu()
        self.cpu_end = self.cpu_start
        self.database = database_pid()
        self.database_cpu_start = rss_and_cpu(self.database)[1] if self.database else 0.0

    def _cpu(self) -> float:
        return sum(rss_and_cpu(pid)[1] for pid in process_tree(self.root))

    def run(self) -> None:
        while not self.stop.wait(0.5):
            pids = process_tree(self.root)
            figures = [rss_and_cpu(pid) for pid in pids]
            self.peak_rss = max(self.peak_rss, sum(rss for rss, _ in figures))
            workers = [rss for pid, (rss, _) in zip(pids, figures, strict=True) if pid != self.root]
            self.peak_worker_rss = max(self.peak_worker_rss, max(workers, default=0))
            self.cpu_end = sum(cpu for _, cpu in figures)

    def finish(self) -> dict[str, Any]:
        self.stop.set()
        self.join()
        return {"peak_rss_mb": round(self.peak_rss / 2**20, 1),
                "peak_worker_rss_mb": round(self.peak_worker_rss / 2**20, 1),
                "cpu_seconds": round(self.cpu_end - self.cpu_start, 2),
                "database_cpu_seconds": round(rss_and_cpu(self.database)[1]
                                              - self.database_cpu_start, 2)
                if self.database else None}


@contextlib.contextmanager
def running(command: list[str], env: dict[str, str], port: int, log_path: pathlib.Path
            ) -> Iterator[subprocess.Popen]:
    """A server subprocess listening on ``port``; stopped (TERM, then KILL) on the way out."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            wait_for_port(port, process)
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(5)


def load(plan: dict[str, Any], server_pid: int, timeout: float) -> dict[str, Any]:
    """Run bench/loadgen.py with ``plan`` while sampling the server; its JSON result."""
    sampler = Sampler(server_pid)
    sampler.start()
    try:
        done = subprocess.run([sys.executable, str(HERE / "loadgen.py")], input=json.dumps(plan),
                              capture_output=True, text=True, timeout=timeout)
    finally:
        server = sampler.finish()
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout)
    result["server"] = server
    return result


# --- the references --------------------------------------------------------------------------

def worker_connections(conversations: int) -> int:
    """gunicorn's ``--worker-connections`` for a run: room for every socket (a visitor's
    and, at most, an operator's per conversation) and for stragglers."""
    return 2 * conversations + 100


def relay_plan(args: argparse.Namespace, port: int) -> dict[str, Any]:
    """The load of a reference (relay or floor): the same sockets and traffic as the chat's."""
    base = f"ws://127.0.0.1:{port}"
    groups = math.ceil(args.conversations / args.per_shop)
    return {"mode": "relay", "duration": args.duration, "rate": args.rate,
            "operators": [{"url": f"{base}/operator/{g}"} for g in range(groups)],
            "visitors": [{"url": f"{base}/visitor/{i % groups}/{i}", "id_conversation": i,
                          "operator": i % groups}
                         for i in range(1, args.conversations + 1)]}


def run_reference(args: argparse.Namespace, logs: pathlib.Path) -> dict[str, Any]:
    port = free_port()
    command = [sys.executable, str(HERE / "relay.py"), "--port", str(port)]
    with running(command, dict(os.environ), port, logs / "relay.log") as process:
        return load(relay_plan(args, port), process.pid, args.duration + 300)


def run_floor(args: argparse.Namespace, logs: pathlib.Path) -> dict[str, Any]:
    """The persisted floor under the same load; ``stored``: the rows it committed."""
    port = free_port()
    command = [sys.executable, str(HERE / "floor.py"), "--port", str(port),
               "--worker-connections", str(worker_connections(args.conversations))]
    log_path = logs / "floor.log"
    with running(command, dict(os.environ), port, log_path) as process:
        result = load(relay_plan(args, port), process.pid, args.duration + 300)
    found = re.search(r"floor stored (\d+) messages", log_path.read_text(errors="replace"))
    result["stored"] = int(found.group(1)) if found else None
    return result


# --- the chat --------------------------------------------------------------------------------

def run_chat(args: argparse.Namespace, logs: pathlib.Path) -> dict[str, Any]:
    from chatsetup import prepared_shop

    port = free_port()
    with prepared_shop(args.conversations, args.per_shop, port) as shop:
        env = dict(os.environ, **shop.environment)
        if args.redis:
            env["PSONLINECHAT_REDIS_URL"] = args.redis
        # BENCH_SERVE_COMMAND runs serve through another launcher (a profiler, say).
        launcher = (os.environ.get("BENCH_SERVE_COMMAND", "").split()
                    or [str(pathlib.Path(sys.executable).with_name("psonlinechat"))])
        command = [*launcher, "serve",
                   "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
                   "--worker-class", args.worker_class,
                   "--worker-connections", str(worker_connections(args.conversations)),
                   "--threads", str(2 * args.conversations + 20)]
        with running(command, env, port, logs / f"chat-{args.worker_class}.log") as process:
            result = load(shop.plan(args.duration, args.rate), process.pid, args.duration + 300)
        result["worker_class"] = args.worker_class
        return result


# --- report ----------------------------------------------------------------------------------

ROWS = (
    ("sockets open", lambda r: r["visitors_open"] + r["operators_open"]),
    ("refused / errors", lambda r: f"{r['refused']} / {r['error_count']}"),
    ("connect time (s)", lambda r: r["connect_seconds"]),
    ("messages sent", lambda r: r["sent"]["visitor"] + r["sent"]["operator"]),
    ("messages lost", lambda r: r["lost"]),
    ("delivered / s", lambda r: r["messages_per_second"]),
    ("visitor→operator p50 (ms)", lambda r: r["latency_ms"]["to_operator"]["p50"]),
    ("visitor→operator p99 (ms)", lambda r: r["latency_ms"]["to_operator"]["p99"]),
    ("operator→visitor p50 (ms)", lambda r: r["latency_ms"]["to_visitor"]["p50"]),
    ("operator→visitor p99 (ms)", lambda r: r["latency_ms"]["to_visitor"]["p99"]),
    ("max latency (ms)", lambda r: max(r["latency_ms"]["to_operator"]["max"] or 0,
                                       r["latency_ms"]["to_visitor"]["max"] or 0)),
    ("server peak RSS, all processes (MB)", lambda r: r["server"]["peak_rss_mb"]),
    ("peak RSS of one worker (MB)", lambda r: r["server"]["peak_worker_rss_mb"] or "-"),
    ("server CPU (s)", lambda r: r["server"]["cpu_seconds"]),
    ("MariaDB CPU meanwhile (s)", lambda r: r["server"].get("database_cpu_seconds", "-")),
)
CHAT, RELAY, FLOOR = "psonlinechat", "websockets relay", "persisted floor"
RATIO_ROWS = {"delivered / s", "visitor→operator p50 (ms)", "visitor→operator p99 (ms)",
              "operator→visitor p50 (ms)", "operator→visitor p99 (ms)", "max latency (ms)",
              "server peak RSS, all processes (MB)", "server CPU (s)"}


def table(results: dict[str, dict[str, Any]]) -> str:
    """A Markdown table of ``results`` (keyed by target name), with a ratio column ours /
    relay and ours / floor for each reference that ran beside the chat."""
    names = list(results)
    ours = next((name for name in names if name.startswith(CHAT)), None)
    ratios = [(f"ours / {short}", name) for short, prefix in (("relay", RELAY), ("floor", FLOOR))
              for name in names if ours and name.startswith(prefix)]
    lines = ["| figure | " + " | ".join(names + [title for title, _ in ratios]) + " |",
             "|---" * (len(names) + len(ratios) + 1) + "|"]
    for label, get in ROWS:
        values = {name: get(results[name]) for name in names}
        cells = [str(values[name]) for name in names]
        for _, reference in ratios:
            mine, theirs = values[ours], values[reference]
            usable = label in RATIO_ROWS and isinstance(mine, (int, float)) \
                and isinstance(theirs, (int, float)) and theirs
            cells.append(f"{mine / theirs:.2f}" if usable else "")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


TARGETS = ("chat", "reference", "floor")


def targets(text: str) -> list[str]:
    """``--only``: one target or a comma-separated list (``relay`` is ``reference``).

    :raises argparse.ArgumentTypeError: an unknown target.
    """
    chosen = [{"relay": "reference"}.get(part.strip(), part.strip())
              for part in text.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in TARGETS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(TARGETS)}, not {text!r}")
    return chosen


def shared_arguments(parser: argparse.ArgumentParser, *, conversations: int, per_shop: int,
                     logs: str, json_help: str) -> None:
    """The options the load run and the drill share (``--conversations``, ``--per-shop``,
    ``--rate``, ``--logs``, ``--json``), with each one's defaults and helps."""
    parser.add_argument("--conversations", type=int, default=conversations)
    parser.add_argument("--per-shop", type=int, default=per_shop,
                        help="conversations per shop; one operator socket answers each shop")
    parser.add_argument("--rate", type=float, default=1.0, help="messages a second per visitor")
    parser.add_argument("--logs", type=pathlib.Path, default=pathlib.Path("/tmp"), help=logs)
    parser.add_argument("--json", type=pathlib.Path, help=json_help)


def most_open_files(parser: argparse.ArgumentParser, needed: int = 0) -> None:
    """Raise this process's open-file limit to the hard limit (the sockets' children inherit
    it); ``parser.error`` when the hard limit is below ``needed``."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        parser.error(f"{needed} open files needed but the hard limit is {hard} (ulimit -Hn)")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared_arguments(parser, conversations=100, per_shop=10,
                     logs="where the servers' logs go", json_help="also write the results here")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of sending")
    parser.add_argument("--worker-class", choices=("gevent", "gthread"), default="gevent")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--redis", metavar="URL", help="run the chat with this Redis broker")
    parser.add_argument("--only", type=targets, default=list(TARGETS), metavar="TARGETS",
                        help="chat, reference (the relay), floor, or a list: chat,floor")
    args = parser.parse_args()
    if args.conversations < 1 or args.per_shop < 1 or args.duration <= 0:
        parser.error("--conversations, --per-shop and --duration must be positive")
    most_open_files(parser, needed=4 * args.conversations + 256)

    results: dict[str, dict[str, Any]] = {}
    if "chat" in args.only:
        results[f"{CHAT} ({args.worker_class})"] = run_chat(args, args.logs)
    if "reference" in args.only:
        results[RELAY] = run_reference(args, args.logs)
    if "floor" in args.only:
        results[f"{FLOOR} (flask-sock, gevent)"] = run_floor(args, args.logs)
    print(f"{args.conversations} conversations, {math.ceil(args.conversations / args.per_shop)} "
          f"shops with one operator socket each, "
          f"{args.rate:g} message/s per visitor, each answered, {args.duration:g} s, "
          f"{os.cpu_count()} cores shared by server, load generator and MariaDB\n")
    print(table(results))
    for name, result in results.items():
        if result.get("stored") is not None:
            sent = result["sent"]["visitor"] + result["sent"]["operator"]
            print(f"\n{name}: {result['stored']} messages committed of {sent} sent")
    for name, result in results.items():
        if result["errors"]:
            print(f"\n{name}: first errors: {result['errors'][:5]}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
