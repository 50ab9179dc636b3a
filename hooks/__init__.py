"""The built-in hook handlers, one module per hook, named as the hook specification is
(``identify_visitor``, ``identify_employee``: the shop's cookies).

Each module is a plugin registered exactly as a third party's is: through the entry-point
group ``psonlinechat`` in ``setup.cfg``. Nothing imports them directly.
"""
