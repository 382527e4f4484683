// The exercise page: the learner picks a vignette (and a seed for variants) and a mode, answers the
// items and gets the feedback and the score from the API, which keys every item with the rulebook.
// The page scores nothing itself: every verdict shown is the API's. The teacher's view is in
// exercise-teacher.js.
import {
  ApiError,
  el,
  getJson,
  loadSources,
  postJson,
  showFieldError,
  stampText,
  wholeNumber,
} from "./exercise-dom.js";
import { feedbackContent, formatScore, scoreContent } from "./exercise-feedback.js";
import { exerciseSheet } from "./exercise-items.js";
import { setUpTeacher } from "./exercise-teacher.js";

const startForm = document.getElementById("start-form");
const vignetteList = document.getElementById("vignette-list");
const statusLine = document.getElementById("status");
const exerciseBox = document.getElementById("exercise");
const seedInput = document.getElementById("seed");
const variantsInput = document.getElementById("variants");

// The exercise on show: its API answer, the mode, and the sheet's seed and variants.
let round = null;

function announce(text) {
  statusLine.textContent = text;
}

// ---- the views: two tabs, arrow keys between them (the ARIA tabs pattern) --------------------

function setUpTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab, focus) => {
    for (const other of tabs) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
      document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
    }
    if (focus) tab.focus();
  };
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => select(tab, false));
    tab.addEventListener("keydown", (event) => {
      const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 };
      if (!(event.key in moves)) return;
      event.preventDefault();
      select(tabs[(moves[event.key] + tabs.length) % tabs.length], true);
    });
  });
  return (panelId) =>
    select(
      tabs.find((tab) => tab.getAttribute("aria-controls") === panelId),
      false,
    );
}

// ---- choosing an exercise ------------------------------------------------------------------

function vignetteChoices(summaries) {
  vignetteList.replaceChildren(
    ...summaries.map((v) =>
      el(
        "label",
        { class: "vignette" },
        el("input", { type: "radio", name: "vignette", value: v.id }),
        el(
          "span",
          { class: "vignette-text" },
          el("span", { class: "vignette-title" }, v.title),
          el("span", { class: "vignette-meta" }, `${v.difficulty} · ${v.tags.join(", ")}`),
        ),
      ),
    ),
  );
}

function readStart() {
  const vignetteError = document.getElementById("vignette-error");
  const seedError = document.getElementById("seed-error");
  const radios = [...startForm.querySelectorAll('input[name="vignette"]')];
  const chosen = radios.find((r) => r.checked);
  showFieldError(vignetteError, [], chosen ? "" : "Choose a vignette.");
  const seed = wholeNumber(seedInput, "The seed", 0, 2147483647);
  const variants = wholeNumber(variantsInput, "The number of variants", 1, 5);
  let problem = null;
  if (seed instanceof Error) problem = seed;
  else if (seed !== null && variants instanceof Error) problem = variants;
  else if (seed !== null && variants === null) problem = new Error("With a seed, give the number of variants: 1 to 5.");
  showFieldError(seedError, [seedInput, variantsInput], problem ? problem.message : "");
  if (!chosen) {
    (radios[0] || vignetteList).focus();
    return null;
  }
  if (problem) {
    (seed instanceof Error ? seedInput : variantsInput).focus();
    return null;
  }
  const mode = startForm.querySelector('input[name="mode"]:checked').value;
  return { id: chosen.value, mode, seed, variants: seed === null ? 0 : variants };
}

// While an exercise is on show the long list of vignettes steps aside; a button brings it back.
function showChooser(show) {
  startForm.hidden = !show;
  document.getElementById("start-heading").hidden = !show;
  if (show) {
    exerciseBox.replaceChildren();
    round = null;
    announce("");
    document.getElementById("start-heading").focus();
  }
}

async function start(event) {
  event.preventDefault();
  const choice = readStart();
  if (!choice) return;
  announce("Loading the exercise…");
  const query = choice.seed === null ? "" : `?seed=${choice.seed}&variants=${choice.variants}`;
  let detail;
  try {
    detail = await getJson(`/v1/exercises/${encodeURIComponent(choice.id)}${query}`);
  } catch (error) {
    announce(error instanceof ApiError ? error.message : String(error));
    return;
  }
  const items = [detail.exercise, ...detail.variants].flatMap((exercise) => exercise.items);
  round = { ...choice, detail, items, byId: new Map(items.map((item) => [item.id, item])) };
  exerciseBox.replaceChildren(exerciseSheet(detail, choice.mode));
  showChooser(false);
  document.getElementById("rulebook-stamp").textContent = stampText(detail.rulebook);
  countAnswered();
  announce(`Exercise loaded: ${detail.exercise.title}, ${items.length} items, ${choice.mode} mode.`);
  document.getElementById("exercise-heading").focus();
}

// ---- answering -----------------------------------------------------------------------------

// The answer chosen for an item, as the API wants it (a number on the concordance scale), or undefined.
function answerOf(box) {
  const checked = box.querySelector("input[type=radio]:checked");
  if (!checked) return undefined;
  const item = round.byId.get(box.dataset.item);
  return item.choices.find((c) => String(c.value) === checked.value).value;
}

