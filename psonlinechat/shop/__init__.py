"""The shop as the module sees it, Flask-free: its directory of shops and URLs, who makes a
request (identity from request facts), the merchant's settings and their store, the installer."""
