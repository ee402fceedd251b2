#!/usr/bin/env node
// CLI entry: runs the TypeScript sources through tsx so no separate build step is needed.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/main.ts');
await runCli(process.argv);
