// The script-tag loader (served at /widget.js). It draws only the launcher, in a shadow root;
// the chat itself is an iframe of the app's own origin, created when the visitor opens it
// (or at idle time when this browser already has a conversation). Host page <-> frame
// messages use an explicit target origin and check event.origin and event.source.
(function () {
  var w = window;
  var d = document;
  var previous = w.Parley;
  if (previous && previous._loaded) return;
  var script =
    d.currentScript || d.querySelector('script[data-site-key][src*="widget.js"]');
  var siteKey = script && script.getAttribute("data-site-key");
  if (!siteKey) return;
  var appOrigin = new URL(script.src, location.href).origin;
  var transport = script.getAttribute("data-transport");
  var flagKey = "parley:" + siteKey;
  // Web push for visitors, opt-in: the site serves our service worker at this path.
  var pushSw = script.getAttribute("data-push-sw");
  var sw = w.navigator.serviceWorker;
  var canPush = !!(pushSw && sw && w.PushManager && w.Notification && w.isSecureContext);

  function storeGet(key) {
    try {
      return localStorage.getItem(key);
    } catch (e) {
      return null;
    }
  }
  function storeSet(key, value) {
    try {
      if (value == null) localStorage.removeItem(key);
      else localStorage.setItem(key, value);
    } catch (e) {
      /* storage denied: the flag is an optimisation only */
    }
  }

  var look = {};
  try {
    look = JSON.parse(storeGet(flagKey + ":look") || "{}") || {};
  } catch (e) {
    look = {};
  }
  var LABELS = {
    en: ["Open chat", "Close chat", "Chat"],
    es: ["Abrir chat", "Cerrar chat", "Chat"],
    de: ["Chat öffnen", "Chat schließen", "Chat"],
    fr: ["Ouvrir le chat", "Fermer le chat", "Discussion"],
  };

  var state = { open: false, locale: null, identity: null, unread: 0 };
  var handlers = {};
  var frame = null;
  var frameReady = false;
  var isReady = false;

  function emit(name, arg) {
    (handlers[name] || []).slice().forEach(function (fn) {
      try {
        fn(arg);
      } catch (e) {
        setTimeout(function () {
          throw e;
        });
      }
    });
  }

  // -- the launcher, isolated in a shadow root ----------------------------------------------
  var host = d.createElement("parley-widget");
  host.style.setProperty("all", "initial", "important");
  host.style.setProperty("display", "block", "important");
  var root = host.attachShadow({ mode: "open" });
  var box = d.createElement("div");
  var css =
    ":host{all:initial}" +
    ".l{all:initial;position:fixed;bottom:20px;right:20px;width:56px;height:56px;border-radius:50%;" +
    "background:var(--c,#4f46e5);color:#fff;cursor:pointer;display:flex;align-items:center;" +
    "justify-content:center;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483647}" +
    ".l:focus-visible{outline:3px solid #93c5fd;outline-offset:2px}" +
    ".l svg{width:28px;height:28px;fill:currentColor}" +
    ".b{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;border-radius:10px;" +
    "background:#dc2626;color:#fff;font:600 12px/20px system-ui,sans-serif;text-align:center;" +
    "padding:0 5px;box-sizing:border-box}.b[hidden]{display:none}" +
    ".p{position:fixed;bottom:88px;right:20px;width:370px;height:calc(100% - 108px);max-height:640px;" +
    "border-radius:12px;overflow:hidden;box-shadow:0 8px 32px rgba(0,0,0,.25);" +
    "z-index:2147483647;background:#fff;display:none}" +
    ".left .l,.left .p{right:auto;left:20px}.open .p{display:block}" +
    "iframe{border:0;width:100%;height:100%;display:block;color-scheme:normal}" +
    "@media (max-width:479px){.open .p{inset:0;width:100%;height:100%;max-height:none;" +
    "border-radius:0}.open .l{display:none}}";
  if (root.adoptedStyleSheets && w.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } else {
    var style = d.createElement("style");
    style.textContent = css;
    root.appendChild(style);
  }
  var launcher = d.createElement("button");
  launcher.className = "l";
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-haspopup", "dialog");
  var svgNs = "http://www.w3.org/2000/svg";
  var svg = d.createElementNS(svgNs, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  var path = d.createElementNS(svgNs, "path");
  svg.appendChild(path);
  var badge = d.createElement("span");
  badge.className = "b";
  badge.hidden = true;
  badge.setAttribute("aria-hidden", "true");
  launcher.appendChild(svg);
  launcher.appendChild(badge);
  var panel = d.createElement("div");
  panel.className = "p";
  panel.setAttribute("role", "dialog");
  box.appendChild(panel);
  box.appendChild(launcher);
  root.appendChild(box);

  function lang() {
    var code = (state.locale || look.locale || navigator.language || "en").slice(0, 2);
    return LABELS[code] ? code : "en";
  }
  function paint() {
    box.className = (state.open ? "open " : "") + (look.position === "left" ? "left" : "");
    if (/^#[0-9a-fA-F]{6}$/.test(look.color || "")) box.style.setProperty("--c", look.color);
    var labels = LABELS[lang()];
    var label = state.open ? labels[1] : labels[0];
    if (state.unread && !state.open) label += " (" + state.unread + ")";
    launcher.setAttribute("aria-label", label);
    launcher.setAttribute("aria-expanded", String(state.open));
    panel.setAttribute("aria-label", labels[2]);
    path.setAttribute(
      "d",
      state.open
        ? "M18.3 5.7a1 1 0 0 0-1.4 0L12 10.6 7.1 5.7a1 1 0 1 0-1.4 1.4l4.9 4.9-4.9 4.9a1 1 0 1 0 1.4 1.4l4.9-4.9 4.9 4.9a1 1 0 0 0 1.4-1.4L13.4 12l4.9-4.9a1 1 0 0 0 0-1.4z"
        : "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z",
    );
    badge.hidden = !state.unread || state.open;
    badge.textContent = state.unread > 99 ? "99+" : String(state.unread);
  }

  // -- the frame and its bridge ---------------------------------------------------------------
  function post(msg) {
    if (frame && frameReady) {
      msg.parley = 1;
      frame.contentWindow.postMessage(msg, appOrigin);
    }
  }
  function createFrame() {
    if (frame) return;
    frame = d.createElement("iframe");
    frame.title = LABELS[lang()][2];
    frame.allow = "autoplay"; // the sound toggle's beep
    var src =
      appOrigin +
      "/widget/frame?site_key=" +
      encodeURIComponent(siteKey) +
      "&origin=" +
      encodeURIComponent(location.origin);
    if (transport) src += "&transport=" + encodeURIComponent(transport);
    frame.src = src;
    panel.appendChild(frame);
  }
  w.addEventListener("message", function (event) {
    if (!frame || event.origin !== appOrigin || event.source !== frame.contentWindow) return;
    var msg = event.data;
    if (!msg || msg.parley !== 1 || typeof msg.type !== "string") return;
    if (msg.type === "hello") {
      frameReady = true;
      if (state.open) frame.focus();
      post({
        type: "init",
        open: state.open,
        locale: state.locale,
        identity: state.identity,
        page: { url: location.href, title: d.title, referrer: d.referrer },
        push: canPush ? Notification.permission : null,
      });
      // Already subscribed: the frame posts it again (browsers rotate subscriptions).
      if (canPush && Notification.permission === "granted")
        sw.getRegistration(new URL(pushSw, location.href).href)
          .then(function (reg) {
            return reg && reg.pushManager.getSubscription();
          })
          .then(function (sub) {
            if (sub) post({ type: "push", subscription: sub.toJSON() });
          })
          .catch(function () {});
    } else if (msg.type === "push-subscribe" && canPush && typeof msg.key === "string") {
      subscribe(msg.key);
    } else if (msg.type === "look") {
      look = { color: msg.color, position: msg.position, locale: msg.locale };
      storeSet(flagKey + ":look", JSON.stringify(look));
      paint();
    } else if (msg.type === "active") {
      storeSet(flagKey, msg.value ? "1" : null);
    } else if (msg.type === "close") {
      setOpen(false, true);
    } else if (msg.type === "unread") {
      var count = Math.max(0, msg.count | 0);
      if (count !== state.unread) {
        state.unread = count;
        paint();
        emit("unread", count);
      }
    } else if (msg.type === "message" && msg.message) {
      emit("message", msg.message);
    }
  });

  // The visitor asked for push in the frame: the permission prompt, the service worker and the
  // subscription all belong to this page's origin; the frame stores the subscription.
  function subscribe(key) {
    var raw = atob(key.replace(/-/g, "+").replace(/_/g, "/"));
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    Notification.requestPermission()
      .then(function (permission) {
        if (permission !== "granted") throw permission;
        return sw.register(pushSw);
      })
      .then(function (reg) {
        var worker = reg.installing || reg.waiting;
        return reg.active
          ? reg
          : new Promise(function (done) {
              worker.addEventListener("statechange", function () {
                if (worker.state === "activated") done(reg);
              });
            });
      })
      .then(function (reg) {
        return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes });
      })
      .then(function (sub) {
        post({ type: "push", subscription: sub.toJSON() });
      })
      .catch(function (e) {
        post({ type: "push", error: e === "denied" ? "denied" : "failed" });
      });
  }

  function setOpen(open, fromFrame) {
    open = !!open;
    if (open === state.open) return;
    state.open = open;
    if (open) createFrame();
    paint();
    post({ type: open ? "open" : "close" });
    if (open) {
      if (frame && frameReady) frame.focus();
    } else if (fromFrame) {
      launcher.focus();
    }
    emit(open ? "open" : "close");
  }
  launcher.addEventListener("click", function () {
    setOpen(!state.open);
  });

  // -- the public API -------------------------------------------------------------------------
  var api = {
    _loaded: true,
    open: function () {
      setOpen(true);
    },
    close: function () {
      setOpen(false);
    },
    toggle: function () {
      setOpen(!state.open);
    },
    identify: function (identity) {
      state.identity = identity || null;
      post({ type: "identify", identity: state.identity });
    },
    setLocale: function (code) {
      state.locale = typeof code === "string" ? code : null;
      paint();
      post({ type: "locale", locale: state.locale });
    },
    on: function (name, fn) {
      if (typeof fn !== "function") return function () {};
      (handlers[name] = handlers[name] || []).push(fn);
      if (name === "ready" && isReady) fn();
      return function () {
        var list = handlers[name] || [];
        var at = list.indexOf(fn);
        if (at >= 0) list.splice(at, 1);
      };
    },
  };

  function start() {
    // Calls made before now sit in the stub's queue (window.Parley = {q: [[name, ...args]]}).
    var queue = (w.Parley && w.Parley.q) || [];
    w.Parley = api;
    d.body.appendChild(host);
    paint();
    for (var i = 0; i < queue.length; i++) {
      var call = Array.prototype.slice.call(queue[i]);
      var method = api[call[0]];
      if (typeof method === "function" && call[0] !== "_loaded") {
        try {
          method.apply(api, call.slice(1));
        } catch (e) {
          /* a bad queued call must not stop the others */
        }
      }
    }
    queue.length = 0;
    isReady = true;
    emit("ready");
    if (!look.color && w.fetch) {
      // First page view in this browser: the frame has never told us the site's look.
      w.fetch(appOrigin + "/widget/look?site_key=" + encodeURIComponent(siteKey), {
        credentials: "omit",
      })
        .then(function (r) {
          return r.ok ? r.json() : null;
        })
        .then(function (l) {
          if (!l || look.color) return; // the frame answered first: it is the fresher
          look = { color: l.color, position: l.position, locale: l.locale };
          storeSet(flagKey + ":look", JSON.stringify(look));
          paint();
        })
        .catch(function () {});
    }

    if (location.hash === "#parley-open") setOpen(true); // a visitor's push was clicked
    if (!frame && storeGet(flagKey)) {
      if (w.requestIdleCallback) w.requestIdleCallback(createFrame, { timeout: 4000 });
      else setTimeout(createFrame, 1500);
    }
  }
  if (d.body) start();
  else d.addEventListener("DOMContentLoaded", start);
})();
