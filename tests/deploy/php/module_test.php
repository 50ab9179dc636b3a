<?php
/**
 * The module's php-cli tests: php module_test.php MODULE_DIR BRIDGE_URL CASE.
 * BRIDGE_URL is a fake_bridge.php server; the cases are the keys of $cases. Exits 0 when every check of CASE holds, else 1
 * with the failed checks on stdout.
 */
require __DIR__ . '/stubs.php';
list(, $moduleDir, $bridge, $case) = array_pad($argv, 4, '');
require $moduleDir . '/psonlinechat.php';
require $moduleDir . '/controllers/admin/AdminPsonlinechatController.php';

$failures = array();
function check($condition, $what)
{
    global $failures;
    if (!$condition) {
        $failures[] = $what;
    }
}

function installed_module($bridge, $prefix = '/psonlinechat')
{
    Psonlinechat::resetFailure();
    $module = new Psonlinechat();
    $module->install();
    Configuration::updateValue('PSOC_BRIDGE_URL', $bridge);
    Configuration::updateValue('PSOC_BRIDGE_PREFIX', $prefix);
    return $module;
}

function browser_request()
{
    $_SERVER['HTTP_HOST'] = 'shop.example:8443';
    $_SERVER['HTTP_COOKIE'] = 'PrestaShop-abc=secret; other=1';
    $_SERVER['REMOTE_ADDR'] = '10.0.0.9';
    $_SERVER['HTTP_X_FORWARDED_FOR'] = '203.0.113.7';
    $_SERVER['HTTP_ACCEPT_LANGUAGE'] = 'fr-FR,fr;q=0.9';
    $_SERVER['HTTP_USER_AGENT'] = "Tester\r\nX-Injected: 1";
    $_SERVER['HTTPS'] = 'on';
}

