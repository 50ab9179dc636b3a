"""Mail: :mod:`.messages` renders them per language (``mails/<iso>``), :mod:`.transports`
delivers them, :mod:`.settings` reads the shop's ``PS_MAIL_*`` and chooses the transport,
:mod:`.offline` stores an offline message with its mail queued, :mod:`.queue` sends the
queued mails after the commit, with retries, and :mod:`.sender` runs the queue from a
thread of each app, off the request path."""
