// Objects the API server refuses never get that far: the real API server rejects a Deployment whose
// container has an empty image and a Service whose name is over 63 characters (shown by posting
// them directly), and the project's config validation refuses the configs that would declare them
// before a single resource exists, naming the key.

import * as assert from "assert";
import { ConfigError } from "../../infra/config/load";
import { settleStack, StackConfig } from "../../automation/offline/evaluate";
import type { Json } from "../../infra/domain";
import { controlPlane } from "./fixture";
import { Kube } from "./kube";

type Obj = { [key: string]: Json };

const NAMESPACE = "rejected";

async function refusedByConfig(mutate: (c: StackConfig) => void): Promise<ConfigError> {
  const settled = await settleStack("prod", mutate);
  assert.ok(settled.error instanceof ConfigError, `expected a ConfigError, got ${String(settled.error)}`);
  const declared = settled.evaluation.resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
  assert.equal(declared.length, 0, `declared before the error: ${declared.map((r) => r.name).join(", ")}`);
  return settled.error;
}

const firstService = (c: StackConfig): Obj => (c["platform:services"] as Obj[])[0] as Obj;

describe("integration: objects the API server would reject are refused by config first", function () {
  let kube: Kube;
  let started = 0;

  before(async () => {
    started = Date.now();
    kube = controlPlane().kube;
    const res = await kube.request("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } });
    assert.ok(res.status === 201 || res.status === 409, `namespace: HTTP ${res.status} ${res.body}`);
  });
  after(async () => {
    await kube.request("DELETE", `/api/v1/namespaces/${NAMESPACE}`);
    console.log(`[integration] rejected objects: ${((Date.now() - started) / 1000).toFixed(1)}s`);
  });

  it("an empty image: the API server answers 422 on the container's image; config names services[0].blue.image", async () => {
    const labels = { app: "empty-image" };
    const res = await kube.request("POST", `/apis/apps/v1/namespaces/${NAMESPACE}/deployments`, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "empty-image" },
      spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: "app", image: "" }] } } },
    });
    assert.equal(res.status, 422, res.body);
    assert.match(res.body, /spec\.template\.spec\.containers\[0\]\.image: Required value/);
    assert.equal((await kube.request("GET", `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/empty-image`)).status, 404, "nothing was created");

    const err = await refusedByConfig((c) => ((firstService(c)["blue"] as Obj)["image"] = ""));
    assert.match(err.message, /platform:services\[0\]\.blue\.image: is empty but blue is the active color of service "student"/);
  });

  it("a Service name over 63 characters: the API server answers 422 on metadata.name; config names services[0].name", async () => {
    // The program names a color's Service `<service>-<color>` (infra/apps/blueGreenService.ts), so
    // a 58-character service name gives the 64-character `<service>-green`.
    const service = `s${"x".repeat(57)}`;
    const name = `${service}-green`;
    assert.equal(name.length, 64);
    const res = await kube.request("POST", `/api/v1/namespaces/${NAMESPACE}/services`, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name },
      spec: { selector: { app: "x" }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    assert.equal(res.status, 422, res.body);
    assert.match(res.body, /metadata\.name: Invalid value: .*must be no more than 63 characters/);

    const err = await refusedByConfig((c) => (firstService(c)["name"] = service));
    assert.match(err.message, new RegExp(`platform:services\\[0\\]\\.name: "${service}" is 58 characters`));
  });
});
