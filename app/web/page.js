// The MDT-preparation page. It reads the form into a case, asks POST /v1/explain, shows the
// explanation, and keeps the case in the URL so a prepared case can be shared as a link.
// No framework and no innerHTML: every node is built by el(), so nothing in the data can turn
// into markup, and the strict Content-Security-Policy (no inline code or styles) holds.
"use strict";

const FIELDS = [
  "primary_site", "lesion_count", "largest_lesion_cm", "extrahepatic_disease", "liver_function",
  "performance_status", "symptomatic", "lobar_distribution", "primary_tumour_status", "prior_treatments",
  "kras_status", "hormone_receptor_status", "declines_surgery", "technical_resectability",
  "systemic_disease_controlled", "ascites", "other_treatments_exhausted",
];
const NUMBER_FIELDS = new Set(["lesion_count", "largest_lesion_cm", "performance_status"]);
const BOOLEAN_FIELDS = new Set(["symptomatic", "declines_surgery", "systemic_disease_controlled", "ascites", "other_treatments_exhausted"]);
const STATUS_TEXT = { discussed: "commonly discussed", not_discussed: "not typically discussed" };
// What a category's status depends on, in words: "Depends on <label>: would be ... if <value>".
const DEPENDS_LABELS = {
  symptomatic: "symptoms",
  lobar_distribution: "the lobar distribution",
  primary_tumour_status: "whether the primary tumour is still in place",
  prior_treatments: "previous treatments",
  kras_status: "KRAS status",
  hormone_receptor_status: "hormone-receptor status",
  declines_surgery: "the patient's wishes",
  technical_resectability: "the surgeon's assessment",
  systemic_disease_controlled: "control of the disease elsewhere",
  ascites: "ascites",
  other_treatments_exhausted: "whether other treatments are exhausted",
};
// Yes/no inputs read better as a phrase: "if the patient declines surgery" rather than "if yes".
const BOOLEAN_PHRASES = {
  symptomatic: ["there are symptoms", "there are no symptoms"],
  declines_surgery: ["the patient declines surgery", "the patient does not decline surgery"],
  systemic_disease_controlled: ["the disease elsewhere is controlled", "the disease elsewhere is not controlled"],
  ascites: ["there is ascites", "there is no ascites"],
  other_treatments_exhausted: ["other treatments are exhausted", "other treatments are not exhausted"],
};
const BASIS_GROUPS = [
  { basis: "case", heading: "For this case", note: "Rules with conditions on this case's inputs place these here." },
  {
    basis: "general",
    heading: "Listed for liver metastases in general",
    note: "The sources list these for liver metastases in general, with no conditions on the case.",
  },
];

const form = document.getElementById("case-form");
const resultBox = document.getElementById("result");
const statusLine = document.getElementById("status");
const errorSummary = document.getElementById("form-errors");

// Source titles, category descriptions and each category's "discussed" rules, fetched once; the
// page still works (showing ids instead of titles) if any of them cannot be loaded.
const catalogue = { sources: new Map(), categories: new Map(), discussedRules: new Map() };
// The derived facts of the explanation on show, so a statement can say which inputs a fact came from.
let derivedFacts = new Map();
let latestRequest = 0;

// ---- small helpers --------------------------------------------------------------------------

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

