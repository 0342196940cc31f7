// The console's shell: sign-in, the top bar, routing between pages, availability, shortcuts.
import { api, ApiError, errorText, optional, setCsrf } from "./api";
import { fill, h, isTyping } from "./dom";
import { mountInbox, move, onVisible, resolveCurrent, unmountInbox } from "./inbox";
import { askPermission, notificationPermission, notificationsSupported, setBaseTitle, setUnread, unlockSound } from "./notify";
import { mountReports } from "./reports";
import { mountSettings } from "./settings";
import { Agent, call, connectSocket, disconnectSocket, listen, state } from "./state";
import { toast } from "./toast";

const HEARTBEAT_MS = 15_000;
const app = document.getElementById("app")!;
let heartbeat: number | undefined;
let page: "inbox" | "settings" | "reports" | null = null;
let main: HTMLElement;
let availabilityBtn: HTMLButtonElement;
let connectionEl: HTMLElement;

// ---------------------------------------------------------------- boot and sign-in

async function boot(): Promise<void> {
  try {
    const me = await api<{ agent: Agent; csrf_token: string | null }>("GET", "/auth/me");
    setCsrf(me.csrf_token);
    await enter(me.agent);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) showLogin(location.hash === "#/signup");
    else showFatal(errorText(err));
  }
}

function showFatal(text: string): void {
  fill(app, h("div", { class: "auth-page" }, h("div", { class: "auth-card" }, h("h1", null, "Parley"), h("p", { class: "error" }, text), h("button", { type: "button", onClick: () => location.reload() }, "Try again"))));
}

function field(label: string, input: HTMLInputElement): HTMLElement {
  return h("label", { class: "field" }, h("span", null, label), input);
}

function showLogin(signup: boolean): void {
  page = null;
  setBaseTitle(signup ? "Sign up · Parley" : "Sign in · Parley");
  setUnread(0);
  const error = h("p", { class: "error", role: "alert" });
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: signup ? "new-password" : "current-password", required: true, minlength: signup ? "8" : null });
  const workspace = h("input", { type: "text", name: "workspace_name", required: true, maxlength: "100" });
  const name = h("input", { type: "text", name: "name", autocomplete: "name", required: true, maxlength: "100" });
  const submit = h("button", { type: "submit", class: "primary" }, signup ? "Create workspace" : "Sign in");
  const sso = h("div", { class: "sso", hidden: true });
  const form = h(
    "form",
    {
      class: "auth-card",
      onSubmit: async (e: Event) => {
        e.preventDefault();
        submit.disabled = true;
        error.textContent = "";
        try {
          if (signup) {
            await api("POST", "/auth/signup", {
              workspace_name: workspace.value,
              name: name.value,
              email: email.value,
              password: password.value,
            });
          }
          const result = await api<{ agent: Agent; csrf_token: string }>("POST", "/auth/login", {
            email: email.value,
            password: password.value,
          });
          setCsrf(result.csrf_token);
          if (location.hash === "#/signup" || location.hash === "#/login") location.hash = "#/inbox";
          await enter(result.agent);
        } catch (err) {
          error.textContent = err instanceof ApiError && err.status === 401 ? "Wrong e-mail or password." : errorText(err);
          submit.disabled = false;
        }
      },
    },
    h("h1", null, "Parley"),
    h("p", { class: "muted" }, signup ? "Create a workspace for your team." : "Sign in to the agent console."),
    signup ? [field("Workspace name", workspace), field("Your name", name)] : null,
    field("E-mail", email),
    field("Password", password),
    error,
    submit,
    sso,
    h(
      "p",
      { class: "switch" },
      signup
        ? h("a", { href: "#/login", onClick: (e: Event) => { e.preventDefault(); location.hash = "#/login"; showLogin(false); } }, "I already have an account")
        : h("a", { href: "#/signup", onClick: (e: Event) => { e.preventDefault(); location.hash = "#/signup"; showLogin(true); } }, "Create a new workspace"),
    ),
  );
  fill(app, h("main", { class: "auth-page" }, form));
  (signup ? workspace : email).focus();
  void optional<{ enabled: boolean; provider_name?: string }>("GET", "/auth/oidc")
    .then((oidc) => {
      if (!oidc || !oidc.enabled || signup) return;
      fill(
        sso,
        h("div", { class: "or" }, "or"),
        h("a", { class: "button sso-button", href: "/api/v1/auth/oidc/login" }, `Sign in with ${oidc.provider_name || "SSO"}`),
      );
      sso.hidden = false;
    })
    .catch(() => undefined);
}

