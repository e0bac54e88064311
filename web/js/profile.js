// The profile: view, edit (name, e-mail, age; a new e-mail needs the current password), change the password
// (the other sessions are signed out), and delete my account after a confirmation.

import { api, endSession, session, SessionEnded } from "./session.js";
import { clearErrors, field, formError, formatTime, h, setBusy, showErrors } from "./dom.js";
import { pathOf } from "./routes.js";

export async function profileView(screen) {
  const { userId } = session.get();
  const path = pathOf("get_user", { userId }); // also update_user's and delete_user's
  let user = await api("GET", path);

  const facts = h("dl", { class: "facts" });
  function showFacts() {
    facts.replaceChildren(
      h("dt", {}, "Name"),
      h("dd", {}, user.name),
      h("dt", {}, "Email"),
      h("dd", {}, user.email),
      h("dt", {}, "Age"),
      h("dd", {}, user.age ?? "not given"),
      h("dt", {}, "Member since"),
      h("dd", {}, formatTime(user.createdAt)),
    );
  }

  const name = h("input", { name: "name", autocomplete: "name", required: true, maxlength: 100, value: user.name });
  const email = h("input", { name: "email", type: "email", autocomplete: "email", required: true, value: user.email });
  const age = h("input", { name: "age", type: "number", inputmode: "numeric", min: 0, max: 150, value: user.age ?? "" });
  const current = h("input", { name: "currentPassword", type: "password", autocomplete: "current-password" });
  const save = h("button", { type: "submit" }, "Save changes");
  const saved = h("p", { class: "muted", role: "status" });
  const form = h(
    "form",
    { novalidate: true, class: "card", "aria-labelledby": "edit-profile" },
    h("h2", { id: "edit-profile" }, "Edit profile"),
    field("Name", name),
    field("Email", email),
    field("Age (optional)", age, { hint: "Leave empty to remove it." }),
    field("Current password", current, { hint: "Needed to change your e-mail; your other sessions are then signed out." }),
    formError(),
    save,
    saved,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    saved.textContent = "";
    const body = { name: name.value, age: age.value.trim() === "" ? null : Number(age.value) };
    if (email.value.trim() !== user.email) {
      body.email = email.value.trim();
      if (current.value !== "") body.currentPassword = current.value; // none: the API's 400 names the field
    }
    setBusy(save, true, "Saving…");
    try {
      user = await api("PUT", path, { body });
      current.value = "";
      showFacts();
      saved.textContent = "Saved.";
    } catch (error) {
      if (!(error instanceof SessionEnded)) showErrors(form, error);
    } finally {
      setBusy(save, false);
    }
  });

  const oldPassword = h("input", { name: "currentPassword", type: "password", autocomplete: "current-password", required: true });
  const newPassword = h("input", { name: "newPassword", type: "password", autocomplete: "new-password", required: true, minlength: 8 });
  const change = h("button", { type: "submit" }, "Change password");
  const changed = h("p", { class: "muted", role: "status" });
  const passwordForm = h(
    "form",
    { novalidate: true, class: "card", "aria-labelledby": "change-password" },
    h("h2", { id: "change-password" }, "Change password"),
    field("Current password", oldPassword),
    field("New password", newPassword, { hint: "At least 8 characters." }),
    formError(),
    change,
    changed,
  );
  passwordForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(passwordForm);
    changed.textContent = "";
    setBusy(change, true, "Changing…");
    try {
      await api("PUT", pathOf("change_password", { userId }), { body: { currentPassword: oldPassword.value, newPassword: newPassword.value } });
      oldPassword.value = "";
      newPassword.value = "";
      changed.textContent = "Password changed. Your other sessions were signed out.";
    } catch (error) {
      if (!(error instanceof SessionEnded)) showErrors(passwordForm, error);
    } finally {
      setBusy(change, false);
    }
  });

  // The confirmation is a modal <dialog>: focus moves into it, Escape cancels, and the page behind is inert.
  const confirm = h("button", { type: "button", class: "danger" }, "Delete account");
  const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const dialog = h(
    "dialog",
    { "aria-labelledby": "confirm-title", "aria-describedby": "confirm-text" },
    h("h2", { id: "confirm-title" }, "Delete your account?"),
    h("p", { id: "confirm-text" }, "This deletes your profile, your todos and your sessions. It cannot be undone."),
    problem,
    h("div", { class: "buttons" }, confirm, cancel),
  );
  const open = h("button", { type: "button", class: "danger" }, "Delete my account");
  open.addEventListener("click", () => {
    problem.hidden = true;
    dialog.showModal();
    cancel.focus();
  });
  cancel.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => open.isConnected && open.focus());
  confirm.addEventListener("click", async () => {
    setBusy(confirm, true, "Deleting…");
    try {
      await api("DELETE", path);
      dialog.close();
      endSession("Your account has been deleted.");
    } catch (error) {
      if (error instanceof SessionEnded) return;
      problem.textContent = error.message;
      problem.hidden = false;
      setBusy(confirm, false);
    }
  });

  showFacts();
  screen.append(
    h("h1", {}, "Profile"),
    h("section", { class: "card", "aria-label": "Your details" }, facts),
    form,
    passwordForm,
    h(
      "section",
      { class: "card danger-zone", "aria-labelledby": "delete-title" },
      h("h2", { id: "delete-title" }, "Delete account"),
      h("p", {}, "Deleting your account removes your todos and signs you out everywhere."),
      open,
    ),
    dialog,
  );
}