async function getJson(path) {
  try {
    const response = await fetch(path, { headers: { accept: "application/json" } });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

function fieldLabel(field) {
  const box = form.querySelector(`[data-field="${field}"]`);
  const caption = box && (box.querySelector(":scope > legend") || box.querySelector(":scope > label"));
  return caption ? caption.textContent.trim() : field;
}

function displayValue(value) {
  if (value === null || value === undefined) return "unknown (not given)";
  if (value === true) return "yes";
  if (value === false) return "no";
  if (Array.isArray(value)) return value.length ? value.map(displayValue).join(", ") : "none";
  return String(value).replaceAll("_", " ");
}

function dependsLabel(field) {
  return DEPENDS_LABELS[field] || field;
}

function dependsValue(field, value) {
  if (typeof value === "boolean" && BOOLEAN_PHRASES[field]) return BOOLEAN_PHRASES[field][value ? 0 : 1];
  if (Array.isArray(value)) return value.length ? `they were ${value.map(displayValue).join(" and ")}` : "there were none";
  return displayValue(value);
}

// One line per unknown input: "Depends on the surgeon's assessment: would be not typically
// discussed if unresectable" (values of the same input joined by "or").
function dependsLines(dependsOn) {
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
    lines.map((line) => el("li", { "data-depends-on": line.field }, el("strong", {}, `${line.label}:`), ` ${line.outcome}`)),
  );
}

// The rulebook stamp: version, date and digest. On screen the digest is shortened (the full value
// is in the title and is what prints); the Markdown and print carry it in full.
function stampText(rulebook) {
  return `rulebook version ${rulebook.version} of ${rulebook.date}`;
}

function shortDigest(digest) {
  const [algorithm, hex] = String(digest).includes(":") ? String(digest).split(":", 2) : ["", String(digest)];
  return `${algorithm ? `${algorithm}:` : ""}${hex.slice(0, 12)}…`;
}

function digestNode(digest) {
  return el(
    "code",
    { class: "digest", title: digest, "data-digest": digest },
    el("span", { class: "digest-short" }, shortDigest(digest)),
    el("span", { class: "digest-full" }, digest),
  );
}

function sourceTitle(id) {
  const source = catalogue.sources.get(id);
  return source ? source.title : id;
}

function isoDate(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

// ---- the case: form <-> object <-> URL --------------------------------------------------------

function syncPriorTreatments() {
  const known = form.elements.prior_treatments_known.value === "known";
  for (const box of form.querySelectorAll('input[name="prior_treatments"]')) box.disabled = !known;
}

// Unknown optional inputs are left out of the case, never guessed.
function caseFromForm() {
  const data = new FormData(form);
  const result = {};
  for (const field of FIELDS) {
    if (field === "prior_treatments") {
      if (data.get("prior_treatments_known") === "known") result.prior_treatments = data.getAll(field);
      continue;
    }
    const raw = data.get(field);
    if (raw === null || raw === "") continue;
    if (NUMBER_FIELDS.has(field)) result[field] = Number(raw);
    else if (BOOLEAN_FIELDS.has(field)) result[field] = raw === "true";
    else result[field] = raw;
  }
  return result;
}

function caseToQuery(caseData) {
  const params = new URLSearchParams();
  for (const field of FIELDS) {
    if (!(field in caseData)) continue;
    const value = caseData[field];
    params.set(field, Array.isArray(value) ? value.join(",") || "none" : String(value));
  }
  return params.toString();
}

// Puts one value from a shared link into the form; false when the form has no such choice.
function setField(field, value) {
  if (field === "prior_treatments") {
    form.elements.prior_treatments_known.value = "known";
    syncPriorTreatments();
    const wanted = value === "none" ? [] : value.split(",");
    const boxes = [...form.querySelectorAll('input[name="prior_treatments"]')];
    if (!wanted.every((name) => boxes.some((box) => box.value === name))) return false;
    for (const box of boxes) box.checked = wanted.includes(box.value);
    return true;
  }
  const control = form.elements.namedItem(field);
  if (!control) return false;
  control.value = value;
  return control.value === value;
}

// Puts the defaults back synchronously (form.reset() would too, but fires a reset event).
function restoreDefaults() {
  for (const control of form.elements) {
    if (control.type === "radio" || control.type === "checkbox") control.checked = control.defaultChecked;
    else if (control.tagName === "SELECT") for (const option of control.options) option.selected = option.defaultSelected;
    else if (control.tagName === "INPUT") control.value = control.defaultValue;
  }
  syncPriorTreatments();
}

// Fills the form from the URL; returns the fields whose values could not be used.
function fillFormFromQuery(search) {
  restoreDefaults();
  const params = new URLSearchParams(search);
  const unusable = [];
  for (const field of FIELDS) {
    if (params.has(field) && !setField(field, params.get(field))) unusable.push([field, params.get(field)]);
  }
  return unusable;
}

// ---- errors next to the fields ----------------------------------------------------------------

function clearErrors() {
  errorSummary.hidden = true;
  errorSummary.replaceChildren();
  for (const message of form.querySelectorAll(".field-error")) {
    message.hidden = true;
    message.textContent = "";
  }
  for (const box of form.querySelectorAll("[aria-invalid]")) box.removeAttribute("aria-invalid");
}

function showErrors(problems) {
  const items = [];
  for (const { field, message } of problems) {
    const name = String(field || "").split(".")[0];
    const slot = document.getElementById(`${name}-error`);
    if (slot) {
      slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
      slot.hidden = false;
      for (const input of form.querySelectorAll(`[data-field="${name}"] input, [data-field="${name}"] select`)) {
        input.setAttribute("aria-invalid", "true");
      }
    }
    const container = slot ? form.querySelector(`[data-field="${name}"]`) : null;
    if (container) container.id ||= `field-${name}`;
    const label = container ? `${fieldLabel(name)}: ` : "";
    items.push(el("li", {}, container ? el("a", { href: `#${container.id}` }, label + message) : label + message));
  }
  errorSummary.replaceChildren(
    el("p", {}, el("strong", {}, "The case could not be explained. Please check:")),
    el("ul", {}, items),
  );
  errorSummary.hidden = false;
  statusLine.textContent = "The case could not be explained: see the messages by the fields.";
}

// ---- asking the API ---------------------------------------------------------------------------

async function explain(caseData) {
  const request = ++latestRequest;
  clearErrors();
  statusLine.textContent = "Explaining…";
  resultBox.setAttribute("aria-busy", "true");
  let response;
  let body = null;
  try {
    response = await fetch("/v1/explain?what_if=true", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(caseData),
    });
    body = await response.json().catch(() => null);
  } catch (error) {
    response = null;
    body = { errors: [{ field: "", message: `The service could not be reached (${error.message}).` }] };
  }
  // A slower, older answer must not overwrite the answer to the latest case.
  if (request !== latestRequest) return;
  resultBox.removeAttribute("aria-busy");
  if (response && response.ok && body) {
    await catalogueLoaded;
    render(body);
    return;
  }
  // A result for an earlier case must not stand beside a form it no longer matches.
  resultBox.replaceChildren();
  // Errors are RFC 9457 problem documents: `errors` lists each problem, `detail` says it in words.
  const problems = body && Array.isArray(body.errors) ? body.errors : [];
  if (!problems.length) {
    const reason = (body && (body.detail || body.title)) || (response ? `HTTP ${response.status}` : "no answer");
    problems.push({ field: "", message: `The service answered with an error (${reason}).` });
  }
  showErrors(problems);
}

// ---- rendering the explanation ----------------------------------------------------------------

function citationFigure(citation) {
  return el(
    "figure",
    { class: "citation" },
    el("blockquote", {}, el("p", {}, `“${citation.quote}”`)),
    el("figcaption", {}, "— ", el("cite", {}, sourceTitle(citation.source)), `, section “${citation.section}”`),
  );
}

// The inputs a derived fact rests on, following facts derived from other facts.
function factBasis(fact, seen = new Set()) {
  if (seen.has(fact) || !derivedFacts.has(fact)) return [];
  seen.add(fact);
  return derivedFacts.get(fact).derived_by.flatMap((s) => [
    ...s.inputs.map((i) => `${fieldLabel(i.field)}: ${displayValue(i.value)}`),
    ...s.derived_facts.flatMap((f) => factBasis(f, seen)),
  ]);
}

function statementItem(statement, title) {
  const factText = (fact) => {
    const basis = [...new Set(factBasis(fact))];
    return basis.length ? `derived fact ${fact} (from ${basis.join(", ")})` : `derived fact ${fact}`;
  };
  const uses = [
    ...statement.inputs.map((i) => `${fieldLabel(i.field)}: ${displayValue(i.value)} (${i.condition})`),
    ...statement.derived_facts.map(factText),
  ];
  return el(
    "li",
    { class: "statement", "data-rule": statement.rule },
    el("p", { class: "because" }, title ? el("strong", {}, `${title}: `) : null, statement.because),
    uses.length ? el("p", { class: "uses" }, `Uses: ${uses.join("; ")}`) : null,
    statement.citations.map(citationFigure),
    el("p", { class: "rule-id" }, "Rule ", el("code", {}, statement.rule)),
  );
}

function statementBlock(heading, statements, level = "h5") {
  if (!statements || !statements.length) return null;
  return el(
    "div",
    { class: "statements" },
    el(level, {}, heading),
    el("ul", {}, statements.map((s) => statementItem(s, s.label))),
  );
}

function argumentBlocks(args, level = "h5") {
  if (!args || !(args.in_favour.length + args.against.length)) return null;
  return more(
    `Arguments in the sources (${args.in_favour.length} in favour, ${args.against.length} against)`,
    statementBlock("In favour", args.in_favour, level),
    statementBlock("Against", args.against, level),
  );
}

function basisText(item) {
  return item.basis === "general" ? "listed for liver metastases in general" : null;
}

// level: the card's heading level (4 or 5); its inner headings are one level below.
function categoryCard(item, status, level = 4) {
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
          more(`Variants (${(item.variants || []).length})`, statementBlock("Variants", item.variants, inner)),
        ]
      : statementBlock("Why it is not typically discussed for this case", item.reasons, inner),
    argumentBlocks(item.arguments, inner),
  );
}

