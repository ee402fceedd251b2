#!/usr/bin/env node
// CLI entry: runs the TypeScript sources through tsx so no separate build step is needed.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
