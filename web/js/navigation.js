// Navigation the views share: go to a screen by name, and one message carried to the next screen
// (e.g. "Your session has ended" on the log-in screen).
//
// The entry module (app.js) draws the screens: it connects its router here at start, so that a view
// can ask for a screen without importing the app (views import shared modules only, never app.js).

let router = {
  redraw() {}, // draw the current screen again
  onPublicScreen: () => false, // is the screen shown now one that needs no session (log in, sign up)?
  refreshNav() {}, // the screens on offer changed (e.g. the devices screen became available)
};

export function connectRouter(hooks) {
  router = { ...router, ...hooks };
}

export function go(route) {
  if (location.hash === `#/${route}`) router.redraw();
  else location.hash = `#/${route}`;
}

export function onPublicScreen() {
  return router.onPublicScreen();
}

export function refreshNav() {
  router.refreshNav();
}

let flash = null;
export function setFlash(message) {
  flash = message;
}
// A message for the next screen unless one is already waiting.
export function setFlashUnlessSet(message) {
  flash ||= message;
}
export function takeFlash() {
  const message = flash;
  flash = null;
  return message;
}
