// Sign up and log in.

import { ApiError, request } from "./api.js";
import { append, field, formError, h, setBusy, showErrors, clearErrors } from "./dom.js";
import { go, setFlash, takeFlash } from "./navigation.js";
import { deviceTokens, probeSessions, session } from "./session.js";
import { pathOf } from "./routes.js";

let rememberedEmail = "";

export function loginView(screen) {
  const message = takeFlash();
  const email = h("input", { name: "email", type: "email", autocomplete: "username", required: true, value: rememberedEmail });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit" }, "Log in");
  const form = h("form", { novalidate: true, "aria-labelledby": "login-title" }, field("Email", email), field("Password", password), formError(), submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    setBusy(submit, true, "Logging in…");
    try {
      const body = { email: email.value.trim(), password: password.value };
      const device = deviceTokens.get(body.email);
      if (device) body.deviceToken = device;
      const answer = await request("POST", pathOf("log_in"), { body });
      deviceTokens.set(body.email, answer.deviceToken);
      session.set({ token: answer.token, userId: answer.userId, expiresAt: answer.expiresAt });
      rememberedEmail = "";
      probeSessions();
      go("todos");
    } catch (error) {
      setBusy(submit, false);
      showErrors(form, error instanceof ApiError ? error : new ApiError(0, "error", error.message));
    }
  });
  append(
    screen,
    h("h1", { id: "login-title" }, "Log in"),
    message ? h("p", { class: "notice", role: "status" }, message) : null, // no message: nothing shown
    form,
    h("p", {}, h("a", { href: "#/forgot-password" }, "Forgot password?")),
    h("p", {}, "No account yet? ", h("a", { href: "#/signup" }, "Create an account")),
  );
}

export function signupView(screen) {
  const name = h("input", { name: "name", autocomplete: "name", required: true, maxlength: 100 });
  const email = h("input", { name: "email", type: "email", autocomplete: "email", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 8 });
  const age = h("input", { name: "age", type: "number", inputmode: "numeric", min: 0, max: 150 });
  const submit = h("button", { type: "submit" }, "Sign up");
  const form = h(
    "form",
    { novalidate: true, "aria-labelledby": "signup-title" },
    field("Name", name),
    field("Email", email),
    field("Password", password, { hint: "At least 8 characters." }),
    field("Age (optional)", age),
    formError(),
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = { name: name.value, email: email.value.trim(), password: password.value };
    if (age.value.trim() !== "") body.age = Number(age.value);
    setBusy(submit, true, "Signing up…");
    try {
      await request("POST", pathOf("create_user"), { body });
      rememberedEmail = body.email;
      setFlash("Your account is ready. Log in.");
      go("login");
    } catch (error) {
      setBusy(submit, false);
      showErrors(form, error instanceof ApiError ? error : new ApiError(0, "error", error.message));
    }
  });
  screen.append(
    h("h1", { id: "signup-title" }, "Sign up"),
    form,
    h("p", {}, "Already signed up? ", h("a", { href: "#/login" }, "Back to log in")),
  );
}
