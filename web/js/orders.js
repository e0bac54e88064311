// Orders: place one, then follow it from PENDING to CONFIRMED.
//
// Every submission gets a fresh Idempotency-Key, kept until the API accepts the order or the form
// changes: a second click, or a retry after a lost answer, sends the same key, and the API places
// one order. While a submission is under way the button is disabled as well.
// There is no route that lists orders, so this screen shows the orders placed in this tab.

import { ApiError, newIdempotencyKey } from "./api.js";
import { api, session, SessionEnded, STORAGE_PREFIX } from "./session.js";
import { clearErrors, field, formError, formatTime, h, setBusy, showErrors } from "./dom.js";
import { pathOf } from "./routes.js";

const STORE_PREFIX = `${STORAGE_PREFIX}orders.`;
const FIRST_DELAY_MS = 250;
const BACKOFF = 1.6;
const MAX_DELAY_MS = 4000;
const GIVE_UP_MS = 60000;

// The orders placed in this tab by the signed-in user, newest first:
// {orderId, amount, currency, status, placedAt, state}
let owner = null;
let orders = [];
const pollers = new Map();
let redraw = () => {};

function loadFor(userId) {
  if (owner === userId) return;
  for (const timer of pollers.values()) clearTimeout(timer);
  pollers.clear();
  owner = userId;
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORE_PREFIX + userId) || "[]");
    orders = Array.isArray(saved) ? saved : [];
  } catch {
    orders = [];
  }
}

function save() {
  sessionStorage.setItem(STORE_PREFIX + owner, JSON.stringify(orders));
}

function parseItems(text) {
  const items = [];
  const lines = text.split("\n").map((line) => line.trim()).filter(Boolean);
  for (const [index, line] of lines.entries()) {
    const found = /^(\S+)\s+(?:x\s*)?(\d+)$/i.exec(line);
    if (!found) throw new ApiError(400, "invalid_input", "The request is invalid", [{ field: "items", message: `line ${index + 1}: write a SKU and a quantity, e.g. book-42 2` }]);
    items.push({ sku: found[1], quantity: Number(found[2]) });
  }
  return items;
}

// Polls GET /orders/{id}: 404 until the worker has stored the order, then its status.
function follow(order) {
  if (pollers.has(order.orderId) || order.status !== "PENDING") return;
  const started = Date.now();
  let delay = FIRST_DELAY_MS;
  const tick = async () => {
    try {
      const stored = await api("GET", pathOf("get_order", { orderId: order.orderId }));
      order.status = stored.status || "CONFIRMED";
      order.state = "";
      pollers.delete(order.orderId);
      save();
      redraw();
      return;
    } catch (error) {
      if (error instanceof SessionEnded) {
        pollers.delete(order.orderId);
        return;
      }
      if (!(error instanceof ApiError && error.status === 404)) order.state = `Could not check: ${error.message}`;
    }
    if (Date.now() - started > GIVE_UP_MS) {
      order.state = "Still pending. Check again later.";
      pollers.delete(order.orderId);
      save();
      redraw();
      return;
    }
    delay = Math.min(delay * BACKOFF, MAX_DELAY_MS);
    pollers.set(order.orderId, setTimeout(tick, delay));
    redraw();
  };
  pollers.set(order.orderId, setTimeout(tick, delay));
}

export function ordersView(screen) {
  loadFor(session.get().userId);
  const amount = h("input", { name: "amount", inputmode: "decimal", autocomplete: "off", required: true });
  const currency = h("input", { name: "currency", value: "EUR", maxlength: 3, autocapitalize: "characters", autocomplete: "off", required: true, class: "short" });
  const items = h("textarea", { name: "items", rows: 2 });
  const place = h("button", { type: "submit" }, "Place order");
  const form = h(
    "form",
    { novalidate: true, class: "card", "aria-labelledby": "new-order-title" },
    h("h2", { id: "new-order-title" }, "New order"),
    h("div", { class: "row" }, field("Amount", amount, { hint: "For example 12.50" }), field("Currency", currency, { hint: "ISO 4217 code, e.g. EUR" })),
    field("Items (optional)", items, { hint: "One per line: a SKU and a quantity, e.g. book-42 2" }),
    formError(),
    place,
  );
  const list = h("ul", { class: "orders" });
  const empty = h("p", { class: "muted" }, "No orders placed in this tab yet.");

  let key = null; // the key of the submission being made; a changed form is a new submission
  let submitting = false;
  form.addEventListener("input", () => {
    if (!submitting) key = null;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submitting) return;
    clearErrors(form);
    let body;
    try {
      body = { amount: amount.value.trim(), currency: currency.value.trim().toUpperCase() };
      const parsed = parseItems(items.value);
      if (parsed.length) body.items = parsed;
    } catch (error) {
      showErrors(form, error);
      return;
    }
    key ||= newIdempotencyKey();
    submitting = true;
    setBusy(place, true, "Placing order…");
    try {
      const answer = await api("POST", pathOf("create_order"), { body, headers: { "Idempotency-Key": key } });
      const order = { orderId: answer.orderId, amount: body.amount, currency: body.currency, status: answer.status, placedAt: new Date().toISOString(), state: "" };
      if (!orders.some((o) => o.orderId === order.orderId)) orders.unshift(order);
      save();
      key = null;
      form.reset();
      follow(order);
      redraw();
    } catch (error) {
      if (!(error instanceof SessionEnded)) showErrors(form, error);
    } finally {
      submitting = false;
      setBusy(place, false);
    }
  });

  const rows = new Map();
  function row(order) {
    const badge = h("span", { class: "badge" });
    const note = h("span", { class: "order-note" });
    const again = h("button", { type: "button", class: "secondary" }, "Check again");
    again.addEventListener("click", () => {
      order.state = "";
      follow(order);
      redraw();
    });
    const li = h(
      "li",
      { class: "order", "data-id": order.orderId },
      h("p", { class: "order-amount" }, `${order.amount} ${order.currency}`),
      h("p", { class: "order-meta" }, `Order ${order.orderId}, placed ${formatTime(order.placedAt)}`),
      h("p", { class: "order-state", role: "status" }, "Status: ", badge, note),
      again,
    );
    return { li, badge, note, again };
  }
  // Updates the rows in place, so each status line stays one live region that announces its changes.
  redraw = () => {
    if (!list.isConnected) return;
    empty.hidden = orders.length > 0;
    for (const [index, order] of orders.entries()) {
      let view = rows.get(order.orderId);
      if (!view) {
        view = row(order);
        rows.set(order.orderId, view);
      }
      if (list.children[index] !== view.li) list.insertBefore(view.li, list.children[index] || null);
      view.li.className = `order status-${String(order.status).toLowerCase()}`;
      view.badge.textContent = order.status;
      view.note.textContent = order.state ? ` ${order.state}` : "";
      view.again.hidden = !(order.status === "PENDING" && !pollers.has(order.orderId));
    }
  };

  screen.append(
    h("h1", {}, "Orders"),
    form,
    h("section", { class: "card", "aria-labelledby": "placed-title" }, h("h2", { id: "placed-title" }, "Orders placed in this tab"), empty, list),
  );
  for (const order of orders) follow(order);
  redraw();
}