function sheet(mode, answers) {
  const base = { mode, answers };
  return round.seed === null ? base : { ...base, seed: round.seed, variants: round.variants };
}

function lock(box) {
  for (const input of box.querySelectorAll("input")) input.disabled = true;
  const button = box.querySelector("button.check");
  if (button) button.remove();
}

function showFeedback(box, result) {
  const feedback = box.querySelector(".feedback");
  feedback.className = `feedback ${result.feedback.correct ? "correct" : "incorrect"}`;
  feedback.replaceChildren(...feedbackContent(result, `Item ${box.dataset.number}`));
  // Named by its verdict, so a screen reader landing on it hears which item and whether it matched.
  feedback.setAttribute("role", "group");
  feedback.setAttribute("aria-labelledby", `${result.id}-verdict`);
  feedback.hidden = false;
  lock(box);
}

async function check(box) {
  const error = box.querySelector(".field-error");
  const answer = answerOf(box);
  const fieldset = box.querySelector("fieldset");
  if (answer === undefined) {
    showFieldError(error, [], "Choose an answer first.");
    const described = (fieldset.getAttribute("aria-describedby") || "")
      .split(" ")
      .filter((id) => id && id !== error.id);
    fieldset.setAttribute("aria-describedby", [error.id, ...described].join(" "));
    box.querySelector("input[type=radio]").focus();
    announce(`Item ${box.dataset.number}: choose an answer first.`);
    return;
  }
  showFieldError(error, [], "");
  const button = box.querySelector("button.check");
  button.disabled = true;
  try {
    const report = await postJson(
      `/v1/exercises/${encodeURIComponent(round.id)}/answers`,
      sheet("practice", { [box.dataset.item]: answer }),
    );
    const result = report.results[0];
    showFeedback(box, result);
    announce(
      `Item ${box.dataset.number}: ${result.feedback.correct ? "matches the key" : "does not match the key"}. The feedback follows the item.`,
    );
    box.querySelector(".feedback").focus();
  } catch (err) {
    button.disabled = false;
    showFieldError(error, [], err instanceof ApiError ? err.message : String(err));
    announce(`Item ${box.dataset.number}: ${error.textContent}`);
  }
}

function countAnswered() {
  const boxes = [...exerciseBox.querySelectorAll(".item")];
  const answered = boxes.filter((box) => box.querySelector("input:checked")).length;
  const line = document.getElementById("answered-count");
  if (line) line.textContent = `Answered ${answered} of ${boxes.length} items.`;
}

async function finish() {
  const boxes = [...exerciseBox.querySelectorAll(".item")];
  const answers = {};
  for (const box of boxes) {
    const answer = answerOf(box);
    if (answer !== undefined) answers[box.dataset.item] = answer;
  }
  const button = document.getElementById("finish-button");
  button.disabled = true;
  announce("Scoring…");
  let report;
  try {
    report = await postJson(`/v1/exercises/${encodeURIComponent(round.id)}/answers`, sheet(round.mode, answers));
  } catch (error) {
    button.disabled = false;
    announce(error instanceof ApiError ? error.message : String(error));
    return;
  }
  const byId = new Map(boxes.map((box) => [box.dataset.item, box]));
  for (const result of report.results) showFeedback(byId.get(result.id), result);
  boxes.forEach(lock);
  const notAnswered = boxes.length - Object.keys(answers).length;
  const score = document.getElementById("score");
  score.replaceChildren(...scoreContent(report, round.items, notAnswered));
  score.hidden = false;
  button.hidden = true;
  announce(`Score shown: ${formatScore(report.score)} of ${report.max_score}.`);
  score.focus();
}

exerciseBox.addEventListener("click", (event) => {
  const target = event.target.closest("button");
  if (target && target.id === "choose-again") return showChooser(true);
  if (!target || !round) return;
  if (target.classList.contains("check")) check(target.closest(".item"));
  else if (target.id === "finish-button") finish();
});
exerciseBox.addEventListener("change", countAnswered);
startForm.addEventListener("submit", start);

// The teacher's "Try it" on a vignette: the learner view with that vignette chosen.
function tryAsLearner(showPanel, id) {
  if (round) showChooser(true);
  showPanel("learner");
  const radio = startForm.querySelector(`input[name="vignette"][value="${CSS.escape(id)}"]`);
  radio.checked = true;
  radio.focus();
  announce("Vignette chosen in the learner view: pick the mode and start.");
}

async function boot() {
  const showPanel = setUpTabs();
  let summaries;
  try {
    [summaries] = await Promise.all([getJson("/v1/exercises"), loadSources()]);
  } catch (error) {
    vignetteList.replaceChildren(
      el("p", { class: "field-error" }, error instanceof ApiError ? error.message : String(error)),
    );
    return;
  }
  vignetteChoices(summaries);
  setUpTeacher(summaries, (id) => tryAsLearner(showPanel, id));
  const health = await getJson("/healthz").catch(() => null);
  if (health && health.rulebook) document.getElementById("rulebook-stamp").textContent = stampText(health.rulebook);
}

boot();
