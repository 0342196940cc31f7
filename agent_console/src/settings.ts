// Settings: the workspace, its agents and canned responses, and each site's widget, install
// snippet, business hours, pre-chat form, bot and FAQ, webhooks; push notifications.
import { api, ApiError, errorText, optional } from "./api";
import { renderAudit } from "./audit";
import { Child, fill, formatDateTime, h, s as svg } from "./dom";
import { cannedChanged } from "./inbox";
import { disablePush, enablePush, pushState } from "./push";
import { Agent, isManager, Site, state } from "./state";
import { toast } from "./toast";

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
const DAY_NAMES: Record<string, string> = { mon: "Mon", tue: "Tue", wed: "Wed", thu: "Thu", fri: "Fri", sat: "Sat", sun: "Sun" };
const LOCALES = ["en", "de", "fr", "es", "it", "nl", "pt", "sv", "da", "nb", "fi", "pl"];
const WEBHOOK_EVENTS = ["message.created", "ticket.created", "ticket.updated"];

interface Section {
  id: string;
  label: string;
  site?: boolean;
  render: (panel: HTMLElement, site: Site | null) => void | Promise<void>;
}

const SECTIONS: Section[] = [
  { id: "sites", label: "Sites", render: renderSites },
  { id: "appearance", label: "Appearance", site: true, render: renderAppearance },
  { id: "install", label: "Install", site: true, render: renderInstall },
  { id: "hours", label: "Business hours", site: true, render: renderHours },
  { id: "prechat", label: "Pre-chat form", site: true, render: renderPrechat },
  { id: "bot", label: "Bot & FAQ", site: true, render: renderBot },
  { id: "webhooks", label: "Webhooks", site: true, render: renderWebhooks },
  { id: "workspace", label: "Workspace & routing", render: renderWorkspace },
  { id: "agents", label: "Agents & roles", render: renderAgents },
  { id: "canned", label: "Canned responses", render: renderCanned },
  { id: "notifications", label: "Push notifications", render: renderPush },
  { id: "audit", label: "Audit log", render: renderAudit },
];

let siteId = "";

export function mountSettings(main: HTMLElement, sectionId: string): void {
  const section = SECTIONS.find((s) => s.id === sectionId) || SECTIONS[state.sites.length ? 1 : 0];
  if (!state.sites.some((s) => s.id === siteId)) siteId = state.sites[0]?.id || "";
  const link = (s: Section) =>
    h("a", { href: `#/settings/${s.id}`, "aria-current": s.id === section.id ? "page" : null }, s.label);
  const panel = h("div", { class: "panel-scroll" });
  fill(
    main,
    h(
      "div",
      { class: "settings" },
      h(
        "nav",
        { class: "side-nav", "aria-label": "Settings" },
        link(SECTIONS[0]),
        h("div", { class: "group" }, "Site"),
        SECTIONS.filter((s) => s.site).map(link),
        h("div", { class: "group" }, "Team"),
        SECTIONS.filter((s) => !s.site && s.id !== "sites").map(link),
      ),
      panel,
    ),
  );
  void show(panel, section);
}

async function show(panel: HTMLElement, section: Section): Promise<void> {
  fill(panel);
  let site: Site | null = null;
  if (section.site) {
    site = state.sites.find((s) => s.id === siteId) || null;
    if (!site) {
      fill(panel, card("No site yet", h("p", null, "Create a site first."), h("a", { class: "button primary", href: "#/settings/sites" }, "Create a site")));
      return;
    }
    panel.appendChild(
      h(
        "div",
        { class: "range" },
        h("label", { for: "site-pick" }, "Site"),
        h(
          "select",
          {
            id: "site-pick",
            onChange: (e: Event) => {
              siteId = (e.target as HTMLSelectElement).value;
              void show(panel, section);
            },
          },
          state.sites.map((s) => h("option", { value: s.id, selected: s.id === siteId }, s.name)),
        ),
      ),
    );
  }
  const body = h("div");
  panel.appendChild(body);
  try {
    await section.render(body, site);
  } catch (err) {
    fill(body, card(section.label, h("p", { class: "error" }, errorText(err))));
  }
}

// ---------------------------------------------------------------- small builders

function card(title: string, ...children: Child[]): HTMLElement {
  return h("section", { class: "card" }, h("h2", null, title), ...children);
}

function row(label: string, control: HTMLElement, id?: string): Child[] {
  const controlId = id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = controlId;
  return [h("label", { for: controlId }, label), control];
}