// The discussed categories in two groups: those a rule placed there for this case first, then
// those the sources list for liver metastases in general.
function discussedGroups(discussed) {
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

function discussedInOrder(discussed) {
  return BASIS_GROUPS.flatMap(({ basis }) => discussed.filter((item) => (item.basis || "case") === basis));
}

function basisCounts(discussed) {
  const count = (basis) => discussed.filter((item) => (item.basis || "case") === basis).length;
  return { case: count("case"), general: count("general") };
}

function caseList(explanation) {
  return el(
    "dl",
    { class: "case-list" },
    FIELDS.map((field) => {
      const value = explanation.case[field];
      const unknown = value === null || value === undefined;
      return el("div", { class: unknown ? "unknown" : null }, el("dt", {}, fieldLabel(field)), el("dd", {}, displayValue(value)));
    }),
  );
}

// Long parts (variants, arguments, rule chains) fold away. The printed sheet shows what the screen
// shows, so it stays a few pages; the Markdown download always has everything.
function more(summary, ...content) {
  const parts = content.flat(Infinity).filter(Boolean);
  return parts.length ? el("details", { class: "more" }, el("summary", {}, summary), parts) : null;
}

// The option grid: every category against the questions people ask, side by side. Sources are
// numbered, with a key below, so that five long titles do not squeeze the other columns.
function optionGrid(explanation) {
  const sourceIds = [...catalogue.sources.keys()];
  const rows = [
    ...discussedInOrder(explanation.discussed).map((item) => ({ item, status: "discussed", against: [...item.caveats, ...item.arguments.against] })),
    ...explanation.not_discussed.map((item) => ({ item, status: "not_discussed", against: [...item.reasons, ...item.arguments.against] })),
  ];
  const list = (texts) => (texts.length ? el("ul", {}, texts.map((t) => el("li", {}, t))) : "—");
  const table = el(
    "table",
    { class: "option-grid" },
    el("caption", {}, "Option grid: the categories side by side"),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        ["Option", "What is it?", "When do the sources discuss it?", "What speaks against it here?", "Source"].map(
          (question) => el("th", { scope: "col" }, question),
        ),
      ),
    ),
    el(
      "tbody",
      {},
      rows.map(({ item, status, against }) => {
        const firedHere = new Set((item.rationale || []).map((s) => s.rule));
        const when = (catalogue.discussedRules.get(item.category) || []).map((rule) =>
          firedHere.has(rule.id) ? el("span", {}, el("strong", {}, "Applies here: "), rule.because) : rule.because,
        );
        const cited = [...(item.citations || []), ...against.flatMap((s) => s.citations), ...(item.reasons || []).flatMap((s) => s.citations)];
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
            dependsLines(item.depends_on).map((line) => el("span", { class: "grid-depends", "data-depends-on": line.field }, `${line.label}: ${line.outcome}`)),
          ),
          el("td", {}, category ? category.description : "—"),
          el("td", {}, list(when)),
          el("td", {}, list(against.map((s) => s.because))),
          el("td", {}, sources.map((id) => `[${sourceIds.indexOf(id) + 1}]`).join(" ") || "—"),
        );
      }),
    ),
  );
  const key = el("ol", { class: "source-key" }, sourceIds.map((id) => el("li", {}, sourceTitle(id))));
  return [el("div", { class: "grid-scroll" }, table), el("p", { class: "note" }, "Sources:"), key];
}

