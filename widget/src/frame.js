// The chat app inside the widget's iframe (/widget/frame?site_key=...&origin=HOST_ORIGIN).
// Every user-supplied string is rendered as text (textContent / text nodes), never as HTML.
import { io } from "socket.io-client";
import { lang, pickLang, setLang, t } from "./i18n.js";

const params = new URLSearchParams(location.search);
const SITE_KEY = params.get("site_key") || "";
const HOST = params.get("origin") || "";
const POLLING = params.get("transport") === "polling";
const EMBEDDED = window.parent !== window && /^https?:\/\/[^/]+$/.test(HOST);
const TOKEN_KEY = "parley:vt:" + SITE_KEY;
const SOUND_KEY = "parley:sound:" + SITE_KEY;
const PRECHAT_KEY = "parley:pc:" + SITE_KEY;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const ACK_TIMEOUT_MS = 8000;
const RETRY_MS = 2000;
const TYPING_IDLE_MS = 2500;
const TYPING_REFRESH_MS = 3000;
const HEARTBEAT_MS = 15000;
const PAGE = 50;

// -- storage: the frame's own localStorage, or memory when the browser denies it -----------
const memory = new Map();
const store = {
  get(key) {
    try {
      const value = localStorage.getItem(key);
      if (value !== null) return value;
    } catch {
      /* denied: fall back to memory */
    }
    return memory.get(key) ?? null;
  },
  set(key, value) {
    memory.set(key, value);
    try {
      localStorage.setItem(key, value);
    } catch {
      /* denied: memory only */
    }
  },
};

const S = {
  /** Bumped by restart(): a start() still waiting for an older session drops its answer. */
  generation: 0,
  token: store.get(TOKEN_KEY),
  identity: null,
  page: null,
  locale: null,
  settings: {},
  visitor: {},
  online: false,
  siteOpen: true, // inside business hours (always, without any)
  nextOpenAt: null,
  openTimer: 0,
  sound: store.get(SOUND_KEY) === "1",
  push: null, // the host page can subscribe to web push: its Notification.permission
  pushOn: false, // this browser's subscription is stored for this visitor
  pushKey: undefined, // the server's VAPID public key (null: none), fetched when first needed
  pendingPush: null, // a subscription the host page sent before the session started
  audio: null,
  prechat: false, // the pre-chat form is showing
  rating: new Map(), // ticket id -> its rating card
  agents: new Map(), // agent id -> live status, from presence events
  assignee: null, // the current ticket's assignee {id, name, availability}, or null
  status: {}, // ticket id -> its status ("bot", "open"...)
  queue: null, // the last queue event while waiting for an agent
  open: !EMBEDDED,
  started: false,
  socket: null,
  ticket: null, // the ticket the visitor writes to (null: the server picks or opens one)
  lastSeq: {}, // ticket id -> highest seq held
  oldest: {}, // ticket id -> lowest seq held, while older pages remain
  byId: new Map(), // message id -> {m, el}
  outbox: [], // pending sends, in order: {cid, body, ticket, el, failed}
  inFlight: null,
  agentDelivered: {},
  agentRead: {},
  myRead: {},
  myDelivered: {},
  unread: 0,
  typingOn: false,
  typingAt: 0,
  typingStop: 0,
  typingHide: 0,
  heartbeat: 0,
};

// -- DOM helpers ----------------------------------------------------------------------------
function h(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text != null) el.textContent = text;
  return el;
}

const SVG = "http://www.w3.org/2000/svg";

/** A 24x24 stroke icon from path data (no markup parsing). */
function icon(...paths) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  for (const d of paths) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

const URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;

/** Fill ``el`` with ``text``; http(s) URLs become links. Only text nodes and <a> are made. */
function fillText(el, text) {
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    const url = match[0].replace(/[.,!?;:)\]}]+$/, "");
    el.append(text.slice(last, match.index));
    const a = h("a", null, url);
    a.href = url;
    a.target = "_blank";
    a.rel = "noopener noreferrer nofollow ugc";
    el.append(a);
    last = match.index + url.length;
  }
  el.append(text.slice(last));
}

