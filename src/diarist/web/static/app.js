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
