// The chat's web client: plain DOM, no framework, no build step. It speaks the
// protocol of ../README.md over one WebSocket at /ws, reconnects by itself
// (0.5 s, doubling to 5 s), and on reconnect says hello again, joins its rooms
// again and merges their history, dropping the message ids it has shown.
// Everything users wrote goes into the page as text (textContent), never as HTML.

const KEY_NAME = 'wasmhive-chat:name';
const KEY_ROOMS = 'wasmhive-chat:rooms';
const KEY_ACTIVE = 'wasmhive-chat:active';

const NAME_RE = /^[A-Za-z0-9_.-](?:[A-Za-z0-9_. -]*[A-Za-z0-9_.-])?$/;
const ROOM_RE = /^[a-z0-9_-]{1,32}$/;
const BACKOFF_MIN = 500;
const BACKOFF_MAX = 5_000;
const PING_EVERY = 25_000;
const PONG_WITHIN = 10_000;
const ROOMS_EVERY = 30_000;
const TOAST_FOR = 6_000;
const GROUP_WITHIN = 5 * 60_000;

/** The defaults until the server's `welcome` says otherwise. */
let limits = { maxTextChars: 1000, maxRooms: 10, maxNameChars: 32, maxRoomChars: 32 };

const el = (id) => document.getElementById(id);
const ui = {
  conn: el('conn'), connText: el('conn-text'), connRetry: el('conn-retry'),
  me: el('me'), meName: el('me-name'), meAvatar: el('me-avatar'),
  tabs: el('tabs'), tabsEmpty: el('tabs-empty'),
  joinForm: el('join-form'), roomInput: el('room-input'), roomHint: el('room-hint'),
  allRooms: el('all-rooms'), allRoomsEmpty: el('all-rooms-empty'), roomsRefresh: el('rooms-refresh'),
  roomTitle: el('room-title'), roomSub: el('room-sub'), panes: el('panes'), welcome: el('welcome-pane'),
  composer: el('composer'), postInput: el('post-input'), postLabel: el('post-label'), postCount: el('post-count'),
  members: el('members'), membersTitle: el('members-title'),
  toasts: el('toasts'),
  nameOverlay: el('name-overlay'), nameForm: el('name-form'), nameInput: el('name-input'),
  nameError: el('name-error'), nameCancel: el('name-cancel'),
};

// ---------------------------------------------------------------- state

/**
 * @typedef {{ id: number, room: string, name: string, text: string, ts: number }} Message
 * @typedef {{ text: string, ref: string | null, id: number | null,
 *             state: 'queued' | 'sent' | 'acked' | 'failed', reason: string, unconfirmed?: boolean, li: HTMLLIElement }} Post
 * @typedef {{ name: string, status: 'joining' | 'joined' | 'offline' | 'failed',
 *             members: string[], seen: Set<number>, maxId: number, unread: number, stick: boolean, lost: boolean, joinRetries: number,
 *             posts: Post[], pane: HTMLDivElement, list: HTMLOListElement, pendingList: HTMLOListElement,
 *             tab: HTMLLIElement }} Room
 */

const state = {
  name: load(KEY_NAME, ''),
  /** @type {WebSocket | null} */ ws: null,
  /** 'idle' (no name yet), 'connecting', 'hello' (open, waiting for welcome), 'ready', 'waiting' (backoff) */
  conn: 'idle',
  backoff: BACKOFF_MIN,
  retryAt: 0,
  retryTimer: 0,
  countdownTimer: 0,
  pingTimer: 0,
  pongTimer: 0,
  roomsTimer: 0,
  everConnected: false,
  /** @type {Map<string, Room>} in the order they were joined */
  rooms: new Map(),
  /** @type {string | null} */ active: null,
  /** @type {string[]} */ allRooms: [],
  nextRef: 1,
  /** @type {Map<string, { kind: string, room?: string, post?: Post }>} requests waiting for their answer */
  refs: new Map(),
};

function load(key, fallback) {
  try {
    const v = localStorage.getItem(key);
    return v === null ? fallback : JSON.parse(v);
  } catch {
    return fallback;
  }
}

function save(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // (private mode, or storage full: the client works without it)
  }
}

function saveRooms() {
  save(KEY_ROOMS, [...state.rooms.keys()]);
  save(KEY_ACTIVE, state.active);
}

// ---------------------------------------------------------------- connection

function wsUrl() {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
}

