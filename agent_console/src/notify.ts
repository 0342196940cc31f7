// Desktop notifications, a short sound and the unread count in the tab's title.

let audio: AudioContext | null = null;
let baseTitle = "Parley console";
let unread = 0;

export function setBaseTitle(title: string): void {
  baseTitle = title;
  renderTitle();
}

export function setUnread(count: number): void {
  unread = count;
  renderTitle();
}

function renderTitle(): void {
  document.title = unread > 0 ? `(${unread}) ${baseTitle}` : baseTitle;
}

export function notificationsSupported(): boolean {
  return "Notification" in window;
}

export function notificationPermission(): string {
  return notificationsSupported() ? Notification.permission : "unsupported";
}

export async function askPermission(): Promise<string> {
  if (!notificationsSupported()) return "unsupported";
  unlockSound();
  return Notification.requestPermission();
}

/** Browsers only let a page make sound after a user gesture: prepare the context then. */
export function unlockSound(): void {
  try {
    audio = audio || new AudioContext();
    if (audio.state === "suspended") void audio.resume();
  } catch {
    audio = null;
  }
}

function beep(): void {
  if (!audio) return;
  const now = audio.currentTime;
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.type = "sine";
  osc.frequency.setValueAtTime(880, now);
  osc.frequency.setValueAtTime(660, now + 0.12);
  gain.gain.setValueAtTime(0.0001, now);
  gain.gain.exponentialRampToValueAtTime(0.2, now + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.3);
  osc.connect(gain).connect(audio.destination);
  osc.start(now);
  osc.stop(now + 0.32);
}

/** Alert the agent about a new ticket or message, only while the tab is hidden. */
export function alertAgent(title: string, body: string, ticketId: string): void {
  if (!document.hidden) return;
  beep();
  if (notificationPermission() !== "granted") return;
  const note = new Notification(title, { body: body.slice(0, 140), tag: `parley-${ticketId}` });
  note.onclick = () => {
    window.focus();
    location.hash = `#/inbox/${ticketId}`;
    note.close();
  };
}
