// The inbox: the live ticket list, the open conversation and the visitor panel.
import { api, ApiError, errorText, optional, qs } from "./api";
import { debounce, fill, formatDateTime, formatTime, h, uuid } from "./dom";
import { alertAgent, setUnread } from "./notify";
import {
  Agent,
  call,
  isManager,
  listen,
  Message,
  siteName,
  state,
  Ticket,
  visitorLabel,
} from "./state";
import { toast } from "./toast";

type Status = Ticket["status"];
const STATUSES: Status[] = ["bot", "open", "pending", "resolved"];
const ASSIGNEES = [
  ["unassigned", "Unassigned"],
  ["me", "Mine"],
  ["all", "All"],
] as const;
const PAGE = 25;
const TYPING_SHOW_MS = 6000;

interface Pending {
  client_id: string;
  ticket_id: string;
  body: string;
  kind: "text" | "note";
  state: "sending" | "retrying" | "failed";
  attempts: number;
  error?: string;
  created_at: string;
}

const filters = { status: "open" as Status, assignee: "all", site_id: "", q: "" };
const tickets = new Map<string, Ticket>();
let order: string[] = [];
let cursor: string | null = null;
let exhausted = false;
let loading = false;
let loadGeneration = 0;
let searchUnsupported = false;

// The open conversation.
let current: string | null = null;
let messages: Message[] = [];
let hasMore = false;
let loadingOlder = false;
let visitorReadSeq = 0;
let visitorDeliveredSeq = 0;
const typingFrom = new Map<string, { name: string; until: number }>();
const pending = new Map<string, Pending>();
/** Unsent text per ticket, kept while the agent looks at other conversations. */
const drafts = new Map<string, string>();
let canned: { id: string; shortcut: string; title: string; body: string }[] | null = null;

// DOM of the mounted inbox.
let root: HTMLElement | null = null;
let listEl: HTMLElement;
let listStatus: HTMLElement;
let convEl: HTMLElement;
let visitorEl: HTMLElement;
let headEl: HTMLElement;
let msgsEl: HTMLElement;
let typingEl: HTMLElement;
let composer: HTMLTextAreaElement;
let pickerEl: HTMLElement;
let noteMode = false;
let pickerIndex = 0;
let unsubscribe: (() => void) | null = null;
let typingTimer: number | undefined;
let typingSentAt = 0;

// ---------------------------------------------------------------- mounting

export function mountInbox(container: HTMLElement, ticketId: string | null): void {
  if (root && container.contains(root)) {
    openTicket(ticketId);
    return;
  }
  root = h("div", { class: "inbox" });
  listEl = h("ul", { class: "tickets", role: "listbox", "aria-label": "Tickets" });
  listStatus = h("div", { class: "list-status" });
  const listScroll = h("div", { class: "list-scroll", onScroll: onListScroll }, listEl, listStatus);
  convEl = h("section", { class: "conv-pane", "aria-label": "Conversation" });
  visitorEl = h("aside", { class: "visitor-pane", "aria-label": "Visitor" });
  fill(
    root,
    h("aside", { class: "list-pane" }, renderFilters(), listScroll),
    convEl,
    visitorEl,
  );
  fill(container, root);
  unsubscribe?.();
  unsubscribe = listen(onEvent);
  void reload();
  if (canned === null) void loadCanned();
  current = null;
  openTicket(ticketId);
}

export function unmountInbox(): void {
  unsubscribe?.();
  unsubscribe = null;
  if (current) void call("ticket:leave", { ticket_id: current }).catch(() => undefined);
  current = null;
  root = null;
}

function renderFilters(): HTMLElement {
  const search = h("input", {
    type: "search",
    class: "search",
    placeholder: "Search name, e-mail, ticket id, text",
    "aria-label": "Search tickets",
    value: filters.q,
    onInput: debounce((e: Event) => {
      filters.q = (e.target as HTMLInputElement).value.trim();
      void reload();
    }, 300),
  });
  const statusTabs = h(
    "div",
    { class: "tabs status-tabs", role: "tablist", "aria-label": "Status" },
    STATUSES.map((st) =>
      h(
        "button",
        {
          type: "button",
          role: "tab",
          "data-status": st,
          "aria-selected": String(filters.status === st),
          onClick: () => {
            filters.status = st;
            refreshTabs();
            void reload();
          },
        },
        st[0].toUpperCase() + st.slice(1),
      ),
    ),
  );
  const assigneeTabs = h(
    "div",
    { class: "tabs assignee-tabs", role: "tablist", "aria-label": "Assignee" },
    ASSIGNEES.map(([value, label]) =>
      h(
        "button",
        {
          type: "button",
          role: "tab",
          "data-assignee": value,
          "aria-selected": String(filters.assignee === value),
          onClick: () => {
            filters.assignee = value;
            refreshTabs();
            void reload();
          },
        },
        label,
      ),
    ),
  );
  const siteSelect = h(
    "select",
    {
      class: "site-filter",
      "aria-label": "Site",
      onChange: (e: Event) => {
        filters.site_id = (e.target as HTMLSelectElement).value;
        void reload();
      },
    },
    h("option", { value: "" }, "All sites"),
    state.sites.map((s) => h("option", { value: s.id, selected: filters.site_id === s.id }, s.name)),
  );
  return h("div", { class: "filters" }, search, statusTabs, h("div", { class: "row" }, assigneeTabs, siteSelect));
}

