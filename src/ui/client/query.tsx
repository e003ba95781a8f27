/**
 * The query editor, as Timestream's console: database and table pickers, "Preview data" (the last
 * 15 minutes, 10 rows), SQL run in pages of 100 rows, an error marked at its line and column, the
 * result as a table and as a chart (a time column on x, numeric columns as series, averaged per
 * time), and CSV download of every page.
 */
import { useMemo, useRef, useState } from "preact/hooks";
import { api, type QueryAnswer, type TableView } from "./api";
import { ErrorBox, type Series, Table, TimeChart } from "./components";
import { download, toCsv, useData } from "./util";

const pageSize = 100;
const numericTypes = new Set(["DOUBLE", "BIGINT", "INTEGER"]);

interface Result {
  header: string[];
  types: string[];
  pages: string[][][];
  nextToken: string | undefined;
  sql: string;
}

function cells(answer: QueryAnswer): string[][] {
  return answer.Rows.map((row) => row.Data.map((d) => (d.NullValue ? "" : (d.ScalarValue ?? ""))));
}

/** "line 2, column 8: …" in the server's message -> { line, column }. */
export function errorPosition(message: string): { line: number; column: number } | null {
  const match = /line (\d+), column (\d+)/.exec(message);
  return match ? { line: Number(match[1]), column: Number(match[2]) } : null;
}

export function QueryPage() {
  const tables = useData(() => api<{ Tables: TableView[] }>("/tables"), []);
  const [db, setDb] = useState("");
  const [table, setTable] = useState("");
  const [sql, setSql] = useState("");
  const [result, setResult] = useState<Result | null>(null);
  const [page, setPage] = useState(0);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const editor = useRef<HTMLTextAreaElement>(null);

  const all = tables.data?.Tables ?? [];
  const databases = [...new Set(all.map((t) => t.DatabaseName))];
  const chosenDb = db || databases[0] || "";
  const inDb = all.filter((t) => t.DatabaseName === chosenDb);
  const chosenTable = table && inDb.some((t) => t.TableName === table) ? table : (inDb[0]?.TableName ?? "");
  const message = error instanceof Error ? error.message : "";
  const position = errorPosition(message);

  const run = async (text: string) => {
    setError(undefined);
    setBusy(true);
    try {
      const answer = await api<QueryAnswer>("/query", {
        method: "POST",
        body: { QueryString: text, MaxRows: pageSize },
      });
      setResult({
        header: answer.ColumnInfo.map((c) => c.Name),
        types: answer.ColumnInfo.map((c) => c.Type.ScalarType ?? "OTHER"),
        pages: [cells(answer)],
        nextToken: answer.NextToken,
        sql: text,
      });
      setPage(0);
    } catch (thrown) {
      setError(thrown);
      const at = errorPosition(thrown instanceof Error ? thrown.message : "");
      const el = editor.current;
      if (at && el) {
        // Put the caret where the error is.
        const lines = text.split("\n");
        const offset = lines.slice(0, at.line - 1).reduce((n, l) => n + l.length + 1, 0) + at.column - 1;
        el.focus();
        el.setSelectionRange(offset, offset + 1);
      }
    } finally {
      setBusy(false);
    }
  };
  const nextPage = async () => {
    if (result === null) return;
    if (page + 1 < result.pages.length) return setPage(page + 1);
    if (result.nextToken === undefined) return;
    setBusy(true);
    try {
      const answer = await api<QueryAnswer>("/query", {
        method: "POST",
        body: { QueryString: result.sql, MaxRows: pageSize, NextToken: result.nextToken },
      });
      setResult({ ...result, pages: [...result.pages, cells(answer)], nextToken: answer.NextToken });
      setPage(page + 1);
    } catch (thrown) {
      setError(thrown);
    } finally {
      setBusy(false);
    }
  };
  const downloadCsv = async () => {
    if (result === null) return;
    setBusy(true);
    try {
      const rows = result.pages.flat();
      let token = result.nextToken;
      while (token !== undefined && rows.length < 1_000_000) {
        const answer = await api<QueryAnswer>("/query", {
          method: "POST",
          body: { QueryString: result.sql, MaxRows: 1000, NextToken: token },
        });
        rows.push(...cells(answer));
        token = answer.NextToken;
      }
      download("query-result.csv", toCsv(result.header, rows));
    } catch (thrown) {
      setError(thrown);
    } finally {
      setBusy(false);
    }
  };
  const preview = () => {
    const text = `SELECT * FROM "${chosenDb}"."${chosenTable}"\nWHERE time BETWEEN ago(15m) AND now()\nORDER BY time DESC\nLIMIT 10`;
    setSql(text);
    void run(text);
  };

  const lineCount = Math.max(1, sql.split("\n").length);
  return (
    <main>
      <h1>Query editor</h1>
      <div class="card form">
        <div class="row">
          <label>
            <span>database</span>
            <select
              name="database"
              value={chosenDb}
              onChange={(e) => setDb((e.target as HTMLSelectElement).value)}
            >
              {databases.map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
            </select>
          </label>
          <label>
            <span>table</span>
            <select
              name="table"
              value={chosenTable}
              onChange={(e) => setTable((e.target as HTMLSelectElement).value)}
            >
              {inDb.map((t) => (
                <option key={t.TableName} value={t.TableName}>
                  {t.TableName}
                </option>
              ))}
            </select>
          </label>
          <div class="actions end">
            <button type="button" disabled={chosenTable === "" || busy} onClick={preview}>
              Preview data
            </button>
          </div>
        </div>
        <div class="editor">
          <div class="gutter" aria-hidden="true">
            {Array.from({ length: lineCount }, (_, i) => (
              <div key={i} class={position?.line === i + 1 ? "error-line" : ""}>
                {i + 1}
              </div>
            ))}
          </div>
          <textarea
            ref={editor}
            name="sql"
            aria-label="SQL"
            spellcheck={false}
            wrap="off"
            rows={Math.max(6, lineCount + 1)}
            value={sql}
            placeholder={'SELECT * FROM "db"."table" WHERE time > ago(1h) LIMIT 10'}
            onInput={(e) => setSql((e.target as HTMLTextAreaElement).value)}
            onKeyDown={(e) => {
              if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
                e.preventDefault();
                void run(sql);
              }
            }}
          />
        </div>
        <div class="actions">
          <button type="button" disabled={busy || sql.trim() === ""} onClick={() => run(sql)}>
            Run (Ctrl+Enter)
          </button>
        </div>
        {error ? (
          <div class="error sql-error" role="alert">
            {position ? (
              <strong>
                Error at line {position.line}, column {position.column}:{" "}
              </strong>
            ) : null}
            {message}
          </div>
        ) : null}
      </div>
      {result ? (
        <ResultView
          result={result}
          page={page}
          busy={busy}
          onPrev={() => setPage(Math.max(0, page - 1))}
          onNext={nextPage}
          onCsv={downloadCsv}
        />
      ) : null}
      <ErrorBox error={tables.error} />
    </main>
  );
}

