// Web push for agents: a service worker at /console/sw.js and POST/DELETE /push/subscriptions.
import { api, optional } from "./api";

type PushStatus = "on" | "off" | "denied" | "unsupported" | "unavailable";

function supported(): boolean {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

async function registration(): Promise<ServiceWorkerRegistration> {
  return navigator.serviceWorker.register("/console/sw.js", { scope: "/console/" });
}

export async function pushState(): Promise<PushStatus> {
  if (!supported()) return "unsupported";
  let key: { public_key: string } | null = null;
  try {
    key = await optional<{ public_key: string }>("GET", "/push/vapid-public-key");
  } catch {
    key = null;
  }
  if (!key || !key.public_key) return "unavailable";
  if (Notification.permission === "denied") return "denied";
  const reg = await navigator.serviceWorker.getRegistration("/console/");
  const sub = reg ? await reg.pushManager.getSubscription() : null;
  return sub ? "on" : "off";
}

function urlBase64ToBytes(value: string): Uint8Array {
  const padded = (value + "=".repeat((4 - (value.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(padded);
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

export async function enablePush(): Promise<PushStatus> {
  const key = await api<{ public_key: string }>("GET", "/push/vapid-public-key");
  if ((await Notification.requestPermission()) !== "granted") return "denied";
  const reg = await registration();
  await navigator.serviceWorker.ready;
  const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: urlBase64ToBytes(key.public_key).buffer as ArrayBuffer });
  await api("POST", "/push/subscriptions", sub.toJSON());
  return "on";
}

export async function disablePush(): Promise<PushStatus> {
  const reg = await navigator.serviceWorker.getRegistration("/console/");
  const sub = reg ? await reg.pushManager.getSubscription() : null;
  if (sub) {
    await api("DELETE", "/push/subscriptions", { endpoint: sub.endpoint });
    await sub.unsubscribe();
  }
  return "off";
}