function refreshTabs(): void {
  root?.querySelectorAll<HTMLElement>(".status-tabs [data-status]").forEach((b) => {
    b.setAttribute("aria-selected", String(b.dataset.status === filters.status));
  });
  root?.querySelectorAll<HTMLElement>(".assignee-tabs [data-assignee]").forEach((b) => {
    b.setAttribute("aria-selected", String(b.dataset.assignee === filters.assignee));
  });
}

// ---------------------------------------------------------------- the list

async function reload(): Promise<void> {
  order = [];
  cursor = null;
  exhausted = false;
  loading = false;
  loadGeneration++;
  renderList();
  await loadMore();
}

async function loadMore(): Promise<void> {
  if (loading || exhausted) return;
  loading = true;
  const generation = loadGeneration;
  renderListStatus();
  const params: Record<string, string | number | null> = {
    status: filters.status,
    assignee: filters.assignee === "all" ? null : filters.assignee,
    site_id: filters.site_id || null,
    q: filters.q || null,
    cursor,
    limit: PAGE,
  };
  try {
    const page = await api<{ tickets: Ticket[]; next_cursor: string | null }>("GET", "/tickets" + qs(params));
    if (generation !== loadGeneration) return;
    searchUnsupported = false;
    for (const t of page.tickets) {
      tickets.set(t.id, t);
      if (!order.includes(t.id)) order.push(t.id);
    }
    cursor = page.next_cursor;
    exhausted = !cursor;
  } catch (err) {
    if (generation !== loadGeneration) return;
    exhausted = true;
    if (filters.q && err instanceof ApiError && err.status === 422) searchUnsupported = true;
    else toast(errorText(err), "error");
  } finally {
    if (generation === loadGeneration) loading = false;
  }
  renderList();
  updateTitle();
  // Fill the pane: keep loading while the sentinel is still in view.
  const scroller = listEl.parentElement;
  if (scroller && !exhausted && scroller.scrollHeight <= scroller.clientHeight + 40) void loadMore();
}

/** After a (re)connect: merge the newest page into the list without clearing it. */
async function refresh(): Promise<void> {
  if (loading || filters.q) return;
  const generation = loadGeneration;
  const params = {
    status: filters.status,
    assignee: filters.assignee === "all" ? null : filters.assignee,
    site_id: filters.site_id || null,
    limit: PAGE,
  };
  try {
    const page = await api<{ tickets: Ticket[]; next_cursor: string | null }>("GET", "/tickets" + qs(params));
    if (generation !== loadGeneration) return;
    for (const t of page.tickets) upsert(t, true);
  } catch {
    /* the list stays as it was */
  }
}

function onListScroll(e: Event): void {
  const el = e.target as HTMLElement;
  if (el.scrollTop + el.clientHeight >= el.scrollHeight - 120) void loadMore();
}

function matches(t: Ticket): boolean {
  if (t.status !== filters.status) return false;
  if (filters.site_id && t.site_id !== filters.site_id) return false;
  if (filters.assignee === "me" && t.assignee?.id !== state.me?.id) return false;
  if (filters.assignee === "unassigned" && t.assignee) return false;
  return true;
}

function upsert(t: Ticket, created: boolean): void {
  const known = tickets.get(t.id);
  // Coalesced updates may arrive out of order with a REST answer: keep the newest.
  if (known && known.updated_at > t.updated_at && known.last_seq >= t.last_seq) return;
  if (t.id === current) t = { ...t, unread_count: document.hidden ? t.unread_count : 0 };
  tickets.set(t.id, t);
  const listed = order.includes(t.id);
  if (matches(t) && (listed || !filters.q || created)) {
    if (!listed) order.push(t.id);
    sortOrder();
  } else if (listed) {
    order = order.filter((id) => id !== t.id);
  }
  renderList();
  updateTitle();
  if (t.id === current) {
    renderHead();
    renderVisitor();
  }
}

/** Newest activity first, as the server pages them: (last_activity_at, id) descending. */
function sortOrder(): void {
  const key = (id: string) => {
    const t = tickets.get(id)!;
    return `${t.last_activity_at || t.updated_at}|${t.id}`;
  };
  order.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? 1 : ka > kb ? -1 : 0;
  });
}

function updateTitle(): void {
  let total = 0;
  for (const t of tickets.values()) if (t.status !== "resolved") total += t.unread_count || 0;
  setUnread(total);
}

function renderList(): void {
  if (!root) return;
  fill(listEl, order.map((id) => renderItem(tickets.get(id)!)));
  renderListStatus();
}

function renderListStatus(): void {
  let text = "";
  if (loading) text = "Loading…";
  else if (searchUnsupported) text = "Search is not available on this server yet.";
  else if (!order.length) text = filters.q ? "No ticket matches your search." : "No tickets here.";
  fill(listStatus, text);
}

/** The last words of a ticket for the list; system lines keep the previous text when known. */
const lastWords = new Map<string, Message>();

const wordsAsked = new Map<string, Promise<void>>();
const renderListSoon = debounce(() => renderList(), 100);

