"use strict";
// After logging in, go back to the page that asked for it (only a path on this site), else to the agent console.
document.getElementById("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("login-error");
  error.textContent = "";
  try {
    const me = await api("POST", "/api/login", {
      username: document.getElementById("username").value,
      password: document.getElementById("password").value,
    });
    const next = new URLSearchParams(location.search).get("next") || "";
    const safe = /^\/[A-Za-z0-9_\-\/]*$/.test(next) && !next.startsWith("//");
    location.href = safe ? next : (me.role === "editor" ? "/editor" : "/agent");
  } catch (e) {
    error.textContent = e.message;
  }
});
