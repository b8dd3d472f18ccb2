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

// After an htmx action the control just used is often swapped away with the panel it was in, and the browser would
// drop focus to the page body: keyboard and screen-reader users would have to find their place again. Move focus to
// the result instead: where the trigger says (data-focus-after), else the message or the updated part of the page.
// Focus that is still in place (a field htmx kept by its id, the Stage selector) is left alone.
const settled = new WeakSet();
const RESULT = "[data-focus], [role=alert], [role=status], [aria-current=page]";
document.addEventListener("htmx:afterSettle", (event) => {
  const { xhr, target, requestConfig } = event.detail;
  if (!xhr || settled.has(xhr)) return; // afterSettle fires on each swapped element; act once per response
  settled.add(xhr);
  const active = document.activeElement;
  if (active && active !== document.body && active.isConnected) return;
  const wanted = requestConfig?.elt?.dataset?.focusAfter;
  const swapped = target?.isConnected ? target : target?.id && document.getElementById(target.id);
  const result = (wanted && document.querySelector(wanted)) || swapped?.querySelector(RESULT) || swapped;
  if (!result) return;
  if (!result.matches("a[href], button, input, select, textarea, [tabindex]")) result.setAttribute("tabindex", "-1");
  result.focus();
});

// The Stage selector opens one request panel per stage chosen. Arrowing through its options fires change on each
// one; the trigger waits for a pause (hx-trigger's delay), and here nothing is asked for the stage whose panel is
// already open (arrowing away and back, or choosing the prompt while no panel is open).
document.addEventListener("htmx:confirm", (event) => {
  const form = event.detail.elt;
  if (!(form instanceof HTMLFormElement) || !form.classList.contains("stage-select")) return;
  const panel = document.getElementById("request-panel");
  if (panel && (panel.dataset.toStage || "") === form.elements.to_stage.value) event.preventDefault();
});