function whatIfSection(whatIf) {
  if (!whatIf) return null;
  const move = (now, wouldBe) => `${STATUS_TEXT[now]} → ${STATUS_TEXT[wouldBe]}`;
  const changes = whatIf.changes || [];
  const unknowns = whatIf.unknown_inputs || [];
  return el(
    "section",
    { class: "what-if", "aria-labelledby": "what-if-heading" },
    el("h3", { id: "what-if-heading" }, "What would change it"),
    changes.length
      ? el(
          "table",
          {},
          el("caption", {}, "One input changed at a time"),
          el("thead", {}, el("tr", {}, ["Change", "Category", "Now → would be", "Why"].map((h) => el("th", { scope: "col" }, h)))),
          el(
            "tbody",
            {},
            changes.map((change) =>
              el(
                "tr",
                {},
                el("td", {}, `${fieldLabel(change.field)}: ${displayValue(change.current_value)} → ${displayValue(change.new_value)}`),
                el("td", {}, change.label),
                el("td", {}, move(change.now, change.would_be)),
                el(
                  "td",
                  {},
                  el("p", {}, change.statement),
                  more("The rules that would decide it", el("ul", {}, (change.because || []).map((s) => statementItem(s)))),
                ),
              ),
            ),
          ),
        )
      : el("p", {}, "No change of a single input moves a category for this case."),
    unknowns.length
      ? [
          el("h4", {}, "If an unknown input were known"),
          el(
            "ul",
            {},
            unknowns.map((effect) => {
              const changes = effect.changes || [];
              const ruleLine = (prefix) => (rule) => el("li", {}, `${prefix}: ${rule.because} `, el("code", {}, rule.rule));
              const added = (effect.rules_added || []).map(ruleLine("Would apply"));
              const removed = (effect.rules_removed || []).map(ruleLine("Would no longer apply"));
              return el(
                "li",
                {},
                `If ${fieldLabel(effect.field)} were ${displayValue(effect.value)}: `,
                changes.length ? changes.map((c) => `${c.label}: ${move(c.now, c.would_be)}`).join("; ") : "no category would move",
                ".",
                added.length + removed.length
                  ? more(`Other rules affected (${added.length + removed.length})`, el("ul", {}, added, removed))
                  : null,
              );
            }),
          ),
        ]
      : null,
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
        inv.citations.map(citationFigure),
        statementBlock("For this case", inv.relevance),
      ),
    ),
  );
}

