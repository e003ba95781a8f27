/**
 * The backfill form: DAG, range, reprocess, max active runs. "Preview" is a dry run: the intervals
 * it would run and the retention warnings, before anything starts; "Start" is enabled once the
 * preview matches the form. Backfills below show live progress with pause, resume and cancel.
 */
import { useState } from "preact/hooks";
import { api, type BackfillPlan, type BackfillView, type DagView } from "./api";
import { ErrorBox, Section } from "./components";
import { fmtTime, useData } from "./util";

interface FormState {
  dagId: string;
  from: string;
  to: string;
  reprocess: "none" | "failed" | "all";
  maxActiveRuns: string;
}

function requestOf(form: FormState, dryRun: boolean) {
  return {
    dagId: form.dagId,
    from: form.from.trim(),
    to: form.to.trim(),
    reprocess: form.reprocess,
    ...(form.maxActiveRuns.trim() === "" ? {} : { maxActiveRuns: Number(form.maxActiveRuns) }),
    dryRun,
  };
}

export function BackfillPage({ dag }: { dag: string | null }) {
  const dags = useData(() => api<{ dags: DagView[] }>("/dags"), []);
  const backfills = useData(() => api<{ backfills: BackfillView[] }>("/backfills"), [], "changes");
  const [form, setForm] = useState<FormState>({
    dagId: dag ?? "",
    from: "",
    to: "",
    reprocess: "none",
    maxActiveRuns: "",
  });
  const [preview, setPreview] = useState<{ key: string; plan: BackfillPlan } | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const dagId = form.dagId || dags.data?.dags[0]?.dagId || "";
  const current = { ...form, dagId };

  const run = async (dryRun: boolean) => {
    setError(undefined);
    if (current.from === "" || current.to === "") {
      setError(
        new Error("give the first and the last logical date of the range (e.g. 2021-09-21 and 2021-09-22)"),
      );
      return;
    }
    if (current.maxActiveRuns.trim() !== "" && !/^[1-9]\d*$/.test(current.maxActiveRuns.trim())) {
      setError(new Error(`max active runs must be a positive integer, got "${current.maxActiveRuns}"`));
      return;
    }
    setBusy(true);
    try {
      const answer = await api<{ plan: BackfillPlan; backfill?: BackfillView }>("/backfills", {
        method: "POST",
        body: requestOf(current, dryRun),
      });
      if (dryRun) setPreview({ key: JSON.stringify(requestOf(current, false)), plan: answer.plan });
      else {
        setPreview(null);
        backfills.reload();
      }
    } catch (thrown) {
      setError(thrown);
    } finally {
      setBusy(false);
    }
  };
  const set = (patch: Partial<FormState>) => setForm({ ...current, ...patch });
  const previewCurrent = preview !== null && preview.key === JSON.stringify(requestOf(current, false));

  return (
    <main>
      <h1>Backfill</h1>
      <form
        class="card form"
        aria-label="Backfill"
        onSubmit={(e) => {
          e.preventDefault();
          void run(true);
        }}
      >
        <label>
          <span>DAG</span>
          <select
            name="dagId"
            value={dagId}
            onChange={(e) => set({ dagId: (e.target as HTMLSelectElement).value })}
          >
            {(dags.data?.dags ?? []).map((d) => (
              <option key={d.dagId} value={d.dagId}>
                {d.dagId}
              </option>
            ))}
          </select>
        </label>
        <div class="row">
          <label>
            <span>from (first logical date)</span>
            <input
              name="from"
              placeholder="2021-09-21"
              value={current.from}
              onInput={(e) => set({ from: (e.target as HTMLInputElement).value })}
            />
          </label>
          <label>
            <span>to (last logical date, included)</span>
            <input
              name="to"
              placeholder="2021-09-22"
              value={current.to}
              onInput={(e) => set({ to: (e.target as HTMLInputElement).value })}
            />
          </label>
        </div>
        <div class="row">
          <label>
            <span>reprocess runs that exist</span>
            <select
              name="reprocess"
              value={current.reprocess}
              onChange={(e) =>
                set({ reprocess: (e.target as HTMLSelectElement).value as FormState["reprocess"] })
              }
            >
              <option value="none">none: skip them</option>
              <option value="failed">failed: run the failed again</option>
              <option value="all">all: run every one again</option>
            </select>
          </label>
          <label>
            <span>max active runs</span>
            <input
              name="maxActiveRuns"
              inputMode="numeric"
              placeholder="the DAG's"
              value={current.maxActiveRuns}
              onInput={(e) => set({ maxActiveRuns: (e.target as HTMLInputElement).value })}
            />
          </label>
        </div>
        <div class="actions">
          <button type="submit" disabled={busy}>
            Preview (dry run)
          </button>
          <button
            type="button"
            disabled={busy || !previewCurrent}
            onClick={() => run(false)}
            title={previewCurrent ? "" : "preview the range first"}
          >
            Start backfill
          </button>
        </div>
        <ErrorBox error={error} title="Backfill refused" />
      </form>
      {preview && previewCurrent ? (
        <Section title={`Preview: ${preview.plan.intervals.length} intervals`}>
          {preview.plan.warnings.map((w) => (
            <div class="banner" key={w} role="alert">
              {w}
            </div>
          ))}
          <ol class="intervals">
            {preview.plan.intervals.slice(0, 500).map((i) => (
              <li key={i.runId}>
                {fmtTime(i.start)} → {fmtTime(i.end)} <code class="small">{i.runId}</code>
                {i.action ? <span class="muted small"> {i.action}</span> : null}
              </li>
            ))}
          </ol>
          {preview.plan.intervals.length > 500 ? (
            <p class="muted">…and {preview.plan.intervals.length - 500} more</p>
          ) : null}
        </Section>
      ) : null}
      <Section title="Backfills">
        <ErrorBox error={backfills.error} />
        <BackfillList backfills={backfills.data?.backfills ?? []} onChange={backfills.reload} />
      </Section>
    </main>
  );
}

