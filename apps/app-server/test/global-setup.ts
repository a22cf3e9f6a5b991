/**
 * Generates the real `codex app-server` (0.169.0) JSON schema once per test run; every test
 * file validates the messages it sees against it (`codexSchema()` in support/schema.ts).
 */
import type { TestProject } from 'vitest/node';
import { CodexSchema } from './support/schema.js';

export default function setup(project: TestProject): void {
  const schema = CodexSchema.generate();
  project.provide('codexSchemaDir', schema.dir);
}

declare module 'vitest' {
  export interface ProvidedContext {
    codexSchemaDir: string;
  }
}
