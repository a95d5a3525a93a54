/**
 * A reader for the Fluentd configuration this program writes, and the check that every parameter
 * in it is one the pinned plugin version really has. Pure; tested in test/fluentd.test.ts.
 *
 * Why: Fluentd only warns about a parameter no plugin declares (`parameter 'de_dot' in <filter
 * kubernetes.**> is not used.`, fluent/fluentd v1.19.2 lib/fluent/engine.rb:81-90) and runs on, so
 * an option a plugin removed (kubernetes_metadata_filter dropped `de_dot` in 3.0.0) silently
 * does nothing.
 */

/** One `<name arg>` section with its parameters (in order) and nested sections. */
export interface FluentSection {
  readonly name: string;
  readonly arg: string;
  readonly params: ReadonlyArray<readonly [string, string]>;
  readonly children: readonly FluentSection[];
}

/**
 * Parses the subset of Fluentd's v1 syntax this program writes: `<name arg>` ... `</name>`,
 * `key value` lines, `#` comment lines. Throws on an unbalanced section.
 */
export function parseFluentConf(text: string): FluentSection {
  type Mutable = { name: string; arg: string; params: Array<[string, string]>; children: Mutable[] };
  const root: Mutable = { name: "", arg: "", params: [], children: [] };
  const stack: Mutable[] = [root];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) {
      return;
    }
    const close = /^<\/([\w@]+)>$/.exec(line);
    if (close !== null) {
      const open = stack.pop();
      if (open === undefined || open === root || open.name !== close[1]) {
        throw new Error(`line ${i + 1}: </${close[1]}> closes ${open === undefined || open === root ? "nothing" : `<${open.name}>`}`);
      }
      return;
    }
    const openTag = /^<([\w@]+)(?:\s+(.*))?>$/.exec(line);
    if (openTag !== null) {
      const section: Mutable = { name: openTag[1], arg: openTag[2] ?? "", params: [], children: [] };
      stack[stack.length - 1].children.push(section);
      stack.push(section);
      return;
    }
    const param = /^(\S+)(?:\s+(.*))?$/.exec(line);
    if (param !== null) {
      stack[stack.length - 1].params.push([param[1], param[2] ?? ""]);
    }
  });
  if (stack.length !== 1) {
    throw new Error(`<${stack[stack.length - 1].name}> is never closed`);
  }
  return root;
}

/** The value of `key` in a section, or undefined. */
export function param(section: FluentSection, key: string): string | undefined {
  return section.params.find(([k]) => k === key)?.[1];
}

/** Every section (depth first) with the path of names leading to it. */
export function sections(root: FluentSection): Array<{ readonly path: readonly FluentSection[]; readonly section: FluentSection }> {
  const out: Array<{ path: FluentSection[]; section: FluentSection }> = [];
  const visit = (s: FluentSection, path: FluentSection[]): void => {
    for (const child of s.children) {
      out.push({ path, section: child });
      visit(child, [...path, child]);
    }
  };
  visit(root, []);
  return out;
}

/**
 * The parameters vetted for one kind of section: a directive with its `@type`
 * (`filter:kubernetes_metadata`), or a section inside one (`match:opensearch/buffer:file`,
 * `match:opensearch/endpoint`). Each parameter maps to where it was read at the pinned version.
 * `anyKeys`: the section's keys are data, not parameters (record_transformer's `<record>`).
 */
export interface VettedSection {
  readonly params: Readonly<Record<string, string>>;
  readonly anyKeys?: boolean;
}

/** Parameters Fluentd reserves for every plugin section (fluent/fluentd v1.19.2 lib/fluent/config/element.rb:46-52). */
const SYSTEM_PARAMS = new Set(["@type", "@id", "@label", "@log_level"]);

/** Directives whose sections name a plugin with `@type`. */
const PLUGIN_DIRECTIVES = new Set(["source", "filter", "match"]);

/**
 * The key a section is vetted under: `<directive>:<@type>` for source/filter/match, the parent's
 * key plus `/<name>[:<@type>]` for a section inside a plugin, the bare name otherwise
 * (`system`, `label`).
 */
function sectionKey(path: readonly FluentSection[], section: FluentSection): string {
  const type = param(section, "@type");
  if (PLUGIN_DIRECTIVES.has(section.name)) {
    return `${section.name}:${type ?? "?"}`;
  }
  const plugin = [...path].reverse().find((s) => PLUGIN_DIRECTIVES.has(s.name));
  if (plugin === undefined) {
    return section.name;
  }
  const inner = path.slice(path.indexOf(plugin) + 1);
  return [sectionKey(path.slice(0, path.indexOf(plugin)), plugin), ...inner.map((s) => s.name), `${section.name}${type !== undefined ? `:${type}` : ""}`].join("/");
}

/** Every parameter (or section) of `conf` that is not vetted for the plugin it is given to. */
export function unvettedParams(conf: FluentSection, vetted: Readonly<Record<string, VettedSection>>): string[] {
  const problems: string[] = [];
  for (const { path, section } of sections(conf)) {
    const key = sectionKey(path, section);
    const allowed = vetted[key];
    if (allowed === undefined) {
      problems.push(`<${section.name}${section.arg !== "" ? ` ${section.arg}` : ""}> (${key}) is not a vetted section of the pinned image's plugins`);
      continue;
    }
    if (allowed.anyKeys === true) {
      continue;
    }
    for (const [k] of section.params) {
      if (!SYSTEM_PARAMS.has(k) && allowed.params[k] === undefined) {
        problems.push(`${key}: parameter "${k}" is not a parameter of the pinned plugin (Fluentd would only warn and ignore it)`);
      }
    }
  }
  return problems;
}

/** `a.b/c` -> `a_b/c`: the de-dot step's rule for label keys (the pipeline's Ruby does the same). */
export function deDot(key: string): string {
  return key.replace(/\./g, "_");
}