function input(value: string | null | undefined, attrs: Record<string, string> = {}): HTMLInputElement {
  return h("input", { type: "text", value: value ?? "", ...attrs });
}

async function saving(button: HTMLButtonElement, work: () => Promise<void>, done = "Saved."): Promise<void> {
  button.disabled = true;
  try {
    await work();
    toast(done);
  } catch (err) {
    toast(errorText(err), "error");
  } finally {
    button.disabled = false;
  }
}

function readOnlyNote(): Child {
  return isManager() ? null : h("p", { class: "muted" }, "Only owners and admins can change this.");
}

async function patchSite(site: Site, body: Record<string, unknown>): Promise<Site> {
  const answer = await api<{ site: Site }>("PATCH", `/sites/${encodeURIComponent(site.id)}`, body);
  Object.assign(site, answer.site);
  return site;
}

function linesOf(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
}

// ---------------------------------------------------------------- sites

function renderSites(panel: HTMLElement): void {
  const name = input("", { placeholder: "Acme Shoes", maxlength: "100" });
  const origins = h("textarea", { rows: "3", placeholder: "https://www.example.com" });
  const create = h("button", { type: "button", class: "primary" }, "Create site");
  create.addEventListener("click", () =>
    saving(create, async () => {
      const answer = await api<{ site: Site }>("POST", "/sites", { name: name.value, allowed_origins: linesOf(origins.value) });
      state.sites.push(answer.site);
      siteId = answer.site.id;
      location.hash = "#/settings/install";
    }, "Site created."),
  );
  fill(
    panel,
    card(
      "Sites",
      state.sites.length
        ? h(
            "table",
            { class: "grid" },
            h("thead", null, h("tr", null, h("th", null, "Name"), h("th", null, "Site key"), h("th", null, "Widget"))),
            h(
              "tbody",
              null,
              state.sites.map((s) =>
                h(
                  "tr",
                  null,
                  h("td", null, h("a", { href: "#/settings/appearance", onClick: () => (siteId = s.id) }, s.name)),
                  h("td", null, h("code", null, s.site_key)),
                  h("td", null, installedBadge(s)),
                ),
              ),
            ),
          )
        : h("p", { class: "muted" }, "No sites yet: create one to get the install snippet."),
    ),
    card(
      "New site",
      readOnlyNote(),
      h("div", { class: "form-grid" }, row("Name", name), row("Allowed origins (one per line)", origins)),
      h("div", { class: "form-actions" }, create),
    ),
  );
}

function installedBadge(site: Site): HTMLElement {
  const yes = Boolean(site.installed_at || site.installed);
  return h(
    "span",
    { class: `installed ${yes ? "yes" : "no"}`, "data-installed": String(yes) },
    yes ? `✓ Widget installed${site.installed_at ? ` (${formatDateTime(site.installed_at)})` : ""}` : "Not installed yet",
  );
}

// ---------------------------------------------------------------- appearance

