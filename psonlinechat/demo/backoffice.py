"""The demo's back office under ``/admin-demo/``: employee sign-in, dashboard, sign-out.

Sign-in writes the real ``psAdmin`` cookie and an ``employee_session`` row; every page
asks the module (``identify_employee``) who is there, and sends anyone it does not
recognise to the sign-in page.
"""

from __future__ import annotations

from flask import Blueprint, get_flashed_messages, redirect, render_template, request, url_for

from psonlinechat.demo import accounts
from psonlinechat.demo.context import get_demo
from psonlinechat.demo.shop import PS_VERSION
from psonlinechat.demo.storefront import require_csrf
from psonlinechat.demo.texts import translator
from psonlinechat.web.extension import get_state

bp = Blueprint("backoffice", __name__, url_prefix="/admin-demo")


def _page(template: str, employee, status: int = 200, **values):
    demo = get_demo()
    language = demo.language(employee.id_lang if employee else None)
    return render_template(template, employee=employee, language=language, demo=demo,
                           t=translator(language.iso_code), notices=get_flashed_messages(),
                           **values), status


@bp.get("/")
def dashboard():
    """The dashboard (where the chat console lives); signed-in employees only."""
    employee = get_state().identify_employee(request)
    if employee is None:
        return redirect(url_for("backoffice.login"))
    return _page("admin_dashboard.html", employee, ps_version=PS_VERSION)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Employee sign-in; a wrong email and a wrong password get the same answer."""
    if request.method == "GET":
        if get_state().identify_employee(request) is not None:
            return redirect(url_for("backoffice.dashboard"))
        return _page("admin_login.html", None, email="", error=None)
    require_csrf()
    demo = get_demo()
    try:
        email, password = accounts.validate(request.form.get("email"),
                                            request.form.get("password"))
    except accounts.InvalidCredentials:
        return _page("admin_login.html", None, 400, email=request.form.get("email", ""),
                     error="login_invalid")
    with get_state().engine.begin() as conn:
        session = accounts.sign_in_employee(conn, get_state().tables, email=email,
                                            password=password,
                                            cookie_key=demo.secrets.cookie_key)
    if session is None:
        return _page("admin_login.html", None, 401, email=email, error="login_failed")
    response = redirect(url_for("backoffice.dashboard"))
    demo.cookies.write_admin(request, response,
                             accounts.employee_cookie(session, request.remote_addr))
    return response


@bp.post("/logout")
def logout():
    """Employee sign-out: the session row and the ``psAdmin`` cookie go."""
    require_csrf()
    demo = get_demo()
    with get_state().engine.begin() as conn:
        accounts.sign_out(conn, get_state().tables, "employee",
                          demo.cookies.read_admin(request))
    response = redirect(url_for("backoffice.login"))
    demo.cookies.delete_admin(request, response)
    return response
