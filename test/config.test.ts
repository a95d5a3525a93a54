import { strict as assert } from "assert";
import { ConfigError, parsePlatformConfig } from "../infra/config/load";
import { environmentOf, environmentOfStack } from "../infra/policy/engine";
import { policyView } from "../infra/config/policy";
import type { ConfigValue } from "../infra/config/defaults";
import type { PlatformConfig } from "../infra/config/schema";
import { Json, readStackConfig, settleStack, STACKS, StackConfig } from "./stack";

/** The stack file's `platform:*` keys as the program sees them (namespace stripped). */
function rawPlatform(config: StackConfig): Record<string, ConfigValue> {
  const out: Record<string, ConfigValue> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k.startsWith("platform:")) {
      out[k.slice("platform:".length)] = v as ConfigValue;
    }
  }
  return out;
}

function parse(stack: string, mutate?: (c: StackConfig) => void): PlatformConfig {
  const config = readStackConfig(stack);
  mutate?.(config);
  return parsePlatformConfig(stack, rawPlatform(config), config["aws:region"] as string | undefined);
}

function problemsOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) {
      return err;
    }
    throw err;
  }
  assert.fail("expected a ConfigError");
}

type Obj = { [key: string]: Json };
const obj = (v: Json | undefined): Obj => {
  if (v === null || v === undefined || typeof v !== "object" || Array.isArray(v)) {
    throw new Error("expected an object");
  }
  return v;
};
const arr = (v: Json | undefined): Json[] => {
  if (!Array.isArray(v)) {
    throw new Error("expected an array");
  }
  return v;
};
const service = (c: StackConfig, i: number): Obj => obj(arr(c["platform:services"])[i]);
const nodeGroup = (c: StackConfig, i: number): Obj => obj(arr(obj(c["platform:cluster"])["nodeGroups"])[i]);
/** `platform:observability.logging` of the stack file, created when the file leaves it to the defaults. */
const logging = (c: StackConfig): Obj => {
  const observability = (c["platform:observability"] ??= {}) as Obj;
  return obj((observability["logging"] ??= {}));
};

interface Case {
  readonly name: string;
  readonly stack: string;
  readonly mutate: (c: StackConfig) => void;
  /** The key the message must name. */
  readonly key: string;
  /** Fragments the line for that key must contain: the bad value and the fix. */
  readonly expect: readonly string[];
}

