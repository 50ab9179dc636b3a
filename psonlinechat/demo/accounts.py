"""Signing customers and employees in and out, the way PrestaShop's login pages do.

Passwords are checked against the stored bcrypt ``$2y$`` hash, then the legacy
md5(cookie_key + password); a legacy hash is replaced with bcrypt on success. An unknown
email costs the same bcrypt check as a wrong password, and both give the same answer
(``None``), so the form cannot tell which accounts exist. Success opens a session row
whose id and token go into the shop's cookie (FACTS §3.4–3.6, §4).
"""

from __future__ import annotations

import dataclasses
import functools
import secrets
from collections.abc import Callable

import sqlalchemy as sa

from psonlinechat.prestashop import passwords
from psonlinechat.shop.identity import ip2long
from psonlinechat.store import demo_shop, guests, sessions
from psonlinechat.store.tables import Tables

#: PrestaShop's password policy caps length at bcrypt's limit.
MAX_PASSWORD_LENGTH = 72
MAX_EMAIL_LENGTH = 255


class InvalidCredentials(ValueError):
    """The form's email or password is missing or malformed (say so; nothing was checked)."""


@dataclasses.dataclass(frozen=True)
class Session:
    """A signed-in account and the session row opened for it."""

    id: int
    firstname: str
    lastname: str
    email: str
    passwd: str
    id_lang: int | None
    id_session: int
    token: str
    id_profile: int | None = None
    id_guest: int | None = None


@functools.cache
def _dummy_hash() -> str:
    return passwords.hash_password(secrets.token_urlsafe(16))


def validate(email: str | None, password: str | None) -> tuple[str, str]:
    """The trimmed email and the password of a sign-in form.

    :raises InvalidCredentials: either is empty, the email has no ``@`` or is too long, or
        the password is longer than :data:`MAX_PASSWORD_LENGTH`.
    """
    email = (email or "").strip()
    password = password or ""
    if not email or not password:
        raise InvalidCredentials("email and password are required")
    local, _, domain = email.rpartition("@")
    if not local or not domain or len(email) > MAX_EMAIL_LENGTH or any(c.isspace() for c in email):
        raise InvalidCredentials("the email is not an email address")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidCredentials("the password is too long")
    return email, password


def _check(row: sa.Row | None, password: str, cookie_key: str) -> bool:
    # Every answer costs one bcrypt check: an unknown account, an empty hash and a legacy
    # md5 hash (fast to check) are timed like a bcrypt account, so timing names no account.
    stored = row.passwd if row is not None and row.passwd else ""
    if not passwords.is_bcrypt(stored):
        passwords.verify_password(password, _dummy_hash())
    return row is not None and passwords.verify_password(password, stored, cookie_key)


def _rehashed(stored: str, password: str, save: Callable[[str], None]) -> str:
    """The hash to keep after a good sign-in: a legacy md5 one is replaced by bcrypt and saved,
    as PrestaShop does at login."""
    if passwords.is_bcrypt(stored):
        return stored
    new = passwords.hash_password(password)
    save(new)
    return new


def sign_in_customer(conn: sa.Connection, t: Tables, *, email: str, password: str,
                     id_shop: int, cookie_key: str,
                     user_agent: str | None = None,
                     accept_language: str | None = None) -> Session | None:
    """Check a customer's credentials and open a ``customer_session``; ``None`` when wrong.

    Also finds or creates the customer's ``ps_guest`` row, as PrestaShop 8.2+ does at login.
    """
    row = demo_shop.customer_for_login(conn, t, email, id_shop)
    if not _check(row, password, cookie_key):
        return None
    passwd = _rehashed(row.passwd, password,
                       lambda new: demo_shop.set_customer_password(conn, t, row.id_customer, new))
    id_session, token = sessions.create(conn, t, "customer", row.id_customer)
    id_guest = guests.create_guest(conn, t, id_customer=row.id_customer, user_agent=user_agent,
                                   accept_language=accept_language)
    return Session(id=row.id_customer, firstname=row.firstname, lastname=row.lastname,
                   email=row.email, passwd=passwd, id_lang=row.id_lang,
                   id_session=id_session, token=token, id_guest=id_guest)


def sign_in_employee(conn: sa.Connection, t: Tables, *, email: str, password: str,
                     cookie_key: str) -> Session | None:
    """Check an active employee's credentials and open an ``employee_session``; ``None``
    when wrong.
    """
    row = demo_shop.employee_for_login(conn, t, email)
    if not _check(row, password, cookie_key):
        return None
    passwd = _rehashed(row.passwd, password,
                       lambda new: demo_shop.set_employee_password(conn, t, row.id_employee, new))
    id_session, token = sessions.create(conn, t, "employee", row.id_employee)
    return Session(id=row.id_employee, firstname=row.firstname, lastname=row.lastname,
                   email=row.email, passwd=passwd, id_lang=row.id_lang,
                   id_session=id_session, token=token, id_profile=row.id_profile)


def customer_cookie(session: Session, previous: dict[str, str], id_lang: int) -> dict:
    """The storefront cookie after login (Context::updateCustomer), kept fields first."""
    values = {key: value for key, value in previous.items()
              if key in {"date_add", "id_lang", "detect_language", "id_currency"}}
    values.update(id_lang=id_lang, id_guest=session.id_guest, id_customer=session.id,
                  customer_lastname=session.lastname, customer_firstname=session.firstname,
                  passwd=session.passwd, logged=1, is_guest="", email=session.email,
                  session_id=session.id_session, session_token=session.token)
    return values


def logged_out_cookie(previous: dict[str, str]) -> dict[str, str]:
    """The storefront cookie after ``mylogout``: language and creation date only."""
    return {key: value for key, value in previous.items()
            if key in {"date_add", "id_lang", "detect_language", "id_currency"}}


def employee_cookie(session: Session, remote_addr: str | None) -> dict:
    """The ``psAdmin`` cookie after login (AdminLoginController, EmployeeSessionSubscriber)."""
    return {"id_employee": session.id, "email": session.email, "profile": session.id_profile,
            "passwd": session.passwd, "remote_addr": ip2long(remote_addr),
            "session_id": session.id_session, "session_token": session.token,
            "id_lang": session.id_lang}


def sign_out(conn: sa.Connection, t: Tables, kind: sessions.Kind,
             cookie: dict[str, str]) -> None:
    """Delete the session row a cookie points at, if it is its owner's, as logout does.

    :param kind: ``"customer"`` (storefront cookie) or ``"employee"`` (``psAdmin``).
    """
    try:
        id_session, id_owner = int(cookie["session_id"]), int(cookie[f"id_{kind}"])
    except (KeyError, ValueError):
        return
    row = sessions.get(conn, t, kind, id_session)
    if row is not None and row[0] == id_owner:
        sessions.delete(conn, t, kind, id_session)
