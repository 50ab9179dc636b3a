/* psonlinechat back office: the Configuration page (language switcher, offline section,
   contrast warnings, live previews drawn by the widget's own code) and the
   history's dialogs (View, and the delete confirmation). Plain JS, no build step. */
(() => {
  'use strict';
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const el = (tag, props, ...kids) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === 'text') node.textContent = v;
      else if (v === true) node.setAttribute(k, '');
      else if (v !== false && v != null) node.setAttribute(k, v);
    }
    node.append(...kids.filter(Boolean));
    return node;
  };

  // --- colours and contrast (WCAG 2 relative luminance) -------------------------------------
  function luminance(hex) {
    const m = /^#?([0-9a-f]{6})$/i.exec(hex || '');
    if (!m) return null;
    const n = parseInt(m[1], 16);
    const c = [n >> 16, (n >> 8) & 255, n & 255].map((v) => {
      const s = v / 255;
      return s <= 0.04045 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  function contrast(a, b) {
    const la = luminance(a), lb = luminance(b);
    if (la === null || lb === null) return null;
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }
  // web/front/colours.py's rule, for the previews: the background moves towards black (under
  // light text) or white (under dark text) by steps of 5 % until the pair reaches 4.5:1
  function readable(background, text) {
    const rgb = (hex) => { const n = parseInt(hex.slice(1), 16); return [n >> 16, (n >> 8) & 255, n & 255]; };
    const hex = (c) => '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');
    if (luminance(background) === null || luminance(text) === null) return background;
    const to = luminance(text) > 0.5 ? 0 : 255, start = rgb(background);
    let now = background;
    for (let step = 1; contrast(now, text) < 4.5 && step <= 20; step++) {
      now = hex(start.map((c) => Math.round(c + (to - c) * step / 20)));
    }
    return now;
  }

  // --- the Configuration page ---------------------------------------------------------------
  const form = $('form[data-config]');
  if (form) configure(form);

  function configure(form) {
    const current = {'': form.dataset.defaultLang, offline_: form.dataset.defaultLang};
    const value = (sel) => { const n = $(sel, form); return n ? n.value : ''; };
    // as the storefront does: a missing translation shows the default language's text
    const text = (section, kind) => value(`[data-text="${section}${kind}"][data-lang="${current[section]}"]`).trim() ||
      value(`[data-text="${section}${kind}"][data-lang="${form.dataset.defaultLang}"]`);

    function showLang(section, lang) {
      current[section] = String(lang);
      for (const b of $$(`.lang-button[data-section="${section}"]`, form)) b.setAttribute('aria-pressed', String(b.dataset.lang === current[section]));
      for (const p of $$(`.lang-pane[data-section="${section}"]`, form)) p.hidden = p.dataset.langPane !== current[section];
      render();
    }
    function flagMissing(section, lang) {
      const filled = ['header', 'welcome'].every((k) => value(`[data-text="${section}${k}"][data-lang="${lang}"]`).trim());
      const b = $(`.lang-button[data-section="${section}"][data-lang="${lang}"] [data-missing]`, form);
      if (b) b.hidden = filled;
    }
    for (const b of $$('.lang-button', form)) b.addEventListener('click', () => showLang(b.dataset.section, b.dataset.lang));

    const toggle = $('[data-offline-toggle]', form);
    const offlineShown = () => { for (const s of $$('[data-offline-section]')) s.hidden = !toggle.checked; };
    toggle.addEventListener('change', offlineShown);

    for (const box of $$('[data-required]', form)) {
      box.addEventListener('change', () => { if (box.checked) $(`[data-requested="${box.dataset.required}"]`, form).checked = true; render(); });
    }
    for (const box of $$('[data-requested]', form)) {
      box.addEventListener('change', () => { if (!box.checked) $(`[data-required="${box.dataset.requested}"]`, form).checked = false; render(); });
    }

    function warnings() {
      for (const set of $$('[data-contrast]', form)) {
        const name = set.dataset.contrast;
        const ratio = contrast(value(`#${name}_background`), value(`#${name}_color`));
        const out = $(`[data-contrast-warning="${name}"]`, set);
        const low = ratio !== null && ratio < 4.5;
        const said = low ? form.dataset.contrastText.replace('%(ratio)s', ratio.toFixed(2)) : '';
        if (out.textContent !== said) out.textContent = said;
        set.classList.toggle('low-contrast', low);
      }
    }

    // previews: drawn by the storefront's own widget.js and widget.css (its preview mode),
    // which also moves a low-contrast background as the storefront does
    const base = JSON.parse(form.dataset.widget || '{}');
    let previews = [];
    if (base.assets) {
      const script = el('script', {src: base.assets.js});
      script.addEventListener('load', () => {
        previews = $$('[data-preview]').map((host) => window.psonlinechatPreview(host, {...base, availability: host.dataset.preview}));
        render();
      });
      document.head.append(script);
    }
    function colours() {
      const out = {};
      for (const input of $$('[data-colour]', form)) out[input.dataset.colour] = input.value;
      for (const name of Object.keys(out)) {
        if (name.endsWith('_background')) out[name] = readable(out[name], out[name.slice(0, -10) + 'color']);
      }
      return out;
    }
    function fields() {
      return $$('[data-requested]', form).filter((b) => b.checked).map((b) => ({
        name: b.dataset.requested, state: $(`[data-required="${b.dataset.requested}"]`, form).checked ? 'required' : 'requested'}));
    }
    function render() {
      const state = {colours: colours(), operator_name: value('#operator_name'), fields: fields(),
        texts: {header: text('', 'header'), welcome: text('', 'welcome'),
          offline_header: text('offline_', 'header'), offline_welcome: text('offline_', 'welcome')}};
      for (const p of previews) p.update(state);
      warnings();
    }
    form.addEventListener('input', (e) => {
      const t = e.target;
      if (t.dataset && t.dataset.text && t.dataset.lang) flagMissing(t.dataset.text.startsWith('offline_') ? 'offline_' : '', t.dataset.lang);
      render();
    });
    form.addEventListener('change', render);
    showLang('', current['']);
    showLang('offline_', current.offline_);
    offlineShown();
  }

  // --- the history's dialogs ----------------------------------------------------------------
  const viewer = $('#history-view');
  if (viewer) {
    const content = $('[data-view-content]', viewer);
    let opener = null;
    for (const b of $$('[data-view]')) {
      b.addEventListener('click', async (e) => {
        e.preventDefault();
        opener = b;
        $('#history-view-title').textContent = viewer.dataset.title.replace('%(who)s', b.dataset.who || '');
        content.replaceChildren(el('p', {text: viewer.dataset.loading}));
        viewer.showModal();
        try {
          const answer = await fetch(b.dataset.view, {credentials: 'same-origin', headers: {Accept: 'text/html'}});
          const html = await answer.text();
          const doc = new DOMParser().parseFromString(html, 'text/html');
          const part = doc.querySelector('[data-exchange]');
          content.replaceChildren(part ? document.importNode(part, true) : el('p', {text: viewer.dataset.failed}));
        } catch (err) { content.replaceChildren(el('p', {text: viewer.dataset.failed})); }
      });
    }
    viewer.addEventListener('close', () => { if (opener) opener.focus(); });
  }
  const confirmBox = $('#delete-confirm');
  if (confirmBox) {
    let pending = null;
    const message = $('[data-confirm-message]', confirmBox);
    for (const f of $$('form[data-delete]')) {
      f.addEventListener('submit', (e) => {
        if (f.dataset.confirmed === '1') return;
        e.preventDefault();
        const submitter = e.submitter;
        const count = submitter && submitter.name === 'lines' ? 1 : Array.from(f.elements).filter((n) => n.name === 'lines' && n.checked).length;
        if (!count) { message.textContent = confirmBox.dataset.none; $('[data-confirm-yes]', confirmBox).hidden = true; }
        else {
          message.textContent = (count === 1 ? confirmBox.dataset.one : confirmBox.dataset.many).replace('%(num)d', count);
          $('[data-confirm-yes]', confirmBox).hidden = false;
        }
        pending = {form: f, submitter};
        confirmBox.showModal();
        $(count ? '[data-confirm-no]' : '[data-confirm-no]', confirmBox).focus();
      });
    }
    $('[data-confirm-yes]', confirmBox).addEventListener('click', () => {
      if (!pending) return;
      const {form: f, submitter} = pending;
      f.append(el('input', {type: 'hidden', name: 'confirmed', value: '1'}));
      f.dataset.confirmed = '1';
      confirmBox.close();
      f.requestSubmit(submitter && submitter.form === f ? submitter : undefined);
    });
    $('[data-confirm-no]', confirmBox).addEventListener('click', () => { confirmBox.close(); if (pending && pending.submitter) pending.submitter.focus(); pending = null; });
  }
  const counter = $('#history-count[data-count-url]');
  if (counter) {
    fetch(counter.dataset.countUrl, {credentials: 'same-origin', headers: {Accept: 'application/json'}})
      .then((r) => (r.ok ? r.json() : null)).then((d) => { if (d) counter.textContent = d.text; })
      .catch(() => { /* the count is a courtesy: the page works without it */ });
  }
  const all = $('[data-select-all]');
  if (all) all.addEventListener('change', () => { for (const b of $$('input[name="lines"][type="checkbox"]')) b.checked = all.checked; });
})();