/** A system line is the last message (e.g. automatic routing): look up the words before it. */
function fetchLastWords(ticketId: string): Promise<void> {
  const asked = wordsAsked.get(ticketId);
  if (asked) return asked;
  const pending = api<{ messages: Message[] }>("GET", `/tickets/${encodeURIComponent(ticketId)}/messages${qs({ limit: 10 })}`)
    .then((page) => {
      const words = [...page.messages].reverse().find((m) => m.kind !== "event");
      if (words && !lastWords.has(ticketId)) {
        lastWords.set(ticketId, words);
        renderListSoon();
        if (visitorDetails?.tickets?.some((x) => x.id === ticketId)) renderVisitor();
      }
    })
    .catch(() => undefined);
  wordsAsked.set(ticketId, pending);
  return pending;
}

async function alertNewTicket(t: Ticket): Promise<void> {
  if (!document.hidden) return;
  if (t.last_message?.kind === "event" && !lastWords.has(t.id)) await fetchLastWords(t.id);
  alertAgent(`New conversation: ${visitorLabel(t.visitor)}`, preview(t.last_message, t.id), t.id);
}

function preview(m: Message | null, ticketId?: string): string {
  if (ticketId && m && m.kind !== "event") lastWords.set(ticketId, m);
  if (ticketId && m && m.kind === "event") {
    if (lastWords.has(ticketId)) m = lastWords.get(ticketId)!;
    else void fetchLastWords(ticketId);
  }
  if (!m) return "No messages yet";
  const text = m.body.replace(/\s+/g, " ").slice(0, 120);
  if (m.kind === "note") return `Note: ${text}`;
  if (m.kind === "event") return `· ${text}`;
  if (m.sender.type === "agent") return `${m.sender.id === state.me?.id ? "You" : m.sender.name || "Agent"}: ${text}`;
  if (m.sender.type === "bot") return `Bot: ${text}`;
  return text;
}

function renderItem(t: Ticket): HTMLElement {
  const online = t.visitor.status === "online";
  return h(
    "li",
    {
      class: "ticket" + (t.id === current ? " selected" : "") + (t.unread_count ? " unread" : ""),
      role: "option",
      "aria-selected": String(t.id === current),
      "data-id": t.id,
      tabindex: "-1",
      onClick: () => {
        location.hash = `#/inbox/${t.id}`;
      },
    },
    h(
      "div",
      { class: "line1" },
      h("span", {
        class: "dot " + (online ? "online" : t.visitor.status === "away" ? "away" : "offline"),
        title: online ? "Visitor online" : "Visitor offline",
        "aria-label": online ? "online" : "offline",
      }),
      h("span", { class: "name" }, visitorLabel(t.visitor)),
      h("time", { datetime: t.last_activity_at || t.updated_at }, formatTime(t.last_activity_at || t.updated_at)),
    ),
    h(
      "div",
      { class: "line2" },
      h("span", { class: "preview" }, preview(t.last_message, t.id)),
      t.unread_count ? h("span", { class: "badge", "aria-label": "unread" }, String(t.unread_count)) : null,
    ),
    h(
      "div",
      { class: "line3" },
      state.sites.length > 1 ? h("span", { class: "site" }, siteName(t.site_id)) : null,
      h("span", { class: "assignee" }, t.assignee ? t.assignee.name : "Unassigned"),
    ),
  );
}

// ---------------------------------------------------------------- keyboard helpers

export function move(delta: number): void {
  if (!order.length) return;
  const index = current ? order.indexOf(current) : -1;
  const next = Math.min(order.length - 1, Math.max(0, index + delta));
  if (order[next] && order[next] !== current) location.hash = `#/inbox/${order[next]}`;
}

export function resolveCurrent(): void {
  if (current) void patchTicket({ status: "resolved" });
}

// ---------------------------------------------------------------- the conversation

function openTicket(ticketId: string | null): void {
  if (ticketId === current && ticketId) return;
  const previous = current;
  if (previous && composer) drafts.set(previous, composer.value);
  if (previous) void call("ticket:leave", { ticket_id: previous }).catch(() => undefined);
  current = ticketId;
  messages = [];
  hasMore = false;
  visitorReadSeq = 0;
  visitorDeliveredSeq = 0;
  typingFrom.clear();
  renderList();
  if (!ticketId) {
    fill(convEl, h("div", { class: "empty" }, h("p", null, "Pick a conversation on the left."), h("p", { class: "hint" }, "Press ? for keyboard shortcuts.")));
    fill(visitorEl);
    root?.classList.remove("has-conv");
    return;
  }
  root?.classList.add("has-conv");
  buildConversation();
  composer.value = drafts.get(ticketId) || "";
  void joinCurrent();
  root?.querySelector(`.ticket[data-id="${CSS.escape(ticketId)}"]`)?.scrollIntoView({ block: "nearest" });
}

