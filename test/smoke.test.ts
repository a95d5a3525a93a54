import { strict as assert } from "assert";
import { shippedStack, ofType } from "./stack";

describe("smoke", () => {
  it("evaluates prod", async () => {
    const ev = await shippedStack("prod");
    console.log(ev.resources.map((r) => `${r.type} ${r.name}`).join("\n"));
    console.log(ev.outputs);
    assert.equal(ofType(ev, "awsx:ec2:Vpc").length, 1);
  });
});
