<?php
/**
 * Online Chat (psonlinechat bridge) for PrestaShop 1.7.8, 8.x and 9.x.
 *
 * A thin module: the chat runs in the psonlinechat bridge (a Python service on the shop's
 * server). In four display hooks this module asks the bridge for the hook's HTML fragment,
 * server-side, forwarding the visitor's Cookie, Host, X-Forwarded-For and language, and
 * prints it. When the bridge is down or slow the page renders unchanged: the fetch gives up
 * after CONNECT_TIMEOUT_MS / TIMEOUT_MS, the other hooks of the same page are skipped, and
 * one line goes to PrestaShop's log.
 *
 * @license MIT
 */
if (!defined('_PS_VERSION_')) {
    exit;
}

class Psonlinechat extends Module
{
    const CONFIG_URL = 'PSOC_BRIDGE_URL';
    const CONFIG_PREFIX = 'PSOC_BRIDGE_PREFIX';
    const DEFAULT_URL = 'http://127.0.0.1:8000';
    const DEFAULT_PREFIX = '/psonlinechat';
    /** Milliseconds to open the connection to the bridge. */
    const CONNECT_TIMEOUT_MS = 300;
    /** Milliseconds for the whole fetch: the most a page waits for the bridge. */
    const TIMEOUT_MS = 800;
    /** Milliseconds the "Test the connection" button waits. */
    const TEST_TIMEOUT_MS = 3000;
    const TAB_CLASS = 'AdminPsonlinechat';
    const TAB_PARENT = 'AdminParentCustomerThreads';

    /** @var string[] the hooks this module registers, each with its hook method */
    public static $moduleHooks = array(
        'displayHeader',
        'displayFooter',
        'displayBackOfficeHeader',
        'displayBackOfficeFooter',
    );

    /** @var string|null why the bridge failed during this request; later hooks skip it */
    protected static $failure = null;

    public function __construct()
    {
        $this->name = 'psonlinechat';
        $this->tab = 'front_office_features';
        $this->version = '0.1.0';
        $this->author = 'psonlinechat';
        $this->need_instance = 0;
        $this->bootstrap = true;
        $this->ps_versions_compliancy = array('min' => '1.7.8.0', 'max' => '9.99.99');
        parent::__construct();
        $this->displayName = $this->l('Online Chat');
        $this->description = $this->l('Live chat with your visitors, served by the psonlinechat bridge.');
        $this->confirmUninstall = $this->l('Remove the chat from your pages?');
    }

    public function install()
    {
        if (!parent::install()) {
            return false;
        }
        foreach (self::$moduleHooks as $hook) {
            if (!$this->registerHook($hook)) {
                return false;
            }
        }
        return Configuration::updateValue(self::CONFIG_URL, self::DEFAULT_URL)
            && Configuration::updateValue(self::CONFIG_PREFIX, self::DEFAULT_PREFIX)
            && $this->installTab();
    }

    public function uninstall()
    {
        foreach (self::$moduleHooks as $hook) {
            $this->unregisterHook($hook);
        }
        Configuration::deleteByName(self::CONFIG_URL);
        Configuration::deleteByName(self::CONFIG_PREFIX);
        $this->uninstallTab();
        return parent::uninstall();
    }

    protected function installTab()
    {
        if ((int) Tab::getIdFromClassName(self::TAB_CLASS)) {
            return true;
        }
        $tab = new Tab();
        $tab->active = 1;
        $tab->class_name = self::TAB_CLASS;
        $tab->module = $this->name;
        $tab->id_parent = (int) Tab::getIdFromClassName(self::TAB_PARENT);
        $tab->icon = 'chat';
        $tab->name = array();
        foreach (Language::getLanguages(false) as $language) {
            $tab->name[(int) $language['id_lang']] = 'Online Chat';
        }
        return (bool) $tab->add();
    }

    protected function uninstallTab()
    {
        $idTab = (int) Tab::getIdFromClassName(self::TAB_CLASS);
        if (!$idTab) {
            return true;
        }
        $tab = new Tab($idTab);
        return (bool) $tab->delete();
    }

