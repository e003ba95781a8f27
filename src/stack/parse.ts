/**
 * Reads a stack file: YAML with positions kept, so every problem names its path in the file and its
 * line ("resources.tables[1].retention.memoryHours (line 14): expected a number of hours").
 */
import YAML, { isNode, LineCounter } from "yaml";
import type { z } from "zod";
import { validationError } from "../errors.js";
import { type StackFile, stackFileSchema } from "./schema.js";

export type PathSegment = string | number;

/** Where things are in the file: the line of a path, or of its nearest ancestor that exists. */
export interface SourceMap {
  file: string;
  lineOf(path: readonly PathSegment[]): number | undefined;
}

export interface ParsedStack {
  spec: StackFile;
  source: SourceMap;
}

/** `resources.tables[1].retention` */
export function formatPath(path: readonly PathSegment[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else text += text === "" ? segment : `.${segment}`;
  }
  return text === "" ? "(top level)" : text;
}

/** `resources.tables[1].retention (line 14)` */
export function where(source: SourceMap, path: readonly PathSegment[]): string {
  const line = source.lineOf(path);
  return line === undefined ? formatPath(path) : `${formatPath(path)} (line ${line})`;
}

/** One error for several problems, each on its own line under the file's name. */
export function problemsError(file: string, problems: string[]): Error {
  const head = problems.length === 1 ? "a problem" : `${problems.length} problems`;
  return validationError(
    `stack file ${file} has ${head}; fix the file and run the command again:\n  ${problems.join("\n  ")}`,
    { file, problems },
  );
}

export function parseStackText(text: string, file: string): ParsedStack {
  const lineCounter = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // The first syntax error is the one to fix: those after it often only follow from it.
    const shown = doc.errors.slice(0, 3);
    const more = doc.errors.length - shown.length;
    throw problemsError(file, [
      ...shown.map((e) => {
        const line = e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line;
        return `${line === undefined ? "" : `line ${line}: `}invalid YAML: ${e.message.split("\n")[0]}`;
      }),
      ...(more > 0 ? [`(${more} more YAML errors, likely following from these)`] : []),
    ]);
  }
  const source: SourceMap = {
    file,
    lineOf(path) {
      // The deepest node that exists on the path: a missing key is reported where its parent is.
      for (let depth = path.length; depth >= 0; depth--) {
        const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
        if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
      }
      return undefined;
    },
  };
  const raw: unknown = doc.toJS();
  if (raw === null || raw === undefined) {
    throw problemsError(file, ["the file is empty: it needs at least `stack: NAME` and `resources:`"]);
  }
  const parsed = stackFileSchema.safeParse(raw);
  if (!parsed.success)
    throw problemsError(
      file,
      parsed.error.issues.map((i) => describeIssue(i, source)),
    );
  return { spec: parsed.data, source };
}

function describeIssue(issue: z.core.$ZodIssue, source: SourceMap): string {
  const path = issue.path.filter((p): p is PathSegment => typeof p !== "symbol");
  let message = issue.message;
  if (issue.code === "unrecognized_keys")
    message = `unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  else if (issue.code === "invalid_type" && /received undefined/.test(message))
    message = `missing (${message.replace(/, received undefined$/, "").replace(/^Invalid input: /, "")})`;
  return `${where(source, path)}: ${message}`;
}
