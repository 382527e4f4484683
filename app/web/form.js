// The case form, built from the published Case JSON Schema (GET /schemas/case.schema.json): each
// property becomes a labelled control of its kind (choices for enums and yes/no, a number box with
// the schema's bounds), required inputs first, every optional input with an "Unknown" choice that
// leaves it out of the request. A new input in the model appears here without editing markup.
import { el } from "./dom.js";
import { WORDS, choiceLabel, fieldLabel } from "./words.js";

// Enums with more choices than this become a select; fewer, radio buttons.
const MAX_RADIOS = 6;

// One input: its id, kind (enum | boolean | integer | number | list), allowed values, bounds, and
// whether it may be left unknown.
export function fieldsFromSchema(schema) {
  // Named enums may be references to $defs (also wrapped in a one-item allOf).
  const resolve = (node) => {
    if (node && node.$ref) {
      const name = node.$ref.split("/").pop();
      return resolve((schema.$defs || schema.definitions || {})[name] || {});
    }
    if (node && Array.isArray(node.allOf) && node.allOf.length === 1) return { ...node, ...resolve(node.allOf[0]) };
    return node || {};
  };
  const required = new Set(schema.required || []);
  return Object.entries(schema.properties || {}).map(([name, property]) => {
    const variants = (property.anyOf || [property]).map(resolve);
    const inner = variants.find((v) => v.type !== "null") || {};
    const optional = !required.has(name) || variants.some((v) => v.type === "null");
    const items = inner.type === "array" ? resolve(inner.items) : null;
    let kind = inner.type;
    if (inner.enum) kind = "enum";
    if (inner.type === "array") kind = "list";
    return {
      name,
      kind,
      optional,
      values: inner.enum || (items && items.enum) || null,
      minimum: inner.minimum,
      maximum: inner.maximum,
      title: property.title,
      description: property.description || inner.description || "",
    };
  });
}

function helpText(field) {
  const words = WORDS[field.name];
  // The schema's description is written for programmers ("absent = unknown"): cut that part off.
  const base = words ? words.help : field.description.replace(/;?\s*absent = unknown.*$/i, ".").replace(/\.\.$/, ".");
  const range =
    field.kind === "integer" && !isScale(field) && field.minimum !== undefined && field.maximum !== undefined
      ? ` A whole number from ${field.minimum} to ${field.maximum}.`
      : field.kind === "number" && field.minimum !== undefined && field.maximum !== undefined
        ? ` From ${field.minimum} to ${field.maximum}.`
        : "";
  const unknown =
    field.optional && (field.kind === "integer" || field.kind === "number") ? " Leave empty if unknown." : "";
  return `${base}${range}${unknown}`;
}

// An integer scale whose every value has a meaning in WORDS (ECOG): radio buttons.
function isScale(field) {
  const values = WORDS[field.name] && WORDS[field.name].values;
  return field.kind === "integer" && Boolean(values) && field.maximum - field.minimum <= MAX_RADIOS;
}

export function choicesOf(field) {
  if (field.kind === "boolean") return [true, false];
  if (isScale(field)) return Array.from({ length: field.maximum - field.minimum + 1 }, (_, i) => field.minimum + i);
  return field.values || [];
}

function radio(field, value, label, checked) {
  const input = el("input", { type: "radio", name: field.name, value: String(value), checked });
  return el("label", {}, input, " ", label);
}

function errorSlot(field) {
  return el("p", { class: "field-error", id: `${field.name}-error`, hidden: true });
}

function numberControl(field, initial) {
  const words = WORDS[field.name] || {};
  const described = `${field.name}-help ${field.name}-error`;
  return el(
    "div",
    { class: "field", "data-field": field.name, id: `field-${field.name}` },
    el("label", { for: field.name }, fieldLabel(field.name, field.title)),
    el("p", { class: "help", id: `${field.name}-help` }, helpText(field)),
    el(
      "div",
      { class: "with-unit" },
      el("input", {
        id: field.name,
        name: field.name,
        type: "number",
        inputmode: field.kind === "integer" ? "numeric" : "decimal",
        min: field.minimum,
        max: field.maximum,
        step: field.kind === "integer" ? "1" : words.step || "any",
        value: initial === undefined || initial === null ? "" : String(initial),
        "aria-describedby": described,
      }),
      words.unit ? el("span", { class: "unit", "aria-hidden": "true" }, words.unit) : null,
    ),
    errorSlot(field),
  );
}

function selectControl(field, initial) {
  const options = field.optional ? [el("option", { value: "", selected: initial === undefined }, "Unknown")] : [];
  for (const value of field.values) {
    options.push(el("option", { value, selected: value === initial }, choiceLabel(field.name, value)));
  }
  return el(
    "div",
    { class: "field", "data-field": field.name, id: `field-${field.name}` },
    el("label", { for: field.name }, fieldLabel(field.name, field.title)),
    el("p", { class: "help", id: `${field.name}-help` }, helpText(field)),
    el(
      "select",
      { id: field.name, name: field.name, "aria-describedby": `${field.name}-help ${field.name}-error` },
      options,
    ),
    errorSlot(field),
  );
}

