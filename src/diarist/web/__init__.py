"""The web app: server-rendered pages at `/`, on the same services as the API (no second copy
of any rule), with progressive enhancement (every page works without JavaScript). An entry
point like `app`: it reaches the domains' services, never their routers. See docs/web.md."""