async function joinCurrent(): Promise<void> {
  const id = current;
  if (!id) return;
  try {
    const ack = await call<any>("ticket:join", { ticket_id: id });
    if (id !== current) return;
    if (!ack.ok) throw new Error(ack.error?.message || "Cannot open this ticket.");
    tickets.set(id, ack.ticket);
    messages = [];
    addMessages(ack.messages || []);
    hasMore = Boolean(ack.has_more);
  } catch (err) {
    // The socket may still be connecting: fall back to REST for the first view.
    try {
      const [t, page] = await Promise.all([
        api<{ ticket: Ticket }>("GET", `/tickets/${encodeURIComponent(id)}`),
        api<{ messages: Message[]; has_more: boolean }>("GET", `/tickets/${encodeURIComponent(id)}/messages`),
      ]);
      if (id !== current) return;
      tickets.set(id, t.ticket);
      messages = [];
      addMessages(page.messages);
      hasMore = page.has_more;
    } catch (err2) {
      if (id !== current) return;
      fill(convEl, h("div", { class: "empty error" }, errorText(err2 instanceof ApiError ? err2 : err)));
      return;
    }
  }
  // Where the visitor has read up to, when the server says (else "Seen" starts with `read`).
  const visitorPart = tickets.get(id)?.participants.find((p) => p.type === "visitor");
  visitorReadSeq = Math.max(visitorReadSeq, visitorPart?.read_seq || 0);
  renderHead();
  renderMessages(true);
  renderVisitor();
  markRead();
  void loadVisitorDetails();
}

function buildConversation(): void {
  headEl = h("header", { class: "conv-head" });
  msgsEl = h("div", { class: "messages", role: "log", "aria-live": "polite", onScroll: onMessagesScroll });
  typingEl = h("div", { class: "typing-line", "aria-live": "polite" });
  pickerEl = h("ul", { class: "canned-picker", role: "listbox", hidden: true });
  composer = h("textarea", {
    class: "composer-input",
    rows: "3",
    placeholder: "Reply… (Enter sends, Shift+Enter adds a line, / for canned responses)",
    "aria-label": "Message",
    onKeydown: onComposerKey,
    onInput: onComposerInput,
  });
  const replyTab = h("button", { type: "button", class: "mode reply", "aria-pressed": "true" }, "Reply");
  const noteTab = h("button", { type: "button", class: "mode note", "aria-pressed": "false" }, "Private note");
  const setMode = (note: boolean) => {
    noteMode = note;
    replyTab.setAttribute("aria-pressed", String(!note));
    noteTab.setAttribute("aria-pressed", String(note));
    composerBox.classList.toggle("noting", note);
    composer.placeholder = note
      ? "Private note: only agents see it (Enter saves)"
      : "Reply… (Enter sends, Shift+Enter adds a line, / for canned responses)";
    composer.focus();
  };
  replyTab.addEventListener("click", () => setMode(false));
  noteTab.addEventListener("click", () => setMode(true));
  const sendBtn = h("button", { type: "button", class: "primary send", onClick: () => submitComposer() }, "Send");
  const composerBox = h(
    "div",
    { class: "composer" },
    h("div", { class: "modes" }, replyTab, noteTab),
    pickerEl,
    composer,
    h("div", { class: "composer-actions" }, sendBtn),
  );
  noteMode = false;
  fill(
    convEl,
    h("div", { class: "conv" }, headEl, msgsEl, typingEl, composerBox),
  );
  fill(msgsEl, h("div", { class: "loading" }, "Loading…"));
  fill(visitorEl);
}

function ticketOf(): Ticket | undefined {
  return current ? tickets.get(current) : undefined;
}

function renderHead(): void {
  const t = ticketOf();
  if (!t || !headEl) return;
  const me = state.me!;
  const mine = t.assignee?.id === me.id;
  const agentOptions = state.agents.filter((a) => a.active !== false);
  const assignSelect = h(
    "select",
    {
      class: "assign",
      "aria-label": "Assign to",
      onChange: (e: Event) => {
        const value = (e.target as HTMLSelectElement).value;
        if (value === "__none") void patchTicket({ assignee_id: null });
        else if (value) void patchTicket({ assignee_id: value });
      },
    },
    h("option", { value: "" }, t.assignee ? `Assigned: ${t.assignee.name}` : "Assign to…"),
    agentOptions.filter((a) => a.id !== t.assignee?.id).map((a) => h("option", { value: a.id }, a.name + (a.id === me.id ? " (me)" : ""))),
    t.assignee ? h("option", { value: "__none" }, "Unassign") : null,
  );
  const invitees = agentOptions.filter(
    (a) => a.id !== t.assignee?.id && !t.participants.some((p) => p.type === "agent" && p.id === a.id && p.role !== "observer"),
  );
  const inviteSelect = h(
    "select",
    {
      class: "invite",
      "aria-label": "Invite a collaborator",
      onChange: (e: Event) => {
        const value = (e.target as HTMLSelectElement).value;
        if (value) void invite(value);
      },
    },
    h("option", { value: "" }, "Invite…"),
    invitees.map((a) => h("option", { value: a.id }, a.name)),
  );
  const collaborators = t.participants.filter(
    (p) => p.type === "agent" && p.id !== t.assignee?.id && (p.role || "collaborator") === "collaborator",
  );
  const statusButtons: HTMLElement[] = [];
  if (t.status === "resolved") {
    statusButtons.push(h("button", { type: "button", class: "reopen", onClick: () => patchTicket({ status: "open" }) }, "Reopen"));
  } else {
    if (t.status !== "pending")
      statusButtons.push(h("button", { type: "button", class: "pending", onClick: () => patchTicket({ status: "pending" }) }, "Pending"));
    else statusButtons.push(h("button", { type: "button", class: "reopen", onClick: () => patchTicket({ status: "open" }) }, "Reopen"));
    statusButtons.push(h("button", { type: "button", class: "primary resolve", onClick: () => patchTicket({ status: "resolved" }) }, "Resolve"));
  }
  fill(
    headEl,
    h(
      "div",
      { class: "who" },
      h("a", { href: "#/inbox", class: "back", "aria-label": "Back to the list" }, "‹"),
      h("h2", null, visitorLabel(t.visitor)),
      h("span", { class: `status-badge ${t.status}`, "data-status": t.status }, t.status),
      h("span", { class: "assignee-label" }, t.assignee ? `Assigned to ${t.assignee.name}` : "Unassigned"),
      h("button", { type: "button", class: "visitor-toggle", onClick: () => root?.classList.toggle("show-visitor") }, "Visitor"),
    ),
    h(
      "div",
      { class: "actions" },
      !mine ? h("button", { type: "button", class: "claim", onClick: () => patchTicket({ assignee_id: me.id }) }, "Claim") : null,
      assignSelect,
      inviteSelect,
      statusButtons,
    ),
    collaborators.length
      ? h(
          "div",
          { class: "participants" },
          "Collaborators: ",
          collaborators.map((p) =>
            h(
              "span",
              { class: "chip" },
              p.name,
              h("button", { type: "button", "aria-label": `Remove ${p.name}`, onClick: () => uninvite(p.id) }, "×"),
            ),
          ),
        )
      : null,
  );
}