function initials(name) {
  const parts = String(name || "?").trim().split(/\s+/);
  return ((parts[0] || "?")[0] + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}

function clock(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  try {
    return date.toLocaleTimeString(lang(), { hour: "2-digit", minute: "2-digit" });
  } catch {
    return date.toISOString().slice(11, 16);
  }
}

function uid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// -- the page -------------------------------------------------------------------------------
const app = document.getElementById("parley");
const shell = h("div", "w");
const header = h("header", "hd");
const heading = h("div", "ti");
const title = h("div", "t");
const status = h("div", "st");
const closeBtn = h("button", "x", "×");
closeBtn.type = "button";
const soundBtn = h("button", "ib snd");
soundBtn.type = "button";
soundBtn.append(icon("M3 9v6h4l5 5V4L7 9H3z", "M16 8.5a5 5 0 0 1 0 7", "M4 4l16 16"));
heading.append(title, status);
header.append(heading, soundBtn, closeBtn);
const banner = h("div", "bn");
banner.setAttribute("role", "status");
banner.hidden = true;
const log = h("div", "ms");
log.setAttribute("role", "log");
log.setAttribute("aria-live", "polite");
log.setAttribute("aria-relevant", "additions");
log.tabIndex = 0;
const greeting = h("div", "m them greet");
greeting.hidden = true;
greeting._k = "";
log.append(greeting);
const queue = h("div", "qu");
queue.setAttribute("role", "status");
queue.hidden = true;
const typing = h("div", "ty");
typing.setAttribute("aria-live", "polite");
typing.hidden = true;
// Pre-chat fields, before the first message of a new conversation (site settings).
const prechat = h("form", "pc");
prechat.noValidate = true;
prechat.hidden = true;
// Outside business hours: leave an e-mail to be answered there.
const away = h("form", "aw");
away.noValidate = true;
away.hidden = true;
// Web push for the visitor, through the host page's service worker (opt-in per site).
const pushBar = h("div", "pu");
pushBar.setAttribute("role", "status");
pushBar.hidden = true;
const form = h("form", "cp");
const input = h("textarea");
input.rows = 1;
input.maxLength = 5000;
const sendBtn = h("button", "sd");
sendBtn.type = "submit";
form.append(input, sendBtn);
shell.append(header, banner, log, queue, typing, pushBar, away, prechat, form);
app.append(shell);
if (!EMBEDDED) closeBtn.hidden = true;

function paintStrings() {
  document.documentElement.lang = lang();
  input.placeholder = t("placeholder");
  input.setAttribute("aria-label", t("placeholder"));
  sendBtn.textContent = t("send");
  closeBtn.setAttribute("aria-label", t("close"));
  log.setAttribute("aria-label", t("log"));
  paintStatus();
  paintSound();
  if (!banner.hidden) banner.textContent = t(banner.dataset.key || "reconnecting");
  for (const item of S.outbox) receipt(item.el, item.failed ? "failed" : "sending");
  paintReceipts();
  if (S.prechat) renderPrechat();
  if (!away.hidden) renderAway();
  for (const card of S.rating.values()) card.paint();
  paintQueue();
  for (const { m, el } of S.byId.values()) if (el._bot) paintBot(el, m);
}

/** The header's second line: business hours first, then whether agents are around. */
function paintStatus() {
  const who = S.assignee;
  const live = who ? S.agents.get(who.id) || who.availability || "offline" : teamStatus();
  status.dataset.presence = live;
  if (!S.siteOpen) status.textContent = backText(S.nextOpenAt);
  else if (who) status.textContent = t("agent_" + live, { name: who.name || t("someone") });
  else status.textContent = t("team_" + live);
}

/** The team's status: online if an agent is, away if one is connected but away. */
function teamStatus() {
  const all = [...S.agents.values()];
  if (S.online || all.includes("online")) return "online";
  return all.includes("away") ? "away" : "offline";
}

/** "Back at 9:00", "Back tomorrow at 9:00" or "Back on Monday at 9:00" (local time). */
function backText(iso) {
  const at = iso ? new Date(iso) : null;
  if (!at || Number.isNaN(at.getTime())) return t("closed");
  const time = `${at.getHours()}:${String(at.getMinutes()).padStart(2, "0")}`;
  const midnight = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((midnight(at) - midnight(new Date())) / 864e5);
  if (days <= 0) return t("backAt", { time });
  if (days === 1) return t("backTomorrow", { time });
  let day;
  try {
    day = at.toLocaleDateString(lang(), { weekday: "long" });
  } catch {
    day = at.toDateString().slice(0, 3);
  }
  return t("backOn", { day, time });
}

function applyLocale() {
  setLang(pickLang(S.locale, navigator.languages || [navigator.language], S.settings.locale));
  paintStrings();
}

function showBanner(key) {
  banner.dataset.key = key;
  banner.textContent = t(key);
  banner.hidden = false;
}

function nearBottom() {
  return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
}

/** Insert ``el`` (with its sort key ``el._k``) at its place in the timeline. */
function place(el) {
  const stick = nearBottom();
  let before = null;
  for (let node = log.lastElementChild; node && node._k > el._k; node = node.previousElementSibling) {
    before = node;
  }
  log.insertBefore(el, before);
  if (stick || el._k === "~") log.scrollTop = log.scrollHeight;
}

function sortKey(m) {
  return `${m.created_at}|${String(m.seq).padStart(10, "0")}`;
}

function bubble(m, mine) {
  if (m.kind === "event") {
    const el = h("div", "ev", m.body);
    return el;
  }
  const el = h("div", mine ? "m me" : "m them");
  const col = h("div", "col");
  if (!mine) {
    el.append(h("span", "av", initials(m.sender && m.sender.name)));
    col.append(h("div", "who", (m.sender && m.sender.name) || t("someone")));
  }
  const body = h("div", "bd");
  fillText(body, m.body);
  const meta = h("div", "meta");
  meta.append(h("span", "tm", m.created_at ? clock(m.created_at) : ""));
  if (mine) meta.append(h("span", "rc"));
  col.append(body, meta);
  el.append(col);
  if (m.sender && m.sender.type === "bot" && m.meta) {
    el._bot = h("div", "ac");
    col.append(el._bot);
    paintBot(el, m);
  }
  return el;
}

/** A bot message's buttons: "Did you mean...?" choices, "That helped", "Talk to a human".
 * They go once used, or once the ticket has left the bot. */
function paintBot(el, m) {
  const row = el._bot;
  row.textContent = "";
  if (row.dataset.done) {
    if (row.dataset.done !== "asked") row.append(h("p", "ak", t(row.dataset.done)));
    return;
  }
  if ((S.status[m.ticket_id] || "bot") !== "bot") return;
  const meta = m.meta;
  const choices = Array.isArray(meta.suggestions) ? meta.suggestions : [];
  const actions = Array.isArray(meta.actions) ? meta.actions : [];
  if (choices.length) row.append(h("p", "dm", t("didYouMean")));
  for (const choice of choices) {
    if (!choice || typeof choice.question !== "string") continue;
    button(row, choice.question, () => {
      row.dataset.done = "asked";
      paintBot(el, m);
      send(choice.question);
    });
  }
  if (actions.includes("helpful")) button(row, t("helped"), () => feedback(el, m, true));
  if (actions.includes("handoff") || choices.length) button(row, t("human"), () => feedback(el, m, false));
}

function button(row, text, onClick) {
  const b = h("button", "ab", text);
  b.type = "button";
  b.addEventListener("click", onClick);
  row.append(b);
}

function feedback(el, m, helpful) {
  const row = el._bot;
  const socket = S.socket;
  if (!socket || !socket.connected) return;
  for (const b of row.querySelectorAll("button")) b.disabled = true;
  const payload = { ticket_id: m.ticket_id, message_id: m.id, helpful };
  socket.timeout(ACK_TIMEOUT_MS).emit("bot:feedback", payload, (error, ack) => {
    if (error || !ack || !ack.ok) {
      for (const b of row.querySelectorAll("button")) b.disabled = false;
      return;
    }
    row.dataset.done = helpful ? "helpedThanks" : "handedOff";
    paintBot(el, m);
    if (ack.ticket) onTicket(ack.ticket);
  });
}

/** "You are number N in line · about M min" while the ticket waits for an agent. */
function paintQueue() {
  const q = S.queue;
  queue.hidden = !q;
  if (!q) return;
  let text = t("queue", { n: q.position });
  if (typeof q.expected_wait_s === "number") {
    text += " · " + t("wait", { m: Math.max(1, Math.round(q.expected_wait_s / 60)) });
  }
  queue.textContent = text;
}

/** The agents' read and delivered positions from a ticket's participants (after a load). */
function fromParticipants(ticket) {
  for (const p of ticket.participants || []) {
    if (!p || p.type !== "agent") continue;
    const reader = { type: "agent", id: p.id };
    if (p.delivered_seq) onReceipt(S.agentDelivered, { ticket_id: ticket.id, seq: p.delivered_seq, reader });
    if (p.read_seq) onReceipt(S.agentRead, { ticket_id: ticket.id, seq: p.read_seq, reader });
  }
}

function receipt(el, key) {
  const rc = el && el.querySelector(".rc");
  if (rc) {
    rc.textContent = key ? t(key) : "";
    rc.dataset.state = key || "";
  }
}

/** "Sent", "Delivered" or "Seen" under the visitor's newest stored message only. */
function paintReceipts() {
  let newest = null;
  for (const { m, el } of S.byId.values()) {
    if (m.sender.type !== "visitor" || m.kind !== "text") continue;
    receipt(el, "");
    if (!newest || sortKey(m) > sortKey(newest.m)) newest = { m, el };
  }
  if (!newest) return;
  const { m, el } = newest;
  const read = S.agentRead[m.ticket_id] || 0;
  const delivered = Math.max(S.agentDelivered[m.ticket_id] || 0, read);
  receipt(el, m.seq <= read ? "seen" : m.seq <= delivered ? "delivered" : "sent");
}

// -- the bridge to the host page -------------------------------------------------------------
function toHost(msg) {
  if (!EMBEDDED) return;
  try {
    window.parent.postMessage({ ...msg, parley: 1 }, HOST);
  } catch {
    /* an unusable origin: nothing to tell */
  }
}

function setUnread(count) {
  if (count !== S.unread) {
    S.unread = count;
    toHost({ type: "unread", count });
  }
}

window.addEventListener("message", (event) => {
  if (!EMBEDDED || event.origin !== HOST || event.source !== window.parent) return;
  const msg = event.data;
  if (!msg || msg.parley !== 1) return;
  if (msg.type === "init") {
    S.open = !!msg.open;
    S.locale = msg.locale || null;
    S.identity = validIdentity(msg.identity);
    S.page = msg.page || null;
    S.push = typeof msg.push === "string" ? msg.push : null;
    applyLocale();
    start();
  } else if (msg.type === "open") {
    S.open = true;
    markRead();
    input.focus();
    // History loaded while the panel was hidden (the idle-time start) had no layout to
    // scroll: show the newest messages, so scrolling up reaches the older pages.
    requestAnimationFrame(() => {
      log.scrollTop = log.scrollHeight;
    });
  } else if (msg.type === "close") {
    S.open = false;
  } else if (msg.type === "locale") {
    S.locale = msg.locale || null;
    applyLocale();
  } else if (msg.type === "identify") {
    S.identity = validIdentity(msg.identity);
    if (S.started) restart();
  } else if (msg.type === "push") {
    onPush(msg);
  }
});

function validIdentity(identity) {
  if (!identity || typeof identity !== "object") return null;
  const { external_id: id, user_hash: hash, name, email } = identity;
  if (typeof id !== "string" || typeof hash !== "string") return null;
  const out = { external_id: id, user_hash: hash };
  if (typeof name === "string") out.name = name;
  if (typeof email === "string") out.email = email;
  return out;
}

// -- REST -----------------------------------------------------------------------------------
async function rest(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (S.token) headers.Authorization = `Bearer ${S.token}`;
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error((data.error && data.error.message) || response.statusText);
    error.status = response.status;
    error.fields = data.error && data.error.fields;
    throw error;
  }
  return data;
}

