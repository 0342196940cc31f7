// A visitor's side of a Parley chat, with the Socket.IO JS client (docs/PROTOCOL.md).
// Usage: node client.mjs BASE_URL SITE_KEY [polling]
import { io } from "socket.io-client";

const [base, siteKey, mode] = process.argv.slice(2);

// 1. A widget session gives the visitor its token (keep it to come back as the same visitor).
const res = await fetch(`${base}/api/v1/widget/session`, {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ site_key: siteKey }),
});
const { visitor_token: visitorToken } = await res.json();

// 2. Connect with the token; long polling works wherever WebSocket does.
const socket = io(base, {
  auth: { visitor_token: visitorToken },
  transports: mode === "polling" ? ["polling"] : ["polling", "websocket"],
});
socket.on("message:new", ({ message }) => console.log(`new ${message.seq} ${message.body}`));
await new Promise((resolve, reject) => {
  socket.once("connect", resolve);
  socket.once("connect_error", reject);
});

// 3. Send with a client_id: on a timeout, resend the same id; the server never duplicates.
const clientId = crypto.randomUUID();
const ack = await socket.timeout(5000).emitWithAck("message:send", {
  client_id: clientId,
  body: "Hello from the JS client",
});
console.log(`ack ${ack.ok} seq ${ack.message.seq} ticket ${ack.message.ticket_id}`);
const again = await socket.timeout(5000).emitWithAck("message:send", {
  client_id: clientId,
  body: "Hello from the JS client",
});
console.log(`resend duplicate ${again.duplicate} seq ${again.message.seq}`);

// 4. After a reconnect, catch up from the highest seq you hold.
const sync = await socket.timeout(5000).emitWithAck("sync", {
  tickets: { [ack.message.ticket_id]: 0 },
});
console.log(`sync ${sync.messages.map((m) => m.seq).join(",")}`);
await socket.timeout(5000).emitWithAck("presence:heartbeat", {});
socket.disconnect();
