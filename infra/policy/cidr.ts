/**
 * Address sets: the address space a list of CIDR blocks covers, and whether that is the whole
 * internet. One implementation for the stack config's validation (re-exported by
 * infra/lib/cidr.ts) and the policy pack's rules; it lives in the pack's folder because the pack is
 * published on its own and imports nothing outside it. Pure, no dependencies, tested table-driven
 * (test/cidr.test.ts).
 *
 * "Open to the world" is judged on the union, never on the spelling: `0.0.0.0/1` + `128.0.0.0/1`,
 * eight `/3` blocks, or `::/0` split in two cover everything exactly as `0.0.0.0/0` does. A list
 * that covers at least half of a family's space (`0.0.0.0/1` alone) is "half-world-open": no
 * office, VPN or CI egress needs 2^31 addresses, so such a list is a mistake or a bypass.
 *
 * IPv6 is judged twice, against the whole space (`::/0`) and against the global unicast space
 * `2000::/3` (IANA's IPv6 Global Unicast Address Assignments: every routed internet address is in
 * it today), so `2000::/3` alone counts as world-open although it is an eighth of `::/0`.
 */

export type Family = "ipv4" | "ipv6";

/** One parsed block: `[start, end]` inclusive, as unsigned integers of the family's width. */
export interface AddressBlock {
  readonly family: Family;
  readonly start: bigint;
  readonly end: bigint;
  readonly prefix: number;
  /** The block as written. */
  readonly text: string;
}

const BITS: Record<Family, number> = { ipv4: 32, ipv6: 128 };

/** Addresses in a family. */
export function familySize(family: Family): bigint {
  return 1n << BigInt(BITS[family]);
}

const HEXTET = /^[0-9a-fA-F]{1,4}$/;

/** A prefix length: decimal without a leading zero (`/00` and `/08` are refused), at most `max`. */
function parsePrefix(text: string, max: number, whole: string): number | string {
  if (!/^\d+$/.test(text)) {
    return `"${whole}" has no numeric prefix length after "/"`;
  }
  if (text.length > 1 && text.startsWith("0")) {
    return `"${whole}" writes the prefix length with a leading zero ("/${text}"); write /${Number(text)}`;
  }
  const prefix = Number(text);
  if (prefix > max) {
    return `"${whole}" has a prefix length above ${max}`;
  }
  return prefix;
}

/** `a.b.c.d` as a 32-bit integer; octets are decimal 0-255 without leading zeros (`010` reads as octal in some parsers). */
function parseIpv4Address(text: string, whole: string): bigint | string {
  const parts = text.split(".");
  if (parts.length !== 4) {
    return `"${whole}" is not an IPv4 address (expected four octets a.b.c.d)`;
  }
  let value = 0n;
  for (const part of parts) {
    if (!/^\d+$/.test(part)) {
      return `"${whole}" has a non-numeric octet "${part}"`;
    }
    if (part.length > 1 && part.startsWith("0")) {
      return `"${whole}" writes the octet "${part}" with a leading zero (ambiguous: some parsers read it as octal); write ${Number(part)}`;
    }
    const octet = Number(part);
    if (octet > 255) {
      return `"${whole}" has an octet above 255 ("${part}")`;
    }
    value = value * 256n + BigInt(octet);
  }
  return value;
}

/** An IPv6 address (RFC 4291 text forms: `::` once, 1-4 hex digits per group, an IPv4 tail allowed) as a 128-bit integer. */
function parseIpv6Address(text: string, whole: string): bigint | string {
  if (text.includes("%")) {
    return `"${whole}" has a zone index ("%..."), which a CIDR block cannot carry`;
  }
  const halves = text.split("::");
  if (halves.length > 2) {
    return `"${whole}" uses "::" more than once`;
  }
  const groups = (part: string): string[] | string => {
    if (part === "") {
      return [];
    }
    const out: string[] = [];
    const raw = part.split(":");
    for (let i = 0; i < raw.length; i++) {
      const g = raw[i];
      if (i === raw.length - 1 && g.includes(".")) {
        const v4 = parseIpv4Address(g, whole);
        if (typeof v4 === "string") {
          return v4;
        }
        out.push((v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16));
      } else if (!HEXTET.test(g)) {
        return `"${whole}" has an invalid group "${g}" (1-4 hex digits each)`;
      } else {
        out.push(g);
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (typeof head === "string") {
    return head;
  }
  if (typeof tail === "string") {
    return tail;
  }
  const present = head.length + tail.length;
  if (halves.length === 1 ? present !== 8 : present > 7) {
    return `"${whole}" does not have 8 groups of 16 bits`;
  }
  const all = [...head, ...Array<string>(8 - present).fill("0"), ...tail];
  return all.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16)), 0n);
}

/**
 * Parses `a.b.c.d/n` or an IPv6 `x::/n`; returns the reason as text when the spelling is not a
 * canonical network block (missing prefix, leading zeros, out-of-range octets or prefix, host bits
 * set, surrounding spaces), so callers can say it in a config message.
 */