function renderAppearance(panel: HTMLElement, site: Site | null): void {
  const s = site!;
  const st = s.settings || {};
  const name = input(s.name, { maxlength: "100" });
  const color = h("input", { type: "color", value: st.color || "#4f46e5" });
  const title = input(st.title, { maxlength: "60" });
  const greeting = h("textarea", { rows: "3", maxlength: "500" }, st.greeting || "");
  const position = h(
    "select",
    null,
    ["right", "left"].map((p) => h("option", { value: p, selected: st.position === p }, p === "right" ? "Bottom right" : "Bottom left")),
  );
  const localeList = LOCALES.includes(st.locale) ? LOCALES : [st.locale || "en", ...LOCALES];
  const locale = h("select", null, localeList.map((l) => h("option", { value: l, selected: (st.locale || "en") === l }, l)));
  const origins = h("textarea", { rows: "4", placeholder: "https://www.example.com" }, (s.allowed_origins || []).join("\n"));

  // A live mock of the widget that follows the form as it is edited.
  const mockHead = h("div", { class: "mock-head" });
  const mockTitle = h("strong");
  const mockGreeting = h("div", { class: "mock-bubble" });
  const mockLauncher = h(
    "div",
    { class: "mock-launcher", "aria-hidden": "true" },
    svg("svg", { viewBox: "0 0 24 24" }, svg("path", { d: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z" })),
  );
  const mock = h(
    "div",
    { class: "mock", "aria-label": "Live preview" },
    h("div", { class: "mock-panel" }, h("div", null, mockHead), h("div", { class: "mock-body" }, mockGreeting)),
    mockLauncher,
  );
  mockHead.appendChild(mockTitle);
  const update = () => {
    mockHead.style.background = color.value;
    mockLauncher.style.background = color.value;
    mockTitle.textContent = title.value || s.name;
    mockGreeting.textContent = greeting.value;
    mockGreeting.hidden = !greeting.value.trim();
    mock.classList.toggle("left", position.value === "left");
  };
  for (const el of [color, title, greeting, position]) el.addEventListener("input", update);
  update();

  const frame = h("iframe", {
    class: "preview-frame",
    title: "Widget preview",
    src: `/widget/frame?site_key=${encodeURIComponent(s.site_key)}&preview=1`,
  });
  const save = h("button", { type: "button", class: "primary" }, "Save");
  save.addEventListener("click", () =>
    saving(save, async () => {
      await patchSite(s, {
        name: name.value,
        allowed_origins: linesOf(origins.value),
        settings: { color: color.value, title: title.value, greeting: greeting.value, position: position.value, locale: locale.value },
      });
      frame.src = `/widget/frame?site_key=${encodeURIComponent(s.site_key)}&preview=${Date.now()}`;
    }),
  );
  fill(
    panel,
    card(
      "Appearance",
      readOnlyNote(),
      h(
        "div",
        { class: "appearance" },
        h(
          "div",
          null,
          h(
            "div",
            { class: "form-grid" },
            row("Site name", name),
            row("Colour", color),
            row("Title", title),
            row("Greeting", greeting),
            row("Position", position),
            row("Language", locale),
            row("Allowed origins (one per line; empty: any site may embed it)", origins),
          ),
          h("div", { class: "form-actions" }, save),
        ),
        h("div", null, h("h3", null, "Preview"), mock),
      ),
      h("h3", null, "The widget as visitors see it (after saving)"),
      h(
        "p",
        { class: "muted" },
        "The frame below is the real widget. Browsers show it here only when this console's origin may frame it (allowed origins empty, or listing this address).",
      ),
      frame,
    ),
  );
}

// ---------------------------------------------------------------- install

async function renderInstall(panel: HTMLElement, site: Site | null): Promise<void> {
  const s = site!;
  const [install, fresh] = await Promise.all([
    api<{ snippet: string }>("GET", `/sites/${encodeURIComponent(s.id)}/install`),
    api<{ site: Site }>("GET", `/sites/${encodeURIComponent(s.id)}`),
  ]);
  Object.assign(s, fresh.site);
  const snippet = h("pre", { class: "snippet" }, install.snippet);
  const copy = h("button", { type: "button", class: "primary copy" }, "Copy snippet");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(install.snippet);
      copy.textContent = "Copied!";
    } catch {
      const range = document.createRange();
      range.selectNodeContents(snippet);
      const selection = window.getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
      copy.textContent = "Selected: press Ctrl+C";
    }
    window.setTimeout(() => (copy.textContent = "Copy snippet"), 2500);
  });
  const status = h("div", { class: "install-status" }, installedBadge(s));
  const check = h("button", { type: "button" }, "Check again");
  check.addEventListener("click", async () => {
    const again = await api<{ site: Site }>("GET", `/sites/${encodeURIComponent(s.id)}`);
    Object.assign(s, again.site);
    fill(status, installedBadge(s));
  });
  fill(
    panel,
    card(
      "Install the widget",
      h("p", null, "Paste this tag before the closing </body> of every page where visitors should see the chat."),
      snippet,
      h("div", { class: "form-actions" }, copy, status, check),
    ),
    card(
      "Keys",
      h(
        "div",
        { class: "form-grid" },
        h("label", null, "Site key"),
        h("code", null, s.site_key),
        s.site_secret ? [h("label", null, "Identity secret"), h("code", { class: "secret" }, s.site_secret)] : null,
      ),
      s.site_secret
        ? h("p", { class: "muted" }, "Keep the identity secret on your server: it signs user_hash = HMAC-SHA256(secret, external_id) for Parley.identify().")
        : null,
    ),
  );
}

// ---------------------------------------------------------------- business hours

