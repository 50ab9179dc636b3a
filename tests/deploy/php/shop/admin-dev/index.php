<?php
/**
 * A back-office page standing in for PrestaShop's admin layout: displayBackOfficeHeader in
 * the head, displayBackOfficeFooter at the end of the body.
 */
require dirname(__DIR__) . '/stand_in.php';
$module = psoc_stand_in_module();
$head = $module ? $module->hookDisplayBackOfficeHeader(array()) : '';
$footer = $module ? $module->hookDisplayBackOfficeFooter(array()) : '';
?><!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Stand-in back office</title>
<?php echo $head; ?>
</head>
<body>
<main><h1>Dashboard</h1></main>
<?php echo $footer; ?>
</body>
</html>