async function enter(me: Agent): Promise<void> {
  state.me = me;
  const [sites, agents] = await Promise.all([
    api<{ sites: any[] }>("GET", "/sites"),
    api<{ agents: Agent[] }>("GET", "/agents"),
  ]);
  state.sites = sites.sites;
  state.agents = agents.agents;
  buildShell();
  connectSocket();
  startHeartbeat();
  route();
}

async function logout(): Promise<void> {
  try {
    await api("POST", "/auth/logout");
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) {
      toast(errorText(err), "error");
      return;
    }
  }
  window.clearInterval(heartbeat);
  unmountInbox();
  disconnectSocket();
  setCsrf(null);
  state.me = null;
  location.hash = "#/login";
  showLogin(false);
}

// ---------------------------------------------------------------- the shell

function buildShell(): void {
  const me = state.me!;
  availabilityBtn = h("button", { type: "button", class: "availability", onClick: toggleAvailability });
  connectionEl = h("span", { class: "connection", role: "status" });
  const notifyBtn = h("button", {
    type: "button",
    class: "notify-toggle",
    hidden: !notificationsSupported() || notificationPermission() !== "default",
    onClick: async () => {
      const result = await askPermission();
      notifyBtn.hidden = result !== "default";
      toast(result === "granted" ? "Desktop notifications are on." : "Notifications are blocked by the browser.");
    },
  }, "Enable notifications");
  const nav = h(
    "nav",
    { class: "nav", "aria-label": "Sections" },
    h("a", { href: "#/inbox", "data-page": "inbox" }, "Inbox"),
    h("a", { href: "#/settings", "data-page": "settings" }, "Settings"),
    h("a", { href: "#/reports", "data-page": "reports" }, "Reports"),
  );
  main = h("main", { class: "page" });
  fill(
    app,
    h(
      "header",
      { class: "topbar" },
      h("span", { class: "brand" }, "Parley"),
      nav,
      h("span", { class: "spacer" }),
      connectionEl,
      notifyBtn,
      availabilityBtn,
      h("span", { class: "me", title: me.email }, me.name, h("small", null, ` · ${me.role}`)),
      h("button", { type: "button", class: "logout", onClick: logout }, "Log out"),
      h("button", { type: "button", class: "help", "aria-label": "Keyboard shortcuts", onClick: toggleHelp }, "?"),
    ),
    main,
  );
  renderAvailability();
  renderConnection();
  listen((event, data) => {
    if (event === "connect" || event === "disconnect" || event === "connect_error") renderConnection();
    if (event === "connect") void sendHeartbeat();
    if (event === "disconnect" && data === "io server disconnect") {
      // The server closed the socket on purpose (a revoked session): reconnect if still valid.
      api("GET", "/auth/me").then(
        () => state.socket?.connect(),
        (err) => {
          if (err instanceof ApiError && err.status === 401) signedOut();
        },
      );
    }
    if (event === "connect_error") {
      // Refused (e.g. the session was revoked) or the server is down: /auth/me tells which.
      api("GET", "/auth/me").catch((err) => {
        if (err instanceof ApiError && err.status === 401) signedOut();
      });
    }
    if (event === "presence" && data.subject?.type === "agent" && data.subject.id === state.me?.id) {
      if (data.status !== "offline" && state.me) {
        state.me.availability = data.status;
        renderAvailability();
      }
    }
  });
  document.addEventListener("click", unlockSound, { once: true });
}

function renderConnection(): void {
  if (!connectionEl) return;
  connectionEl.textContent = state.connected ? "" : "Reconnecting…";
  connectionEl.classList.toggle("offline", !state.connected);
}

function renderAvailability(): void {
  const online = state.me?.availability === "online";
  availabilityBtn.textContent = online ? "Online" : "Away";
  availabilityBtn.className = "availability " + (online ? "online" : "away");
  availabilityBtn.setAttribute("aria-pressed", String(online));
  availabilityBtn.title = online ? "Visitors see you as available. Click to go away." : "Click to go online.";
}

