import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT, shippedStack, STACKS } from "./stack";
import { renderGolden } from "../automation/offline/summary";

const UPDATE = process.env["UPDATE_GOLDEN"] === "1";

describe("golden summaries", () => {
  for (const stack of STACKS) {
    it(`${stack}: matches test/golden/${stack}.yaml`, async () => {
      const rendered = renderGolden(await shippedStack(stack));
      const file = path.join(REPO_ROOT, "test", "golden", `${stack}.yaml`);
      if (UPDATE) {
        fs.writeFileSync(file, rendered);
        return;
      }
      assert.ok(fs.existsSync(file), `missing ${file}: run npm run test:golden:update and review it`);
      const expected = fs.readFileSync(file, "utf8");
      if (rendered !== expected) {
        const got = rendered.split("\n");
        const want = expected.split("\n");
        const first = got.findIndex((line, i) => line !== want[i]);
        assert.fail(
          `${stack} declares something the reviewed golden file does not (first difference at line ${first + 1}):\n` +
            `  golden:   ${want[first] ?? "<end of file>"}\n  program:  ${got[first] ?? "<end of file>"}\n` +
            `If the change is intended, run npm run test:golden:update and review the diff of test/golden/${stack}.yaml.`,
        );
      }
    });
  }
});
