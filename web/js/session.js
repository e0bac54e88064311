// The signed-in session the views share: the token, the API call made with it, and how a session ends.
// (The devices screen, which lists a user's sessions, is the view in sessions.js.)
//
// The token lives in sessionStorage: it is gone when the tab closes, it is not shared with other tabs,
// and it is never sent anywhere on its own (unlike a cookie), so there is no CSRF to defend against.
// Any script of the page can read it, which is why the page runs only its own scripts (CSP) and
// inserts user data only as text.

import { ApiError, request } from "./api.js";
import { go, onPublicScreen, refreshNav, setFlash } from "./navigation.js";
import { pathOf } from "./routes.js";

export const STORAGE_PREFIX = "todo-platform.";
const SESSION_KEY = `${STORAGE_PREFIX}session`;

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

// Device tokens (one per e-mail, from each successful log-in) live in localStorage: a log-in that sends its
// device's token is counted per device, so that nobody else's wrong passwords lock this device out. It is
// no credential (it only tells the throttle which device this is) and survives logging out.
const DEVICES_KEY = `${STORAGE_PREFIX}devices`;

export const deviceTokens = {
  all() {
    try {
      const value = JSON.parse(localStorage.getItem(DEVICES_KEY) || "{}");
      return value && typeof value === "object" && !Array.isArray(value) ? value : {};
    } catch {
      return {};
    }
  },
  get(email) {
    const token = this.all()[email.trim().toLowerCase()];
    return typeof token === "string" ? token : undefined;
  },
  set(email, token) {
    if (typeof token !== "string") return;
    try {
      localStorage.setItem(DEVICES_KEY, JSON.stringify({ ...this.all(), [email.trim().toLowerCase()]: token }));
    } catch {
      // storage full or refused: log-ins are then counted per e-mail, as without a device token
    }
  },
};

export class SessionEnded extends Error {}

// An API call with the token. 401 or 403 means the token is no longer good (the app only asks for
// the caller's own resources), except a 403 `wrong_password`: back to log in, with a message.
export async function api(method, path, options = {}) {
  const current = session.get();
  if (!current) {
    // e.g. an order still being followed after logging out: stop it, and stay on a public screen
    if (!onPublicScreen()) endSession("Please log in.");
    throw new SessionEnded();
  }
  try {
    return await request(method, path, { ...options, token: current.token });
  } catch (error) {
    // (a wrong current password is a 403 too, but the form beside it says so: the session goes on)
    const ended = error instanceof ApiError && (error.status === 401 || (error.status === 403 && error.code !== "wrong_password"));
    if (ended) {
      endSession("Your session has ended. Please log in again.");
      throw new SessionEnded();
    }
    throw error;
  }
}

export function endSession(message) {
  session.clear();
  sessionsAvailable = false;
  setFlash(message);
  go("login");
}

// The sessions (devices) screen exists only once the API has GET /sessions; until then it answers 404.
let sessionsAvailable = false;
export function devicesAvailable() {
  return sessionsAvailable;
}
export async function probeSessions() {
  try {
    const answer = await api("GET", pathOf("list_sessions"));
    sessionsAvailable = Array.isArray(answer) || Array.isArray(answer?.items);
  } catch {
    sessionsAvailable = false;
  }
  refreshNav();
}
