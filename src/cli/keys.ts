/**
 * `hourglass keys create|list|revoke`: the access keys AWS clients sign with. They live in
 * `<stateDir>/keys.json`, which these commands edit directly, with or without a running server:
 * the server rereads the file when it changes, so a revoked key is refused from the next request on.
 */
import type { Command } from "commander";
// The access part (zod, the key file) loads inside the actions, so `keys --help` stays light.
import type { AccessKeySummary } from "../access/index.js";
import { readServerInfo } from "../api/remote.js";
import { TASK_AWS_REGION } from "../runtime/remote.js";
import { configFrom } from "./context.js";
import { printJson, renderTable } from "./output.js";

const status = (key: AccessKeySummary) =>
  key.revokedAt === undefined ? "active" : `revoked ${key.revokedAt}`;

export function registerKeys(program: Command): void {
  const keys = program
    .command("keys")
    .description("access keys for AWS clients (SigV4): create, list, revoke; kept in <state-dir>/keys.json");
  keys
    .command("create")
    .description("create an access key and print its secret (shown this once only)")
    .option("--name <name>", "a name to tell the key apart in `keys list`", "")
    .option("--json", "print JSON: { AccessKeyId, SecretAccessKey, Name, CreatedAt }")
    .addHelpText(
      "after",
      "\nExample:\n  hourglass keys create --name laptop\n  # then export the AWS_* lines it prints and call the server with any AWS SDK or the aws CLI",
    )
    .action(async (o: { name: string; json?: boolean }, cmd: Command) => {
      const config = await configFrom(cmd);
      const { createAccessKey } = await import("../access/index.js");
      const key = createAccessKey(config.stateDir, o.name);
      if (o.json)
        return printJson({
          AccessKeyId: key.accessKeyId,
          SecretAccessKey: key.secretAccessKey,
          Name: key.name,
          CreatedAt: key.createdAt,
        });
      const url = readServerInfo(config.stateDir)?.url ?? `http://${config.host}:${config.port}`;
      console.log(usageLines(key, url).join("\n"));
    });
  keys
    .command("list")
    .description("list the access keys (ids, names, states; never secrets)")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const config = await configFrom(cmd);
      const { keysFilePath, listAccessKeys } = await import("../access/index.js");
      const all = listAccessKeys(config.stateDir);
      if (o.json) return printJson(all);
      if (all.length === 0) {
        console.log(`no keys in ${keysFilePath(config.stateDir)}: \`hourglass keys create\` makes one`);
        return;
      }
      console.log(
        renderTable(
          ["AccessKeyId", "Name", "CreatedAt", "Status"],
          all.map((k) => [k.accessKeyId, k.name, k.createdAt, status(k)]),
        ),
      );
    });
  keys
    .command("revoke <accessKeyId>")
    .description("revoke an access key: requests signed with it are refused at once")
    .option("--json", "print JSON")
    .action(async (accessKeyId: string, o: { json?: boolean }, cmd: Command) => {
      const config = await configFrom(cmd);
      const { revokeAccessKey } = await import("../access/index.js");
      const key = revokeAccessKey(config.stateDir, accessKeyId);
      if (o.json) return printJson(key);
      console.log(`revoked ${key.accessKeyId}${key.name ? ` (${key.name})` : ""} at ${key.revokedAt}`);
    });
}

/** How to use a new key: the environment every AWS SDK and the aws CLI read. */
export function usageLines(key: { accessKeyId: string; secretAccessKey: string }, url: string): string[] {
  return [
    `access key ${key.accessKeyId}; its secret is shown only now, keep it:`,
    `  export AWS_ACCESS_KEY_ID=${key.accessKeyId}`,
    `  export AWS_SECRET_ACCESS_KEY=${key.secretAccessKey}`,
    `  export AWS_REGION=${TASK_AWS_REGION} AWS_DEFAULT_REGION=${TASK_AWS_REGION}`,
    `  export AWS_ENDPOINT_URL=${url}`,
  ];
}
