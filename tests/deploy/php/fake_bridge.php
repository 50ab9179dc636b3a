<?php
/**
 * A fake bridge for the module's php-cli tests (php -S 127.0.0.1:PORT fake_bridge.php).
 * Prefix /slow waits 3 s, /broken answers 500; anything else answers 200 with the path and
 * the request headers it received, as JSON.
 */
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if (strpos($path, '/slow/') === 0) {
    sleep(3);
}
if (strpos($path, '/broken/') === 0) {
    http_response_code(500);
    echo 'broken';
    return true;
}
header('Content-Type: text/html; charset=utf-8');
echo json_encode(array('path' => $path, 'headers' => getallheaders()));
return true;