function renderHours(panel: HTMLElement, site: Site | null): void {
  const s = site!;
  const current = s.settings?.business_hours as { timezone: string; days: Record<string, { open: string; close: string }[]> } | null;
  const enabled = h("input", { type: "checkbox", checked: Boolean(current) });
  const tz = input(current?.timezone || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC", { maxlength: "64" });
  const rows = WEEKDAYS.map((day) => {
    const span = current?.days?.[day]?.[0];
    const weekday = !["sat", "sun"].includes(day);
    const open = h("input", { type: "checkbox", checked: current ? Boolean(span) : weekday, "aria-label": `Open on ${DAY_NAMES[day]}` });
    const from = h("input", { type: "time", value: span?.open || "09:00", "aria-label": `${DAY_NAMES[day]} opens` });
    const to = h("input", { type: "time", value: span?.close || "17:00", "aria-label": `${DAY_NAMES[day]} closes` });
    return { day, open, from, to };
  });
  const save = h("button", { type: "button", class: "primary" }, "Save");
  save.addEventListener("click", () =>
    saving(save, async () => {
      const days: Record<string, { open: string; close: string }[]> = {};
      for (const r of rows) days[r.day] = r.open.checked ? [{ open: r.from.value, close: r.to.value }] : [];
      await patchSite(s, { settings: { business_hours: enabled.checked ? { timezone: tz.value.trim(), days } : null } });
    }),
  );
  fill(
    panel,
    card(
      "Business hours",
      readOnlyNote(),
      h("p", { class: "muted" }, "Outside these hours the widget tells visitors when you are back. Off: always open."),
      h("div", { class: "form-grid" }, row("Use business hours", enabled), row("Time zone", tz)),
      h("h3", null, "Opening hours"),
      rows.map((r) => h("div", { class: "hours-row" }, h("span", { class: "day-name" }, DAY_NAMES[r.day]), r.open, r.from, "–", r.to)),
      h("div", { class: "form-actions" }, save),
    ),
  );
}

// ---------------------------------------------------------------- pre-chat form

function renderPrechat(panel: HTMLElement, site: Site | null): void {
  const s = site!;
  type Field = { name: string; label: string; type: string; required: boolean };
  const fields: Field[] = ((s.settings?.prechat_fields as Field[]) || []).map((f) => ({ ...f }));
  const list = h("div", { class: "list-editor" });
  const draw = () => {
    fill(
      list,
      fields.length ? null : h("p", { class: "muted" }, "No pre-chat form: visitors start chatting right away."),
      fields.map((f, i) => {
        const name = input(f.name, { "aria-label": "Field name", placeholder: "name", pattern: "[a-z][a-z0-9_]*" });
        const label = input(f.label, { "aria-label": "Label", placeholder: "Your name" });
        const type = h("select", { "aria-label": "Type" }, ["text", "email"].map((t) => h("option", { value: t, selected: f.type === t }, t)));
        const required = h("input", { type: "checkbox", checked: f.required, "aria-label": "Required" });
        name.addEventListener("input", () => (f.name = name.value.trim()));
        label.addEventListener("input", () => (f.label = label.value));
        type.addEventListener("change", () => (f.type = type.value));
        required.addEventListener("change", () => (f.required = required.checked));
        return h(
          "div",
          { class: "item" },
          name,
          label,
          type,
          h("label", null, required, " required"),
          h("button", { type: "button", class: "danger", onClick: () => { fields.splice(i, 1); draw(); } }, "Remove"),
        );
      }),
    );
  };
  draw();
  const add = h("button", { type: "button", onClick: () => { fields.push({ name: fields.length ? "" : "name", label: fields.length ? "" : "Your name", type: "text", required: false }); draw(); } }, "Add a field");
  const save = h("button", { type: "button", class: "primary" }, "Save");
  save.addEventListener("click", () => saving(save, async () => void (await patchSite(s, { settings: { prechat_fields: fields } }))));
  fill(
    panel,
    card(
      "Pre-chat form",
      readOnlyNote(),
      h("p", { class: "muted" }, "Fields the visitor fills in before the first message. The names name and email fill the visitor's profile; others show in the visitor panel."),
      list,
      h("div", { class: "form-actions" }, add, save),
    ),
  );
}

// ---------------------------------------------------------------- bot and FAQ

type Faq = { id: string; question: string; answer: string; alternatives: string[]; external_id: string | null };

async function renderBot(panel: HTMLElement, site: Site | null): Promise<void> {
  const s = site!;
  const base = `/sites/${encodeURIComponent(s.id)}`;
  const toggle = h("input", { type: "checkbox", checked: Boolean(s.settings?.bot_enabled), id: "bot-enabled" });
  toggle.addEventListener("change", async () => {
    try {
      await patchSite(s, { settings: { bot_enabled: toggle.checked } });
      toast(toggle.checked ? "The bot answers new chats first." : "The bot is off.");
    } catch (err) {
      toggle.checked = !toggle.checked;
      toast(errorText(err), "error");
    }
  });
  const botCard = card(
    "Bot",
    readOnlyNote(),
    h("label", { class: "toggle" }, toggle, " Let the bot answer from the FAQ first (visitors can always ask for a human)"),
  );
  const listing = await optional<{ entries: Faq[] }>("GET", `${base}/faq`);
  if (!listing) {
    fill(panel, botCard, card("FAQ", h("p", { class: "muted" }, "The FAQ is not available on this server.")));
    return;
  }
  const entries = listing.entries;
  const table = h("div");
  const drawTable = () => {
    fill(
      table,
      entries.length
        ? h(
            "table",
            { class: "grid faq" },
            h("thead", null, h("tr", null, h("th", null, "Question"), h("th", null, "Answer"), h("th", null, ""))),
            h(
              "tbody",
              null,
              entries.map((e) =>
                h(
                  "tr",
                  null,
                  h("td", null, e.question, e.alternatives?.length ? h("div", { class: "muted" }, `also: ${e.alternatives.join(" · ")}`) : null),
                  h("td", null, e.answer),
                  h(
                    "td",
                    null,
                    h("button", { type: "button", onClick: () => edit(e) }, "Edit"),
                    " ",
                    h("button", { type: "button", class: "danger", onClick: () => remove(e) }, "Delete"),
                  ),
                ),
              ),
            ),
          )
        : h("p", { class: "muted" }, "No entries yet."),
    );
  };
  const question = input("", { placeholder: "Do you ship abroad?" });
  const answer = h("textarea", { rows: "3", placeholder: "Yes, to all EU countries." });
  const alternatives = h("textarea", { rows: "2", placeholder: "Other ways to ask, one per line" });
  let editing: Faq | null = null;
  const saveEntry = h("button", { type: "button", class: "primary" }, "Add entry");
  const edit = (e: Faq) => {
    editing = e;
    question.value = e.question;
    answer.value = e.answer;
    alternatives.value = (e.alternatives || []).join("\n");
    saveEntry.textContent = "Save entry";
    question.focus();
  };
  const remove = async (e: Faq) => {
    try {
      await api("DELETE", `${base}/faq/${encodeURIComponent(e.id)}`);
      entries.splice(entries.indexOf(e), 1);
      drawTable();
    } catch (err) {
      toast(errorText(err), "error");
    }
  };
  saveEntry.addEventListener("click", () =>
    saving(saveEntry, async () => {
      const body = { question: question.value, answer: answer.value, alternatives: linesOf(alternatives.value) };
      if (editing) {
        const done = await api<{ entry: Faq }>("PUT", `${base}/faq/${encodeURIComponent(editing.id)}`, body);
        entries[entries.indexOf(editing)] = done.entry;
      } else {
        const done = await api<{ entry: Faq }>("POST", `${base}/faq`, body);
        entries.push(done.entry);
      }
      editing = null;
      saveEntry.textContent = "Add entry";
      question.value = answer.value = alternatives.value = "";
      drawTable();
    }),
  );
  const importBox = h("textarea", { rows: "4", placeholder: '[{"question": "...", "answer": "...", "alternatives": ["..."], "external_id": "q1"}]' });
  const importFile = h("input", { type: "file", accept: ".json,.csv,application/json,text/csv", "aria-label": "FAQ file" });
  importFile.addEventListener("change", async () => {
    const file = importFile.files?.[0];
    if (file) importBox.value = await file.text();
  });
  const importBtn = h("button", { type: "button" }, "Import");
  importBtn.addEventListener("click", () =>
    saving(importBtn, async () => {
      const text = importBox.value.trim();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new Error("Paste a JSON list of {question, answer, alternatives?, external_id?}.");
      }
      const done = await api<{ created: number; entries: Faq[] }>("POST", `${base}/faq/import`, body);
      const fresh = await api<{ entries: Faq[] }>("GET", `${base}/faq`);
      entries.splice(0, entries.length, ...fresh.entries);
      drawTable();
      importBox.value = "";
      toast(`Imported: ${done.created} new.`);
    }, "Import done."),
  );
  const ask = input("", { placeholder: "Try a visitor's question", "aria-label": "Test question" });
  const askResult = h("p", { class: "ask-result", role: "status" });
  const askBtn = h("button", { type: "button" }, "Ask the bot");
  askBtn.addEventListener("click", async () => {
    try {
      const r = await api<any>("POST", `${base}/bot/ask`, { text: ask.value });
      askResult.textContent = r.handoff
        ? `Hands over to a human (${r.reason || "no confident answer"}).`
        : `Answers (${Math.round((r.confidence || 0) * 100)}%): ${r.answer}`;
    } catch (err) {
      askResult.textContent = errorText(err);
    }
  });
  drawTable();
  fill(
    panel,
    botCard,
    card(
      "FAQ",
      table,
      h("h3", null, "Add or edit an entry"),
      h("div", { class: "form-grid" }, row("Question", question), row("Answer", answer), row("Alternatives", alternatives)),
      h("div", { class: "form-actions" }, saveEntry),
      h("h3", null, "Import"),
      importFile,
      importBox,
      h("div", { class: "form-actions" }, importBtn),
      h("h3", null, "Test"),
      h("div", { class: "form-actions" }, ask, askBtn),
      askResult,
    ),
  );
}

