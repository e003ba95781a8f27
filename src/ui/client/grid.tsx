/**
 * The grid of one DAG: runs (newest first) against tasks, coloured by state. A year of hourly runs
 * is 8,760 rows: the whole grid comes in one call (GET /dags/{dag}/grid, in columns) and only the
 * rows in view are drawn, so scrolling stays smooth. A selected run shows its details and actions.
 */
import { useMemo, useState } from "preact/hooks";
import { api, type DagDetails, enc, type GridAnswer, type RunView } from "./api";
import { ErrorBox, Loading, StateSquare } from "./components";
import { go, link } from "./router";
import { TriggerForm } from "./trigger";
import { fmtTime, useData } from "./util";

const rowHeight = 26;
const overscan = 12;

export function GridPage({ dagId, selectedRun }: { dagId: string; selectedRun: string | null }) {
  const dag = useData(() => api<DagDetails>(`/dags/${enc(dagId)}`), [dagId], "changes");
  const grid = useData(() => api<GridAnswer>(`/dags/${enc(dagId)}/grid`), [dagId], "changes");
  const [showTrigger, setShowTrigger] = useState(false);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewHeight, setViewHeight] = useState(560);

  const g = grid.data;
  const count = g?.runs.runId.length ?? 0;
  const summary = useMemo(() => {
    if (g === undefined) return "";
    const byState = new Map<string, number>();
    for (const code of g.runs.state) {
      const name = g.stateCodes[code] ?? code;
      byState.set(name, (byState.get(name) ?? 0) + 1);
    }
    return [...byState].map(([state, n]) => `${state} ${n}`).join(" · ");
  }, [g]);

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + viewHeight) / rowHeight) + overscan);
  const rows: number[] = [];
  // Newest first: display row i is run count-1-i.
  for (let i = first; i < last; i += 1) rows.push(count - 1 - i);

  return (
    <main>
      <nav class="crumbs">
        <a href="#/dags">DAGs</a> / <strong>{dagId}</strong>
      </nav>
      <div class="page-head">
        <h1>{dagId}</h1>
        <div class="actions">
          <button type="button" onClick={() => setShowTrigger(!showTrigger)} aria-expanded={showTrigger}>
            Trigger…
          </button>
          <a class="button" href={`#/backfill?dag=${enc(dagId)}`}>
            Backfill…
          </a>
        </div>
      </div>
      <ErrorBox error={dag.error} />
      {dag.data ? (
        <p class="muted">
          {dag.data.description ?? ""} schedule <code>{dag.data.schedule ?? "manual only"}</code> · code
          version <code>{dag.data.codeVersion.slice(0, 12)}</code> ·{" "}
          {dag.data.isPaused ? "paused" : "unpaused"}
        </p>
      ) : null}
      {showTrigger && dag.data ? (
        <TriggerForm
          dag={dag.data}
          onDone={(run) => {
            setShowTrigger(false);
            go(`${link("dags", dagId)}?run=${enc(run.runId)}`);
          }}
        />
      ) : null}
      <ErrorBox error={grid.error} title="Cannot load the grid" />
      {g === undefined ? (
        <Loading what="runs" />
      ) : (
        <div class="grid-layout">
          <div class="grid-box">
            <p class="grid-summary" aria-live="polite">
              {count} runs{summary ? `: ${summary}` : ""}
            </p>
            <div class="grid-head">
              <span class="grid-label">data interval start</span>
              <span class="grid-cell">run</span>
              {g.tasks.map((t) => (
                <span class="grid-cell task-name" key={t} title={t}>
                  {t}
                </span>
              ))}
            </div>
            <div
              class="grid-scroll"
              ref={(el) => {
                if (el && el.clientHeight > 0 && el.clientHeight !== viewHeight)
                  setViewHeight(el.clientHeight);
              }}
              onScroll={(e) => setScrollTop((e.target as HTMLElement).scrollTop)}
            >
              <div style={{ height: `${count * rowHeight}px`, position: "relative" }}>
                {rows.map((r, i) => {
                  const runId = g.runs.runId[r]!;
                  const state = g.stateCodes[g.runs.state[r]!] ?? "none";
                  const runHref = `${link("dags", dagId)}?run=${enc(runId)}`;
                  return (
                    <div
                      class={`grid-row${runId === selectedRun ? " selected" : ""}`}
                      data-run={runId}
                      key={runId}
                      style={{ top: `${(first + i) * rowHeight}px` }}
                    >
                      <a class="grid-label" href={runHref} title={runId}>
                        {fmtTime(g.runs.start[r]!)}{" "}
                        <span class="muted small">
                          {g.runs.type[r] === "s" ? "" : g.runs.type[r] === "b" ? "backfill" : "manual"}
                        </span>
                      </a>
                      <span class="grid-cell run-state">
                        <StateSquare state={state} title={`run ${runId}: ${state}`} href={runHref} />
                      </span>
                      {g.tasks.map((task, t) => {
                        const code = g.runs.tasks[r]![t]!;
                        const taskState = code === "-" ? "absent" : (g.stateCodes[code] ?? "none");
                        return (
                          <span class="grid-cell" key={task}>
                            {code === "-" ? null : (
                              <StateSquare
                                state={taskState}
                                title={`${task} in ${runId}: ${taskState}`}
                                href={link("dags", dagId, "runs", runId, "tasks", task)}
                              />
                            )}
                          </span>
                        );
                      })}
                    </div>
                  );
                })}
              </div>
            </div>
          </div>
          {selectedRun ? <RunPanel dagId={dagId} runId={selectedRun} /> : null}
        </div>
      )}
    </main>
  );
}

