/**
 * The DAG processor's parse process, forked by dag-processor.ts: it imports the DAG files it is
 * given, one after the other, and sends back each file's result with its DAGs serialized (see
 * serialized-dag.ts). A file that loops, allocates without end or ends the process can only take
 * this process down: the server kills it at its time limit, or sees it die, and starts another
 * for the files left.
 */

import type { ParseReply, ParseRequest, SerializedFileLoad } from "./dag-processor.js";
import { guardProcessExit } from "./exit-guard.js";
import type { FileLoad } from "./loader.js";
import { importDagFiles, warmUpDagImports } from "./loader.js";
import { serializeDag } from "./serialized-dag.js";

if (process.send === undefined) {
  process.stderr.write("the DAG processor's parse process is started by the server (an IPC channel)\n");
  process.exit(2);
}
const exit = guardProcessExit();

/** Resolves once the message is handed to the channel, so a file that then blocks cannot hold it back. */
const send = (message: ParseReply) =>
  new Promise<void>((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, undefined, {}, () => resolve());
  });

function serialize(load: FileLoad): SerializedFileLoad {
  const dags: SerializedFileLoad["dags"] = [];
  const importErrors = [...load.importErrors];
  for (const loaded of load.dags) {
    try {
      dags.push({
        dag: serializeDag(loaded.dag),
        file: loaded.file,
        exportName: loaded.exportName,
        codeVersion: loaded.codeVersion,
        dependencies: [...loaded.dependencies],
      });
    } catch (error) {
      importErrors.push({
        file: loaded.file,
        message: `DAG "${loaded.dag.id}" cannot be described to the scheduler: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }
  return { dags, importErrors, warnings: [...load.warnings] };
}

// Code a DAG file left running (a timer) must not end the process between files.
process.on("uncaughtException", (error) => {
  process.stderr.write(
    `an error escaped a DAG file: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
});
process.on("unhandledRejection", () => {});

process.on("message", (message: ParseRequest) => {
  if (message.type !== "parse") return;
  void (async () => {
    await importDagFiles(message.files, { importTimeoutMs: message.importTimeoutMs }, (file, load) =>
      send({ type: "parsed", file, load: serialize(load) }),
    );
    await send({ type: "done" });
    exit(0);
  })();
});
process.on("disconnect", () => exit(0));
// Ready once Hourglass itself is loaded: the first file's clock covers that file only.
warmUpDagImports().then(
  () => send({ type: "ready" }),
  (error: unknown) => {
    process.stderr.write(
      `cannot load Hourglass for DAG files: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    exit(1);
  },
);