function page() {
  if (!S.page) return undefined;
  const cut = (v, n) => (typeof v === "string" ? v.slice(0, n) : undefined);
  return { url: cut(S.page.url, 2048), title: cut(S.page.title, 500), referrer: cut(S.page.referrer, 2048) };
}

async function openSession() {
  const body = { site_key: SITE_KEY, page: page() };
  if (S.token) body.visitor_token = S.token;
  if (S.identity) body.identity = S.identity;
  try {
    return await rest("POST", "/widget/session", body);
  } catch (error) {
    if (error.status === 403 && S.identity) {
      S.identity = null; // a wrong user_hash: carry on as an anonymous visitor
      return openSession();
    }
    throw error;
  }
}

// -- start, history, socket ------------------------------------------------------------------
let retryStart = 1000;

async function start() {
  if (S.started) return;
  S.started = true;
  const generation = S.generation;
  let session;
  try {
    session = await openSession();
  } catch (error) {
    if (generation !== S.generation) return;
    S.started = false;
    if (error.status === 404) return; // unknown site: nothing to show
    showBanner("connecting");
    setTimeout(start, retryStart);
    retryStart = Math.min(retryStart * 2, 15000);
    return;
  }
  if (generation !== S.generation) return; // identify() restarted meanwhile: that one wins
  banner.hidden = true;
  S.token = session.visitor_token;
  store.set(TOKEN_KEY, S.token);
  const site = session.site || {};
  S.settings = site.settings || {};
  S.online = !!site.online;
  S.visitor = session.visitor || {};
  setOpenHours(site.open !== false, site.next_open_at || null);
  applySettings();
  const tickets = session.tickets || [];
  toHost({ type: "active", value: tickets.length > 0 });
  setUnread(tickets.reduce((n, tk) => n + (tk.unread_count || 0), 0));
  for (const tk of tickets) if (!tk.unread_count) S.myRead[tk.id] = tk.last_seq;
  for (const tk of tickets) S.status[tk.id] = tk.status;
  const current = tickets[0];
  if (current) {
    if (current.status !== "resolved") S.ticket = current.id;
    try {
      await loadPage(current.id);
    } catch {
      /* sync after connecting fills the gap */
    }
    if (generation !== S.generation) return;
    onTicket(current);
  }
  showPrechat();
  showAway();
  connect();
  if (S.pendingPush) onPush(S.pendingPush);
  showPush();
}