// ---------------------------------------------------------------- webhooks

async function renderWebhooks(panel: HTMLElement, site: Site | null): Promise<void> {
  const s = site!;
  const base = `/sites/${encodeURIComponent(s.id)}/webhooks`;
  const listing = await optional<{ webhooks: any[] }>("GET", base);
  if (!listing) {
    fill(panel, card("Webhooks", h("p", { class: "muted" }, "Webhooks are not available on this server.")));
    return;
  }
  const hooks = listing.webhooks;
  const table = h("div");
  const log = h("div");
  const draw = () =>
    fill(
      table,
      hooks.length
        ? h(
            "table",
            { class: "grid" },
            h("thead", null, h("tr", null, h("th", null, "URL"), h("th", null, "Events"), h("th", null, "Secret"), h("th", null, ""))),
            h(
              "tbody",
              null,
              hooks.map((w) =>
                h(
                  "tr",
                  null,
                  h("td", null, w.url),
                  h("td", null, (w.events || []).join(", ")),
                  h("td", null, h("code", null, w.secret || "")),
                  h(
                    "td",
                    null,
                    h("button", { type: "button", onClick: () => deliveries(w) }, "Deliveries"),
                    " ",
                    h("button", { type: "button", class: "danger", onClick: () => remove(w) }, "Delete"),
                  ),
                ),
              ),
            ),
          )
        : h("p", { class: "muted" }, "No webhooks yet."),
    );
  const remove = async (w: any) => {
    try {
      await api("DELETE", `${base}/${encodeURIComponent(w.id)}`);
      hooks.splice(hooks.indexOf(w), 1);
      draw();
    } catch (err) {
      toast(errorText(err), "error");
    }
  };
  const deliveries = async (w: any) => {
    try {
      const r = await api<{ deliveries: any[] }>("GET", `${base}/${encodeURIComponent(w.id)}/deliveries`);
      fill(
        log,
        h("h3", null, `Deliveries to ${w.url}`),
        r.deliveries.length
          ? h(
              "table",
              { class: "grid" },
              h("thead", null, h("tr", null, h("th", null, "When"), h("th", null, "Event"), h("th", null, "Status"), h("th", null, "Attempts"), h("th", null, "Last answer"))),
              h(
                "tbody",
                null,
                r.deliveries.map((d) =>
                  h(
                    "tr",
                    null,
                    h("td", null, formatDateTime(d.created_at)),
                    h("td", null, d.event),
                    h("td", null, d.status),
                    h("td", null, String(d.attempts)),
                    h("td", null, d.last_status_code ? `HTTP ${d.last_status_code}` : d.last_error || "—"),
                  ),
                ),
              ),
            )
          : h("p", { class: "muted" }, "Nothing sent yet."),
      );
    } catch (err) {
      toast(errorText(err), "error");
    }
  };
  const url = input("", { type: "url", placeholder: "https://example.com/parley-hook" });
  const boxes = WEBHOOK_EVENTS.map((e) => ({ e, box: h("input", { type: "checkbox", checked: true, "aria-label": e }) }));
  const add = h("button", { type: "button", class: "primary" }, "Add webhook");
  add.addEventListener("click", () =>
    saving(add, async () => {
      const r = await api<{ webhook: any }>("POST", base, { url: url.value.trim(), events: boxes.filter((b) => b.box.checked).map((b) => b.e) });
      hooks.push(r.webhook);
      url.value = "";
      draw();
    }, "Webhook added."),
  );
  draw();
  fill(
    panel,
    card(
      "Webhooks",
      h("p", { class: "muted" }, "Parley POSTs JSON to these URLs, signed with X-Parley-Signature: sha256=HMAC(secret, body)."),
      table,
      h("h3", null, "New webhook"),
      h("div", { class: "form-grid" }, row("URL", url), h("label", null, "Events"), h("div", null, boxes.map((b) => h("label", null, b.box, ` ${b.e}  `)))),
      h("div", { class: "form-actions" }, add),
      log,
    ),
  );
}

