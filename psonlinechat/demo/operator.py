"""An operator in a terminal, for the demo: ``python -m psonlinechat.demo.operator``.

Until the back office's console is there, this is how a demo visitor finds someone to talk
to. It goes through the same path as the console will: it signs in to the running demo's
back office with the employee's email and password (a real ``psAdmin`` cookie and session
row), opens the operator socket with that cookie, says ``hello`` and switches the operator
online (``status``). While the socket is open the operator counts as present (the server's
heartbeats keep it so); the switch alone would not do (see docs/protocol.md, "Presence and
capacity"). Visitors' messages are printed; a line typed is sent to the conversation last
heard from (``/to ID`` picks another, ``/list``, ``/end``, ``/quit``). On exit (``/quit``,
end of input from a terminal, Ctrl+C or SIGTERM) the operator switches offline, which ends
and archives the conversations as going offline in the console does.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import signal
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import click
import simple_websocket

from psonlinechat.demo.app import ADMIN_PATH
from psonlinechat.demo.data import DataFolder
from psonlinechat.demo.shop import EMPLOYEE
from psonlinechat.errors import ConfigError

PREFIX = "/psonlinechat"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class SignInFailed(click.ClickException):
    """The demo's back office refused the email and password, or could not be reached."""


def sign_in(base_url: str, email: str, password: str) -> str:
    """Sign in to the demo's back office at ``base_url``; the ``Cookie`` header that the
    operator socket then carries (the ``psAdmin`` cookie among the demo's own).

    :raises SignInFailed: the demo is not reachable there, or refused the credentials.
    """
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = base_url + ADMIN_PATH + "/login"
    try:
        with opener.open(login, timeout=10) as page:
            token = _CSRF_RE.search(page.read().decode("utf-8", "replace"))
        form = urllib.parse.urlencode({"email": email, "password": password,
                                       "csrf_token": token.group(1) if token else ""})
        with opener.open(login, data=form.encode(), timeout=10) as answer:
            landed = answer.geturl()
    except urllib.error.HTTPError as exc:
        raise SignInFailed(f"the demo's back office refused {email} ({exc.code})") from None
    except OSError as exc:
        raise SignInFailed(f"no demo answers at {base_url}: {exc}") from None
    if landed.rstrip("/").endswith(ADMIN_PATH + "/login"):
        raise SignInFailed(f"the demo's back office refused {email}")
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


class _Client(simple_websocket.Client):
    """simple-websocket's client, sending ``Host`` with its port as browsers do (the
    handshake compares the Origin with it)."""

    def handshake(self) -> None:
        self.host = f"{self.host}:{self.port}"
        super().handshake()


def connect(base_url: str, cookie: str) -> simple_websocket.Client:
    """The operator socket of the demo at ``base_url``, carrying the ``Cookie`` header
    :func:`sign_in` gave, from the demo's own origin.

    :raises simple_websocket.ConnectionError: the handshake was refused.
    :raises OSError: nothing answers there.
    """
    ws_url = "ws" + base_url[len("http"):] + PREFIX + "/ws/operator"
    return _Client.connect(ws_url, headers={"Cookie": cookie, "Origin": base_url})