function BackfillList({ backfills, onChange }: { backfills: BackfillView[]; onChange: () => void }) {
  const [error, setError] = useState<unknown>(undefined);
  // Pause, resume and cancel emit no workflow event: the items load again after each action.
  const [acted, setActed] = useState(0);
  const act = async (id: number, what: "pause" | "resume" | "cancel") => {
    setError(undefined);
    try {
      await api(`/backfills/${id}/${what}`, { method: "POST" });
      setActed((n) => n + 1);
      onChange();
    } catch (thrown) {
      setError(thrown);
    }
  };
  if (backfills.length === 0) return <p class="muted">None yet.</p>;
  return (
    <>
      <ErrorBox error={error} />
      <ul class="plain backfills">
        {backfills.map((b) => (
          <BackfillItem key={b.id} id={b.id} acted={acted} onAct={act} />
        ))}
      </ul>
    </>
  );
}

function BackfillItem(props: {
  id: number;
  acted: number;
  onAct: (id: number, what: "pause" | "resume" | "cancel") => void;
}) {
  const { id, onAct } = props;
  // The list has no progress: each backfill asks for its own, following the changes.
  const b = useData(() => api<BackfillView>(`/backfills/${id}`), [id, props.acted], "changes").data;
  if (b === undefined) return <li>backfill {id}…</li>;
  const p = b.progress;
  const finished = ["completed", "cancelled", "failed"].includes(b.state);
  return (
    <li class="backfill" data-backfill={b.id} data-state={b.state}>
      <div>
        <strong>#{b.id}</strong> {b.dagId} {fmtTime(b.from)} → {fmtTime(b.to)} · reprocess {b.reprocess} · max{" "}
        {b.maxActiveRuns} · <strong class="backfill-state">{b.state}</strong>
      </div>
      {p ? (
        <div class="progress-line">
          <progress max={p.total} value={p.done} aria-label={`backfill ${b.id} progress`} />
          <span class="small">
            {p.done}/{p.total} done · {p.succeeded} succeeded · {p.failed} failed · {p.skipped} skipped ·{" "}
            {p.running} running · {p.queued} queued
          </span>
        </div>
      ) : null}
      {finished ? null : (
        <div class="actions">
          {b.state === "paused" ? (
            <button type="button" onClick={() => onAct(b.id, "resume")}>
              Resume
            </button>
          ) : (
            <button type="button" onClick={() => onAct(b.id, "pause")}>
              Pause
            </button>
          )}
          <button type="button" onClick={() => onAct(b.id, "cancel")}>
            Cancel
          </button>
        </div>
      )}
    </li>
  );
}