function connect() {
  clearTimeout(state.retryTimer);
  clearInterval(state.countdownTimer);
  if (!state.name) return showNameForm();
  const ws = new WebSocket(wsUrl());
  state.ws = ws;
  setConn('connecting');
  ws.onopen = () => {
    if (state.ws !== ws) return;
    setConn('hello');
    sendRaw({ type: 'hello', name: state.name, ref: ref('hello') });
  };
  ws.onmessage = (event) => {
    if (state.ws !== ws) return;
    clearTimeout(state.pongTimer);
    if (typeof event.data !== 'string') return;
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (frame && typeof frame === 'object' && typeof frame.type === 'string') handle(frame);
  };
  ws.onclose = (event) => {
    if (state.ws !== ws) return;
    disconnected(event.code);
  };
  // (an error is followed by close)
}

/** Drops the current socket (if any) and reconnects after the backoff, or at once (delay 0). */
function disconnected(code, { delay = null, reconnect = true } = {}) {
  const ws = state.ws;
  state.ws = null;
  if (ws) {
    ws.onopen = ws.onmessage = ws.onclose = null;
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close();
  }
  clearInterval(state.pingTimer);
  clearTimeout(state.pongTimer);
  clearInterval(state.roomsTimer);
  const wasReady = state.conn === 'ready';
  // Every request in flight is lost with the connection; posts that were sent but not acknowledged
  // may or may not have been taken: they are shown as unconfirmed, to send again by hand.
  for (const pending of state.refs.values()) {
    if (pending.kind === 'post' && pending.post && pending.post.state === 'sent') {
      failPost(pending.post, 'not confirmed: the connection was lost');
      pending.post.unconfirmed = true;
    }
  }
  state.refs.clear();
  for (const room of state.rooms.values()) {
    if (room.status === 'joined' && wasReady) {
      notice(room, 'Connection lost. Reconnecting…', 'conn');
      room.lost = true;
    }
    if (room.status !== 'failed') room.status = 'offline';
    renderTab(room);
  }
  renderRoomHeader();
  if (code === 1013) toast('server_busy', 'The server is busy; retrying.');
  if (!reconnect) return setConn('idle');
  const wait = delay ?? state.backoff;
  if (delay === null) state.backoff = Math.min(state.backoff * 2, BACKOFF_MAX);
  state.retryAt = Date.now() + wait;
  state.retryTimer = setTimeout(connect, wait);
  setConn('waiting');
  clearInterval(state.countdownTimer);
  state.countdownTimer = setInterval(renderConn, 250);
}

function retryNow() {
  if (state.conn !== 'waiting') return;
  connect();
}

function setConn(conn) {
  state.conn = conn;
  if (conn !== 'waiting') clearInterval(state.countdownTimer);
  renderConn();
}

function renderConn() {
  const texts = {
    idle: 'not connected',
    connecting: state.everConnected ? 'reconnecting…' : 'connecting…',
    hello: state.everConnected ? 'reconnecting…' : 'connecting…',
    ready: 'connected',
    waiting: '',
  };
  let text = texts[state.conn];
  if (state.conn === 'waiting') {
    const s = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
    text = s > 0 ? `offline · retrying in ${s} s` : 'offline · retrying…';
  }
  ui.conn.dataset.state = state.conn === 'hello' ? 'connecting' : state.conn;
  if (ui.connText.textContent !== text) ui.connText.textContent = text;
  ui.connRetry.hidden = state.conn !== 'waiting';
}

function sendRaw(frame) {
  const ws = state.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  ws.send(JSON.stringify(frame));
  return true;
}

/** Sends a request once the session is ready (after `welcome`). */
function send(frame) {
  return state.conn === 'ready' && sendRaw(frame);
}

function ref(kind, extra = {}) {
  const r = `${kind}-${state.nextRef++}`;
  state.refs.set(r, { kind, ...extra });
  return r;
}

function startKeepalive() {
  clearInterval(state.pingTimer);
  state.pingTimer = setInterval(() => {
    if (!send({ type: 'ping' })) return;
    clearTimeout(state.pongTimer);
    // No frame at all within PONG_WITHIN: the connection is dead though not closed (a sleeping laptop, a lost route).
    state.pongTimer = setTimeout(() => disconnected(1006), PONG_WITHIN);
  }, PING_EVERY);
  clearInterval(state.roomsTimer);
  state.roomsTimer = setInterval(requestRooms, ROOMS_EVERY);
}

// ---------------------------------------------------------------- frames from the server

function handle(f) {
  const pending = typeof f.ref === 'string' ? state.refs.get(f.ref) : undefined;
  if (pending && f.type !== 'error') state.refs.delete(f.ref);
  switch (f.type) {
    case 'welcome': return onWelcome(f);
    case 'rooms': return onRooms(f);
    case 'joined': return onJoined(f);
    case 'left': return; // (the room was dropped from the page when the user left it)
    case 'ack': return onAck(f, pending);
    case 'message': return onMessage(f);
    case 'presence': return onPresence(f);
    case 'error': return onError(f, pending);
    case 'pong': return;
    default: return; // (unknown events are ignored: a newer server may send more)
  }
}