export function parseBlock(text: string): AddressBlock | string {
  if (text !== text.trim() || /\s/.test(text)) {
    return `"${text}" contains spaces`;
  }
  const slash = text.indexOf("/");
  if (slash < 0) {
    const v6 = text.includes(":");
    const address = v6 ? parseIpv6Address(text, text) : parseIpv4Address(text, text);
    return typeof address === "string"
      ? `"${text}" is not a CIDR block (expected a.b.c.d/n, or x:x::/n for IPv6)`
      : `"${text}" has no prefix length (a single address is written ${text}/${v6 ? 128 : 32})`;
  }
  const address = text.slice(0, slash);
  const family: Family = address.includes(":") ? "ipv6" : "ipv4";
  const bits = BITS[family];
  const prefix = parsePrefix(text.slice(slash + 1), bits, text);
  if (typeof prefix === "string") {
    return prefix;
  }
  const start = family === "ipv4" ? parseIpv4Address(address, text) : parseIpv6Address(address, text);
  if (typeof start === "string") {
    return start;
  }
  const size = 1n << BigInt(bits - prefix);
  const network = start - (start % size);
  if (network !== start) {
    return `"${text}" has host bits set; the network address is ${formatBlock(family, network, prefix)}`;
  }
  return { family, start, end: start + size - 1n, prefix, text };
}

export function formatBlock(family: Family, start: bigint, prefix: number): string {
  if (family === "ipv4") {
    return `${[24n, 16n, 8n, 0n].map((s) => String((start >> s) & 0xffn)).join(".")}/${prefix}`;
  }
  const groups = Array.from({ length: 8 }, (_, i) => ((start >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  // The longest run of two or more zero groups becomes "::" (RFC 5952).
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > best.len && j - i >= 2) {
      best = { at: i, len: j - i };
    }
    i = j;
  }
  const text =
    best.at < 0 ? groups.join(":") : `${groups.slice(0, best.at).join(":")}::${groups.slice(best.at + best.len).join(":")}`;
  return `${text}/${prefix}`;
}

/** Merged `[start, end]` ranges of one family, sorted and non-overlapping (adjacent ranges joined). */
export function mergeRanges(blocks: ReadonlyArray<Pick<AddressBlock, "start" | "end">>): Array<[bigint, bigint]> {
  const sorted = [...blocks].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: Array<[bigint, bigint]> = [];
  for (const b of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && b.start <= last[1] + 1n) {
      if (b.end > last[1]) {
        last[1] = b.end;
      }
    } else {
      out.push([b.start, b.end]);
    }
  }
  return out;
}

/** How many addresses of `[from, to]` the merged ranges cover. */
function coveredWithin(ranges: ReadonlyArray<[bigint, bigint]>, from: bigint, to: bigint): bigint {
  let n = 0n;
  for (const [s, e] of ranges) {
    const lo = s > from ? s : from;
    const hi = e < to ? e : to;
    if (lo <= hi) {
      n += hi - lo + 1n;
    }
  }
  return n;
}

export type Openness = "world" | "half-world" | "restricted";

/** The spaces a family is judged against: the whole family, and for IPv6 also the global unicast space. */
const REFERENCE_SPACES: Record<Family, ReadonlyArray<{ readonly label: string; readonly start: bigint; readonly end: bigint }>> = {
  ipv4: [{ label: "0.0.0.0/0", start: 0n, end: (1n << 32n) - 1n }],
  ipv6: [
    { label: "::/0", start: 0n, end: (1n << 128n) - 1n },
    { label: "2000::/3 (global unicast)", start: 0x2n << 124n, end: (0x4n << 124n) - 1n },
  ],
};

export interface OpennessReport {
  readonly level: Openness;
  /** For world and half-world: the family and reference space, and the share covered (e.g. "100%" or "50%"). */
  readonly detail?: string;
}

function percent(part: bigint, whole: bigint): string {
  const tenths = Number((part * 1000n) / whole);
  return `${tenths % 10 === 0 ? tenths / 10 : (tenths / 10).toFixed(1)}%`;
}

/**
 * Judges the union of `blocks`: `world` when it covers a whole reference space, `half-world`
 * when it covers at least half of one, otherwise `restricted`. Unparsable entries are ignored
 * here (the callers refuse them with `parseBlock`'s message).
 */
export function opennessOf(blocks: ReadonlyArray<AddressBlock>): OpennessReport {
  let worst: OpennessReport = { level: "restricted" };
  for (const family of ["ipv4", "ipv6"] as const) {
    const ranges = mergeRanges(blocks.filter((b) => b.family === family));
    if (ranges.length === 0) {
      continue;
    }
    for (const space of REFERENCE_SPACES[family]) {
      const total = space.end - space.start + 1n;
      const covered = coveredWithin(ranges, space.start, space.end);
      if (covered === total) {
        return { level: "world", detail: `the union covers all of ${space.label}` };
      }
      if (covered * 2n >= total && worst.level === "restricted") {
        worst = { level: "half-world", detail: `the union covers ${percent(covered, total)} of ${space.label}` };
      }
    }
  }
  return worst;
}

/** `opennessOf` over texts; entries that do not parse are skipped (report them with `parseBlock`). */
export function opennessOfTexts(texts: readonly string[]): OpennessReport {
  return opennessOf(texts.map(parseBlock).filter((b): b is AddressBlock => typeof b !== "string"));
}

/** True when `inner` lies entirely inside `outer` (same family). */
export function blockContains(outer: AddressBlock, inner: AddressBlock): boolean {
  return outer.family === inner.family && inner.start >= outer.start && inner.end <= outer.end;
}
