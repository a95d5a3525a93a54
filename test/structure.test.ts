/**
 * The repository's structural rules, checked on its sources: no import cycles, product code
 * never imports the tests, components report ResourceErrors, and the product's files and
 * functions stay small.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { REPO_ROOT } from "./stack";

const MAX_FILE_LINES = 500;
const MAX_FUNCTION_LINES = 80;

/**
 * Functions over the limit, allowed while someone splits them (`file name` as `longFunctions`
 * reports them). Empty: every function is within the limit; the test below keeps it honest.
 */
const LONG_FUNCTION_ALLOWED: ReadonlySet<string> = new Set<string>([]);

/** Every .ts file under `dir` (relative to the repository), node_modules excluded. */
function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(path.join(REPO_ROOT, d), { withFileTypes: true })) {
      const rel = path.join(d, e.name);
      if (e.isDirectory() && e.name !== "node_modules") {
        walk(rel);
      } else if (e.isFile() && e.name.endsWith(".ts")) {
        out.push(rel);
      }
    }
  };
  walk(dir);
  return out.sort();
}

/** The repository files a source imports with a relative specifier (import, export ... from, import(), require()). */
function localImports(file: string): string[] {
  const text = fs.readFileSync(path.join(REPO_ROOT, file), "utf8");
  const found: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s+|import\(|require\()"(\.{1,2}\/[^"]+)"/g)) {
    const base = path.join(path.dirname(file), m[1] ?? "");
    const target = [`${base}.ts`, path.join(base, "index.ts"), base].find((c) => fs.existsSync(path.join(REPO_ROOT, c)) && fs.statSync(path.join(REPO_ROOT, c)).isFile());
    if (target !== undefined) {
      found.push(target);
    }
  }
  return found;
}

/** A function-like node's name: its own, or the variable, property or class member it is assigned to. */
function functionName(node: ts.FunctionLikeDeclaration): string {
  if (ts.isConstructorDeclaration(node)) {
    const cls = node.parent;
    return `${cls.name?.text ?? "(class)"} constructor`;
  }
  if (node.name !== undefined) {
    return node.name.getText();
  }
  const parent = node.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && parent.name !== undefined) {
    return parent.name.getText();
  }
  return "(anonymous)";
}

/**
 * Every function, method, constructor, accessor, arrow function and function expression in
 * `text` whose span (first to last line, both counted) is over `max` lines, as
 * `{ name, line, lines }` with `line` 1-based. Nested functions are measured on their own too.
 */
export function longFunctions(fileName: string, text: string, max: number): Array<{ readonly name: string; readonly line: number; readonly lines: number }> {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: Array<{ name: string; line: number; lines: number }> = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && "body" in node && node.body !== undefined) {
      const fn = node as ts.FunctionLikeDeclaration;
      const first = source.getLineAndCharacterOfPosition(fn.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(fn.getEnd()).line;
      if (last - first + 1 > max) {
        found.push({ name: functionName(fn), line: first + 1, lines: last - first + 1 });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** One import cycle per strongly connected group found by a depth-first walk, as `a -> b -> a`. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const found: string[] = [];
  const visit = (node: string): void => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") {
        found.push([...stack.slice(stack.indexOf(next)), next].join(" -> "));
      } else if (state.get(next) === undefined && graph.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) {
    if (state.get(node) === undefined) {
      visit(node);
    }
  }
  return found;
}

describe("repository structure", () => {
  const files = [...sources("infra"), ...sources("automation"), ...sources("test")];
  const graph = new Map(files.map((f) => [f, localImports(f)]));

  it("has no import cycles (type-only imports included)", () => {
    assert.deepEqual(cycles(graph), []);
  });

  it("product code never imports the tests", () => {
    const offending = [...graph]
      .filter(([file]) => !file.startsWith(`test${path.sep}`))
      .flatMap(([file, imports]) => imports.filter((i) => i.startsWith(`test${path.sep}`)).map((i) => `${file} -> ${i}`));
    assert.deepEqual(offending, []);
  });

  it("components report problems as pulumi.ResourceError (plain Errors only in the pure modules of infra/lib)", () => {
    const offending = sources("infra")
      .filter((f) => !f.startsWith(path.join("infra", "lib")) && !f.startsWith(path.join("infra", "policy")))
      .filter((f) => /throw new Error\(/.test(fs.readFileSync(path.join(REPO_ROOT, f), "utf8")));
    assert.deepEqual(offending, []);
  });

  const product = [...sources("infra"), ...sources("automation")];
  let measured: Array<{ readonly file: string; readonly name: string; readonly line: number; readonly lines: number }> | undefined;
  const productLongFunctions = (): NonNullable<typeof measured> =>
    (measured ??= product.flatMap((file) => longFunctions(file, fs.readFileSync(path.join(REPO_ROOT, file), "utf8"), MAX_FUNCTION_LINES).map((fn) => ({ file, ...fn }))));

  it(`keeps every infra/ and automation/ source file at most ${MAX_FILE_LINES} lines`, () => {
    const long = product
      .map((f) => `${f}: ${fs.readFileSync(path.join(REPO_ROOT, f), "utf8").split("\n").length} lines`)
      .filter((line) => Number(/: (\d+) lines$/.exec(line)?.[1]) > MAX_FILE_LINES);
    assert.deepEqual(long, []);
  });

  it(`keeps every function, method, constructor and arrow function in infra/ and automation/ at most ${MAX_FUNCTION_LINES} lines`, () => {
    const long = productLongFunctions()
      .filter((fn) => !LONG_FUNCTION_ALLOWED.has(`${fn.file} ${fn.name}`))
      .map((fn) => `${fn.file}:${fn.line} ${fn.name} (${fn.lines} lines)`);
    assert.deepEqual(long, []);
  });

  it("the allow-list names only functions that are still long (a split one leaves it)", () => {
    const stillLong = new Set(productLongFunctions().map((fn) => `${fn.file} ${fn.name}`));
    assert.deepEqual([...LONG_FUNCTION_ALLOWED].filter((entry) => !stillLong.has(entry)), []);
  });

  it("measures functions of every kind, nested ones on their own (the check itself)", () => {
    const body = (n: number): string => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join("\n");
    const text = [
      `function longOne() {\n${body(80)}\n}`, // 82 lines
      `function shortOne() {\n${body(78)}\n}`, // 80 lines: at the limit
      `class K {\n  constructor() {\n${body(79)}\n  }\n  method() {\n    const inner = () => {\n${body(81)}\n    };\n    return inner;\n  }\n}`,
      `const arrow = (): void => {\n${body(81)}\n};`,
      `export const spec = { run: function () {\n${body(85)}\n} };`,
    ].join("\n");
    assert.deepEqual(
      longFunctions("x.ts", text, 80).map((f) => `${f.name}:${f.line}:${f.lines}`),
      ["longOne:1:82", "K constructor:164:81", "method:245:86", "inner:246:83", "arrow:332:83", "run:415:87"],
    );
  });

  it("finds a cycle when there is one (the check itself)", () => {
    const g = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a"]],
      ["d", ["a"]],
    ]);
    assert.deepEqual(cycles(g), ["a -> b -> c -> a"]);
  });
});