function onWelcome(f) {
  if (typeof f.name === 'string') state.name = f.name;
  if (f.limits && typeof f.limits === 'object') limits = { ...limits, ...f.limits };
  ui.postInput.maxLength = limits.maxTextChars;
  state.backoff = BACKOFF_MIN;
  state.everConnected = true;
  setConn('ready');
  renderMe();
  startKeepalive();
  requestRooms();
  for (const room of state.rooms.values()) sendJoin(room);
  renderRoomHeader();
}

function onRooms(f) {
  if (!Array.isArray(f.rooms)) return;
  state.allRooms = f.rooms.filter((r) => typeof r === 'string');
  renderAllRooms();
}

function onJoined(f) {
  const room = state.rooms.get(f.room);
  if (!room) return; // (left meanwhile)
  const history = Array.isArray(f.history) ? f.history.filter(isMessage) : [];
  const lastId = history.length ? history[history.length - 1].id : 0;
  if (room.maxId > 0 && lastId < room.maxId) {
    // The room no longer has messages this page showed (its store was lost): start afresh.
    room.list.replaceChildren();
    room.seen.clear();
    room.maxId = 0;
    notice(room, 'The server no longer has the earlier messages of this room.', 'reset');
  }
  let added = 0;
  for (const m of history) {
    if (!addMessage(room, m, { live: false })) continue;
    added++;
    // A post whose ack the lost connection took with it, but that the room did take: the history has it.
    const p = m.name === state.name ? room.posts.find((x) => x.unconfirmed && x.state === 'failed' && x.text === m.text) : undefined;
    if (p) removePost(room, p);
  }
  if (room.lost) notice(room, added ? `Reconnected: ${added} new message${added === 1 ? '' : 's'}.` : 'Reconnected.', 'conn');
  room.lost = false;
  room.status = 'joined';
  room.joinRetries = 0;
  room.members = stringList(f.members);
  renderTab(room);
  if (room.name === state.active) {
    renderMembers();
    renderRoomHeader();
  }
  flushPosts(room);
  requestRooms();
  scrollIfStuck(room);
}

function onAck(f, pending) {
  const post = pending?.post;
  if (!post) return;
  const room = state.rooms.get(f.room);
  post.id = typeof f.id === 'number' ? f.id : null;
  post.state = 'acked';
  if (room && post.id !== null && room.seen.has(post.id)) removePost(room, post);
  else renderPost(post);
}

function onMessage(f) {
  if (!isMessage(f)) return;
  const room = state.rooms.get(f.room);
  if (!room) return;
  addMessage(room, f, { live: true });
}

function onPresence(f) {
  const room = state.rooms.get(f.room);
  if (!room || typeof f.name !== 'string') return;
  room.members = stringList(f.members);
  if (f.event === 'join' || f.event === 'leave') {
    const who = f.name === state.name ? `${f.name} (you)` : f.name;
    notice(room, f.event === 'join' ? `${who} joined` : `${who} left`, 'presence');
  }
  if (room.name === state.active) {
    renderMembers();
    renderRoomHeader();
  }
}

function onError(f, pending) {
  const code = typeof f.code === 'string' ? f.code : 'error';
  const message = typeof f.message === 'string' ? f.message : code;
  if (pending) state.refs.delete(f.ref);
  if (code === 'bad_name' || pending?.kind === 'hello') {
    // The name was refused: ask for another; the new name starts a new connection.
    disconnected(1000, { reconnect: false });
    showNameForm(`That name was refused: ${message}`);
    return;
  }
  const roomName = typeof f.room === 'string' ? f.room : pending?.room;
  const room = roomName ? state.rooms.get(roomName) : undefined;
  if (code === 'not_joined' && room && room.status === 'joined') {
    // (the server lost this session's membership: join again)
    sendJoin(room);
  }
  if (pending?.kind === 'post' && pending.post) {
    // The post is marked where it was written; one notice says why (repeats of it refresh the one shown).
    failPost(pending.post, reasonFor(code, message));
    toast(code, `#${roomName}: not sent, ${reasonFor(code, message)}.`);
    return;
  }
  if (pending?.kind === 'join' && room) {
    room.status = 'failed';
    renderTab(room);
    if (room.name === state.active) renderRoomHeader();
    if (code === 'unavailable' && room.joinRetries < 3) {
      // (the room could not be reached: try again shortly, a few times)
      room.joinRetries++;
      setTimeout(() => {
        if (state.rooms.get(room.name) === room && room.status === 'failed') sendJoin(room);
      }, 1_000 * room.joinRetries);
      return;
    }
    notice(room, `Could not join: ${reasonFor(code, message)}`, 'error');
  }
  toast(code, roomName ? `#${roomName}: ${message}` : message);
}