$cases = array(
    'install_and_uninstall' => function () use ($bridge) {
        $module = new Psonlinechat();
        check($module->install(), 'install() returns true');
        $state = $GLOBALS['psoc_stub'];
        check(array_keys($state['hooks']) === array('displayHeader', 'displayFooter', 'displayBackOfficeHeader', 'displayBackOfficeFooter'), 'exactly the four hooks: ' . json_encode(array_keys($state['hooks'])));
        check($state['configuration'] === array('PSOC_BRIDGE_URL' => 'http://127.0.0.1:8000', 'PSOC_BRIDGE_PREFIX' => '/psonlinechat'), 'exactly two keys: ' . json_encode($state['configuration']));
        check(count($state['tabs']) === 1, 'one tab');
        $tab = reset($state['tabs']);
        check($tab['class_name'] === 'AdminPsonlinechat' && $tab['module'] === 'psonlinechat' && $tab['id_parent'] === 29, 'the tab under Customer Service: ' . json_encode($tab));
        check($tab['name'] === array(1 => 'Online Chat', 2 => 'Online Chat'), 'the tab is named Online Chat in every language');
        check($module->uninstall(), 'uninstall() returns true');
        $state = $GLOBALS['psoc_stub'];
        check($state['hooks'] === array() && $state['configuration'] === array() && $state['tabs'] === array() && !$state['installed'], 'uninstall leaves nothing: ' . json_encode($state));
    },
    'fragment_forwards_the_browser' => function () use ($bridge) {
        browser_request();
        $module = installed_module($bridge);
        $answer = json_decode($module->hookDisplayFooter(array()), true);
        check($answer['path'] === '/psonlinechat/hook/displayFooter', 'the footer hook asks for displayFooter: ' . json_encode($answer));
        $h = $answer['headers'];
        check($h['Host'] === 'shop.example:8443', 'Host forwarded');
        check($h['Cookie'] === 'PrestaShop-abc=secret; other=1', 'Cookie forwarded');
        check($h['X-Forwarded-For'] === '203.0.113.7, 10.0.0.9', 'X-Forwarded-For extended: ' . $h['X-Forwarded-For']);
        check($h['X-Forwarded-Proto'] === 'https', 'X-Forwarded-Proto https');
        check($h['Accept-Language'] === 'fr-FR,fr;q=0.9', 'Accept-Language forwarded');
        check($h['User-Agent'] === 'TesterX-Injected: 1' && !isset($h['X-Injected']), 'no header injection');
        foreach (array('displayHeader', 'displayBackOfficeHeader', 'displayBackOfficeFooter') as $hook) {
            $answer = json_decode(call_user_func(array($module, 'hook' . ucfirst($hook)), array()), true);
            check($answer['path'] === '/psonlinechat/hook/' . $hook, $hook . ' asks for its own fragment');
        }
        check($GLOBALS['psoc_stub']['log'] === array(), 'nothing logged');
    },
    'custom_prefix' => function () use ($bridge) {
        $module = installed_module($bridge . '/', '/chat/');
        $answer = json_decode($module->hookDisplayHeader(array()), true);
        check($answer['path'] === '/chat/hook/displayHeader', 'the prefix is used, slashes trimmed: ' . json_encode($answer));
    },
    'bridge_error_status' => function () use ($bridge) {
        $module = installed_module($bridge, '/broken');
        check($module->hookDisplayFooter(array()) === '', 'a 500 prints nothing');
        $log = $GLOBALS['psoc_stub']['log'];
        check(count($log) === 1 && strpos($log[0], 'HTTP 500') !== false, 'one log line naming the status: ' . json_encode($log));
    },
    'bridge_down' => function () {
        $socket = stream_socket_server('tcp://127.0.0.1:0');
        $closed = stream_socket_get_name($socket, false);
        fclose($socket);
        $module = installed_module('http://' . $closed);
        check($module->hookDisplayHeader(array()) === '', 'nothing printed in the head');
        check($module->hookDisplayFooter(array()) === '', 'nothing printed in the footer');
        $log = $GLOBALS['psoc_stub']['log'];
        check(count($log) === 1, 'one log line for the page: ' . json_encode($log));
        check(strpos($log[0], 'cURL error 7 ') !== false && strpos($log[0], '[2] Module') === 0, 'a warning naming the refused connection: ' . json_encode($log));
    },
    'bridge_slow' => function () use ($bridge) {
        $module = installed_module($bridge, '/slow');
        check($module->hookDisplayFooter(array()) === '', 'a slow bridge prints nothing');
        check($module->hookDisplayBackOfficeFooter(array()) === '', 'and the next hook does not wait again');
        $log = $GLOBALS['psoc_stub']['log'];
        check(count($log) === 1, 'one log line: ' . json_encode($log));
        check(strpos($log[0], 'cURL error 28 ') !== false && strpos($log[0], 'total 800 ms') !== false, 'the total timeout (800 ms) stopped it: ' . json_encode($log));
    },
    'configuration_page' => function () use ($bridge) {
        $module = installed_module($bridge);
        $page = $module->getContent();
        check(strpos($page, 'value="' . htmlspecialchars($bridge) . '"') !== false, 'the URL field shows the bridge URL');
        check(strpos($page, 'name="testPsonlinechat"') !== false && strpos($page, 'Test the connection') !== false, 'the test button');
        check(strpos($page, 'href="/psonlinechat/admin/"') !== false, 'a link to the chat pages');
        $_POST = array('testPsonlinechat' => '1');
        $page = $module->getContent();
        check(strpos($page, 'alert-success') !== false && strpos($page, 'The bridge answered in') !== false, 'the test succeeds: ' . $page);
        $_POST = array('submitPsonlinechat' => '1', 'PSOC_BRIDGE_URL' => 'ftp://nope/x', 'PSOC_BRIDGE_PREFIX' => '/psonlinechat');
        check(strpos($module->getContent(), 'alert-danger') !== false, 'a bad URL is refused');
        check(Configuration::get('PSOC_BRIDGE_URL') === $bridge, 'and not saved');
        $_POST = array('submitPsonlinechat' => '1', 'PSOC_BRIDGE_URL' => 'http://127.0.0.1:1/', 'PSOC_BRIDGE_PREFIX' => '/psonlinechat');
        check(strpos($module->getContent(), 'Settings saved') !== false, 'a good URL is saved');
        check(Configuration::get('PSOC_BRIDGE_URL') === 'http://127.0.0.1:1', 'with its slash trimmed');
        $_POST = array('testPsonlinechat' => '1');
        $page = $module->getContent();
        check(strpos($page, 'alert-danger') !== false && strpos($page, 'psonlinechat serve') !== false, 'the test fails with a hint: ' . $page);
        $_POST = array();
    },
    'tab_redirects_to_the_pages' => function () use ($bridge) {
        $controller = new AdminPsonlinechatController();
        $controller->module = installed_module($bridge, '/chat');
        $controller->initContent();
        check($GLOBALS['psoc_stub']['redirect'] === '/chat/admin/', 'the tab leads to <prefix>/admin/');
    },
);

if (!isset($cases[$case])) {
    echo "no case $case\n";
    exit(2);
}
$cases[$case]();
if ($failures) {
    echo "FAILED:\n - ", implode("\n - ", $failures), "\n";
    exit(1);
}
echo "ok\n";
