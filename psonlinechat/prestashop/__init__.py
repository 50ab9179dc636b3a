"""PrestaShop's own formats: parameters.php, cookies, passwords."""