function reasonFor(code, message) {
  const reasons = {
    rate_limited: 'too fast: wait a moment and retry',
    too_large: `too long (at most ${limits.maxTextChars} characters)`,
    rejected: `refused by moderation${message && message !== code ? ` (${message})` : ''}`,
    not_joined: 'you are not in this room (rejoining)',
    unavailable: 'the room is unavailable right now',
    too_many_rooms: `too many rooms (at most ${limits.maxRooms} at once)`,
  };
  return reasons[code] ?? message;
}

function isMessage(m) {
  return m && typeof m === 'object' && typeof m.room === 'string' && Number.isInteger(m.id) &&
    typeof m.name === 'string' && typeof m.text === 'string' && typeof m.ts === 'number';
}

function stringList(v) {
  return Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];
}

// ---------------------------------------------------------------- requests

function requestRooms() {
  send({ type: 'rooms', ref: ref('rooms') });
}

function sendJoin(room) {
  if (state.conn !== 'ready') return;
  room.status = 'joining';
  renderTab(room);
  send({ type: 'join', room: room.name, ref: ref('join', { room: room.name }) });
}

/** Joins a room (or switches to it when already joined). */
function joinRoom(name) {
  let room = state.rooms.get(name);
  if (!room) {
    if (state.rooms.size >= limits.maxRooms) {
      toast('too_many_rooms', `You can be in at most ${limits.maxRooms} rooms at once; leave one first.`);
      return;
    }
    room = makeRoom(name);
    state.rooms.set(name, room);
    renderTabsEmpty();
    sendJoin(room);
  } else if (room.status === 'failed') {
    sendJoin(room);
  }
  activate(name);
  saveRooms();
  renderAllRooms();
}

function leaveRoom(name) {
  const room = state.rooms.get(name);
  if (!room) return;
  if (room.status === 'joined' || room.status === 'joining') send({ type: 'leave', room: name, ref: ref('leave', { room: name }) });
  state.rooms.delete(name);
  room.pane.remove();
  room.tab.remove();
  if (state.active === name) {
    const names = [...state.rooms.keys()];
    state.active = null;
    activate(names.length ? names[names.length - 1] : null);
  }
  saveRooms();
  renderTabsEmpty();
  renderAllRooms();
}

function post(text) {
  const room = state.active ? state.rooms.get(state.active) : undefined;
  if (!room) {
    toast('no_room', 'Join a room first: type its name on the left.');
    return false;
  }
  if ([...text].length > limits.maxTextChars) {
    toast('too_large', `A message has at most ${limits.maxTextChars} characters.`);
    return false;
  }
  const p = /** @type {Post} */ ({ text, ref: null, id: null, state: 'queued', reason: '', li: document.createElement('li') });
  room.posts.push(p);
  room.pendingList.append(p.li);
  renderPost(p);
  room.stick = true;
  if (room.status === 'joined') sendPost(room, p);
  scrollIfStuck(room);
  return true;
}

function sendPost(room, p) {
  const r = ref('post', { room: room.name, post: p });
  if (!send({ type: 'post', room: room.name, text: p.text, ref: r })) {
    state.refs.delete(r);
    return;
  }
  p.ref = r;
  p.state = 'sent';
  p.reason = '';
  renderPost(p);
}

/** Sends the posts written while the room was not joined. */
function flushPosts(room) {
  for (const p of room.posts) if (p.state === 'queued') sendPost(room, p);
}

function failPost(p, reason) {
  p.state = 'failed';
  p.reason = reason;
  renderPost(p);
}

function removePost(room, p) {
  room.posts = room.posts.filter((x) => x !== p);
  p.li.remove();
}

// ---------------------------------------------------------------- rendering: rooms