/** Business hours: closed until ``nextOpenAt`` (then open again without a reload). */
function setOpenHours(open, nextOpenAt) {
  clearTimeout(S.openTimer);
  S.siteOpen = open;
  S.nextOpenAt = open ? null : nextOpenAt;
  const wait = nextOpenAt ? new Date(nextOpenAt).getTime() - Date.now() : NaN;
  if (!open && wait > 0 && wait < 2 ** 31) {
    S.openTimer = setTimeout(() => setOpenHours(true, null), wait + 1000);
  }
  paintStatus();
  showAway();
}

function restart() {
  S.generation += 1;

  for (const card of S.rating.values()) card.el.remove();
  S.rating.clear();
  prechat.textContent = ""; // a new identity: its own answers, not what the last one typed
  prechat.hidden = true;
  form.hidden = false;
  S.prechat = false;
  delete away.dataset.saved;
  away.textContent = "";
  if (S.socket) S.socket.disconnect();
  S.socket = null;
  clearInterval(S.heartbeat);
  for (const { el } of S.byId.values()) el.remove();
  S.byId.clear();
  S.ticket = null;
  S.assignee = null;
  S.queue = null;
  paintQueue();
  S.lastSeq = {};
  S.oldest = {};
  S.started = false;
  start();
}

function applySettings() {
  const { color, title: text, greeting: hello } = S.settings;
  if (/^#[0-9a-fA-F]{6}$/.test(color || "")) document.documentElement.style.setProperty("--c", color);
  title.textContent = text || "";
  greeting.hidden = !hello;
  greeting.textContent = "";
  if (hello) {
    const body = h("div", "bd");
    fillText(body, hello);
    greeting.append(body);
  }
  applyLocale();
  toHost({ type: "look", color: S.settings.color, position: S.settings.position, locale: lang() });
}

async function loadPage(ticketId, before) {
  const query = before ? `?before=${before}&limit=${PAGE}` : `?limit=${PAGE}`;
  const data = await rest("GET", `/tickets/${encodeURIComponent(ticketId)}/messages${query}`);
  const rows = data.messages || [];
  if (data.has_more && rows.length) S.oldest[ticketId] = rows[0].seq;
  else delete S.oldest[ticketId];
  for (const m of rows) show(m, { history: true });
  if (!before) log.scrollTop = log.scrollHeight;
  afterBatch();
}

let loadingOlder = false;
log.addEventListener("scroll", async () => {
  if (log.scrollTop > 40 || loadingOlder) return;
  const ticketId = Object.keys(S.oldest)[0];
  if (!ticketId) return;
  loadingOlder = true;
  const fromBottom = log.scrollHeight - log.scrollTop;
  try {
    await loadPage(ticketId, S.oldest[ticketId]);
    log.scrollTop = log.scrollHeight - fromBottom;
  } catch {
    /* try again on the next scroll */
  }
  loadingOlder = false;
});

function connect() {
  const socket = io(location.origin, {
    auth: { visitor_token: S.token },
    transports: POLLING ? ["polling"] : ["polling", "websocket"],
    reconnectionDelayMax: 10000,
    forceNew: true,
  });
  S.socket = socket;
  socket.on("connect", () => {
    if (S.socket !== socket) return;
    banner.hidden = true;
    heartbeat();
    clearInterval(S.heartbeat);
    S.heartbeat = setInterval(heartbeat, HEARTBEAT_MS);
    sync().finally(flush);
  });
  socket.on("disconnect", (reason) => {
    if (S.socket !== socket) return;
    S.typingOn = false;
    if (reason !== "io client disconnect") showBanner("reconnecting");
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), RETRY_MS);
  });
  socket.on("connect_error", (error) => {
    if (S.socket !== socket) return;
    showBanner("reconnecting");
    if (socket.active) return; // the manager retries transport errors by itself
    if (error && error.message === "unauthorized") {
      S.token = null; // the token is no longer accepted: start a new session
      socket.disconnect();
      setTimeout(restart, RETRY_MS);
    } else {
      setTimeout(() => socket.connect(), RETRY_MS);
    }
  });
  socket.on("message:new", ({ message }) => {
    show(message, {});
    afterBatch();
  });
  socket.on("typing", onTyping);
  socket.on("delivered", (e) => onReceipt(S.agentDelivered, e));
  socket.on("read", (e) => onReceipt(S.agentRead, e));
  socket.on("presence", onPresence);
  socket.on("queue", (event) => {
    if (!event || (S.ticket && event.ticket_id !== S.ticket) || S.assignee) return;
    S.queue = event;
    paintQueue();
  });
  socket.on("ticket:updated", ({ ticket }) => {
    if (ticket && ticket.status === "resolved" && S.ticket === ticket.id) S.ticket = null;
    else if (ticket && ticket.status !== "resolved") S.ticket = ticket.id;
    if (ticket) onTicket(ticket);
  });
}

