import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * House style: feature folders of src/ may depend on each other only one way (no circle), and
 * common/ depends on nothing of ours. A folder's dependencies are the relative imports of its
 * non-test files that land in another folder of src/.
 */
const SRC = __dirname;

function folderOf(file: string): string | null {
  const relative = path.relative(SRC, file);
  if (relative.startsWith('..')) return null;
  const [first, ...rest] = relative.split(path.sep);
  return rest.length === 0 ? null : first;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [full] : [];
  });
}

/** folder -> folders it imports from, each with one importing file as the example. */
function folderGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(SRC)) {
    const from = folderOf(file);
    if (!from) continue;
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    for (const [, spec] of fs.readFileSync(file, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
      const to = folderOf(path.resolve(path.dirname(file), spec));
      if (to && to !== from && !edges.has(to)) edges.set(to, path.relative(SRC, file));
    }
  }
  return graph;
}

/** Strongly connected components of more than one folder (Tarjan). */
function cycles(graph: Map<string, Map<string, string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    for (const to of graph.get(node)?.keys() ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (stack.includes(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      for (let top = stack.pop()!; ; top = stack.pop()!) {
        component.push(top);
        if (top === node) break;
      }
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe('dependencies between src/ folders', () => {
  const graph = folderGraph();

  it('form no cycle', () => {
    const described = cycles(graph).map((component) =>
      component
        .map((folder) =>
          [...(graph.get(folder) ?? new Map<string, string>())]
            .filter(([to]) => component.includes(to))
            .map(([to, example]) => `${folder} -> ${to} (${example})`)
            .join(', '),
        )
        .join('; '),
    );
    expect(described).toEqual([]);
  });

  it('leave common/ depending on nothing of ours', () => {
    expect([...(graph.get('common')?.entries() ?? [])]).toEqual([]);
  });

  it('detects a cycle when there is one (the check itself)', () => {
    const looped = new Map([
      ['a', new Map([['b', 'a/x.ts']])],
      ['b', new Map([['a', 'b/y.ts']])],
      ['c', new Map([['a', 'c/z.ts']])],
    ]);
    expect(cycles(looped)).toEqual([['a', 'b']]);
  });
});