// ---------------------------------------------------------------- workspace and routing

async function renderWorkspace(panel: HTMLElement): Promise<void> {
  const answer = await optional<{ workspace: { id: string; name: string; routing?: { mode: string; capacity: number } } }>("GET", "/workspace");
  if (!answer) {
    fill(panel, card("Workspace", h("p", { class: "muted" }, "Workspace settings are not available on this server yet.")));
    return;
  }
  const ws = answer.workspace;
  const name = input(ws.name, { maxlength: "100" });
  const mode = h(
    "select",
    null,
    h("option", { value: "auto", selected: ws.routing?.mode !== "manual" }, "Automatic: round-robin over online agents"),
    h("option", { value: "manual", selected: ws.routing?.mode === "manual" }, "Manual: agents claim tickets"),
  );
  const capacity = h("input", { type: "number", min: "1", max: "100", value: String(ws.routing?.capacity ?? 5) });
  const save = h("button", { type: "button", class: "primary" }, "Save");
  save.addEventListener("click", () =>
    saving(save, async () => {
      await api("PATCH", "/workspace", { name: name.value, routing: { mode: mode.value, capacity: Number(capacity.value) } });
    }),
  );
  fill(
    panel,
    card(
      "Workspace & routing",
      readOnlyNote(),
      h("div", { class: "form-grid" }, row("Name", name), row("Routing", mode), row("Open tickets per agent", capacity)),
      h("p", { class: "muted" }, "Automatic routing hands new tickets to online agents with free capacity; visitors see their place in the queue."),
      h("div", { class: "form-actions" }, save),
    ),
  );
}

