import { strict as assert } from "assert";
import { createTwoFilesPatch } from "diff";
import * as fs from "fs";
import * as path from "path";
import { renderGolden } from "../automation/offline/summary";
import { REPO_ROOT, shippedStack, STACKS } from "./stack";

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
        const patch = createTwoFilesPatch(`test/golden/${stack}.yaml`, `${stack} as the program declares it`, expected, rendered, "", "", { context: 3 });
        assert.fail(
          `${stack} declares something the reviewed golden file does not:\n${patch}\n` +
            `If the change is intended, run npm run test:golden:update and review the diff of test/golden/${stack}.yaml.`,
        );
      }
    });
  }
});
