"""The storefront widget's own strings: key → English msgid, translated per visitor.

The keys are what ``widget.js`` reads from its state's ``strings``; the msgids are the
``widget`` domain's (``psonlinechat/translations/<iso>/LC_MESSAGES/widget.po``). Placeholders
in braces (``{name}``, ``{max}``) are filled in by the script and kept as is by translators.
The merchant's own texts (header, welcome) are not here: they come from the settings.
"""

from __future__ import annotations

from psonlinechat.shop import offline_form
from psonlinechat.web.translations import N_

#: The translation domain of these strings.
DOMAIN = "widget"

_CHAT = {
    "launcher": N_("Chat with us"),
    "chat_title": N_("Chat with us"),
    "offline_title": N_("Leave us a message"),
    "close": N_("Close"),
    "conversation": N_("Conversation"),
    "message": N_("Message"),
    "placeholder": N_("Write your message…"),
    "send": N_("Send"),
    "end": N_("End the conversation"),
    "typing": N_("{name} is typing…"),
    "seen": N_("Seen"),
    "unread": N_("New messages: {n}"),
    "sending": N_("Sending…"),
    "failed": N_("Not sent"),
    "connecting": N_("Connecting…"),
    "reconnecting": N_("Connection lost. Reconnecting…"),
    "offline": N_("You are offline. Your message will be sent when the connection is back."),
    "unavailable": N_("The chat is not available at the moment."),
    "ended_customer": N_("You ended the conversation."),
    "ended_operator": N_("{name} ended the conversation."),
    "ended_system": N_("The conversation has ended."),
    "reopened": N_("The conversation was reopened."),
    "archived": N_("This conversation is over. Write to start a new one."),
}

#: The chat's error codes (docs/protocol.md) a visitor may meet, as the widget words them;
#: any other code shows ``err_generic``.
_CHAT_ERRORS = {
    "err_generic": N_("Something went wrong. Please try again."),
    "err_frame_too_large": N_("Your message is too long."),
    "err_bad_field": N_("Your message could not be sent."),
    "err_empty_message": N_("Your message is empty."),
    "err_message_too_long": N_("Your message is too long ({max} characters at most)."),
    "err_rate_limited": N_("You are sending messages too fast. Please wait a moment."),
    "err_unavailable": N_("Nobody can answer right now."),
    "err_archived": N_("This conversation is over. Write to start a new one."),
}

_FORM = {
    "f_firstname": N_("First name"),
    "f_lastname": N_("Last name"),
    "f_email": N_("Email"),
    "f_phone": N_("Phone"),
    "f_message": N_("Message"),
    "sent": N_("Thank you, your message has been sent. We will answer as soon as we can."),
    "s_invalid": N_("Please correct the fields marked in error."),
    "s_409": N_("Messages cannot be left at the moment."),
    "s_429": N_("You have sent several messages already. Please try again later."),
    "s_413": N_("Your message is too long."),
    "s_network": N_("Your message could not be sent: the connection failed. Please try again."),
    "s_error": N_("Your message could not be sent. Please try again."),
}

#: The offline form's error codes (:mod:`psonlinechat.shop.offline_form`), as shown under a
#: field.
_FORM_ERRORS = {
    "e_" + offline_form.REQUIRED: N_("Please fill in this field."),
    "e_" + offline_form.TOO_LONG: N_("This is too long."),
    "e_" + offline_form.ONE_LINE: N_("Please write this on one line."),
    "e_" + offline_form.NOT_EMAIL: N_("Please enter a valid email address."),
    "e_" + offline_form.NOT_PHONE: N_("Please enter a valid phone number."),
    "e_" + offline_form.NOT_TEXT: N_("This value is not valid."),
}

#: Every string of the widget: key → English msgid.
STRINGS: dict[str, str] = {**_CHAT, **_CHAT_ERRORS, **_FORM, **_FORM_ERRORS}
