// Settings > Audit log: who assigned, resolved, invited, changed settings or erased a
// visitor, newest first (owners and admins; read-only).
import { api, errorText, qs } from "./api";
import { fill, formatDateTime, h } from "./dom";
import { isManager, state } from "./state";

interface AuditEntry {
  id: string;
  action: string;
  actor: { id: string; name: string | null } | null;
  target: { type: string | null; id: string | null };
  details: Record<string, unknown>;
  created_at: string;
}

interface AuditPage {
  entries: AuditEntry[];
  has_more: boolean;
  next_before: string | null;
}

const FILTERS: [string, string][] = [
  ["", "Everything"],
  ["ticket.", "Tickets"],
  ["agent.", "Agents"],
  ["site.", "Sites"],
  ["settings.updated", "Settings"],
  ["faq.changed", "FAQ"],
  ["canned.changed", "Canned responses"],
  ["webhook.changed", "Webhooks"],
  ["visitor.", "Visitors (export, delete)"],
];

function targetText(entry: AuditEntry): string {
  const { type, id } = entry.target;
  if (!id) return type || "";
  const agent = type === "agent" ? state.agents.find((a) => a.id === id) : undefined;
  const site = type === "site" ? state.sites.find((s) => s.id === id) : undefined;
  return `${type || ""} ${agent?.name || site?.name || id}`.trim();
}

function detailsText(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([key, value]) => `${key}: ${typeof value === "object" && value !== null ? JSON.stringify(value) : String(value)}`)
    .join(", ");
}

export async function renderAudit(panel: HTMLElement): Promise<void> {
  const card = (...children: (Node | null)[]) => h("section", { class: "card" }, h("h2", null, "Audit log"), ...children);
  if (!isManager()) {
    fill(panel, card(h("p", { class: "muted" }, "Only owners and admins can read the audit log.")));
    return;
  }
  let action = "";
  let before: string | null = null;
  const rows = h("tbody");
  const more = h("button", { type: "button" }, "Older entries");
  const status = h("p", { class: "muted", role: "status" });
  const load = async (reset: boolean) => {
    if (reset) {
      before = null;
      rows.replaceChildren();
    }
    more.disabled = true;
    try {
      const page = await api<AuditPage>("GET", "/workspace/audit" + qs({ action, before, limit: 50 }));
      for (const e of page.entries) {
        rows.appendChild(
          h(
            "tr",
            { "data-action": e.action },
            h("td", null, formatDateTime(e.created_at)),
            h("td", null, e.actor ? e.actor.name || e.actor.id : h("span", { class: "muted" }, "system")),
            h("td", null, e.action),
            h("td", null, targetText(e)),
            h("td", { class: "muted" }, detailsText(e.details)),
          ),
        );
      }
      before = page.next_before;
      more.hidden = !page.has_more;
      status.textContent = rows.children.length ? "" : "Nothing recorded yet.";
    } catch (err) {
      status.textContent = errorText(err);
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", () => void load(false));
  const filter = h(
    "select",
    {
      id: "audit-filter",
      onChange: (e: Event) => {
        action = (e.target as HTMLSelectElement).value;
        void load(true);
      },
    },
    FILTERS.map(([value, label]) => h("option", { value }, label)),
  );
  fill(
    panel,
    card(
      h("div", { class: "range" }, h("label", { for: "audit-filter" }, "Show"), filter),
      h(
        "table",
        { class: "grid audit" },
        h("thead", null, h("tr", null, h("th", null, "When"), h("th", null, "Who"), h("th", null, "Action"), h("th", null, "Target"), h("th", null, "Details"))),
        rows,
      ),
      status,
      h("div", { class: "form-actions" }, more),
    ),
  );
  await load(true);
}
