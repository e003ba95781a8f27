/**
 * Can a policy's Resource pattern ever match an ARN of a given shape? Both are patterns: the
 * policy's with IAM's `*` (any text) and `?` (one character); the shape's with `#` (a name: one or
 * more characters other than `/`) and `&` (any text). They overlap when some string matches both,
 * which a walk over pairs of positions answers (the product of the two automata). Used only by
 * validation, on short strings.
 */

// Shape tokens after expansion: `#` becomes NAME_FIRST then NAME_REST; `&` is ANY_TEXT.
const NAME_FIRST = "\u0001";
const NAME_REST = "\u0002";
const ANY_TEXT = "\u0003";

const expandShape = (shape: string): string =>
  shape.replaceAll("#", `${NAME_FIRST}${NAME_REST}`).replaceAll("&", ANY_TEXT);

/** Can one character be read by both (neither a star)? */
function sameCharacterPossible(p: string, s: string): boolean {
  if (p === "?") return true;
  if (s === NAME_FIRST) return p !== "/";
  return s === p;
}

export function patternsCanOverlap(policyPattern: string, shape: string): boolean {
  const p = policyPattern;
  const s = expandShape(shape);
  const width = s.length + 1;
  const seen = new Uint8Array((p.length + 1) * width);
  // Depth-first over states (i, j): i characters of the policy pattern and j of the shape read.
  const stack: number[] = [0];
  const push = (i: number, j: number) => {
    const id = i * width + j;
    if (seen[id] === 0) {
      seen[id] = 1;
      stack.push(id);
    }
  };
  seen[0] = 1;
  while (stack.length > 0) {
    const id = stack.pop()!;
    const i = Math.floor(id / width);
    const j = id % width;
    if (i === p.length && j === s.length) return true;
    const pt = p[i];
    const st = s[j];
    // Stars may match nothing.
    if (pt === "*") push(i + 1, j);
    if (st === NAME_REST || st === ANY_TEXT) push(i, j + 1);
    if (pt === undefined || st === undefined) continue;
    if (pt === "*") {
      // The policy's star reads a character the shape offers.
      if (st !== NAME_REST && st !== ANY_TEXT) push(i, j + 1);
      continue;
    }
    if (st === NAME_REST) {
      // The shape's name reads a character the policy offers (not a slash).
      if (pt !== "/") push(i + 1, j);
      continue;
    }
    if (st === ANY_TEXT) {
      push(i + 1, j);
      continue;
    }
    if (sameCharacterPossible(pt, st)) push(i + 1, j + 1);
  }
  return false;
}
