// diarist's service worker: the shell for offline use, never the journal's pages.
const SHELL = "diarist-shell-__VERSION__";
const ASSETS = ["/static/app.css", "/static/app.js", "/static/icon.svg", "/offline"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== SHELL).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    // Pages come from the network (they are someone's journal: never cached); offline, the
    // offline page, whose form keeps what is written until the connection returns.
    event.respondWith(fetch(request).catch(() => caches.match("/offline")));
    return;
  }
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});

// A reminder pushed by the server (docs/reminders.md, "Web push"): shown as a notification;
// a click opens its page (a path on this site only).
self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = {};
  }
  const title = typeof message.title === "string" ? message.title : "diarist";
  const link = typeof message.link === "string" && message.link.startsWith("/") && !message.link.startsWith("//")
    ? message.link : "/notifications";
  event.waitUntil(self.registration.showNotification(title, {
    body: typeof message.body === "string" ? message.body : "",
    tag: typeof message.tag === "string" ? message.tag : undefined,
    icon: "/static/icon.svg",
    data: { link },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const link = (event.notification.data && event.notification.data.link) || "/notifications";
  event.waitUntil(self.clients.openWindow(link));
});
