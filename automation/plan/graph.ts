/**
 * The shape of what `plan` declares: which platform component each resource belongs to (a tree
 * rebuilt from the mocks' URNs) and the traffic security group rules let in between components.
 * Pure over the declared resources; the report (./report.ts) and the diagram use it.
 */
import { opennessOfTexts } from "../../infra/lib/cidr";
import { componentParts, DiagramComponent, DiagramRelation, INTERNET } from "../diagram";
import { DeclaredResource, mockedOutputs } from "../offline/mocks";

export const STACK_TYPE = "pulumi:pulumi:Stack";

/* ----------------------------------------------------------------------------------------
 * Components: which platform component each declared resource belongs to.
 * -------------------------------------------------------------------------------------- */

export interface PlanComponent extends DiagramComponent {
  readonly area: string;
  /** The `<Name>` of `platform:<area>:<Name>`. */
  readonly kind: string;
  /** Its own resources plus those of the components nested in it. */
  readonly total: number;
  /** Its own resources by type. */
  readonly types: Readonly<Record<string, number>>;
}

export interface ComponentGraph {
  /** Platform components, parents before their children. */
  readonly components: readonly PlanComponent[];
  /** Resources that belong to no platform component (e.g. the stack's providers), by type. */
  readonly stackLevel: Readonly<Record<string, number>>;
  /** The id (`type::name`) of the nearest platform component of a resource, if any. */
  readonly ownerOf: (r: Pick<DeclaredResource, "type" | "name">) => string | undefined;
}

const keyOf = (r: Pick<DeclaredResource, "type" | "name">): string => `${r.type}::${r.name}`;
const isPlatform = (type: string): boolean => type.startsWith("platform:");
/** Counted as resources: custom resources and foreign components (awsx, eks: one resource each under mocks). */
export const isCounted = (r: DeclaredResource): boolean => r.type !== STACK_TYPE && !isPlatform(r.type);

/**
 * The URNs the mocks mint name a resource's parent by type only, so the instance is found by the
 * house naming rule (children are named `${name}-<role>`): the component of that type whose name
 * is the longest prefix of the child's.
 */
function parentOf(r: DeclaredResource, byType: ReadonlyMap<string, readonly DeclaredResource[]>): DeclaredResource | undefined {
  if (r.parentType === undefined || r.parentType === STACK_TYPE) {
    return undefined;
  }
  const candidates = (byType.get(r.parentType) ?? []).filter((c) => c !== r);
  const named = candidates.filter((c) => r.name === c.name || r.name.startsWith(`${c.name}-`)).sort((a, b) => b.name.length - a.name.length);
  if (named.length > 0) {
    return named[0];
  }
  const common = (c: DeclaredResource): number => {
    let i = 0;
    while (i < c.name.length && c.name[i] === r.name[i]) i++;
    return i;
  };
  return [...candidates].sort((a, b) => common(b) - common(a) || a.name.localeCompare(b.name))[0];
}

export function componentGraph(resources: readonly DeclaredResource[]): ComponentGraph {
  const byType = new Map<string, DeclaredResource[]>();
  for (const r of resources) {
    if (!r.custom && r.type !== STACK_TYPE) {
      byType.set(r.type, [...(byType.get(r.type) ?? []), r]);
    }
  }
  const owner = new Map<string, string | undefined>();
  const nearestPlatform = (r: DeclaredResource): string | undefined => {
    const key = keyOf(r);
    if (owner.has(key)) {
      return owner.get(key);
    }
    owner.set(key, undefined); // a cycle (impossible in a real URN tree) ends at the stack
    const parent = parentOf(r, byType);
    const found = parent === undefined ? undefined : isPlatform(parent.type) ? keyOf(parent) : nearestPlatform(parent);
    owner.set(key, found);
    return found;
  };

  const own = new Map<string, Record<string, number>>();
  const stackLevel: Record<string, number> = {};
  for (const r of resources.filter(isCounted)) {
    const o = nearestPlatform(r);
    const bucket = o === undefined ? stackLevel : (own.get(o) ?? {});
    bucket[r.type] = (bucket[r.type] ?? 0) + 1;
    if (o !== undefined) {
      own.set(o, bucket);
    }
  }

  const platform = resources.filter((r) => isPlatform(r.type));
  const parentId = new Map(platform.map((c) => [keyOf(c), nearestPlatform(c)]));
  const count = (types: Record<string, number> | undefined): number => Object.values(types ?? {}).reduce((a, b) => a + b, 0);
  const totalOf = (id: string): number => count(own.get(id)) + platform.filter((c) => parentId.get(keyOf(c)) === id).reduce((n, c) => n + totalOf(keyOf(c)), 0);

  // Depth-first from the top-level components, so the human table reads as a tree.
  const ordered: PlanComponent[] = [];
  const visit = (parent: string | undefined): void => {
    const children = platform
      .filter((c) => parentId.get(keyOf(c)) === parent)
      .sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
    for (const c of children) {
      const id = keyOf(c);
      const { area, kind } = componentParts(c.type);
      const types = Object.fromEntries(Object.entries(own.get(id) ?? {}).sort(([a], [b]) => a.localeCompare(b)));
      ordered.push({ id, type: c.type, name: c.name, area, kind, parent, resources: count(types), total: totalOf(id), types });
      visit(id);
    }
  };
  visit(undefined);
  return { components: ordered, stackLevel, ownerOf: (r) => (isPlatform(r.type) ? keyOf(r) : owner.get(keyOf(r))) };
}

