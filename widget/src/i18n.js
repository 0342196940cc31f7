// The frame's few UI strings. Site texts (title, greeting) come from the site's settings.
const STRINGS = {
  en: {
    placeholder: "Type your message…",
    send: "Send",
    close: "Close chat",
    sending: "Sending…",
    sent: "Sent",
    delivered: "Delivered",
    seen: "Seen",
    failed: "Not sent. Tap to retry.",
    retrying: "Not sent yet. Retrying…",
    reconnecting: "Reconnecting…",
    connecting: "Connecting…",
    typing: "{name} is typing…",
    someone: "Someone",
    online: "We're online",
    away: "We'll reply as soon as we can",
    you: "You",
    log: "Conversation",
  },
  es: {
    placeholder: "Escribe tu mensaje…",
    send: "Enviar",
    close: "Cerrar chat",
    sending: "Enviando…",
    sent: "Enviado",
    delivered: "Entregado",
    seen: "Visto",
    failed: "No enviado. Toca para reintentar.",
    retrying: "Aún no enviado. Reintentando…",
    reconnecting: "Reconectando…",
    connecting: "Conectando…",
    typing: "{name} está escribiendo…",
    someone: "Alguien",
    online: "Estamos en línea",
    away: "Te responderemos lo antes posible",
    you: "Tú",
    log: "Conversación",
  },
  de: {
    placeholder: "Nachricht eingeben…",
    send: "Senden",
    close: "Chat schließen",
    sending: "Wird gesendet…",
    sent: "Gesendet",
    delivered: "Zugestellt",
    seen: "Gelesen",
    failed: "Nicht gesendet. Tippen zum Wiederholen.",
    retrying: "Noch nicht gesendet. Neuer Versuch…",
    reconnecting: "Verbindung wird wiederhergestellt…",
    connecting: "Verbinden…",
    typing: "{name} schreibt…",
    someone: "Jemand",
    online: "Wir sind online",
    away: "Wir antworten so bald wie möglich",
    you: "Du",
    log: "Unterhaltung",
  },
  fr: {
    placeholder: "Écrivez votre message…",
    send: "Envoyer",
    close: "Fermer le chat",
    sending: "Envoi…",
    sent: "Envoyé",
    delivered: "Distribué",
    seen: "Vu",
    failed: "Non envoyé. Touchez pour réessayer.",
    retrying: "Pas encore envoyé. Nouvel essai…",
    reconnecting: "Reconnexion…",
    connecting: "Connexion…",
    typing: "{name} écrit…",
    someone: "Quelqu'un",
    online: "Nous sommes en ligne",
    away: "Nous vous répondrons dès que possible",
    you: "Vous",
    log: "Conversation",
  },
};

let current = "en";

/** The first supported language among the candidates (codes like "de-AT" count as "de"). */
export function pickLang(...candidates) {
  for (const code of candidates.flat()) {
    const base = typeof code === "string" ? code.slice(0, 2).toLowerCase() : "";
    if (STRINGS[base]) return base;
  }
  return "en";
}

export function setLang(code) {
  current = STRINGS[code] ? code : "en";
  return current;
}

export function lang() {
  return current;
}

export function t(key, vars) {
  let text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) text = text.replace(`{${k}}`, () => v);
  return text;
}