// ---------------------------------------------------------------- agents

async function renderAgents(panel: HTMLElement): Promise<void> {
  const answer = await api<{ agents: Agent[] }>("GET", "/agents");
  state.agents = answer.agents;
  const me = state.me!;
  const manager = isManager();
  const roles = me.role === "owner" ? ["owner", "admin", "agent"] : ["admin", "agent"];
  const patch = async (a: Agent, body: Record<string, unknown>) => {
    try {
      const r = await api<{ agent: Agent }>("PATCH", `/agents/${encodeURIComponent(a.id)}`, body);
      Object.assign(a, r.agent);
      toast("Saved.");
    } catch (err) {
      toast(err instanceof ApiError && err.status === 404 ? "Changing agents is not available on this server yet." : errorText(err), "error");
    }
    void renderAgents(panel);
  };
  const table = h(
    "table",
    { class: "grid agents" },
    h("thead", null, h("tr", null, h("th", null, "Name"), h("th", null, "E-mail"), h("th", null, "Role"), h("th", null, "Status"), h("th", null, ""))),
    h(
      "tbody",
      null,
      answer.agents.map((a) => {
        const canEdit = manager && a.id !== me.id && (me.role === "owner" || a.role !== "owner");
        const role = canEdit
          ? h(
              "select",
              { "aria-label": `Role of ${a.name}`, onChange: (e: Event) => patch(a, { role: (e.target as HTMLSelectElement).value }) },
              (roles.includes(a.role) ? roles : [a.role, ...roles]).map((r) => h("option", { value: r, selected: r === a.role }, r)),
            )
          : a.role;
        const active = a.active !== false;
        return h(
          "tr",
          { class: active ? "" : "inactive" },
          h("td", null, a.name, a.id === me.id ? h("span", { class: "muted" }, " (you)") : null),
          h("td", null, a.email),
          h("td", null, role),
          h("td", null, active ? a.availability : "deactivated"),
          h(
            "td",
            null,
            canEdit
              ? h("button", { type: "button", class: active ? "danger" : "", onClick: () => patch(a, { active: !active }) }, active ? "Deactivate" : "Reactivate")
              : null,
          ),
        );
      }),
    ),
  );
  const name = input("", { placeholder: "Alex Agent" });
  const email = input("", { type: "email", placeholder: "alex@example.com" });
  const password = input("", { type: "password", autocomplete: "new-password", minlength: "8" });
  const role = h("select", null, roles.map((r) => h("option", { value: r, selected: r === "agent" }, r)));
  const add = h("button", { type: "button", class: "primary" }, "Add agent");
  add.addEventListener("click", () =>
    saving(add, async () => {
      await api("POST", "/agents", { name: name.value, email: email.value, password: password.value, role: role.value });
      await renderAgents(panel);
    }, "Agent added."),
  );
  fill(
    panel,
    card("Agents & roles", table),
    manager
      ? card(
          "Invite an agent",
          h("p", { class: "muted" }, "Share the e-mail and first password with them; they sign in here."),
          h("div", { class: "form-grid" }, row("Name", name), row("E-mail", email), row("Password", password), row("Role", role)),
          h("div", { class: "form-actions" }, add),
        )
      : null,
  );
}

