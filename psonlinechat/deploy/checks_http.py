"""The doctor's checks from the outside: the shop's page, ``<prefix>/`` through the web
server, the WebSocket upgrade from the shop's own Origin and from a foreign one, and the
fragment on the storefront page."""

from __future__ import annotations

import re
import urllib.parse

from psonlinechat.deploy import probes
from psonlinechat.deploy.findings import Findings

#: An Origin no shop has: the bridge must refuse it.
FOREIGN_ORIGIN = "https://psonlinechat-doctor.invalid"
PROXY_FIX = ("add the location of docs/deploy/nginx-proxy.conf (Apache: apache-proxy.conf) "
             "to the shop's site, then reload the web server")
UPGRADE_FIX = ("nginx: `proxy_http_version 1.1` and the Upgrade/Connection headers of "
               "docs/deploy/nginx-proxy.conf; Apache 2.4.47+: `upgrade=websocket` on the "
               "ProxyPass line; a CDN in front must allow WebSockets")
_ID_RE = re.compile(r"""<[a-zA-Z][^>]*?\s(?:id)=["']([^"']+)["']""")


def is_bridge(answer: probes.Answer) -> bool:
    """Whether an answer comes from the bridge's fragment endpoint (by its headers)."""
    return (answer.status == 200 and answer.headers.get("x-content-type-options") == "nosniff"
            and "cookie" in answer.headers.get("vary", "").lower())


def _bridge_finding(url: str, answer: probes.Answer, findings: Findings) -> bool:
    if is_bridge(answer):
        findings.ok("bridge via proxy", f"{url} is answered by the bridge")
        return True
    if answer.status in (0, 502, 503, 504):
        said = answer.error or f"HTTP {answer.status}"
        findings.problem("bridge via proxy", f"the web server cannot reach the bridge ({said})",
                         "start it (`systemctl start psonlinechat`; `journalctl -u "
                         "psonlinechat` says why it stopped) and check that the proxy's "
                         "address is the one `psonlinechat serve --bind` listens on")
    elif answer.status == 404 or answer.status == 200:
        findings.problem("bridge via proxy", f"{url} answered {answer.status}, but not from "
                         "the bridge: the web server keeps the prefix for itself",
                         PROXY_FIX + " (nginx: `location ^~`, so PrestaShop's regex "
                         "locations do not win)")
    else:
        findings.problem("bridge via proxy", f"{url} answered HTTP {answer.status}", PROXY_FIX)
    return False


def _socket_findings(origin: str, prefix: str, findings: Findings, timeout: float) -> None:
    url = f"{origin}{prefix}/ws/visitor"
    own = probes.handshake(url, origin, timeout)
    if own.status == 101:
        findings.ok("websocket", f"{url} upgrades from the shop's own Origin")
    elif own.status == 403:
        findings.problem("websocket", f"the bridge refused the shop's own Origin {origin}",
                         "forward the browser's Host ($http_host) and X-Forwarded-Proto, let "
                         "gunicorn trust them (FORWARDED_ALLOW_IPS = the proxy's address) "
                         "and make shop_url name this host")
    else:
        said = own.error or f"HTTP {own.status}"
        findings.problem("websocket", f"the upgrade did not pass ({said})", UPGRADE_FIX)
        return
    foreign = probes.handshake(url, FOREIGN_ORIGIN, timeout)
    if foreign.status == 403:
        findings.ok("foreign origin", f"a socket from {FOREIGN_ORIGIN} is refused")
    else:
        findings.problem("foreign origin", f"a socket from {FOREIGN_ORIGIN} got "
                         f"{foreign.error or foreign.status}: any site could open chat sockets",
                         "remove the extra origins from PSONLINECHAT_ALLOWED_ORIGINS and do "
                         "not rewrite Origin in the proxy")


def signature(fragment: str) -> str:
    """A piece of ``fragment`` that must appear on a page printing it: its first id
    attribute, else its first 60 characters."""
    found = _ID_RE.search(fragment)
    return f'id="{found.group(1)}"' if found else fragment.strip()[:60]


def _fragment_finding(page: probes.Answer, fragment: probes.Answer,
                      findings: Findings) -> None:
    if not fragment.body.strip():
        findings.warning("fragment", "the bridge gives displayFooter no HTML, so there is "
                         "nothing to look for on the page",
                         "check that the chat is enabled in Online Chat's configuration")
        return
    mark = signature(fragment.body)
    if mark.replace('"', "'") in page.body.replace('"', "'"):
        findings.ok("fragment", f"the storefront page carries the chat ({mark})")
        return
    findings.problem("fragment", f"the storefront page lacks the chat's footer ({mark})",
                     "install and enable the module on displayFooter (or the injection recipe "
                     "of docs/deploy/), then clear PrestaShop's cache (Advanced Parameters > "
                     "Performance); a full-page cache must not store the footer")


def check_site(shop_url: str, prefix: str, findings: Findings, timeout: float) -> None:
    """The page, the bridge through the proxy, the sockets, the fragment."""
    parts = urllib.parse.urlsplit(shop_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    page = probes.get(shop_url, timeout)
    if 200 <= page.status < 400:
        findings.ok("shop URL", f"{shop_url} answers {page.status}")
    else:
        findings.problem("shop URL", f"{shop_url} answers {page.error or page.status}",
                         "check the address, the DNS and that the web server runs")
        if page.status == 0:
            findings.skipped("bridge via proxy", "nothing answers at the shop's address")
            return
    hook_url = f"{origin}{prefix}/hook/displayFooter"
    fragment = probes.get(hook_url, timeout)
    if not _bridge_finding(hook_url, fragment, findings):
        return
    _socket_findings(origin, prefix, findings, timeout)
    if 200 <= page.status < 400:
        _fragment_finding(page, fragment, findings)
