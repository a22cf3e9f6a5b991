/**
 * Every public export of every published package has a TSDoc comment (issue 16.4): what a user
 * of the packages sees in their editor. Each package's entry points (its `exports`) are loaded
 * with the TypeScript compiler; an export declared in the package itself must carry a doc
 * comment where it is declared (re-exports are documented at their origin).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Entry {
  dir: string;
  file: string;
}

function publishedEntries(): Entry[] {
  const entries: Entry[] = [];
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(ROOT, group))) {
      const dir = join(ROOT, group, name);
      if (!existsSync(join(dir, 'package.json'))) continue;
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        private?: boolean;
        exports?: Record<string, { source?: string }>;
      };
      if (manifest.private) continue;
      for (const target of Object.values(manifest.exports ?? {})) {
        if (target.source) entries.push({ dir, file: join(dir, target.source) });
      }
    }
  }
  return entries;
}

function hasDoc(symbol: ts.Symbol, checker: ts.TypeChecker): boolean {
  if (ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim() !== '') return true;
  return (symbol.declarations ?? []).some(
    (declaration) =>
      ts.getJSDocCommentsAndTags(declaration).length > 0 ||
      (ts.isVariableDeclaration(declaration) &&
        ts.getJSDocCommentsAndTags(declaration.parent.parent).length > 0),
  );
}

describe('public API docs', () => {
  it('every export of every published package has a TSDoc comment', () => {
    const entries = publishedEntries();
    expect(entries.length).toBeGreaterThan(10);
    const program = ts.createProgram(
      entries.map((entry) => entry.file),
      {
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        customConditions: ['source'],
        target: ts.ScriptTarget.ES2022,
        resolveJsonModule: true,
        noEmit: true,
      },
    );
    const checker = program.getTypeChecker();
    const undocumented: string[] = [];
    let checked = 0;
    for (const entry of entries) {
      const source = program.getSourceFile(entry.file);
      const module = source && checker.getSymbolAtLocation(source);
      if (!module) throw new Error(`cannot load ${entry.file}`);
      for (const exported of checker.getExportsOfModule(module)) {
        const symbol =
          exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
        const declared = symbol.declarations?.[0]?.getSourceFile().fileName ?? '';
        if (!declared.startsWith(entry.dir) || declared.includes('node_modules')) continue;
        checked += 1;
        if (!hasDoc(symbol, checker)) {
          undocumented.push(`${exported.name} (${declared.slice(ROOT.length)})`);
        }
      }
    }
    expect(checked).toBeGreaterThan(500);
    expect(undocumented).toEqual([]);
  }, 120_000);
});
