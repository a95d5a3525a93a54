import { strict as assert } from "assert";
import { checkHostsInZone, validationNames } from "../infra/lib/certificates";

describe("certificate helpers (pure)", () => {
  const table: Array<[string[], string[]]> = [
    [["test.karina-univ.com"], ["test.karina-univ.com"]],
    [["karina-univ.com", "*.karina-univ.com"], ["karina-univ.com"]],
    [["*.karina-univ.com", "karina-univ.com", "log.karina-univ.com"], ["karina-univ.com", "log.karina-univ.com"]],
    [["*.test.karina-univ.com"], ["test.karina-univ.com"]],
  ];
  for (const [hosts, names] of table) {
    it(`validation names of ${hosts.join(", ")}`, () => assert.deepEqual(validationNames(hosts), names));
  }

  it("rejects hosts outside the zone, duplicates and an empty list", () => {
    assert.doesNotThrow(() => checkHostsInZone("karina-univ.com", ["karina-univ.com", "*.karina-univ.com", "test.karina-univ.com"]));
    assert.throws(() => checkHostsInZone("karina-univ.com", ["test.example.com"]), /not in the hosted zone "karina-univ.com"/);
    assert.throws(() => checkHostsInZone("karina-univ.com", ["evilkarina-univ.com"]), /not in the hosted zone/);
    assert.throws(() => checkHostsInZone("karina-univ.com", ["a.karina-univ.com", "A.karina-univ.com"]), /lists a host twice/);
    assert.throws(() => checkHostsInZone("karina-univ.com", []), /at least one host/);
  });
});
