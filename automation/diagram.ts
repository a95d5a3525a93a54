/**
 * The Mermaid architecture diagram `plan --diagram FILE` writes: one node per platform component
 * (with its resource count), grouped in a subgraph per area (`platform:<area>:<Name>`), solid
 * edges from a component to the components it creates, and dotted edges for the network paths
 * the security groups open between components (e.g. the cluster and the bastion to the database).
 * Pure: the plan computes the graph, this only renders it. GitHub and most Markdown viewers
 * render a ```mermaid block of it.
 */

export interface DiagramComponent {
  /** Unique within the stack: `<type>::<name>`. */
  readonly id: string;
  /** `platform:<area>:<Name>` */
  readonly type: string;
  readonly name: string;
  /** The id of the component that created it; undefined at the top level. */
  readonly parent?: string;
  /** Resources it declares directly (nested components counted in their own node). */
  readonly resources: number;
}

/** Traffic a security group rule lets in: `from` (a component id or {@link INTERNET}) to `to`. */
export interface DiagramRelation {
  readonly from: string;
  readonly to: string;
  /** e.g. `tcp 3306` */
  readonly label: string;
}

export const INTERNET = "internet";

export interface DiagramInput {
  readonly stack: string;
  readonly components: readonly DiagramComponent[];
  readonly relations: readonly DiagramRelation[];
}

/** `platform:<area>:<Name>` -> area and Name (other types: area "other", the whole type as Name). */
export function componentParts(type: string): { area: string; kind: string } {
  const m = /^platform:([^:]+):(.+)$/.exec(type);
  return m === null ? { area: "other", kind: type } : { area: m[1] ?? "other", kind: m[2] ?? type };
}

/** Mermaid labels are quoted; quotes and angle brackets would end or break them. */
function label(text: string): string {
  return text.replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;");
}

/** Node ids must avoid Mermaid keywords (`end`, `graph`, ...) and punctuation. */
function safeId(prefix: string, text: string): string {
  return `${prefix}_${text.replace(/[^A-Za-z0-9]+/g, "_")}`;
}

export function renderMermaid(input: DiagramInput): string {
  const nodeIds = new Map<string, string>();
  input.components.forEach((c, i) => nodeIds.set(c.id, `c${i}`));
  const total = input.components.reduce((n, c) => n + c.resources, 0);
  const lines = [
    "flowchart LR",
    `  %% Stack "${input.stack}": ${input.components.length} components declaring ${total} resources.`,
    "  %% Solid: a component creates another. Dotted: a security group rule lets traffic in.",
  ];

  const areas = new Map<string, DiagramComponent[]>();
  for (const c of input.components) {
    const { area } = componentParts(c.type);
    areas.set(area, [...(areas.get(area) ?? []), c]);
  }
  for (const [area, members] of [...areas].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  subgraph ${safeId("area", area)}["${label(area)}"]`);
    for (const c of members) {
      const { kind } = componentParts(c.type);
      const count = `${c.resources} resource${c.resources === 1 ? "" : "s"}`;
      lines.push(`    ${nodeIds.get(c.id) ?? ""}["${label(kind)}<br/>${label(c.name)}<br/>${count}"]`);
    }
    lines.push("  end");
  }

  if (input.relations.some((r) => r.from === INTERNET || r.to === INTERNET)) {
    lines.push(`  ${INTERNET}(("Internet"))`);
  }
  for (const c of input.components) {
    const parent = c.parent === undefined ? undefined : nodeIds.get(c.parent);
    if (parent !== undefined) {
      lines.push(`  ${parent} --> ${nodeIds.get(c.id) ?? ""}`);
    }
  }
  const endpoint = (id: string): string | undefined => (id === INTERNET ? INTERNET : nodeIds.get(id));
  for (const r of input.relations) {
    const from = endpoint(r.from);
    const to = endpoint(r.to);
    if (from !== undefined && to !== undefined) {
      lines.push(`  ${from} -.->|"${label(r.label)}"| ${to}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
