// Keep shared URLs short: filter forms send only the fields that have a value.
document.addEventListener("htmx:configRequest", (event) => {
  if (event.detail.verb !== "get") return;
  for (const [name, value] of Object.entries(event.detail.parameters)) {
    if (value === "") delete event.detail.parameters[name];
  }
});

// Copy buttons: a button with data-copy="ID" copies the text of the element ID (plain, selectable text without
// JavaScript, where the buttons stay hidden) and says "Copied" for a moment, to sight and to screen readers.
function showCopyButtons(root) {
  if (!navigator.clipboard) return;
  for (const button of root.querySelectorAll("button[data-copy]")) button.hidden = false;
}
document.addEventListener("DOMContentLoaded", () => showCopyButtons(document));
document.addEventListener("htmx:load", (event) => showCopyButtons(event.detail.elt));
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  try {
    await navigator.clipboard.writeText(source.textContent.trim());
    button.textContent = "Copied";
    button.classList.add("copied");
  } catch {
    button.textContent = "Copy failed: select the text";
  }
  let status = button.parentElement.querySelector(".copy-status");
  if (!status) {
    status = document.createElement("span");
    status.className = "copy-status visually-hidden";
    status.setAttribute("role", "status");
    button.after(status);
  }
  status.textContent = button.textContent;
  clearTimeout(button.copyTimer);
  button.copyTimer = setTimeout(() => {
    button.textContent = label;
    button.classList.remove("copied");
    status.textContent = "";
  }, 2000);
});
