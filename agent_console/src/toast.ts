// Short status messages at the bottom of the screen.
import { h } from "./dom";

export function toast(text: string, kind: "info" | "error" = "info"): void {
  let box = document.querySelector(".toasts");
  if (!box) {
    box = h("div", { class: "toasts", role: "status", "aria-live": "polite" });
    document.body.appendChild(box);
  }
  const item = h("div", { class: `toast ${kind}` }, text);
  box.appendChild(item);
  window.setTimeout(() => item.remove(), kind === "error" ? 6000 : 3000);
}
