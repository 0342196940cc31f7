// Reports: tickets per day, first response and resolution times, CSAT, per agent; inline SVG.
import { api, ApiError, errorText, qs } from "./api";
import { fill, formatDuration, h, s } from "./dom";
import { state } from "./state";

interface Timing {
  median: number | null;
  p90: number | null;
  count: number;
}
interface Csat {
  count: number;
  average: number | null;
  distribution: Record<string, number>;
}
interface Report {
  from: string;
  to: string;
  days: { date: string; created: number; resolved: number }[];
  first_response_s: Timing;
  resolution_s: Timing;
  csat: Csat;
  agents: { agent: { id: string; name: string }; assigned: number; resolved: number; first_response_s: Timing; resolution_s: Timing; csat: Csat }[];
}

function isoDay(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

const range = { from: "", to: "", site_id: "" };

export function mountReports(main: HTMLElement): void {
  if (!range.to) {
    const today = new Date();
    range.to = isoDay(today);
    range.from = isoDay(new Date(today.getTime() - 29 * 86400_000));
  }
  const from = h("input", { type: "date", value: range.from, "aria-label": "From" });
  const to = h("input", { type: "date", value: range.to, "aria-label": "To" });
  const site = h(
    "select",
    { "aria-label": "Site" },
    h("option", { value: "" }, "All sites"),
    state.sites.map((x) => h("option", { value: x.id, selected: x.id === range.site_id }, x.name)),
  );
  const body = h("div", { class: "report-body" });
  const load = async () => {
    range.from = from.value;
    range.to = to.value;
    range.site_id = site.value;
    fill(body, h("p", { class: "muted" }, "Loading…"));
    try {
      const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
      const report = await api<Report>("GET", "/reports" + qs({ from: range.from, to: range.to, site_id: range.site_id || null, tz }));
      renderReport(body, report);
    } catch (err) {
      const missing = err instanceof ApiError && err.status === 404 && !range.site_id;
      fill(body, h("section", { class: "card" }, h("p", { class: missing ? "muted" : "error" }, missing ? "Reports are not available on this server yet." : errorText(err))));
    }
  };
  const apply = h("button", { type: "button", class: "primary", onClick: load }, "Show");
  const preset = (days: number, label: string) =>
    h(
      "button",
      {
        type: "button",
        onClick: () => {
          const today = new Date();
          to.value = isoDay(today);
          from.value = isoDay(new Date(today.getTime() - (days - 1) * 86400_000));
          void load();
        },
      },
      label,
    );
  fill(
    main,
    h(
      "div",
      { class: "reports" },
      h(
        "div",
        { class: "panel-scroll" },
        h("h1", { class: "page-title" }, "Reports"),
        h("div", { class: "range" }, "From", from, "to", to, site, apply, preset(7, "7 days"), preset(30, "30 days"), preset(90, "90 days")),
        body,
      ),
    ),
  );
  void load();
}

function stat(label: string, value: string, sub: string): HTMLElement {
  return h("div", { class: "stat" }, h("div", { class: "label" }, label), h("div", { class: "value" }, value), h("div", { class: "sub" }, sub));
}

function renderReport(body: HTMLElement, r: Report): void {
  const created = r.days.reduce((n, d) => n + d.created, 0);
  const resolved = r.days.reduce((n, d) => n + d.resolved, 0);
  fill(
    body,
    h(
      "div",
      { class: "stats" },
      stat("Tickets", String(created), `${resolved} resolved`),
      stat("First response (median)", formatDuration(r.first_response_s.median), `p90 ${formatDuration(r.first_response_s.p90)} · ${r.first_response_s.count} tickets`),
      stat("Resolution (median)", formatDuration(r.resolution_s.median), `p90 ${formatDuration(r.resolution_s.p90)} · ${r.resolution_s.count} tickets`),
      stat("CSAT", r.csat.average === null ? "—" : `${r.csat.average.toFixed(1)} / 5`, `${r.csat.count} ratings`),
    ),
    h(
      "section",
      { class: "card" },
      h("h2", null, "Tickets per day"),
      h("div", { class: "legend" }, h("span", null, h("i", { class: "sw created" }), "Created"), h("span", null, h("i", { class: "sw resolved" }), "Resolved")),
      barChart(r.days),
    ),
    h(
      "div",
      { class: "two-col" },
      h("section", { class: "card" }, h("h2", null, "Response and resolution times"), timingChart(r)),
      h("section", { class: "card" }, h("h2", null, "Satisfaction (CSAT)"), csatChart(r.csat)),
    ),
    h(
      "section",
      { class: "card" },
      h("h2", null, "Per agent"),
      r.agents.length
        ? h(
            "table",
            { class: "grid per-agent" },
            h(
              "thead",
              null,
              h("tr", null, ["Agent", "Assigned", "Resolved", "First response (median / p90)", "Resolution (median / p90)", "CSAT"].map((t) => h("th", null, t))),
            ),
            h(
              "tbody",
              null,
              r.agents.map((a) =>
                h(
                  "tr",
                  null,
                  h("td", null, a.agent.name),
                  h("td", null, String(a.assigned)),
                  h("td", null, String(a.resolved)),
                  h("td", null, `${formatDuration(a.first_response_s.median)} / ${formatDuration(a.first_response_s.p90)}`),
                  h("td", null, `${formatDuration(a.resolution_s.median)} / ${formatDuration(a.resolution_s.p90)}`),
                  h("td", null, a.csat.average === null ? "—" : `${a.csat.average.toFixed(1)} (${a.csat.count})`),
                ),
              ),
            ),
          )
        : h("p", { class: "muted" }, "No agent activity in this range."),
    ),
  );
}

function niceMax(n: number): number {
  if (n <= 5) return 5;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return n;
}

function barChart(days: Report["days"]): SVGElement {
  const W = 900;
  const H = 240;
  const left = 36;
  const bottom = 28;
  const top = 10;
  const max = niceMax(Math.max(1, ...days.map((d) => Math.max(d.created, d.resolved))));
  const plotW = W - left - 8;
  const plotH = H - top - bottom;
  const slot = plotW / Math.max(1, days.length);
  const barW = Math.max(1, Math.min(14, slot / 2 - 1));
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart bars", role: "img", "aria-label": "Tickets created and resolved per day" });
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    svg.appendChild(s("line", { x1: left, x2: W - 8, y1: y(v), y2: y(v), class: "gridline" }));
    svg.appendChild(s("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, String(Math.round(v))));
  }
  const labelEvery = Math.ceil(days.length / 10);
  days.forEach((d, i) => {
    const x = left + i * slot + slot / 2;
    const c = s("rect", { x: x - barW - 0.5, y: y(d.created), width: barW, height: Math.max(0, y(0) - y(d.created)), class: "bar created" });
    c.appendChild(s("title", {}, `${d.date}: ${d.created} created`));
    const r = s("rect", { x: x + 0.5, y: y(d.resolved), width: barW, height: Math.max(0, y(0) - y(d.resolved)), class: "bar resolved" });
    r.appendChild(s("title", {}, `${d.date}: ${d.resolved} resolved`));
    svg.appendChild(c);
    svg.appendChild(r);
    if (i % labelEvery === 0) svg.appendChild(s("text", { x, y: H - 8, "text-anchor": "middle" }, d.date.slice(5)));
  });
  return svg;
}

function timingChart(r: Report): SVGElement {
  const rows = [
    ["First response", r.first_response_s],
    ["Resolution", r.resolution_s],
  ] as const;
  const W = 440;
  const H = 150;
  const left = 110;
  const max = Math.max(1, ...rows.map(([, t]) => t.p90 ?? t.median ?? 0));
  const x = (v: number) => left + (v / max) * (W - left - 70);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart timing", role: "img", "aria-label": "Median and p90 times" });
  rows.forEach(([label, t], i) => {
    const yy = 20 + i * 60;
    svg.appendChild(s("text", { x: 0, y: yy + 14 }, label));
    if (t.median === null) {
      svg.appendChild(s("text", { x: left, y: yy + 14 }, "not measured"));
      return;
    }
    svg.appendChild(s("rect", { x: left, y: yy, width: Math.max(1, x(t.p90 ?? t.median) - left), height: 18, class: "bar p90" }));
    svg.appendChild(s("rect", { x: left, y: yy + 4, width: Math.max(1, x(t.median) - left), height: 10, class: "bar median" }));
    svg.appendChild(s("text", { x: x(t.p90 ?? t.median) + 6, y: yy + 14 }, `${formatDuration(t.median)} / ${formatDuration(t.p90)}`));
  });
  svg.appendChild(s("text", { x: left, y: H - 6 }, "inner bar: median · outer bar: p90"));
  return svg;
}

function csatChart(c: Csat): SVGElement {
  const W = 440;
  const H = 170;
  const left = 30;
  const counts = [1, 2, 3, 4, 5].map((n) => c.distribution?.[String(n)] || 0);
  const max = Math.max(1, ...counts);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart csat", role: "img", "aria-label": "Ratings from 1 to 5" });
  counts.forEach((n, i) => {
    const yy = 8 + i * 30;
    const width = (n / max) * (W - left - 50);
    svg.appendChild(s("text", { x: 0, y: yy + 14 }, `${i + 1} ★`));
    svg.appendChild(s("rect", { x: left, y: yy, width: Math.max(n ? 2 : 0, width), height: 20, class: `bar star${i + 1}` }));
    svg.appendChild(s("text", { x: left + width + 6, y: yy + 14 }, String(n)));
  });
  if (!c.count) svg.appendChild(s("text", { x: left, y: H - 4 }, "No ratings in this range."));
  return svg;
}
