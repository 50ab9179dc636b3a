<?php
/**
 * Nothing to see here: stops directory listings (PrestaShop Addons convention).
 *
 * @license MIT
 */
header("Expires: Mon, 26 Jul 1997 05:00:00 GMT");
header("Last-Modified: " . gmdate("D, d M Y H:i:s") . " GMT");
header("Cache-Control: no-store, no-cache, must-revalidate");
header("Pragma: no-cache");
header("Location: ../");
exit;
