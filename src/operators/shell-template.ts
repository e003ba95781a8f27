/**
 * Renders a command template for `sh -c`. Each placeholder's value becomes exactly one shell word:
 * a value with anything but letters, digits and `_ @ % + = : , . / -` is single-quoted. So a
 * trigger's conf (`{{ conf.dag }}`) can never add commands or options of its own. Write
 * placeholders bare, not inside quotes: `--from {{ params.from }}`.
 */
import { renderTemplate, type TaskContext } from "../workflows/index.js";

const placeholderPattern = /\{\{[\s\S]*?\}\}/g;
const plainWord = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function shellQuote(value: string): string {
  if (plainWord.test(value)) return value;
  return `'${value.replaceAll("'", `'"'"'`)}'`;
}

export function renderShellCommand(template: string, ctx: TaskContext): string {
  // The whole text first: it reports unclosed or unknown placeholders with the template's own messages.
  renderTemplate(template, ctx);
  return template.replace(placeholderPattern, (placeholder) => shellQuote(renderTemplate(placeholder, ctx)));
}
