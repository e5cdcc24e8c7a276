#!/usr/bin/env node
// The CLI is TypeScript run through tsx (TypeScript 7 has no compiler API; see README). No tsconfig is read: the
// CLI compiles the same way from any directory, whatever tsconfig.json the directory it is run in holds.
import { register } from "tsx/esm/api";

register({ tsconfig: false });
await import("../cli/main.ts");