function makeRoom(name) {
  const pane = document.createElement('div');
  pane.className = 'pane';
  pane.dataset.room = name;
  pane.dataset.testid = 'room-pane';
  pane.setAttribute('role', 'tabpanel');
  pane.id = `pane-${name}`;
  pane.hidden = true;
  const list = document.createElement('ol');
  list.className = 'messages';
  list.dataset.testid = 'messages';
  list.setAttribute('aria-label', `Messages in #${name}`);
  list.setAttribute('aria-live', 'polite');
  const pendingList = document.createElement('ol');
  pendingList.className = 'messages pending';
  pendingList.dataset.testid = 'pending-posts';
  pendingList.setAttribute('aria-label', `Your messages not yet confirmed in #${name}`);
  pane.append(list, pendingList);
  ui.panes.append(pane);

  const tab = document.createElement('li');
  tab.className = 'tab';
  tab.dataset.room = name;
  tab.dataset.testid = 'room-tab';
  const select = document.createElement('button');
  select.type = 'button';
  select.className = 'tab-select';
  select.setAttribute('role', 'tab');
  select.setAttribute('aria-controls', pane.id);
  select.dataset.testid = 'room-tab-select';
  const hash = document.createElement('span');
  hash.className = 'tab-hash';
  hash.setAttribute('aria-hidden', 'true');
  hash.textContent = '#';
  const label = document.createElement('span');
  label.className = 'tab-name';
  label.textContent = name;
  const badge = document.createElement('span');
  badge.className = 'badge';
  badge.dataset.testid = 'unread';
  select.append(hash, label, badge);
  select.addEventListener('click', () => activate(name));
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'tab-leave';
  close.dataset.testid = 'room-leave';
  close.setAttribute('aria-label', `Leave #${name}`);
  close.title = `Leave #${name}`;
  close.textContent = '×';
  close.addEventListener('click', () => leaveRoom(name));
  tab.append(select, close);
  ui.tabs.append(tab);

  /** @type {Room} */
  const room = {
    name, status: 'offline', members: [], seen: new Set(), maxId: 0, unread: 0, stick: true, lost: false, joinRetries: 0,
    posts: [], pane, list, pendingList, tab,
  };
  pane.addEventListener('scroll', () => {
    room.stick = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 48;
  });
  renderTab(room);
  return room;
}

function activate(name) {
  const prev = state.active ? state.rooms.get(state.active) : undefined;
  if (prev) prev.pane.hidden = true;
  state.active = name && state.rooms.has(name) ? name : null;
  const room = state.active ? state.rooms.get(state.active) : undefined;
  ui.welcome.hidden = !!room;
  if (room) {
    room.pane.hidden = false;
    room.unread = 0;
    scrollIfStuck(room);
  }
  for (const r of state.rooms.values()) renderTab(r);
  ui.postLabel.textContent = room ? `Message #${room.name}` : 'Message';
  ui.postInput.placeholder = room ? `Message #${room.name}` : 'Join a room to post';
  renderRoomHeader();
  renderMembers();
  renderTitle();
  save(KEY_ACTIVE, state.active);
  if (room && location.hash !== `#${room.name}`) history.replaceState(null, '', `#${room.name}`);
  if (!room && location.hash) history.replaceState(null, '', location.pathname + location.search);
}

function renderTab(room) {
  const active = room.name === state.active;
  room.tab.classList.toggle('active', active);
  room.tab.dataset.status = room.status;
  const select = room.tab.firstElementChild;
  select.setAttribute('aria-selected', String(active));
  const badge = select.lastElementChild;
  badge.textContent = room.unread > 0 ? String(room.unread > 99 ? '99+' : room.unread) : '';
  badge.hidden = room.unread === 0;
  const statusText = { joining: 'joining…', offline: 'offline', failed: 'could not join', joined: '' }[room.status];
  select.title = statusText ? `#${room.name} (${statusText})` : `#${room.name}`;
}

function renderTabsEmpty() {
  ui.tabsEmpty.hidden = state.rooms.size > 0;
}

function renderAllRooms() {
  const items = state.allRooms.map((name) => {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'room-link';
    b.dataset.testid = 'room-list-item';
    b.dataset.room = name;
    const joined = state.rooms.has(name);
    b.classList.toggle('joined', joined);
    b.textContent = `#${name}`;
    b.title = joined ? `Go to #${name}` : `Join #${name}`;
    b.addEventListener('click', () => joinRoom(name));
    li.append(b);
    return li;
  });
  ui.allRooms.replaceChildren(...items);
  ui.allRoomsEmpty.hidden = items.length > 0;
}

function renderRoomHeader() {
  const room = state.active ? state.rooms.get(state.active) : undefined;
  if (!room) {
    ui.roomTitle.textContent = 'No room';
    ui.roomSub.textContent = '';
    return;
  }
  ui.roomTitle.textContent = `#${room.name}`;
  const n = room.members.length;
  const status = {
    joined: `${n} ${n === 1 ? 'person' : 'people'} here`,
    joining: 'joining…',
    offline: 'offline: will rejoin when connected',
    failed: 'could not join',
  }[room.status];
  ui.roomSub.dataset.status = room.status;
  ui.roomSub.replaceChildren(document.createTextNode(status));
  if (room.status === 'failed') {
    const again = document.createElement('button');
    again.type = 'button';
    again.className = 'link-button';
    again.textContent = 'try again';
    again.addEventListener('click', () => sendJoin(room));
    ui.roomSub.append(' · ', again);
  }
}

