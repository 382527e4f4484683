// Words for people. The published Case schema gives each input's id, type, values, bounds and a
// one-line description; this map gives the label, hint and value words the page shows instead of
// ids. An input missing here still appears on the form and in the result, with the schema's title
// and description and its values with spaces for underscores: a new input needs no markup.
export const WORDS = {
  primary_site: {
    label: "Primary site",
    help: "Where the cancer started (the primary tumour). “Unknown primary” means the primary has not been found; “Other” is a site not in this list.",
    values: {
      colorectal: "Colorectal (bowel)",
      melanoma: "Melanoma (skin)",
      uveal_melanoma: "Uveal melanoma (eye)",
      unknown: "Unknown primary",
      other: "Other",
    },
    // "unknown" is a value here (no primary found), not a missing input.
    words: { unknown: "unknown primary", other: "other site" },
  },
  lesion_count: {
    label: "Number of liver lesions",
    help: "How many metastases are seen in the liver.",
    unit: "lesions",
  },
  largest_lesion_cm: {
    label: "Largest lesion (cm)",
    help: "Diameter of the largest liver metastasis in centimetres.",
    unit: "cm",
    step: "0.1",
  },
  extrahepatic_disease: {
    label: "Extrahepatic disease",
    help: "Cancer outside the liver other than the primary tumour.",
  },
  liver_function: {
    label: "Liver function",
    help: "How well the liver works: normal, impaired (working less well than normal), or cirrhosis (long-term scarring of the liver).",
    depends: "liver function",
  },
  performance_status: {
    label: "Performance status (ECOG)",
    help: "The ECOG scale describes how well a person carries out daily activities, from 0 (fully active) to 4 (completely disabled).",
    // A scale with a meaning for each value: offered as choices, not a number box.
    values: {
      0: "Fully active, able to carry on all pre-disease activity without restriction",
      1: "Restricted in physically strenuous activity but walking about and able to do light or sedentary work",
      2: "Walking about and capable of all self-care but unable to do any work; up and about more than half of waking hours",
      3: "Capable of only limited self-care; confined to bed or chair more than half of waking hours",
      4: "Completely disabled; cannot carry on any self-care; totally confined to bed or chair",
    },
    numbered: true,
    words: { 0: "ECOG 0", 1: "ECOG 1", 2: "ECOG 2", 3: "ECOG 3", 4: "ECOG 4" },
  },
  symptomatic: {
    label: "Symptoms",
    help: "Whether the cancer is causing symptoms.",
    depends: "symptoms",
    phrases: ["there are symptoms", "there are no symptoms"],
  },
  lobar_distribution: {
    label: "Lobar distribution",
    help: "Whether the liver metastases are in one lobe of the liver (unilobar) or in both lobes (bilobar).",
    depends: "the lobar distribution",
  },
  primary_tumour_status: {
    label: "Primary tumour",
    help: "Whether the primary tumour is still in place or has already been removed.",
    values: { resected: "Removed" },
    words: { resected: "removed" },
    depends: "whether the primary tumour is still in place",
  },
  prior_treatments: {
    label: "Prior treatments",
    help: "Treatments already given for this cancer. Choose “Known” and tick those given; “Known” with nothing ticked means no prior treatment.",
    depends: "previous treatments",
  },
  kras_status: {
    label: "KRAS status",
    help: "Result of a test of the tumour for changes (mutations) in the KRAS gene: mutant, or wild type (no mutation found).",
    depends: "KRAS status",
  },
  hormone_receptor_status: {
    label: "Hormone-receptor status",
    help: "Whether the tumour cells carry receptors for hormones such as oestrogen or progesterone (positive) or not (negative).",
    depends: "hormone-receptor status",
  },
  declines_surgery: {
    label: "Declines surgery",
    help: "Whether the patient has said they do not wish to have an operation.",
    depends: "the patient's wishes",
    phrases: ["the patient declines surgery", "the patient does not decline surgery"],
  },
  technical_resectability: {
    label: "Liver surgeon’s assessment",
    help: "An experienced liver surgeon’s view of whether the liver metastases could be removed, given their size, number and location. “Unknown” if no liver surgeon has assessed them yet.",
    values: { potentially_resectable: "Potentially resectable (if it shrinks)" },
    depends: "the surgeon's assessment",
    stacked: true,
  },
  systemic_disease_controlled: {
    label: "Disease elsewhere controlled",
    help: "Whether the cancer elsewhere in the body is stable and under control.",
    depends: "control of the disease elsewhere",
    phrases: ["the disease elsewhere is controlled", "the disease elsewhere is not controlled"],
  },
  ascites: {
    label: "Ascites",
    help: "Whether there is a build-up of fluid in the abdomen (tummy).",
    depends: "ascites",
    phrases: ["there is ascites", "there is no ascites"],
  },
  other_treatments_exhausted: {
    label: "Other treatments exhausted",
    help: "Whether all the other treatments that suit this case have already been tried.",
    depends: "whether other treatments are exhausted",
    phrases: ["other treatments are exhausted", "other treatments are not exhausted"],
  },
};

// "wild_type" -> "wild type": the last resort for an id that has no words above.
export function spaced(id) {
  return String(id).replaceAll("_", " ");
}

function capitalised(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function fieldLabel(field, schemaTitle) {
  const words = WORDS[field];
  if (words) return words.label;
  return schemaTitle || capitalised(spaced(field));
}

// The label of a choice on the form ("Colorectal (bowel)").
export function choiceLabel(field, value) {
  const given = WORDS[field] && WORDS[field].values && WORDS[field].values[value];
  if (given && !WORDS[field].numbered) return given;
  return capitalised(valueWord(field, value));
}

// A value in running text ("potentially resectable", "yes", "unknown (not given)").
export function valueWord(field, value) {
  if (value === null || value === undefined) return "unknown (not given)";
  if (value === true) return "yes";
  if (value === false) return "no";
  if (Array.isArray(value)) return value.length ? value.map((v) => valueWord(field, v)).join(", ") : "none";
  const words = WORDS[field] && WORDS[field].words;
  if (words && words[value] !== undefined) return words[value];
  return spaced(value);
}

export function dependsLabel(field) {
  const words = WORDS[field];
  return (words && words.depends) || fieldLabel(field).toLowerCase();
}

export function dependsValue(field, value) {
  const phrases = WORDS[field] && WORDS[field].phrases;
  if (typeof value === "boolean" && phrases) return phrases[value ? 0 : 1];
  if (typeof value === "boolean") return `${fieldLabel(field).toLowerCase()} is ${valueWord(field, value)}`;
  if (Array.isArray(value))
    return value.length ? `they were ${value.map((v) => valueWord(field, v)).join(" and ")}` : "there were none";
  return valueWord(field, value);
}

// The inputs the schema publishes, for prose(): set once the schema is loaded.
const known = { fields: new Map() };

export function setKnownFields(fields) {
  known.fields = new Map(fields.map((f) => [f.name, f]));
}

// Text from the server, in people's words: a field id becomes its label ("field 'lesion_count' is
// required" -> "Number of liver lesions is required"), a value id its words, and any other id left
// (a derived fact, a rulebook parameter) has spaces for underscores. Ids stay in the API.
export function prose(text) {
  if (typeof text !== "string") return text;
  let out = text.replace(/\bfield '(\w+)'/g, (_, name) => fieldLabel(name, known.fields.get(name)?.title));
  out = out.replace(/\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b/g, (id) => {
    if (known.fields.has(id)) return fieldLabel(id, known.fields.get(id).title);
    return spaced(id);
  });
  return out;
}
