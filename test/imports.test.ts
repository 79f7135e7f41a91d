/**
 * Imports point one way and never in a circle: shared ← workflows; shared ← activities ←
 * providers, media, cost, store; config builds the lower layers' options; entry points on top.
 * Read from the source with TypeScript's own parser, so a new cycle or a wrong-way import fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

/** Every import and re-export of a file, relative ones resolved to repository paths. */
function importsOf(file: string): Edge[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  const resolve = (specifier: string) =>
    specifier.startsWith('.') ? path.normalize(path.join(path.dirname(file), specifier.replace(/\.js$/, '.ts'))) : specifier;
  // A dynamic import() loads later, but still makes a cycle.
  const edges: Edge[] = [...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => ({
    from: file,
    to: resolve(m[1]!),
    typeOnly: false,
  }));
  for (const statement of source.statements) {
    let specifier: ts.Expression | undefined;
    let typeOnly = false;
    if (ts.isImportDeclaration(statement)) {
      specifier = statement.moduleSpecifier;
      const clause = statement.importClause;
      typeOnly =
        !!clause?.isTypeOnly ||
        (!!clause &&
          !clause.name &&
          !!clause.namedBindings &&
          ts.isNamedImports(clause.namedBindings) &&
          clause.namedBindings.elements.every((e) => e.isTypeOnly));
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier) {
      specifier = statement.moduleSpecifier;
      typeOnly = statement.isTypeOnly;
    }
    if (!specifier || !ts.isStringLiteral(specifier)) continue;
    edges.push({ from: file, to: resolve(specifier.text), typeOnly });
  }
  return edges;
}

const files = [...sourceFiles('src'), ...sourceFiles('bench')];
const edges = files.flatMap(importsOf);
const local = edges.filter((e) => e.to.startsWith('src/') || e.to.startsWith('bench/') || e.to.startsWith('test/'));

/** Every cycle, as the files around it (one per strongly connected set of files). */
function cycles(): string[][] {
  const next = new Map<string, string[]>();
  for (const e of local) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const to of next.get(file) ?? []) {
      if (state.get(to) === 'open') found.push([...stack.slice(stack.indexOf(to)), to]);
      else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return found;
}

const layer = (file: string) => file.split('/').slice(0, 2).join('/');
const violations = (rule: (e: Edge) => boolean) => local.filter(rule).map((e) => `${e.from} → ${e.to}`);

describe('imports', () => {
  it('reads the whole tree', () => {
    expect(files.length).toBeGreaterThan(40);
    expect(local.length).toBeGreaterThan(100);
  });

  it('form no cycle in src/ or bench/', () => {
    expect(cycles().map((c) => c.join(' → '))).toEqual([]);
  });

  it('shared/ is workflow-safe: it imports only shared/ and no node: module', () => {
    expect(violations((e) => layer(e.from) === 'src/shared' && layer(e.to) !== 'src/shared')).toEqual([]);
    expect(edges.filter((e) => layer(e.from) === 'src/shared' && e.to.startsWith('node:')).map((e) => e.from)).toEqual([]);
  });

  it('workflows/ imports shared/ and itself, and activities only as types', () => {
    const allowed = (e: Edge) => ['src/shared', 'src/workflows'].includes(layer(e.to)) || (layer(e.to) === 'src/activities' && e.typeOnly);
    expect(violations((e) => layer(e.from) === 'src/workflows' && !allowed(e))).toEqual([]);
  });

  it('providers, media, cost and store import neither the layers above them nor the configuration', () => {
    const lower = ['src/providers', 'src/media', 'src/cost', 'src/store'];
    const lowerOrShared = [...lower, 'src/shared'];
    expect(violations((e) => lower.includes(layer(e.from)) && !lowerOrShared.includes(layer(e.to)))).toEqual([]);
  });

  it('nothing in src/ imports tests or benchmarks', () => {
    expect(violations((e) => e.from.startsWith('src/') && !e.to.startsWith('src/'))).toEqual([]);
  });
});