function renderMembers() {
  const room = state.active ? state.rooms.get(state.active) : undefined;
  const counts = new Map();
  for (const name of room ? room.members : []) counts.set(name, (counts.get(name) ?? 0) + 1);
  const items = [...counts].map(([name, count]) => {
    const li = document.createElement('li');
    li.className = 'member';
    li.dataset.testid = 'member';
    li.dataset.name = name;
    const av = avatar(name, 'avatar-small');
    const label = document.createElement('span');
    label.className = 'member-name';
    label.textContent = name;
    li.append(av, label);
    if (name === state.name) {
      const you = document.createElement('span');
      you.className = 'you';
      you.textContent = '(you)';
      li.append(' ', you);
    }
    if (count > 1) {
      const c = document.createElement('span');
      c.className = 'member-count';
      c.textContent = `×${count}`;
      c.title = `${count} connections`;
      li.append(' ', c);
    }
    return li;
  });
  ui.members.replaceChildren(...items);
  ui.membersTitle.textContent = room ? `Present (${counts.size})` : 'Present';
}

function renderMe() {
  ui.meName.textContent = state.name || 'choose a name';
  ui.me.setAttribute('aria-label', state.name ? `Change name (now ${state.name})` : 'Choose a name');
  const fresh = avatar(state.name || '?', 'avatar-small');
  fresh.id = 'me-avatar';
  ui.meAvatar.replaceWith(fresh);
  ui.meAvatar = fresh;
}

function renderTitle() {
  let unread = 0;
  for (const r of state.rooms.values()) unread += r.unread;
  const base = state.active ? `#${state.active} · wasmhive chat` : 'wasmhive chat';
  document.title = unread ? `(${unread}) ${base}` : base;
}

// ---------------------------------------------------------------- rendering: messages

/** Puts a message in its place (by id) unless this page has shown it; true if it was new. */
function addMessage(room, m, { live }) {
  if (room.seen.has(m.id)) return false;
  room.seen.add(m.id);
  if (m.id > room.maxId) room.maxId = m.id;
  const li = messageItem(m);
  // Messages are in the order of their ids, notices where they were said: a message goes at the end,
  // unless a message after it (by id) is shown already (a hole filled by the history), then before that one.
  let before = null;
  for (let n = room.list.lastElementChild; n; n = n.previousElementSibling) {
    if (!n.classList.contains('msg')) continue;
    if (Number(n.dataset.id) < m.id) break;
    before = n;
  }
  if (before) before.before(li);
  else room.list.append(li);
  regroup(li);
  if (li.nextElementSibling) regroup(li.nextElementSibling);
  // The author's own post, now confirmed, replaces its pending copy.
  const mine = room.posts.find((p) => p.id === m.id);
  if (mine) removePost(room, mine);
  if (live && room.name !== state.active) {
    room.unread++;
    renderTab(room);
    renderTitle();
  }
  scrollIfStuck(room);
  return true;
}

function messageItem(m) {
  const li = document.createElement('li');
  li.className = 'msg';
  li.dataset.testid = 'message';
  li.dataset.id = String(m.id);
  li.dataset.name = m.name;
  li.dataset.ts = String(m.ts);
  if (m.name === state.name) li.classList.add('mine');
  const { av, body, meta, author, text } = messageParts(m.name);
  author.dataset.testid = 'message-author';
  meta.append(author, ' ', timeEl(m.ts));
  text.dataset.testid = 'message-text';
  appendLinked(text, m.text);
  body.append(meta, text);
  const side = timeEl(m.ts);
  side.className = 'msg-side-time';
  side.setAttribute('aria-hidden', 'true');
  li.append(av, side, body);
  return li;
}

/** The parts of a message's item: the author's avatar, and a body of a header (meta, with the author) and a text. */
function messageParts(name) {
  const av = avatar(name, '');
  const body = document.createElement('div');
  body.className = 'msg-body';
  const meta = document.createElement('div');
  meta.className = 'msg-meta';
  const author = document.createElement('span');
  author.className = 'msg-author';
  author.textContent = name;
  author.style.color = nameColor(name);
  const text = document.createElement('div');
  text.className = 'msg-text';
  return { av, body, meta, author, text };
}

function timeEl(ts) {
  const d = new Date(ts);
  const t = document.createElement('time');
  t.className = 'msg-time';
  t.dateTime = d.toISOString();
  t.textContent = hhmm(d);
  t.title = d.toLocaleString();
  return t;
}

