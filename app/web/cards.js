// The parts of the result about single categories: statements with their quoted sources, the
// category cards, the depends-on notes, and the one-line reasons of the overview. Every id from
// the API (a field, a value, a derived fact) is shown in words (words.js).
import { el } from "./dom.js";
import { dependsLabel, dependsValue, fieldLabel, prose, spaced, valueWord } from "./words.js";

export const STATUS_TEXT = { discussed: "commonly discussed", not_discussed: "not typically discussed" };
export const BASIS_GROUPS = [
  { basis: "case", heading: "For this case", note: "Rules with conditions on this case's inputs place these here." },
  {
    basis: "general",
    heading: "Listed for liver metastases in general",
    note: "The sources list these for liver metastases in general, with no conditions on the case.",
  },
];

// Source titles, category descriptions and each category's "discussed" rules, fetched once; the
// page still works (showing ids instead of titles) if any of them cannot be loaded.
export const catalogue = { sources: new Map(), categories: new Map(), discussedRules: new Map() };
// The derived facts of the explanation on show, so a statement can say which inputs a fact came from.
export const shown = { derivedFacts: new Map() };

// One line per unknown input: "Depends on the surgeon's assessment: would be not typically
// discussed if unresectable" (values of the same input joined by "or").
export function dependsLines(dependsOn) {
  const byField = new Map();
  for (const dependency of dependsOn || []) {
    byField.set(dependency.field, [...(byField.get(dependency.field) || []), dependency]);
  }
  return [...byField].map(([field, dependencies]) => {
    const statuses = [...new Set(dependencies.map((d) => d.would_be))];
    const outcome = statuses
      .map((status) => {
        const values = dependencies.filter((d) => d.would_be === status).map((d) => dependsValue(field, d.value));
        return `would be ${STATUS_TEXT[status]} if ${values.join(" or ")}`;
      })
      .join("; ");
    return { field, label: `Depends on ${dependsLabel(field)}`, outcome };
  });
}

function dependsNote(dependsOn) {
  const lines = dependsLines(dependsOn);
  if (!lines.length) return null;
  return el(
    "ul",
    { class: "depends-on", "aria-label": "What the status depends on" },
    lines.map((line) =>
      el("li", { "data-depends-on": line.field }, el("strong", {}, `${line.label}:`), ` ${line.outcome}`),
    ),
  );
}

export function sourceTitle(id) {
  const source = catalogue.sources.get(id);
  return source ? source.title : id;
}

export function citationFigure(citation) {
  return el(
    "figure",
    { class: "citation" },
    el("blockquote", {}, el("p", {}, `“${citation.quote}”`)),
    el("figcaption", {}, "— ", el("cite", {}, sourceTitle(citation.source)), `, section “${citation.section}”`),
  );
}

// The inputs a derived fact rests on, following facts derived from other facts.
function factBasis(fact, seen = new Set()) {
  if (seen.has(fact) || !shown.derivedFacts.has(fact)) return [];
  seen.add(fact);
  return shown.derivedFacts
    .get(fact)
    .derived_by.flatMap((s) => [
      ...s.inputs.map((i) => `${fieldLabel(i.field)}: ${valueWord(i.field, i.value)}`),
      ...s.derived_facts.flatMap((f) => factBasis(f, seen)),
    ]);
}

export function statementItem(statement, title) {
  const factText = (fact) => {
    const basis = [...new Set(factBasis(fact))];
    return basis.length ? `“${spaced(fact)}” (from ${basis.join(", ")})` : `“${spaced(fact)}”`;
  };
  const uses = [
    ...statement.inputs.map((i) => `${fieldLabel(i.field)}: ${valueWord(i.field, i.value)} (${prose(i.condition)})`),
    ...statement.derived_facts.map(factText),
  ];
  return el(
    "li",
    { class: "statement", "data-rule": statement.rule },
    el("p", { class: "because" }, title ? el("strong", {}, `${title}: `) : null, prose(statement.because)),
    uses.length ? el("p", { class: "uses" }, `Uses: ${uses.join("; ")}`) : null,
    statement.citations.map(citationFigure),
    el("p", { class: "rule-id" }, "Rule ", el("code", {}, statement.rule)),
  );
}

export function statementBlock(heading, statements, level = "h5") {
  if (!statements || !statements.length) return null;
  return el(
    "div",
    { class: "statements" },
    el(level, {}, heading),
    el(
      "ul",
      {},
      statements.map((s) => statementItem(s, s.label)),
    ),
  );
}

// The options inside a category. On paper each is its name and why, and its quotes stay on screen:
// they are the passages that describe the technique, not the reasons for the category's status.
function variantBlock(variants, level) {
  const block = statementBlock("Variants", variants, level);
  if (block) for (const figure of block.querySelectorAll(".citation")) figure.classList.add("screen-only");
  return block;
}

// Long parts (variants, arguments, rule chains) fold away on screen; print opens them (page.css),
// or leaves them out when they are marked screen-only. The Markdown download has everything.
export function more(summary, ...content) {
  const parts = content.flat(Infinity).filter(Boolean);
  return parts.length ? el("details", { class: "more" }, el("summary", {}, summary), parts) : null;
}

