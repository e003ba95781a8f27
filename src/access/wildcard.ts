/**
 * IAM's wildcards: `*` matches any run of characters (including none, `/` and `:`), `?` matches
 * exactly one. Used for Action (case-insensitive), Resource ARNs and StringLike (case-sensitive).
 * A pattern without wildcards is compared as a plain string: most statements name exact actions
 * and ARNs, and a string comparison is several times cheaper than a regular expression.
 */

export type Matcher = (value: string) => boolean;

export const hasWildcard = (pattern: string): boolean => pattern.includes("*") || pattern.includes("?");

export function wildcardMatcher(pattern: string, ignoreCase: boolean): Matcher {
  if (pattern === "*") return () => true;
  if (!hasWildcard(pattern)) {
    if (!ignoreCase) return (value) => value === pattern;
    const lower = pattern.toLowerCase();
    return (value) => value.length === lower.length && value.toLowerCase() === lower;
  }
  // A prefix pattern (`arn:aws:s3:::bucket/*`, `s3:Get*`) is the common case: no regex needed.
  const star = pattern.indexOf("*");
  if (star === pattern.length - 1 && !pattern.includes("?")) {
    const prefix = ignoreCase ? pattern.slice(0, -1).toLowerCase() : pattern.slice(0, -1);
    return ignoreCase
      ? (value) => value.toLowerCase().startsWith(prefix)
      : (value) => value.startsWith(prefix);
  }
  const source = pattern
    .split("")
    .map((c) => (c === "*" ? "[\\s\\S]*" : c === "?" ? "[\\s\\S]" : c.replace(/[\\^$.+()[\]{}|/-]/g, "\\$&")))
    .join("");
  const regex = new RegExp(`^${source}$`, ignoreCase ? "i" : "");
  return (value) => regex.test(value);
}

/** One-off test (validation, suggestions); evaluation uses precompiled matchers. */
export const wildcardMatches = (pattern: string, value: string, ignoreCase: boolean): boolean =>
  wildcardMatcher(pattern, ignoreCase)(value);
