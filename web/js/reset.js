// Forgotten password: ask for a reset link by e-mail, and the reset screen the link opens
// (#/reset-password?token=...). The request's answer is the same whether or not the address has an account.

import { ApiError, request } from "./api.js";
import { append, field, formError, h, setBusy, showErrors, clearErrors } from "./dom.js";
import { go, setFlash } from "./navigation.js";
import { session } from "./session.js";
import { pathOf } from "./routes.js";

export function forgotPasswordView(screen) {
  const email = h("input", { name: "email", type: "email", autocomplete: "username", required: true });
  const submit = h("button", { type: "submit" }, "Send me a reset link");
  const done = h("p", { class: "notice", role: "status", hidden: true });
  const form = h("form", { novalidate: true, "aria-labelledby": "forgot-title" }, field("Email", email), formError(), submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    setBusy(submit, true, "Sending…");
    try {
      const answer = await request("POST", pathOf("request_password_reset"), { body: { email: email.value.trim() } });
      done.textContent = `${answer.message} Check your mail: the link works once, for 30 minutes.`;
      done.hidden = false;
      form.hidden = true;
    } catch (error) {
      setBusy(submit, false);
      showErrors(form, error instanceof ApiError ? error : new ApiError(0, "error", error.message));
    }
  });
  append(
    screen,
    h("h1", { id: "forgot-title" }, "Forgot your password?"),
    h("p", {}, "Enter the e-mail address of your account: we send a link to choose a new password."),
    form,
    done,
    h("p", {}, h("a", { href: "#/login" }, "Back to log in")),
  );
}

// The token travels only in the link's fragment (never sent to a server by the browser); once read it is taken
// out of the address bar and the history.
let pendingToken = "";

function takeToken() {
  const query = location.hash.split("?")[1] || "";
  const token = new URLSearchParams(query).get("token");
  if (token) {
    pendingToken = token;
    history.replaceState(null, "", "#/reset-password");
  }
  return pendingToken;
}

export function resetPasswordView(screen) {
  const token = takeToken();
  if (!token) {
    append(
      screen,
      h("h1", {}, "Choose a new password"),
      h("p", { role: "alert" }, "This page needs the link from your reset e-mail."),
      h("p", {}, h("a", { href: "#/forgot-password" }, "Ask for a new link")),
    );
    return;
  }
  const password = h("input", { name: "newPassword", type: "password", autocomplete: "new-password", required: true, minlength: 8 });
  const submit = h("button", { type: "submit" }, "Set the new password");
  const form = h(
    "form",
    { novalidate: true, "aria-labelledby": "reset-title" },
    field("New password", password, { hint: "At least 8 characters." }),
    formError(),
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    setBusy(submit, true, "Saving…");
    try {
      await request("POST", pathOf("confirm_password_reset"), { body: { token, newPassword: password.value } });
      pendingToken = "";
      session.clear(); // every session of the account has ended, this browser's included
      setFlash("Your password is changed and every session has ended. Log in with the new password.");
      go("login");
    } catch (error) {
      setBusy(submit, false);
      const failure = error instanceof ApiError ? error : new ApiError(0, "error", error.message);
      if (failure.code === "invalid_token") {
        failure.message = "This link is expired or was already used. Ask for a new one.";
        failure.details = [];
      }
      showErrors(form, failure);
    }
  });
  append(
    screen,
    h("h1", { id: "reset-title" }, "Choose a new password"),
    form,
    h("p", {}, h("a", { href: "#/forgot-password" }, "Ask for a new link")),
  );
}
