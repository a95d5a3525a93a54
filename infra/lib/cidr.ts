/**
 * CIDR arithmetic used by config validation and the network layout. Pure functions, no Pulumi
 * imports, so they can be tested table-driven.
 *
 * Parsing and the address-set judgement ("does this list open something to the world?") are one
 * implementation shared with the policy pack (../policy/cidr.ts, kept in the pack's folder because
 * the pack is published on its own); the VPC layout below builds on it.
 */
import { AddressBlock, parseBlock } from "../policy/cidr";

export { blockContains, formatBlock, mergeRanges, opennessOf, opennessOfTexts, parseBlock } from "../policy/cidr";
export type { AddressBlock, Family, Openness, OpennessReport } from "../policy/cidr";

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly network: number;
  readonly prefix: number;
}

/**
 * Parses an IPv4 `a.b.c.d/n` strictly (see `parseBlock`: no leading zeros, no host bits, no
 * spaces); returns an error string instead of throwing so callers can build config messages.
 */
export function parseCidr(text: string): Cidr | string {
  const block: AddressBlock | string = parseBlock(text);
  if (typeof block === "string") {
    return /is not an IPv4 address|is not a CIDR block/.test(block) ? `"${text}" is not an IPv4 CIDR block (expected a.b.c.d/n)` : block;
  }
  if (block.family !== "ipv4") {
    return `"${text}" is an IPv6 block; an IPv4 CIDR block (a.b.c.d/n) is needed here`;
  }
  return { network: Number(block.start), prefix: block.prefix };
}

export function isCidr(text: string): boolean {
  return typeof parseCidr(text) !== "string";
}

export function mustParseCidr(text: string): Cidr {
  const parsed = parseCidr(text);
  if (typeof parsed === "string") {
    throw new Error(parsed);
  }
  return parsed;
}

export function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

export function formatCidr(c: Cidr): string {
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(c.network / 2 ** shift) % 256);
  return `${octets.join(".")}/${c.prefix}`;
}

/** True when the two blocks share at least one address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  const aEnd = a.network + blockSize(a.prefix);
  const bEnd = b.network + blockSize(b.prefix);
  return a.network < bEnd && b.network < aEnd;
}

/** True when `inner` lies entirely inside `outer`. */
export function contains(outer: Cidr, inner: Cidr): boolean {
  return (
    inner.prefix >= outer.prefix &&
    inner.network >= outer.network &&
    inner.network + blockSize(inner.prefix) <= outer.network + blockSize(outer.prefix)
  );
}

/**
 * Splits `parent` into consecutive blocks of `newPrefix` and returns the `index`-th one
 * (Terraform's `cidrsubnet(parent, newPrefix - parent.prefix, index)`).
 */
export function subnet(parent: Cidr, newPrefix: number, index: number): Cidr {
  if (newPrefix < parent.prefix || newPrefix > 28) {
    throw new Error(`cannot cut /${newPrefix} blocks out of ${formatCidr(parent)}`);
  }
  const count = 2 ** (newPrefix - parent.prefix);
  if (index < 0 || index >= count) {
    throw new Error(`${formatCidr(parent)} has only ${count} /${newPrefix} blocks; index ${index} is out of range`);
  }
  return { network: parent.network + index * blockSize(newPrefix), prefix: newPrefix };
}

export interface SubnetLayout {
  readonly public: string[];
  readonly private: string[];
}

/**
 * The default layout: per AZ, one public and one private block of `subnetPrefix`, public blocks
 * first (index 0..n-1), private blocks in the upper half of the VPC so that adding an AZ later
 * never renumbers an existing subnet (renumbering a subnet replaces it and everything in it).
 */
export function defaultSubnetLayout(vpcCidr: string, azCount: number, subnetPrefix: number): SubnetLayout {
  const vpc = mustParseCidr(vpcCidr);
  const half = 2 ** (subnetPrefix - vpc.prefix - 1);
  if (azCount > half) {
    throw new Error(`${vpcCidr} is too small for ${azCount} AZs of /${subnetPrefix} public and private subnets`);
  }
  const pub: string[] = [];
  const priv: string[] = [];
  for (let i = 0; i < azCount; i++) {
    pub.push(formatCidr(subnet(vpc, subnetPrefix, i)));
    priv.push(formatCidr(subnet(vpc, subnetPrefix, half + i)));
  }
  return { public: pub, private: priv };
}

/** Every pair of blocks in `named` that overlap, as `[nameA, nameB]`. */
export function findOverlaps(named: ReadonlyArray<readonly [string, string]>): Array<[string, string]> {
  const parsed = named
    .map(([name, text]) => [name, parseCidr(text)] as const)
    .filter((e): e is readonly [string, Cidr] => typeof e[1] !== "string");
  const out: Array<[string, string]> = [];
  for (let i = 0; i < parsed.length; i++) {
    for (let j = i + 1; j < parsed.length; j++) {
      if (overlaps(parsed[i][1], parsed[j][1])) {
        out.push([parsed[i][0], parsed[j][0]]);
      }
    }
  }
  return out;
}
