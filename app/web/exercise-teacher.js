// The teacher's view: every vignette with its objectives, difficulty and tags, and the export links
// (GET /v1/exercises/export), whose seed and variants follow the two inputs above them and whose
// vignettes are those ticked in the list (all of them when none is ticked).
import { apiKeyHeaders, el, showFieldError, wholeNumber } from "./exercise-dom.js";

const seedInput = document.getElementById("export-seed");
const variantsInput = document.getElementById("export-variants");
const errorBox = document.getElementById("export-error");

function exportQuery() {
  const seed = wholeNumber(seedInput, "The seed", 0, 2147483647);
  const variants = wholeNumber(variantsInput, "The number of variants", 0, 5);
  let problem = null;
  if (seed instanceof Error) problem = seed.message;
  else if (variants instanceof Error) problem = variants.message;
  else if (variants && seed === null)
    problem = "Variants need a seed: the links export the vignettes alone until one is given.";
  showFieldError(
    errorBox,
    problem ? [seed instanceof Error || seed === null ? seedInput : variantsInput] : [seedInput, variantsInput],
    problem,
  );
  if (problem || seed === null) return "";
  return `&seed=${seed}&variants=${variants || 0}`;
}

function selectedIds() {
  return [...document.querySelectorAll('#vignette-table input[name="export"]:checked')].map((box) => box.value);
}

function updateLinks() {
  const ids = selectedIds();
  const query = exportQuery() + (ids.length ? `&ids=${ids.map(encodeURIComponent).join(",")}` : "");
  for (const link of document.querySelectorAll("#export-links a[data-format]")) {
    link.href = `/v1/exercises/export?format=${link.dataset.format}${query}`;
  }
  const many = ids.length === 1 ? "vignette ticked below is" : "vignettes ticked below are";
  document.getElementById("export-selection").textContent = ids.length
    ? `Only the ${ids.length} ${many} exported.`
    : "Every vignette is exported.";
}

function vignetteRows(summaries) {
  document.querySelector("#vignette-table tbody").replaceChildren(
    ...summaries.map((v) =>
      el(
        "tr",
        { "data-vignette": v.id },
        el(
          "th",
          { scope: "row" },
          el("span", { class: "vignette-title" }, v.title),
          el("br"),
          el("code", {}, v.id),
          el("br"),
          el(
            "button",
            {
              type: "button",
              class: "secondary try-it",
              "data-vignette": v.id,
              "aria-label": `Try it as a learner: ${v.title}`,
            },
            "Try it as a learner",
          ),
        ),
        el("td", {}, v.difficulty),
        el("td", {}, v.tags.join(", ")),
        el(
          "td",
          {},
          el(
            "ul",
            {},
            v.objectives.map((o) => el("li", {}, o)),
          ),
        ),
        el(
          "td",
          {},
          el(
            "label",
            { class: "export-tick" },
            el("input", { type: "checkbox", name: "export", value: v.id }),
            " Export",
            el("span", { class: "visually-hidden" }, ` ${v.title}`),
          ),
        ),
      ),
    ),
  );
}

// A plain link cannot send the API key; with a key set, the file is fetched with it and saved from memory.
async function downloadWithKey(event) {
  const link = event.target.closest("a[data-format]");
  const headers = apiKeyHeaders();
  if (!link || !Object.keys(headers).length) return;
  event.preventDefault();
  const response = await fetch(link.href, { headers }).catch(() => null);
  if (!response || !response.ok) {
    showFieldError(errorBox, [], `The export could not be downloaded (${response ? response.status : "no answer"}).`);
    return;
  }
  const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "");
  const url = URL.createObjectURL(await response.blob());
  const save = el("a", { href: url, download: name ? name[1] : "" });
  document.body.append(save);
  save.click();
  save.remove();
  // Revoked later, not at once: some browsers read the blob after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function setUpTeacher(summaries, tryIt) {
  document.querySelector("#vignette-table tbody").addEventListener("click", (event) => {
    const button = event.target.closest("button.try-it");
    if (button) tryIt(button.dataset.vignette);
  });
  document.getElementById("export-links").addEventListener("click", downloadWithKey);
  vignetteRows(summaries);
  seedInput.addEventListener("input", updateLinks);
  variantsInput.addEventListener("input", updateLinks);
  document.querySelector("#vignette-table tbody").addEventListener("change", updateLinks);
  document.getElementById("export-form").addEventListener("submit", (event) => event.preventDefault());
  updateLinks();
}
