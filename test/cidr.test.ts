import { strict as assert } from "assert";
import { contains, defaultSubnetLayout, findOverlaps, formatCidr, mustParseCidr, overlaps, parseCidr, subnet } from "../infra/lib/cidr";
import { editDistance, suggest } from "../infra/lib/text";

describe("cidr math", () => {
  const parseCases: Array<[string, string | RegExp]> = [
    ["10.0.0.0/16", "10.0.0.0/16"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["192.168.1.128/25", "192.168.1.128/25"],
    [" 10.1.0.0/16 ", "10.1.0.0/16"],
    ["10.0.0.0", /not an IPv4 CIDR block/],
    ["10.0.0.256/24", /octet above 255/],
    ["10.0.0.0/33", /prefix length above 32/],
    ["10.0.1.0/16", /host bits set; the network address is 10\.0\.0\.0\/16/],
    ["fd00::/8", /not an IPv4 CIDR block/],
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
