/* psonlinechat storefront widget: the chat panel and the offline form, inside the shadow
   root the footer fragment made. Loaded by loader.js on intent; speaks docs/protocol.md
   (visitor socket). Every text is set with textContent, never as HTML.
   psonlinechatPreview(host, state) draws the same panel in place, without a socket or
   storage, for the back office's previews (docs/widget.md, "Preview mode"). */
(() => {
  'use strict';
  // --- DOM helpers
  const el = (tag, props, ...kids) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === 'text') node.textContent = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (v === true) node.setAttribute(k, '');
      else if (v !== false && v != null) node.setAttribute(k, v);
    }
    node.append(...kids.filter(Boolean));
    return node;
  };

  function widget(api, pv) {
    const st = api.s, root = api.r, host = api.h, S = st.strings, KEY = st.storage_key;
    const launcher = pv ? el('button') : root.querySelector('button');
    const tr = (key, vars) => (S[key] || '').replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? vars[k] : m));

    // --- memory: what survives a reload (sessionStorage, this tab only; none in a preview)
    let mem = {t: '', q: 0, ev: [], p: [], o: false, n: null};
    if (!pv) try { Object.assign(mem, JSON.parse(sessionStorage.getItem(KEY)) || {}); } catch (e) { /* none */ }
    const save = () => {
      if (pv) return;
      try {
        if (mem.n || mem.p.length) sessionStorage.setItem(KEY, JSON.stringify(mem));
        else sessionStorage.removeItem(KEY);
      } catch (e) { /* storage full or blocked: the page still works */ }
    };

    const title = el('h2', {id: 'psc-title'});
    const closer = el('button', {type: 'button', class: 'close', 'aria-label': S.close, text: '\u00d7', onclick: () => close(true)});
    const panel = el('div', {class: pv ? 'panel pv' : 'panel', role: 'dialog', id: 'psc-panel', 'aria-labelledby': 'psc-title',
      tabindex: '-1', hidden: !pv, inert: pv},
      el('div', {class: 'head'}, title, closer));
    launcher.setAttribute('aria-controls', 'psc-panel');

    // chat
    const welcome = el('p', {class: 'welcome'});
    const log = el('div', {class: 'log', role: 'log', 'aria-label': S.conversation});
    const scroller = el('div', {class: 'scroll'}, welcome, log);
    const typing = el('p', {class: 'typing', 'aria-live': 'polite'});
    const notice = el('p', {class: 'notice', role: 'status'});
    const field = el('textarea', {id: 'psc-msg', rows: 2, placeholder: S.placeholder,
      maxlength: (st.limits || {}).chat_message || 2000, onkeydown: onKey, oninput: onInput});
    const compose = el('form', {class: 'compose', onsubmit: (e) => { e.preventDefault(); post(); }},
      el('label', {for: 'psc-msg', class: 'sr', text: S.message}), field,
      el('button', {type: 'submit', class: 'send', text: S.send}));
    const ender = el('button', {type: 'button', class: 'end', text: S.end, onclick: endIt});
    const chat = el('div', {class: 'chat', hidden: true}, scroller, typing, compose, ender);

    // --- state of the page
    let avail = st.availability, mode = '', ws = null, ready = false, tries = 0, retry = 0;
    let lastIn = 0, lastOut = 0, typingOn = false, typingTimer = 0, opTypingTimer = 0, sentSeen = 0;
    let limits = {heartbeat_seconds: 25, max_message_length: field.maxLength};
    let opName = st.operator_name || '';
    const rendered = new Map(); // seq -> node
    const mine = new Map(); // client_id -> node

    // --- the log
    const time = (at) => { try { return new Date(at).toLocaleTimeString(st.lang, {hour: '2-digit', minute: '2-digit'}); } catch (e) { return ''; } };
    function bubble(author, body, meta) {
      return el('div', {class: 'msg ' + (author === 'operator' ? 'op' : 'me')},
        el('p', {class: 'body', text: body}), el('p', {class: 'meta', text: meta}));
    }
    function place(node, seq) {
      if (seq) node.dataset.seq = seq;
      const after = seq && [...log.children].find((n) => +n.dataset.seq > seq);
      log.insertBefore(node, after || null);
    }
    function systemLine(e) {
      const who = {name: e.operator_name || opName};
      const key = e.type === 'reopened' ? 'reopened' : 'ended_' + (e.by || 'system');
      return el('p', {class: 'sys', text: tr(key, who) || tr('ended_system')});
    }
    function addEvent(e, live) {
      if (!e || !e.seq || rendered.has(e.seq)) return;
      let node = e.client_id && mine.get(e.client_id);
      if (e.type === 'message') {
        const op = e.author === 'operator';
        const meta = (op ? (e.operator_name || opName) + ' \u00b7 ' : '') + time(e.at);
        if (node) { node.classList.remove('pending', 'failed'); node.children[1].textContent = meta; node.dataset.seq = e.seq; }
        else place(node = bubble(e.author, e.body, meta), e.seq);
        if (op && live) { chime(); typingShown(false); if (panel.hidden) unread(unseen + 1); }
      } else {
        place(node = systemLine(e), e.seq);
        if (mem.n) mem.n.status = e.type === 'ended' ? 'finished' : 'ongoing';
      }
      rendered.set(e.seq, node);
      mem.q = Math.max(mem.q, e.seq);
      mem.ev.push(e);
      mem.ev.sort((a, b) => a.seq - b.seq);
      if (mem.ev.length > 200) mem.ev.splice(0, mem.ev.length - 200);
      seenMarks();
      scroll();
    }
    const seenMark = el('p', {class: 'meta', text: S.seen});
    function seenMarks() { // "Seen" under the last of the visitor's messages the operator saw
      const upto = (mem.n && mem.n.operator_seen_seq) || 0;
      let last = null;
      for (const node of log.querySelectorAll('.me')) if (+node.dataset.seq && +node.dataset.seq <= upto) last = node;
      if (last) last.append(seenMark); else seenMark.remove();
    }
    function archived() {
      mem.n = null;
      clearLog();
      log.append(el('p', {class: 'sys', text: S.archived}));
      typingShown(false);
    }
    const scroll = () => { scroller.scrollTop = scroller.scrollHeight; };
    function clearLog() { // a new conversation: the old one stays on screen, out of the count
      rendered.clear();
      mem.ev = []; mem.q = 0; sentSeen = 0;
      for (const node of log.querySelectorAll('[data-seq]')) delete node.dataset.seq;
    }

    // --- sending
    function post() {
      const body = field.value.trim();
      if (!body) return field.focus();
      const id = 'c' + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
      const m = {id, body};
      mem.p.push(m);
      pending(m);
      field.value = '';
      typingSend(false);
      save();
      scroll();
      if (ready) send({type: 'message', client_id: id, body});
      else { want(); say(navigator.onLine === false ? S.offline : S.connecting); }
    }
    function pending(m) { const node = bubble('customer', m.body, S.sending); node.classList.add('pending'); mine.set(m.id, node); place(node); }
    function flush() { for (const m of mem.p) send({type: 'message', client_id: m.id, body: m.body}); }
    function unpend(id) { mem.p = mem.p.filter((m) => m.id !== id); save(); }
    function send(frame) {
      if (!ws || ws.readyState !== 1) return false;
      ws.send(JSON.stringify(frame));
      lastOut = Date.now();
      return true;
    }
    function onKey(e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); post(); }
    }
    function onInput() {
      if (!mem.n || !ready) return;
      if (field.value.trim()) typingSend(true);
      clearTimeout(typingTimer);
      typingTimer = setTimeout(() => typingSend(false), 4000);
    }
    function typingSend(on) {
      if (typingOn === on || !mem.n) return;
      typingOn = on;
      send({type: 'typing', on});
    }
    function typingShown(on) {
      clearTimeout(opTypingTimer);
      typing.textContent = on ? tr('typing', {name: opName}) : '';
      if (on) opTypingTimer = setTimeout(() => typingShown(false), 30000);
    }
    function endIt() { send({type: 'end'}); field.focus(); }
    function markSeen() {
      if (panel.hidden || document.hidden || !ready || !mem.n) return;
      let top = 0;
      for (const e of mem.ev) if (e.author === 'operator') top = e.seq;
      if (top > Math.max(sentSeen, mem.n.customer_seen_seq || 0)) { sentSeen = top; send({type: 'seen', seq: top}); }
    }
    // unread operator messages while the panel is closed: a badge on the launcher, in its name
    let unseen = 0;
    const count = el('span', {class: 'badge', 'aria-hidden': 'true', hidden: true}), said = el('span', {class: 'sr'});
    launcher.append(count, said);
    function unread(n) {
      unseen = n;
      count.hidden = !n;
      count.textContent = n;
      said.textContent = n ? ', ' + tr('unread', {n}) : '';
    }
    let audio = null;
    function chime() {
      if (!st.sounds || (!panel.hidden && !document.hidden)) return;
      try {
        audio = audio || new AudioContext();
        const osc = audio.createOscillator(), gain = audio.createGain();
        gain.gain.value = 0.05;
        osc.frequency.value = 880;
        osc.connect(gain).connect(audio.destination);
        osc.start();
        osc.stop(audio.currentTime + 0.12);
      } catch (e) { /* no sound */ }
    }
    const say = (text) => { notice.textContent = text || ''; };

    // --- the socket
    function want() { if (!pv && !ws && !retry) connect(); }
    function connect() {
      retry = 0;
      const url = new URL(st.socket, location.href);
      url.protocol = url.protocol === 'https:' ? 'wss:' : url.protocol === 'http:' ? 'ws:' : url.protocol;
      let sock;
      try { sock = ws = new WebSocket(url); } catch (e) { return dropped(ws = null); }
      sock.onopen = () => {
        lastIn = Date.now();
        const hello = {type: 'hello', last_seq: mem.q, page_url: location.href};
        if (mem.t) hello.token = mem.t;
        send(hello);
      };
      sock.onmessage = (m) => {
        lastIn = Date.now();
        let frame;
        try { frame = JSON.parse(m.data); } catch (e) { return; }
        if (frame && handlers[frame.type]) handlers[frame.type](frame);
      };
      sock.onclose = () => dropped(sock);
    }
    function dropped(sock) {
      if (sock !== ws) return;
      if (sock) sock.onclose = sock.onmessage = null;
      ws = null; ready = false; typingOn = false;
      if (mode === 'chat' && (mem.n || mem.p.length)) say(S.reconnecting);
      const wait = Math.min(30000, 500 * 2 ** tries++);
      retry = setTimeout(connect, wait / 2 + Math.random() * wait / 2);
    }
    setInterval(() => {
      if (!ws || !ready) return;
      const beat = (limits.heartbeat_seconds || 25) * 1000;
      if (Date.now() - lastIn > 2 * beat + 5000) { try { ws.close(); } catch (e) { /* gone */ } dropped(ws); }
      else if (Date.now() - lastOut > beat) send({type: 'ping'});
    }, 5000);
    addEventListener('online', () => { if (retry) { clearTimeout(retry); connect(); } });
    document.addEventListener('visibilitychange', markSeen);

    const handlers = {
      ping: () => send({type: 'pong'}),
      welcome(f) {
        ready = true; tries = 0;
        mem.t = f.token;
        Object.assign(limits, f.limits || {});
        if (limits.max_message_length) field.maxLength = limits.max_message_length;
        opName = f.operator_name || opName;
        const c = f.conversation;
        if (mem.n && (!c || mem.n.id_conversation !== c.id_conversation)) archived();
        mem.n = c;
        (f.events || []).forEach((e) => addEvent(e, false));
        avail = f.state;
        say('');
        flush();
        save();
        layout();
        markSeen();
      },
      ack(f) {
        const m = mem.p.find((x) => x.id === f.client_id);
        if (f.token) mem.t = f.token;
        if (f.conversation) {
          if (mem.n && mem.n.id_conversation !== f.conversation.id_conversation) clearLog();
          mem.n = f.conversation;
        }
        if (m) addEvent({type: 'message', seq: f.seq, author: 'customer', client_id: m.id, body: m.body, at: f.at}, false);
        unpend(f.client_id);
        layout();
      },
      message: (e) => { addEvent(e, true); markSeen(); save(); },
      ended: (e) => { addEvent(e, true); save(); layout(); },
      reopened: (e) => { addEvent(e, true); save(); layout(); },
      typing: (f) => { if (f.author === 'operator') typingShown(f.on); },
      seen(f) {
        if (f.by === 'operator' && mem.n) { mem.n.operator_seen_seq = f.seq; seenMarks(); save(); }
      },
      state(f) {
        avail = f.state;
        if ('conversation' in f && f.conversation === null) {
          mem.t = f.token || mem.t;
          archived();
          save();
        }
        layout();
      },
      error(f) {
        const pending = mem.p.find((x) => x.id === f.ref);
        const text = tr('err_' + f.code, {max: f.max_length || limits.max_message_length}) ||
          (['invalid_token', 'no_conversation', 'already_greeted'].includes(f.code) ? '' : S.err_generic);
        if (pending && f.code === 'rate_limited') {
          setTimeout(() => send({type: 'message', client_id: pending.id, body: pending.body}), (f.retry_after || 2) * 1000);
        } else if (pending) {
          const node = mine.get(pending.id);
          if (node) { node.classList.replace('pending', 'failed'); node.children[1].textContent = S.failed; }
          unpend(pending.id);
          if (f.code === 'unavailable' && inputs.message) inputs.message.value = pending.body;
          else if (!field.value) field.value = pending.body;
        }
        if (text) say(text);
        layout(); // a refused first message may leave the offline form to show
      },
    };

    // --- the offline form
    const inputs = {}, errors = {};
    const types = {email: 'email', phone: 'tel'}, auto = {firstname: 'given-name', lastname: 'family-name', email: 'email', phone: 'tel'};
    const status = el('p', {class: 'status', role: 'status'});
    const formBody = el('div', {class: 'fields'});
    const form = el('form', {class: 'offline', novalidate: true, onsubmit: submitForm}, formBody);
    const offWelcome = el('p', {class: 'welcome'});
    const offline = el('div', {class: 'form', hidden: true}, offWelcome, form, status);
    const trap = el('input', {name: st.honeypot || 'website', tabindex: '-1', autocomplete: 'off', 'aria-hidden': 'true'});
    const trapBox = el('div', {class: 'hp', 'aria-hidden': 'true'}, el('label', {}, 'Website', trap));
    const sender = el('button', {type: 'submit', class: 'send', text: S.send});
    const foot = el('div', {class: 'foot'}, sender); // sticky: Send stays in reach
    function fill() { // the texts and the offline form's fields, from the state
      const t = st.texts || {};
      welcome.textContent = t.welcome || '';
      offWelcome.textContent = t.offline_welcome || '';
      welcome.hidden = !t.welcome; offWelcome.hidden = !t.offline_welcome;
      opName = st.operator_name || opName;
      for (const k of Object.keys(inputs)) delete inputs[k];
      formBody.replaceChildren();
      for (const f of st.fields || []) {
        const id = 'psc-f-' + f.name, required = f.state === 'required';
        const input = inputs[f.name] = el(f.name === 'message' ? 'textarea' : 'input', {
          id, name: f.name, required, maxlength: (st.limits || {})[f.name], rows: f.name === 'message' ? 4 : null,
          type: f.name === 'message' ? null : types[f.name] || 'text', autocomplete: auto[f.name]});
        input.value = f.value || '';
        errors[f.name] = el('p', {class: 'err', id: id + '-e', hidden: true});
        formBody.append(el('div', {class: 'row'},
          el('label', {for: id}, S['f_' + f.name], required ? el('span', {'aria-hidden': 'true', text: ' *'}) : null),
          input, errors[f.name]));
      }
      formBody.append(trapBox, foot);
    }
    fill();

    function checkField(name) {
      const value = inputs[name].value.trim(), pattern = (st.patterns || {})[name];
      if (!value) return inputs[name].required ? 'required' : '';
      if (value.length > ((st.limits || {})[name] || 1e9)) return 'too_long';
      if (name !== 'message' && /[\r\n]/.test(value)) return 'one_line';
      if (pattern && !new RegExp(pattern).test(value)) return name === 'email' ? 'invalid_email' : 'invalid_phone';
      return '';
    }
    function showErrors(found) {
      let first = null;
      for (const name of Object.keys(inputs)) {
        const code = found[name], input = inputs[name], out = errors[name];
        out.textContent = code ? S['e_' + code] || S.e_not_text : '';
        out.hidden = !code;
        if (code) { input.setAttribute('aria-invalid', 'true'); input.setAttribute('aria-describedby', out.id); first = first || input; }
        else { input.removeAttribute('aria-invalid'); input.removeAttribute('aria-describedby'); }
      }
      if (first) { status.textContent = S.s_invalid; first.focus(); }
      return !first;
    }
    async function submitForm(e) {
      e.preventDefault();
      const found = {};
      for (const name of Object.keys(inputs)) { const code = checkField(name); if (code) found[name] = code; }
      if (!showErrors(found)) return;
      const body = {page_url: location.href, [trap.name]: trap.value};
      for (const name of Object.keys(inputs)) body[name] = inputs[name].value;
      sender.disabled = true;
      status.textContent = S.sending;
      let answer = null;
      try {
        answer = await fetch(st.offline_url, {method: 'POST', credentials: 'same-origin',
          headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
      } catch (err) { status.textContent = S.s_network; }
      sender.disabled = false;
      if (!answer) return;
      if (answer.status === 201) {
        form.hidden = true;
        status.textContent = S.sent;
        return closer.focus();
      }
      const data = await answer.json().catch(() => ({}));
      if (answer.status === 422 && data.errors) showErrors(data.errors);
      else status.textContent = S['s_' + answer.status] || S.s_error;
    }

    // --- layout, opening and closing
    function layout() {
      mode = mem.n || mem.p.length ? 'chat' : {online: 'chat', offline_form: 'form'}[avail] || 'off';
      const isForm = mode === 'form';
      chat.hidden = mode !== 'chat';
      offline.hidden = !isForm;
      title.textContent = (isForm ? st.texts.offline_header || S.offline_title : st.texts.header || S.chat_title);
      panel.classList.toggle('is-form', isForm);
      ender.disabled = !(mem.n && mem.n.status === 'ongoing');
      if (mode === 'off') say(S.unavailable);
      host.hidden = mode === 'off' && panel.hidden;
    }
    function open(focus) {
      panel.hidden = false;
      unread(0);
      launcher.setAttribute('aria-expanded', 'true');
      mem.o = true;
      save();
      want();
      layout();
      sizeToViewport();
      scroll();
      // on a phone the dialog takes the focus, not the field (the keyboard would cover it)
      const first = matchMedia('(pointer: coarse), (max-width: 480px)').matches ? panel
        : mode === 'form' ? (form.hidden ? closer : formBody.querySelector('input,textarea')) : field;
      if (focus) (first || closer).focus();
      markSeen();
    }
    function close(refocus) {
      panel.hidden = true;
      launcher.setAttribute('aria-expanded', 'false');
      mem.o = false;
      save();
      if (refocus) launcher.focus();
      layout();
    }
    panel.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.stopPropagation(); close(true); } });

    // On a phone the panel fills the visual viewport, so the keyboard never hides the field.
    const vv = window.visualViewport;
    function sizeToViewport() {
      if (!vv) return;
      panel.style.setProperty('--psc-vh', vv.height + 'px');
      panel.style.setProperty('--psc-vt', vv.offsetTop + 'px');
    }
    if (vv && !pv) { vv.addEventListener('resize', sizeToViewport); vv.addEventListener('scroll', sizeToViewport); }

    // --- start
    if (pv) return preview();
    panel.append(chat, offline, notice);
    for (const e of mem.ev.splice(0)) addEvent(e, false);
    mem.p.forEach(pending);
    (api.css || Promise.resolve()).then(() => {
      root.append(panel);
      api.toggle = () => (panel.hidden ? open(true) : close(true));
      layout();
      if (mem.n || mem.p.length) want();
      if (api.o || mem.o) open(!!api.o); // a reload reopens it without taking the focus
    });

    // a preview: the part its availability shows, sample messages, update(state)
    function preview() {
      const samples = st.samples || {}, opMeta = el('p', {class: 'meta'});
      panel.append(st.availability === 'offline_form' ? offline : chat);
      log.append(el('div', {class: 'msg op'}, el('p', {class: 'body', text: samples.operator || ''}), opMeta),
        bubble('customer', samples.customer || '', ''));
      const update = (next) => {
        Object.assign(st, next);
        const c = st.colours || {};
        for (const k of Object.keys(c)) {
          host.style.setProperty('--psc-' + k.replace(/_/g, '-'), c[k]);  // made readable by the page
        }
        fill();
        opMeta.textContent = opName;
        layout();
      };
      update({});
      root.append(panel);
      return {update};
    }
  }

  window.psonlinechatPreview = (node, state) => {
    const root = node.shadowRoot || node.attachShadow({mode: 'open'});
    if (state.assets) root.append(el('link', {rel: 'stylesheet', href: state.assets.css}));
    return widget({s: Object.assign({strings: {}, texts: {}}, state), h: node, r: root}, true);
  };
  const api = window.psonlinechat;
  if (api && !api.w) { api.w = 1; widget(api); }
})();
