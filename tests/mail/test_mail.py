"""Mail templates: every language complete and consistent, escaping, fallback, outbox files."""

from __future__ import annotations

import email
import email.policy
import importlib.resources
import re

import jinja2
import pytest

from psonlinechat.mail import messages as mail
from psonlinechat.mail.transports import OutboxMailer

VARIABLES = {"shop_name": "Test shop", "firstname": "Ann", "lastname": "Lee",
             "email": "ann@example.test", "phone": "+33 1 23 45 67 89",
             "message": "Hello,\nis it in stock?"}
PLACEHOLDER = re.compile(r"{{\s*([a-z_]+)")


def source(iso, name, fmt):
    path = importlib.resources.files(mail.PACKAGE).joinpath(f"{iso}/{name}.{fmt}")
    return path.read_text("utf-8")


def test_the_languages_of_the_widget_ship():
    """At least the widget's languages (issue 9: en, fr, es, de, it), each with a subject."""
    assert {"en", "fr", "es", "de", "it"} <= set(mail.languages())
    assert set(mail.languages()) <= set(mail.SUBJECTS["offline_message"])


def test_render_italian():
    html, text = mail.render("offline_message", "it", VARIABLES)
    assert '<html lang="it">' in html and "Cognome</th><td>Lee" in html
    assert text.startswith("Un visitatore ha lasciato un messaggio su Test shop")
    assert "Telefono: +33 1 23 45 67 89" in text
    assert mail.subject("offline_message", "it", VARIABLES) == (
        "[Test shop] Nuovo messaggio dal modulo di contatto della chat")


@pytest.mark.parametrize("name", sorted(mail.MAILS))
@pytest.mark.parametrize("iso", mail.languages())
def test_every_mail_in_every_language_and_format_with_the_same_placeholders(name, iso):
    for fmt in ("html", "txt"):
        used = set(PLACEHOLDER.findall(source(iso, name, fmt)))
        assert used == set(mail.MAILS[name]), (iso, fmt)
        assert mail.template_path(name, iso, fmt) == f"{iso}/{name}.{fmt}"
    assert iso in mail.SUBJECTS[name]


def test_render_english_and_french():
    html, text = mail.render("offline_message", "en", VARIABLES)
    assert "Ann" in html and "ann@example.test" in text and "Hello,\nis it in stock?" in text
    html_fr, text_fr = mail.render("offline_message", "fr", VARIABLES)
    assert "Prénom" in html_fr and "Téléphone : +33 1 23 45 67 89" in text_fr
    assert html_fr != html


def test_html_is_escaped_and_text_is_not():
    evil = {**VARIABLES, "firstname": "<script>alert(1)</script>", "message": 'a & b "c"'}
    html, text = mail.render("offline_message", "en", evil)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "a &amp; b &#34;c&#34;" in html
    assert "<script>alert(1)</script>" in text and 'a & b "c"' in text


def test_unknown_language_falls_back_to_english():
    english = mail.render("offline_message", "en", VARIABLES)
    assert mail.render("offline_message", "ja", VARIABLES) == english
    assert mail.render("offline_message", "../en", VARIABLES) == english
    assert mail.subject("offline_message", "ja", VARIABLES).startswith("[Test shop] New message")


def test_missing_declared_variables_render_empty():
    html, text = mail.render("offline_message", "en", {"shop_name": "S", "phone": None})
    assert "Phone: \n" in text


def test_unknown_mail_and_undeclared_placeholders():
    with pytest.raises(mail.MailError):
        mail.render("no_such_mail", "en", {})
    with pytest.raises(mail.MailError):
        mail.subject("no_such_mail", "en", {})
    with pytest.raises(jinja2.UndefinedError):
        mail._ENV.from_string("{{ not_declared }}").render({})


def test_subject_is_one_line():
    assert mail.subject("offline_message", "fr", {"shop_name": "A\nB"}) == \
        "[A B] Nouveau message via le formulaire du chat"


def test_outbox_writes_readable_eml_files(tmp_path):
    html, text = mail.render("offline_message", "fr", VARIABLES)
    message = mail.build_message(sender="shop@example.test", to="owner@example.test",
                                 subject_line=mail.subject("offline_message", "fr", VARIABLES),
                                 html=html, text=text, reply_to="ann@example.test")
    outbox = OutboxMailer(tmp_path / "outbox")
    outbox.send(message)
    outbox.send(message)
    files = outbox.messages()
    assert len(files) == 2 and not list((tmp_path / "outbox").glob("*.part"))
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert parsed["Reply-To"] == "ann@example.test"
    assert parsed["Subject"] == "[Test shop] Nouveau message via le formulaire du chat"
    assert parsed.get_body(("plain",)).get_content().startswith("Un visiteur")
    assert "Prénom" in parsed.get_body(("html",)).get_content()


@pytest.mark.parametrize("field", ["sender", "to", "subject_line", "reply_to"])
def test_header_injection_is_refused(field):
    values = {"sender": "a@b.c", "to": "c@d.e", "subject_line": "s", "reply_to": "x@y.z",
              field: "x@y.z\nBcc: victim@example.test"}
    with pytest.raises(ValueError, match="line break"):
        mail.build_message(html="<p>x</p>", text="x", **values)
