// The console's service worker: shows web push notifications and opens the ticket on click.
const sw = self as any;

sw.addEventListener("push", (event: any) => {
  let data: any = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { title: "Parley", body: event.data ? event.data.text() : "" };
  }
  const title = typeof data.title === "string" ? data.title : "Parley";
  const options = {
    body: typeof data.body === "string" ? data.body : "",
    tag: data.ticket_id ? `parley-${data.ticket_id}` : undefined,
    data: { ticket_id: data.ticket_id || null },
  };
  event.waitUntil(sw.registration.showNotification(title, options));
});

sw.addEventListener("notificationclick", (event: any) => {
  event.notification.close();
  const ticket = event.notification.data && event.notification.data.ticket_id;
  const url = "/console/" + (ticket ? `#/inbox/${encodeURIComponent(ticket)}` : "");
  event.waitUntil(
    sw.clients.matchAll({ type: "window", includeUncontrolled: true }).then((list: any[]) => {
      for (const client of list) {
        if (client.url.includes("/console/") && "focus" in client) {
          client.navigate(url);
          return client.focus();
        }
      }
      return sw.clients.openWindow(url);
    }),
  );
});

export {};
