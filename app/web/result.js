// The result sheet: the head (date, rulebook version and digest), the disclaimer, the case, the
// overview, then the detail (cards, option grid, what-if, investigations, derived facts). Printed,
// the head to the overview is page 1 and the detail follows (page.css).
import { el, isoDate } from "./dom.js";
import {
  BASIS_GROUPS,
  basisCounts,
  categoryCard,
  citationFigure,
  discussedGroups,
  more,
  overviewTable,
  shown,
  statementItem,
} from "./cards.js";
import { optionGrid, screenOnly, scrollRegion, whatIfSection } from "./tables.js";
import { fieldLabel, spaced, valueWord } from "./words.js";

export function stampText(rulebook) {
  return `rulebook version ${rulebook.version} of ${rulebook.date}`;
}

function shortDigest(digest) {
  const [algorithm, hex] = String(digest).includes(":") ? String(digest).split(":", 2) : ["", String(digest)];
  return `${algorithm ? `${algorithm}:` : ""}${hex.slice(0, 12)}…`;
}

// On screen the digest is shortened (the full value is in the title and is what prints).
export function digestNode(digest) {
  return el(
    "code",
    { class: "digest", title: digest, "data-digest": digest },
    el("span", { class: "digest-short" }, shortDigest(digest)),
    el("span", { class: "digest-full" }, digest),
  );
}

function caseList(explanation, fields) {
  return el(
    "dl",
    { class: "case-list" },
    fields.map((field) => {
      const value = explanation.case[field.name];
      const unknown = value === null || value === undefined;
      return el(
        "div",
        { class: unknown ? "unknown" : null },
        el("dt", {}, fieldLabel(field.name, field.title)),
        el("dd", {}, valueWord(field.name, value)),
      );
    }),
  );
}

function investigationsSection(investigations) {
  if (!investigations || !investigations.length) return null;
  return el(
    "section",
    { class: "investigations", "aria-labelledby": "investigations-heading" },
    el("h3", { id: "investigations-heading" }, "Investigations the sources describe before treatment is chosen"),
    investigations.map((inv) =>
      el(
        "article",
        { class: "investigation", "data-investigation": inv.id },
        el("h4", {}, inv.label),
        el("p", {}, inv.purpose),
        // On paper the investigations are a list of names and purposes; their quotes are on screen.
        screenOnly(el("div", {}, inv.citations.map(citationFigure))),
        inv.relevance && inv.relevance.length
          ? screenOnly(
              el(
                "div",
                { class: "statements" },
                el("h5", {}, "For this case"),
                el(
                  "ul",
                  {},
                  inv.relevance.map((s) => statementItem(s)),
                ),
              ),
            )
          : null,
      ),
    ),
  );
}

// A passage quoted more than once prints once: later places refer back to it by number (on screen
// every place shows it in full, so a card reads on its own).
function numberRepeatedQuotes(sheet) {
  const seen = new Map();
  for (const figure of sheet.querySelectorAll(".citation")) {
    if (figure.closest(".screen-only")) continue; // not printed: nothing to refer back to
    const key = figure.querySelector("blockquote").textContent + figure.querySelector("cite").textContent;
    if (!seen.has(key)) {
      seen.set(key, seen.size + 1);
      figure.dataset.quote = String(seen.size);
      figure.querySelector("figcaption").append(el("span", { class: "quote-number" }, ` [quote ${seen.size}]`));
      continue;
    }
    figure.classList.add("repeat");
    figure.after(
      el(
        "p",
        { class: "quote-ref" },
        `Quoted above: [quote ${seen.get(key)}], ${figure.querySelector("cite").textContent}`,
      ),
    );
  }
}

function section(name, heading, ...content) {
  return el(
    "section",
    { class: name, "aria-labelledby": `${name}-heading` },
    el("h3", { id: `${name}-heading` }, heading),
    content,
  );
}

// The whole sheet for one explanation. actions: the buttons above the case (print, download, pin).
export function sheetFor(explanation, fields, actions, comparison) {
  shown.derivedFacts = new Map((explanation.derived_facts || []).map((f) => [f.fact, f]));
  const preparedOn = isoDate(new Date());
  const counts = basisCounts(explanation.discussed);
  const sheet = el(
    "article",
    { class: "sheet", id: "sheet", "aria-labelledby": "sheet-heading", "data-prepared": preparedOn },
    el(
      "div",
      { class: "first-page" },
      el(
        "header",
        { class: "sheet-head" },
        el("h3", { id: "sheet-heading", tabindex: "-1" }, "MDT preparation sheet"),
        el(
          "p",
          {},
          `Prepared ${preparedOn} · ${stampText(explanation.rulebook)} · digest `,
          digestNode(explanation.rulebook.digest),
        ),
      ),
      el(
        "section",
        { class: "disclaimer", id: "disclaimer", "aria-label": "Disclaimer" },
        el("p", {}, el("strong", {}, "Disclaimer. "), explanation.disclaimer),
      ),
      actions,
      section("overview", "Overview", scrollRegion(overviewTable(explanation), "overview-caption")),
      section(
        "the-case",
        "The case",
        el("p", { class: "note" }, "Unknown inputs were left out: nothing is guessed."),
        caseList(explanation, fields),
      ),
    ),
    // After page 1 when printed, so that a comparison never pushes the overview off it.
    comparison,
    section(
      "discussed",
      `Commonly discussed (${explanation.discussed.length}: ${counts.case} for this case, ${counts.general} in general)`,
      discussedGroups(explanation.discussed),
    ),
    section(
      "not-discussed",
      `Not typically discussed (${explanation.not_discussed.length})`,
      explanation.not_discussed.map((i) => categoryCard(i, "not_discussed")),
    ),
    whatIfSection(explanation.what_if),
    investigationsSection(explanation.investigations),
    el(
      "section",
      { class: "grid screen-only", "aria-labelledby": "grid-heading" },
      el("h3", { id: "grid-heading" }, "Option grid"),
      optionGrid(explanation),
    ),
    explanation.derived_facts.length
      ? el(
          "section",
          { class: "derived screen-only", "aria-labelledby": "derived-heading" },
          el("h3", { id: "derived-heading" }, "Facts derived along the way"),
          more(
            `The ${explanation.derived_facts.length} facts the rules derived and then used`,
            el(
              "ul",
              {},
              explanation.derived_facts.map((f) =>
                el(
                  "li",
                  {},
                  `“${spaced(f.fact)}”`,
                  el(
                    "ul",
                    {},
                    f.derived_by.map((s) => statementItem(s)),
                  ),
                ),
              ),
            ),
          ),
        )
      : null,
    section(
      "limits",
      "What the sources do not cover",
      el("p", {}, explanation.limits),
      el("h4", {}, "The disclaimer’s sources"),
      explanation.disclaimer_citations.map(citationFigure),
    ),
  );
  // The overview's caption doubles as its scroll region's name.
  sheet.querySelector(".overview-table caption").id = "overview-caption";
  numberRepeatedQuotes(sheet);
  return { sheet, preparedOn, counts };
}

export function statusText(explanation, counts) {
  return (
    `Result shown: ${explanation.discussed.length} categories commonly discussed ` +
    `(${counts.case} for this case, ${counts.general} listed for liver metastases in general), ` +
    `${explanation.not_discussed.length} not typically discussed.`
  );
}

export { BASIS_GROUPS };
