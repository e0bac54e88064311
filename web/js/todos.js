// My todos: newest first, filter open/done, "Load more" with nextCursor, create, edit, done/open, delete.

import { api, session, SessionEnded } from "./session.js";
import { clearErrors, field, formError, h, setBusy, showErrors, todayUtc, uid } from "./dom.js";
import { pathOf } from "./routes.js";

const PRIORITIES = ["low", "medium", "high"];
const PAGE_SIZE = 20;

function prioritySelect(selected = "medium") {
  return h("select", { name: "priority" }, PRIORITIES.map((p) => h("option", { value: p, selected: p === selected }, p[0].toUpperCase() + p.slice(1))));
}

function isOverdue(todo) {
  return todo.status === "open" && typeof todo.dueDate === "string" && todo.dueDate < todayUtc();
}

export async function todosView(screen) {
  const { userId } = session.get();
  const base = pathOf("list_todos", { userId }); // also create_todo's
  let filter = "";
  let cursor = null;

  // ------------------------------------------------------------------ the new-todo form
  const title = h("input", { name: "title", required: true, maxlength: 200 });
  const description = h("textarea", { name: "description", rows: 2, maxlength: 2000 });
  const dueDate = h("input", { name: "dueDate", type: "date" });
  const priority = prioritySelect();
  const add = h("button", { type: "submit" }, "Add todo");
  const form = h(
    "form",
    { novalidate: true, "aria-labelledby": "new-todo-title", class: "card" },
    h("h2", { id: "new-todo-title" }, "New todo"),
    field("Title", title),
    field("Description", description),
    h("div", { class: "row" }, field("Due date", dueDate), field("Priority", priority)),
    formError(),
    add,
  );

  // ------------------------------------------------------------------ the list
  const show = h(
    "select",
    { id: "todo-filter" },
    h("option", { value: "" }, "All"),
    h("option", { value: "open" }, "Open"),
    h("option", { value: "done" }, "Done"),
  );
  const list = h("ul", { class: "todos", "aria-labelledby": "todo-list-title" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Load more");
  const summary = h("p", { class: "muted", role: "status" });
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });

  function report(error) {
    if (error instanceof SessionEnded) throw error;
    problem.textContent = error.message;
    problem.hidden = false;
  }

  function updateSummary() {
    const count = list.querySelectorAll("li.todo").length;
    const kind = filter ? `${filter} ` : "";
    summary.textContent = count ? `Showing ${count} ${kind}todo${count === 1 ? "" : "s"}${cursor ? "; there are more" : ""}.` : `No ${kind}todos yet.`;
    more.hidden = !cursor;
  }

  function belongs(todo) {
    return !filter || todo.status === filter;
  }

  function item(todo) {
    const overdue = isOverdue(todo);
    const classes = ["todo", todo.status === "done" ? "done" : "", overdue ? "overdue" : ""].filter(Boolean).join(" ");
    const toggleText = todo.status === "done" ? "Mark open" : "Mark done";
    const li = h(
      "li",
      { class: classes, "data-id": todo.id },
      h(
        "div",
        { class: "todo-main" },
        h("p", { class: "todo-title" }, todo.title),
        todo.description ? h("p", { class: "todo-description" }, todo.description) : null,
        h(
          "p",
          { class: "todo-meta" },
          h("span", { class: `badge status-${todo.status}` }, todo.status === "done" ? "Done" : "Open"),
          h("span", { class: `badge priority-${todo.priority}` }, `Priority: ${todo.priority}`),
          todo.dueDate ? h("span", { class: "due" }, `Due ${todo.dueDate}`) : null,
          overdue ? h("span", { class: "badge overdue" }, "Overdue") : null,
        ),
      ),
      h(
        "div",
        { class: "todo-actions" },
        h("button", { type: "button", "aria-label": `${toggleText}: ${todo.title}`, onclick: () => toggle(li, todo) }, toggleText),
        h("button", { type: "button", class: "secondary", "aria-label": `Edit: ${todo.title}`, onclick: () => edit(li, todo) }, "Edit"),
        h("button", { type: "button", class: "danger", "aria-label": `Delete: ${todo.title}`, onclick: () => remove(li, todo) }, "Delete"),
      ),
    );
    return li;
  }

  async function toggle(li, todo) {
    problem.hidden = true;
    try {
      const updated = await api("PUT", pathOf("update_todo", { todoId: todo.id }), { body: { status: todo.status === "done" ? "open" : "done" } });
      if (belongs(updated)) {
        const next = item(updated);
        li.replaceWith(next);
        next.querySelector("button").focus();
      } else {
        li.remove();
        show.focus();
      }
      summary.textContent = `“${updated.title}” is ${updated.status === "done" ? "done" : "open again"}.`;
    } catch (error) {
      report(error);
    }
  }

  async function remove(li, todo) {
    problem.hidden = true;
    try {
      await api("DELETE", pathOf("delete_todo", { todoId: todo.id }));
      li.remove();
      updateSummary();
      summary.textContent = `Deleted “${todo.title}”. ${summary.textContent}`;
      title.focus();
    } catch (error) {
      report(error);
    }
  }

  function edit(li, todo) {
    const editTitle = h("input", { name: "title", required: true, maxlength: 200, value: todo.title });
    const editDescription = h("textarea", { name: "description", rows: 2, maxlength: 2000 }, todo.description || "");
    const editDue = h("input", { name: "dueDate", type: "date", value: todo.dueDate || "" });
    const editPriority = prioritySelect(todo.priority);
    const save = h("button", { type: "submit" }, "Save");
    const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
    const headingId = uid("edit");
    const editor = h(
      "form",
      { novalidate: true, class: "card editor", "aria-labelledby": headingId },
      h("h3", { id: headingId }, "Edit todo"),
      field("Title", editTitle),
      field("Description", editDescription),
      h("div", { class: "row" }, field("Due date", editDue), field("Priority", editPriority)),
      formError(),
      h("div", { class: "buttons" }, save, cancel),
    );
    const shell = h("li", { class: "todo editing", "data-id": todo.id }, editor);
    li.replaceWith(shell);
    editTitle.focus();
    cancel.addEventListener("click", () => {
      const back = item(todo);
      shell.replaceWith(back);
      back.querySelector("button").focus();
    });
    editor.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(editor);
      const changes = {};
      if (editTitle.value !== todo.title) changes.title = editTitle.value;
      if (editDescription.value !== (todo.description || "")) changes.description = editDescription.value || null;
      if (editDue.value !== (todo.dueDate || "")) changes.dueDate = editDue.value || null;
      if (editPriority.value !== todo.priority) changes.priority = editPriority.value;
      if (!Object.keys(changes).length) {
        cancel.click();
        return;
      }
      setBusy(save, true, "Saving…");
      try {
        const updated = await api("PUT", pathOf("update_todo", { todoId: todo.id }), { body: changes });
        const next = item(updated);
        shell.replaceWith(next);
        next.querySelector("button").focus();
        summary.textContent = `Saved “${updated.title}”.`;
      } catch (error) {
        if (error instanceof SessionEnded) return;
        setBusy(save, false);
        showErrors(editor, error);
      }
    });
  }

  async function load(reset) {
    problem.hidden = true;
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (filter) query.set("status", filter);
    if (!reset && cursor) query.set("cursor", cursor);
    setBusy(more, true, "Loading…");
    try {
      const page = await api("GET", `${base}?${query}`);
      if (reset) list.replaceChildren();
      list.append(...page.items.map(item));
      cursor = page.nextCursor || null;
      updateSummary();
    } catch (error) {
      report(error);
    } finally {
      setBusy(more, false);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = { title: title.value, priority: priority.value };
    if (description.value) body.description = description.value;
    if (dueDate.value) body.dueDate = dueDate.value;
    setBusy(add, true, "Adding…");
    try {
      const todo = await api("POST", base, { body });
      if (belongs(todo)) list.prepend(item(todo));
      form.reset();
      updateSummary();
      summary.textContent = `Added “${todo.title}”. ${summary.textContent}`;
      title.focus();
    } catch (error) {
      if (error instanceof SessionEnded) return;
      showErrors(form, error);
    } finally {
      setBusy(add, false);
    }
  });
  show.addEventListener("change", () => {
    filter = show.value;
    cursor = null;
    load(true);
  });
  more.addEventListener("click", () => load(false));

  screen.append(
    h("h1", {}, "My todos"),
    form,
    h(
      "section",
      { class: "card", "aria-labelledby": "todo-list-title" },
      h("div", { class: "list-head" }, h("h2", { id: "todo-list-title" }, "List"), h("div", { class: "field inline" }, h("label", { for: "todo-filter" }, "Show"), show)),
      problem,
      list,
      more,
      summary,
    ),
  );
  await load(true);
}