async function patchTicket(body: Record<string, unknown>): Promise<void> {
  const id = current;
  if (!id) return;
  try {
    const answer = await api<{ ticket: Ticket }>("PATCH", `/tickets/${encodeURIComponent(id)}`, body);
    upsert(answer.ticket, false);
  } catch (err) {
    toast(errorText(err), "error");
    renderHead();
  }
}

async function invite(agentId: string): Promise<void> {
  if (!current) return;
  try {
    const answer = await api<{ ticket: Ticket }>("POST", `/tickets/${encodeURIComponent(current)}/participants`, { agent_id: agentId });
    upsert(answer.ticket, false);
  } catch (err) {
    toast(errorText(err), "error");
    renderHead();
  }
}

async function uninvite(agentId: string): Promise<void> {
  if (!current) return;
  try {
    const answer = await api<{ ticket: Ticket }>(
      "DELETE",
      `/tickets/${encodeURIComponent(current)}/participants/${encodeURIComponent(agentId)}`,
    );
    upsert(answer.ticket, false);
  } catch (err) {
    toast(errorText(err), "error");
  }
}

function addMessages(batch: Message[]): boolean {
  let added = false;
  for (const m of batch) {
    if (m.ticket_id !== current) continue;
    if (messages.some((x) => x.id === m.id || x.seq === m.seq)) continue;
    messages.push(m);
    added = true;
    if (m.client_id && m.sender.type === "agent" && m.sender.id === state.me?.id) pending.delete(m.client_id);
  }
  messages.sort((a, b) => a.seq - b.seq);
  return added;
}

function atBottom(): boolean {
  return msgsEl.scrollHeight - msgsEl.scrollTop - msgsEl.clientHeight < 60;
}

function renderMessages(scrollToEnd = false): void {
  if (!msgsEl) return;
  const stick = scrollToEnd || atBottom();
  // One receipt, under the team's last reply: Seen, Delivered (the widget got it) or Sent.
  const lastOwn = [...messages].reverse().find((m) => (m.sender.type === "agent" || m.sender.type === "bot") && m.kind === "text");
  const receipt = !lastOwn ? null : lastOwn.seq <= visitorReadSeq ? "Seen" : lastOwn.seq <= visitorDeliveredSeq ? "Delivered" : "Sent";
  const items: HTMLElement[] = [];
  if (hasMore) items.push(h("div", { class: "older" }, loadingOlder ? "Loading earlier messages…" : "Scroll up for earlier messages"));
  else if (messages.length) items.push(h("div", { class: "older start" }, "Start of the conversation"));
  let lastDay = "";
  for (const m of messages) {
    const day = new Date(m.created_at).toDateString();
    if (day !== lastDay) {
      items.push(h("div", { class: "day" }, new Date(m.created_at).toLocaleDateString([], { dateStyle: "medium" })));
      lastDay = day;
    }
    items.push(renderMessage(m, m === lastOwn ? receipt : null));
  }
  for (const p of pending.values()) if (p.ticket_id === current) items.push(renderPending(p));
  fill(msgsEl, items);
  if (stick) msgsEl.scrollTop = msgsEl.scrollHeight;
}

function renderMessage(m: Message, receipt: string | null): HTMLElement {
  if (m.kind === "event") {
    return h("div", { class: "msg event", "data-seq": String(m.seq) }, h("span", { class: "body" }, m.body), " · ", h("time", { datetime: m.created_at }, formatTime(m.created_at)));
  }
  const side = m.sender.type === "visitor" ? "visitor" : m.sender.type;
  const name = m.sender.name || (m.sender.type === "visitor" ? visitorLabel(ticketOf()!.visitor) : m.sender.type === "bot" ? "Bot" : "Agent");
  return h(
    "div",
    { class: `msg ${side}${m.kind === "note" ? " note" : ""}`, "data-seq": String(m.seq) },
    h("div", { class: "who" }, m.kind === "note" ? `${name} · private note` : name),
    h("div", { class: "body" }, m.body),
    h(
      "div",
      { class: "meta" },
      h("time", { datetime: m.created_at, title: formatDateTime(m.created_at) }, formatTime(m.created_at)),
      receipt ? h("span", { class: "receipt" }, receipt) : null,
    ),
  );
}