/* ----------------------------------------------------------------------------------------
 * Relations: the traffic security group rules let in between components.
 * -------------------------------------------------------------------------------------- */

const INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const LEGACY_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function portLabel(protocol: unknown, from: unknown, to: unknown): string {
  const proto = protocol === "-1" || protocol === "all" ? "all" : String(protocol ?? "tcp");
  if (proto === "all") {
    return "all traffic";
  }
  return from === to || to === undefined ? `${proto} ${String(from)}` : `${proto} ${String(from)}-${String(to)}`;
}

/**
 * Security group id -> owning component, from the ids the mocks give security groups and the
 * security groups components compute (e.g. the EKS cluster's); then each ingress rule that admits
 * another component's group (or the internet) into a group of a different component is an edge.
 */
export function securityGroupRelations(resources: readonly DeclaredResource[], graph: ComponentGraph): DiagramRelation[] {
  const groupOwner = new Map<string, string | undefined>();
  for (const r of resources.filter(isCounted)) {
    const outputs = mockedOutputs(r);
    const owner = graph.ownerOf(r);
    if (r.type === "aws:ec2/securityGroup:SecurityGroup") {
      groupOwner.set(String(outputs["id"]), owner);
    }
    for (const [key, value] of Object.entries(outputs)) {
      if (key.endsWith("SecurityGroupId") && !(key in r.inputs) && typeof value === "string") {
        groupOwner.set(value, owner);
      }
    }
  }
  const labels = new Map<string, Set<string>>();
  for (const r of resources) {
    const i = r.inputs;
    let source: string | undefined;
    let open = false;
    if (r.type === INGRESS_RULE) {
      source = str(i["referencedSecurityGroupId"]);
      open = opennessOfTexts([str(i["cidrIpv4"]), str(i["cidrIpv6"])].filter((c): c is string => c !== undefined)).level !== "restricted";
    } else if (r.type === LEGACY_RULE && i["type"] === "ingress") {
      source = str(i["sourceSecurityGroupId"]);
      open = Array.isArray(i["cidrBlocks"]) && opennessOfTexts(i["cidrBlocks"].filter((c): c is string => typeof c === "string")).level !== "restricted";
    } else {
      continue;
    }
    const target = str(i["securityGroupId"]);
    const to = (target !== undefined ? groupOwner.get(target) : undefined) ?? graph.ownerOf(r);
    const from = open ? INTERNET : source !== undefined ? groupOwner.get(source) : undefined;
    if (from === undefined || to === undefined || from === to) {
      continue;
    }
    const edge = `${from}\u0000${to}`;
    labels.set(edge, (labels.get(edge) ?? new Set()).add(portLabel(i["ipProtocol"] ?? i["protocol"], i["fromPort"], i["toPort"])));
  }
  return [...labels]
    .map(([edge, set]) => {
      const [from, to] = edge.split("\u0000");
      return { from: from ?? "", to: to ?? "", label: [...set].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })).join(", ") };
    })
    .sort((a, b) => a.to.localeCompare(b.to) || a.from.localeCompare(b.from));
}
