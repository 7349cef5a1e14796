// diarist's own script: a little help on top of pages that work without it.

// Shortcuts: "n" writes a new entry, "/" goes to search (not while typing in a field).
const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || typing(document.activeElement)) return;
  if (event.key === "n") window.location.assign("/write");
  if (event.key === "/") {
    event.preventDefault();
    const box = document.getElementById("q");
    if (box) box.focus(); else window.location.assign("/search");
  }
});

// Buttons that ask first (moving an entry to the trash, deleting the account).
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
});

const store = window.localStorage;
const say = (text) => {
  const note = document.createElement("p");
  note.className = "notice";
  note.setAttribute("role", "status");
  note.textContent = text;
  document.querySelector("main").prepend(note);
};

// What this browser keeps (drafts, the outbox) belongs to the signed-in writer: its keys carry
// the page's scope, a tag of the account (never shown to another account, removed at sign-out).
// The offline page has no session; it uses the last writer's scope, if they did not sign out.
const liveScope = document.body.dataset.scope || "";
if (liveScope) store.setItem("diarist:scope", liveScope);
const scope = liveScope || store.getItem("diarist:scope") || "";
const keyOf = (kind, path) => `diarist:${kind}:${scope}:${path}`;
const read = (key, fallback) => { try { return JSON.parse(store.getItem(key) || "null") ?? fallback; } catch { return fallback; } };

for (const form of document.querySelectorAll('form[action="/logout"]')) {
  form.addEventListener("submit", () => {
    for (const key of Object.keys(store)) if (key.startsWith("diarist:") && key.includes(`:${scope}:`)) store.removeItem(key);
    store.removeItem("diarist:scope");
  });
}

// Drafts: what is typed in the editor is kept until the server has taken it, so a closed tab or
// a lost connection loses nothing. On submit the draft becomes "sent"; the next page clears it
// (the save worked) unless it is this form again, shown by the browser after a failed request.
// An edit's draft keeps the version it was typed against: saving it over a newer version is
// the server's edit conflict, never a silent overwrite.
const DRAFT_FIELDS = ["title", "text", "tags", "mood", "version"];
const draftForm = scope ? document.querySelector("form[data-draft]") : null;
const path = window.location.pathname;
if (draftForm) {
  const field = (name) => draftForm.elements.namedItem(name);
  const draft = read(keyOf("draft", path), null) || read(keyOf("sent", path), null);
  const differs = draft && DRAFT_FIELDS.some((n) => n !== "version" && field(n) && typeof draft[n] === "string" && field(n).value !== draft[n]);
  if (differs) {
    for (const n of DRAFT_FIELDS) if (field(n) && typeof draft[n] === "string") field(n).value = draft[n];
    store.setItem(keyOf("draft", path), JSON.stringify(draft));
    const note = document.createElement("p");
    note.className = "notice";
    note.setAttribute("role", "status");
    note.textContent = "A draft you had not saved was restored. ";
    const discard = document.createElement("button");
    discard.type = "button";
    discard.className = "link";
    discard.textContent = "Discard it";
    discard.addEventListener("click", () => { store.removeItem(keyOf("draft", path)); window.location.reload(); });
    note.append(discard);
    draftForm.before(note);
  }
  draftForm.addEventListener("input", () => {
    const values = Object.fromEntries(DRAFT_FIELDS.filter(field).map((n) => [n, field(n).value]));
    store.setItem(keyOf("draft", path), JSON.stringify(values));
  });
  draftForm.addEventListener("submit", () => {
    const draft = store.getItem(keyOf("draft", path));
    if (draft) store.setItem(keyOf("sent", path), draft);
    store.removeItem(keyOf("draft", path));
  });
}
for (const key of Object.keys(store)) {
  if (key.startsWith(`diarist:sent:${scope}:`) && !(draftForm && key === keyOf("sent", path))) store.removeItem(key);
}
if (draftForm) store.removeItem(keyOf("sent", path));

// Live preview of the Markdown being written, rendered by the server exactly as the entry page
// will show it (sanitised there). Answers that come late are dropped.
const editor = document.querySelector("textarea[data-preview]");
if (editor && editor.form.elements.namedItem("csrf")) {
  const box = document.getElementById(editor.dataset.preview);
  let timer;
  let asked = 0;
  const render = async () => {
    const ask = ++asked;
    const body = new FormData();
    body.set("csrf", editor.form.elements.namedItem("csrf").value);
    body.set("text", editor.value);
    const response = await fetch("/preview", { method: "POST", body, credentials: "same-origin", redirect: "manual" });
    if (response.ok && ask === asked) {
      box.innerHTML = await response.text();
      box.hidden = editor.value.trim() === "";
    }
  };
  editor.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(render, 300); });
  if (editor.value.trim()) render();
}

