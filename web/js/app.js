// The entry module: routing (#/todos, ...), the navigation bar, and drawing a screen. It is the only
// module that imports the views; what the views share (the session and its API call, navigation,
// the message for the next screen) lives in shared modules (session.js, navigation.js, api.js, dom.js)
// that import no view, so the modules form no cycle (tests/test_web_modules.py keeps it so).
// It also shows the "Waking the database…" line while api.js retries a 503/504 (a paused database resuming).

import { loadConfig, onWaking, request } from "./api.js";
import { h } from "./dom.js";
import { connectRouter, setFlashUnlessSet } from "./navigation.js";
import { devicesAvailable, endSession, probeSessions, session, SessionEnded } from "./session.js";
import { loginView, signupView } from "./auth.js";
import { forgotPasswordView, resetPasswordView } from "./reset.js";
import { todosView } from "./todos.js";
import { pathOf } from "./routes.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");

// While a call waits to be retried (a 503/504: the database resuming after a pause), say so instead of an error.
const wakingNotice = h("p", { class: "notice waking", role: "status" }, "Waking the database…");
wakingNotice.hidden = true;
main.before(wakingNotice);
onWaking((active) => {
  wakingNotice.hidden = !active;
});

const ROUTES = {
  login: { view: loginView, public: true },
  signup: { view: signupView, public: true },
  "forgot-password": { view: forgotPasswordView, public: true, title: "Forgot password" },
  // reached from the reset mail's link (#/reset-password?token=...), signed in or not
  "reset-password": { view: resetPasswordView, public: true, anyone: true, title: "New password" },
  todos: { view: todosView, title: "Todos" },
  orders: { load: () => import("./orders.js").then((m) => m.ordersView), title: "Orders" },
  report: { load: () => import("./report.js").then((m) => m.reportView), title: "Report" },
  profile: { load: () => import("./profile.js").then((m) => m.profileView), title: "Profile" },
  devices: { load: () => import("./sessions.js").then((m) => m.sessionsView), title: "Devices", needsSessions: true },
};

// Only the app's own routes: `#/constructor` or `#/__proto__` must not find what every object inherits.
function currentRoute() {
  const name = location.hash.replace(/^#\/?/, "").split("?")[0]; // a screen's parameters follow "?"
  return Object.hasOwn(ROUTES, name) ? name : null;
}

function renderNav(active) {
  const signedIn = session.get() !== null;
  nav.hidden = !signedIn;
  if (!signedIn) {
    nav.replaceChildren();
    return;
  }
  const links = Object.entries(ROUTES)
    .filter(([, route]) => !route.public && (!route.needsSessions || devicesAvailable()))
    .map(([name, route]) => h("li", {}, h("a", { href: `#/${name}`, "aria-current": name === active ? "page" : false }, route.title)));
  const logOut = h("button", { type: "button", class: "secondary", onclick: logOutNow }, "Log out");
  nav.replaceChildren(h("ul", {}, links, h("li", {}, logOut)));
}

async function logOutNow() {
  const current = session.get();
  if (current) {
    try {
      await request("DELETE", pathOf("log_out"), { token: current.token });
    } catch {
      // the token is dropped either way; an unreachable API must not keep anyone logged in here
    }
  }
  endSession("You have logged out.");
}

let renderCount = 0;
async function render() {
  const ticket = ++renderCount;
  let name = currentRoute();
  const signedIn = session.get() !== null;
  if (!name) name = signedIn ? "todos" : "login";
  let route = ROUTES[name];
  if (!route.public && !signedIn) {
    setFlashUnlessSet("Please log in.");
    name = "login";
    route = ROUTES.login;
  } else if (route.public && signedIn && !route.anyone) {
    name = "todos";
    route = ROUTES.todos;
  } else if (route.needsSessions && !devicesAvailable()) {
    name = "todos";
    route = ROUTES.todos;
  }
  if (location.hash.split("?")[0] !== `#/${name}`) history.replaceState(null, "", `#/${name}`);
  renderNav(name);
  const view = route.view || (await route.load());
  if (ticket !== renderCount) return; // a newer navigation won
  const screen = h("div", { class: "screen" });
  main.replaceChildren(screen);
  document.title = `${route.title || (name === "login" ? "Log in" : "Sign up")} · Todo Platform`;
  try {
    await view(screen);
  } catch (error) {
    if (error instanceof SessionEnded) return;
    screen.append(h("p", { class: "form-error", role: "alert" }, error.message));
  }
  const heading = screen.querySelector("h1");
  if (heading && ticket === renderCount) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

function cannotStart(error) {
  main.replaceChildren(h("h1", {}, "The app cannot start"), h("p", { role: "alert" }, error.message));
}

async function start() {
  connectRouter({
    redraw: render,
    onPublicScreen: () => currentRoute() !== null && ROUTES[currentRoute()].public === true,
    refreshNav: () => renderNav(currentRoute()),
  });
  const config = loadConfig(); // already on its way (preloaded); the first screen does not wait for it
  window.addEventListener("hashchange", render);
  await render();
  try {
    await config;
  } catch (error) {
    window.removeEventListener("hashchange", render);
    cannotStart(error);
    return;
  }
  if (session.get()) probeSessions();
}

start();
