// Parley's service worker for visitors' web push, served at /widget/sw.js. A site that wants
// push for its visitors copies it to its own origin (e.g. /parley-sw.js) and names that path
// in the script tag: <script src=".../widget.js" data-site-key="..." data-push-sw="/parley-sw.js">.
// It only shows what a push carries and, on a click, opens that page (same origin only).
self.addEventListener("push", function (event) {
  var p = {};
  try {
    p = event.data ? event.data.json() : {};
  } catch (e) {
    p = {};
  }
  event.waitUntil(
    self.registration.showNotification(typeof p.title === "string" ? p.title : "New reply", {
      body: typeof p.body === "string" ? p.body : "",
      tag: p.ticket_id ? "parley-" + p.ticket_id : undefined,
      data: { url: typeof p.url === "string" ? p.url : "/", ticket_id: p.ticket_id || null },
    }),
  );
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url;
  try {
    url = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  } catch (e) {
    url = new URL("/", self.location.origin);
  }
  if (url.origin !== self.location.origin) url = new URL("/", self.location.origin);
  url.hash = "parley-open"; // the loader opens the chat on arrival
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (list) {
      for (var i = 0; i < list.length; i++) {
        if (list[i].url.split("#")[0] === url.href.split("#")[0] && "focus" in list[i]) {
          list[i].navigate(url.href);
          return list[i].focus();
        }
      }
      return self.clients.openWindow(url.href);
    }),
  );
});