function argumentBlocks(args, level = "h5") {
  if (!args || !(args.in_favour.length + args.against.length)) return null;
  const folded = more(
    `Arguments in the sources (${args.in_favour.length} in favour, ${args.against.length} against)`,
    statementBlock("In favour", args.in_favour, level),
    statementBlock("Against", args.against, level),
  );
  folded.classList.add("screen-only");
  return folded;
}

export function basisText(item) {
  return item.basis === "general" ? "listed for liver metastases in general" : null;
}

// level: the card's heading level (4 or 5); its inner headings are one level below.
export function categoryCard(item, status, level = 4) {
  const headingId = `cat-${item.category}-heading`;
  const category = catalogue.categories.get(item.category);
  const inner = `h${level + 1}`;
  return el(
    "article",
    {
      class: `category ${status}`,
      id: `cat-${item.category}`,
      "data-category": item.category,
      "data-basis": item.basis,
      "aria-labelledby": headingId,
    },
    el(
      `h${level}`,
      { id: headingId, class: "category-heading" },
      item.label,
      " ",
      el("span", { class: `badge ${status}` }, STATUS_TEXT[status]),
      basisText(item) ? [" ", el("span", { class: "badge general" }, basisText(item))] : null,
    ),
    dependsNote(item.depends_on),
    category ? el("p", { class: "description" }, category.description) : null,
    status === "discussed"
      ? [
          statementBlock(
            item.basis === "general" ? "Why the sources list it" : "Why the sources discuss it for this case",
            item.rationale,
            inner,
          ),
          statementBlock("Caveats", item.caveats, inner),
          more(`Variants (${(item.variants || []).length})`, variantBlock(item.variants, inner)),
        ]
      : statementBlock("Why it is not typically discussed for this case", item.reasons, inner),
    argumentBlocks(item.arguments, inner),
  );
}

export function inBasisOrder(discussed) {
  return BASIS_GROUPS.flatMap(({ basis }) => discussed.filter((item) => (item.basis || "case") === basis));
}

export function basisCounts(discussed) {
  const count = (basis) => discussed.filter((item) => (item.basis || "case") === basis).length;
  return { case: count("case"), general: count("general") };
}

// The discussed categories in two groups: those a rule placed there for this case first, then
// those the sources list for liver metastases in general.
export function discussedGroups(discussed) {
  return BASIS_GROUPS.map(({ basis, heading, note }) => {
    const items = discussed.filter((item) => (item.basis || "case") === basis);
    if (!items.length) return null;
    const id = `discussed-${basis}`;
    return el(
      "section",
      { class: `basis-group basis-${basis}`, id, "data-basis": basis, "aria-labelledby": `${id}-heading` },
      el("h4", { id: `${id}-heading`, class: "group-heading" }, `${heading} (${items.length})`),
      el("p", { class: "note" }, note),
      items.map((item) => categoryCard(item, "discussed", 5)),
    );
  });
}

// The first sentence of the category's first reason, cut to one line of the overview.
export function oneLineReason(item) {
  const first = (item.rationale && item.rationale[0]) || (item.reasons && item.reasons[0]);
  if (!first) return "No reason given.";
  // The rulebook's parameter names are detail for the card, not for a one-line summary.
  const text = prose(first.because).replace(/\s*\(parameters? [^)]*\)/g, "");
  const sentence = text.match(/^.*?[.:;](?=\s|$)/);
  const line = sentence ? sentence[0].replace(/[:;]$/, ".") : text;
  if (line.length <= 150) return line;
  return `${line.slice(0, 150).replace(/\s+\S*$/, "")}…`;
}

// The overview: every category in one table, status, basis, one-line reason and what it hangs on.
export function overviewTable(explanation) {
  const rows = [
    ...inBasisOrder(explanation.discussed).map((item) => ({ item, status: "discussed" })),
    ...explanation.not_discussed.map((item) => ({ item, status: "not_discussed" })),
  ];
  return el(
    "table",
    { class: "overview-table" },
    el("caption", {}, `Every category at a glance (${rows.length}); the detail of each follows below.`),
    el(
      "colgroup",
      {},
      ["category", "status", "basis", "reason", "depends"].map((name) => el("col", { class: `col-${name}` })),
    ),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        ["Category", "Status", "Basis", "Why, in one line", "Depends on"].map((h) => el("th", { scope: "col" }, h)),
      ),
    ),
    el(
      "tbody",
      {},
      rows.map(({ item, status }) =>
        el(
          "tr",
          { "data-category": item.category, class: status },
          el("th", { scope: "row" }, el("a", { href: `#cat-${item.category}` }, item.label)),
          el("td", {}, el("span", { class: `badge ${status}` }, STATUS_TEXT[status])),
          el("td", { class: "basis" }, item.basis === "general" ? "in general" : "this case"),
          el("td", { class: "reason" }, oneLineReason(item)),
          el(
            "td",
            { class: "depends" },
            dependsLines(item.depends_on).map((line) =>
              el(
                "span",
                { class: "overview-depends", "data-depends-on": line.field },
                `${line.label.replace(/^Depends on /, "")}: ${line.outcome}`,
              ),
            ),
            (item.depends_on || []).length ? null : "—",
          ),
        ),
      ),
    ),
  );
}