/** Local time as HH:MM. */
function hhmm(d) {
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** A message directly after one by the same author, within minutes, is shown without its header. */
function regroup(li) {
  if (!li.classList.contains('msg')) return;
  const prev = li.previousElementSibling;
  const cont = !!prev && prev.classList.contains('msg') && prev.dataset.name === li.dataset.name &&
    Number(li.dataset.ts) - Number(prev.dataset.ts) < GROUP_WITHIN;
  li.classList.toggle('cont', cont);
}

/** The text, with http(s) links made clickable: built from text nodes and anchors, never parsed as HTML. */
function appendLinked(parent, text) {
  const re = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;
  let last = 0;
  for (const match of text.matchAll(re)) {
    let url;
    try {
      url = new URL(match[0]);
    } catch {
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') continue;
    if (match.index > last) parent.append(text.slice(last, match.index));
    const a = document.createElement('a');
    a.href = url.href;
    a.textContent = match[0];
    a.target = '_blank';
    a.rel = 'noopener noreferrer nofollow';
    parent.append(a);
    last = match.index + match[0].length;
  }
  if (last < text.length) parent.append(text.slice(last));
}

function notice(room, text, kind) {
  const li = document.createElement('li');
  li.className = 'notice';
  li.dataset.testid = 'notice';
  li.dataset.kind = kind;
  const t = timeEl(Date.now());
  const span = document.createElement('span');
  span.textContent = text;
  li.append(span, ' ', t);
  room.list.append(li);
  scrollIfStuck(room);
}

function renderPost(p) {
  const li = p.li;
  li.className = `msg mine pending-post ${p.state}`;
  li.dataset.testid = 'pending-post';
  li.dataset.state = p.state;
  const { av, body, meta, author, text } = messageParts(state.name);
  const status = document.createElement('span');
  status.className = 'post-status';
  status.textContent = {
    queued: 'waiting for the connection…',
    sent: 'sending…',
    acked: 'sent',
    failed: `not sent: ${p.reason}`,
  }[p.state];
  meta.append(author, ' ', status);
  text.textContent = p.text;
  body.append(meta, text);
  if (p.state === 'failed') {
    const actions = document.createElement('div');
    actions.className = 'post-actions';
    const retry = document.createElement('button');
    retry.type = 'button';
    retry.className = 'link-button';
    retry.dataset.testid = 'post-retry';
    retry.textContent = 'send again';
    retry.addEventListener('click', () => {
      const room = roomOfPost(p);
      if (!room) return;
      p.state = 'queued';
      p.unconfirmed = false;
      renderPost(p);
      if (room.status === 'joined') sendPost(room, p);
    });
    const discard = document.createElement('button');
    discard.type = 'button';
    discard.className = 'link-button';
    discard.dataset.testid = 'post-discard';
    discard.textContent = 'discard';
    discard.addEventListener('click', () => {
      const room = roomOfPost(p);
      if (room) removePost(room, p);
    });
    actions.append(retry, ' · ', discard);
    body.append(actions);
  }
  li.replaceChildren(av, body);
}

function roomOfPost(p) {
  for (const room of state.rooms.values()) if (room.posts.includes(p)) return room;
  return undefined;
}

function scrollIfStuck(room) {
  if (room.stick && !room.pane.hidden) room.pane.scrollTop = room.pane.scrollHeight;
}

function avatar(name, extra) {
  const span = document.createElement('span');
  span.className = `avatar ${extra}`.trim();
  span.setAttribute('aria-hidden', 'true');
  span.textContent = [...name.trim()][0]?.toUpperCase() ?? '?';
  span.style.background = nameColor(name);
  return span;
}

function nameColor(name) {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return `hsl(${h % 360} 55% 45%)`;
}

// ---------------------------------------------------------------- errors

/** @type {WeakMap<Element, number>} */
const toastTimers = new WeakMap();

/** Shows an error for a few seconds; the same error again only restarts its time. */
function toast(code, message) {
  for (const shown of ui.toasts.children) {
    if (shown.dataset.code === code && shown.firstElementChild?.textContent === message) {
      clearTimeout(toastTimers.get(shown));
      toastTimers.set(shown, setTimeout(() => shown.remove(), TOAST_FOR));
      return;
    }
  }
  const div = document.createElement('div');
  div.className = 'toast';
  div.dataset.testid = 'error';
  div.dataset.code = code;
  const text = document.createElement('span');
  text.textContent = message;
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'icon-button';
  close.setAttribute('aria-label', 'Dismiss');
  close.textContent = '×';
  close.addEventListener('click', () => div.remove());
  div.append(text, close);
  ui.toasts.append(div);
  while (ui.toasts.children.length > 4) ui.toasts.firstElementChild.remove();
  toastTimers.set(div, setTimeout(() => div.remove(), TOAST_FOR));
}

// ---------------------------------------------------------------- the name

function showNameForm(error = '') {
  ui.nameOverlay.hidden = false;
  ui.nameInput.value = state.name;
  ui.nameError.textContent = error;
  ui.nameCancel.hidden = !state.name || !!error;
  ui.nameInput.focus();
  ui.nameInput.select();
}

function hideNameForm() {
  ui.nameOverlay.hidden = true;
  ui.postInput.focus();
}

function nameProblem(name) {
  if (!name) return 'Type a name.';
  if ([...name].length > limits.maxNameChars) return `At most ${limits.maxNameChars} characters.`;
  if (!NAME_RE.test(name)) return 'Letters a-z and A-Z, digits, _, - and . (and spaces inside) only.';
  return '';
}

function setName(name) {
  const changed = name !== state.name;
  state.name = name;
  save(KEY_NAME, name);
  renderMe();
  hideNameForm();
  if (!changed && (state.conn === 'ready' || state.conn === 'connecting' || state.conn === 'hello')) return;
  // `hello` is once per connection: a new name is a new connection (which joins the same rooms again).
  if (state.ws) disconnected(1000, { delay: 0 });
  else connect();
}

// ---------------------------------------------------------------- wiring

ui.nameForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const name = ui.nameInput.value.trim();
  const problem = nameProblem(name);
  if (problem) {
    ui.nameError.textContent = problem;
    ui.nameInput.focus();
    return;
  }
  setName(name);
});
ui.nameCancel.addEventListener('click', hideNameForm);
ui.nameOverlay.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && !ui.nameCancel.hidden) hideNameForm();
});
ui.me.addEventListener('click', () => showNameForm());
ui.connRetry.addEventListener('click', retryNow);

