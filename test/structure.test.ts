/**
 * The repository's structural rules, checked on its sources: no import cycles, product code
 * never imports the tests, components report ResourceErrors, and infra/ files stay small.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "./stack";

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

  it("keeps every infra/ source file under 500 lines", () => {
    const long = sources("infra")
      .map((f) => [f, fs.readFileSync(path.join(REPO_ROOT, f), "utf8").split("\n").length] as const)
      .filter(([, lines]) => lines > 500);
    assert.deepEqual(long, []);
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
