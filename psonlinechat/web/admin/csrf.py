"""Cross-site request forgery protection for the back-office pages' changes.

A page's form carries a token signed (``itsdangerous``) with the app's token secret
(:meth:`~psonlinechat.config.Settings.token_secret`) and bound to the employee who asked
for the page: a token of another employee, or older than :data:`MAX_AGE`, is refused. (Not
bound to the ``psAdmin`` cookie's value: PrestaShop 9 rewrites it on every back-office
request.) Forgery also needs the employee's signed-in cookie, which the shop's identity
checks on every request. A change must also come from the same
origin when the browser says where it comes from (``Origin`` or ``Sec-Fetch-Site``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Request, abort
from itsdangerous import BadData, URLSafeTimedSerializer

from psonlinechat.shop.identity import Employee

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
MAX_AGE = 8 * 3600
_SALT = "psonlinechat.admin.csrf"


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def token(secret: str, employee: Employee) -> str:
    """The token a page of ``employee`` puts in its forms."""
    return _serializer(secret).dumps([employee.id_employee])


def is_valid(secret: str, employee: Employee, submitted: str | None) -> bool:
    """Whether ``submitted`` is a live token of ``employee``."""
    if not submitted:
        return False
    try:
        signed = _serializer(secret).loads(submitted, max_age=MAX_AGE)
    except BadData:
        return False
    return isinstance(signed, list) and signed == [employee.id_employee]


def same_origin(request: Request) -> bool:
    """Whether the browser says the request comes from the page's own origin (or says
    nothing, as non-browser clients do)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin != "null"
    # behind the shop's proxy the page's host may be the forwarded one (the token is
    # what proves the page; this only refuses what the browser says is foreign)
    forwarded = request.headers.get("X-Forwarded-Host", "").split(",")[0].strip().lower()
    return urlsplit(origin).netloc.lower() in {request.host.lower(), forwarded} - {""}


def require(secret: str, employee: Employee, request: Request) -> None:
    """Abort the change unless it carries a valid token and comes from the same origin.

    :raises werkzeug.exceptions.HTTPException: 403 when the request fails either check.
    """
    submitted = request.form.get(FIELD) or request.headers.get(HEADER)
    if not same_origin(request) or not is_valid(secret, employee, submitted):
        abort(403, description="This form has expired or did not come from this page: "
                               "reload the page and try again.")
