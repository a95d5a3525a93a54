import { strict as assert } from "assert";
import {
  contains,
  defaultSubnetLayout,
  findOverlaps,
  formatBlock,
  formatCidr,
  mergeRanges,
  mustParseCidr,
  Openness,
  opennessOfTexts,
  overlaps,
  parseBlock,
  parseCidr,
  subnet,
} from "../infra/lib/cidr";
import { editDistance, suggest } from "../infra/lib/text";

describe("cidr math", () => {
  const parseCases: Array<[string, string | RegExp]> = [
    ["10.0.0.0/16", "10.0.0.0/16"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["192.168.1.128/25", "192.168.1.128/25"],
    [" 10.1.0.0/16 ", /contains spaces/],
    ["10.0.0.0", /has no prefix length \(a single address is written 10\.0\.0\.0\/32\)/],
    ["cidr", /not an IPv4 CIDR block/],
    ["10.0.0.256/24", /octet above 255/],
    ["10.0.0.0/33", /prefix length above 32/],
    ["10.0.1.0/16", /host bits set; the network address is 10\.0\.0\.0\/16/],
    ["fd00::/8", /an IPv6 block; an IPv4 CIDR block/],
    ["10.0.0.0/016", /prefix length with a leading zero \("\/016"\); write \/16/],
  ];
  for (const [input, expected] of parseCases) {
    it(`parses ${JSON.stringify(input)}`, () => {
      const parsed = parseCidr(input);
      if (typeof expected === "string") {
        assert.notEqual(typeof parsed, "string", String(parsed));
        assert.equal(formatCidr(parsed as Exclude<typeof parsed, string>), expected);
      } else {
        assert.equal(typeof parsed, "string");
        assert.match(parsed as string, expected);
      }
    });
  }

  const overlapCases: Array<[string, string, boolean]> = [
    ["10.0.0.0/16", "10.0.255.0/24", true],
    ["10.0.0.0/16", "10.1.0.0/16", false],
    ["10.0.0.0/20", "10.0.16.0/20", false],
    ["10.0.0.0/20", "10.0.15.0/24", true],
    ["0.0.0.0/0", "203.0.113.0/24", true],
  ];
  for (const [a, b, expected] of overlapCases) {
    it(`${a} ${expected ? "overlaps" : "does not overlap"} ${b}`, () => {
      assert.equal(overlaps(mustParseCidr(a), mustParseCidr(b)), expected);
      assert.equal(overlaps(mustParseCidr(b), mustParseCidr(a)), expected);
    });
  }

  it("contains checks both ends", () => {
    assert.equal(contains(mustParseCidr("10.0.0.0/16"), mustParseCidr("10.0.240.0/20")), true);
    assert.equal(contains(mustParseCidr("10.0.0.0/16"), mustParseCidr("10.0.0.0/15")), false);
    assert.equal(contains(mustParseCidr("10.0.0.0/16"), mustParseCidr("10.1.0.0/20")), false);
  });

  it("subnet cuts the n-th block and refuses out-of-range indexes", () => {
    assert.equal(formatCidr(subnet(mustParseCidr("10.20.0.0/16"), 20, 0)), "10.20.0.0/20");
    assert.equal(formatCidr(subnet(mustParseCidr("10.20.0.0/16"), 20, 15)), "10.20.240.0/20");
    assert.throws(() => subnet(mustParseCidr("10.20.0.0/16"), 20, 16), /has only 16 \/20 blocks/);
    assert.throws(() => subnet(mustParseCidr("10.20.0.0/16"), 12, 0), /cannot cut/);
  });

  const layoutCases: Array<[string, number, number, string[], string[]]> = [
    ["10.20.0.0/16", 2, 20, ["10.20.0.0/20", "10.20.16.0/20"], ["10.20.128.0/20", "10.20.144.0/20"]],
    ["10.30.0.0/16", 3, 20, ["10.30.0.0/20", "10.30.16.0/20", "10.30.32.0/20"], ["10.30.128.0/20", "10.30.144.0/20", "10.30.160.0/20"]],
    ["172.16.0.0/20", 2, 24, ["172.16.0.0/24", "172.16.1.0/24"], ["172.16.8.0/24", "172.16.9.0/24"]],
  ];
  for (const [vpc, azs, prefix, pub, priv] of layoutCases) {
    it(`lays out ${azs} AZs of /${prefix} in ${vpc}`, () => {
      const layout = defaultSubnetLayout(vpc, azs, prefix);
      assert.deepEqual(layout.public, pub);
      assert.deepEqual(layout.private, priv);
      assert.deepEqual(findOverlaps([...pub, ...priv].map((c) => [c, c] as const)), []);
    });
  }

  it("keeps existing subnets when an AZ is added (no renumbering, so no replacement)", () => {
    const two = defaultSubnetLayout("10.20.0.0/16", 2, 20);
    const three = defaultSubnetLayout("10.20.0.0/16", 3, 20);
    assert.deepEqual(three.public.slice(0, 2), two.public);
    assert.deepEqual(three.private.slice(0, 2), two.private);
  });

  it("refuses a layout that does not fit", () => {
    assert.throws(() => defaultSubnetLayout("10.0.0.0/24", 3, 26), /too small for 3 AZs/);
  });

  it("findOverlaps names each overlapping pair once", () => {
    assert.deepEqual(
      findOverlaps([
        ["a", "10.0.0.0/20"],
        ["b", "10.0.8.0/21"],
        ["c", "10.0.16.0/20"],
        ["d", "10.0.0.0/16"],
      ]),
      [["a", "b"], ["a", "d"], ["b", "d"], ["c", "d"]],
    );
  });
});

describe("address sets: strict spellings (IPv4 and IPv6)", () => {
  const cases: Array<[string, string | RegExp]> = [
    ["203.0.113.0/24", "203.0.113.0/24"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["10.0.0.1/32", "10.0.0.1/32"],
    ["::/0", "::/0"],
    ["2001:db8::/32", "2001:db8::/32"],
    ["2001:0DB8:0000::/48", "2001:db8::/48"],
    ["::ffff:192.0.2.0/120", "::ffff:c000:200/120"],
    ["fe80::1/128", "fe80::1/128"],
    ["0.0.0.0/00", /leading zero \("\/00"\); write \/0/],
    ["10.0.0.0/08", /leading zero \("\/08"\); write \/8/],
    ["010.0.0.0/8", /octet "010" with a leading zero .*write 10/],
    ["10.00.0.0/16", /octet "00" with a leading zero/],
    ["300.0.0.0/8", /octet above 255 \("300"\)/],
    ["1.2.3/24", /not an IPv4 address \(expected four octets/],
    ["1.2.3.4.5/32", /not an IPv4 address/],
    ["1.2.3.x/32", /non-numeric octet "x"/],
    ["10.0.0.0/-1", /no numeric prefix length/],
    ["10.0.0.0/", /no numeric prefix length/],
    ["10.0.0.0/24/8", /no numeric prefix length/],
    ["10.0.0.1/24", /host bits set; the network address is 10\.0\.0\.0\/24/],
    ["128.0.0.0/0", /host bits set; the network address is 0\.0\.0\.0\/0/],
    ["10.0.0.0 /8", /contains spaces/],
    ["2001:db8::/129", /prefix length above 128/],
    ["2001:db8::1/64", /host bits set; the network address is 2001:db8::\/64/],
    ["1::2::/32", /"::" more than once/],
    ["12345::/16", /invalid group "12345"/],
    ["g::/16", /invalid group "g"/],
    ["1:2:3:4:5:6:7/112", /does not have 8 groups/],
    ["1:2:3:4:5:6:7:8::/128", /does not have 8 groups/],
    ["fe80::1%eth0/128", /zone index/],
    ["::ffff:1.2.3.04/128", /octet "04" with a leading zero/],
    ["everything", /is not a CIDR block/],
  ];
  for (const [input, expected] of cases) {
    it(`${typeof expected === "string" ? "accepts" : "refuses"} ${JSON.stringify(input)}`, () => {
      const parsed = parseBlock(input);
      if (typeof expected === "string") {
        assert.notEqual(typeof parsed, "string", String(parsed));
        const b = parsed as Exclude<typeof parsed, string>;
        assert.equal(formatBlock(b.family, b.start, b.prefix), expected);
      } else {
        assert.equal(typeof parsed, "string", `accepted ${input}`);
        assert.match(parsed as string, expected);
      }
    });
  }
});

describe("address sets: the union decides world-openness", () => {
  const eighths = [0, 32, 64, 96, 128, 160, 192, 224].map((o) => `${o}.0.0.0/3`);
  const cases: Array<[string, string[], Openness, RegExp?]> = [
    ["the literal whole internet", ["0.0.0.0/0"], "world", /all of 0\.0\.0\.0\/0/],
    ["two halves", ["0.0.0.0/1", "128.0.0.0/1"], "world"],
    ["eight /3 blocks", eighths, "world"],
    ["eight /3 blocks in any order, with a duplicate", [...eighths].reverse().concat(["64.0.0.0/3"]), "world"],
    ["overlapping blocks that leave no gap", ["0.0.0.0/1", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"], "world"],
    ["one half alone", ["0.0.0.0/1"], "half-world", /covers 50% of 0\.0\.0\.0\/0/],
    ["the upper half alone", ["128.0.0.0/1"], "half-world"],
    ["seven eighths (everything but 224/3)", eighths.slice(0, 7), "half-world", /87\.5%/],
    ["four /3 blocks (exactly half, not contiguous)", [eighths[0], eighths[2], eighths[4], eighths[6]], "half-world"],
    ["three /3 blocks", eighths.slice(0, 3), "restricted"],
    ["an office range", ["203.0.113.0/24"], "restricted"],
    ["private ranges", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], "restricted"],
    ["a /2 and a /3 (3/8 of the space)", ["0.0.0.0/2", "64.0.0.0/3"], "restricted"],
    ["IPv6 whole space", ["::/0"], "world", /::\/0/],
    ["IPv6 halves", ["::/1", "8000::/1"], "world"],
    ["IPv6 global unicast alone", ["2000::/3"], "world", /2000::\/3 \(global unicast\)/],
    ["IPv6 global unicast in two", ["2000::/4", "3000::/4"], "world"],
    ["IPv6 half of global unicast", ["2000::/4"], "half-world", /50% of 2000::\/3/],
    ["IPv6 upper half of the space (no unicast in it, still half)", ["8000::/1"], "half-world", /50% of ::\/0/],
    ["IPv6 documentation prefix", ["2001:db8::/32"], "restricted"],
    ["an IPv4 office range next to IPv6 everything", ["203.0.113.0/24", "::/0"], "world"],
    ["malformed entries are skipped (reported by parseBlock)", ["0.0.0.0/00", "203.0.113.0/24"], "restricted"],
    ["empty list", [], "restricted"],
  ];
  for (const [name, list, level, detail] of cases) {
    it(`${name}: ${level}`, () => {
      const report = opennessOfTexts(list);
      assert.equal(report.level, level, JSON.stringify(report));
      if (detail !== undefined) {
        assert.match(report.detail ?? "", detail);
      }
    });
  }

  it("merges overlapping and adjacent ranges", () => {
    assert.deepEqual(
      mergeRanges([
        { start: 10n, end: 19n },
        { start: 0n, end: 4n },
        { start: 5n, end: 7n },
        { start: 15n, end: 30n },
        { start: 40n, end: 40n },
      ]),
      [
        [0n, 7n],
        [10n, 30n],
        [40n, 40n],
      ],
    );
  });
});

describe("typo suggestions", () => {
  const cases: Array<[string, string[], string | undefined]> = [
    ["databse", ["database", "network", "bastion"], "database"],
    ["natGateway", ["cidr", "natGateways", "privateSubnets"], "natGateways"],
    ["clustre", ["cluster", "services"], "cluster"],
    ["zzzzzz", ["cluster", "services"], undefined],
  ];
  for (const [word, candidates, expected] of cases) {
    it(`suggests ${String(expected)} for ${word}`, () => {
      assert.equal(suggest(word, candidates), expected);
    });
  }
  it("edit distance is symmetric and case-insensitive", () => {
    assert.equal(editDistance("kitten", "sitting"), 3);
    assert.equal(editDistance("sitting", "kitten"), 3);
    assert.equal(editDistance("Network", "network"), 0);
  });
});
