"""The merchant's settings of the module, stored in the shop's ``configuration`` table.

Keys are ``PSONLINECHAT_*`` configuration rows, read and written PrestaShop's way (shop,
then group, then global; multilingual texts in ``configuration_lang``).
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class ModuleSettings:
    """What the merchant set in the Configuration tab, for one shop.

    Multilingual texts map ``id_lang`` to the text.
    """

    operator_name: str = "Customer service"
    sounds: bool = True
    max_chats: int = 10
    offline_mode: bool = True
    notify_email: str = ""
    header_text: dict[int, str] = dataclasses.field(default_factory=dict)
    welcome_text: dict[int, str] = dataclasses.field(default_factory=dict)
    offline_header_text: dict[int, str] = dataclasses.field(default_factory=dict)
    offline_welcome_text: dict[int, str] = dataclasses.field(default_factory=dict)
    header_background: str = "#2c3e50"
    header_color: str = "#ffffff"
    operator_background: str = "#e8eef5"
    operator_color: str = "#1f2d3d"
    customer_background: str = "#2c7be5"
    customer_color: str = "#ffffff"
    offline_header_background: str = "#5a6270"
    offline_header_color: str = "#ffffff"
    #: Offline form fields: name → "hidden" / "requested" / "required".
    offline_fields: dict[str, str] = dataclasses.field(default_factory=lambda: {
        "firstname": "requested", "lastname": "requested", "email": "required",
        "phone": "hidden", "message": "required"})
