"""The built-in hook handlers, one module per hook (``display_footer`` ↔ ``displayFooter``).

Each module is a plugin registered exactly as a third party's is: through the entry-point
group ``psonlinechat`` in ``setup.cfg``. Nothing imports them directly.
"""