function choiceControl(field, initial) {
  const words = WORDS[field.name] || {};
  const choices = choicesOf(field);
  const labels = choices.map((value) =>
    isScale(field) ? [el("b", {}, String(value)), " ", words.values[value]] : choiceLabel(field.name, value),
  );
  const long = isScale(field) || words.stacked || choices.length > 3;
  const unknown = field.optional ? [radio(field, "", "Unknown", initial === undefined)] : [];
  return el(
    "fieldset",
    {
      class: `field choice${long ? "" : " inline"}${isScale(field) ? " scale" : ""}`,
      "data-field": field.name,
      id: `field-${field.name}`,
      "aria-describedby": `${field.name}-help ${field.name}-error`,
    },
    el("legend", {}, fieldLabel(field.name, field.title)),
    el("p", { class: "help", id: `${field.name}-help` }, helpText(field)),
    unknown,
    choices.map((value, i) => radio(field, value, labels[i], value === initial)),
    errorSlot(field),
  );
}

function listControl(field, initial) {
  const known = Array.isArray(initial);
  return el(
    "fieldset",
    {
      class: "field choice",
      "data-field": field.name,
      id: `field-${field.name}`,
      "aria-describedby": `${field.name}-help ${field.name}-error`,
    },
    el("legend", {}, fieldLabel(field.name, field.title)),
    el("p", { class: "help", id: `${field.name}-help` }, helpText(field)),
    el(
      "div",
      { class: "inline" },
      el(
        "label",
        {},
        el("input", { type: "radio", name: `${field.name}_known`, value: "", checked: !known }),
        " Unknown",
      ),
      el(
        "label",
        {},
        el("input", { type: "radio", name: `${field.name}_known`, value: "known", checked: known }),
        " Known",
      ),
    ),
    el(
      "div",
      { class: "ticks" },
      field.values.map((value) =>
        el(
          "label",
          {},
          el("input", {
            type: "checkbox",
            name: field.name,
            value,
            disabled: !known,
            checked: known && initial.includes(value),
          }),
          " ",
          choiceLabel(field.name, value),
        ),
      ),
    ),
    errorSlot(field),
  );
}

function control(field, initial) {
  if (field.kind === "list") return listControl(field, initial);
  if (field.kind === "enum" && field.values.length + (field.optional ? 1 : 0) > MAX_RADIOS)
    return selectControl(field, initial);
  if (field.kind === "enum" || field.kind === "boolean" || isScale(field)) return choiceControl(field, initial);
  return numberControl(field, initial);
}

// The form's fieldsets: required inputs (starting at the schema's example case), then optional ones.
export function buildForm(fields, example) {
  const required = fields.filter((f) => !f.optional);
  const optional = fields.filter((f) => f.optional);
  return [
    el(
      "fieldset",
      {},
      el("legend", {}, "Required"),
      required.map((f) => control(f, example[f.name])),
    ),
    optional.length
      ? el(
          "fieldset",
          {},
          el("legend", {}, "Optional: unknown unless given"),
          el(
            "p",
            { class: "help" },
            "“Unknown” leaves the input out of the request: nothing is guessed, and the result lists it as unknown.",
          ),
          optional.map((f) => control(f, undefined)),
        )
      : null,
  ];
}

// ---- reading and filling -------------------------------------------------------------------------

export function syncLists(form, fields) {
  for (const field of fields.filter((f) => f.kind === "list")) {
    const known = form.elements[`${field.name}_known`].value === "known";
    for (const box of form.querySelectorAll(`input[name="${field.name}"]`)) box.disabled = !known;
  }
}

// Unknown optional inputs are left out of the case, never guessed.
export function caseFromForm(form, fields) {
  const data = new FormData(form);
  const result = {};
  for (const field of fields) {
    if (field.kind === "list") {
      if (data.get(`${field.name}_known`) === "known") result[field.name] = data.getAll(field.name);
      continue;
    }
    const raw = data.get(field.name);
    if (raw === null || raw === "") continue;
    if (field.kind === "integer" || field.kind === "number") result[field.name] = Number(raw);
    else if (field.kind === "boolean") result[field.name] = raw === "true";
    else result[field.name] = raw;
  }
  return result;
}

// Puts one value into the form; false when the form has no such choice.
export function setField(form, field, value) {
  if (field.kind === "list") {
    form.elements[`${field.name}_known`].value = value === null || value === undefined ? "" : "known";
    syncLists(form, [field]);
    const wanted = Array.isArray(value) ? value.map(String) : [];
    const boxes = [...form.querySelectorAll(`input[name="${field.name}"]`)];
    if (!wanted.every((name) => boxes.some((box) => box.value === name))) return false;
    for (const box of boxes) box.checked = wanted.includes(box.value);
    return true;
  }
  const control = form.elements.namedItem(field.name);
  if (!control) return false;
  const text = value === null || value === undefined ? "" : String(value);
  control.value = text;
  return control.value === text;
}

export function restoreDefaults(form, fields) {
  for (const control of form.elements) {
    if (control.type === "radio" || control.type === "checkbox") control.checked = control.defaultChecked;
    else if (control.tagName === "SELECT")
      for (const option of control.options) option.selected = option.defaultSelected;
    else if (control.tagName === "INPUT") control.value = control.defaultValue;
  }
  syncLists(form, fields);
}

// The case as the page URL's query holds it: one parameter per known input.
export function caseToQuery(caseData, fields) {
  const params = new URLSearchParams();
  for (const field of fields) {
    if (!(field.name in caseData)) continue;
    const value = caseData[field.name];
    params.set(field.name, Array.isArray(value) ? value.join(",") || "none" : String(value));
  }
  return params.toString();
}

// A query parameter back to the value it stands for.
export function valueFromQuery(field, text) {
  if (field.kind === "list") return text === "none" ? [] : text.split(",");
  return text;
}
