"""The wheel carries hooks, templates and mails, and works from a fresh virtualenv."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
import zipfile

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
IGNORED = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                 "demo-data", ".pytest_cache")

PROBE = textwrap.dedent("""
    import pathlib, sys
    import psonlinechat
    from flask import Flask, render_template
    from psonlinechat import OnlineChat
    from psonlinechat.mail import messages as mail

    here = pathlib.Path(psonlinechat.__file__).resolve()
    assert pathlib.Path(sys.prefix).resolve() in here.parents, here
    app = Flask("probe")
    app.config["PSONLINECHAT_DATABASE_URL"] = "sqlite://"
    OnlineChat(app)
    with app.test_request_context():
        page = render_template("psonlinechat/front/unavailable.html", message="<b>down</b>")
    assert "<p role=\\"alert\\">&lt;b&gt;down&lt;/b&gt;</p>" in page, page
    html, text = mail.render("offline_message", "fr", {"shop_name": "S", "firstname": "<Ann>",
                                                       "message": "Bonjour"})
    assert "&lt;Ann&gt;" in html and "Prénom : <Ann>" in text, text
    print("probe ok", sorted(mail.languages()))
""")


def run(args: list[str], cwd: pathlib.Path, **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=240, **kwargs)
    assert done.returncode == 0, f"{args[:3]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


#: Repository folder → its package in the wheel (setup.cfg's package_dir).
PACKAGE_DIRS = {"psonlinechat": "psonlinechat", "hooks": "psonlinechat/hooks",
                "views": "psonlinechat/views", "mails": "psonlinechat/mails"}


def shipped_files() -> set[str]:
    """Every file the wheel must carry: each source, template, style, script and mail."""
    tracked = subprocess.run(["git", "ls-files", *PACKAGE_DIRS], cwd=REPO, capture_output=True,
                             text=True, check=True).stdout.split()
    assert "mails/en/offline_message.txt" in tracked and "psonlinechat/shop/installer.py" in tracked
    return {PACKAGE_DIRS[path.split("/", 1)[0]] + "/" + path.split("/", 1)[1] for path in tracked}


@pytest.mark.slow
def test_wheel_contents_and_a_fresh_install(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(REPO, source, ignore=IGNORED)  # building never litters the work tree
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"),
         "./src"], cwd=tmp_path)
    [wheel] = (tmp_path / "dist").glob("psonlinechat-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    expected = {
        "psonlinechat/__init__.py", "psonlinechat/hooks/__init__.py",
        "psonlinechat/views/__init__.py", "psonlinechat/views/templates/front/unavailable.html",
        "psonlinechat/mails/__init__.py", "psonlinechat/store/upgrades/__init__.py",
        "psonlinechat/prestashop/parameters.py", "psonlinechat/store/configuration.py",
    }
    for iso in ("en", "fr"):
        expected |= {f"psonlinechat/mails/{iso}/offline_message.html",
                     f"psonlinechat/mails/{iso}/offline_message.txt"}
    assert expected <= names, sorted(expected - names)
    assert shipped_files() <= names, sorted(shipped_files() - names)
    assert not [n for n in names if n.startswith(("tests/", "bench/"))]

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    run([str(python), "-m", "pip", "install", "-q", str(wheel)], cwd=tmp_path)
    done = run([str(python), "-c", PROBE], cwd=tmp_path)
    assert "probe ok" in done.stdout and "'fr'" in done.stdout
    helped = run([str(venv / "bin" / "psonlinechat"), "--help"], cwd=tmp_path)
    assert "install" in helped.stdout and "uninstall" in helped.stdout
