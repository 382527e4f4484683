// The result's tables beside the cards: the option grid, what would change it (what-if, with a
// one-line-per-change form for paper) and the comparison with a pinned case. Wide tables scroll in
// a focusable region of their own, never the page.
import { el } from "./dom.js";
import {
  STATUS_TEXT,
  basisText,
  catalogue,
  dependsLines,
  inBasisOrder,
  more,
  sourceTitle,
  statementItem,
} from "./cards.js";
import { fieldLabel, prose, valueWord } from "./words.js";

export function screenOnly(node) {
  if (node) node.classList.add("screen-only");
  return node;
}

// The option grid: every category against the questions people ask, side by side. Sources are
// numbered, with a key below, so that five long titles do not squeeze the other columns. It scrolls
// inside its own region, which takes keyboard focus so it can be scrolled without a mouse.
export function optionGrid(explanation) {
  const sourceIds = [...catalogue.sources.keys()];
  const rows = [
    ...inBasisOrder(explanation.discussed).map((item) => ({
      item,
      status: "discussed",
      against: [...item.caveats, ...item.arguments.against],
    })),
    ...explanation.not_discussed.map((item) => ({
      item,
      status: "not_discussed",
      against: [...item.reasons, ...item.arguments.against],
    })),
  ];
  const list = (texts) =>
    texts.length
      ? el(
          "ul",
          {},
          texts.map((t) => el("li", {}, t)),
        )
      : "—";
  const table = el(
    "table",
    { class: "option-grid" },
    el("caption", { id: "option-grid-caption" }, "Option grid: the categories side by side"),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        ["Option", "What is it?", "When do the sources discuss it?", "What speaks against it here?", "Source"].map(
          (q) => el("th", { scope: "col" }, q),
        ),
      ),
    ),
    el(
      "tbody",
      {},
      rows.map(({ item, status, against }) => {
        const firedHere = new Set((item.rationale || []).map((s) => s.rule));
        const when = (catalogue.discussedRules.get(item.category) || []).map((rule) =>
          firedHere.has(rule.id)
            ? el("span", {}, el("strong", {}, "Applies here: "), prose(rule.because))
            : prose(rule.because),
        );
        const cited = [
          ...(item.citations || []),
          ...against.flatMap((s) => s.citations),
          ...(item.reasons || []).flatMap((s) => s.citations),
        ];
        const sources = sourceIds.filter((id) => cited.some((c) => c.source === id));
        const category = catalogue.categories.get(item.category);
        return el(
          "tr",
          { "data-category": item.category },
          el(
            "th",
            { scope: "row" },
            item.label,
            el("br"),
            el("span", { class: `badge ${status}` }, STATUS_TEXT[status]),
            basisText(item) ? [el("br"), el("span", { class: "badge general" }, basisText(item))] : null,
            dependsLines(item.depends_on).map((line) =>
              el("span", { class: "grid-depends", "data-depends-on": line.field }, `${line.label}: ${line.outcome}`),
            ),
          ),
          el("td", {}, category ? category.description : "—"),
          el("td", {}, list(when)),
          el("td", {}, list(against.map((s) => prose(s.because)))),
          el("td", {}, sources.map((id) => `[${sourceIds.indexOf(id) + 1}]`).join(" ") || "—"),
        );
      }),
    ),
  );
  const key = el(
    "ol",
    { class: "source-key" },
    sourceIds.map((id) => el("li", {}, sourceTitle(id))),
  );
  return [scrollRegion(table, "option-grid-caption"), el("p", { class: "note" }, "Sources:"), key];
}

// A wide table in a region of its own that scrolls sideways (never the page) and can be reached and
// scrolled from the keyboard.
export function scrollRegion(table, captionId, screenOnly = false) {
  return el(
    "div",
    {
      class: `table-scroll${screenOnly ? " screen-only" : ""}`,
      tabindex: "0",
      role: "region",
      "aria-labelledby": captionId,
    },
    table,
  );
}

// The what-if table for paper: the changes that move the same category the same way, one line
// ("Primary site: colorectal → stomach, oesophagus or kidney: Surgical resection → not typically discussed").
function whatIfOnPaper(changes) {
  const lines = new Map();
  for (const c of changes) {
    const key = `${c.field}|${c.category}|${c.now}|${c.would_be}`;
    const line = lines.get(key) || { ...c, values: [] };
    line.values.push(valueWord(c.field, c.new_value));
    lines.set(key, line);
  }
  return el(
    "ul",
    { class: "what-if-paper print-only" },
    [...lines.values()].map((c) =>
      el(
        "li",
        {},
        `${fieldLabel(c.field)}: ${valueWord(c.field, c.current_value)} → ${c.values.join(", ")}: ${c.label} ${STATUS_TEXT[c.now]} → ${STATUS_TEXT[c.would_be]}`,
      ),
    ),
  );
}

