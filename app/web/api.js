// The JSON API of the same origin, with the API key the user gave (if the service asks for one).
// The key is kept in this tab's sessionStorage only and sent as the header the service expects.
const API_KEY_HEADER = "X-API-Key";
const API_KEY_STORE = "livermets-api-key";

const keyPanel = document.getElementById("api-key-panel");
const keyInput = document.getElementById("api-key");
const keyState = document.getElementById("api-key-state");

function apiKey() {
  try {
    return sessionStorage.getItem(API_KEY_STORE) || "";
  } catch {
    return "";
  }
}

export async function api(path, options = {}) {
  const headers = { accept: "application/json", ...(options.headers || {}) };
  if (apiKey()) headers[API_KEY_HEADER] = apiKey();
  const response = await fetch(path, { ...options, headers });
  const body = await response.json().catch(() => null);
  return { response, body };
}

export async function getJson(path) {
  try {
    const { response, body } = await api(path);
    return response.ok ? body : null;
  } catch {
    return null;
  }
}

export function showKeyState() {
  keyState.textContent = apiKey() ? "A key is set for this tab." : "No key is set.";
}

// Opens the key field and puts the focus in it (after a 401).
export function askForKeyPanel() {
  keyPanel.open = true;
  keyInput.focus();
}

export function onKeyChange(callback) {
  document.getElementById("api-key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(API_KEY_STORE, keyInput.value.trim());
    keyInput.value = "";
    showKeyState();
    callback();
  });
  document.getElementById("api-key-forget").addEventListener("click", () => {
    sessionStorage.removeItem(API_KEY_STORE);
    showKeyState();
  });
}
