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