interface RunDetails extends RunView {
  taskInstances: Array<{ taskId: string; state: string; tryNumber: number }>;
}

function RunPanel({ dagId, runId }: { dagId: string; runId: string }) {
  const run = useData(
    () => api<RunDetails>(`/dags/${enc(dagId)}/runs/${enc(runId)}`),
    [dagId, runId],
    "changes",
  );
  const [error, setError] = useState<unknown>(undefined);
  const act = async (work: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await work();
      run.reload();
    } catch (thrown) {
      setError(thrown);
    }
  };
  const r = run.data;
  return (
    <aside class="card run-panel" aria-label={`Run ${runId}`}>
      <h2>Run</h2>
      <ErrorBox error={run.error} />
      {r === undefined ? (
        <Loading what="the run" />
      ) : (
        <>
          <dl>
            <dt>run id</dt>
            <dd>
              <code>{r.runId}</code>
            </dd>
            <dt>state</dt>
            <dd class="run-state-text">
              <StateSquare state={r.state} /> {r.state}
            </dd>
            <dt>interval</dt>
            <dd>
              {fmtTime(r.dataIntervalStart)} → {fmtTime(r.dataIntervalEnd)}
            </dd>
            <dt>type</dt>
            <dd>{r.runType}</dd>
            <dt>code version</dt>
            <dd>
              <code>{r.codeVersion?.slice(0, 12) ?? "–"}</code>
            </dd>
            <dt>conf</dt>
            <dd>
              <code>{JSON.stringify(r.conf)}</code>
            </dd>
          </dl>
          <ul class="plain">
            {r.taskInstances.map((ti) => (
              <li key={ti.taskId}>
                <StateSquare state={ti.state} />{" "}
                <a href={link("dags", dagId, "runs", runId, "tasks", ti.taskId)}>{ti.taskId}</a> {ti.state}
                {ti.tryNumber > 1 ? ` (try ${ti.tryNumber})` : ""}
              </li>
            ))}
          </ul>
          <div class="actions">
            <button
              type="button"
              onClick={() =>
                act(() =>
                  api(`/dags/${enc(dagId)}/clear`, { method: "POST", body: { runId, onlyFailed: true } }),
                )
              }
            >
              Clear failed
            </button>
            <button
              type="button"
              onClick={() =>
                act(() =>
                  api(`/dags/${enc(dagId)}/runs/${enc(runId)}`, {
                    method: "PATCH",
                    body: { state: "success" },
                  }),
                )
              }
            >
              Mark success
            </button>
            <button
              type="button"
              onClick={() =>
                act(() =>
                  api(`/dags/${enc(dagId)}/runs/${enc(runId)}`, {
                    method: "PATCH",
                    body: { state: "failed" },
                  }),
                )
              }
            >
              Mark failed
            </button>
          </div>
          <ErrorBox error={error} />
        </>
      )}
    </aside>
  );
}
