/**
 * Errors about the query text, positioned: `line 1, column 57: expected … but found …`.
 * The position is also in `context` so that the API and the UI can point at it.
 */
import { HourglassError } from "../errors.js";

export interface SourcePosition {
  line: number;
  column: number;
}

export function syntaxError(at: SourcePosition, message: string): HourglassError {
  return new HourglassError("ValidationError", `line ${at.line}, column ${at.column}: ${message}`, {
    context: { line: at.line, column: at.column },
  });
}

/** The position of a token or node, without the rest of it. */
export const positionOf = (at: SourcePosition): SourcePosition => ({ line: at.line, column: at.column });

/**
 * A name that matches no column. Timestream tables grow columns as data arrives (a measure's
 * `measure_value::<type>`, a dimension), so callers such as the export operator may treat "no such
 * column yet" apart from other errors: the name is in `context.missingColumn`.
 */
export function missingColumnError(at: SourcePosition, name: string, message: string): HourglassError {
  return new HourglassError("ValidationError", `line ${at.line}, column ${at.column}: ${message}`, {
    context: { line: at.line, column: at.column, missingColumn: name },
  });
}

/** The column a query failed on for not existing (see missingColumnError), or null. */
export function missingColumnOf(error: unknown): string | null {
  if (!(error instanceof HourglassError) || error.code !== "ValidationError") return null;
  const name = error.context["missingColumn"];
  return typeof name === "string" ? name : null;
}
