<?php
/**
 * Stand-ins for the PrestaShop classes the module touches, enough to run it under php-cli
 * and php-fpm: Module, Configuration, Context, Tools, Tab, Language, Link, PrestaShopLogger,
 * ModuleAdminController. What they record (hooks, tabs, configuration keys, log lines) is
 * kept in $GLOBALS['psoc_stub'], and log lines also go to the file named by PSOC_STUB_LOG.
 */
define('_PS_VERSION_', getenv('PSOC_STUB_PS_VERSION') ?: '8.1.7');

$GLOBALS['psoc_stub'] = array(
    'configuration' => array(),
    'hooks' => array(),
    'tabs' => array(),
    'log' => array(),
    'redirect' => null,
    'installed' => false,
);

class Configuration
{
    public static function get($key)
    {
        $values = $GLOBALS['psoc_stub']['configuration'];
        return array_key_exists($key, $values) ? $values[$key] : false;
    }

    public static function updateValue($key, $value)
    {
        $GLOBALS['psoc_stub']['configuration'][$key] = (string) $value;
        return true;
    }

    public static function deleteByName($key)
    {
        unset($GLOBALS['psoc_stub']['configuration'][$key]);
        return true;
    }
}

class PrestaShopLogger
{
    public static function addLog($message, $severity = 1, $errorCode = null, $objectType = null, $objectId = null, $allowDuplicate = false)
    {
        $line = '[' . (int) $severity . '] ' . $objectType . ' ' . $message;
        $GLOBALS['psoc_stub']['log'][] = $line;
        $file = getenv('PSOC_STUB_LOG');
        if ($file) {
            file_put_contents($file, $line . "\n", FILE_APPEND | LOCK_EX);
        }
        return true;
    }
}

class Tools
{
    public static function getValue($key, $default = false)
    {
        if (isset($_POST[$key])) {
            return $_POST[$key];
        }
        return isset($_GET[$key]) ? $_GET[$key] : $default;
    }

    public static function isSubmit($key)
    {
        return isset($_POST[$key]) || isset($_GET[$key]);
    }

    public static function redirectAdmin($url)
    {
        $GLOBALS['psoc_stub']['redirect'] = $url;
    }
}

class Language
{
    public static function getLanguages($active = true)
    {
        return array(array('id_lang' => 1, 'iso_code' => 'en'), array('id_lang' => 2, 'iso_code' => 'fr'));
    }
}

class Tab
{
    public $id;
    public $active;
    public $class_name;
    public $module;
    public $id_parent;
    public $icon;
    public $name;

    public function __construct($id = null)
    {
        if ($id !== null && isset($GLOBALS['psoc_stub']['tabs'][$id])) {
            foreach ($GLOBALS['psoc_stub']['tabs'][$id] as $field => $value) {
                $this->$field = $value;
            }
        }
    }

    public static function getIdFromClassName($className)
    {
        if ($className === 'AdminParentCustomerThreads') {
            return 29;
        }
        foreach ($GLOBALS['psoc_stub']['tabs'] as $id => $tab) {
            if ($tab['class_name'] === $className) {
                return $id;
            }
        }
        return false;
    }

    public function add()
    {
        $this->id = 100 + count($GLOBALS['psoc_stub']['tabs']);
        $GLOBALS['psoc_stub']['tabs'][$this->id] = get_object_vars($this);
        return true;
    }

    public function delete()
    {
        unset($GLOBALS['psoc_stub']['tabs'][$this->id]);
        return true;
    }
}

class Link
{
    public function getAdminLink($controller, $withToken = true, $routeParams = array(), $params = array())
    {
        return 'index.php?controller=' . $controller . '&token=stubtoken&' . http_build_query($params);
    }
}

class StubSmarty
{
    public $vars = array();

    public function assign($vars)
    {
        $this->vars = array_merge($this->vars, $vars);
    }

    /** Just enough Smarty for configure.tpl: comments, {l s='…'}, {$var|escape:…}. */
    public function render($file)
    {
        $vars = $this->vars;
        $html = preg_replace('/\{\*.*?\*\}/s', '', file_get_contents($file));
        $html = preg_replace_callback("/\{l s='((?:[^'\\\\]|\\\\.)*)'[^}]*\}/", function ($m) {
            return htmlspecialchars(stripslashes($m[1]), ENT_QUOTES, 'UTF-8');
        }, $html);
        return preg_replace_callback('/\{\$(\w+)\|escape:[^}]*\}/', function ($m) use ($vars) {
            return htmlspecialchars((string) $vars[$m[1]], ENT_QUOTES, 'UTF-8');
        }, $html);
    }
}

class Context
{
    protected static $instance;
    public $smarty;
    public $link;

    public static function getContext()
    {
        if (!self::$instance) {
            self::$instance = new Context();
            self::$instance->smarty = new StubSmarty();
            self::$instance->link = new Link();
        }
        return self::$instance;
    }
}

class Module
{
    public $id = 42;
    public $name;
    public $tab;
    public $version;
    public $author;
    public $need_instance;
    public $bootstrap;
    public $ps_versions_compliancy;
    public $displayName;
    public $description;
    public $confirmUninstall;
    public $context;

    public function __construct()
    {
        $this->context = Context::getContext();
    }

    public function l($text)
    {
        return $text;
    }

    public function install()
    {
        $GLOBALS['psoc_stub']['installed'] = true;
        return true;
    }

    public function uninstall()
    {
        $GLOBALS['psoc_stub']['installed'] = false;
        return true;
    }

    public function registerHook($name)
    {
        if (!method_exists($this, 'hook' . ucfirst($name))) {
            throw new Exception('PrestaShop 8+ refuses hook ' . $name . ': no hook' . ucfirst($name) . ' method');
        }
        $GLOBALS['psoc_stub']['hooks'][$name] = true;
        return true;
    }

    public function unregisterHook($name)
    {
        unset($GLOBALS['psoc_stub']['hooks'][$name]);
        return true;
    }

    public function display($file, $template)
    {
        return $this->context->smarty->render(dirname($file) . '/' . $template);
    }

    public function displayConfirmation($text)
    {
        return '<div class="alert alert-success">' . htmlspecialchars($text, ENT_QUOTES, 'UTF-8') . '</div>';
    }

    public function displayError($text)
    {
        return '<div class="alert alert-danger">' . htmlspecialchars($text, ENT_QUOTES, 'UTF-8') . '</div>';
    }
}

class ModuleAdminController
{
    public $module;
}

/** Settings a page starts with: the JSON file PSOC_STUB_CONFIG names, if any. */
function psoc_stub_load_configuration()
{
    $file = getenv('PSOC_STUB_CONFIG');
    if ($file && is_file($file)) {
        $GLOBALS['psoc_stub']['configuration'] = json_decode(file_get_contents($file), true);
    }
}
