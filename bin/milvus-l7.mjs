#!/usr/bin/env node
// The CLI is TypeScript run through tsx (TypeScript 7 has no compiler API; see README).
import { register } from "tsx/esm/api";

register();
await import("../cli/main.ts");
