"""The demo's storefront: home page, language switch, customer sign-in and sign-out.

Who is signed in is asked of the module (``identify_visitor``), which reads the shop
cookie these pages write: the demo exercises the same path as a real shop.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)

from psonlinechat.demo import accounts, csrf
from psonlinechat.demo.context import get_demo
from psonlinechat.demo.texts import CATALOGUE, translator
from psonlinechat.web.extension import get_state

bp = Blueprint("storefront", __name__)


def safe_next(target: str | None, default: str = "/") -> str:
    """``target`` when it is a path on this site, else ``default`` (no open redirects)."""
    if (not target or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(c) < 32 for c in target)):
        return default
    return target


def require_csrf() -> None:
    """Refuse the current post unless it carries a valid token.

    :raises werkzeug.exceptions.BadRequest: the token is missing, forged or stale.
    """
    if not csrf.is_valid(request.form.get(csrf.FIELD)):
        abort(400, description="This form has expired or did not come from this shop. "
                               "Reload the page and try again.")


def _visitor_page(template: str, status: int = 200, **values):
    demo = get_demo()
    visitor = get_state().identify_visitor(request)
    language = demo.language(visitor.id_lang)
    notices = get_flashed_messages()
    return render_template(template, visitor=visitor, language=language, demo=demo,
                           t=translator(language.iso_code), notices=notices,
                           **values), status


@bp.get("/")
def home():
    """The home page: a few products; the header says who is signed in."""
    return _visitor_page("home.html", products=CATALOGUE)


@bp.get("/language/<iso_code>")
def language(iso_code: str):
    """Switch language: the shop cookie's ``id_lang`` changes, everything else is kept."""
    demo = get_demo()
    chosen = demo.language_by_iso(iso_code)
    if chosen is None:
        abort(404)
    response = redirect(safe_next(request.args.get("next")))
    values = demo.cookies.read_front(request)
    values.pop("detect_language", None)
    values["id_lang"] = chosen.id_lang
    demo.cookies.write_front(request, response, values)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Customer sign-in; errors never tell whether the email has an account."""
    if request.method == "GET":
        if get_state().identify_visitor(request).signed_in:
            return redirect(url_for("storefront.home"))
        return _visitor_page("login.html", email="", error=None)
    require_csrf()
    demo = get_demo()
    visitor = get_state().identify_visitor(request)
    language = demo.language(visitor.id_lang)
    try:
        email, password = accounts.validate(request.form.get("email"),
                                            request.form.get("password"))
    except accounts.InvalidCredentials:
        return _visitor_page("login.html", 400, email=request.form.get("email", ""),
                             error="login_invalid")
    with get_state().engine.begin() as conn:
        session = accounts.sign_in_customer(
            conn, get_state().tables, email=email, password=password, id_shop=demo.id_shop,
            cookie_key=demo.secrets.cookie_key, user_agent=request.headers.get("User-Agent"),
            accept_language=request.headers.get("Accept-Language"))
    if session is None:
        return _visitor_page("login.html", 401, email=email, error="login_failed")
    response = redirect(safe_next(request.args.get("next")))
    previous = demo.cookies.read_front(request)
    demo.cookies.write_front(request, response,
                             accounts.customer_cookie(session, previous, language.id_lang))
    return response


@bp.post("/logout")
def logout():
    """Customer sign-out (``mylogout``): the session row goes, the language stays."""
    require_csrf()
    demo = get_demo()
    previous = demo.cookies.read_front(request)
    with get_state().engine.begin() as conn:
        accounts.sign_out(conn, get_state().tables, "customer", previous)
    language = demo.language(get_state().identify_visitor(request).id_lang)
    flash(translator(language.iso_code)("signed_out"))
    response = redirect(url_for("storefront.home"))
    demo.cookies.write_front(request, response, accounts.logged_out_cookie(previous))
    return response