class TerminalOperator:
    """One operator socket, driven from text lines; ``say`` prints what happens.

    :param socket: an open operator socket (before ``hello``).
    :param say: where lines for the person at the terminal go.
    """

    def __init__(self, socket: Any, say: Callable[[str], None] = click.echo) -> None:
        self.socket, self.say = socket, say
        self.current: int | None = None
        self.names: dict[int, str] = {}
        self._sent = 0
        self._lock = threading.Lock()
        self._offline = threading.Event()

    def send(self, type: str, **fields: Any) -> None:
        with self._lock:
            self.socket.send(json.dumps({"type": type, **fields}))

    def go_online(self, timeout: float = 10.0) -> dict[str, Any]:
        """``hello``, then the switch on; the recap.

        :raises TimeoutError: the server did not answer in time.
        :raises simple_websocket.ConnectionClosed: the server closed the socket.
        """
        self.send("hello")
        recap = self._wait("recap", timeout)
        for conversation in recap.get("conversations", []):
            self._remember(conversation)
        self.send("status", online=True)
        self._wait("status", timeout)
        return recap

    def _wait(self, type: str, timeout: float) -> dict[str, Any]:
        while True:
            text = self.socket.receive(timeout=timeout)
            if text is None:
                raise TimeoutError(f"no {type} from the server")
            event = json.loads(text)
            if event.get("type") == type:
                return event
            self.handle(event)

    def listen(self) -> None:
        """Print events until the socket closes (run it in a thread)."""
        try:
            while True:
                text = self.socket.receive()
                if text is None:
                    continue
                self.handle(json.loads(text))
        except simple_websocket.ConnectionClosed:
            self.say("The server closed the operator socket.")

    def handle(self, event: dict[str, Any]) -> None:
        """Answer pings; print what a person at the console would see."""
        kind = event.get("type")
        if kind == "ping":
            self.send("pong")
        elif kind == "conversation":
            self._remember(event["conversation"], announce=True)
        elif kind == "message" and event.get("author") == "customer":
            self.current = event["id_conversation"]
            self.say(f"[#{self.current}] {self._name(self.current)}: {event.get('body', '')}")
            self.send("seen", id_conversation=self.current, seq=event["seq"])
        elif kind == "ended":
            self.say(f"[#{event['id_conversation']}] ended by {event.get('by')}")
        elif kind == "status" and not event.get("online"):
            self._offline.set()
        elif kind == "error":
            self.say(f"refused: {event.get('code')} {event.get('message', '')}")

    def _remember(self, conversation: dict[str, Any], announce: bool = False) -> None:
        id_conversation = conversation["id_conversation"]
        customer = conversation.get("customer") or {}
        name = " ".join(filter(None, (customer.get("firstname"), customer.get("lastname"))))
        known = id_conversation in self.names
        self.names[id_conversation] = name or f"guest {conversation.get('id_guest') or ''}"
        if announce and not known:
            self.say(f"New conversation #{id_conversation} with {self._name(id_conversation)}"
                     f" on {conversation.get('page_url') or 'the shop'}")

    def _name(self, id_conversation: int) -> str:
        return self.names.get(id_conversation, "visitor").strip()

    def command(self, line: str) -> bool:
        """Act on one typed line; ``False`` when it asks to quit."""
        text = line.strip()
        if text in ("/quit", "/q"):
            return False
        if text == "/list":
            for id_conversation in self.names:
                self.say(f"#{id_conversation} {self._name(id_conversation)}")
        elif text.startswith("/to "):
            number = text[4:].strip().lstrip("#")
            self.current = int(number) if number.isdigit() else self.current
            self.say(f"Now answering #{self.current}")
        elif text == "/end" and self.current is not None:
            self.send("end", id_conversation=self.current)
        elif text and not text.startswith("/"):
            self.reply(text)
        return True

    def reply(self, body: str) -> None:
        """Send ``body`` to the current conversation."""
        if self.current is None:
            self.say("No conversation yet: wait for a visitor to write.")
            return
        self._sent += 1
        self.send("message", id_conversation=self.current, body=body,
                  client_id=f"demo-terminal-{id(self)}-{self._sent}")

    def go_offline(self, timeout: float = 5.0) -> None:
        """The switch off (the conversations end and are archived), then the socket closes.
        Needs :meth:`listen` running, which sees the server's answer."""
        try:
            self.send("status", online=False)
            self._offline.wait(timeout)
            self.socket.close()
        except simple_websocket.ConnectionClosed:
            pass


def _password(data: str, password: str | None) -> str:
    if password:
        return password
    folder = DataFolder(data)
    if not folder.secrets_path.exists():
        raise click.ClickException(f"no demo in {folder.path}: start `psonlinechat demo` "
                                   "first, or give --password")
    try:
        return folder.prepare().employee_password
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@click.command("demo-operator")
@click.option("--url", default="http://127.0.0.1:5000", show_default=True,
              help="The running demo's address (what `psonlinechat demo` printed).")
@click.option("--email", default=EMPLOYEE.email, show_default=True,
              help="The employee who goes online.")
@click.option("--password", default=None, help="Their password [default: from --data].")
@click.option("--data", default="demo-data", show_default=True,
              type=click.Path(file_okay=False), help="The demo's data folder.")
def operator_command(url: str, email: str, password: str | None, data: str) -> None:
    """Be the demo shop's operator from this terminal: online until you quit."""
    base_url = url.rstrip("/")
    cookie = sign_in(base_url, email, _password(data, password))
    operator = TerminalOperator(connect(base_url, cookie))
    recap = operator.go_online()
    click.echo(f"Online as {email} (operator name: {recap.get('operator_name')}). "
               "Visitors' messages appear here; type a line to answer the last one. "
               "/list, /to ID, /end, /quit.")
    threading.Thread(target=operator.listen, name="demo-operator", daemon=True).start()
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        for line in sys.stdin:
            if not operator.command(line):
                break
        else:
            if not sys.stdin.isatty():
                threading.Event().wait()  # no input (a service, a pipe): online until stopped
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        operator.go_offline()
    click.echo("Offline.")


if __name__ == "__main__":
    operator_command()
