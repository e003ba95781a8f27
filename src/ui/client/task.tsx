/**
 * A task instance: its state, every try with the code version it ran, the log of the chosen try
 * (fetched again every second while the task runs, and kept scrolled to its end), and actions:
 * clear (with its downstream tasks), clear if failed, mark the run success or failed.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { api, enc, type TaskInstanceView, type TryView } from "./api";
import { ErrorBox, Loading, StateSquare } from "./components";
import { link } from "./router";
import { fmtTime, useData } from "./util";

const liveStates = new Set(["running", "queued", "scheduled", "up_for_retry", "none"]);

export function TaskPage({ dagId, runId, taskId }: { dagId: string; runId: string; taskId: string }) {
  const base = `/dags/${enc(dagId)}/runs/${enc(runId)}/tasks/${enc(taskId)}`;
  const ti = useData(() => api<TaskInstanceView & { tries: TryView[] }>(base), [base], "changes");
  const [chosenTry, setChosenTry] = useState<number | null>(null);
  const live = ti.data !== undefined && liveStates.has(ti.data.state);
  const tryNumber = chosenTry ?? ti.data?.tryNumber ?? 0;
  const log = useData(
    () =>
      tryNumber === 0
        ? Promise.resolve({ tryNumber: 0, text: "" })
        : api<{ tryNumber: number; text: string }>(`${base}/logs/${tryNumber}`),
    [base, tryNumber, ti.data?.state],
    live ? 1000 : undefined,
  );
  const [error, setError] = useState<unknown>(undefined);
  const [notice, setNotice] = useState("");
  const logBox = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const el = logBox.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [log.data?.text]);

  const act = async (label: string, work: () => Promise<unknown>) => {
    setError(undefined);
    setNotice("");
    try {
      await work();
      setNotice(label);
      setChosenTry(null);
      ti.reload();
    } catch (thrown) {
      setError(thrown);
    }
  };
  const t = ti.data;
  return (
    <main>
      <nav class="crumbs">
        <a href="#/dags">DAGs</a> / <a href={link("dags", dagId)}>{dagId}</a> /{" "}
        <a href={`${link("dags", dagId)}?run=${enc(runId)}`}>{runId}</a> / <strong>{taskId}</strong>
      </nav>
      <h1>{taskId}</h1>
      <ErrorBox error={ti.error} />
      {t === undefined ? (
        <Loading what="the task instance" />
      ) : (
        <>
          <p class="task-state">
            <StateSquare state={t.state} /> <strong data-state={t.state}>{t.state}</strong> · try{" "}
            {t.tryNumber} of {t.maxTries} · code version <code>{t.codeVersion?.slice(0, 12) ?? "–"}</code>
            {t.durationMs === null ? "" : ` · ${(t.durationMs / 1000).toFixed(1)} s`}
          </p>
          {t.error ? <div class="error">{t.error}</div> : null}
          <div class="actions">
            <button
              type="button"
              onClick={() =>
                act("cleared with its downstream tasks", () =>
                  api(`/dags/${enc(dagId)}/clear`, {
                    method: "POST",
                    body: { runId, taskIds: [taskId], downstream: true },
                  }),
                )
              }
            >
              Clear (+ downstream)
            </button>
            <button
              type="button"
              onClick={() =>
                act("cleared if failed", () =>
                  api(`/dags/${enc(dagId)}/clear`, {
                    method: "POST",
                    body: { runId, taskIds: [taskId], downstream: true, onlyFailed: true },
                  }),
                )
              }
            >
              Clear failed (+ downstream)
            </button>
            <button
              type="button"
              onClick={() =>
                act("run marked success", () =>
                  api(`/dags/${enc(dagId)}/runs/${enc(runId)}`, {
                    method: "PATCH",
                    body: { state: "success" },
                  }),
                )
              }
            >
              Mark run success
            </button>
            <button
              type="button"
              onClick={() =>
                act("run marked failed", () =>
                  api(`/dags/${enc(dagId)}/runs/${enc(runId)}`, {
                    method: "PATCH",
                    body: { state: "failed" },
                  }),
                )
              }
            >
              Mark run failed
            </button>
          </div>
          {notice ? (
            <p class="notice" role="status">
              {notice}
            </p>
          ) : null}
          <ErrorBox error={error} />
          <h2>Tries</h2>
          {t.tries.length === 0 ? (
            <p class="muted">No try yet.</p>
          ) : (
            <div class="table-wrap">
              <table class="tries">
                <thead>
                  <tr>
                    <th>try</th>
                    <th>state</th>
                    <th>started</th>
                    <th>ended</th>
                    <th>worker</th>
                    <th>code version</th>
                    <th>error</th>
                  </tr>
                </thead>
                <tbody>
                  {t.tries.map((x) => (
                    <tr key={x.tryNumber} class={x.tryNumber === tryNumber ? "selected" : ""}>
                      <td>
                        <button type="button" class="link" onClick={() => setChosenTry(x.tryNumber)}>
                          log of try {x.tryNumber}
                        </button>
                      </td>
                      <td>
                        <StateSquare state={x.state} /> {x.state}
                      </td>
                      <td>{fmtTime(x.startedAt)}</td>
                      <td>{fmtTime(x.endedAt)}</td>
                      <td>{x.workerId ?? "–"}</td>
                      <td>
                        <code>{x.codeVersion?.slice(0, 12) ?? "–"}</code>
                      </td>
                      <td class="small">{x.error ?? ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <h2>
            Log {tryNumber > 0 ? `of try ${tryNumber}` : ""}{" "}
            {live ? <span class="muted small">(following)</span> : null}
          </h2>
          <ErrorBox error={log.error} />
          <pre class="log" ref={logBox}>
            {log.data?.text || "(empty)"}
          </pre>
        </>
      )}
    </main>
  );
}
