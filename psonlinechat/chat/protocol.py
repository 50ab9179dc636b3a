"""The chat protocol: JSON frames over WebSocket, parsed and validated here.

Every frame is one JSON object with a ``type``. :func:`parse` turns client text into a
:class:`Frame` or raises :class:`ProtocolError` with a stable ``code``; the socket answers
with an ``error`` event and stays open. The events the server sends are built by the
functions at the end; a logged event becomes a frame only through
:func:`psonlinechat.chat.publisher.render`. docs/protocol.md documents every frame with
examples.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from typing import Any

from psonlinechat.errors import PsOnlineChatError
from psonlinechat.store.conversations import Conversation, Event

#: The fields of each client frame: name → (kind, required). Kinds: "str", "int", "bool",
#: "seqs" (an object mapping conversation ids to sequence numbers).
VISITOR_FRAMES: dict[str, dict[str, tuple[str, bool]]] = {
    "hello": {"token": ("str", False), "last_seq": ("int", False), "page_url": ("str", False)},
    "message": {"client_id": ("str", True), "body": ("str", True)},
    "typing": {"on": ("bool", True)},
    "seen": {"seq": ("int", True)},
    "end": {},
    "ping": {},
    "pong": {},
}
OPERATOR_FRAMES: dict[str, dict[str, tuple[str, bool]]] = {
    "hello": {"last_seqs": ("seqs", False), "id_shop": ("int", False)},
    "status": {"online": ("bool", True)},
    "message": {"id_conversation": ("int", True), "client_id": ("str", True),
                "body": ("str", True)},
    "typing": {"id_conversation": ("int", True), "on": ("bool", True)},
    "seen": {"id_conversation": ("int", True), "seq": ("int", True)},
    "end": {"id_conversation": ("int", True)},
    "reopen": {"id_conversation": ("int", True)},
    "ping": {},
    "pong": {},
}

#: The kinds of events kept in a conversation's log, each with its sequence number.
LOG_KINDS = frozenset({"message", "ended", "reopened"})

#: Longest client id and page URL accepted.
MAX_CLIENT_ID, MAX_PAGE_URL = 64, 2048
_CLIENT_ID_RE = re.compile(rf"[A-Za-z0-9_.:-]{{1,{MAX_CLIENT_ID}}}")
# C0 controls but tab and newline, DEL, and C1 controls.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class ProtocolError(PsOnlineChatError):
    """A client frame the server cannot act on; ``code`` is what the client sees.

    The wire's refusal: the socket answers it with :meth:`event` and stays open. (The chat's
    own refusals are :class:`~psonlinechat.errors.ChatError`, translated at the socket edge.)

    :param code: a stable machine-readable code (see docs/protocol.md).
    :param message: a sentence for people.
    :param extra: what else the error frame tells (``field``, ``max_length``…).
    """

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra

    def event(self) -> dict[str, Any]:
        """The ``error`` event that answers this."""
        return error(self.code, self.message, **self.extra)


@dataclasses.dataclass(frozen=True)
class Frame:
    """A validated client frame."""

    type: str
    fields: dict[str, Any]

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)


#: Ids and sequence numbers are the database's signed INT: anything larger names nothing.
MAX_INT = 2**31 - 1
_ID_KEY = re.compile(r"[0-9]{1,10}")


def _count(value: Any) -> bool:
    """Whether ``value`` is a whole number from 0 to :data:`MAX_INT` (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_INT


def _text(value: str) -> bool:
    """Whether ``value`` is storable text: JSON's ``\\ud800`` escapes give lone surrogates,
    which UTF-8 (and so the database, HMAC, logs) cannot encode."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check(kind: str, name: str, value: Any) -> Any:
    if kind == "str" and isinstance(value, str) and _text(value):
        return value
    if kind == "int" and _count(value):
        return value
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "seqs" and isinstance(value, dict):
        seqs = {}
        for key, seq in value.items():
            if not (_ID_KEY.fullmatch(key) and _count(int(key)) and _count(seq)):
                raise ProtocolError("bad_field", f"{name} maps conversation ids to sequence "
                                    "numbers", field=name)
            seqs[int(key)] = seq
        return seqs
    wanted = {"str": "a string of valid Unicode (no lone surrogates)",
              "int": f"a whole number from 0 to {MAX_INT}",
              "bool": "true or false", "seqs": "an object"}[kind]
    raise ProtocolError("bad_field", f"{name} must be {wanted}", field=name)


def parse(text: str | bytes, frames: dict[str, dict[str, tuple[str, bool]]], *,
          max_bytes: int) -> Frame:
    """Validate one client frame against ``frames`` (:data:`VISITOR_FRAMES` or operator's).

    Unknown fields are ignored, so that newer clients talk to older servers.

    :raises ProtocolError: ``frame_too_large``, ``bad_json``, ``unknown_type``,
        ``missing_field`` or ``bad_field``.
    """
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "replace"))
    if size > max_bytes:
        raise ProtocolError("frame_too_large", f"frames are limited to {max_bytes} bytes")
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: a few thousand nested brackets fit well within max_bytes.
        raise ProtocolError("bad_json", "a frame must be a JSON object") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_json", "a frame must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in frames:
        raise ProtocolError("unknown_type", f"unknown frame type {kind!r}",
                            known=sorted(frames))
    fields: dict[str, Any] = {}
    for name, (field_kind, required) in frames[kind].items():
        if name not in data or data[name] is None:
            if required:
                raise ProtocolError("missing_field", f"{kind} needs {name}", field=name)
            continue
        fields[name] = _check(field_kind, name, data[name])
    return Frame(kind, fields)


def clean_body(body: str, max_length: int) -> str:
    """A message body as stored: control characters but newlines and tabs removed,
    line ends as ``\\n``, outer blank space trimmed. Not escaped: that is the renderer's job.

    :raises ProtocolError: ``empty_message`` or ``message_too_long`` (in characters).
    """
    text = _CONTROL_RE.sub("", body.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not text:
        raise ProtocolError("empty_message", "the message is empty")
    if len(text) > max_length:
        raise ProtocolError("message_too_long",
                            f"messages are limited to {max_length} characters",
                            max_length=max_length)
    return text


def check_client_id(client_id: str) -> str:
    """:raises ProtocolError: ``bad_field`` unless 1–64 of ``A-Z a-z 0-9 _ . : -``."""
    if not _CLIENT_ID_RE.fullmatch(client_id):  # "$" would let a final newline through
        raise ProtocolError("bad_field", "client_id is 1 to 64 letters, digits or _.:-",
                            field="client_id")
    return client_id


# --- Events the server sends -------------------------------------------------------------

def timestamp(moment: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with microseconds, e.g. ``2025-01-31T12:00:00.123456Z``."""
    if moment is None:
        return None
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def dumps(event: dict[str, Any]) -> str:
    """The text of one event."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def error(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """An ``error`` event; ``ref`` names the frame it answers when there is one."""
    return {"type": "error", "code": code, "message": message, **extra}


def log_event(event: Event, *, audience: str, operator_name: str) -> dict[str, Any]:
    """A logged event (message, ended, reopened) as ``audience`` ("visitor"/"operator") sees it.

    Visitors see operators under the shop's operator name, never the employee. The wire
    form only: the chat renders logged events through :func:`psonlinechat.chat.publisher.render`.
    """
    out: dict[str, Any] = {"type": event.kind, "id_conversation": event.id_conversation,
                           "seq": event.seq, "at": timestamp(event.date_add)}
    if event.kind == "message":
        out.update(author=event.author, body=event.body)
    else:
        out["by"] = event.author
    if event.author == "operator":
        out["operator_name"] = operator_name
        if audience == "operator":
            out["id_employee"] = event.id_employee
    if event.client_id and (audience == "operator") == (event.author == "operator"):
        out["client_id"] = event.client_id
    return out


def summary(conversation: Conversation) -> dict[str, Any]:
    """A conversation as the operators' recap shows it."""
    customer = None
    if conversation.id_customer is not None:
        customer = {"id_customer": conversation.id_customer,
                    "firstname": conversation.firstname, "lastname": conversation.lastname,
                    "email": conversation.email, "phone": conversation.phone}
    return {
        "id_conversation": conversation.id_conversation,
        "status": conversation.status,
        "customer": customer,
        "id_guest": conversation.id_guest,
        "id_lang": conversation.id_lang,
        "page_url": conversation.page_url,
        "user_agent": conversation.user_agent,
        "ended_by": conversation.ended_by,
        "last_seq": conversation.last_seq,
        "customer_seen_seq": conversation.customer_seen_seq,
        "operator_seen_seq": conversation.operator_seen_seq,
        "last_customer_message": conversation.last_customer_message,
        "last_message_at": timestamp(conversation.last_message_at),
        "date_add": timestamp(conversation.date_add),
    }


def visitor_view(conversation: Conversation) -> dict[str, Any]:
    """A conversation as its visitor sees it."""
    return {"id_conversation": conversation.id_conversation, "status": conversation.status,
            "last_seq": conversation.last_seq,
            "operator_seen_seq": conversation.operator_seen_seq,
            "customer_seen_seq": conversation.customer_seen_seq}