    public function hookDisplayHeader($params)
    {
        return $this->fragment('displayHeader');
    }

    public function hookDisplayFooter($params)
    {
        return $this->fragment('displayFooter');
    }

    public function hookDisplayBackOfficeHeader($params)
    {
        return $this->fragment('displayBackOfficeHeader');
    }

    public function hookDisplayBackOfficeFooter($params)
    {
        return $this->fragment('displayBackOfficeFooter');
    }

    /** The bridge's internal URL, e.g. http://127.0.0.1:8000 (no trailing slash). */
    public function bridgeUrl()
    {
        $url = (string) Configuration::get(self::CONFIG_URL);
        return rtrim($url !== '' ? $url : self::DEFAULT_URL, '/');
    }

    /** Where the bridge is mounted, the same path on the bridge and on the shop's host. */
    public function bridgePrefix()
    {
        $prefix = (string) Configuration::get(self::CONFIG_PREFIX);
        return rtrim($prefix !== '' ? $prefix : self::DEFAULT_PREFIX, '/');
    }

    /** The back-office pages of the chat, as the browser reaches them through the shop's host. */
    public function adminPagesUrl()
    {
        return $this->bridgePrefix() . '/admin/';
    }

    /**
     * The bridge's HTML for $hook, or '' when the bridge fails (logged once per request).
     */
    public function fragment($hook)
    {
        if (self::$failure !== null) {
            return '';
        }
        $url = $this->bridgeUrl() . $this->bridgePrefix() . '/hook/' . $hook;
        $answer = $this->fetch($url, $this->forwardedHeaders(), self::CONNECT_TIMEOUT_MS, self::TIMEOUT_MS);
        if ($answer['error'] === null) {
            return $answer['body'];
        }
        self::$failure = $answer['error'];
        PrestaShopLogger::addLog(
            'psonlinechat: no chat on this page, the bridge at ' . $this->bridgeUrl() . ' failed: '
            . $answer['error'],
            2,
            null,
            'Module',
            (int) $this->id,
            true
        );
        return '';
    }

    /** Forget a failure: the next fragment() asks the bridge again (one request = one page). */
    public static function resetFailure()
    {
        self::$failure = null;
    }

    /** @return string[] the browser's headers the bridge needs to know who is there */
    public function forwardedHeaders()
    {
        $server = $_SERVER;
        $remote = isset($server['REMOTE_ADDR']) ? $server['REMOTE_ADDR'] : '';
        $chain = isset($server['HTTP_X_FORWARDED_FOR']) ? $server['HTTP_X_FORWARDED_FOR'] : '';
        $forwardedFor = trim($chain . ($chain !== '' && $remote !== '' ? ', ' : '') . $remote);
        $secure = (!empty($server['HTTPS']) && strtolower($server['HTTPS']) !== 'off')
            || (isset($server['HTTP_X_FORWARDED_PROTO']) && strtolower($server['HTTP_X_FORWARDED_PROTO']) === 'https');
        $headers = array(
            'Host' => isset($server['HTTP_HOST']) ? $server['HTTP_HOST'] : '',
            'Cookie' => isset($server['HTTP_COOKIE']) ? $server['HTTP_COOKIE'] : '',
            'X-Forwarded-For' => $forwardedFor,
            'X-Forwarded-Proto' => $secure ? 'https' : 'http',
            'Accept-Language' => isset($server['HTTP_ACCEPT_LANGUAGE']) ? $server['HTTP_ACCEPT_LANGUAGE'] : '',
            'User-Agent' => isset($server['HTTP_USER_AGENT']) ? $server['HTTP_USER_AGENT'] : '',
        );
        $lines = array();
        foreach ($headers as $name => $value) {
            $value = str_replace(array("\r", "\n", "\0"), '', $value);
            if ($value !== '') {
                $lines[] = $name . ': ' . $value;
            }
        }
        return $lines;
    }