function heartbeat() {
  if (S.socket && S.socket.connected) {
    S.socket.emit("presence:heartbeat", { status: document.hidden ? "away" : "online" });
  }
}

async function sync() {
  for (let round = 0; round < 20; round++) {
    const tickets = { ...S.lastSeq };
    if (!Object.keys(tickets).length || !S.socket || !S.socket.connected) return;
    let ack;
    try {
      ack = await S.socket.timeout(ACK_TIMEOUT_MS).emitWithAck("sync", { tickets });
    } catch {
      return; // a timeout: the next reconnect syncs again
    }
    if (!ack || !ack.ok) return;
    for (const m of ack.messages) show(m, {});
    afterBatch();
    if (!Object.values(ack.has_more || {}).some(Boolean)) return;
  }
}

// -- messages -------------------------------------------------------------------------------
/** Show a stored message once (by id), settling the optimistic bubble it confirms. */
function show(m, { history }) {
  if (!m || m.kind === "note") return;
  const ticket = m.ticket_id;
  if (m.seq > (S.lastSeq[ticket] || 0)) S.lastSeq[ticket] = m.seq;
  const mine = m.sender.type === "visitor";
  if (mine && m.seq > (S.myRead[ticket] || 0)) S.myRead[ticket] = m.seq; // we wrote it
  if (S.byId.has(m.id)) return;
  let el = null;
  if (mine) {
    const item = S.outbox.find((o) => o.cid === m.client_id);
    if (item) {
      settle(item, m);
      return;
    }
  }
  el = bubble(m, mine);
  el._k = sortKey(m);
  S.byId.set(m.id, { m, el });
  place(el);
  if (mine) paintReceipts();
  else {
    // An agent who writes has read everything before its message (the server stores it so).
    if (m.sender.type === "agent") onReceipt(S.agentRead, { ticket_id: ticket, seq: m.seq, reader: m.sender });
    if (S.typingHide && typing.dataset.sender === m.sender.id) hideTyping();
    if (!history) {
      toHost({ type: "message", message: publicMessage(m) });
      if (m.kind === "text" && !looking()) {
        setUnread(S.unread + 1);
        if (m.sender.type === "agent") beep();
      }
    }
  }
}

function publicMessage(m) {
  const { id, ticket_id, seq, kind, sender, body, created_at } = m;
  return { id, ticket_id, seq, kind, sender: { type: sender.type, name: sender.name }, body, created_at };
}

/** After a batch: tell the server what was delivered (and read, if the visitor looks). */
function afterBatch() {
  const socket = S.socket;
  for (const [ticket, seq] of Object.entries(S.lastSeq)) {
    if (socket && socket.connected && seq > (S.myDelivered[ticket] || 0)) {
      S.myDelivered[ticket] = seq;
      socket.emit("delivered", { ticket_id: ticket, seq });
    }
  }
  markRead();
}

function looking() {
  return S.open && document.visibilityState === "visible";
}

function markRead() {
  if (!looking() || !S.socket || !S.socket.connected) return;
  for (const [ticket, seq] of Object.entries(S.lastSeq)) {
    if (seq > (S.myRead[ticket] || 0)) {
      S.myRead[ticket] = seq;
      S.socket.emit("read", { ticket_id: ticket, seq });
    }
  }
  setUnread(0);
}

document.addEventListener("visibilitychange", () => {
  markRead();
  heartbeat();
});

function onReceipt(target, event) {
  if (!event || !event.reader || event.reader.type === "visitor") return;
  if (event.seq > (target[event.ticket_id] || 0)) {
    target[event.ticket_id] = event.seq;
    paintReceipts();
  }
}

function onPresence(event) {
  if (!event || !event.subject || event.subject.type !== "agent") return;
  S.agents.set(event.subject.id, event.status);
  // The server says whether any agent is still online; without it, the events seen say it.
  S.online = typeof event.team_online === "boolean" ? event.team_online : false;
  paintStatus();
}


function onTyping(event) {
  if (!event || !event.sender || event.sender.type === "visitor") return;
  clearTimeout(S.typingHide);
  if (!event.typing) {
    hideTyping();
    return;
  }
  typing.dataset.sender = event.sender.id;
  typing.textContent = t("typing", { name: event.sender.name || t("someone") });
  typing.hidden = false;
  S.typingHide = setTimeout(hideTyping, 8000);
  if (nearBottom()) log.scrollTop = log.scrollHeight;
}

