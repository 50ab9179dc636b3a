<?php
/**
 * The back-office "Online Chat" tab: sends the employee to the bridge's pages.
 *
 * The pages are served by the bridge under its prefix (<prefix>/admin/), through the shop's
 * own host, so the employee's back-office cookie reaches them.
 *
 * @license MIT
 */
if (!defined('_PS_VERSION_')) {
    exit;
}

class AdminPsonlinechatController extends ModuleAdminController
{
    public function initContent()
    {
        Tools::redirectAdmin($this->module->adminPagesUrl());
    }
}