    /**
     * GET $url with cURL: array('body' => string, 'status' => int, 'ms' => int, 'error' => string|null).
     * error is null only for a 200 answer.
     */
    public function fetch($url, array $headers, $connectTimeoutMs, $timeoutMs)
    {
        if (!function_exists('curl_init')) {
            return array('body' => '', 'status' => 0, 'ms' => 0, 'error' => 'PHP has no cURL extension');
        }
        $curl = curl_init($url);
        curl_setopt_array($curl, array(
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_HTTPHEADER => array_merge($headers, array('Expect:')),
            CURLOPT_CONNECTTIMEOUT_MS => (int) $connectTimeoutMs,
            CURLOPT_TIMEOUT_MS => (int) $timeoutMs,
            CURLOPT_NOSIGNAL => true,
            CURLOPT_PROXY => '',
            CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS,
            CURLOPT_ENCODING => '',
        ));
        $body = curl_exec($curl);
        $status = (int) curl_getinfo($curl, CURLINFO_HTTP_CODE);
        $ms = (int) round(1000 * (float) curl_getinfo($curl, CURLINFO_TOTAL_TIME));
        $error = null;
        if ($body === false) {
            $error = 'cURL error ' . curl_errno($curl) . ' (' . curl_error($curl) . ') after ' . $ms . ' ms'
                . ' [timeouts: connect ' . (int) $connectTimeoutMs . ' ms, total ' . (int) $timeoutMs . ' ms]';
            $body = '';
        } elseif ($status !== 200) {
            $error = 'HTTP ' . $status . ' from ' . $url;
        }
        curl_close($curl);
        return array('body' => $error === null ? (string) $body : '', 'status' => $status, 'ms' => $ms, 'error' => $error);
    }

    /** The configuration page: the bridge's URL and prefix, and "Test the connection". */
    public function getContent()
    {
        $notice = '';
        if (Tools::isSubmit('submitPsonlinechat')) {
            $notice = $this->saveSettings((string) Tools::getValue(self::CONFIG_URL), (string) Tools::getValue(self::CONFIG_PREFIX));
        } elseif (Tools::isSubmit('testPsonlinechat')) {
            $notice = $this->testConnection();
        }
        $this->context->smarty->assign(array(
            'psoc_action' => $this->context->link->getAdminLink('AdminModules', true, array(), array('configure' => $this->name)),
            'psoc_url' => $this->bridgeUrl(),
            'psoc_prefix' => $this->bridgePrefix(),
            'psoc_default_url' => self::DEFAULT_URL,
            'psoc_admin_pages' => $this->adminPagesUrl(),
        ));
        return $notice . $this->display(__FILE__, 'views/templates/admin/configure.tpl');
    }

    /** Validate and store the settings; the notice to show (confirmation or error). */
    public function saveSettings($url, $prefix)
    {
        $url = rtrim(trim($url), '/');
        $prefix = rtrim(trim($prefix), '/');
        if (!preg_match('#^https?://[^/\s?\#@]+$#', $url)) {
            return $this->displayError($this->l('The bridge URL must look like http://127.0.0.1:8000: a scheme, a host, a port, no path.'));
        }
        if (!preg_match('#^(/[A-Za-z0-9._-]+)+$#', $prefix)) {
            return $this->displayError($this->l('The path prefix must look like /psonlinechat (letters, digits, dots, dashes).'));
        }
        Configuration::updateValue(self::CONFIG_URL, $url);
        Configuration::updateValue(self::CONFIG_PREFIX, $prefix);
        return $this->displayConfirmation($this->l('Settings saved.'));
    }

    /** Ask the bridge for a fragment as a page would; the notice saying how it went. */
    public function testConnection()
    {
        $url = $this->bridgeUrl() . $this->bridgePrefix() . '/hook/displayHeader';
        $answer = $this->fetch($url, $this->forwardedHeaders(), self::TEST_TIMEOUT_MS, self::TEST_TIMEOUT_MS);
        if ($answer['error'] === null) {
            return $this->displayConfirmation(sprintf($this->l('The bridge answered in %d ms: the chat can reach your pages.'), $answer['ms']));
        }
        return $this->displayError(sprintf(
            $this->l('The bridge did not answer at %s: %s. Is "psonlinechat serve" running (systemctl status psonlinechat), and is this its address?'),
            $url,
            $answer['error']
        ));
    }
}