function hideTyping() {
  clearTimeout(S.typingHide);
  S.typingHide = 0;
  typing.hidden = true;
  typing.textContent = "";
}

// -- pre-chat fields --------------------------------------------------------------------------
function prechatFields() {
  const list = S.settings.prechat_fields;
  return Array.isArray(list) ? list.filter((f) => f && typeof f.name === "string") : [];
}

/** What the visitor already told for a field (from a pre-chat form, identify() or PATCH). */
function known(name) {
  const v = S.visitor || {};
  const value = name === "name" ? v.name : name === "email" ? v.email : (v.attributes || {})[name];
  return typeof value === "string" ? value : "";
}

/** Before the first message of a new conversation: ask what the site wants to know, unless
 * the visitor already answered (in this browser, or every field is known). */
function showPrechat() {
  const fields = prechatFields();
  const missing = fields.some((f) => f.required && !known(f.name));
  const answered = store.get(PRECHAT_KEY) === "1" || fields.every((f) => known(f.name));
  const show = fields.length > 0 && !S.ticket && (missing || !answered);
  if (show === S.prechat) return;
  S.prechat = show;
  if (show) renderPrechat();
  prechat.hidden = !show;
  form.hidden = show;
  showAway();
}

function renderPrechat() {
  const values = {};
  for (const el of prechat.querySelectorAll("input")) values[el.name] = el.value;
  prechat.textContent = "";
  prechat.append(h("p", "pi", t("prechatIntro")));
  for (const field of prechatFields()) {
    const id = "pc-" + field.name;
    const label = h("label", null, field.label || field.name);
    label.htmlFor = id;
    if (field.required) label.append(h("span", "rq", " *"));
    const el = h("input");
    el.id = id;
    el.name = field.name;
    el.type = field.type === "email" ? "email" : "text";
    el.maxLength = field.type === "email" ? 254 : field.name === "name" ? 200 : 500;
    el.required = !!field.required;
    el.autocomplete = field.name === "email" ? "email" : field.name === "name" ? "name" : "off";
    el.value = values[field.name] ?? known(field.name);
    const error = h("div", "er");
    error.id = id + "-e";
    error.setAttribute("role", "alert");
    el.setAttribute("aria-describedby", error.id);
    prechat.append(label, el, error);
  }
  const go = h("button", "sd", t("startChat"));
  go.type = "submit";
  prechat.append(h("div", "er pe"), go);
}

function fieldError(name, key) {
  const el = prechat.querySelector(`input[name="${CSS.escape(name)}"]`);
  const error = el && el.nextElementSibling;
  if (!el || !error) return;
  error.textContent = key ? t(key) : "";
  el.setAttribute("aria-invalid", key ? "true" : "false");
}

prechat.addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { fields: {} };
  let firstBad = null;
  for (const field of prechatFields()) {
    const el = prechat.querySelector(`input[name="${CSS.escape(field.name)}"]`);
    const value = el ? el.value.trim() : "";
    let problem = "";
    if (field.required && !value) problem = "required";
    else if (value && field.type === "email" && !EMAIL_RE.test(value)) problem = "badEmail";
    fieldError(field.name, problem);
    if (problem && !firstBad) firstBad = el;
    if (!value) continue;
    if (field.name === "name" || field.name === "email") body[field.name] = value;
    else body.fields[field.name] = value;
  }
  if (firstBad) {
    firstBad.focus();
    return;
  }
  if (!Object.keys(body.fields).length) delete body.fields;
  const general = prechat.querySelector(".pe");
  general.textContent = "";
  if (Object.keys(body).length) {
    try {
      S.visitor = (await rest("PATCH", "/widget/visitor", body)).visitor || S.visitor;
      // A socket names its visitor when it connects: reconnect, so messages carry the name.
      if (body.name && S.socket) {
        S.socket.disconnect();
        S.socket.connect();
      }
    } catch (error) {
      const top = error.fields || {};
      const names = [...Object.keys(top), ...Object.keys(top.fields || {})].filter((n) =>
        prechatFields().some((f) => f.name === n),
      );
      for (const name of names) fieldError(name, name === "email" ? "badEmail" : "invalid");
      if (!names.length) general.textContent = t("saveFailed");
      return;
    }
  }
  store.set(PRECHAT_KEY, "1");
  S.prechat = false;
  prechat.hidden = true;
  form.hidden = false;
  showAway();
  input.focus();
});

// -- web push: offered once the visitor has a conversation, when the site opted in -------------
async function showPush() {
  const offer = S.push && S.push !== "denied" && !S.pushOn && S.ticket && S.token;
  if (!offer || pushBar.dataset.done) return;
  if (S.pushKey === undefined) {
    S.pushKey = null;
    try {
      S.pushKey = (await rest("GET", "/push/vapid-public-key")).public_key || null;
    } catch {
      /* the server has no VAPID keys: nothing to offer */
    }
  }
  if (!S.pushKey || S.pushOn || pushBar.dataset.done) return;
  const ask = h("button", "sd", t("pushAsk"));
  ask.type = "button";
  ask.addEventListener("click", () => toHost({ type: "push-subscribe", key: S.pushKey }));
  pushBar.textContent = "";
  pushBar.append(h("span", "pi", t("pushOffer")), ask);
  pushBar.hidden = false;
}

