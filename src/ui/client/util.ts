/** Small helpers the pages share: polling that follows the server's changes, formatting, CSV. */
import { useEffect, useState } from "preact/hooks";
import { api } from "./api";

/**
 * The server's workflow change counter (GET /api/v1/changes), polled once a second while the tab
 * is visible; pages that show workflow state fetch again when it moves.
 */
let changeVersion = "";
const changeListeners = new Set<(v: string) => void>();
async function pollChanges(): Promise<void> {
  try {
    if (document.visibilityState === "visible") {
      const { version } = await api<{ version: string }>("/changes");
      if (version !== changeVersion) {
        changeVersion = version;
        for (const listener of changeListeners) listener(version);
      }
    }
  } catch {
    // the server is away (restarting): the next poll tries again
  }
  setTimeout(pollChanges, 1000);
}
void pollChanges();

export function useChanges(): string {
  const [version, setVersion] = useState(changeVersion);
  useEffect(() => {
    changeListeners.add(setVersion);
    return () => void changeListeners.delete(setVersion);
  }, []);
  return version;
}

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  reload: () => void;
}

/**
 * Loads data and loads it again when `deps` change, when the workflow state changes (follow:
 * "changes"), or every `follow` milliseconds. The previous data stays on screen while reloading.
 */
export function useData<T>(load: () => Promise<T>, deps: unknown[], follow?: "changes" | number): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [tick, setTick] = useState(0);
  const version = useChanges();
  const key = JSON.stringify(deps);
  useEffect(() => {
    let live = true;
    load().then(
      (value) => {
        if (!live) return;
        setData(value);
        setError(undefined);
      },
      (thrown: unknown) => live && setError(thrown instanceof Error ? thrown : new Error(String(thrown))),
    );
    return () => {
      live = false;
    };
  }, [key, tick, follow === "changes" ? version : 0]);
  useEffect(() => {
    if (typeof follow !== "number") return;
    const timer = setInterval(() => document.visibilityState === "visible" && setTick((t) => t + 1), follow);
    return () => clearInterval(timer);
  }, [follow]);
  useEffect(() => setData(undefined), [key]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}

export function fmtTime(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined) return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toISOString().replace("T", " ").slice(0, 19);
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function fmtNumber(n: number): string {
  return n.toLocaleString("en-US");
}

/** RFC 4180 CSV: quotes fields with commas, quotes or line breaks. */
export function toCsv(header: string[], rows: string[][]): string {
  const field = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [header, ...rows].map((r) => r.map(field).join(",")).join("\n") + "\n";
}

/** Parses CSV text (RFC 4180: quoted fields, doubled quotes, line breaks inside quotes). */
export function parseCsv(text: string, maxRows: number): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < maxRows; i += 1) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i += 1;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += ch;
  }
  if (field !== "" || row.length > 0) rows.push([...row, field]);
  return rows;
}

export function download(name: string, text: string, type = "text/csv"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
