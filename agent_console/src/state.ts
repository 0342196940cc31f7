// The console's shared state: who is signed in, the workspace's sites and agents, the socket.
import { io, Socket } from "socket.io-client";

export interface Agent {
  id: string;
  name: string;
  email: string;
  role: "owner" | "admin" | "agent";
  availability: "online" | "away" | "offline";
  active?: boolean;
}
export interface Visitor {
  id: string;
  site_id: string;
  name: string | null;
  email: string | null;
  external_id: string | null;
  current_url: string | null;
  last_seen_at: string | null;
  status: string;
  attributes?: Record<string, string> | null;
  user_agent?: string | null;
  first_seen_at?: string | null;
}
export interface Message {
  id: string;
  ticket_id: string;
  seq: number;
  client_id: string | null;
  kind: "text" | "note" | "event";
  sender: { type: "visitor" | "agent" | "bot" | "system"; id: string | null; name: string | null };
  body: string;
  created_at: string;
  meta?: Record<string, unknown> | null;
}
export interface Ticket {
  id: string;
  site_id: string;
  status: "bot" | "open" | "pending" | "resolved";
  assignee: Agent | null;
  visitor: Visitor;
  participants: { type: string; id: string; name: string; role?: string; read_seq?: number; delivered_seq?: number }[];
  last_seq: number;
  last_message: Message | null;
  unread_count: number;
  rating?: { score: number; comment: string | null } | null;
  created_at: string;
  updated_at: string;
  last_activity_at?: string;
}
export interface Site {
  id: string;
  name: string;
  site_key: string;
  allowed_origins: string[];
  settings: Record<string, any>;
  installed?: boolean;
  installed_at?: string | null;
  site_secret?: string;
}

type Listener = (event: string, data: any) => void;

export const state = {
  me: null as Agent | null,
  sites: [] as Site[],
  agents: [] as Agent[],
  socket: null as Socket | null,
  connected: false,
  listeners: new Set<Listener>(),
};

export function isManager(): boolean {
  return state.me?.role === "owner" || state.me?.role === "admin";
}

export function siteName(id: string): string {
  return state.sites.find((s) => s.id === id)?.name || "";
}

export function visitorLabel(v: Visitor): string {
  return v.name || v.email || `Visitor ${v.id.slice(-6)}`;
}

/** Subscribe to every Socket.IO event (and "connect"/"disconnect"); returns the unsubscriber. */
export function listen(fn: Listener): () => void {
  state.listeners.add(fn);
  return () => state.listeners.delete(fn);
}

const EVENTS = [
  "message:new",
  "typing",
  "read",
  "delivered",
  "presence",
  "ticket:created",
  "ticket:updated",
  "queue",
];

export function connectSocket(): Socket {
  if (state.socket) return state.socket;
  // Same origin, authenticated by the console's session cookie. WebSocket only: the server
  // accepts a cookie only with an Origin header, which browsers do not send on the
  // same-origin GET that starts long polling (see docs/PROTOCOL.md, the console).
  const socket = io({ transports: ["websocket"], withCredentials: true });
  state.socket = socket;
  const emit = (event: string, data: any) => {
    for (const fn of state.listeners) {
      try {
        fn(event, data);
      } catch (err) {
        console.error(err);
      }
    }
  };
  socket.on("connect", () => {
    state.connected = true;
    emit("connect", null);
  });
  socket.on("disconnect", (reason) => {
    state.connected = false;
    emit("disconnect", reason);
  });
  socket.on("connect_error", () => emit("connect_error", null));
  for (const name of EVENTS) socket.on(name, (data: any) => emit(name, data));
  return socket;
}

export function disconnectSocket(): void {
  state.socket?.disconnect();
  state.socket = null;
  state.connected = false;
}

/** An acknowledged emit: resolves with the ack, rejects on timeout or disconnection. */
export function call<T = any>(event: string, data: unknown, timeoutMs = 8000): Promise<T> {
  const socket = state.socket;
  if (!socket || !socket.connected) return Promise.reject(new Error("offline"));
  return new Promise((resolve, reject) => {
    socket.timeout(timeoutMs).emit(event, data, (err: Error | null, ack: T) => {
      if (err) reject(new Error("timeout"));
      else resolve(ack);
    });
  });
}