// ---------------------------------------------------------------- canned responses

type Canned = { id: string; shortcut: string; title: string; body: string };

async function renderCanned(panel: HTMLElement): Promise<void> {
  const answer = await optional<{ canned_responses: Canned[] }>("GET", "/canned-responses");
  if (!answer) {
    fill(panel, card("Canned responses", h("p", { class: "muted" }, "Canned responses are not available on this server yet.")));
    return;
  }
  const items = answer.canned_responses;
  const table = h("div");
  const shortcut = input("", { placeholder: "shipping", maxlength: "32", pattern: "[a-z0-9_-]+" });
  const title = input("", { placeholder: "Shipping times", maxlength: "200" });
  const body = h("textarea", { rows: "3", placeholder: "We ship within 2 working days." });
  let editing: Canned | null = null;
  const save = h("button", { type: "button", class: "primary" }, "Add response");
  const draw = () =>
    fill(
      table,
      items.length
        ? h(
            "table",
            { class: "grid canned" },
            h("thead", null, h("tr", null, h("th", null, "Shortcut"), h("th", null, "Title"), h("th", null, "Text"), h("th", null, ""))),
            h(
              "tbody",
              null,
              items.map((c) =>
                h(
                  "tr",
                  null,
                  h("td", null, h("code", null, "/" + c.shortcut)),
                  h("td", null, c.title),
                  h("td", null, c.body),
                  h(
                    "td",
                    null,
                    h("button", { type: "button", onClick: () => { editing = c; shortcut.value = c.shortcut; title.value = c.title; body.value = c.body; save.textContent = "Save response"; } }, "Edit"),
                    " ",
                    h("button", { type: "button", class: "danger", onClick: () => remove(c) }, "Delete"),
                  ),
                ),
              ),
            ),
          )
        : h("p", { class: "muted" }, 'None yet. Agents type "/" in the composer to pick one.'),
    );
  const remove = async (c: Canned) => {
    try {
      await api("DELETE", `/canned-responses/${encodeURIComponent(c.id)}`);
      items.splice(items.indexOf(c), 1);
      cannedChanged();
      draw();
    } catch (err) {
      toast(errorText(err), "error");
    }
  };
  save.addEventListener("click", () =>
    saving(save, async () => {
      const data = { shortcut: shortcut.value.trim(), title: title.value, body: body.value };
      if (editing) {
        const r = await api<{ canned_response: Canned }>("PATCH", `/canned-responses/${encodeURIComponent(editing.id)}`, data);
        items[items.indexOf(editing)] = r.canned_response;
      } else {
        const r = await api<{ canned_response: Canned }>("POST", "/canned-responses", data);
        items.push(r.canned_response);
      }
      editing = null;
      save.textContent = "Add response";
      shortcut.value = title.value = body.value = "";
      cannedChanged();
      draw();
    }),
  );
  draw();
  fill(
    panel,
    card(
      "Canned responses",
      table,
      h("h3", null, "Add or edit"),
      h("div", { class: "form-grid" }, row("Shortcut", shortcut), row("Title", title), row("Text", body)),
      h("div", { class: "form-actions" }, save),
    ),
  );
}

// ---------------------------------------------------------------- push

async function renderPush(panel: HTMLElement): Promise<void> {
  const status = await pushState();
  const button = h("button", { type: "button", class: "primary" });
  const text = h("p", { role: "status" });
  const draw = (st: string) => {
    button.hidden = st === "unsupported" || st === "unavailable" || st === "denied";
    button.textContent = st === "on" ? "Turn push off" : "Turn push on";
    text.textContent = {
      on: "Push notifications are on for this browser: you hear of new tickets and messages even with the console closed.",
      off: "Push notifications are off for this browser.",
      denied: "The browser blocks notifications for this site: allow them in its site settings.",
      unsupported: "This browser cannot receive push notifications.",
      unavailable: "Push notifications are not configured on this server (VAPID keys).",
    }[st] || st;
  };
  draw(status);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      draw((await pushState()) === "on" ? await disablePush() : await enablePush());
    } catch (err) {
      toast(errorText(err), "error");
    } finally {
      button.disabled = false;
    }
  });
  fill(panel, card("Push notifications", text, h("div", { class: "form-actions" }, button)));
}
