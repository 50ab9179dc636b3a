"""The module's hook handlers, one module per PrestaShop hook (``display_footer`` ↔ ``displayFooter``)."""