function ResultView(props: {
  result: Result;
  page: number;
  busy: boolean;
  onPrev: () => void;
  onNext: () => void;
  onCsv: () => void;
}) {
  const { result, page } = props;
  const rows = result.pages[page] ?? [];
  const hasNext = page + 1 < result.pages.length || result.nextToken !== undefined;
  const chart = useMemo(() => chartOf(result), [result]);
  return (
    <section class="card">
      <header class="card-head">
        <h2>Result</h2>
        <div class="actions">
          <span class="muted small result-count">
            rows {page * pageSize + (rows.length > 0 ? 1 : 0)}–{page * pageSize + rows.length}
            {hasNext ? " (more)" : ""}
          </span>
          <button type="button" disabled={page === 0} onClick={props.onPrev}>
            Previous
          </button>
          <button type="button" disabled={!hasNext || props.busy} onClick={props.onNext}>
            Next
          </button>
          <button type="button" disabled={props.busy} onClick={props.onCsv}>
            Download CSV
          </button>
        </div>
      </header>
      {chart ? (
        <TimeChart x={chart.x} series={chart.series} />
      ) : (
        <p class="muted small">No chart: the result needs a timestamp column and a numeric one.</p>
      )}
      <Table header={result.header} rows={rows} />
    </section>
  );
}

/** x: the first TIMESTAMP column (epoch seconds); one series per numeric column, averaged per x. */
function chartOf(result: Result): { x: number[]; series: Series[] } | null {
  const timeIndex = result.types.findIndex((t) => t === "TIMESTAMP" || t === "DATE");
  const numeric = result.types.flatMap((t, i) => (numericTypes.has(t) ? [i] : []));
  if (timeIndex < 0 || numeric.length === 0) return null;
  const sums = new Map<number, { n: number[]; s: number[] }>();
  for (const row of result.pages.flat()) {
    const x = Date.parse(`${row[timeIndex]!.replace(" ", "T").slice(0, 23)}Z`) / 1000;
    if (!Number.isFinite(x)) continue;
    let acc = sums.get(x);
    if (acc === undefined) {
      acc = { n: numeric.map(() => 0), s: numeric.map(() => 0) };
      sums.set(x, acc);
    }
    numeric.forEach((col, k) => {
      const v = Number(row[col]);
      if (row[col] !== "" && Number.isFinite(v)) {
        acc.n[k]! += 1;
        acc.s[k]! += v;
      }
    });
  }
  const xs = [...sums.keys()].sort((a, b) => a - b);
  if (xs.length === 0) return null;
  return {
    x: xs,
    series: numeric.map((col, k) => ({
      label: result.header[col]!,
      values: xs.map((x) => {
        const acc = sums.get(x)!;
        return acc.n[k]! === 0 ? null : acc.s[k]! / acc.n[k]!;
      }),
    })),
  };
}
