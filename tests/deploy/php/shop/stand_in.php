<?php
/**
 * What the stand-in pages share: the stub PrestaShop classes, the settings the test wrote
 * (config-<bridge>.json), the log file, and the module loaded from modules/psonlinechat.
 */
putenv('PSOC_STUB_LOG=' . __DIR__ . '/log/prestashop.log');
$bridge = isset($_GET['bridge']) ? preg_replace('/[^a-z0-9]/', '', $_GET['bridge']) : 'main';
putenv('PSOC_STUB_CONFIG=' . __DIR__ . '/config-' . $bridge . '.json');
require __DIR__ . '/stubs.php';
psoc_stub_load_configuration();

/** The module, or null for ?nomodule=1. */
function psoc_stand_in_module()
{
    if (!empty($_GET['nomodule'])) {
        return null;
    }
    require_once __DIR__ . '/modules/psonlinechat/psonlinechat.php';
    return new Psonlinechat();
}
