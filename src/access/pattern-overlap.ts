/**
 * Can a policy's Resource pattern ever match an ARN of a given shape? Both are patterns: the
 * policy's with IAM's `*` (any text) and `?` (one character); the shape's with `#` (a name: one or
 * more characters other than `/`) and `&` (any text). They overlap when some string matches both,
 * which a walk over pairs of positions answers (the product of the two automata). Used only by
 * validation, on short strings.
 */

type PolicyToken = { kind: "char"; c: string } | { kind: "one" } | { kind: "any" };
type ShapeToken = { kind: "char"; c: string } | { kind: "name1" } | { kind: "nameRest" } | { kind: "any" };

const policyTokens = (pattern: string): PolicyToken[] =>
  [...pattern].map((c) => (c === "*" ? { kind: "any" } : c === "?" ? { kind: "one" } : { kind: "char", c }));

/** `#` is a first name character and then any number more (`[^/][^/]*`). */
const shapeTokens = (shape: string): ShapeToken[] =>
  [...shape].flatMap((c): ShapeToken[] =>
    c === "#"
      ? [{ kind: "name1" }, { kind: "nameRest" }]
      : c === "&"
        ? [{ kind: "any" }]
        : [{ kind: "char", c }],
  );

/** Can one character be read by both tokens (neither of which is a star)? */
function sameCharacterPossible(p: PolicyToken, s: ShapeToken): boolean {
  if (p.kind === "one") return true;
  if (p.kind !== "char") return false;
  if (s.kind === "char") return s.c === p.c;
  if (s.kind === "name1") return p.c !== "/";
  return false;
}

export function patternsCanOverlap(policyPattern: string, shape: string): boolean {
  const p = policyTokens(policyPattern);
  const s = shapeTokens(shape);
  const seen = new Set<number>();
  const width = s.length + 1;
  // Depth-first over states (i, j): i tokens of the policy pattern and j of the shape read.
  const stack: [number, number][] = [[0, 0]];
  while (stack.length > 0) {
    const [i, j] = stack.pop()!;
    const id = i * width + j;
    if (seen.has(id)) continue;
    seen.add(id);
    if (i === p.length && j === s.length) return true;
    const pt = p[i];
    const st = s[j];
    // Stars may match nothing.
    if (pt?.kind === "any") stack.push([i + 1, j]);
    if (st?.kind === "nameRest" || st?.kind === "any") stack.push([i, j + 1]);
    if (pt === undefined || st === undefined) continue;
    // A policy star reads one character the shape offers (the shape token then advances, or
    // stays for its own star).
    if (pt.kind === "any") {
      if (st.kind === "char" || st.kind === "name1") stack.push([i, j + 1]);
      continue;
    }
    // A shape star reads one character the policy offers.
    if (st.kind === "nameRest") {
      if (pt.kind === "one" || (pt.kind === "char" && pt.c !== "/")) stack.push([i + 1, j]);
      continue;
    }
    if (st.kind === "any") {
      stack.push([i + 1, j]);
      continue;
    }
    if (sameCharacterPossible(pt, st)) stack.push([i + 1, j + 1]);
  }
  return false;
}
