// Building the page. Strings always become text nodes or attribute values, never markup: there is
// no innerHTML anywhere, and the CSP's require-trusted-types-for makes the browser refuse one.

const SVG = "http://www.w3.org/2000/svg";

function build(element, props, children) {
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "class") element.setAttribute("class", value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  return append(element, ...children);
}

// Appends children as h() does: nested arrays flattened; null, undefined and false skipped (the DOM's own
// append would show them as the words "null", "undefined", "false"); anything else not a node as text.
export function append(element, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

export function h(tag, props, ...children) {
  return build(document.createElement(tag), props, children);
}

export function svg(tag, props, ...children) {
  return build(document.createElementNS(SVG, tag), props, children);
}

let counter = 0;
export function uid(prefix = "id") {
  counter += 1;
  return `${prefix}-${counter}`;
}

// A labelled control with a hint and an error slot, both announced with the control.
export function field(label, control, { hint } = {}) {
  control.id ||= uid("field");
  const described = [];
  const parts = [h("label", { for: control.id }, label)];
  if (hint) {
    const hintId = `${control.id}-hint`;
    parts.push(h("p", { class: "hint", id: hintId }, hint));
    described.push(hintId);
  }
  parts.push(control);
  const errorId = `${control.id}-error`;
  parts.push(h("p", { class: "field-error", id: errorId, hidden: true }));
  control.dataset.hint = described.join(" ");
  if (described.length) control.setAttribute("aria-describedby", described.join(" "));
  return h("div", { class: "field" }, parts);
}

export function formError() {
  return h("div", { class: "form-error", role: "alert", hidden: true });
}

export function clearErrors(form) {
  for (const control of form.querySelectorAll("[aria-invalid]")) {
    control.removeAttribute("aria-invalid");
    const hint = control.dataset.hint;
    if (hint) control.setAttribute("aria-describedby", hint);
    else control.removeAttribute("aria-describedby");
    const slot = document.getElementById(`${control.id}-error`);
    if (slot) {
      slot.textContent = "";
      slot.hidden = true;
    }
  }
  const general = form.querySelector(".form-error");
  if (general) {
    general.textContent = "";
    general.hidden = true;
  }
}

// Shows an error beside each field the API named (details[].field, "items.0.quantity" -> items),
// and the rest above the button; focuses the first field in error.
export function showErrors(form, error) {
  clearErrors(form);
  const unplaced = [];
  let first = null;
  for (const detail of error.details || []) {
    const name = String(detail.field || "").split(".")[0];
    const control = name ? form.querySelector(`[name="${CSS.escape(name)}"]`) : null;
    const message = String(detail.message || "is invalid");
    if (!control) {
      unplaced.push(detail.field ? `${detail.field}: ${message}` : message);
      continue;
    }
    const slot = document.getElementById(`${control.id}-error`);
    const where = String(detail.field).includes(".") ? `${detail.field.split(".").slice(1).join(".")}: ` : "";
    slot.textContent = slot.textContent ? `${slot.textContent}; ${where}${message}` : `${where}${message}`;
    slot.hidden = false;
    control.setAttribute("aria-invalid", "true");
    control.setAttribute("aria-describedby", [control.dataset.hint, slot.id].filter(Boolean).join(" "));
    first ||= control;
  }
  const general = form.querySelector(".form-error");
  const placed = first !== null;
  const lines = placed && !unplaced.length ? [] : [error.message, ...unplaced];
  if (general && lines.length) {
    general.replaceChildren(...lines.map((line) => h("p", {}, line)));
    general.hidden = false;
  }
  (first || form.querySelector("button[type=submit]"))?.focus();
}

export function setBusy(button, busy, busyText) {
  button.disabled = busy;
  if (busy) {
    button.dataset.label ||= button.textContent;
    if (busyText) button.textContent = busyText;
  } else if (button.dataset.label) {
    button.textContent = button.dataset.label;
  }
}

// YYYY-MM-DD of today in UTC: the API's "overdue" compares due dates with the UTC date.
export function todayUtc() {
  return new Date().toISOString().slice(0, 10);
}

export function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}
