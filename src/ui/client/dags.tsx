/** The DAGs page: each DAG's last runs, next interval, paused toggle, code version; import errors. */
import { useState } from "preact/hooks";
import { api, type DagView, enc, type RunView } from "./api";
import { ErrorBox, Loading, StateSquare } from "./components";
import { link } from "./router";
import { fmtTime, useData } from "./util";

interface ImportErrorView {
  file: string;
  line: number | null;
  column: number | null;
  message: string;
}

interface DagRow {
  dag: DagView;
  runs: RunView[];
}

async function loadDags(): Promise<{ rows: DagRow[]; importErrors: ImportErrorView[] }> {
  const [{ dags }, { importErrors }] = await Promise.all([
    api<{ dags: DagView[] }>("/dags"),
    api<{ importErrors: ImportErrorView[] }>("/import-errors"),
  ]);
  const rows = await Promise.all(
    dags.map(async (dag) => ({
      dag,
      runs: (await api<{ runs: RunView[] }>(`/dags/${enc(dag.dagId)}/runs?limit=12`)).runs.reverse(),
    })),
  );
  return { rows, importErrors };
}

export function DagsPage() {
  const { data, error, reload } = useData(loadDags, [], "changes");
  const [actionError, setActionError] = useState<unknown>(undefined);
  const setPaused = async (dagId: string, paused: boolean) => {
    setActionError(undefined);
    try {
      await api(`/dags/${enc(dagId)}`, { method: "PATCH", body: { isPaused: paused } });
      reload();
    } catch (thrown) {
      setActionError(thrown);
    }
  };
  return (
    <main>
      <h1>DAGs</h1>
      <ErrorBox error={error} title="Cannot list the DAGs" />
      <ErrorBox error={actionError} />
      {data?.importErrors.map((e) => (
        <div class="banner" role="alert" key={`${e.file}:${e.line}`}>
          <strong>Import error</strong> in <code>{e.file}</code>
          {e.line === null ? "" : `, line ${e.line}${e.column === null ? "" : `, column ${e.column}`}`}:{" "}
          {e.message}
        </div>
      ))}
      {data === undefined ? (
        <Loading what="DAGs" />
      ) : data.rows.length === 0 ? (
        <p class="muted">No DAGs: put a DAG file in the dags folder (docs/workflows.md).</p>
      ) : (
        <div class="table-wrap">
          <table class="dags">
            <thead>
              <tr>
                <th>Active</th>
                <th>DAG</th>
                <th>Schedule</th>
                <th>Last runs</th>
                <th>Next interval from</th>
                <th>Code version</th>
              </tr>
            </thead>
            <tbody>
              {data.rows.map(({ dag, runs }) => (
                <tr key={dag.dagId} class={dag.isActive ? "" : "inactive"} data-dag={dag.dagId}>
                  <td>
                    <button
                      type="button"
                      role="switch"
                      class={`switch${dag.isPaused ? "" : " on"}`}
                      aria-checked={!dag.isPaused}
                      aria-label={`${dag.dagId} unpaused`}
                      title={dag.isPaused ? "paused: click to unpause" : "unpaused: click to pause"}
                      onClick={() => setPaused(dag.dagId, !dag.isPaused)}
                    >
                      {dag.isPaused ? "paused" : "on"}
                    </button>
                  </td>
                  <td>
                    <a href={link("dags", dag.dagId)}>{dag.dagId}</a>
                    {dag.importError ? <div class="error small">{dag.importError}</div> : null}
                    {dag.isActive ? null : <div class="muted small">its file no longer defines it</div>}
                  </td>
                  <td>
                    <code>{dag.schedule ?? "manual only"}</code>
                  </td>
                  <td class="squares">
                    {runs.map((r) => (
                      <StateSquare
                        key={r.runId}
                        state={r.state}
                        title={`${r.runId}: ${r.state}`}
                        href={`${link("dags", dag.dagId)}?run=${enc(r.runId)}`}
                      />
                    ))}
                  </td>
                  <td>{dag.schedule === null ? "–" : fmtTime(dag.lastScheduledIntervalEnd)}</td>
                  <td>
                    <code title={dag.filePath}>{dag.codeVersion.slice(0, 12)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}
