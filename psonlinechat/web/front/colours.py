"""The widget's colours: the merchant's pairs (background, text), each made readable.

A pair whose contrast is under WCAG's 4.5:1 for text (white on ``#2c7be5`` is 4.1:1; every
default pair passes) keeps its text colour and its hue; its background is moved away
from the text (darker under light text, lighter under dark text) until the pair reaches
4.5:1. A stored value that is not ``#rrggbb`` gives the default's.
"""

from __future__ import annotations

import re

from psonlinechat.shop.settings import ModuleSettings

#: WCAG 2's minimum contrast for text of normal size.
MIN_CONTRAST = 4.5
#: The (background, text) pairs of the settings, as the widget uses them.
PAIRS = (("header_background", "header_color"), ("operator_background", "operator_color"),
         ("customer_background", "customer_color"),
         ("offline_header_background", "offline_header_color"))
_COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def luminance(colour: str) -> float:
    """The relative luminance of ``#rrggbb`` (WCAG 2)."""
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    """The contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def readable(background: str, text: str) -> str:
    """``background``, moved towards black (under light text) or white (under dark text)
    by steps of 5 % until ``text`` on it reaches :data:`MIN_CONTRAST`."""
    target = 0 if luminance(text) > 0.5 else 255
    start, current, step = _rgb(background), background, 0
    while contrast(current, text) < MIN_CONTRAST and step < 20:
        step += 1
        current = "#" + "".join(f"{round(c + (target - c) * step / 20):02x}" for c in start)
    return current


def colours(settings: ModuleSettings) -> dict[str, str]:
    """The merchant's colours by their settings' names, each ``#rrggbb``, every pair
    readable."""
    default = ModuleSettings()
    found = {}
    for pair in PAIRS:
        for name in pair:
            value = str(getattr(settings, name))
            found[name] = value.lower() if _COLOUR_RE.match(value) else getattr(default, name)
        background, text = pair
        found[background] = readable(found[background], found[text])
    return found
