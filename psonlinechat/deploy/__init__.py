"""Putting the bridge next to a PHP shop: the PrestaShop module's zip, and the doctor.

- :mod:`~psonlinechat.deploy.module_zip` writes the thin PrestaShop module (PHP, shipped as
  package data in ``prestashop_module/``) as the zip a merchant uploads;
- :mod:`~psonlinechat.deploy.doctor` checks a deployment from the outside, as a browser would.

The recipes for nginx, Apache and systemd are in ``docs/deploy/``.
"""