/** The host page subscribed (or said why not): store the subscription for this visitor. */
async function onPush(msg) {
  if (!S.token) {
    S.pendingPush = msg; // the session is still starting
    return;
  }
  S.pendingPush = null;
  const asked = !pushBar.hidden;
  let text = "pushFailed";
  if (msg.subscription && typeof msg.subscription === "object") {
    try {
      await rest("POST", "/push/subscriptions", msg.subscription);
      S.pushOn = true;
      text = "pushOn";
    } catch {
      /* said below */
    }
  } else if (msg.error === "denied") {
    text = "pushDenied";
  }
  if (!asked) return; // a renewal at start: nothing to tell
  pushBar.dataset.done = "1";
  pushBar.textContent = "";
  pushBar.append(h("span", "pi", t(text)));
}

// -- business hours: leave an e-mail ----------------------------------------------------------
function showAway() {
  const known = !!(S.visitor && S.visitor.email) && !away.dataset.saved;
  const show = !S.siteOpen && !S.prechat && S.started && !known;
  if (show && !away.firstChild) renderAway();
  away.hidden = !show;
}

function renderAway() {
  const typed = away.querySelector("input");
  away.textContent = "";
  if (away.dataset.saved) {
    away.append(h("p", "pi", t("emailSaved", { email: away.dataset.saved })));
    return;
  }
  const label = h("label", "pi", t("leaveEmail"));
  label.htmlFor = "aw-e";
  const el = h("input");
  el.id = "aw-e";
  el.type = "email";
  el.name = "email";
  el.autocomplete = "email";
  el.maxLength = 254;
  el.placeholder = t("emailPlaceholder");
  if (typed) el.value = typed.value;
  const save = h("button", "sd", t("save"));
  save.type = "submit";
  const row = h("div", "row");
  row.append(el, save);
  const error = h("div", "er");
  error.setAttribute("role", "alert");
  away.append(label, row, error);
}

away.addEventListener("submit", async (event) => {
  event.preventDefault();
  const el = away.querySelector("input");
  const error = away.querySelector(".er");
  const email = el.value.trim();
  if (!EMAIL_RE.test(email)) {
    error.textContent = t("badEmail");
    el.focus();
    return;
  }
  error.textContent = "";
  try {
    S.visitor = (await rest("PATCH", "/widget/visitor", { email })).visitor || S.visitor;
  } catch (failure) {
    error.textContent = t(failure.status === 422 ? "badEmail" : "saveFailed");
    return;
  }
  away.dataset.saved = S.visitor.email || email;
  renderAway();
  away.hidden = false;
});

// -- satisfaction rating after a resolve ------------------------------------------------------
/** A ticket changed: once resolved without a rating, ask for one (once per ticket). */
function onTicket(ticket) {
  const was = S.status[ticket.id];
  S.status[ticket.id] = ticket.status;
  if (was === "bot" && ticket.status !== "bot") {
    for (const { m, el } of S.byId.values()) if (el._bot && m.ticket_id === ticket.id) paintBot(el, m);
  }
  fromParticipants(ticket);
  if (ticket.id === S.ticket || !S.ticket) {
    S.assignee = ticket.status === "resolved" ? null : ticket.assignee || null;
    if (S.queue && (S.assignee || ticket.status !== "open")) S.queue = null;
    paintQueue();
    paintStatus();
  }
  if (ticket.status === "resolved") {
    if (!ticket.rating && !S.rating.has(ticket.id)) S.rating.set(ticket.id, ratingCard(ticket.id));
    showPrechat();
  }
}

function ratingCard(ticketId) {
  const el = h("form", "rt");
  el.noValidate = true;
  const keys = [...S.byId.values()].map(({ el: node }) => node._k).sort();
  el._k = (keys[keys.length - 1] || "") + "|~"; // right after the newest message
  const card = { el, score: 0, done: false, paint: null };
  const question = h("p", "q");
  const stars = h("div", "stars");
  stars.setAttribute("role", "radiogroup");
  const buttons = [1, 2, 3, 4, 5].map((score) => {
    const star = h("button", "star", "★");
    star.type = "button";
    star.dataset.score = String(score);
    star.setAttribute("role", "radio");
    star.addEventListener("click", () => {
      card.score = score;
      card.paint();
    });
    stars.append(star);
    return star;
  });
  const comment = h("textarea", "cm");
  comment.rows = 2;
  comment.maxLength = 1000;
  const submit = h("button", "sd", "");
  submit.type = "submit";
  const error = h("div", "er");
  error.setAttribute("role", "alert");
  el.append(question, stars, comment, submit, error);
  card.paint = () => {
    if (card.done) {
      el.textContent = "";
      el.append(h("p", "q", t("rateThanks")));
      return;
    }
    question.textContent = t("rateTitle");
    stars.setAttribute("aria-label", t("rateTitle"));
    for (const star of buttons) {
      const score = Number(star.dataset.score);
      star.classList.toggle("on", score <= card.score);
      star.setAttribute("aria-checked", String(score === card.score));
      star.setAttribute("aria-label", t("stars", { n: score }));
    }
    comment.placeholder = t("rateComment");
    comment.setAttribute("aria-label", t("rateComment"));
    submit.textContent = t("rateSend");
    submit.disabled = !card.score;
  };
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!card.score) return;
    submit.disabled = true;
    error.textContent = "";
    try {
      const body = { score: card.score, comment: comment.value.trim() || null };
      await rest("POST", `/tickets/${encodeURIComponent(ticketId)}/rating`, body);
      card.done = true;
    } catch {
      error.textContent = t("saveFailed");
    }
    card.paint();
  });
  card.paint();
  place(el);
  return card;
}

