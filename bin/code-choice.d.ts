/** Types of code-choice.js (plain JavaScript, run before anything is compiled). */
export function reasonToRunSources(root: string, env: Record<string, string | undefined>): string | null;
export function sourceNewerThan(root: string, builtMs: number): string | null;
