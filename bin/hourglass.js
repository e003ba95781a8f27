#!/usr/bin/env node
// Hourglass's command line. TypeScript sources run through tsx's loader, so a checkout needs no build step.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv);
