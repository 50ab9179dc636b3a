"""The demo shop's contents: one shop in English and French, a customer and an employee.

Seeded once, into an empty database, the way PrestaShop's installer and back office
would have written the rows; seeding an already seeded database does nothing.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from psonlinechat.prestashop import passwords
from psonlinechat.store import demo_shop, guests, seed
from psonlinechat.store.tables import Tables

SHOP_NAME = "Demo shop"
SHOP_EMAIL = "shop@demo-shop.test"
#: The ``_PS_VERSION_`` the demo plays (cookie names and PS_VERSION_DB).
PS_VERSION = "9.1.0"


@dataclasses.dataclass(frozen=True)
class Person:
    """A demo account's public details; its password is in the data folder's secrets."""

    email: str
    firstname: str
    lastname: str

    @property
    def name(self) -> str:
        return f"{self.firstname} {self.lastname}"


#: PrestaShop's own demo customer.
CUSTOMER = Person("pub@prestashop.com", "John", "DOE")
CUSTOMER_PHONE = "+33 1 02 03 04 05"
EMPLOYEE = Person("demo@prestashop.com", "Camille", "Martin")
#: Earlier visitors: (is the demo customer, user agent, Accept-Language).
VISITORS = (
    (False, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0 Safari/537.36", "en-US,en;q=0.9"),
    (False, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 "
            "Firefox/128.0", "fr-FR,fr;q=0.8,en;q=0.5"),
    (True, "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like "
           "Gecko) Version/17.5 Safari/605.1.15", "fr"),
)


def core_configuration(id_shop: int, id_lang: int, domain: str) -> dict[str, str]:
    """The core configuration keys PrestaShop's installer writes that the module reads."""
    return {
        "PS_SHOP_NAME": SHOP_NAME, "PS_SHOP_EMAIL": SHOP_EMAIL, "PS_SHOP_PHONE": "",
        "PS_SHOP_DEFAULT": str(id_shop), "PS_LANG_DEFAULT": str(id_lang),
        "PS_VERSION_DB": PS_VERSION, "PS_INSTALL_VERSION": PS_VERSION,
        "PS_TIMEZONE": "Europe/Paris", "PS_SHOP_DOMAIN": domain, "PS_SHOP_DOMAIN_SSL": domain,
        "PS_SSL_ENABLED": "0", "PS_SSL_ENABLED_EVERYWHERE": "0",
        "PS_MULTISHOP_FEATURE_ACTIVE": "0",
        # 1 = the "PHP mail()"/sendmail method; the demo's mailer writes .eml files instead.
        "PS_MAIL_METHOD": "1", "PS_MAIL_TYPE": "3", "PS_MAIL_SERVER": "localhost",
        "PS_MAIL_SMTP_PORT": "25", "PS_MAIL_SMTP_ENCRYPTION": "off",
        "PS_COOKIE_CHECKIP": "1", "PS_COOKIE_LIFETIME_FO": "480",
        "PS_COOKIE_LIFETIME_BO": "480", "PS_COOKIE_SAMESITE": "Lax",
    }


def is_seeded(conn: sa.Connection, t: Tables) -> bool:
    """Whether the database already holds a shop."""
    return demo_shop.shop_count(conn, t) > 0


def seed_shop(conn: sa.Connection, t: Tables, *, domain: str, customer_password: str,
              employee_password: str) -> bool:
    """Seed the demo shop into an empty database; ``False`` (and nothing written) when
    it already holds a shop.

    :param domain: the host of the shop's URL (``shop_url.domain``), without a port.
    """
    if is_seeded(conn, t):
        return False
    group = seed.add_shop_group(conn, t, "Default")
    shop = seed.add_shop(conn, t, group, SHOP_NAME, domain=domain)
    en = seed.add_lang(conn, t, "en", "English (English)", [shop])
    seed.add_lang(conn, t, "fr", "Français (French)", [shop])
    for name, value in core_configuration(shop, en, domain).items():
        seed.add_configuration(conn, t, name, value)
    customer = seed.add_customer(
        conn, t, firstname=CUSTOMER.firstname, lastname=CUSTOMER.lastname,
        email=CUSTOMER.email, passwd=passwords.hash_password(customer_password),
        id_shop=shop, id_shop_group=group, id_lang=en)
    seed.add_address(conn, t, customer, firstname=CUSTOMER.firstname,
                     lastname=CUSTOMER.lastname, phone=CUSTOMER_PHONE,
                     address1="16 rue de Monceau", city="Paris")
    seed.add_employee(conn, t, firstname=EMPLOYEE.firstname, lastname=EMPLOYEE.lastname,
                      email=EMPLOYEE.email, passwd=passwords.hash_password(employee_password),
                      id_lang=en)
    # Visitors statsdata would have recorded: two anonymous ones and the customer's.
    guests.seed_names(conn, t)
    for is_customer, agent, accept_language in VISITORS:
        guests.create_guest(conn, t, id_customer=customer if is_customer else None,
                            user_agent=agent, accept_language=accept_language)
    return True
