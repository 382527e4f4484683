// The same sheet as Markdown, with every part (the print leaves the screen-only parts out).
import { el } from "./dom.js";
import { BASIS_GROUPS, STATUS_TEXT, dependsLines, oneLineReason, inBasisOrder, sourceTitle } from "./cards.js";
import { stampText } from "./result.js";
import { fieldLabel, prose, valueWord } from "./words.js";

function markdownStatements(statements, indent = "") {
  return statements.flatMap((s) => [
    `${indent}- ${s.label ? `**${s.label}:** ` : ""}${prose(s.because)} (rule \`${s.rule}\`)`,
    ...s.citations.flatMap((c) => [
      `${indent}  > “${c.quote}”`,
      `${indent}  > — *${sourceTitle(c.source)}*, section “${c.section}”`,
      "",
    ]),
  ]);
}

function toMarkdown(explanation, fields, preparedOn) {
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
    ...explanation.disclaimer_citations.flatMap((c) => [
      `> “${c.quote}”`,
      `> — *${sourceTitle(c.source)}*, section “${c.section}”`,
      "",
    ]),
    "## The case",
    "",
    "| Input | Value |",
    "| --- | --- |",
    ...fields.map(
      (f) => `| ${cell(fieldLabel(f.name, f.title))} | ${cell(valueWord(f.name, explanation.case[f.name]))} |`,
    ),
    "",
    "## Overview",
    "",
    "| Category | Status | Why, in one line |",
    "| --- | --- | --- |",
    ...[
      ...inBasisOrder(explanation.discussed).map((i) => [i, "discussed"]),
      ...explanation.not_discussed.map((i) => [i, "not_discussed"]),
    ].map(([item, status]) => `| ${cell(item.label)} | ${STATUS_TEXT[status]} | ${cell(oneLineReason(item))} |`),
    "",
    "## Commonly discussed",
    "",
  ];
  const block = (heading, statements) =>
    statements && statements.length ? [heading, "", ...markdownStatements(statements), ""] : [];
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
    lines.push(
      `### ${item.label}`,
      "",
      ...depends(item),
      item.summary,
      "",
      ...block("Why it is not typically discussed:", item.reasons),
    );
    lines.push(
      ...block("Arguments in favour:", item.arguments.in_favour),
      ...block("Arguments against:", item.arguments.against),
    );
  }
  const whatIf = explanation.what_if;
  if (whatIf && (whatIf.changes.length || whatIf.unknown_inputs.length)) {
    lines.push("## What would change it", "");
    for (const c of whatIf.changes) {
      lines.push(
        `- ${fieldLabel(c.field)}: ${valueWord(c.field, c.current_value)} → ${valueWord(c.field, c.new_value)}: ${c.label} would be ${STATUS_TEXT[c.would_be]}.`,
      );
    }
    for (const u of whatIf.unknown_inputs) {
      const moves =
        u.changes.map((c) => `${c.label} would be ${STATUS_TEXT[c.would_be]}`).join("; ") || "no category would move";
      lines.push(`- If ${fieldLabel(u.field)} were ${valueWord(u.field, u.value)}: ${moves}.`);
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

export function downloadMarkdown(explanation, fields, preparedOn) {
  const blob = new Blob([toMarkdown(explanation, fields, preparedOn)], { type: "text/markdown;charset=utf-8" });
  const url = URL.createObjectURL(blob);
  const link = el("a", {
    href: url,
    download: `mdt-sheet-${explanation.case.primary_site}-${preparedOn}.md`,
    hidden: true,
  });
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked later, not at once: some browsers read the blob after click() has returned.
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