async function toggleAvailability(): Promise<void> {
  const next = state.me?.availability === "online" ? "away" : "online";
  try {
    const answer = await api<{ agent: Agent }>("PATCH", "/agents/me", { availability: next });
    state.me = { ...state.me!, ...answer.agent };
    renderAvailability();
    void sendHeartbeat();
  } catch (err) {
    toast(errorText(err), "error");
  }
}

function sendHeartbeat(): Promise<void> {
  // No status: the server combines this connection's liveness with the agent's stored choice
  // (online or away) and answers with the resulting status, which the toggle shows.
  return call<{ ok: boolean; status?: string }>("presence:heartbeat", {}).then(
    (ack) => {
      if (ack.ok && state.me && (ack.status === "online" || ack.status === "away")) {
        state.me.availability = ack.status;
        renderAvailability();
      }
    },
    () => undefined,
  );
}

function startHeartbeat(): void {
  window.clearInterval(heartbeat);
  heartbeat = window.setInterval(sendHeartbeat, HEARTBEAT_MS);
}

// ---------------------------------------------------------------- routing

function route(): void {
  if (!state.me) return;
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  const name = parts[0] === "settings" || parts[0] === "reports" ? parts[0] : "inbox";
  main.parentElement?.querySelectorAll<HTMLElement>(".nav a").forEach((a) => {
    if (a.dataset.page === name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  if (name !== "inbox" && page === "inbox") unmountInbox();
  if (name === "inbox") {
    setBaseTitle("Inbox · Parley");
    mountInbox(main, parts[1] ? decodeURIComponent(parts[1]) : null);
  } else if (name === "settings") {
    setBaseTitle("Settings · Parley");
    mountSettings(main, parts[1] || "");
  } else {
    setBaseTitle("Reports · Parley");
    mountReports(main);
  }
  page = name;
}

function signedOut(): void {
  if (!state.me) return;
  window.clearInterval(heartbeat);
  unmountInbox();
  disconnectSocket();
  setCsrf(null);
  state.me = null;
  showLogin(false);
  toast("Your session has ended: please sign in again.", "error");
}

window.addEventListener("parley:signed-out", signedOut);

window.addEventListener("hashchange", () => {
  if (state.me) route();
  else showLogin(location.hash === "#/signup");
});

// ---------------------------------------------------------------- shortcuts

let helpEl: HTMLElement | null = null;

function toggleHelp(): void {
  if (helpEl) {
    helpEl.remove();
    helpEl = null;
    return;
  }
  const row = (key: string, what: string) => h("tr", null, h("td", null, h("kbd", null, key)), h("td", null, what));
  helpEl = h(
    "div",
    { class: "modal", role: "dialog", "aria-modal": "true", "aria-label": "Keyboard shortcuts", onClick: (e: Event) => { if (e.target === helpEl) toggleHelp(); } },
    h(
      "div",
      { class: "modal-card" },
      h("h2", null, "Keyboard shortcuts"),
      h(
        "table",
        null,
        row("j", "Next conversation"),
        row("k", "Previous conversation"),
        row("e", "Resolve the open conversation"),
        row("/", "Canned responses (in the composer)"),
        row("Enter", "Send (Shift+Enter: new line)"),
        row("?", "Show or hide this list"),
        row("Esc", "Close"),
      ),
      h("button", { type: "button", onClick: toggleHelp }, "Close"),
    ),
  );
  document.body.appendChild(helpEl);
}

document.addEventListener("keydown", (e) => {
  if (!state.me || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "Escape" && helpEl) {
    toggleHelp();
    return;
  }
  if (isTyping(e.target)) return;
  if (e.key === "?") {
    e.preventDefault();
    toggleHelp();
  } else if (page === "inbox" && (e.key === "j" || e.key === "k")) {
    e.preventDefault();
    move(e.key === "j" ? 1 : -1);
  } else if (page === "inbox" && e.key === "e") {
    e.preventDefault();
    resolveCurrent();
  }
});

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) onVisible();
});

void boot();
