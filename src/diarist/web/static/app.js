// diarist's own script: a little help on top of pages that work without it.
// Shortcuts: "n" writes a new entry, "/" goes to search (not while typing in a field).
const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || typing(document.activeElement)) return;
  if (event.key === "n") { window.location.assign("/write"); }
  if (event.key === "/") {
    event.preventDefault();
    const box = document.getElementById("q");
    if (box) box.focus(); else window.location.assign("/search");
  }
});

// Buttons that ask first (moving an entry to the trash).
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
});

// Drafts: what is typed in the editor is kept in this browser until it is saved, so a closed
// tab or a lost connection loses nothing. (It stays on this device only.)
const DRAFT_FIELDS = ["title", "text", "tags", "mood"];
const draftForm = document.querySelector("form[data-draft]");
if (draftForm) {
  const key = `diarist:draft:${window.location.pathname}`;
  const field = (name) => draftForm.elements.namedItem(name);
  let draft = null;
  try { draft = JSON.parse(window.localStorage.getItem(key) || "null"); } catch { draft = null; }
  const differs = draft && DRAFT_FIELDS.some((n) => field(n) && typeof draft[n] === "string" && field(n).value !== draft[n]);
  if (differs) {
    for (const n of DRAFT_FIELDS) if (field(n) && typeof draft[n] === "string") field(n).value = draft[n];
    const note = document.createElement("p");
    note.className = "notice";
    note.setAttribute("role", "status");
    note.textContent = "A draft you had not saved was restored. ";
    const discard = document.createElement("button");
    discard.type = "button";
    discard.className = "link";
    discard.textContent = "Discard it";
    discard.addEventListener("click", () => { window.localStorage.removeItem(key); window.location.reload(); });
    note.append(discard);
    draftForm.before(note);
  }
  draftForm.addEventListener("input", () => {
    const values = Object.fromEntries(DRAFT_FIELDS.filter(field).map((n) => [n, field(n).value]));
    window.localStorage.setItem(key, JSON.stringify(values));
  });
  draftForm.addEventListener("submit", () => window.localStorage.removeItem(key));
}

// Live preview of the Markdown being written, rendered by the server exactly as the entry
// page will show it (sanitised there).
const editor = document.querySelector("textarea[data-preview]");
if (editor) {
  const box = document.getElementById(editor.dataset.preview);
  let timer;
  const render = async () => {
    const body = new FormData();
    body.set("csrf", editor.form.elements.namedItem("csrf").value);
    body.set("text", editor.value);
    const response = await fetch("/preview", { method: "POST", body, credentials: "same-origin" });
    if (response.ok) {
      box.innerHTML = await response.text();
      box.hidden = editor.value.trim() === "";
    }
  };
  editor.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(render, 300); });
  if (editor.value.trim()) render();
}

// Installable: the service worker keeps the shell and an offline page (never journal pages).
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").catch(() => {});
}

// The outbox: an entry written while offline waits in this browser and is sent when the
// connection returns, with its idempotency key (sent twice, it is still written once).
const OUTBOX = "diarist:outbox";
const CSRF = "diarist:csrf";
const pageCsrf = document.querySelector('input[name="csrf"]');
if (pageCsrf) window.localStorage.setItem(CSRF, pageCsrf.value);
const queued = () => { try { return JSON.parse(window.localStorage.getItem(OUTBOX) || "[]"); } catch { return []; } };

const say = (text) => {
  const note = document.createElement("p");
  note.className = "notice";
  note.setAttribute("role", "status");
  note.textContent = text;
  document.querySelector("main").prepend(note);
};

for (const form of document.querySelectorAll('form[action="/write"]')) {
  form.addEventListener("submit", (event) => {
    if (navigator.onLine && !form.hasAttribute("data-outbox")) return;
    event.preventDefault();
    const fields = Object.fromEntries(new FormData(form));
    if (!fields.idempotency) fields.idempotency = crypto.randomUUID();
    window.localStorage.setItem(OUTBOX, JSON.stringify([...queued(), fields]));
    window.localStorage.removeItem(`diarist:draft:${window.location.pathname}`);
    form.reset();
    say("Kept in this browser: it will be saved to your journal when you are back online.");
    if (navigator.onLine) sendOutbox();
  });
}

async function sendOutbox() {
  const waiting = queued();
  if (!navigator.onLine || waiting.length === 0) return;
  const left = [];
  let sent = 0;
  for (const fields of waiting) {
    const body = new FormData();
    for (const [name, value] of Object.entries(fields)) body.set(name, value);
    if (!fields.csrf) body.set("csrf", window.localStorage.getItem(CSRF) || "");
    try {
      const response = await fetch("/write", { method: "POST", body, credentials: "same-origin", redirect: "manual" });
      if (response.type === "opaqueredirect" || response.ok) sent += 1;
      else if (response.status === 422) say("An entry written offline could not be saved: open Write and try again.");
      else left.push(fields); // signed out, or the server is away: try again later
    } catch {
      left.push(fields);
    }
  }
  window.localStorage.setItem(OUTBOX, JSON.stringify(left));
  if (sent) say(`${sent} ${sent === 1 ? "entry" : "entries"} written offline ${sent === 1 ? "is" : "are"} now in your journal.`);
}
window.addEventListener("online", sendOutbox);
sendOutbox();