function section(id, heading, ...content) {
  return el("section", { class: id, "aria-labelledby": `${id}-heading` }, el("h3", { id: `${id}-heading` }, heading), content);
}

function render(explanation) {
  derivedFacts = new Map((explanation.derived_facts || []).map((f) => [f.fact, f]));
  const preparedOn = isoDate(new Date());
  const stamp = stampText(explanation.rulebook);
  const counts = basisCounts(explanation.discussed);
  const printButton = el("button", { type: "button", class: "secondary" }, "Print MDT sheet");
  const downloadButton = el("button", { type: "button", class: "secondary" }, "Download Markdown");
  printButton.addEventListener("click", () => window.print());
  downloadButton.addEventListener("click", () => downloadMarkdown(explanation, preparedOn));
  const sheet = el(
    "article",
    { class: "sheet", id: "sheet", "aria-labelledby": "sheet-heading" },
    el(
      "header",
      { class: "sheet-head" },
      el("h3", { id: "sheet-heading" }, "MDT preparation sheet"),
      el("p", {}, `Prepared ${preparedOn} · ${stamp} · digest `, digestNode(explanation.rulebook.digest)),
    ),
    el(
      "section",
      { class: "disclaimer", id: "disclaimer", "aria-label": "Disclaimer" },
      el("p", {}, el("strong", {}, "Disclaimer. "), explanation.disclaimer),
      explanation.disclaimer_citations.map(citationFigure),
    ),
    el(
      "div",
      { class: "sheet-actions" },
      printButton,
      downloadButton,
      el("a", { href: window.location.href, class: "share-link" }, "Link to this case"),
    ),
    section("case", "The case", el("p", { class: "note" }, "Unknown inputs were left out: nothing is guessed."), caseList(explanation)),
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
    section("grid", "Option grid", optionGrid(explanation)),
    whatIfSection(explanation.what_if),
    investigationsSection(explanation.investigations),
    explanation.derived_facts.length
      ? section(
          "derived",
          "Facts derived along the way",
          more(
            `The ${explanation.derived_facts.length} facts the rules derived and then used`,
            el("ul", {}, explanation.derived_facts.map((f) => el("li", {}, el("code", {}, f.fact), el("ul", {}, f.derived_by.map((s) => statementItem(s)))))),
          ),
        )
      : null,
    section("limits", "What the sources do not cover", el("p", {}, explanation.limits)),
  );
  resultBox.replaceChildren(sheet);
  statusLine.textContent =
    `Result shown: ${explanation.discussed.length} categories commonly discussed ` +
    `(${counts.case} for this case, ${counts.general} listed for liver metastases in general), ` +
    `${explanation.not_discussed.length} not typically discussed.`;
}