function renderPending(p: Pending): HTMLElement {
  const label = p.state === "failed" ? `Not sent${p.error ? `: ${p.error}` : ""}` : p.state === "retrying" ? "Retrying…" : "Sending…";
  return h(
    "div",
    { class: `msg agent pending ${p.state}${p.kind === "note" ? " note" : ""}`, "data-client-id": p.client_id },
    h("div", { class: "who" }, p.kind === "note" ? "You · private note" : "You"),
    h("div", { class: "body" }, p.body),
    h(
      "div",
      { class: "meta" },
      h("span", { class: "receipt" }, label),
      p.state === "failed"
        ? h("button", { type: "button", class: "retry", onClick: () => { p.attempts = 0; void attempt(p); } }, "Retry")
        : null,
    ),
  );
}

async function onMessagesScroll(): Promise<void> {
  if (!hasMore || loadingOlder || !current || msgsEl.scrollTop > 40 || !messages.length) return;
  loadingOlder = true;
  const id = current;
  const before = messages[0].seq;
  const height = msgsEl.scrollHeight;
  try {
    const page = await api<{ messages: Message[]; has_more: boolean }>(
      "GET",
      `/tickets/${encodeURIComponent(id)}/messages${qs({ before, limit: 50 })}`,
    );
    if (id !== current) return;
    addMessages(page.messages);
    hasMore = page.has_more;
  } catch (err) {
    toast(errorText(err), "error");
  } finally {
    loadingOlder = false;
  }
  renderMessages();
  msgsEl.scrollTop = msgsEl.scrollHeight - height;
}

function markRead(): void {
  const t = ticketOf();
  if (!t || document.hidden || !messages.length) return;
  const seq = messages[messages.length - 1].seq;
  t.unread_count = 0;
  renderList();
  updateTitle();
  void call("read", { ticket_id: t.id, seq }).catch(() => undefined);
}

export function onVisible(): void {
  if (root && current) markRead();
}

// ---------------------------------------------------------------- composing

function submitComposer(): void {
  const body = composer.value.trim();
  if (!body || !current) return;
  composer.value = "";
  drafts.delete(current);
  hidePicker();
  stopTyping();
  const p: Pending = {
    client_id: uuid(),
    ticket_id: current,
    body,
    kind: noteMode ? "note" : "text",
    state: "sending",
    attempts: 0,
    created_at: new Date().toISOString(),
  };
  pending.set(p.client_id, p);
  renderMessages(true);
  void attempt(p);
}

const RETRYABLE = new Set(["unavailable", "rate_limited"]);
const MAX_AUTO_ATTEMPTS = 4;

async function attempt(p: Pending): Promise<void> {
  p.state = p.attempts ? "retrying" : "sending";
  rerenderPending();
  p.attempts++;
  let retry = false;
  try {
    const ack = await call<any>("message:send", {
      ticket_id: p.ticket_id,
      client_id: p.client_id,
      body: p.body,
      kind: p.kind,
    });
    if (ack && ack.ok) {
      pending.delete(p.client_id);
      if (p.ticket_id === current && addMessages([ack.message])) renderMessages(true);
      else rerenderPending();
      return;
    }
    const error = ack?.error || {};
    if (RETRYABLE.has(error.code)) retry = true;
    else {
      p.state = "failed";
      p.error = error.message || "refused";
    }
  } catch (err) {
    if ((err as Error).message === "offline") {
      // Not sent at all: resent as soon as the socket is back (see onEvent "connect").
      p.attempts--;
      p.state = "retrying";
      rerenderPending();
      return;
    }
    retry = true; // timed out: the same client_id makes the resend safe
  }
  if (retry) {
    if (p.attempts < MAX_AUTO_ATTEMPTS) {
      p.state = "retrying";
      window.setTimeout(() => {
        if (pending.has(p.client_id)) void attempt(p);
      }, 1000 * 2 ** (p.attempts - 1));
    } else {
      p.state = "failed";
      p.error = "no answer from the server";
    }
  }
  rerenderPending();
}

function rerenderPending(): void {
  if (root && current) renderMessages();
}

function onComposerKey(e: KeyboardEvent): void {
  if (!pickerEl.hidden) {
    const items = pickerEl.querySelectorAll("li");
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      pickerIndex = (pickerIndex + (e.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
      highlightPicker();
      return;
    }
    if ((e.key === "Enter" || e.key === "Tab") && items.length) {
      e.preventDefault();
      (items[pickerIndex] as HTMLElement).click();
      return;
    }
    if (e.key === "Escape") {
      e.preventDefault();
      hidePicker();
      return;
    }
  }
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    submitComposer();
  }
}

function onComposerInput(): void {
  const value = composer.value;
  const match = /^\/([a-z0-9_-]*)$/i.exec(value);
  if (match && canned && canned.length) showPicker(match[1].toLowerCase());
  else hidePicker();
  if (match && canned === null) {
    // Not loaded yet, or the last load failed: load now and show the picker when they come.
    void loadCanned().then(() => {
      if (canned !== null && composer.value === value) onComposerInput();
    });
  }
  if (!noteMode && value.trim()) startTyping();
  else stopTyping();
}

