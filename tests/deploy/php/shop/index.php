<?php
/**
 * A storefront page standing in for PrestaShop's theme: it calls the module's displayHeader
 * and displayFooter hooks where the classic theme prints them. ?nomodule=1 gives the same
 * page without the module (for the proxy-injection recipes and the overhead bench);
 * ?bridge=NAME reads the settings from config-NAME.json instead of config-main.json.
 */
require __DIR__ . '/stand_in.php';
$module = psoc_stand_in_module();
$head = $module ? $module->hookDisplayHeader(array()) : '';
$footer = $module ? $module->hookDisplayFooter(array()) : '';
?><!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Stand-in shop</title>
<?php echo $head; ?>
</head>
<body>
<main>
<h1>Blue teapot</h1>
<p id="rendered">Rendered by PHP <?php echo htmlspecialchars(PHP_SAPI); ?>.</p>
<form method="post" action="index.php?nomodule=<?php echo $module ? '0' : '1'; ?>">
<label>Quantity <input name="qty" value="1"></label>
<button type="submit">Add to cart</button>
</form>
<?php if (isset($_POST['qty'])) { echo '<p id="posted">Added ' . (int) $_POST['qty'] . '</p>'; } ?>
</main>
<footer><?php echo $footer; ?></footer>
</body>
</html>
