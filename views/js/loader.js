/* psonlinechat loader: inlined in the footer fragment. Until the visitor shows intent
   (pointer, focus, click or tap on the launcher) it loads nothing and writes nothing; a
   conversation in progress (its key in sessionStorage) loads the widget at once. */
(function () {
  'use strict';
  var host = document.querySelector('psonlinechat-widget');
  var data = document.getElementById('psonlinechat-state');
  if (!host || !data || window.psonlinechat) return;
  var root = host.shadowRoot, tpl = host.querySelector('template');
  if (!root) { // no declarative shadow DOM: attach it by hand
    root = host.attachShadow({mode: 'open'});
    if (tpl) root.appendChild(tpl.content);
  }
  if (tpl) tpl.remove();
  var state = JSON.parse(data.textContent);
  var api = window.psonlinechat = {s: state, h: host, r: root, o: 0, css: null};
  var launcher = root.querySelector('button');
  function load() {
    if (api.css) return;
    var link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = state.assets.css;
    api.css = new Promise(function (done) { link.onload = link.onerror = done; });
    root.appendChild(link);
    var script = document.createElement('script');
    script.src = state.assets.js;
    script.async = true;
    document.head.appendChild(script);
  }
  ['pointerenter', 'focus', 'touchstart'].forEach(function (name) {
    launcher.addEventListener(name, load, {once: true, passive: true});
  });
  launcher.addEventListener('click', function () {
    if (api.toggle) return api.toggle();
    api.o = 1; // opened before the widget arrived: it opens once loaded
    load();
  });
  try {
    if (sessionStorage.getItem(state.storage_key)) load();
  } catch (e) { /* storage blocked: nothing to resume */ }
})();