function showPicker(prefix: string): void {
  const found = (canned || []).filter(
    (c) => c.shortcut.startsWith(prefix) || (c.title || "").toLowerCase().includes(prefix),
  );
  if (!found.length) return hidePicker();
  pickerIndex = Math.min(pickerIndex, found.length - 1);
  fill(
    pickerEl,
    found.slice(0, 8).map((c) =>
      h(
        "li",
        {
          role: "option",
          "data-shortcut": c.shortcut,
          onMousedown: (e: Event) => e.preventDefault(),
          onClick: () => {
            composer.value = c.body;
            hidePicker();
            composer.focus();
          },
        },
        h("strong", null, "/" + c.shortcut),
        " ",
        h("span", null, c.title || c.body.slice(0, 60)),
      ),
    ),
  );
  pickerEl.hidden = false;
  highlightPicker();
}

function highlightPicker(): void {
  pickerEl.querySelectorAll("li").forEach((li, i) => li.setAttribute("aria-selected", String(i === pickerIndex)));
}

function hidePicker(): void {
  if (pickerEl) pickerEl.hidden = true;
  pickerIndex = 0;
}

async function loadCanned(): Promise<void> {
  try {
    const answer = await optional<{ canned_responses: typeof canned }>("GET", "/canned-responses");
    canned = answer ? answer.canned_responses || [] : [];
  } catch {
    canned = null; // tried again when the agent next types "/"
  }
}

export function cannedChanged(): void {
  canned = null;
  void loadCanned();
}

function startTyping(): void {
  if (!current) return;
  const now = Date.now();
  if (now - typingSentAt > 2500) {
    typingSentAt = now;
    state.socket?.emit("typing", { ticket_id: current, typing: true });
  }
  window.clearTimeout(typingTimer);
  typingTimer = window.setTimeout(stopTyping, 3000);
}

function stopTyping(): void {
  window.clearTimeout(typingTimer);
  if (typingSentAt && current) state.socket?.emit("typing", { ticket_id: current, typing: false });
  typingSentAt = 0;
}

function renderTyping(): void {
  if (!typingEl) return;
  const now = Date.now();
  const names = [...typingFrom.values()].filter((t) => t.until > now).map((t) => t.name);
  fill(typingEl, names.length ? `${names.join(", ")} ${names.length > 1 ? "are" : "is"} typing…` : "");
}

// ---------------------------------------------------------------- the visitor panel

let visitorDetails: { visitor: any; tickets: Ticket[] } | null | undefined;

async function loadVisitorDetails(): Promise<void> {
  const t = ticketOf();
  if (!t) return;
  const id = t.id;
  visitorDetails = undefined;
  try {
    visitorDetails = await optional("GET", `/visitors/${encodeURIComponent(t.visitor.id)}`);
  } catch {
    visitorDetails = null;
  }
  if (id === current) renderVisitor();
}

function browserOf(ua: string | null | undefined): string {
  if (!ua) return "—";
  const rules: [RegExp, string][] = [
    [/Edg\/(\d+)/, "Edge"],
    [/OPR\/(\d+)/, "Opera"],
    [/Firefox\/(\d+)/, "Firefox"],
    [/Chrome\/(\d+)/, "Chrome"],
    [/Version\/(\d+).*Safari/, "Safari"],
  ];
  const os = /Windows/.test(ua) ? "Windows" : /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS X/.test(ua) ? "macOS" : /Linux/.test(ua) ? "Linux" : "";
  for (const [re, name] of rules) {
    const m = re.exec(ua);
    if (m) return `${name} ${m[1]}${os ? " on " + os : ""}`;
  }
  return ua.slice(0, 60);
}

function renderVisitor(): void {
  const t = ticketOf();
  if (!t || !visitorEl) return;
  const v = { ...t.visitor, ...(visitorDetails?.visitor || {}), status: t.visitor.status };
  const row = (label: string, value: Node | string | null | undefined) =>
    h("div", { class: "field" }, h("dt", null, label), h("dd", null, value || "—"));
  let page: Node | string | null = v.current_url;
  if (v.current_url && /^https?:\/\//i.test(v.current_url)) {
    page = h("a", { href: v.current_url, target: "_blank", rel: "noopener noreferrer" }, v.current_url);
  }
  const attributes = Object.entries(v.attributes || {}).map(([k, val]) => row(k, String(val)));
  const earlier = (visitorDetails?.tickets || []).filter((x) => x.id !== t.id);
  fill(
    visitorEl,
    h(
      "div",
      { class: "visitor-card" },
      h("button", { type: "button", class: "visitor-toggle close-drawer", "aria-label": "Close the visitor panel", onClick: () => root?.classList.remove("show-visitor") }, "×"),
      h("h3", null, h("span", { class: "dot " + (v.status === "online" ? "online" : "offline") }), visitorLabel(v)),
      h(
        "dl",
        null,
        row("E-mail", v.email),
        row("External id", v.external_id),
        row("Current page", page),
        row("Status", v.status === "online" ? "Online now" : `Last seen ${formatDateTime(v.last_seen_at)}`),
        visitorDetails ? row("Browser", browserOf(v.user_agent)) : null,
        visitorDetails ? row("First seen", formatDateTime(v.first_seen_at)) : null,
        t.rating ? row("Rating", `${"★".repeat(t.rating.score)}${"☆".repeat(5 - t.rating.score)}${t.rating.comment ? ` “${t.rating.comment}”` : ""}`) : null,
        row("Site", siteName(t.site_id)),
        row("Ticket", t.id),
        attributes,
      ),
      visitorDetails
        ? h(
            "div",
            { class: "earlier" },
            h("h4", null, "Earlier tickets"),
            earlier.length
              ? h(
                  "ul",
                  null,
                  earlier.map((x) =>
                    h(
                      "li",
                      null,
                      h("a", { href: `#/inbox/${x.id}` }, `${formatDateTime(x.created_at)} · ${x.status}`),
                      h("div", { class: "preview" }, preview(x.last_message, x.id)),
                    ),
                  ),
                )
              : h("p", { class: "muted" }, "None."),
          )
        : null,
      visitorDetails ? privacyActions(v.id) : null,
    ),
  );
}

