// The feedback on an item and the score at the end, as the API scores them (POST
// /v1/exercises/{id}/answers): the learner's answer beside the key, the rules deciding the key with
// their "because", the verbatim quotes with source and section, and the MDT disclaimer.
import { el, sourceTitle } from "./exercise-dom.js";

const STATUS_TEXT = {
  discussed: "commonly discussed",
  not_discussed: "not typically discussed",
  depends: "depends on an input the case leaves unknown",
};
const BASIS_TEXT = { case: "on the facts of the case", general: "listed for liver metastases in general" };
const TYPE_TEXT = {
  status: "Status of each category",
  change: "Change one factor",
  why_not: "Why not",
  concordance: "Concordance (−2 to +2)",
};

function citationFigure(citation) {
  return el(
    "figure",
    { class: "citation" },
    el("blockquote", {}, el("p", {}, `“${citation.quote}”`)),
    el(
      "figcaption",
      {},
      "— ",
      el("cite", {}, sourceTitle(citation.source)),
      citation.section ? `, section “${citation.section}”` : null,
    ),
  );
}

function reasonList(heading, statements) {
  if (!statements.length) return null;
  return el(
    "div",
    { class: "reasons" },
    el("h6", {}, heading),
    el(
      "ul",
      {},
      statements.map((s) =>
        el(
          "li",
          { class: "statement", "data-rule": s.rule },
          el("p", { class: "because" }, s.because),
          s.citations.map(citationFigure),
          el("p", { class: "rule-id" }, "Rule ", el("code", {}, s.rule)),
        ),
      ),
    ),
  );
}

function dependsList(dependsOn) {
  if (!dependsOn.length) return null;
  return el(
    "ul",
    { class: "depends-on", "aria-label": "What the status depends on" },
    dependsOn.map((d) => el("li", { "data-depends-on": d.field }, d.statement)),
  );
}

// The reasons after a change and before it; the same rules on both sides are listed once.
function changeReasons(fb) {
  if (!(fb.before && fb.after)) return [reasonList("Why", fb.reasons)];
  const rules = (statements) => statements.map((s) => s.rule).join(" ");
  if (rules(fb.reasons) === rules(fb.reasons_before))
    return [reasonList("Why (the same rules before and after the change)", fb.reasons)];
  return [reasonList("Why, after the change", fb.reasons), reasonList("Why, before the change", fb.reasons_before)];
}

function verdict(result) {
  if (result.feedback.correct) return "Matches the key";
  if (result.answer === null) return "Not answered (score 0)";
  return result.score > 0 ? `Near the key (score ${formatScore(result.score)} of 1)` : "Does not match the key";
}

// Scores are sums of quarters: at most two decimals, trailing zeros dropped (25, 25.5, 25.25).
export function formatScore(value) {
  return String(Number(value.toFixed(2)));
}

// The feedback box under an item; `label` names the item ("Item 4") for its heading.
export function feedbackContent(result, label) {
  const fb = result.feedback;
  const status = STATUS_TEXT[fb.category_status] || fb.category_status;
  const basis = fb.basis ? ` (${BASIS_TEXT[fb.basis]})` : "";
  const changed =
    fb.before && fb.after
      ? el(
          "p",
          { class: "before-after" },
          `Before the change: ${STATUS_TEXT[fb.before]}. After it: ${STATUS_TEXT[fb.after]}.`,
        )
      : null;
  const anyQuote = fb.reasons.some((s) => s.citations.length);
  return [
    el("h5", { class: "verdict", id: `${result.id}-verdict` }, `${label}: ${verdict(result)}`),
    el(
      "dl",
      { class: "answer-vs-key" },
      el("div", { class: "yours" }, el("dt", {}, "Your answer"), el("dd", {}, fb.answer_text)),
      el("div", { class: "key" }, el("dt", {}, "The key (from the rulebook)"), el("dd", {}, fb.key_text)),
    ),
    changed,
    el(
      "p",
      { class: "category-status" },
      `${fb.before && fb.after ? "After the change, the" : "For this case, the"} sources describe this category as ${status}${basis}.`,
    ),
    dependsList(fb.depends_on),
    ...changeReasons(fb),
    !anyQuote && fb.citations.length
      ? el("div", { class: "reasons" }, el("h6", {}, "The sources"), fb.citations.map(citationFigure))
      : null,
    fb.note ? el("p", { class: "note" }, fb.note) : null,
    el("p", { class: "disclaimer" }, fb.disclaimer),
  ].filter((node) => node); // replaceChildren() would write a null as the text "null"
}

function typeTable(report, items) {
  const rows = Object.entries(TYPE_TEXT).map(([type, text]) => {
    const results = report.results.filter((r) => r.type === type);
    const offered = items.filter((i) => i.type === type).length;
    const score = results.reduce((sum, r) => sum + r.score, 0);
    return { type, text, offered, scored: results.length, score };
  });
  return el(
    "table",
    { class: "score-table" },
    el("caption", {}, "Item scores by type"),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        el("th", { scope: "col" }, "Item type"),
        el("th", { scope: "col" }, "Items scored"),
        el("th", { scope: "col" }, "Score"),
      ),
    ),
    el(
      "tbody",
      {},
      rows.map((row) =>
        el(
          "tr",
          { "data-type": row.type },
          el("th", { scope: "row" }, row.text),
          el("td", {}, `${row.scored} of ${row.offered}`),
          el("td", {}, row.scored ? `${formatScore(row.score)} of ${row.scored}` : "none scored"),
        ),
      ),
    ),
  );
}

// The score at the end: the API's total, a table by item type and the rules most missed.
export function scoreContent(report, items, notAnswered) {
  const practiceSkipped = report.mode === "practice" && notAnswered > 0;
  return [
    el("h3", { id: "score-heading" }, "Your score"),
    el(
      "p",
      { class: "score-total", id: "score-total" },
      `Item score: ${formatScore(report.score)} of ${report.max_score}`,
    ),
    el(
      "p",
      { class: "note" },
      report.mode === "test"
        ? `Every item is scored; ${report.unanswered.length} not answered scored 0. A concordance item scores 1 at the key and a quarter less for each step away from it; every other item scores 1 or 0.`
        : `The items you answered are scored${practiceSkipped ? `; ${notAnswered} not answered are left out` : ""}. A concordance item scores 1 at the key and a quarter less for each step away from it; every other item scores 1 or 0.`,
    ),
    typeTable(report, items),
    el("h4", {}, "The rules most missed"),
    report.most_missed_rules.length
      ? el(
          "ol",
          { class: "missed-rules" },
          report.most_missed_rules.map((m) =>
            el(
              "li",
              { "data-rule": m.rule },
              el("p", { class: "because" }, m.because),
              el(
                "p",
                { class: "rule-id" },
                "Rule ",
                el("code", {}, m.rule),
                ` · behind ${m.missed} item${m.missed === 1 ? "" : "s"} scored below 1`,
              ),
            ),
          ),
        )
      : el("p", {}, "None: every scored item matched its key."),
    el("p", { class: "disclaimer" }, report.disclaimer),
  ].filter((node) => node);
}
