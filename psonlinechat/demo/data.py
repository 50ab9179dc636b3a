"""The demo's data folder: the SQLite shop, its secrets and the mail outbox.

``<data>/shop.sqlite`` is the shop's database, ``<data>/demo.json`` the secrets made once
on first start (the three cookie keys of a parameters.php, Flask's secret key and the demo
passwords), ``<data>/outbox/`` the mails, one ``.eml`` file each. A reset removes exactly
these and nothing else found in the folder.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import secrets

from psonlinechat import testing
from psonlinechat.errors import ConfigError
from psonlinechat.prestashop import cookies

DATABASE_FILE = "shop.sqlite"
SECRETS_FILE = "demo.json"
OUTBOX_FOLDER = "outbox"


@dataclasses.dataclass(frozen=True)
class DemoSecrets:
    """What one demo folder keeps secret, made once (see :func:`DemoSecrets.generate`)."""

    new_cookie_key: str
    cookie_iv: str
    cookie_key: str
    secret_key: str
    customer_password: str
    employee_password: str

    @classmethod
    def generate(cls) -> DemoSecrets:
        """Fresh random secrets, shaped as PrestaShop's installer shapes its keys."""
        keys = testing.make_cookie_keys()
        return cls(new_cookie_key=keys.new_cookie_key, cookie_iv=keys.cookie_iv,
                   cookie_key=keys.cookie_key, secret_key=secrets.token_hex(32),
                   customer_password=secrets.token_urlsafe(9),
                   employee_password=secrets.token_urlsafe(9))

    @property
    def cookie_keys(self) -> cookies.CookieKeys:
        return cookies.CookieKeys(new_cookie_key=self.new_cookie_key, cookie_iv=self.cookie_iv,
                                  cookie_key=self.cookie_key)

    def __repr__(self) -> str:  # never print secrets in logs or tracebacks
        return "DemoSecrets(…)"


class DataFolder:
    """The demo's folder at ``path`` (created on :meth:`prepare`).

    :param path: where the demo keeps its database, secrets and outbox.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = pathlib.Path(path).expanduser().resolve()

    @property
    def database_path(self) -> pathlib.Path:
        return self.path / DATABASE_FILE

    @property
    def database_url(self) -> str:
        return "sqlite:///" + self.database_path.as_posix()

    @property
    def secrets_path(self) -> pathlib.Path:
        return self.path / SECRETS_FILE

    @property
    def outbox_path(self) -> pathlib.Path:
        return self.path / OUTBOX_FOLDER

    def prepare(self, *, reset: bool = False) -> DemoSecrets:
        """Create the folder (emptied of the demo's own files first when ``reset``) and
        return its secrets, made and saved on first use.

        :raises ConfigError: the path is a file, cannot be created, or its secrets file is
            unreadable.
        """
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            if reset:
                self._remove_own_files()
            self.outbox_path.mkdir(exist_ok=True)
        except OSError as exc:
            raise ConfigError("--data", f"{self.path} cannot be used: {exc.strerror}") from None
        if self.secrets_path.exists():
            return self._read_secrets()
        made = DemoSecrets.generate()
        self._write_secrets(made)
        return made

    def _remove_own_files(self) -> None:
        for name in (DATABASE_FILE, DATABASE_FILE + "-journal", DATABASE_FILE + "-wal",
                     DATABASE_FILE + "-shm", SECRETS_FILE):
            (self.path / name).unlink(missing_ok=True)
        if self.outbox_path.is_dir():
            for pattern in ("*.eml", "*.part"):
                for mail in self.outbox_path.glob(pattern):
                    mail.unlink()

    def _read_secrets(self) -> DemoSecrets:
        try:
            data = json.loads(self.secrets_path.read_text(encoding="utf-8"))
            made = DemoSecrets(**{field.name: str(data[field.name])
                                  for field in dataclasses.fields(DemoSecrets)})
            cookies.load_key(made.new_cookie_key)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError("--data", f"{self.secrets_path} is unreadable ({exc}); "
                                        "start again with --reset") from None
        return made

    def _write_secrets(self, made: DemoSecrets) -> None:
        text = json.dumps(dataclasses.asdict(made), indent=2) + "\n"
        descriptor = os.open(self.secrets_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