/** Owners and admins: download everything stored about the visitor, or erase it. */
function privacyActions(visitorId: string): HTMLElement | null {
  if (!isManager()) return null;
  const path = `/visitors/${encodeURIComponent(visitorId)}`;
  const erase = h("button", { type: "button", class: "danger" }, "Delete visitor");
  erase.addEventListener("click", async () => {
    if (!window.confirm("Delete this visitor and all their conversations? This cannot be undone.")) return;
    erase.disabled = true;
    try {
      await api("DELETE", path);
      for (const [id, t] of tickets) if (t.visitor.id === visitorId) tickets.delete(id);
      toast("Visitor deleted.");
      location.hash = "#/inbox";
      await reload();
    } catch (err) {
      toast(errorText(err), "error");
      erase.disabled = false;
    }
  });
  const download = h("a", { class: "button", href: `/api/v1${path}/export`, download: `visitor-${visitorId}.json` }, "Export data");
  return h("div", { class: "privacy" }, h("h4", null, "Privacy"), download, " ", erase);
}

// ---------------------------------------------------------------- live events

function onEvent(event: string, data: any): void {
  switch (event) {
    case "connect":
      // Resend what was waiting for the connection (same client_id: never a duplicate).
      for (const p of pending.values()) if (p.state === "retrying") void attempt(p);
      if (current) void rejoin();
      void refresh();
      break;
    case "ticket:created":
      upsert(data.ticket, true);
      void alertNewTicket(data.ticket);
      break;
    case "ticket:updated":
      upsert(data.ticket, false);
      break;
    case "message:new": {
      const m: Message = data.message;
      if (m.ticket_id === current && addMessages([m])) {
        typingFrom.delete(`${m.sender.type}:${m.sender.id}`);
        renderTyping();
        renderMessages();
        markRead();
      }
      if (m.sender.type === "visitor") alertAgent(`Message from ${m.sender.name || "a visitor"}`, m.body, m.ticket_id);
      break;
    }
    case "typing": {
      if (data.ticket_id !== current) break;
      const sender = data.sender || {};
      if (sender.type === "agent" && sender.id === state.me?.id) break;
      const key = `${sender.type}:${sender.id}`;
      if (data.typing) {
        const name = sender.name || (sender.type === "visitor" ? visitorLabel(ticketOf()!.visitor) : "An agent");
        typingFrom.set(key, { name, until: Date.now() + TYPING_SHOW_MS });
        window.setTimeout(renderTyping, TYPING_SHOW_MS + 50);
      } else typingFrom.delete(key);
      renderTyping();
      break;
    }
    case "read":
    case "delivered":
      if (data.ticket_id === current && data.reader?.type === "visitor") {
        if (event === "read") visitorReadSeq = Math.max(visitorReadSeq, data.seq);
        visitorDeliveredSeq = Math.max(visitorDeliveredSeq, data.seq);
        renderMessages();
      }
      break;
    case "presence": {
      const subject = data.subject || {};
      if (subject.type === "visitor") {
        let changed = false;
        for (const t of tickets.values()) {
          if (t.visitor.id === subject.id && t.visitor.status !== data.status) {
            t.visitor = { ...t.visitor, status: data.status, last_seen_at: data.last_seen_at };
            changed = true;
          }
        }
        if (changed) {
          renderList();
          if (ticketOf()?.visitor.id === subject.id) renderVisitor();
        }
      } else if (subject.type === "agent") {
        const agent = state.agents.find((a: Agent) => a.id === subject.id);
        if (agent) agent.availability = data.status;
      }
      break;
    }
  }
}

async function rejoin(): Promise<void> {
  const id = current;
  if (!id) return;
  try {
    const ack = await call<any>("ticket:join", { ticket_id: id });
    if (!ack.ok || id !== current) return;
    tickets.set(id, ack.ticket);
    addMessages(ack.messages || []);
    const last = messages.length ? messages[messages.length - 1].seq : 0;
    const synced = await call<any>("sync", { tickets: { [id]: last } });
    if (synced.ok && id === current) addMessages(synced.messages || []);
    renderHead();
    renderMessages();
  } catch {
    /* the next connect tries again */
  }
}
