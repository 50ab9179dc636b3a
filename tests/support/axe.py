"""axe-core in a real page: load the npm package's script and list the violations.

The script comes from ``PSONLINECHAT_AXE`` or from the copy ``.ci/test`` installs
(``.venv/node/node_modules/axe-core/axe.min.js``).
"""

from __future__ import annotations

import os
import pathlib

from tests.support.services import unavailable

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT = ROOT / ".venv" / "node" / "node_modules" / "axe-core" / "axe.min.js"


def axe_source() -> str:
    """The text of ``axe.min.js``; fails in CI (skips elsewhere) when it is not installed."""
    path = pathlib.Path(os.environ.get("PSONLINECHAT_AXE") or DEFAULT)
    if not path.is_file():
        unavailable(f"axe-core is not installed at {path} (npm install --prefix .venv/node "
                    "axe-core@4)")
    return path.read_text(encoding="utf-8")


def violations(page, include: str | None = None) -> list[dict]:
    """axe-core's violations (WCAG 2.x A and AA rules, best practices) in ``page``, limited to
    the elements ``include`` selects (a CSS selector; shadow roots are scanned too).

    Each violation is reduced to its id, impact, help text and the first targets, so that a
    failing assertion says what is wrong.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    found = page.evaluate(
        """async (include) => {
            const context = include ? {include: [[include]]} : document;
            const result = await axe.run(context, {resultTypes: ['violations']});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.slice(0, 3).map(n => n.target)}));
        }""", include)
    return list(found)
