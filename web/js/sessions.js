// My sessions (devices), shown only once the API answers GET /sessions:
// GET /sessions, DELETE /sessions/{sessionId} (sign out that device), DELETE /sessions (everywhere).

import { api, endSession, SessionEnded } from "./session.js";
import { formatTime, h } from "./dom.js";
import { pathOf } from "./routes.js";

export async function sessionsView(screen) {
  const list = h("ul", { class: "sessions", "aria-label": "My sessions" });
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const everywhere = h("button", { type: "button", class: "danger" }, "Sign out everywhere");

  function fail(error) {
    if (error instanceof SessionEnded) return;
    problem.textContent = error.message;
    problem.hidden = false;
  }

  async function draw() {
    const answer = await api("GET", pathOf("list_sessions"));
    const sessions = Array.isArray(answer) ? answer : answer.items || [];
    list.replaceChildren(
      ...sessions.map((device) => {
        const label = device.userAgent || "Unknown device";
        const signOut = h("button", { type: "button", class: "secondary", "aria-label": `Sign out this device: ${label}` }, "Sign out this device");
        signOut.addEventListener("click", async () => {
          try {
            await api("DELETE", pathOf("revoke_session", { sessionId: device.sessionId }));
            if (device.current) endSession("You have signed out this device.");
            else await draw();
          } catch (error) {
            fail(error);
          }
        });
        return h(
          "li",
          { class: "card" },
          h("p", { class: "todo-title" }, label, device.current ? h("span", { class: "badge" }, "This device") : null),
          h("p", { class: "muted" }, `Signed in ${formatTime(device.createdAt)} from ${device.sourceIp || "an unknown address"}; expires ${formatTime(device.expiresAt)}.`),
          signOut,
        );
      }),
    );
  }

  everywhere.addEventListener("click", async () => {
    try {
      await api("DELETE", pathOf("log_out_everywhere"));
      endSession("You have signed out everywhere.");
    } catch (error) {
      fail(error);
    }
  });
  screen.append(h("h1", {}, "Devices"), h("p", {}, "Where you are signed in."), problem, list, everywhere);
  await draw();
}
