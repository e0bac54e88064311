// The app: session, routing (#/todos, ...), navigation, and the authenticated API call.
//
// The token lives in sessionStorage: it is gone when the tab closes, it is not shared with other tabs,
// and it is never sent anywhere on its own (unlike a cookie), so there is no CSRF to defend against.
// Any script of the page can read it, which is why the page runs only its own scripts (CSP) and
// inserts user data only as text.

import { ApiError, loadConfig, onWaking, request } from "./api.js";
import { h } from "./dom.js";
import { loginView, signupView } from "./auth.js";
import { todosView } from "./todos.js";
import { pathOf } from "./routes.js";

export const STORAGE_PREFIX = "todo-platform.";
const SESSION_KEY = `${STORAGE_PREFIX}session`;
const main = document.getElementById("main");
const nav = document.getElementById("nav");

// While a call waits to be retried (a 503/504: the database resuming after a pause), say so instead of an error.
const wakingNotice = h("p", { class: "notice waking", role: "status" }, "Waking the database…");
wakingNotice.hidden = true;
main.before(wakingNotice);
onWaking((active) => {
  wakingNotice.hidden = !active;
});

export const session = {
  get() {
    try {
      const value = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
      if (!value || typeof value.token !== "string" || typeof value.userId !== "string") return null;
      if (value.expiresAt && Date.parse(value.expiresAt) <= Date.now()) return null;
      return value;
    } catch {
      return null;
    }
  },
  set(value) {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
  },
  // Logging out forgets everything this app kept in the tab (the token, the orders placed).
  clear() {
    for (const key of Object.keys(sessionStorage)) {
      if (key.startsWith(STORAGE_PREFIX)) sessionStorage.removeItem(key);
    }
  },
};

// One message carried to the next screen (e.g. "Your session has ended" on the log-in screen).
let flash = null;
export function setFlash(message) {
  flash = message;
}
export function takeFlash() {
  const message = flash;
  flash = null;
  return message;
}

export class SessionEnded extends Error {}

// An API call with the token. 401 or 403 means the token is no longer good (the app only asks for
// the caller's own resources): back to log in, with a message.
export async function api(method, path, options = {}) {
  const current = session.get();
  if (!current) {
    // e.g. an order still being followed after logging out: stop it, and stay on a public screen
    if (!ROUTES[currentRoute()]?.public) endSession("Please log in.");
    throw new SessionEnded();
  }
  try {
    return await request(method, path, { ...options, token: current.token });
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      endSession("Your session has ended. Please log in again.");
      throw new SessionEnded();
    }
    throw error;
  }
}

export function endSession(message) {
  session.clear();
  sessionsAvailable = false;
  flash = message;
  go("login");
}

export function go(route) {
  if (location.hash === `#/${route}`) render();
  else location.hash = `#/${route}`;
}

// The sessions (devices) screen exists only once the API has GET /sessions; until then it answers 404.
let sessionsAvailable = false;
export async function probeSessions() {
  try {
    const answer = await api("GET", pathOf("list_sessions"));
    sessionsAvailable = Array.isArray(answer) || Array.isArray(answer?.items);
  } catch {
    sessionsAvailable = false;
  }
  renderNav(currentRoute());
}

const ROUTES = {
  login: { view: loginView, public: true },
  signup: { view: signupView, public: true },
  todos: { view: todosView, title: "Todos" },
  orders: { load: () => import("./orders.js").then((m) => m.ordersView), title: "Orders" },
  report: { load: () => import("./report.js").then((m) => m.reportView), title: "Report" },
  profile: { load: () => import("./profile.js").then((m) => m.profileView), title: "Profile" },
  devices: { load: () => import("./sessions.js").then((m) => m.sessionsView), title: "Devices", needsSessions: true },
};

function currentRoute() {
  const name = location.hash.replace(/^#\/?/, "");
  return ROUTES[name] ? name : null;
}

function renderNav(active) {
  const signedIn = session.get() !== null;
  nav.hidden = !signedIn;
  if (!signedIn) {
    nav.replaceChildren();
    return;
  }
  const links = Object.entries(ROUTES)
    .filter(([, route]) => !route.public && (!route.needsSessions || sessionsAvailable))
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
    flash ||= "Please log in.";
    name = "login";
    route = ROUTES.login;
  } else if (route.public && signedIn) {
    name = "todos";
    route = ROUTES.todos;
  } else if (route.needsSessions && !sessionsAvailable) {
    name = "todos";
    route = ROUTES.todos;
  }
  if (location.hash !== `#/${name}`) history.replaceState(null, "", `#/${name}`);
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