// ---- Markdown: the same sheet as text ---------------------------------------------------------

function markdownStatements(statements, indent = "") {
  return statements.flatMap((s) => [
    `${indent}- ${s.label ? `**${s.label}:** ` : ""}${s.because} (rule \`${s.rule}\`)`,
    ...s.citations.flatMap((c) => [`${indent}  > “${c.quote}”`, `${indent}  > — *${sourceTitle(c.source)}*, section “${c.section}”`, ""]),
  ]);
}

function toMarkdown(explanation, preparedOn) {
  const cell = (text) => String(text).replaceAll("|", "\\|");
  const lines = [
    "# MDT preparation sheet",
    "",
    `Prepared ${preparedOn} · ${stampText(explanation.rulebook)} · digest ${explanation.rulebook.digest}`,
    "",
    `Case link: <${window.location.href}>`,
    "",
    "## Disclaimer",
    "",
    explanation.disclaimer,
    "",
    ...explanation.disclaimer_citations.flatMap((c) => [`> “${c.quote}”`, `> — *${sourceTitle(c.source)}*, section “${c.section}”`, ""]),
    "## The case",
    "",
    "| Input | Value |",
    "| --- | --- |",
    ...FIELDS.map((f) => `| ${cell(fieldLabel(f))} | ${cell(displayValue(explanation.case[f]))} |`),
    "",
    "## Commonly discussed",
    "",
  ];
  const block = (heading, statements) => (statements && statements.length ? [heading, "", ...markdownStatements(statements), ""] : []);
  const depends = (item) => {
    const found = dependsLines(item.depends_on).map((line) => `- **${line.label}:** ${line.outcome}`);
    return found.length ? [...found, ""] : [];
  };
  for (const { basis, heading, note } of BASIS_GROUPS) {
    const items = explanation.discussed.filter((item) => (item.basis || "case") === basis);
    if (!items.length) continue;
    lines.push(`### ${heading}`, "", note, "");
    for (const item of items) {
      lines.push(`#### ${item.label}`, "", ...depends(item), item.summary, "");
      lines.push(...block("Why the sources discuss it:", item.rationale), ...block("Caveats:", item.caveats));
      lines.push(...block("Variants:", item.variants), ...block("Arguments in favour:", item.arguments.in_favour));
      lines.push(...block("Arguments against:", item.arguments.against));
    }
  }
  lines.push("## Not typically discussed", "");
  for (const item of explanation.not_discussed) {
    lines.push(`### ${item.label}`, "", ...depends(item), item.summary, "", ...block("Why it is not typically discussed:", item.reasons));
    lines.push(...block("Arguments in favour:", item.arguments.in_favour), ...block("Arguments against:", item.arguments.against));
  }
  const whatIf = explanation.what_if;
  if (whatIf && (whatIf.changes.length || whatIf.unknown_inputs.length)) {
    lines.push("## What would change it", "");
    for (const c of whatIf.changes) {
      lines.push(`- ${fieldLabel(c.field)}: ${displayValue(c.current_value)} → ${displayValue(c.new_value)}: ${c.label} would be ${STATUS_TEXT[c.would_be]}. ${c.statement}`);
    }
    for (const u of whatIf.unknown_inputs) {
      const moves = u.changes.map((c) => `${c.label} would be ${STATUS_TEXT[c.would_be]}`).join("; ") || "no category would move";
      lines.push(`- If ${fieldLabel(u.field)} were ${displayValue(u.value)}: ${moves}.`);
    }
    lines.push("");
  }
  if (explanation.investigations.length) {
    lines.push("## Investigations", "");
    for (const inv of explanation.investigations) {
      lines.push(`### ${inv.label}`, "", inv.purpose, "", ...block("For this case:", inv.relevance));
    }
  }
  lines.push("## What the sources do not cover", "", explanation.limits, "");
  return lines.join("\n");
}