export function whatIfSection(whatIf) {
  if (!whatIf) return null;
  const move = (now, wouldBe) => `${STATUS_TEXT[now]} → ${STATUS_TEXT[wouldBe]}`;
  const changes = whatIf.changes || [];
  const unknowns = whatIf.unknown_inputs || [];
  const ruleLine = (prefix) => (rule) => el("li", {}, `${prefix}: ${prose(rule.because)}`);
  return el(
    "section",
    { class: "what-if", "aria-labelledby": "what-if-heading" },
    el("h3", { id: "what-if-heading" }, "What would change it"),
    changes.length ? whatIfOnPaper(changes) : null,
    changes.length
      ? scrollRegion(
          el(
            "table",
            { class: "what-if-table" },
            el("caption", { id: "what-if-caption" }, "One input changed at a time"),
            el(
              "thead",
              {},
              el(
                "tr",
                {},
                ["Change", "Category", "Now → would be", "Why"].map((h, i) =>
                  el("th", { scope: "col", class: i === 3 ? "screen-only" : null }, h),
                ),
              ),
            ),
            el(
              "tbody",
              {},
              changes.map((change) =>
                el(
                  "tr",
                  {},
                  el(
                    "td",
                    {},
                    `${fieldLabel(change.field)}: ${valueWord(change.field, change.current_value)} → ${valueWord(change.field, change.new_value)}`,
                  ),
                  el("td", {}, change.label),
                  el("td", {}, move(change.now, change.would_be)),
                  el(
                    "td",
                    { class: "screen-only" },
                    el(
                      "p",
                      {},
                      `${change.label} would be ${STATUS_TEXT[change.would_be]} if ${fieldLabel(change.field)} were ${valueWord(change.field, change.new_value)}.`,
                    ),
                    screenOnly(
                      more(
                        "The rules that would decide it",
                        el(
                          "ul",
                          {},
                          (change.because || []).map((s) => statementItem(s)),
                        ),
                      ),
                    ),
                  ),
                ),
              ),
            ),
          ),
          "what-if-caption",
          true,
        )
      : el("p", {}, "No change of a single input moves a category for this case."),
    unknowns.length
      ? [
          el("h4", {}, "If an unknown input were known"),
          el(
            "ul",
            {},
            unknowns.map((effect) => {
              const moved = effect.changes || [];
              const added = (effect.rules_added || []).map(ruleLine("Would apply"));
              const removed = (effect.rules_removed || []).map(ruleLine("Would no longer apply"));
              return el(
                "li",
                { class: moved.length ? null : "screen-only" },
                `If ${fieldLabel(effect.field)} were ${valueWord(effect.field, effect.value)}: `,
                moved.length
                  ? moved.map((c) => `${c.label}: ${move(c.now, c.would_be)}`).join("; ")
                  : "no category would move",
                ".",
                added.length + removed.length
                  ? screenOnly(
                      more(`Other rules affected (${added.length + removed.length})`, el("ul", {}, added, removed)),
                    )
                  : null,
              );
            }),
          ),
        ]
      : null,
  );
}

// What moved between the pinned case (a) and this one (b): POST /v1/compare's answer as a table.
export function comparisonSection(comparison, pinnedLabel) {
  const inputs = comparison.changed_inputs.map(
    (d) => `${fieldLabel(d.field)}: ${valueWord(d.field, d.a)} → ${valueWord(d.field, d.b)}`,
  );
  return el(
    "section",
    { class: "comparison", "aria-labelledby": "comparison-heading" },
    el("h3", { id: "comparison-heading" }, `Compared with the pinned case (${pinnedLabel})`),
    el(
      "p",
      {},
      inputs.length ? `What changed in the case: ${inputs.join("; ")}.` : "The case is the same as the pinned one.",
    ),
    comparison.differences.length
      ? scrollRegion(
          el(
            "table",
            { class: "comparison-table" },
            el(
              "caption",
              { id: "comparison-caption" },
              `What moved (${comparison.differences.length}); ${comparison.unchanged.length} categories kept their status`,
            ),
            el(
              "thead",
              {},
              el(
                "tr",
                {},
                ["Category", "Pinned case", "This case", "Why, for this case"].map((h) =>
                  el("th", { scope: "col" }, h),
                ),
              ),
            ),
            el(
              "tbody",
              {},
              comparison.differences.map((d) =>
                el(
                  "tr",
                  { "data-category": d.category },
                  el("th", { scope: "row" }, d.label),
                  el("td", {}, el("span", { class: `badge ${d.a}` }, STATUS_TEXT[d.a])),
                  el("td", {}, el("span", { class: `badge ${d.b}` }, STATUS_TEXT[d.b])),
                  el("td", {}, d.b_because.length ? prose(d.b_because[0].because) : "—"),
                ),
              ),
            ),
          ),
          "comparison-caption",
        )
      : el("p", {}, "No category moved: every category has the same status for both cases."),
  );
}
