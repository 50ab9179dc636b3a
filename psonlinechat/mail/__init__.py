"""Mail: :mod:`.messages` renders them per language (``mails/<iso>``), :mod:`.transports`
delivers them."""