function downloadMarkdown(explanation, preparedOn) {
  const blob = new Blob([toMarkdown(explanation, preparedOn)], { type: "text/markdown;charset=utf-8" });
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: `mdt-sheet-${explanation.case.primary_site}-${preparedOn}.md`, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked later, not at once: some browsers read the blob after click() has returned.
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// ---- start-up ---------------------------------------------------------------------------------

async function loadCatalogue() {
  const [sources, categories, rules, health] = await Promise.all(
    ["/v1/sources", "/v1/categories", "/v1/rules", "/healthz"].map(getJson),
  );
  for (const source of sources || []) catalogue.sources.set(source.id, source);
  for (const category of categories || []) catalogue.categories.set(category.id, category);
  for (const rule of (rules && rules.rules) || []) {
    if (rule.effect !== "discussed") continue;
    catalogue.discussedRules.set(rule.category, [...(catalogue.discussedRules.get(rule.category) || []), rule]);
  }
  if (health && health.rulebook) {
    document
      .getElementById("rulebook-stamp")
      .replaceChildren(`version ${health.rulebook.version} of ${health.rulebook.date} (digest `, digestNode(health.rulebook.digest), ")");
  }
}

function explainFromUrl() {
  clearErrors();
  if (!FIELDS.some((field) => new URLSearchParams(window.location.search).has(field))) {
    restoreDefaults();
    resultBox.replaceChildren();
    statusLine.textContent = "Describe the case and choose Explain.";
    return;
  }
  const unusable = fillFormFromQuery(window.location.search);
  if (unusable.length) {
    showErrors(unusable.map(([field, value]) => ({ field, message: `The link gives “${value}”, which is not one of the choices here.` })));
    return;
  }
  explain(caseFromForm());
}

const catalogueLoaded = loadCatalogue();

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const caseData = caseFromForm();
  const query = `?${caseToQuery(caseData)}`;
  if (query !== window.location.search) history.pushState(null, "", query);
  explain(caseData);
});
form.addEventListener("reset", (event) => {
  event.preventDefault();
  restoreDefaults();
  clearErrors();
});
form.elements.prior_treatments_known.forEach((radio) => radio.addEventListener("change", syncPriorTreatments));
window.addEventListener("popstate", explainFromUrl);
explainFromUrl();
