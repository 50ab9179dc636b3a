/* The operator console (psonlinechat): the recap window and the chat windows of the back
   office, over the operator socket (docs/protocol.md). Plain JS, no build step. The page
   carries the state (#psonlinechat-console-state) and the recap window's markup. */
(() => {
  'use strict';
  const root = document.getElementById('psonlinechat-console');
  if (!root || root.dataset.started) return;
  root.dataset.started = 'true';
  const S = JSON.parse(document.getElementById(root.dataset.state).textContent);
  const T = S.strings;
  const WINDOW_WIDTH = 258, MAX_WINDOWS = 4, MAX_DELAY = 30000;
  const fmt = (text, values) => text.replace(/\{(\w+)\}/g,
    (whole, key) => (key in values ? String(values[key]) : whole));
  const part = (name, scope = root) => scope.querySelector(`[data-psoc="${name}"]`);
  const parts = (name, scope = root) => [...scope.querySelectorAll(`[data-psoc="${name}"]`)];

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'text') node.textContent = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : value);
    }
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  }

  // --- what survives a page change: sessionStorage --------------------------------------
  const saved = (() => {
    const empty = {open: [], min: [], recapMin: false, tab: 'ongoing', drafts: {}, outbox: []};
    try {
      return {...empty, ...JSON.parse(sessionStorage.getItem(S.storage_key) || '{}')};
    } catch (e) { return empty; }
  })();
  function save() {
    try { sessionStorage.setItem(S.storage_key, JSON.stringify(saved)); } catch (e) { /* full */ }
  }

  // --- the model ------------------------------------------------------------------------
  const convs = new Map();   // id -> {s: summary, events: Map(seq -> event), typing}
  let online = false, present = [], ws = null, attempt = 0, greeted = false, watchdog = 0;
  let heartbeat = 25, retry = 0, typingOff = new Map(), baseTitle = document.title;
  const TYPING_REFRESH = 4000;  // ms between two "typing on" of one burst

  function conv(id) {
    let c = convs.get(id);
    if (!c) {
      c = {s: {id_conversation: id, status: 'ongoing', customer: null, last_seq: 0,
        operator_seen_seq: 0, customer_seen_seq: 0}, events: new Map(), typing: false,
      stub: true};  // known by an event only, until its summary comes
      convs.set(id, c);
    }
    return c;
  }
  const lastSeq = (c) => Math.max(c.s.last_seq || 0, ...c.events.keys());
  const nameOf = (c) => (c.s.customer
    ? fmt(T.customer, {firstname: c.s.customer.firstname || '', lastname: c.s.customer.lastname
      || '', id: c.s.customer.id_customer})
    : fmt(T.guest, {id: c.s.id_guest ?? c.s.id_conversation}));
  const customerSeqs = (c) => [...c.events.values()]
    .filter((e) => e.type === 'message' && e.author === 'customer').map((e) => e.seq);
  const unread = (c) => customerSeqs(c).filter((seq) => seq > (c.s.operator_seen_seq || 0)).length;
  const pendingOf = (id) => saved.outbox.filter((m) => m.id_conversation === id);

  // --- the socket -----------------------------------------------------------------------
  function socketUrl() {
    const url = new URL(S.socket, location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.href;
  }
  function send(frame) {
    if (ws && ws.readyState === WebSocket.OPEN && greeted) ws.send(JSON.stringify(frame));
  }
  function connect() {
    greeted = false;
    setStatus(attempt ? T.reconnecting : T.connecting, attempt ? 'warn' : '');
    performance.mark('psonlinechat:connect');
    const socket = ws = new WebSocket(socketUrl());
    socket.onopen = () => {
      performance.mark('psonlinechat:open');
      const last_seqs = {};
      for (const [id, c] of convs) last_seqs[id] = lastSeq(c);
      socket.send(JSON.stringify({type: 'hello', id_shop: S.id_shop, last_seqs}));
      alive();
    };
    socket.onmessage = (message) => {
      alive();
      let frame;
      try { frame = JSON.parse(message.data); } catch (e) { return; }
      const handle = handlers[frame.type];
      if (handle) handle(frame);
    };
    socket.onclose = () => {
      if (ws !== socket) return;
      ws = null; greeted = false; clearTimeout(watchdog);
      part('switch').disabled = true;
      linkBound();
      const delay = Math.min(MAX_DELAY, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
      attempt += 1;
      setStatus(T.reconnecting, 'warn');
      retry = setTimeout(() => { retry = 0; connect(); }, delay);
    };
  }
  function alive() {  // no frame for 2.5 heartbeats: the connection is dead, start again
    clearTimeout(watchdog);
    const socket = ws;
    watchdog = setTimeout(() => { if (socket === ws && socket) socket.close(); },
      heartbeat * 2500);
  }
  window.addEventListener('online', () => {  // the network is back: no need to wait
    if (retry) { clearTimeout(retry); retry = 0; connect(); }
  });

  const handlers = {
    ping: () => send({type: 'pong'}),
    recap(frame) {
      performance.mark('psonlinechat:recap');
      greeted = true; attempt = 0;
      heartbeat = (frame.limits && frame.limits.heartbeat_seconds) || heartbeat;
      const listed = new Set();
      for (const item of frame.conversations) {
        const c = conv(item.id_conversation);
        listed.add(item.id_conversation);
        const {events, ...summary} = item;
        c.s = summary; c.stub = false;
        for (const event of events) c.events.set(event.seq, event);
      }
      for (const id of [...convs.keys()]) if (!listed.has(id)) forget(id);
      present = frame.operators_online || [];
      setOnline(frame.online);
      for (const m of saved.outbox) ws.send(JSON.stringify(messageFrame(m)));
      saved.open = saved.open.filter((id) => convs.has(id));
      renderAll();
    },
    conversation(frame) {
      const summary = frame.conversation, known = convs.has(summary.id_conversation);
      const c = conv(summary.id_conversation), was = c.s.status, isNew = !known || c.stub;
      c.s = summary; c.stub = false;
      if (isNew && summary.status === 'ongoing') {
        c.quiet = customerSeqs(c).length === 0;  // its first message rings no second time
        attention(c, 'new_conversation', true);
      }
      else if (was === 'finished' && summary.status === 'ongoing') openWindow(c.s.id_conversation);
      renderAll();
    },
    message(frame) { logged(frame); },
    ended(frame) { logged(frame); },
    reopened(frame) { logged(frame); },
    archived(frame) { forget(frame.id_conversation); renderAll(); },
    typing(frame) {
      if (frame.author !== 'customer' || !convs.has(frame.id_conversation)) return;
      const c = conv(frame.id_conversation);
      c.typing = Boolean(frame.on);
      clearTimeout(c.typingTimer);
      if (c.typing) c.typingTimer = setTimeout(() => { c.typing = false; renderWindow(c); }, 10000);
      renderWindow(c);
    },
    seen(frame) {
      const c = convs.get(frame.id_conversation);
      if (!c) return;
      const key = frame.by === 'customer' ? 'customer_seen_seq' : 'operator_seen_seq';
      c.s[key] = Math.max(c.s[key] || 0, frame.seq);
      renderAll();
    },
    status(frame) { setOnline(frame.online); renderRecap(); },
    presence(frame) { present = frame.operators_online || []; },
    ack(frame) {
      const sent = saved.outbox.find((m) => m.client_id === frame.client_id);
      saved.outbox = saved.outbox.filter((m) => m !== sent);
      save();
      const c = conv(frame.id_conversation);
      if (!c.events.has(frame.seq)) {
        c.events.set(frame.seq, {type: 'message', id_conversation: frame.id_conversation,
          seq: frame.seq, author: 'operator', operator_name: S.operator_name,
          body: sent ? sent.body : '', client_id: frame.client_id, at: frame.at, acked: true});
      }
      renderAll();
    },
    error(frame) { refused(frame); },
  };

  function logged(event) {
    const c = conv(event.id_conversation), fresh = !c.events.has(event.seq);
    c.events.set(event.seq, event);
    c.s.last_seq = Math.max(c.s.last_seq || 0, event.seq);
    if (event.type === 'ended') { c.s.status = 'finished'; c.typing = false; }
    if (event.type === 'reopened') c.s.status = 'ongoing';
    if (event.type === 'message' && event.author === 'customer') {
      c.typing = false;
      c.s.last_customer_message = event.body;
      if (c.quiet) c.quiet = false;
      else if (fresh && greeted && !c.stub) attention(c, 'new_message', false);
    }
    renderAll();
  }

  function forget(id) {
    convs.delete(id);
    saved.open = saved.open.filter((x) => x !== id);
    saved.outbox = saved.outbox.filter((m) => m.id_conversation !== id);
    const node = windowNode(id);
    if (node) node.remove();
    save();
  }

  function refused(frame) {
    const m = saved.outbox.find((x) => x.client_id === frame.ref);
    if (frame.code === 'rate_limited') {
      setTimeout(() => { if (m) send(messageFrame(m)); }, (frame.retry_after || 2) * 1000);
      return;
    }
    const id = m ? m.id_conversation : frame.id_conversation;
    if (m) {
      saved.outbox = saved.outbox.filter((x) => x !== m);
      const box = windowNode(id) && part('input', windowNode(id));
      if (box && !box.value) box.value = m.body;
      save();
    }
    const reason = frame.code === 'message_too_long' ? T.too_long
      : frame.code === 'rate_limited' ? T.too_fast
      : frame.code === 'not_ongoing' ? T.finished_notice : frame.message || frame.code;
    if (id && convs.has(id)) { conv(id).error = fmt(T.not_sent, {reason}); renderAll(); }
    else setStatus(reason, 'warn');
  }

  // --- sending --------------------------------------------------------------------------
  const messageFrame = (m) => ({type: 'message', id_conversation: m.id_conversation,
    client_id: m.client_id, body: m.body});
  function say(id, body) {
    if (!body.trim()) return;
    const random = Math.random().toString(36).slice(2, 10);
    const m = {id_conversation: id, client_id: `o-${Date.now().toString(36)}-${random}`, body};
    saved.outbox.push(m);
    delete saved.drafts[id];
    save();
    conv(id).error = null;
    send(messageFrame(m));
    typing(id, false);
    renderAll();
  }
  function typing(id, on) {
    const c = convs.get(id);
    if (!c) return;
    clearTimeout(typingOff.get(id));
    if (on) typingOff.set(id, setTimeout(() => typing(id, false), 3000));
    // "on" again every few seconds while typing goes on: a mark the visitor missed (typing is
    // not logged; one sent as the conversation opened can beat the visitor's socket) shows late
    // rather than never
    if (Boolean(c.typingSent) !== on || (on && Date.now() - c.typingAt > TYPING_REFRESH)) {
      c.typingSent = on; c.typingAt = Date.now();
      send({type: 'typing', id_conversation: id, on});
    }
  }
  function markSeen(c) {
    const node = windowNode(c.s.id_conversation);
    if (!node || node.dataset.minimised === 'true' || document.visibilityState !== 'visible') return;
    const top = Math.max(0, ...customerSeqs(c));
    if (top > (c.s.operator_seen_seq || 0) && top !== c.seenSent) {
      c.seenSent = top;
      send({type: 'seen', id_conversation: c.s.id_conversation, seq: top});
    }
  }
  document.addEventListener('visibilitychange', () => { for (const c of convs.values()) markSeen(c); });

  // --- attention: announcement, sound, desktop notification -----------------------------
  let audio = null;
  const unlock = () => {
    if (!audio && window.AudioContext) audio = new AudioContext();
    if (audio && audio.state === 'suspended') audio.resume();
  };
  document.addEventListener('pointerdown', unlock, {capture: true});
  document.addEventListener('keydown', unlock, {capture: true});
  function beep(tones) {
    if (!S.sounds || !audio || audio.state !== 'running') return;  // autoplay rules: after a gesture
    let at = audio.currentTime;
    for (const freq of tones) {
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.18);
      osc.connect(gain).connect(audio.destination);
      osc.start(at); osc.stop(at + 0.2);
      at += 0.2;
    }
  }
  function attention(c, key, isNew) {
    const text = fmt(T[key], {name: nameOf(c)});
    if (isNew) announce(text);
    beep(isNew ? [660, 880] : [740]);
    if (window.Notification && Notification.permission === 'granted' && document.hidden) {
      try { new Notification(T.online_chat, {body: text, tag: `psoc-${c.s.id_conversation}`}); }
      catch (e) { /* notifications need a service worker here */ }
    }
    openWindow(c.s.id_conversation);
  }
  function announce(text) {
    const live = part('live');
    live.textContent = '';
    setTimeout(() => { live.textContent = text; }, 50);
  }
  const notify = part('notify');
  if (window.Notification && Notification.permission === 'default') {
    notify.hidden = false;
    notify.addEventListener('click', () => {
      Notification.requestPermission().then(() => { notify.hidden = true; });
    });
  }

  // --- the recap window -----------------------------------------------------------------
  const recap = part('recap'), switcher = part('switch');
  function setStatus(text, level) {
    const status = part('status');
    status.textContent = text;
    status.dataset.level = level || '';
  }
  function setOnline(value) {
    online = Boolean(value);
    switcher.setAttribute('aria-checked', String(online));
    switcher.disabled = !greeted;
    setStatus(online ? T.is_online : T.is_offline, '');
    linkBound();
  }
  // End and Reopen only act through the socket: while it is down they are disabled, the
  // connection status ("Connection lost. Reconnecting…") read as their description
  const statusId = part('status').id || (part('status').id = 'psoc-status');
  function linkBound() {
    for (const b of root.querySelectorAll('[data-psoc="end"], [data-psoc="reopen"], .psoc-reopen')) {
      b.disabled = !greeted;
      const ids = (b.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== statusId);
      if (!greeted) ids.push(statusId);
      if (ids.length) b.setAttribute('aria-describedby', ids.join(' '));
      else b.removeAttribute('aria-describedby');
    }
  }
  switcher.addEventListener('click', (event) => {
    event.stopPropagation();
    const ongoing = [...convs.values()].filter((c) => c.s.status === 'ongoing').length;
    const last = present.every((id) => id === S.id_employee);
    if (online && last && ongoing) {
      confirmBox(recap, fmt(T.offline_confirm, {count: ongoing}), T.go_offline,
        () => send({type: 'status', online: false}), switcher);
    } else send({type: 'status', online: !online});
  });
  function minimiser(node, button, onChange) {
    const set = (value) => {
      node.dataset.minimised = String(value);
      button.setAttribute('aria-pressed', String(value));
      onChange(value);
    };
    button.addEventListener('click', (event) => {
      event.stopPropagation();
      set(node.dataset.minimised !== 'true');
    });
    part(node === recap ? 'recap-head' : 'head', node).addEventListener('click', (event) => {
      if (!event.target.closest('button, a')) set(node.dataset.minimised !== 'true');
    });
    return set;
  }
  const setRecapMin = minimiser(recap, part('recap-min'), (value) => {
    saved.recapMin = value; save();
  });
  setRecapMin(saved.recapMin);

  const tabs = parts('tab');
  function selectTab(name, focus) {
    for (const tab of tabs) {
      const on = tab.dataset.tab === name;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
      if (on && focus) tab.focus();
    }
    for (const panel of parts('panel')) panel.hidden = panel.dataset.tab !== name;
    saved.tab = name; save();
  }
  tabs.forEach((tab, index) => {
    tab.addEventListener('click', () => selectTab(tab.dataset.tab, false));
    tab.addEventListener('keydown', (event) => {
      const moves = {ArrowRight: 1, ArrowLeft: -1, Home: -index, End: tabs.length - 1 - index};
      if (!(event.key in moves)) return;
      event.preventDefault();
      selectTab(tabs[(index + moves[event.key] + tabs.length) % tabs.length].dataset.tab, true);
    });
  });
  selectTab(saved.tab === 'finished' ? 'finished' : 'ongoing', false);

  function renderRecap() {
    for (const panel of parts('panel')) {
      const list = panel.querySelector('ul'), status = panel.dataset.tab;
      const items = [...convs.values()].filter((c) => c.s.status === status)
        .sort((a, b) => b.s.id_conversation - a.s.id_conversation);
      const had = list.contains(document.activeElement) && document.activeElement.dataset.id;
      list.replaceChildren(...items.map(recapItem));
      panel.querySelector('.psoc-empty').hidden = items.length > 0;
      const count = items.reduce((sum, c) => sum + unread(c), 0);
      const badge = tabs.find((tab) => tab.dataset.tab === status).querySelector('.psoc-badge');
      badge.hidden = count === 0;
      badge.replaceChildren(el('span', {'aria-hidden': 'true', text: String(count)}),
        el('span', {class: 'psoc-sr', text: fmt(T.unread, {count})}));
      if (had) { const again = list.querySelector(`[data-id="${had}"]`); if (again) again.focus(); }
    }
    const total = [...convs.values()].reduce((sum, c) => sum + unread(c), 0);
    document.title = total ? `(${total}) ${baseTitle}` : baseTitle;
    linkBound();
  }
  function recapItem(c) {
    const id = c.s.id_conversation, nameId = `psoc-name-${id}`, count = unread(c);
    const open = el('button', {type: 'button', class: 'psoc-open', 'data-id': id,
      'data-unread': String(count > 0), onclick: () => openWindow(id, true)},
    el('strong', {id: nameId, text: nameOf(c)}),
    el('span', {text: count ? fmt(T.unread, {count}) : (c.s.last_customer_message || '')}));
    const reopen = c.s.status === 'finished' && el('button', {type: 'button',
      class: 'psoc-reopen', 'aria-describedby': nameId, text: T.reopen,
      onclick: () => send({type: 'reopen', id_conversation: id})});
    return el('li', {}, open, reopen || null);
  }

  // --- the chat windows -----------------------------------------------------------------
  const windows = part('windows');
  const windowNode = (id) => windows.querySelector(`[data-id="${id}"]`);
  function maxWindows() {
    if (innerWidth < 600) return 1;
    const room = innerWidth - recap.offsetWidth - 32;
    return Math.max(1, Math.min(MAX_WINDOWS, Math.floor(room / WINDOW_WIDTH)));
  }
  function openWindow(id, focus) {
    if (!convs.has(id)) return;
    if (!saved.open.includes(id)) saved.open.push(id);
    if (focus) saved.min = saved.min.filter((x) => x !== id);
    save();
    renderWindows();
    if (focus) part('input', windowNode(id)).focus();
  }
  function hideWindow(id) {
    saved.open = saved.open.filter((x) => x !== id);
    save();
    renderWindows();
    const item = recap.querySelector(`.psoc-open[data-id="${id}"]`);
    const panel = item && item.closest('[role="tabpanel"]');
    if (panel && panel.hidden) selectTab(panel.dataset.tab, false);
    if (recap.dataset.minimised === 'true') setRecapMin(false);
    (item || switcher).focus();
  }
  function renderWindows() {
    while (saved.open.length > maxWindows()) saved.open.shift();  // the oldest goes back to the list
    for (const node of [...windows.children]) {
      if (!saved.open.includes(Number(node.dataset.id))) node.remove();
    }
    for (const id of saved.open) {
      const c = conv(id);
      if (!c.node) c.node = buildWindow(c);
      if (!c.node.isConnected) windows.append(c.node);
      renderWindow(c);
    }
  }
  addEventListener('resize', () => { save(); renderWindows(); });

  function buildWindow(c) {
    const id = c.s.id_conversation, titleId = `psoc-window-title-${id}`;
    const node = el('section', {class: 'psoc-window', 'aria-labelledby': titleId, 'data-id': id});
    const input = el('textarea', {'aria-label': T.message, 'data-psoc': 'input', rows: 2,
      maxlength: 2000});
    const form = el('form', {class: 'psoc-form', 'data-psoc': 'form'}, input,
      el('button', {type: 'submit', class: 'psoc-send', text: T.send}));
    const minimise = el('button', {type: 'button', class: 'psoc-icon psoc-min', title: T.minimise,
      'aria-pressed': 'false'}, el('span', {class: 'psoc-sr', text: T.minimise}));
    const end = el('button', {type: 'button', class: 'psoc-end', 'data-psoc': 'end', text: T.end});
    const reopen = el('button', {type: 'button', class: 'psoc-end', 'data-psoc': 'reopen',
      text: T.reopen, onclick: () => send({type: 'reopen', id_conversation: id})});
    node.append(
      el('div', {class: 'psoc-head', 'data-psoc': 'head'},
        el('h2', {class: 'psoc-title', id: titleId, 'data-psoc': 'title'}), minimise,
        el('button', {type: 'button', class: 'psoc-icon psoc-hide', title: T.hide,
          onclick: () => hideWindow(id)}, el('span', {class: 'psoc-sr', text: T.hide}))),
      el('dl', {class: 'psoc-info', 'data-psoc': 'info'}),
      el('div', {class: 'psoc-log', role: 'log', 'aria-labelledby': titleId, tabindex: '0',
        'data-psoc': 'log'}),
      el('p', {class: 'psoc-typing', 'data-psoc': 'typing'}),
      el('p', {class: 'psoc-error', role: 'alert', 'data-psoc': 'error'}),
      form, el('div', {class: 'psoc-actions'}, end, reopen));
    const setMin = minimiser(node, minimise, (value) => {
      saved.min = saved.min.filter((x) => x !== id).concat(value ? [id] : []);
      save();
      markSeen(c);
    });
    setMin(saved.min.includes(id));
    input.value = saved.drafts[id] || '';
    input.addEventListener('input', () => {
      saved.drafts[id] = input.value; save();
      typing(id, input.value.length > 0);
    });
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault(); form.requestSubmit();
      }
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      say(id, input.value); input.value = '';
    });
    end.addEventListener('click', () => confirmBox(node, fmt(T.end_confirm, {name: nameOf(c)}),
      T.end, () => send({type: 'end', id_conversation: id}), end));
    node.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !node.querySelector('.psoc-dialog')) {
        event.preventDefault(); hideWindow(id);
      }
    });
    return node;
  }

  function renderWindow(c) {
    const node = c.node;
    if (!node || !node.isConnected) return;
    const finished = c.s.status !== 'ongoing';
    part('title', node).textContent = nameOf(c);
    part('info', node).replaceChildren(...info(c));
    const log = part('log', node), atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.replaceChildren(...logItems(c));
    if (atEnd) log.scrollTop = log.scrollHeight;
    part('typing', node).textContent = c.typing ? fmt(T.typing, {name: nameOf(c)}) : '';
    const error = part('error', node);
    const problem = c.error || (finished ? T.finished_notice : '');
    if (error.textContent !== problem) error.textContent = problem;  // an alert speaks on change
    error.dataset.kind = c.error ? 'error' : 'notice';
    for (const control of part('form', node).elements) control.disabled = finished;
    part('end', node).hidden = finished;
    part('reopen', node).hidden = !finished;
    linkBound();
    markSeen(c);
  }
  function info(c) {
    const rows = [];
    const add = (label, value) => rows.push(el('dt', {text: `${label}:`}), el('dd', {}, value));
    if (c.s.customer && c.s.customer.email) add(T.email, c.s.customer.email);
    if (c.s.customer && c.s.customer.phone) add(T.phone, c.s.customer.phone);
    const url = c.s.page_url;
    if (url) {
      let safe = false;
      try { safe = ['http:', 'https:'].includes(new URL(url).protocol); } catch (e) { safe = false; }
      add(T.page, safe ? el('a', {href: url, target: '_blank', rel: 'noopener noreferrer', text: url})
        : url);
    }
    return rows;
  }
  function logItems(c) {
    const items = [], events = [...c.events.values()].sort((a, b) => a.seq - b.seq);
    let seenAt = null;
    for (const e of events) {
      if (e.type === 'message') {
        const who = e.author === 'operator' ? (e.operator_name || S.operator_name) : nameOf(c);
        items.push(el('div', {class: 'psoc-msg', 'data-author': e.author, 'data-seq': e.seq},
          el('small', {text: who}), e.body));
        if (e.author === 'operator' && e.seq <= (c.s.customer_seen_seq || 0)) seenAt = items.length;
      } else {
        const key = e.type === 'reopened' ? 'reopened' : `ended_${e.by || 'system'}`;
        items.push(el('p', {class: 'psoc-note', text: fmt(T[key] || T.reopened,
          {name: e.operator_name || S.operator_name})}));
      }
    }
    if (seenAt !== null) items.splice(seenAt, 0, el('p', {class: 'psoc-seen', text: T.seen}));
    for (const m of pendingOf(c.s.id_conversation)) {
      items.push(el('div', {class: 'psoc-msg', 'data-author': 'operator', 'data-pending': 'true'},
        el('small', {text: T.sending}), m.body));
    }
    return items;
  }

  // --- a confirmation: an alertdialog over the window (or the recap) --------------------
  function confirmBox(host, text, confirmLabel, onConfirm, returnTo) {
    if (host.querySelector('.psoc-dialog')) return;
    const textId = `psoc-dialog-${Math.random().toString(36).slice(2)}`;
    const hidden = [...host.children].filter((child) => !child.matches('.psoc-head'));
    const close = () => {
      box.remove();
      hidden.forEach((child) => { child.inert = false; });
      if (returnTo.isConnected) returnTo.focus();
    };
    const cancel = el('button', {type: 'button', class: 'psoc-button', 'data-kind': 'secondary',
      text: T.cancel, onclick: close});
    const box = el('div', {class: 'psoc-dialog', role: 'alertdialog', 'aria-modal': 'false',
      'aria-describedby': textId, 'aria-label': confirmLabel},
    el('p', {id: textId, text}),
    el('div', {}, el('button', {type: 'button', class: 'psoc-button', text: confirmLabel,
      onclick: () => { close(); onConfirm(); }}), cancel));
    box.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') { event.preventDefault(); event.stopPropagation(); close(); }
    });
    hidden.forEach((child) => { child.inert = true; });
    host.append(box);
    cancel.focus();
  }

  function renderAll() {
    renderRecap();
    renderWindows();
  }

  renderRecap();
  connect();
})();