// Installable: the service worker keeps the shell and an offline page (never journal pages).
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});

// The outbox: an entry written while offline waits in this browser and is sent, by its writer's
// next page, when the connection returns; with its idempotency key, sent twice it is still
// written once.
const OUTBOX = keyOf("outbox", "");
const liveCsrf = document.querySelector('input[name="csrf"]');

for (const form of document.querySelectorAll('form[action="/write"]')) {
  form.addEventListener("submit", (event) => {
    if (navigator.onLine && !form.hasAttribute("data-outbox")) return;
    event.preventDefault();
    if (!scope) { say("You are signed out: sign in first, then write."); return; }
    const fields = Object.fromEntries(new FormData(form));
    delete fields.csrf;
    if (!fields.idempotency) fields.idempotency = crypto.randomUUID();
    store.setItem(OUTBOX, JSON.stringify([...read(OUTBOX, []), fields]));
    store.removeItem(keyOf("draft", path));
    form.reset();
    say("Kept in this browser: it will be saved to your journal when you are back online.");
    if (navigator.onLine) sendOutbox();
  });
}

async function sendOutbox() {
  const waiting = read(OUTBOX, []);
  if (!navigator.onLine || waiting.length === 0) return;
  if (!liveScope || !liveCsrf) return; // the offline page: the next signed-in page sends them
  const left = [];
  let sent = 0;
  for (const fields of waiting) {
    const body = new FormData();
    for (const [name, value] of Object.entries(fields)) body.set(name, value);
    body.set("csrf", liveCsrf.value);
    try {
      const response = await fetch("/write", { method: "POST", body, credentials: "same-origin", redirect: "manual" });
      if (response.type === "opaqueredirect" || response.ok) sent += 1;
      else if (response.status === 422) say("An entry written offline could not be saved: open Write and try again.");
      else left.push(fields); // the server is away: try again later
    } catch {
      left.push(fields);
    }
  }
  store.setItem(OUTBOX, JSON.stringify(left));
  if (sent) say(`${sent} ${sent === 1 ? "entry" : "entries"} written offline ${sent === 1 ? "is" : "are"} now in your journal.`);
}
window.addEventListener("online", sendOutbox);
// The online event is not always delivered (a page the service worker served, some
// browsers): look again now and then while something waits.
window.setInterval(() => { if (read(OUTBOX, []).length) sendOutbox(); }, 2000);
sendOutbox();

// Infinite scroll: the timeline's next page is fetched and added when its link comes into
// view (the link itself still works without this).
const older = document.querySelector('a[rel="next"]');
const entryList = document.querySelector("ol.entries");
if (older && entryList && "IntersectionObserver" in window) {
  const holder = older.closest("p") || older;
  let loading = false;
  const observer = new IntersectionObserver(async (seen) => {
    const link = holder.querySelector('a[rel="next"]');
    if (loading || !link || !seen.some((entry) => entry.isIntersecting)) return;
    loading = true;
    try {
      const response = await fetch(link.href, { credentials: "same-origin", redirect: "manual" });
      if (!response.ok) return;
      const next = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const item of next.querySelectorAll("ol.entries > li")) entryList.append(document.importNode(item, true));
      const following = next.querySelector('a[rel="next"]');
      if (following) link.setAttribute("href", following.getAttribute("href"));
      else { observer.disconnect(); holder.remove(); }
    } finally {
      loading = false;
    }
  });
  observer.observe(holder);
}

// Web push on this device (the notifications page): subscribe with the server's VAPID key and
// hand the subscription to the server with the page's CSRF token.
(() => {
  const section = document.getElementById("push");
  if (!section || !("serviceWorker" in navigator) || !("PushManager" in window)) return;
  section.hidden = false;
  const state = document.getElementById("push-state");
  const button = document.getElementById("push-on");
  const keyBytes = (text) => {
    const padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  };
  button.addEventListener("click", async () => {
    try {
      if ((await Notification.requestPermission()) !== "granted") {
        state.textContent = "Notifications are blocked for this site in the browser.";
        return;
      }
      const registration = await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: keyBytes(section.dataset.key),
      });
      const json = subscription.toJSON();
      const body = new URLSearchParams({
        csrf: section.dataset.csrf, endpoint: json.endpoint, p256dh: json.keys.p256dh, auth: json.keys.auth,
      });
      const answer = await fetch("/notifications/push", { method: "POST", body, credentials: "same-origin" });
      state.textContent = answer.ok ? "Notifications are on for this device." : await answer.text();
    } catch (error) {
      state.textContent = "This browser could not turn notifications on.";
    }
  });
})();