/** What someone types as a room becomes a room name: lower case, spaces as dashes. */
function roomName(raw) {
  return raw.trim().toLowerCase().replace(/^#/, '').replace(/\s+/g, '-');
}

ui.joinForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const name = roomName(ui.roomInput.value);
  if (!ROOM_RE.test(name) || name.length > limits.maxRoomChars) {
    ui.roomHint.classList.add('invalid');
    ui.roomHint.textContent = name ? `"${name}" is not a room name: a-z, 0-9, - and _ only, up to ${limits.maxRoomChars}` : 'Type a room name.';
    ui.roomInput.setAttribute('aria-invalid', 'true');
    return;
  }
  ui.roomHint.classList.remove('invalid');
  ui.roomHint.textContent = 'a-z, 0-9, - and _ (up to 32)';
  ui.roomInput.removeAttribute('aria-invalid');
  ui.roomInput.value = '';
  joinRoom(name);
  ui.postInput.focus();
});
ui.roomInput.addEventListener('input', () => {
  if (!ui.roomHint.classList.contains('invalid')) return;
  ui.roomHint.classList.remove('invalid');
  ui.roomHint.textContent = 'a-z, 0-9, - and _ (up to 32)';
  ui.roomInput.removeAttribute('aria-invalid');
});
ui.roomsRefresh.addEventListener('click', requestRooms);

ui.composer.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = ui.postInput.value;
  if (!text.trim()) return;
  if (post(text)) {
    ui.postInput.value = '';
    renderCount();
  }
});
ui.postInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    ui.composer.requestSubmit();
  }
});
function renderCount() {
  const n = [...ui.postInput.value].length;
  ui.postCount.textContent = n > limits.maxTextChars * 0.8 ? `${n}/${limits.maxTextChars}` : '';
  ui.postCount.classList.toggle('over', n > limits.maxTextChars);
}
ui.postInput.addEventListener('input', renderCount);

// Tabs: arrow keys move between joined rooms.
ui.tabs.addEventListener('keydown', (e) => {
  if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
  const names = [...state.rooms.keys()];
  const i = names.indexOf(state.active ?? '');
  const next = names[(i + (e.key === 'ArrowDown' ? 1 : names.length - 1)) % names.length];
  if (next) {
    e.preventDefault();
    activate(next);
    state.rooms.get(next)?.tab.firstElementChild.focus();
  }
});

window.addEventListener('online', retryNow);
window.addEventListener('hashchange', () => {
  const name = roomName(decodeURIComponent(location.hash.slice(1)));
  if (ROOM_RE.test(name) && name !== state.active) joinRoom(name);
});

// ---------------------------------------------------------------- start

{
  // The rooms this browser was in, and a room named in the address (/#lobby).
  const remembered = load(KEY_ROOMS, []);
  const wanted = Array.isArray(remembered) ? remembered.filter((r) => typeof r === 'string' && ROOM_RE.test(r)) : [];
  const fromHash = roomName(decodeURIComponent(location.hash.slice(1)));
  if (ROOM_RE.test(fromHash) && !wanted.includes(fromHash)) wanted.push(fromHash);
  for (const name of wanted.slice(0, limits.maxRooms)) state.rooms.set(name, makeRoom(name));
  const active = ROOM_RE.test(fromHash) ? fromHash : load(KEY_ACTIVE, null);
  activate(typeof active === 'string' && state.rooms.has(active) ? active : wanted[0] ?? null);
  renderTabsEmpty();
  renderAllRooms();
  renderMe();
  renderConn();
  if (state.name && !nameProblem(state.name)) connect();
  else showNameForm();
}
