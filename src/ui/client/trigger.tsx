/**
 * The trigger form, generated from the DAG's params (their type, default, enum, bounds). The conf is
 * checked here before it is sent, field by field; the server checks again and its problems are shown
 * beside their fields too. A DAG whose params are a schema of its own gets a JSON box instead.
 */
import { useState } from "preact/hooks";
import { ApiError, api, type DagDetails, enc, type ParamSpec, type RunView } from "./api";
import { ErrorBox } from "./components";

type Problems = Record<string, string>;

function initialText(spec: ParamSpec): string {
  if (spec.default === undefined) return "";
  return typeof spec.default === "string" ? spec.default : JSON.stringify(spec.default);
}

/** The value of one field, or a problem. An empty field is left out (the default applies). */
function parseField(spec: ParamSpec, text: string): { value?: unknown; problem?: string } {
  if (text.trim() === "") {
    return spec.default === undefined ? { problem: "required: this param has no default" } : {};
  }
  let value: unknown = text;
  if (spec.type === "number" || spec.type === "integer") {
    value = Number(text);
    if (!Number.isFinite(value as number)) return { problem: `expected a number, got "${text}"` };
    if (spec.type === "integer" && !Number.isInteger(value))
      return { problem: `expected an integer, got ${text}` };
    if (spec.minimum !== undefined && (value as number) < spec.minimum)
      return { problem: `must be >= ${spec.minimum}` };
    if (spec.maximum !== undefined && (value as number) > spec.maximum)
      return { problem: `must be <= ${spec.maximum}` };
  } else if (spec.type === "boolean") {
    if (text !== "true" && text !== "false") return { problem: "expected true or false" };
    value = text === "true";
  } else if (spec.type === "array" || spec.type === "object") {
    try {
      value = JSON.parse(text);
    } catch {
      return { problem: `expected JSON (${spec.type === "array" ? "[…]" : "{…}"})` };
    }
    if (
      spec.type === "array"
        ? !Array.isArray(value)
        : typeof value !== "object" || value === null || Array.isArray(value)
    )
      return { problem: `expected a JSON ${spec.type}` };
  }
  if (
    spec.enum !== undefined &&
    !spec.enum.some((choice) => JSON.stringify(choice) === JSON.stringify(value))
  )
    return { problem: `must be one of ${spec.enum.map((c) => JSON.stringify(c)).join(", ")}` };
  return { value };
}

export function TriggerForm({ dag, onDone }: { dag: DagDetails; onDone: (run: RunView) => void }) {
  const params = dag.params;
  const [texts, setTexts] = useState<Record<string, string>>(() =>
    Object.fromEntries((params ?? []).map((p) => [p.name, initialText(p)])),
  );
  const [rawConf, setRawConf] = useState("{}");
  const [logicalDate, setLogicalDate] = useState("");
  const [problems, setProblems] = useState<Problems>({});
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    const found: Problems = {};
    let conf: Record<string, unknown> = {};
    if (params === null) {
      try {
        conf = JSON.parse(rawConf) as Record<string, unknown>;
        if (typeof conf !== "object" || conf === null || Array.isArray(conf))
          found["conf"] = "expected a JSON object";
      } catch (thrown) {
        found["conf"] = `not JSON: ${(thrown as Error).message}`;
      }
    } else {
      for (const spec of params) {
        const { value, problem } = parseField(spec, texts[spec.name] ?? "");
        if (problem !== undefined) found[spec.name] = problem;
        else if (value !== undefined) conf[spec.name] = value;
      }
    }
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      const run = await api<RunView>(`/dags/${enc(dag.dagId)}/runs`, {
        method: "POST",
        body: { conf, ...(logicalDate === "" ? {} : { logicalDate }) },
      });
      onDone(run);
    } catch (thrown) {
      // The server's own check lists its problems by key: shown beside their fields.
      const listed = thrown instanceof ApiError ? thrown.context["problems"] : undefined;
      if (Array.isArray(listed)) {
        setProblems(
          Object.fromEntries(
            (listed as Array<{ key: string; message: string }>).map((p) => [
              p.key === "" ? "conf" : p.key,
              p.message,
            ]),
          ),
        );
      }
      setError(thrown);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card form" onSubmit={submit} aria-label={`Trigger ${dag.dagId}`} noValidate>
      <h2>Trigger {dag.dagId}</h2>
      {params === null ? (
        <label>
          conf (JSON, checked by the DAG's schema)
          <textarea
            name="conf"
            rows={4}
            value={rawConf}
            onInput={(e) => setRawConf((e.target as HTMLTextAreaElement).value)}
          />
          {problems["conf"] ? (
            <span class="field-error" role="alert">
              {problems["conf"]}
            </span>
          ) : null}
        </label>
      ) : params.length === 0 ? (
        <p class="muted">This DAG has no params.</p>
      ) : (
        params.map((spec) => (
          <div key={spec.name} class={`field${problems[spec.name] ? " invalid" : ""}`}>
            <label for={`param-${spec.name}`}>
              {spec.name}{" "}
              <span class="muted">
                ({spec.type}
                {spec.default === undefined ? ", required" : ""})
              </span>
            </label>
            {spec.enum ? (
              <select
                id={`param-${spec.name}`}
                name={spec.name}
                value={texts[spec.name]}
                onChange={(e) => setTexts({ ...texts, [spec.name]: (e.target as HTMLSelectElement).value })}
              >
                {spec.enum.map((choice) => {
                  const text = typeof choice === "string" ? choice : JSON.stringify(choice);
                  return (
                    <option key={text} value={text}>
                      {text}
                    </option>
                  );
                })}
              </select>
            ) : (
              <input
                id={`param-${spec.name}`}
                name={spec.name}
                value={texts[spec.name]}
                aria-invalid={problems[spec.name] ? "true" : "false"}
                placeholder={spec.type === "array" ? "[…]" : spec.type === "object" ? "{…}" : ""}
                onInput={(e) => setTexts({ ...texts, [spec.name]: (e.target as HTMLInputElement).value })}
              />
            )}
            {spec.description ? <span class="muted small">{spec.description}</span> : null}
            {problems[spec.name] ? (
              <span class="field-error" role="alert">
                {spec.name}: {problems[spec.name]}
              </span>
            ) : null}
          </div>
        ))
      )}
      <label>
        <span>
          logical date <span class="muted">(optional; default: the latest complete interval)</span>
        </span>
        <input
          name="logicalDate"
          placeholder="2021-09-22T13:00:00Z"
          value={logicalDate}
          onInput={(e) => setLogicalDate((e.target as HTMLInputElement).value)}
        />
      </label>
      <ErrorBox error={error} title="Not triggered" />
      <button type="submit" disabled={busy}>
        Trigger
      </button>
    </form>
  );
}
