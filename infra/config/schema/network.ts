/** `platform:network`: the VPC block, its subnets and NAT, and the rules between them. */
import { z } from "zod";
import { contains, Cidr, findOverlaps, parseCidr } from "../../lib/cidr";
import { cidrString, Ctx, fail } from "./common";

/** Interface endpoints the network can declare (service name suffixes of `com.amazonaws.<region>.`). */
export const INTERFACE_ENDPOINTS = ["ecr.api", "ecr.dkr", "sts", "logs"] as const;

export const networkSchema = z.strictObject({
  cidr: cidrString,
  /** Prefix length of every subnet cut from `cidr` when explicit subnet lists are not given. */
  subnetPrefix: z.number().int().min(16).max(28),
  privateSubnets: z.boolean(),
  natGateways: z.enum(["none", "single", "perAz"]),
  publicSubnetCidrs: z.array(cidrString).optional(),
  privateSubnetCidrs: z.array(cidrString).optional(),
  /**
   * AWS service endpoints inside the VPC for the private subnets, so traffic to them does not
   * cross (and pay) the NAT. `s3Gateway`: the S3 gateway endpoint, no hourly charge; ECR serves
   * image layers from S3, so it carries the bulk of every image pull. `interface`: interface
   * endpoints (private DNS, one network interface per AZ, billed per hour per AZ and per GB):
   * `ecr.api` + `ecr.dkr` (registry API and manifests; pulls then survive the loss of a NAT),
   * `sts` (IRSA token exchanges), `logs` (CloudWatch Logs).
   */
  vpcEndpoints: z.strictObject({
    s3Gateway: z.boolean(),
    interface: z.array(z.enum(INTERFACE_ENDPOINTS)),
  }),
});
export type NetworkConfig = z.infer<typeof networkSchema>;

/** What the network rules read. */
export interface NetworkCheckInput {
  readonly network: NetworkConfig;
  readonly availabilityZones: readonly string[];
  readonly cluster: { readonly enabled: boolean };
  readonly bastion: { readonly enabled: boolean };
}

export function checkNetwork(cfg: NetworkCheckInput, ctx: Ctx): void {
  const n = cfg.network;
  const vpc = parseCidr(n.cidr);
  if (typeof vpc === "string") {
    return; // already reported by the field's own check
  }
  if (vpc.prefix < 16 || vpc.prefix > 24) {
    fail(ctx, ["network", "cidr"], `${n.cidr} has a /${vpc.prefix} prefix; AWS VPCs are /16 to /24`, "use a /16 to /24 block, e.g. 10.20.0.0/16");
  }
  if (!n.privateSubnets && n.natGateways !== "none") {
    fail(
      ctx,
      ["network", "natGateways"],
      `is "${n.natGateways}" but network.privateSubnets is false; NAT gateways only serve private subnets`,
      'set natGateways to "none" or turn privateSubnets on',
    );
  }
  if (n.privateSubnets && n.natGateways === "none" && (cfg.cluster.enabled || cfg.bastion.enabled)) {
    fail(
      ctx,
      ["network", "natGateways"],
      'is "none" but nodes or the bastion in private subnets need egress (ECR pulls, SSM)',
      'set natGateways to "single" or "perAz"',
    );
  }
  checkVpcEndpoints(n, ctx);
  checkSubnetLists(n, vpc, cfg.availabilityZones.length, ctx);
  if (n.publicSubnetCidrs === undefined || (n.privateSubnets && n.privateSubnetCidrs === undefined)) {
    const half = 2 ** (n.subnetPrefix - vpc.prefix - 1);
    if (n.subnetPrefix <= vpc.prefix || cfg.availabilityZones.length > half) {
      fail(
        ctx,
        ["network", "subnetPrefix"],
        `/${n.subnetPrefix} subnets do not fit ${cfg.availabilityZones.length} AZs of public and private subnets in ${n.cidr}`,
        `use a longer prefix (e.g. /${Math.min(28, vpc.prefix + 4)}) or a larger network.cidr`,
      );
    }
  }
}

/** Endpoints serve private subnets; ECR endpoints only help together, and with the S3 gateway. */
function checkVpcEndpoints(n: NetworkConfig, ctx: Ctx): void {
  const e = n.vpcEndpoints;
  if (!n.privateSubnets) {
    if (e.s3Gateway || e.interface.length > 0) {
      fail(
        ctx,
        ["network", "vpcEndpoints"],
        "declares endpoints but network.privateSubnets is false; public subnets reach AWS services through the internet gateway, which charges no processing",
        "leave network.vpcEndpoints off ({ s3Gateway: false, interface: [] }) in a stack without private subnets",
      );
    }
    return;
  }
  const ecr = e.interface.filter((s) => s === "ecr.api" || s === "ecr.dkr");
  if (ecr.length === 1) {
    fail(
      ctx,
      ["network", "vpcEndpoints", "interface"],
      `lists ${ecr[0]} without ${ecr[0] === "ecr.api" ? "ecr.dkr" : "ecr.api"}; a pull calls both (authorization token and manifests), so one alone still needs the NAT`,
      "list both ecr.api and ecr.dkr, or neither",
    );
  }
  if (ecr.length > 0 && !e.s3Gateway) {
    fail(
      ctx,
      ["network", "vpcEndpoints", "s3Gateway"],
      "is false while ECR interface endpoints are listed; ECR serves image layers from S3, so the bytes of every pull would still cross the NAT",
      "set network.vpcEndpoints.s3Gateway to true (a gateway endpoint has no hourly charge)",
    );
  }
}

/** Explicit subnet lists: one block per AZ, inside the VPC, none overlapping another. */
function checkSubnetLists(n: NetworkConfig, vpc: Cidr, azCount: number, ctx: Ctx): void {
  const lists: Array<["publicSubnetCidrs" | "privateSubnetCidrs", string[] | undefined]> = [
    ["publicSubnetCidrs", n.publicSubnetCidrs],
    ["privateSubnetCidrs", n.privateSubnetCidrs],
  ];
  const named: Array<readonly [string, string]> = [];
  for (const [key, list] of lists) {
    if (list === undefined) {
      continue;
    }
    if (key === "privateSubnetCidrs" && !n.privateSubnets) {
      fail(ctx, ["network", key], "is set but network.privateSubnets is false", "remove it or turn privateSubnets on");
    }
    if (list.length !== azCount) {
      fail(
        ctx,
        ["network", key],
        `lists ${list.length} block(s) for ${azCount} availability zone(s)`,
        "give exactly one block per entry of availabilityZones, in the same order",
      );
    }
    list.forEach((text, i) => {
      const c = parseCidr(text);
      if (typeof c !== "string" && !contains(vpc, c)) {
        fail(ctx, ["network", key, i], `${text} lies outside the VPC block ${n.cidr}`, `pick a block inside ${n.cidr}`);
      }
      named.push([`network.${key}[${i}] (${text})`, text] as const);
    });
  }
  for (const [a, b] of findOverlaps(named)) {
    fail(ctx, ["network"], `${a} overlaps ${b}`, "give every subnet its own non-overlapping block");
  }
}
