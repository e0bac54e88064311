// The report: GET /dashboard/{userId} drawn for a person. A bar chart (inline SVG) of the todos by
// status and the overdue ones, the same numbers in a table, the recent todos and the orders by status.

import { api, session } from "./session.js";
import { h, svg, uid } from "./dom.js";
import { pathOf } from "./routes.js";

const BAR_AREA = 220;
const LABEL_WIDTH = 80;
const ROW_HEIGHT = 34;

function chart(rows, caption) {
  const largest = Math.max(1, ...rows.map((row) => row.value));
  const titleId = uid("chart");
  const height = rows.length * ROW_HEIGHT + 8;
  return svg(
    "svg",
    { class: "chart", viewBox: `0 0 ${LABEL_WIDTH + BAR_AREA + 50} ${height}`, role: "img", "aria-labelledby": titleId, preserveAspectRatio: "xMinYMin meet" },
    svg("title", { id: titleId }, `${caption}: ${rows.map((row) => `${row.label} ${row.value}`).join(", ")}`),
    rows.map((row, index) => {
      const y = index * ROW_HEIGHT + 6;
      const width = Math.round((row.value / largest) * BAR_AREA);
      return svg(
        "g",
        { class: `bar ${row.className}` },
        svg("text", { x: 0, y: y + 18, class: "bar-label" }, row.label),
        svg("rect", { x: LABEL_WIDTH, y, width: Math.max(width, 2), height: 24, rx: 4 }),
        svg("text", { x: LABEL_WIDTH + Math.max(width, 2) + 8, y: y + 18, class: "bar-value" }, String(row.value)),
      );
    }),
  );
}

function table(caption, rows) {
  return h(
    "table",
    {},
    h("caption", {}, caption),
    h("tbody", {}, rows.map(([label, value]) => h("tr", {}, h("th", { scope: "row" }, label), h("td", {}, String(value))))),
  );
}

export async function reportView(screen) {
  const { userId } = session.get();
  const refresh = h("button", { type: "button", class: "secondary" }, "Refresh");
  const body = h("div", { class: "report" }, h("p", { class: "muted" }, "Loading…"));
  screen.append(h("div", { class: "list-head" }, h("h1", {}, "Report"), refresh), body);

  async function draw() {
    const dashboard = await api("GET", pathOf("get_dashboard", { userId }));
    const counts = dashboard.todos.counts || {};
    const todoRows = [
      { label: "Open", value: counts.open || 0, className: "open" },
      { label: "Done", value: counts.done || 0, className: "done" },
      { label: "Overdue", value: dashboard.todos.overdue || 0, className: "overdue" },
    ];
    const orderCounts = Object.entries(dashboard.orders.counts || {});
    const recent = dashboard.todos.recent || [];
    body.replaceChildren(
      h("p", {}, `For ${dashboard.user.name} (${dashboard.user.email}).`),
      h(
        "section",
        { class: "card", "aria-labelledby": "report-todos" },
        h("h2", { id: "report-todos" }, "Todos"),
        chart(todoRows, "Todos by status"),
        table(
          "Todos by status",
          todoRows.map((row) => [row.label, row.value]),
        ),
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "report-recent" },
        h("h2", { id: "report-recent" }, "Recent todos"),
        recent.length
          ? h("ol", { class: "recent" }, recent.map((todo) => h("li", {}, todo.title, h("span", { class: "muted" }, ` (${todo.status}${todo.dueDate ? `, due ${todo.dueDate}` : ""})`))))
          : h("p", { class: "muted" }, "No todos yet."),
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "report-orders" },
        h("h2", { id: "report-orders" }, "Orders"),
        orderCounts.length ? table("Orders by status", orderCounts) : h("p", { class: "muted" }, "No orders yet."),
      ),
    );
  }

  refresh.addEventListener("click", async () => {
    refresh.disabled = true;
    try {
      await draw();
    } finally {
      refresh.disabled = false;
    }
  });
  await draw();
}
