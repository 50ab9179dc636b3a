"""Mail: templates rendered per language (``mails/<iso>``) and the mailers that deliver them."""
