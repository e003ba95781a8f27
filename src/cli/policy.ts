/**
 * `hourglass policy simulate|validate`: IAM policy documents checked and evaluated offline, as
 * IAM's policy simulator and Access Analyzer's policy validation do. The access module, the
 * configuration and the file reads are imported when a command runs, so `--help` loads nothing.
 */
import { type Command, InvalidArgumentError, Option } from "commander";

const formats = ["text", "json"] as const;
type Format = (typeof formats)[number];

/** Exit status of `simulate` when a request is denied (0 when every request is allowed). */
export const DENIED_EXIT_CODE = 3;

const collect = (value: string, previous: string[] = []) => [...previous, value];

function contextEntry(value: string, previous: [string, string][] = []): [string, string][] {
  const equals = value.indexOf("=");
  if (equals <= 0)
    throw new InvalidArgumentError(
      `must be key=value, such as aws:SourceIp=10.0.0.1 (got ${JSON.stringify(value)})`,
    );
  return [...previous, [value.slice(0, equals), value.slice(equals + 1)]];
}

async function readPolicyFile(file: string): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const { validationError } = await import("../errors.js");
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw validationError(`cannot read the policy file ${file}: ${(error as Error).message}`);
  }
}

async function arnScope(cmd: Command) {
  const { configFrom } = await import("./context.js");
  const config = await configFrom(cmd);
  return { account: config.accountId, region: config.region };
}

export function registerPolicy(program: Command): void {
  const policy = program
    .command("policy")
    .description("IAM policy documents: simulate a request against them, validate them");

  policy
    .command("simulate")
    .description(
      "evaluate policies for an action on a resource, as IAM does: an explicit deny wins, then an allow, otherwise deny",
    )
    .requiredOption("--policy <file>", "a policy document (JSON); repeat for several", collect)
    .requiredOption(
      "--action <action>",
      "service:Action, e.g. timestream:Select; repeat for several",
      collect,
    )
    .requiredOption("--resource <arn>", "the resource's ARN, or * ; repeat for several", collect)
    .option(
      "--context <key=value>",
      "a condition key of the request, e.g. aws:SourceIp=10.0.0.1; repeat a key for several values",
      contextEntry,
    )
    .addOption(new Option("--format <format>", "output format").choices(formats).default("text"))
    .addHelpText(
      "after",
      [
        "",
        "Each action is evaluated on each resource. aws:CurrentTime and aws:EpochTime are the current",
        "time unless given; other keys are absent unless given (as in IAM's policy simulator).",
        `Exit status: 0 when every request is allowed, ${DENIED_EXIT_CODE} when one is denied, 2 for bad input.`,
        "",
        "Examples:",
        "  hourglass policy simulate --policy timestream-read.json --action timestream:Select \\",
        "    --resource arn:aws:timestream:us-east-1:000000000000:database/airflow-db/table/airflow-table",
        "  hourglass policy simulate --policy s3-export.json --action s3:PutObject \\",
        "    --resource arn:aws:s3:::demo-airflow-ts-output/2021-09-22-13/my_file.csv --context aws:SecureTransport=false",
      ].join("\n"),
    )
    .action(
      async (
        o: {
          policy: string[];
          action: string[];
          resource: string[];
          context?: [string, string][];
          format: Format;
        },
        cmd: Command,
      ) => {
        const { loadPolicy, PolicySet, requestContext } = await import("../access/index.js");
        const scope = await arnScope(cmd);
        const documents = [];
        const warnings = [];
        for (const file of o.policy) {
          const loaded = loadPolicy(await readPolicyFile(file), { name: file, scope });
          documents.push(loaded.document);
          warnings.push(...loaded.warnings.map((w) => ({ file, ...w })));
        }
        const now = new Date();
        const given: Record<string, string[]> = {
          "aws:CurrentTime": [now.toISOString()],
          "aws:EpochTime": [String(Math.floor(now.getTime() / 1000))],
        };
        const seen = new Set<string>();
        for (const [key, value] of o.context ?? []) {
          const name = Object.keys(given).find((k) => k.toLowerCase() === key.toLowerCase()) ?? key;
          // A key given on the command line replaces the default time, then accumulates values.
          if (!seen.has(name.toLowerCase())) given[name] = [];
          seen.add(name.toLowerCase());
          given[name]!.push(value);
        }
        const set = new PolicySet(documents);
        const context = requestContext(given);
        const results = o.action.flatMap((action) =>
          o.resource.map((resource) => ({
            action,
            resource,
            ...set.evaluate({ action, resource, context }),
          })),
        );
        if (o.format === "json") {
          process.stdout.write(`${JSON.stringify({ results, warnings }, null, 2)}\n`);
        } else {
          for (const w of warnings)
            process.stderr.write(`${w.file}:${w.line}:${w.column}: warning: ${w.path}: ${w.message}\n`);
          for (const r of results) {
            process.stdout.write(
              `${r.decision === "allow" ? "ALLOW" : "DENY "}  ${r.action}  ${r.resource}\n`,
            );
            process.stdout.write(`       ${r.message}\n`);
          }
        }
        if (results.some((r) => r.decision === "deny")) process.exitCode = DENIED_EXIT_CODE;
      },
    );

  policy
    .command("validate <files...>")
    .description(
      "check policy documents: JSON, elements, Version, known actions, ARNs, condition operators and values, statements that can never match",
    )
    .addOption(new Option("--format <format>", "output format").choices(formats).default("text"))
    .addHelpText(
      "after",
      [
        "",
        "Each finding names its file, line, column and JSON path (Statement[0].Action[2]).",
        "Errors make the document unusable (simulate and enforcement refuse it); warnings do not.",
        "ARNs naming another account or region than Hourglass's (accountId and region in",
        "hourglass.yaml, or HOURGLASS_ACCOUNT_ID / HOURGLASS_REGION) are warned about.",
        "Exit status: 0 when no file has an error, 2 otherwise.",
        "",
        "Example:",
        "  hourglass policy validate timestream-read.json s3-export.json",
      ].join("\n"),
    )
    .action(async (files: string[], o: { format: Format }, cmd: Command) => {
      const { checkPolicyText } = await import("../access/index.js");
      const scope = await arnScope(cmd);
      const reports = [];
      for (const file of files) {
        const { findings } = checkPolicyText(await readPolicyFile(file), { name: file, scope });
        reports.push({ file, valid: !findings.some((f) => f.severity === "error"), findings });
      }
      if (o.format === "json") {
        process.stdout.write(`${JSON.stringify({ files: reports }, null, 2)}\n`);
      } else {
        for (const report of reports) {
          for (const f of report.findings)
            process.stdout.write(
              `${report.file}:${f.line}:${f.column}: ${f.severity}: ${f.path}: ${f.message}\n`,
            );
          const errors = report.findings.filter((f) => f.severity === "error").length;
          const warnings = report.findings.length - errors;
          process.stdout.write(
            `${report.file}: ${errors === 0 ? "valid" : "invalid"} (${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"})\n`,
          );
        }
      }
      if (reports.some((r) => !r.valid)) process.exitCode = 2;
    });
}
