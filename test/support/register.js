// mocha's TypeScript hook: ts-node transpiling with swc (no type check here: `npm test` runs
// tsc --noEmit beside mocha). The Pulumi program itself is left to the CLI's default ts-node.
require("ts-node").register({ swc: true });