const cases: Case[] = [
  {
    name: "unknown environment name",
    stack: "prod",
    mutate: (c) => (c["platform:environment"] = "production"),
    key: "platform:environment",
    expect: ['unknown environment "production" (the stack "prod" is prod)', "Fix: remove platform:environment (it follows the stack name) or set it to prod"],
  },
  {
    name: "a prod stack file claiming to be staging",
    stack: "prod",
    mutate: (c) => (c["platform:environment"] = "staging"),
    key: "platform:environment",
    expect: [
      'says "staging", but the stack "prod" is prod: the stack name decides the environment, and the policy pack checks this stack as prod whatever the file says',
      '(value: "staging")',
      "Fix: remove platform:environment (it follows the stack name) or set it to prod",
    ],
  },
  {
    name: "a staging stack file claiming to be test",
    stack: "staging",
    mutate: (c) => (c["platform:environment"] = "test"),
    key: "platform:environment",
    expect: ['says "test", but the stack "staging" is staging'],
  },
  {
    name: "unknown top-level key, with a suggestion",
    stack: "prod",
    mutate: (c) => (c["platform:databse"] = { enabled: true }),
    key: "platform:databse",
    expect: ["unknown config key", 'did you mean "platform:database"?'],
  },
  {
    name: "unknown nested key, with a suggestion",
    stack: "prod",
    mutate: (c) => (obj(c["platform:network"])["natGateway"] = "single"),
    key: "platform:network.natGateway",
    expect: ["unknown config key", 'did you mean "platform:network.natGateways"?'],
  },
  {
    name: "node group min > max",
    stack: "prod",
    mutate: (c) => Object.assign(nodeGroup(c, 0), { minSize: 5, maxSize: 4, desiredSize: 4 }),
    key: "platform:cluster.nodeGroups[0].minSize",
    expect: ["5 is greater than maxSize 4", "(value: 5)", "Fix: set minSize <= maxSize"],
  },
  {
    name: "node group desired outside [min, max]",
    stack: "prod",
    mutate: (c) => Object.assign(nodeGroup(c, 0), { desiredSize: 7 }),
    key: "platform:cluster.nodeGroups[0].desiredSize",
    expect: ["7 is outside [minSize 2, maxSize 4]", "(value: 7)", "Fix: set desiredSize between 2 and 4"],
  },
  {
    name: "fewer than 2 AZs with EKS on",
    stack: "staging",
    mutate: (c) => (c["platform:availabilityZones"] = ["ap-northeast-2a"]),
    key: "platform:availabilityZones",
    expect: ["has 1 zone(s) but cluster.enabled", '(value: ["ap-northeast-2a"])', "Fix: list two zones"],
  },
  {
    name: "fewer than 2 AZs with multi-AZ RDS on",
    stack: "test",
    mutate: (c) => {
      c["platform:availabilityZones"] = ["ap-northeast-2a"];
      obj(c["platform:database"])["multiAz"] = true;
    },
    key: "platform:availabilityZones",
    expect: ["database.multiAz", "requires at least 2", "Fix: list two zones"],
  },
  {
    name: "malformed CIDR",
    stack: "prod",
    mutate: (c) => (obj(c["platform:network"])["cidr"] = "10.30.0.0/33"),
    key: "platform:network.cidr",
    expect: ["prefix length above 32", '(value: "10.30.0.0/33")', "Fix: use an IPv4 network in CIDR notation"],
  },
  {
    name: "CIDR with host bits set",
    stack: "prod",
    mutate: (c) => (obj(c["platform:network"])["cidr"] = "10.30.1.0/16"),
    key: "platform:network.cidr",
    expect: ["host bits set; the network address is 10.30.0.0/16", "Fix:"],
  },
  {
    name: "overlapping subnet CIDRs",
    stack: "prod",
    mutate: (c) =>
      Object.assign(obj(c["platform:network"]), {
        publicSubnetCidrs: ["10.30.0.0/20", "10.30.16.0/20"],
        privateSubnetCidrs: ["10.30.8.0/21", "10.30.128.0/20"],
      }),
    key: "platform:network",
    expect: ["publicSubnetCidrs[0] (10.30.0.0/20) overlaps network.privateSubnetCidrs[0] (10.30.8.0/21)", "Fix: give every subnet its own non-overlapping block"],
  },
  {
    name: "subnet outside the VPC",
    stack: "prod",
    mutate: (c) =>
      Object.assign(obj(c["platform:network"]), {
        publicSubnetCidrs: ["10.30.0.0/20", "10.99.16.0/20"],
      }),
    key: "platform:network.publicSubnetCidrs[1]",
    expect: ["10.99.16.0/20 lies outside the VPC block 10.30.0.0/16", "Fix: pick a block inside 10.30.0.0/16"],
  },
  {
    name: "publicly accessible database in prod",
    stack: "prod",
    mutate: (c) => (obj(c["platform:database"])["publiclyAccessible"] = true),
    key: "platform:database.publiclyAccessible",
    expect: ["is true in the prod stack", "(value: true)", "Fix: set database.publiclyAccessible to false"],
  },
  {
    name: "publicly accessible database in staging",
    stack: "staging",
    mutate: (c) => (obj(c["platform:database"])["publiclyAccessible"] = true),
    key: "platform:database.publiclyAccessible",
    expect: ["is true in the staging stack", "Fix: set database.publiclyAccessible to false"],
  },
  {
    name: "duplicate service names",
    stack: "prod",
    mutate: (c) => (service(c, 1)["name"] = "student"),
    key: "platform:services[1].name",
    expect: ['"student" is already used by services[0]', "Fix: give every service a unique name"],
  },
  {
    name: "active not blue/green",
    stack: "prod",
    mutate: (c) => (service(c, 0)["active"] = "red"),
    key: "platform:services[0].active",
    expect: ['"red" is not a color for service "student"', '(value: "red")', 'Fix: set active to "blue" or "green"'],
  },
  {
    name: "active color with no image",
    stack: "staging",
    mutate: (c) => (service(c, 1)["green"] = {}),
    key: "platform:services[1].green.image",
    expect: ['is empty but green is the active color of service "subject"', "(value: unset)", "Fix: set services[1].green.image"],
  },
  {
    name: "a health path the ALB routes to another service (target group and gates cannot both pass)",
    stack: "prod",
    mutate: (c) => {
      delete service(c, 1)["contextPath"];
      service(c, 1)["healthPath"] = "/actuator/health";
    },
    key: "platform:services[1].healthPath",
    expect: [
      'the ALB routes "/actuator/health" to service "student", not to "subject"',
      "the target group checks this path on the pod while the gates request it through the ALB",
      '(value: "/actuator/health")',
      'Fix: give the path as the container serves it under one of its routed prefixes (/sugang); a service routed at "/sugang" serves under that context path (set contextPath: "/sugang" and e.g. healthPath: "/sugang/actuator/health")',
    ],
  },
  {
    name: "a health path outside the declared context path",
    stack: "staging",
    mutate: (c) => (service(c, 1)["healthPath"] = "/actuator/health"),
    key: "platform:services[1].healthPath",
    expect: ['"/actuator/health" does not start with the context path "/sugang" of service "subject"', 'Fix: give the path as the container serves it, e.g. "/sugang/actuator/health"'],
  },
  {
    name: "a routed path outside the declared context path",
    stack: "test",
    mutate: (c) => (service(c, 1)["paths"] = ["/sugang", "/api"]),
    key: "platform:services[1].paths[1]",
    expect: ['"/api" is not under the context path "/sugang", so the container would answer 404 for it', "Fix: route only paths under /sugang"],
  },
  {
    name: "the removed publicHealthPath",
    stack: "prod",
    mutate: (c) => (service(c, 1)["publicHealthPath"] = "/sugang/actuator/health"),
    key: "platform:services[1].publicHealthPath",
    expect: ["is no longer read: the gates request healthPath itself through the ALB", "Fix: remove it and set services[1].healthPath"],
  },
  {
    name: "a context path ending in a slash",
    stack: "prod",
    mutate: (c) => (service(c, 1)["contextPath"] = "/sugang/"),
    key: "platform:services[1].contextPath",
    expect: ['must start with "/", not end with "/"'],
  },
  {
    name: "a node group mixing x86 and Graviton instance types",
    stack: "prod",
    mutate: (c) => (nodeGroup(c, 0)["instanceTypes"] = ["t3.large", "m6g.large"]),
    key: "platform:cluster.nodeGroups[0].instanceTypes",
    expect: ["mixes instance types that need different AMIs", "t3.large: AL2023_x86_64_STANDARD, m6g.large: AL2023_ARM_64_STANDARD", "Fix: keep one architecture"],
  },
  {
    name: "active color parked",
    stack: "staging",
    mutate: (c) => (obj(service(c, 0)["blue"])["parked"] = true),
    key: "platform:services[0].blue.parked",
    expect: ['is true but blue is the active color of service "student": it would serve traffic with no pods', "(value: true)", "Fix: remove services[0].blue.parked"],
  },
  {
    name: "canary steps that do not strictly increase",
    stack: "prod",
    mutate: (c) => (service(c, 0)["rollout"] = { strategy: "canary", steps: [5, 50, 25] }),
    key: "platform:services[0].rollout.steps",
    expect: ["step 3 (25) is not above step 2 (50): steps must strictly increase", "(value: [5,50,25])", "Fix: list whole percentages to the new color in increasing order"],
  },
  {
    name: "a canary step of 100 (the switch itself)",
    stack: "prod",
    mutate: (c) => (service(c, 0)["rollout"] = { strategy: "canary", steps: [50, 100] }),
    key: "platform:services[0].rollout.steps",
    expect: ["step 2 is 100: each step is a whole percent from 1 to 99 (the final 100 is the switch itself)"],
  },
  {
    name: "a canary without steps",
    stack: "staging",
    mutate: (c) => (service(c, 1)["rollout"] = { strategy: "canary", steps: [] }),
    key: "platform:services[1].rollout.steps",
    expect: ["has no steps"],
  },
  {
    name: "a canary window that is not whole minutes",
    stack: "prod",
    mutate: (c) => (service(c, 0)["rollout"] = { strategy: "canary", stepSeconds: 90 }),
    key: "platform:services[0].rollout.stepSeconds",
    expect: ["90 is not a whole number of minutes from 60 to 3600 seconds", "(value: 90)", "Fix: use a multiple of 60"],
  },
  {
    name: "a 5xx ratio threshold above 1",
    stack: "prod",
    mutate: (c) => (service(c, 0)["rollout"] = { strategy: "canary", analysis: { max5xxRatio: 5 } }),
    key: "platform:services[0].rollout.analysis.max5xxRatio",
    expect: ["(value: 5)", "Fix: use a value of at most 1"],
  },
  {
    name: "a relative p99 bound below 1 (the canary would have to be faster than stable)",
    stack: "prod",
    mutate: (c) => (service(c, 0)["rollout"] = { strategy: "canary", analysis: { maxP99Ratio: 0.8 } }),
    key: "platform:services[0].rollout.analysis.maxP99Ratio",
    expect: ["(value: 0.8)", "Fix: use a value of at least 1"],
  },
  {
    name: "an unknown rollout strategy",
    stack: "prod",
    mutate: (c) => (service(c, 0)["rollout"] = { strategy: "linear" }),
    key: "platform:services[0].rollout.strategy",
    expect: ['(value: "linear")'],
  },
  {
    name: "a misspelt rollout key (the suggestion looks inside the strategy's options)",
    stack: "prod",
    mutate: (c) => (service(c, 0)["rollout"] = { strategy: "canary", step: [5] }),
    key: "platform:services[0].rollout.step",
    expect: ["unknown config key", 'did you mean "platform:services[0].rollout.steps"?'],
  },
  {
    name: "a misspelt analysis key",
    stack: "prod",
    mutate: (c) => (service(c, 0)["rollout"] = { strategy: "canary", analysis: { minRequest: 10 } }),
    key: "platform:services[0].rollout.analysis.minRequest",
    expect: ["unknown config key", 'did you mean "platform:services[0].rollout.analysis.minRequests"?'],
  },
  {
    name: "a canary on the test host (one color per service)",
    stack: "test",
    mutate: (c) => (service(c, 0)["rollout"] = { strategy: "canary" }),
    key: "platform:services[0].rollout.strategy",
    expect: ["this stack runs one color per service (no cluster)", "Fix: use strategy blueGreen"],
  },
  {
    name: "a canary weight of 100",
    stack: "prod",
    mutate: (c) => (service(c, 0)["canaryWeight"] = 100),
    key: "platform:services[0].canaryWeight",
    expect: ["100 is not a whole percent from 1 to 99", "Fix: remove canaryWeight"],
  },
  {
    name: "a canary weight to an idle color without an image",
    stack: "prod",
    mutate: (c) => {
      service(c, 0)["canaryWeight"] = 10;
      service(c, 0)["green"] = {};
    },
    key: "platform:services[0].canaryWeight",
    expect: ['sends 10% of service "student" to green, which has no image', "Fix: remove canaryWeight, or set services[0].green.image"],
  },
  {
    name: "a canary weight to a parked idle color",
    stack: "staging",
    mutate: (c) => {
      service(c, 1)["canaryWeight"] = 25;
      obj(service(c, 1)["blue"])["parked"] = true;
    },
    key: "platform:services[1].canaryWeight",
    expect: ['sends 25% of service "subject" to blue, which is parked (no pods)'],
  },
  {
    name: "image reference without tag or digest",
    stack: "prod",
    mutate: (c) => (obj(service(c, 0)["blue"])["image"] = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/student"),
    key: "platform:services[0].blue.image",
    expect: ["is not an image reference pinned by tag or digest", "Fix: use <registry>/<repo>:<tag> or <registry>/<repo>@sha256:"],
  },
  {
    name: "image digest that is not sha256 hex",
    stack: "prod",
    mutate: (c) => (obj(service(c, 0)["green"])["image"] = "student@sha256:xyz"),
    key: "platform:services[0].green.image",
    expect: ['"student@sha256:xyz" is not an image reference'],
  },
  {
    name: "the same ingress path on two services",
    stack: "prod",
    mutate: (c) => (service(c, 1)["paths"] = ["/sugang", "/student/*"]),
    key: "platform:services[1].paths[1]",
    expect: ['"/student/*" is already routed to service "student"', "Fix: route each path prefix to exactly one service"],
  },
  {
    name: "port above 65535",
    stack: "prod",
    mutate: (c) => (service(c, 0)["port"] = 70000),
    key: "platform:services[0].port",
    expect: ['70000 is outside 1-65535 for service "student"', "(value: 70000)", "Fix: use the container's listening port"],
  },
  {
    name: "port 0",
    stack: "test",
    mutate: (c) => (service(c, 1)["port"] = 0),
    key: "platform:services[1].port",
    expect: ["0 is outside 1-65535", "(value: 0)"],
  },
  {
    name: "malformed domain",
    stack: "prod",
    mutate: (c) => (c["platform:domain"] = "https://karina-univ.com/"),
    key: "platform:domain",
    expect: ['"https://karina-univ.com/" is not a valid DNS domain', "Fix: use a lower-case fully qualified name"],
  },
  {
    name: "the deploying role listed again as a cluster admin (EKS already made it admin: 409 on CreateAccessEntry)",
    stack: "prod",
    mutate: (c) =>
      Object.assign(obj(c["platform:cluster"]), {
        deployerRoleArn: "arn:aws:iam::123456789012:role/ci/platform-deploy",
        adminRoleArns: ["arn:aws:iam::123456789012:role/platform-admin", "arn:aws:iam::123456789012:role/platform-deploy"],
      }),
    key: "platform:cluster.adminRoleArns[1]",
    expect: [
      "is the role that deploys this stack (cluster.deployerRoleArn)",
      "EKS grants the cluster creator cluster-admin itself",
      "409",
      "Fix: remove it from cluster.adminRoleArns",
    ],
  },
  {
    name: "one admin role listed twice under two paths (the access entries are keyed by role name)",
    stack: "prod",
    mutate: (c) =>
      Object.assign(obj(c["platform:cluster"]), {
        adminRoleArns: ["arn:aws:iam::123456789012:role/platform-admin", "arn:aws:iam::123456789012:role/team/platform-admin"],
      }),
    key: "platform:cluster.adminRoleArns[1]",
    expect: ['names the role "platform-admin" again (also cluster.adminRoleArns[0])', "Fix: list each role once"],
  },
  {
    name: "an unknown EKS support type",
    stack: "prod",
    mutate: (c) => (obj(c["platform:cluster"])["supportType"] = "LONG"),
    key: "platform:cluster.supportType",
    expect: ['(value: "LONG")', 'Fix: use one of "STANDARD", "EXTENDED"'],
  },
  {
    name: "EKS public endpoint open to the world",
    stack: "prod",
    mutate: (c) => (obj(c["platform:cluster"])["publicAccessCidrs"] = ["0.0.0.0/0"]),
    key: "platform:cluster.publicAccessCidrs",
    expect: ["opens the Kubernetes API endpoint to the whole internet: the union covers all of 0.0.0.0/0", "Fix: list your office/VPN/CI egress ranges"],
  },
  {
    name: "EKS public endpoint open to the world in two halves",
    stack: "staging",
    mutate: (c) => (obj(c["platform:cluster"])["publicAccessCidrs"] = ["0.0.0.0/1", "128.0.0.0/1"]),
    key: "platform:cluster.publicAccessCidrs",
    expect: ["opens the Kubernetes API endpoint to the whole internet", "judged by the addresses it covers together"],
  },
  {
    name: "EKS public endpoint open to half the internet",
    stack: "prod",
    mutate: (c) => (obj(c["platform:cluster"])["publicAccessCidrs"] = ["0.0.0.0/1"]),
    key: "platform:cluster.publicAccessCidrs",
    expect: ["opens the Kubernetes API endpoint to half of the internet or more: the union covers 50% of 0.0.0.0/0"],
  },
  {
    name: "Prometheus open to the world in eight /3 blocks",
    stack: "prod",
    mutate: (c) => {
      const o = (c["platform:observability"] ??= {}) as Obj;
      o["monitoring"] = { allowedCidrs: [0, 32, 64, 96, 128, 160, 192, 224].map((x) => `${x}.0.0.0/3`) };
    },
    key: "platform:observability.monitoring.allowedCidrs",
    expect: ["opens Prometheus, which has no login of its own, to the whole internet"],
  },
  {
    name: "ArgoCD exposed to the world in two halves",
    stack: "prod",
    mutate: (c) => Object.assign(obj(c["platform:argocd"]), { exposed: true, allowedCidrs: ["0.0.0.0/1", "128.0.0.0/1"] }),
    key: "platform:argocd.allowedCidrs",
    expect: ["opens ArgoCD (cluster-admin through its UI) to the whole internet"],
  },
  {
    name: "OpenSearch Dashboards for the upper half of the internet",
    stack: "staging",
    mutate: (c) => {
      const o = (c["platform:observability"] ??= {}) as Obj;
      o["logging"] = { ...obj(o["logging"]), dashboardsCidrs: ["128.0.0.0/1"] };
    },
    key: "platform:observability.logging.dashboardsCidrs",
    expect: ["opens OpenSearch Dashboards, which has no login of its own, to half of the internet or more"],
  },
  {
    name: "an allow-list entry written with a /00 prefix",
    stack: "prod",
    mutate: (c) => (obj(c["platform:cluster"])["publicAccessCidrs"] = ["0.0.0.0/00"]),
    key: "platform:cluster.publicAccessCidrs[0]",
    expect: ['"0.0.0.0/00" writes the prefix length with a leading zero ("/00"); write /0'],
  },
  {
    name: "an allow-list entry with a leading-zero octet",
    stack: "prod",
    mutate: (c) => (obj(c["platform:cluster"])["publicAccessCidrs"] = ["203.0.113.010/32"]),
    key: "platform:cluster.publicAccessCidrs[0]",
    expect: ['writes the octet "010" with a leading zero'],
  },
  {
    name: "an allow-list entry with host bits set",
    stack: "prod",
    mutate: (c) => (obj(c["platform:cluster"])["publicAccessCidrs"] = ["203.0.113.7/24"]),
    key: "platform:cluster.publicAccessCidrs[0]",
    expect: ["has host bits set; the network address is 203.0.113.0/24"],
  },
  {
    name: "an allow-list entry listed twice",
    stack: "prod",
    mutate: (c) => (obj(c["platform:cluster"])["publicAccessCidrs"] = ["203.0.113.0/24", "203.0.113.0/24"]),
    key: "platform:cluster.publicAccessCidrs[1]",
    expect: ["203.0.113.0/24 is listed twice", "Fix: remove the redundant entry"],
  },
  {
    name: "wrong type for a number",
    stack: "prod",
    mutate: (c) => (obj(c["platform:database"])["backupRetentionDays"] = "two weeks"),
    key: "platform:database.backupRetentionDays",
    expect: ['(value: "two weeks")', "Fix: use a number"],
  },
  {
    name: "log retention of zero days",
    stack: "staging",
    mutate: (c) => (logging(c)["retentionDays"] = 0),
    key: "platform:observability.logging.retentionDays",
    expect: ["0 is not a whole number of days from 1 to 365", "(value: 0)", "Fix: set it to the days each daily log index is kept, from 1 to 365"],
  },
  {
    name: "log retention of a fraction of a day",
    stack: "prod",
    mutate: (c) => (logging(c)["retentionDays"] = 0.5),
    key: "platform:observability.logging.retentionDays",
    expect: ["0.5 is not a whole number of days", "(value: 0.5)", "Fix: set it to the days"],
  },
  {
    name: "log retention beyond a year",
    stack: "prod",
    mutate: (c) => (logging(c)["retentionDays"] = 400),
    key: "platform:observability.logging.retentionDays",
    expect: ["400 is not a whole number of days from 1 to 365", "(value: 400)", "snapshot the indices to S3"],
  },
  {
    name: "log retention given as text",
    stack: "prod",
    mutate: (c) => (logging(c)["retentionDays"] = "30d"),
    key: "platform:observability.logging.retentionDays",
    expect: ['(value: "30d")', "Fix: use a number"],
  },
  {
    name: "an even number of dedicated OpenSearch masters",
    stack: "prod",
    mutate: (c) => (logging(c)["dedicatedMasters"] = { instanceType: "m6g.large.search", count: 4 }),
    key: "platform:observability.logging.dedicatedMasters.count",
    expect: ["must be 3 or 5: dedicated masters form an odd quorum, and AWS recommends 3 for production domains", "(value: 4)", "Fix: use one of 3, 5"],
  },
  {
    name: "a single dedicated OpenSearch master",
    stack: "staging",
    mutate: (c) => (logging(c)["dedicatedMasters"] = { instanceType: "t3.small.search", count: 1 }),
    key: "platform:observability.logging.dedicatedMasters.count",
    expect: ["must be 3 or 5", "(value: 1)", "Fix: use one of 3, 5"],
  },
  {
    name: "dedicated masters of a non-OpenSearch instance type",
    stack: "prod",
    mutate: (c) => (logging(c)["dedicatedMasters"] = { instanceType: "m6g.large", count: 3 }),
    key: "platform:observability.logging.dedicatedMasters.instanceType",
    expect: ['(value: "m6g.large")', "Fix: use a value matching"],
  },
  {
    // In staging: prod's default would fill in the count (defaults merge key by key).
    name: "dedicated masters without a count",
    stack: "staging",
    mutate: (c) => (logging(c)["dedicatedMasters"] = { instanceType: "m6g.large.search" }),
    key: "platform:observability.logging.dedicatedMasters.count",
    expect: ["(value: unset)", "Fix: use one of 3, 5"],
  },
  {
    name: "availability zone of another region",
    stack: "prod",
    mutate: (c) => (c["platform:availabilityZones"] = ["ap-northeast-2a", "us-east-1c"]),
    key: "platform:availabilityZones[1]",
    expect: ['"us-east-1c" is not a zone of ap-northeast-2', "Fix: list zones of ap-northeast-2 that exist"],
  },
  // Config AWS or Kubernetes would reject in the middle of an `up`.
  {
    name: "an availability zone the region does not have",
    stack: "prod",
    mutate: (c) => (c["platform:availabilityZones"] = ["ap-northeast-2a", "ap-northeast-2z"]),
    key: "platform:availabilityZones[1]",
    expect: ["ap-northeast-2z does not exist: ap-northeast-2 has zones ap-northeast-2a, ap-northeast-2b, ap-northeast-2c, ap-northeast-2d"],
  },
  {
    name: "a region outside the maintained zone list",
    stack: "test",
    mutate: (c) => {
      c["aws:region"] = "me-central-1";
      c["platform:availabilityZones"] = ["me-central-1a", "me-central-1b"];
    },
    key: "platform:availabilityZones[0]",
    expect: ["region me-central-1 is not in the maintained zone list (reviewed 2026-11-30)", "aws ec2 describe-availability-zones --region me-central-1"],
  },
  {
    name: "a wildcard inside a path (the ALB would match it as a pattern)",
    stack: "prod",
    mutate: (c) => (service(c, 1)["paths"] = ["/sugang/*/admin"]),
    key: "platform:services[1].paths[0]",
    expect: ['"/sugang/*/admin" contains a wildcard (* or ?)', 'Fix: route a plain prefix, e.g. "/student"'],
  },
  {
    name: "a question mark in a path",
    stack: "staging",
    mutate: (c) => (service(c, 1)["paths"] = ["/sugang?"]),
    key: "platform:services[1].paths[0]",
    expect: ["contains a wildcard (* or ?)"],
  },
  {
    name: "a space in a path",
    stack: "test",
    mutate: (c) => (service(c, 0)["paths"] = ["/", "/stu dent"]),
    key: "platform:services[0].paths[1]",
    expect: ['"/stu dent" contains whitespace'],
  },
  {
    name: "a character the ALB path condition refuses",
    stack: "prod",
    mutate: (c) => (service(c, 0)["paths"] = ["/", "/student#x"]),
    key: "platform:services[0].paths[1]",
    expect: ['contains "#", which an ALB path condition does not accept'],
  },
  {
    name: "a path Kubernetes refuses (//)",
    stack: "prod",
    mutate: (c) => (service(c, 0)["paths"] = ["/", "/student//admin"]),
    key: "platform:services[0].paths[1]",
    expect: ['contains //, which Kubernetes refuses in an Ingress path'],
  },
  {
    name: "a service name whose IRSA role name exceeds IAM's 64 characters",
    stack: "prod",
    mutate: (c) => {
      service(c, 0)["name"] = "s".repeat(47);
      c["platform:releases"] = {};
    },
    key: "platform:services[0].name",
    expect: ["is 47 characters; its IRSA role is named", "beyond IAM's 64", "Fix: use at most 46 characters"],
  },
  {
    name: "a service name whose test-host target group name exceeds ELBv2's 32 characters",
    stack: "test",
    mutate: (c) => (service(c, 0)["name"] = "studentservice1"),
    key: "platform:services[0].name",
    expect: ["its target group is named \"test-host-studentservice1-<7 hex>\", beyond ELBv2's 32", "Fix: use at most 14 characters"],
  },
  {
    name: "CPU requested above its limit",
    stack: "prod",
    mutate: (c) => (service(c, 0)["resources"] = { cpu: "2", memory: "512Mi", cpuLimit: "1500m", memoryLimit: "1Gi" }),
    key: "platform:services[0].resources.cpu",
    expect: ["2 requested is above the limit 1500m", "the API server refuses the pod template"],
  },
  {
    name: "memory requested above its limit",
    stack: "staging",
    mutate: (c) => (service(c, 0)["resources"] = { cpu: "250m", memory: "2Gi", cpuLimit: "1", memoryLimit: "1024Mi" }),
    key: "platform:services[0].resources.memory",
    expect: ["2Gi requested is above the limit 1024Mi"],
  },
  {
    name: "a prod node group that can schedule nothing (min and desired 0)",
    stack: "prod",
    mutate: (c) => Object.assign(nodeGroup(c, 0), { minSize: 0, desiredSize: 0 }),
    key: "platform:cluster.nodeGroups[0].minSize",
    expect: ["is 0 in node group \"general\", which the platform's add-ons and the services run on", "Fix: set minSize to at least 1"],
  },
  {
    name: "a tag key AWS reserves",
    stack: "prod",
    mutate: (c) => (c["platform:tags"] = { "aws:cost": "x" }),
    key: "platform:tags.aws:cost",
    expect: ['starts with "aws:", a prefix AWS reserves'],
  },
  {
    name: "a tag the platform sets itself",
    stack: "staging",
    mutate: (c) => (c["platform:tags"] = { Environment: "prod" }),
    key: "platform:tags.Environment",
    expect: ['"Environment" is set by the platform on every resource (it would silently replace "prod")'],
  },
  {
    name: "an EKS version EKS does not run",
    stack: "prod",
    mutate: (c) => (obj(c["platform:cluster"])["version"] = "1.29"),
    key: "platform:cluster.version",
    expect: ['"1.29" is not a Kubernetes version EKS supports'],
  },
  {
    name: "a node instance type outside the maintained list",
    stack: "prod",
    mutate: (c) => (nodeGroup(c, 0)["instanceTypes"] = ["t9.huge"]),
    key: "platform:cluster.nodeGroups[0].instanceTypes[0]",
    expect: ['"t9.huge" is not an EC2 instance type of a current family', "list reviewed 2026-11-30"],
  },
  {
    name: "an instance size the family does not have",
    stack: "test",
    mutate: (c) => (obj(c["platform:testHost"])["instanceType"] = "t3.4xlarge"),
    key: "platform:testHost.instanceType",
    expect: ['"t3.4xlarge": t3 has no size "4xlarge"'],
  },
  {
    name: "a database class not offered for MariaDB",
    stack: "prod",
    mutate: (c) => (obj(c["platform:database"])["instanceClass"] = "db.t2.micro"),
    key: "platform:database.instanceClass",
    expect: ['"db.t2.micro" is not an RDS instance class offered for MariaDB'],
  },
  {
    name: "a MariaDB version RDS no longer supports",
    stack: "staging",
    mutate: (c) => (obj(c["platform:database"])["engineVersion"] = "10.4"),
    key: "platform:database.engineVersion",
    expect: ["MariaDB 10.4 is not a major version RDS supports (10.11, 11.4, 11.8"],
  },
  {
    name: "an OpenSearch version outside the list",
    stack: "prod",
    mutate: (c) => (logging(c)["engineVersion"] = "OpenSearch_1.3"),
    key: "platform:observability.logging.engineVersion",
    expect: ['"OpenSearch_1.3" is not an OpenSearch Service version of the list'],
  },
  {
    name: "an EKS stack without services (no Ingress, so no ALB)",
    stack: "prod",
    mutate: (c) => {
      c["platform:services"] = [];
      c["platform:releases"] = {};
    },
    key: "platform:services",
    expect: ["is empty: the stack's ALB is built from the services' Ingresses"],
  },
  {
    name: "a test host without services",
    stack: "test",
    mutate: (c) => (c["platform:services"] = []),
    key: "platform:services",
    expect: ["the test host runs the services' containers and needs at least one"],
  },
  {
    name: "a domain too long for the certificate's first name",
    stack: "staging",
    mutate: (c) => (c["platform:domain"] = `${"a".repeat(60)}.com`),
    key: "platform:domain",
    expect: ["ACM takes at most 64 for a certificate's first name"],
  },
];

describe("stack config validation", () => {
  for (const stack of STACKS) {
    it(`accepts the shipped ${stack} stack file`, () => {
      const cfg = parse(stack);
      assert.equal(cfg.environment, stack);
      assert.equal(cfg.region, "ap-northeast-2");
      assert.deepEqual(cfg.availabilityZones, ["ap-northeast-2a", "ap-northeast-2c"]);
    });
  }

  for (const c of cases) {
    it(`rejects ${c.name}`, () => {
      const err = problemsOf(() => parse(c.stack, c.mutate));
      // A key may carry several problems (e.g. a list over its budget and open to the world): one line has them all.
      const lines = err.message.split("\n").filter((l) => l.startsWith(`  - ${c.key}: `));
      assert.ok(lines.length > 0, `no problem reported for ${c.key}; message was:\n${err.message}`);
      const line = lines.find((l) => c.expect.every((fragment) => l.includes(fragment)));
      assert.ok(line !== undefined, `expected ${JSON.stringify(c.expect)} in one of:\n${lines.join("\n")}`);
      assert.match(err.message, new RegExp(`^Invalid config for stack "${c.stack}"`));
    });
  }

  it("derives the environment from the stack name when platform:environment is absent", () => {
    for (const stack of STACKS) {
      const cfg = parse(stack, (c) => delete c["platform:environment"]);
      assert.equal(cfg.environment, stack);
    }
    // A scratch copy named after an environment gets that environment; any other name is prod, the strictest.
    const raw = rawPlatform(readStackConfig("test"));
    delete raw["environment"];
    assert.equal(parsePlatformConfig("test-alice", raw, "ap-northeast-2").environment, "test");
    const prodRaw = rawPlatform(readStackConfig("prod"));
    delete prodRaw["environment"];
    assert.equal(parsePlatformConfig("alice", prodRaw, "ap-northeast-2").environment, "prod");
    assert.throws(() => parsePlatformConfig("alice", rawPlatform(readStackConfig("staging")), "ap-northeast-2"), /says "staging", but the stack "alice" is prod/);
  });

  it("the offline plan and the real pack pick rules by the same value: the stack name", () => {
    for (const [stack, env] of [["prod", "prod"], ["staging", "staging"], ["test", "test"], ["staging-2", "staging"], ["production", "prod"], ["", "prod"]] as const) {
      assert.equal(environmentOfStack(stack), env, stack);
      assert.equal(environmentOf(`urn:pulumi:${stack}::platform::aws:s3/bucket:Bucket::b`), env, `URN of ${stack}`);
    }
    assert.equal(environmentOf(undefined), "prod");
  });

  it("reports every problem at once, not only the first", () => {
    const err = problemsOf(() =>
      parse("prod", (c) => {
        service(c, 0)["port"] = 0;
        service(c, 1)["active"] = "purple";
        c["platform:domain"] = "not a domain";
      }),
    );
    assert.deepEqual(
      err.problems.map((p) => p.key).sort(),
      ["platform:domain", "platform:services[0].port", "platform:services[1].active"],
    );
  });

  it("fails before any resource is declared", async () => {
    const { error, evaluation } = await settleStack("prod", (c) => (obj(c["platform:database"])["publiclyAccessible"] = true));
    // The program's modules are loaded fresh per evaluation, so compare the class by name.
    assert.ok(error instanceof Error && error.name === "ConfigError", `expected a ConfigError, got ${String(error)}`);
    assert.match(error.message, /platform:database\.publiclyAccessible/);
    assert.deepEqual(
      evaluation.resources.map((r) => r.type),
      ["pulumi:pulumi:Stack"],
      "only the stack itself may exist when the config is invalid",
    );
  });

  it("applies the environment defaults under the stack file", () => {
    const prod = parse("prod", (c) => {
      delete c["platform:bastion"];
    });
    assert.equal(prod.bastion.enabled, true, "prod ships a bastion even when the stack file does not mention it");
    const test = parse("test");
    assert.equal(test.cluster.enabled, false);
    assert.equal(test.testHost.enabled, true);
    assert.equal(test.network.natGateways, "none");
  });

  it("ships log retention and dedicated OpenSearch masters per environment", () => {
    const staging = parse("staging").observability.logging;
    const prod = parse("prod").observability.logging;
    assert.equal(staging.retentionDays, 7);
    assert.equal(staging.dedicatedMasters, undefined);
    assert.equal(prod.retentionDays, 30);
    assert.deepEqual(prod.dedicatedMasters, { instanceType: "m6g.large.search", count: 3 });
    assert.equal(parse("test").observability.logging.dedicatedMasters, undefined);
  });

  it("lets a stack override the retention, add masters, or drop prod's masters with null", () => {
    assert.equal(parse("prod", (c) => (logging(c)["retentionDays"] = 90)).observability.logging.retentionDays, 90);
    assert.deepEqual(
      parse("staging", (c) => (logging(c)["dedicatedMasters"] = { instanceType: "t3.small.search", count: 5 })).observability.logging.dedicatedMasters,
      { instanceType: "t3.small.search", count: 5 },
    );
    assert.equal(parse("prod", (c) => (logging(c)["dedicatedMasters"] = null)).observability.logging.dedicatedMasters, null);
  });

  it("normalises optional service fields", () => {
    const cfg = parse("test");
    const student = cfg.services.find((s) => s.name === "student");
    assert.ok(student);
    assert.equal(student.replicas, 2);
    assert.deepEqual(student.env, {});
    assert.equal(student.imageBucketAccess, true);
    assert.deepEqual(student.rollout, { strategy: "blueGreen" }, "blue/green unless a service asks for a canary");
  });

  it("fills a canary's unset fields from the documented defaults and keeps the set ones", () => {
    const cfg = parse("prod", (c) => (service(c, 0)["rollout"] = { strategy: "canary", steps: [5, 25, 50], analysis: { maxP99Ms: 800 } }));
    assert.deepEqual(cfg.services[0]?.rollout, {
      strategy: "canary",
      steps: [5, 25, 50],
      stepSeconds: 300,
      analysis: { max5xxRatio: 0.01, maxP99Ms: 800, maxP99Ratio: 1.5, minRequests: 100, maxExtensions: 2 },
    });
    assert.equal(parse("prod", (c) => (service(c, 0)["canaryWeight"] = 25)).services[0]?.canaryWeight, 25);
  });
});

describe("production invariants in config", () => {
  const cases: Array<{ name: string; mutate: (c: StackConfig) => void; key: string; rule: string }> = [
    { name: "one NAT gateway", mutate: (c) => (obj(c["platform:network"])["natGateways"] = "single"), key: "platform:network.natGateways", rule: "vpc-nat-per-az" },
    { name: "ALB deletion protection off", mutate: (c) => (c["platform:edge"] = { deletionProtection: false }), key: "platform:edge.deletionProtection", rule: "alb-deletion-protection" },
    { name: "database deletion protection off", mutate: (c) => (obj(c["platform:database"])["deletionProtection"] = false), key: "platform:database.deletionProtection", rule: "rds-deletion-protection" },
    { name: "single-AZ database", mutate: (c) => (obj(c["platform:database"])["multiAz"] = false), key: "platform:database.multiAz", rule: "rds-multi-az" },
    { name: "6 days of database backups", mutate: (c) => (obj(c["platform:database"])["backupRetentionDays"] = 6), key: "platform:database.backupRetentionDays", rule: "rds-backup-retention" },
    { name: "EFS backups off", mutate: (c) => (c["platform:observability"] = { efs: { backup: false } }), key: "platform:observability.efs.backup", rule: "efs-backup-required" },
    { name: "EFS backups kept 3 days", mutate: (c) => (c["platform:observability"] = { efs: { backupRetentionDays: 3 } }), key: "platform:observability.efs.backupRetentionDays", rule: "efs-backup-required" },
    { name: "images bucket forceDestroy", mutate: (c) => (obj(c["platform:imagesBucket"])["forceDestroy"] = true), key: "platform:imagesBucket.forceDestroy", rule: "s3-no-force-destroy" },
    { name: "images bucket unversioned", mutate: (c) => (obj(c["platform:imagesBucket"])["versioning"] = false), key: "platform:imagesBucket.versioning", rule: "s3-bucket-versioning" },
    { name: "30 days of CloudWatch logs", mutate: (c) => (c["platform:logRetentionDays"] = 30), key: "platform:logRetentionDays", rule: "log-retention-minimum" },
    { name: "a week of ALB access logs", mutate: (c) => (c["platform:edge"] = { accessLogExpirationDays: 7 }), key: "platform:edge.accessLogExpirationDays", rule: "log-retention-minimum" },
    { name: "a week of application logs", mutate: (c) => (logging(c)["retentionDays"] = 7), key: "platform:observability.logging.retentionDays", rule: "log-retention-minimum" },
    { name: "an unbounded WAF rate limit", mutate: (c) => (obj(c["platform:waf"])["rateLimitPer5Min"] = 100_000_000), key: "platform:waf.rateLimitPer5Min", rule: "waf-rate-limit-bounded" },
    { name: "WAF off", mutate: (c) => (obj(c["platform:waf"])["enabled"] = false), key: "platform:waf.enabled", rule: "waf-alb-association" },
    { name: "one replica", mutate: (c) => (service(c, 0)["replicas"] = 1), key: "platform:services[0].replicas", rule: "k8s-min-replicas" },
    { name: "an HPA minimum of one", mutate: (c) => (service(c, 1)["autoscaling"] = { minReplicas: 1, maxReplicas: 6, targetCpuUtilization: 70 }), key: "platform:services[1].autoscaling.minReplicas", rule: "k8s-min-replicas" },
    { name: "monitoring off", mutate: (c) => (c["platform:observability"] = { monitoring: { enabled: false } }), key: "platform:observability.monitoring.enabled", rule: "observability-required" },
    { name: "logging off", mutate: (c) => (c["platform:observability"] = { logging: { enabled: false } }), key: "platform:observability.logging.enabled", rule: "observability-required" },
    { name: "a Docker Hub image", mutate: (c) => (obj(service(c, 0)["green"])["image"] = "library/nginx:1.27"), key: "platform:services[0].green.image", rule: "k8s-image-registry" },
    { name: "an image of another registry", mutate: (c) => (obj(service(c, 0)["blue"])["image"] = "ghcr.io/someone/student:1.4.0"), key: "platform:services[0].blue.image", rule: "k8s-image-registry" },
    { name: "an image of another account's ECR", mutate: (c) => (obj(service(c, 0)["blue"])["image"] = "999999999999.dkr.ecr.us-east-1.amazonaws.com/student:1.4.0"), key: "platform:services[0].blue.image", rule: "k8s-image-registry" },
  ];
  for (const c of cases) {
    it(`prod refuses ${c.name} (policy rule ${c.rule})`, () => {
      const err = problemsOf(() => parse("prod", c.mutate));
      const line = err.message.split("\n").find((l) => l.startsWith(`  - ${c.key}: `) && l.includes(`(policy rule ${c.rule})`));
      assert.ok(line !== undefined, err.message);
      assert.match(line, new RegExp(`Fix: .*, or document an exception for ${c.rule} in infra/policy/config/prod\\.json$`));
      // Staging keeps its own, smaller shape: the same settings are its to choose.
      if (c.rule !== "k8s-image-registry") {
        parse("staging", (s) => {
          c.mutate(s);
          s["platform:services"] = readStackConfig("staging")["platform:services"] as Json;
          s["platform:environment"] = "staging";
        });
      }
    });
  }

  it("a documented exception in the stack's policy config lifts the config check (the pack then judges the resource)", () => {
    const raw = rawPlatform(readStackConfig("prod"));
    raw["imagesBucket"] = { enabled: true, versioning: true, forceDestroy: true };
    assert.throws(() => parsePlatformConfig("prod", raw, "ap-northeast-2"), /forceDestroy: is true/);
    const exception = { resource: "aws:s3/bucket:Bucket::prod-images", reason: "a documented reason of at least twenty characters" };
    const lifted = policyView("prod", { all: "mandatory", "s3-no-force-destroy": { exceptions: [exception] } });
    assert.equal(parsePlatformConfig("prod", raw, "ap-northeast-2", { policy: lifted }).imagesBucket.forceDestroy, true);
    // An exception for another resource lifts nothing here.
    const elsewhere = policyView("prod", { all: "mandatory", "s3-no-force-destroy": { exceptions: [{ ...exception, resource: "prod-alb-logs" }] } });
    assert.throws(() => parsePlatformConfig("prod", raw, "ap-northeast-2", { policy: elsewhere }), /policy rule s3-no-force-destroy/);
    // Settings come from the policy config too.
    const looser = policyView("prod", { all: "mandatory", "log-retention-minimum": { minimumDays: 30 } });
    raw["imagesBucket"] = { enabled: true, versioning: true, forceDestroy: false };
    raw["logRetentionDays"] = 30;
    assert.equal(parsePlatformConfig("prod", raw, "ap-northeast-2", { policy: looser }).logRetentionDays, 30);
  });
});

describe("release records", () => {
  const digest = "sha256:" + "a".repeat(64);
  it("accepts a digest-pinned record of a declared service", () => {
    const cfg = parse("staging", (c) => {
      c["platform:releases"] = {
        student: { image: `123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/student@${digest}`, verifiedAt: "2026-11-20T10:00:00Z", source: "promote test->staging" },
      };
    });
    assert.equal(cfg.releases["student"]?.source, "promote test->staging");
  });
  it("rejects a record pinned by tag", () => {
    const err = problemsOf(() =>
      parse("staging", (c) => {
        c["platform:releases"] = { student: { image: "student:1.5.0", verifiedAt: "2026-11-20T10:00:00Z", source: "x" } };
      }),
    );
    assert.match(err.message, /platform:releases\.student\.image: must be pinned by digest/);
  });
  it("rejects a record of an unknown service", () => {
    const err = problemsOf(() =>
      parse("staging", (c) => {
        c["platform:releases"] = { teacher: { image: `teacher@${digest}`, verifiedAt: "2026-11-20T10:00:00Z", source: "x" } };
      }),
    );
    assert.match(err.message, /platform:releases\.teacher: records a release of "teacher", which is not in services/);
  });
});

describe("secret config keys", () => {
  const url = "https://discord.com/api/webhooks/123456789/s3cr3t-token";

  it("rejects a Discord webhook stored in plain text, without printing it", async () => {
    const { error, evaluation } = await settleStack("prod", (c) => (c["platform:discordWebhookUrl"] = url));
    assert.ok(error instanceof Error && error.name === "ConfigError", String(error));
    assert.match(error.message, /platform:discordWebhookUrl: is stored in plain text in the stack file \(value: "\[redacted\]"\)\. Fix: store it encrypted: pulumi config rm platform:discordWebhookUrl && pulumi config set --secret/);
    assert.ok(!error.message.includes("s3cr3t-token"), "the secret must never appear in the message");
    assert.deepEqual(evaluation.resources.map((r) => r.type), ["pulumi:pulumi:Stack"]);
  });

  it("accepts an encrypted webhook and hands it to Alertmanager only through a Kubernetes Secret", async () => {
    const { error, evaluation } = await settleStack("prod", (c) => (c["platform:discordWebhookUrl"] = { secure: "v1:AAAA" }));
    assert.equal(error, undefined);
    const secrets = evaluation.resources.filter((r) => r.type === "kubernetes:core/v1:Secret" && r.name.endsWith("alertmanager-discord"));
    assert.equal(secrets.length, 1, "the Discord receiver is configured");
    const inPlain = evaluation.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release" && JSON.stringify(r.inputs).includes("mock-secret-value"));
    assert.deepEqual(inPlain.map((r) => r.name), [], "the URL never reaches Helm values");
  });

  it("without a webhook, Alertmanager gets no Discord receiver and the stack still deploys", async () => {
    const ev = await settleStack("prod");
    assert.equal(ev.error, undefined);
    assert.equal(ev.evaluation.resources.filter((r) => r.name.endsWith("alertmanager-discord")).length, 0);
  });
});
