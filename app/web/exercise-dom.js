// Small helpers of the exercise page: building nodes (never innerHTML, so nothing in the data can
// turn into markup under the strict Content-Security-Policy) and talking to the JSON API.

// The MDT page's node builder (same origin, so the CSP's script-src 'self' allows it): one el() for both pages.
export { el } from "/static/dom.js";

export class ApiError extends Error {}

// When the server protects /v1/ with an API key, the MDT page (/) keeps the key for the browser tab
// under this name; this page, in the same tab, sends it too.
const API_KEY_STORE = "livermets-api-key";

export function apiKeyHeaders() {
  let key = "";
  try {
    key = sessionStorage.getItem(API_KEY_STORE) || "";
  } catch {
    // Storage refused (a privacy setting): no key, and a 401 says how to give one.
  }
  return key ? { "X-API-Key": key } : {};
}

// What an error answer (an RFC 9457 problem document, app/errors.py) says went wrong: the first
// problem listed in `errors`, else the document's `detail`, else its type's `title`.
function problemText(body) {
  if (!body || typeof body !== "object") return null;
  const first = Array.isArray(body.errors) ? body.errors[0] : null;
  if (first && typeof first.message === "string") return first.message;
  if (typeof body.detail === "string") return body.detail;
  return typeof body.title === "string" ? body.title : null;
}

async function send(path, init) {
  let response;
  try {
    const headers = { accept: "application/json, application/problem+json", ...apiKeyHeaders(), ...(init.headers || {}) };
    response = await fetch(path, { ...init, headers });
  } catch {
    throw new ApiError("The service could not be reached. Check the connection and try again.");
  }
  const body = await response.json().catch(() => null);
  if (response.ok) return body;
  if (response.status === 401) {
    throw new ApiError(
      "This server asks for an API key: set it on the MDT-preparation page (/) in this browser tab, then come back.",
    );
  }
  if (response.status === 503) throw new ApiError("The service is busy or still starting. Try again in a moment.");
  const detail = problemText(body);
  throw new ApiError(`The service answered with an error (${response.status}${detail ? `: ${detail}` : ""}).`);
}

export function getJson(path) {
  return send(path, { method: "GET" });
}

export function postJson(path, data) {
  return send(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(data) });
}

// Source titles for the quotes' captions, fetched once; the ids are shown if they cannot be loaded.
const sourceTitles = new Map();

export async function loadSources() {
  try {
    for (const source of await getJson("/v1/sources")) sourceTitles.set(source.id, source.title);
  } catch {
    // The quotes still show, captioned with the source id.
  }
}

export function sourceTitle(id) {
  return sourceTitles.get(id) || id;
}

export function displayValue(value) {
  if (value === null || value === undefined) return "unknown (not given)";
  if (value === true) return "yes";
  if (value === false) return "no";
  if (Array.isArray(value)) return value.length ? value.map(displayValue).join(", ") : "none";
  return String(value).replaceAll("_", " ");
}

export function stampText(rulebook) {
  return `version ${rulebook.version} of ${rulebook.date}`;
}

// A whole number within bounds from a number input, null when empty, or an Error saying what is wrong.
export function wholeNumber(input, label, min, max) {
  const text = input.value.trim();
  if (text === "") return null;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    return new Error(`${label} must be a whole number from ${min} to ${max}.`);
  }
  return value;
}

export function showFieldError(box, inputs, message) {
  box.textContent = message || "";
  box.hidden = !message;
  for (const input of inputs) {
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}
