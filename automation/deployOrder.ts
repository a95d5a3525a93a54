/**
 * The first-deploy order from an empty account, and the check that it works: some resources exist
 * once per account (the ECR repositories, the OpenSearch service-linked role, the Session Manager
 * preferences, the Docker Hub pull-through cache rule), one stack creates each and later stacks
 * look them up or rely on them. A few are created by the operator before any stack (the Route 53
 * hosted zone, the GitHub connection of the CI runners).
 *
 * Pure: a stack's footprint is read from what the program declares (resources and data-source
 * calls, as the offline evaluator records them), and `orderProblems` says which stack would fail
 * on its first deployment in the documented order.
 */
import { DOCKER_HUB_CACHE_PREFIX } from "../infra/lib/images";

/** The order of the first deployments, which is also the pipeline's: images enter at test and are promoted onwards. */
export const DEPLOY_ORDER: readonly string[] = ["test", "staging", "prod"];

export type SharedKind =
  | "ecr-repository"
  | "service-linked-role"
  | "route53-zone"
  | "codeconnections-connection"
  | "ecr-pull-through-cache-rule"
  | "ssm-session-preferences";

/** A resource that exists once per account (and region), named within its kind. */
export interface SharedResource {
  readonly kind: SharedKind;
  readonly name: string;
}

/** What a stack creates of the shared resources and what it needs to exist already. */
export interface Footprint {
  readonly stack: string;
  readonly creates: readonly SharedResource[];
  readonly needs: readonly SharedResource[];
}

/**
 * Kinds no stack creates: the operator makes them before the first deployment (README,
 * "Deploying with an AWS account"), because they need a human: a domain's registrar delegation,
 * a GitHub connection's OAuth handshake in the console.
 */
export const PREREQUISITES: Readonly<Partial<Record<SharedKind, string>>> = {
  "route53-zone": "the public hosted zone of platform:domain, delegated from the domain's registrar",
  "codeconnections-connection": "the GitHub connection of platform:ci.runners.connectionArn, its handshake completed in the console",
};

/** The shapes the offline evaluator records (automation/offline/mocks.ts). */
export interface DeclaredShape {
  readonly type: string;
  readonly inputs: Readonly<Record<string, unknown>>;
}
export interface InvokeShape {
  readonly token: string;
  readonly inputs: Readonly<Record<string, unknown>>;
}

const keyOf = (r: SharedResource): string => `${r.kind}:${r.name}`;

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function record(v: unknown): Readonly<Record<string, unknown>> {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Images pulled through an ECR pull-through cache: `<account>.dkr.ecr.<region>.amazonaws.com/<prefix>/...`. */
const CACHED_IMAGE = /\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/([a-z0-9._-]+)\//g;
const CACHE_PREFIXES: readonly string[] = [DOCKER_HUB_CACHE_PREFIX];

/** The shared resources a stack's declared resources and data-source calls create and need. */
export function footprintOf(stack: string, resources: readonly DeclaredShape[], invokes: readonly InvokeShape[]): Footprint {
  const creates = new Map<string, SharedResource>();
  const needs = new Map<string, SharedResource>();
  const add = (into: Map<string, SharedResource>, kind: SharedKind, name: string | undefined): void => {
    if (name !== undefined) {
      into.set(keyOf({ kind, name }), { kind, name });
    }
  };
  for (const r of resources) {
    const i = r.inputs;
    switch (r.type) {
      case "aws:ecr/repository:Repository":
        add(creates, "ecr-repository", str(i["name"]));
        break;
      case "aws:iam/serviceLinkedRole:ServiceLinkedRole":
        add(creates, "service-linked-role", str(i["awsServiceName"]));
        break;
      // A domain in a VPC cannot be created without OpenSearch's service-linked role.
      case "aws:opensearch/domain:Domain":
        if (i["vpcOptions"] !== undefined) {
          add(needs, "service-linked-role", "opensearchservice.amazonaws.com");
        }
        break;
      case "aws:route53/zone:Zone":
        add(creates, "route53-zone", str(i["name"]));
        break;
      case "aws:ssm/document:Document":
        if (i["name"] === "SSM-SessionManagerRunShell") {
          add(creates, "ssm-session-preferences", "SSM-SessionManagerRunShell");
        }
        break;
      case "aws:ecr/pullThroughCacheRule:PullThroughCacheRule":
        add(creates, "ecr-pull-through-cache-rule", str(i["ecrRepositoryPrefix"]));
        break;
      case "aws:codebuild/project:Project": {
        const auth = record(record(i["source"])["auth"]);
        if (auth["type"] === "CODECONNECTIONS") {
          add(needs, "codeconnections-connection", str(auth["resource"]));
        }
        break;
      }
      default:
        break;
    }
    if (r.type.startsWith("kubernetes:")) {
      for (const m of JSON.stringify(i).matchAll(CACHED_IMAGE)) {
        const prefix = m[1] ?? "";
        if (CACHE_PREFIXES.includes(prefix)) {
          add(needs, "ecr-pull-through-cache-rule", prefix);
        }
      }
    }
  }
  for (const call of invokes) {
    if (call.token === "aws:ecr/getRepository:getRepository") {
      add(needs, "ecr-repository", str(call.inputs["name"]));
    } else if (call.token === "aws:route53/getZone:getZone") {
      add(needs, "route53-zone", str(call.inputs["name"]));
    }
  }
  const sorted = (m: Map<string, SharedResource>): SharedResource[] => [...m.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  return { stack, creates: sorted(creates), needs: sorted(needs) };
}

/**
 * What fails when the stacks are deployed for the first time in `order`: a shared resource created
 * by more than one stack (the second create fails, or two stacks fight over it), one that a stack
 * needs but no stack creates (and no prerequisite covers), and one needed before the stack that
 * creates it. Empty when the order works.
 */
export function orderProblems(order: readonly string[], footprints: readonly Footprint[]): string[] {
  const problems: string[] = [];
  const position = new Map(order.map((s, i) => [s, i]));
  for (const f of footprints) {
    if (!position.has(f.stack)) {
      problems.push(`${f.stack}: not in the deploy order (${order.join(" -> ")})`);
    }
  }
  const owners = new Map<string, string[]>();
  for (const f of footprints) {
    for (const r of f.creates) {
      owners.set(keyOf(r), [...(owners.get(keyOf(r)) ?? []), f.stack]);
    }
  }
  for (const [key, stacks] of owners) {
    if (stacks.length > 1) {
      problems.push(`${key}: created by ${stacks.join(" and ")}; exactly one stack may own it (the others look it up)`);
    }
  }
  for (const f of footprints) {
    const at = position.get(f.stack) ?? -1;
    for (const r of f.needs) {
      const key = keyOf(r);
      const creators = owners.get(key) ?? [];
      if (creators.includes(f.stack)) {
        continue;
      }
      if (creators.length === 0) {
        if (PREREQUISITES[r.kind] === undefined) {
          problems.push(`${f.stack} needs ${key}, which no stack creates and no prerequisite covers`);
        }
        continue;
      }
      const first = Math.min(...creators.map((s) => position.get(s) ?? Number.MAX_SAFE_INTEGER));
      if (first > at) {
        problems.push(`${f.stack} needs ${key}, which ${creators.join(" and ")} creates later in the order (${order.join(" -> ")}): its first deployment fails`);
      }
    }
  }
  return problems;
}
