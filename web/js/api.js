// The HTTP API, as the app calls it: JSON in and out, every failure an ApiError.
// The API's own errors are {"error": {"code", "message", "details": [{"field", "message"}]}};
// API Gateway's own answers (401, 403, 404 before any function) are {"message": ...}.
//
// A paused database (staging's Aurora Serverless v2 at 0 ACU) resumes while the first request waits; after a
// long pause the resume can outlast the API's 30 s limit. So a 503 (the function did nothing) is retried once
// after RETRY_WAIT_MS, and a 504 only where repeating cannot do the work twice (GET, PUT, DELETE, or a POST
// with an Idempotency-Key: a timed-out POST may have happened). While a retry waits, the listener given to
// onWaking(active) hears true, then false: the app says it is waking the database instead of failing.

import { STATUS_MESSAGES } from "./routes.js";

export class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(message);
    this.status = status; // 0: the API could not be reached
    this.code = code;
    this.details = Array.isArray(details) ? details : [];
  }
}

let apiUrl = null;
let loading = null;

// config.json sits beside index.html; the deploy (or the local runtime) writes it. Loaded once; every
// request waits for it, so screens that need no API (the log-in form) can be drawn before it arrives.
export function loadConfig() {
  loading ||= (async () => {
    let config;
    try {
      // the same request as index.html's preload (served with Cache-Control: no-cache), so that one is used
      const response = await fetch("config.json");
      if (!response.ok) throw new Error(`config.json answered ${response.status}`);
      config = await response.json();
    } catch (error) {
      throw new Error(`The app could not read its config.json: ${error.message}`);
    }
    if (typeof config.apiUrl !== "string" || !/^https?:\/\/[^/]+/.test(config.apiUrl)) {
      throw new Error("config.json has no valid apiUrl");
    }
    apiUrl = config.apiUrl.replace(/\/+$/, "");
    return apiUrl;
  })();
  return loading;
}

export const RETRY_WAIT_MS = 2000;
const REPEATABLE = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);

export function retryable(method, status, headers = {}) {
  if (status === 503) return true;
  if (status !== 504) return false;
  const keyed = Object.keys(headers).some((name) => name.toLowerCase() === "idempotency-key");
  return REPEATABLE.has(method.toUpperCase()) || (method.toUpperCase() === "POST" && keyed);
}

let wakingListener = () => {};
let waking = 0; // retries waiting now
export function onWaking(listener) {
  wakingListener = listener;
}

export async function request(method, path, options = {}) {
  try {
    return await send(method, path, options);
  } catch (error) {
    if (!(error instanceof ApiError) || !retryable(method, error.status, options.headers || {})) throw error;
  }
  waking += 1;
  wakingListener(true);
  try {
    await new Promise((resolve) => setTimeout(resolve, RETRY_WAIT_MS));
    return await send(method, path, options);
  } finally {
    waking -= 1;
    if (!waking) wakingListener(false);
  }
}

async function send(method, path, { body, token, headers = {} } = {}) {
  await loadConfig();
  const init = { method, headers: { Accept: "application/json", ...headers }, cache: "no-store", credentials: "omit" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (token) init.headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(apiUrl + path, init);
  } catch {
    throw new ApiError(0, "network_error", `The API at ${apiUrl} cannot be reached. Check your connection and try again.`);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (response.ok) return data;
  const error = data && typeof data === "object" ? data.error : null;
  if (error && typeof error === "object") {
    throw new ApiError(response.status, String(error.code || "error"), String(error.message || `HTTP ${response.status}`), error.details);
  }
  // no {"error"}: API Gateway's own {"message"}, or a proxy's page; the status map is the declaration's (routes.js)
  const known = Object.hasOwn(STATUS_MESSAGES, response.status) ? STATUS_MESSAGES[response.status] : null;
  const message = data && typeof data === "object" && data.message ? String(data.message) : known ? known.message : `HTTP ${response.status}`;
  throw new ApiError(response.status, known ? known.code : "error", message);
}

// A fresh random key: one per order submission, so a repeated submission places one order.
export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}
