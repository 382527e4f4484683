// One exercise on the page: the story, the case and every item as a group of labelled choices.
// Items are grouped by exercise (the vignette, then each generated variant) and by type.
import { displayValue, el } from "./exercise-dom.js";

const CASE_LABELS = {
  primary_site: "Primary site",
  lesion_count: "Number of liver lesions",
  largest_lesion_cm: "Largest lesion (cm)",
  extrahepatic_disease: "Extrahepatic disease",
  liver_function: "Liver function",
  performance_status: "Performance status (ECOG)",
  symptomatic: "Symptoms",
  lobar_distribution: "Lobar distribution",
  primary_tumour_status: "Primary tumour",
  prior_treatments: "Prior treatments",
  kras_status: "KRAS status",
  hormone_receptor_status: "Hormone-receptor status",
  declines_surgery: "Declines surgery",
  technical_resectability: "Liver surgeon’s assessment",
  systemic_disease_controlled: "Disease elsewhere controlled",
  ascites: "Ascites",
  other_treatments_exhausted: "Other treatments exhausted",
};
export const CONCORDANCE_LABEL = "Keyed by the rulebook, not a validated script concordance test.";
const GROUPS = [
  {
    type: "status",
    heading: "Status of each category",
    help: "For the case as given: how do the sources describe each category?",
  },
  { type: "change", heading: "Change one factor", help: "Predict the answer after one fact of the case changes." },
  {
    type: "why_not",
    heading: "Why not",
    help: "Choose the single best answer: the fact of the case behind the status.",
  },
  {
    type: "concordance",
    heading: "Concordance (−2 to +2)",
    help: `How does the new fact move the category? ${CONCORDANCE_LABEL} The key is the change in the rulebook’s answer, not the judgement of a panel of experts.`,
  },
];

function caseList(caseData) {
  return el(
    "dl",
    { class: "case-list" },
    Object.entries(CASE_LABELS).map(([field, label]) => {
      const value = caseData[field];
      const unknown = value === null || value === undefined;
      return el("div", { class: unknown ? "unknown" : null }, el("dt", {}, label), el("dd", {}, displayValue(value)));
    }),
  );
}

// An item's choices, with the practice mode's Check button and an (empty) feedback box.
function itemBlock(item, number, practice) {
  const id = `item-${number}`;
  // Only a concordance item's note belongs with the question: a status item's note names its key, so it
  // waits for the feedback (which carries it).
  const concordance = item.type === "concordance";
  const fieldset = el(
    "fieldset",
    { class: "item-choices", "aria-describedby": concordance ? `${id}-note` : null },
    el("legend", {}, el("span", { class: "item-number" }, `Item ${number}. `), item.prompt),
    concordance ? el("p", { class: "note concordance-note", id: `${id}-note` }, CONCORDANCE_LABEL) : null,
    el(
      "div",
      { class: item.type === "concordance" ? "choices scale" : "choices" },
      item.choices.map((choice) =>
        el(
          "label",
          {},
          el("input", { type: "radio", name: `answer-${number}`, value: String(choice.value) }),
          ` ${choice.text}`,
        ),
      ),
    ),
  );
  return el(
    "div",
    { class: `item item-${item.type}`, id, "data-item": item.id, "data-type": item.type, "data-number": number },
    fieldset,
    el("p", { class: "field-error", id: `${id}-error`, hidden: true }),
    practice
      ? el(
          "button",
          { type: "button", class: "check secondary", "aria-label": `Check answer to item ${number}` },
          "Check answer",
        )
      : null,
    el("div", { class: "feedback", id: `${id}-feedback`, tabindex: "-1", hidden: true }),
  );
}

function partSection(exercise, index, counter, practice) {
  const headingId = `part-${index}-heading`;
  const heading = exercise.parent
    ? `Variant ${index}: ${exercise.changes.map((c) => c.text).join("; ")}`
    : `The vignette: ${exercise.title}`;
  const groups = GROUPS.map((group) => {
    const items = exercise.items.filter((item) => item.type === group.type);
    if (!items.length) return null;
    return el(
      "section",
      { class: `item-group group-${group.type}` },
      el("h4", {}, group.heading),
      el("p", { class: group.type === "concordance" ? "help concordance-label" : "help" }, group.help),
      items.map((item) => itemBlock(item, ++counter.n, practice)),
    );
  });
  return el(
    "section",
    { class: "part", "aria-labelledby": headingId },
    el("h3", { id: headingId }, heading),
    exercise.parent
      ? el("p", {}, "The same story with this difference: ", exercise.changes.map((c) => c.text).join("; "), ".")
      : el("p", { class: "story" }, exercise.story),
    el(
      "details",
      { class: "more", open: !exercise.parent },
      el("summary", {}, "The case as the rulebook reads it"),
      caseList(exercise.case),
    ),
    groups,
  );
}

// The whole exercise: the heading, the disclaimer, each part and the button that ends the round.
export function exerciseSheet(detail, mode) {
  const practice = mode === "practice";
  const ex = detail.exercise;
  const counter = { n: 0 };
  const parts = [ex, ...detail.variants].map((exercise, index) => partSection(exercise, index, counter, practice));
  return el(
    "article",
    { class: "sheet", "aria-labelledby": "exercise-heading" },
    el(
      "p",
      { class: "choose-again" },
      el("button", { type: "button", id: "choose-again", class: "secondary" }, "Choose another exercise"),
    ),
    el("h2", { id: "exercise-heading", tabindex: "-1" }, ex.title),
    el(
      "p",
      { class: "meta" },
      [
        ex.difficulty,
        ex.tags.join(", "),
        detail.seed === null
          ? null
          : `seed ${detail.seed}, ${detail.variants.length} variant${detail.variants.length === 1 ? "" : "s"}`,
        `${counter.n} items`,
        practice ? "practice mode" : "test mode",
      ]
        .filter((part) => part)
        .join(" · "),
    ),
    el(
      "p",
      { class: "mode-note" },
      practice
        ? "Practice mode: choose an answer, then Check answer for the feedback on that item. An item checked cannot be changed. Finish whenever you like for the score of the items answered."
        : "Test mode: answer the items, then submit. The feedback on every item and the score come at the end; items left unanswered score 0.",
    ),
    el("div", { class: "disclaimer" }, el("p", {}, detail.disclaimer)),
    el(
      "details",
      { class: "more" },
      el("summary", {}, "What this vignette is meant to teach"),
      el(
        "ul",
        {},
        ex.objectives.map((o) => el("li", {}, o)),
      ),
    ),
    parts,
    el(
      "div",
      { class: "finish" },
      el("p", { class: "note", id: "answered-count" }),
      el(
        "button",
        { type: "button", id: "finish-button" },
        practice ? "Finish and see the score" : "Submit all answers and see the score",
      ),
    ),
    el("section", { id: "score", class: "score", tabindex: "-1", "aria-labelledby": "score-heading", hidden: true }),
  );
}
