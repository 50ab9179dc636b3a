{* The module's configuration page: the bridge's internal URL and "Test the connection". *}
<form method="post" action="{$psoc_action|escape:'html':'UTF-8'}" class="form-horizontal" id="psonlinechat-configuration">
  <div class="panel">
    <div class="panel-heading">{l s='Online Chat bridge' mod='psonlinechat'}</div>
    <div class="form-group">
      <label class="control-label col-lg-3" for="PSOC_BRIDGE_URL">{l s='Bridge URL (internal)' mod='psonlinechat'}</label>
      <div class="col-lg-6">
        <input type="url" id="PSOC_BRIDGE_URL" name="PSOC_BRIDGE_URL" value="{$psoc_url|escape:'html':'UTF-8'}" required>
        <p class="help-block">{l s='Where this server reaches "psonlinechat serve"; default' mod='psonlinechat'} {$psoc_default_url|escape:'html':'UTF-8'}</p>
      </div>
    </div>
    <div class="form-group">
      <label class="control-label col-lg-3" for="PSOC_BRIDGE_PREFIX">{l s='Path prefix' mod='psonlinechat'}</label>
      <div class="col-lg-6">
        <input type="text" id="PSOC_BRIDGE_PREFIX" name="PSOC_BRIDGE_PREFIX" value="{$psoc_prefix|escape:'html':'UTF-8'}" required>
        <p class="help-block">{l s='The same as the bridge\'s PSONLINECHAT_URL_PREFIX and your web server\'s proxy location.' mod='psonlinechat'}</p>
      </div>
    </div>
    <p>{l s='The chat\'s back-office pages:' mod='psonlinechat'} <a href="{$psoc_admin_pages|escape:'html':'UTF-8'}">{$psoc_admin_pages|escape:'html':'UTF-8'}</a></p>
    <div class="panel-footer">
      <button type="submit" name="submitPsonlinechat" value="1" class="btn btn-primary pull-right">{l s='Save' mod='psonlinechat'}</button>
      <button type="submit" name="testPsonlinechat" value="1" class="btn btn-default">{l s='Test the connection' mod='psonlinechat'}</button>
    </div>
  </div>
</form>
