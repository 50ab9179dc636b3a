"""The socket edge answers the chat's refusals with the protocol's error frame, as it
answers the wire's own."""

from __future__ import annotations

from psonlinechat.chat.protocol import ProtocolError
from psonlinechat.errors import ChatError, ConversationArchived
from psonlinechat.web.sockets.frames import error_frame


def test_a_refusal_of_the_chats_rules_becomes_the_error_frame():
    assert error_frame(ChatError("not_found", "no conversation 7 in this shop",
                                 id_conversation=7)) == {
        "type": "error", "code": "not_found", "message": "no conversation 7 in this shop",
        "id_conversation": 7}
    assert error_frame(ChatError("unavailable", "no operator can take a conversation now",
                                 state="offline_form")) == {
        "type": "error", "code": "unavailable",
        "message": "no operator can take a conversation now", "state": "offline_form"}
    assert error_frame(ConversationArchived()) == {
        "type": "error", "code": "archived",
        "message": "this conversation is over; a new one starts"}


def test_the_wires_refusal_keeps_its_frame():
    refusal = ProtocolError("bad_field", "client_id is 1 to 64 letters, digits or _.:-",
                            field="client_id")
    assert error_frame(refusal) == refusal.event() == {
        "type": "error", "code": "bad_field",
        "message": "client_id is 1 to 64 letters, digits or _.:-", "field": "client_id"}