// -- sound: a short beep for agents' messages while the widget is closed or hidden -----------
function paintSound() {
  soundBtn.setAttribute("aria-pressed", String(S.sound));
  soundBtn.setAttribute("aria-label", t(S.sound ? "soundOff" : "soundOn"));
  soundBtn.title = t(S.sound ? "soundOff" : "soundOn");
  soundBtn.classList.toggle("off", !S.sound);
}

function audio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!S.audio && Context) S.audio = new Context();
  if (S.audio && S.audio.state === "suspended") S.audio.resume().catch(() => {});
  return S.audio;
}

soundBtn.addEventListener("click", () => {
  S.sound = !S.sound;
  store.set(SOUND_KEY, S.sound ? "1" : "0");
  if (S.sound) audio(); // created inside a click, so the browser lets it play later
  paintSound();
});

function beep() {
  const ctx = S.sound && audio();
  if (!ctx) return;
  try {
    const at = ctx.currentTime;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.setValueAtTime(880, at);
    gain.gain.setValueAtTime(0.1, at);
    gain.gain.exponentialRampToValueAtTime(0.001, at + 0.18);
    osc.connect(gain);
    gain.connect(ctx.destination);
    osc.start(at);
    osc.stop(at + 0.2);
  } catch {
    /* no audio output: stay silent */
  }
}

// -- sending: optimistic bubble, one send in flight, resend with the same client_id ---------
function send(text) {
  const body = text.trim();
  if (!body || S.prechat) return;
  const item = { cid: uid(), body, ticket: S.ticket, failed: false };
  item.el = bubble({ body, sender: { type: "visitor" }, kind: "text" }, true);
  item.el._k = "~";
  item.el.classList.add("pending");
  receipt(item.el, "sending");
  item.el.addEventListener("click", () => {
    if (item.failed) {
      item.failed = false;
      receipt(item.el, "sending");
      S.outbox.push(item);
      flush();
    }
  });
  place(item.el);
  S.outbox.push(item);
  stopTyping();
  flush();
}

function flush() {
  const socket = S.socket;
  if (S.inFlight || !socket || !socket.connected) return;
  const item = S.outbox.find((o) => !o.failed);
  if (!item) return;
  S.inFlight = item;
  const payload = { client_id: item.cid, body: item.body };
  if (item.ticket) payload.ticket_id = item.ticket;
  socket.timeout(ACK_TIMEOUT_MS).emit("message:send", payload, (error, ack) => {
    S.inFlight = null;
    if (!S.outbox.includes(item)) {
      flush(); // settled meanwhile by message:new or sync
      return;
    }
    if (error || !ack) {
      receipt(item.el, "retrying");
      flush(); // no ack in time: resend at once with the same client_id (never stored twice)
      return;
    }
    if (!ack.ok && ["unavailable", "rate_limited", "internal"].includes(ack.error.code)) {
      receipt(item.el, "retrying");
      setTimeout(flush, RETRY_MS);
      return;
    }
    if (!ack.ok && ack.error.code === "conflict" && item.ticket) {
      item.ticket = null; // that ticket was closed: write to the open one
      flush();
      return;
    }
    if (!ack.ok) {
      item.failed = true;
      receipt(item.el, "failed");
    } else {
      show(ack.message, {});
      afterBatch();
    }
    flush();
  });
}

/** The stored message ``m`` confirms the optimistic ``item``. */
function settle(item, m) {
  S.outbox.splice(S.outbox.indexOf(item), 1);
  item.el.classList.remove("pending");
  item.el._k = sortKey(m);
  item.el.querySelector(".tm").textContent = clock(m.created_at);
  item.el.remove();
  S.byId.set(m.id, { m, el: item.el });
  place(item.el);
  if (!S.ticket) {
    S.ticket = m.ticket_id;
    // The first message stored this visitor: now tell where it is (agents' panel, push links).
    if (!S.placed && S.page) rest("PATCH", "/widget/visitor", { page: page() }).catch(() => {});
    S.placed = true;
  }
  toHost({ type: "active", value: true });
  showPush();
  paintReceipts();
}

// -- composing ------------------------------------------------------------------------------
function stopTyping() {
  clearTimeout(S.typingStop);
  if (S.typingOn && S.socket && S.socket.connected && S.ticket) {
    S.socket.emit("typing", { ticket_id: S.ticket, typing: false });
  }
  S.typingOn = false;
}

input.addEventListener("input", () => {
  if (!input.value.trim()) {
    stopTyping();
    return;
  }
  const socket = S.socket;
  if (!S.ticket || !socket || !socket.connected) return;
  const now = Date.now();
  if (!S.typingOn || now - S.typingAt > TYPING_REFRESH_MS) {
    socket.emit("typing", { ticket_id: S.ticket, typing: true });
    S.typingOn = true;
    S.typingAt = now;
  }
  clearTimeout(S.typingStop);
  S.typingStop = setTimeout(stopTyping, TYPING_IDLE_MS);
});

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  send(input.value);
  input.value = "";
  input.focus();
});

closeBtn.addEventListener("click", () => toHost({ type: "close" }));

// Keyboard: Esc closes; Tab stays inside the widget while it is open.
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    toHost({ type: "close" });
  } else if (event.key === "Tab" && EMBEDDED) {
    const focusable = [...shell.querySelectorAll("button, input, textarea, a[href], [tabindex='0']")].filter(
      (el) => !el.disabled && el.getClientRects().length > 0,
    );
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }
});

applyLocale();
if (EMBEDDED) toHost({ type: "hello" });
else start();
