"""The operator console's own strings, in English: key → msgid of the ``console`` domain.

The page sends them, translated into the employee's language
(:func:`psonlinechat.web.translations.translate_all`), to ``console.js``; ``{name}``-style
fields are filled in by the script. ``pybabel extract -k N_`` finds them.
"""

from __future__ import annotations

from psonlinechat.web.translations import N_

#: Every string the console shows or announces.
STRINGS: dict[str, str] = {
    "online_chat": N_("Online Chat"),
    "conversations": N_("Conversations"),
    "ongoing": N_("Ongoing conversations"),
    "finished": N_("Finished conversations"),
    "unread": N_("Unread messages: {count}"),
    "online": N_("Online"),
    "minimise": N_("Minimise"),
    "hide": N_("Hide"),
    "send": N_("Send"),
    "message": N_("Message"),
    "end": N_("End the conversation"),
    "end_confirm": N_("End the conversation with {name}? It will move to the finished "
                      "conversations."),
    "cancel": N_("Cancel"),
    "reopen": N_("Reopen the conversation"),
    "guest": N_("Guest #{id}"),
    "customer": N_("{firstname} {lastname} (#{id})"),
    "no_ongoing": N_("No ongoing conversation."),
    "no_finished": N_("No finished conversation."),
    "go_offline": N_("Go offline"),
    "offline_confirm": N_("You are the last operator online. Going offline ends the ongoing "
                          "conversations ({count}) and moves every finished one to the "
                          "history."),
    "is_online": N_("You are online: visitors can start a conversation."),
    "is_offline": N_("You are offline: visitors cannot start a conversation."),
    "connecting": N_("Connecting…"),
    "reconnecting": N_("Connection lost. Reconnecting…"),
    "typing": N_("{name} is typing…"),
    "seen": N_("Seen"),
    "sending": N_("Sending…"),
    "new_conversation": N_("New conversation: {name}"),
    "new_message": N_("New message from {name}"),
    "page": N_("Page"),
    "email": N_("Email"),
    "phone": N_("Phone"),
    "notifications": N_("Turn on desktop notifications"),
    "ended_customer": N_("The customer ended the conversation."),
    "ended_operator": N_("{name} ended the conversation."),
    "ended_system": N_("The conversation was ended when the last operator went offline."),
    "reopened": N_("The conversation was reopened."),
    "finished_notice": N_("This conversation is finished. Reopen it to answer."),
    "not_sent": N_("Not sent: {reason}"),
    "too_long": N_("The message is too long."),
    "too_fast": N_("Too many messages at once; wait a moment."),
}
