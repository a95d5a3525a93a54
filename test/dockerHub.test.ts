/**
 * Docker Hub allows anonymous clients 10 pulls per hour per IPv4 address (docker/docs
 * content/manuals/docker-hub/usage/_index.md), and every node of a stack pulls through one NAT
 * address (staging) or two (prod). Images that exist elsewhere come from there; the rest go through
 * an ECR pull-through cache with a Docker Hub credential once one is configured.
 */
import { strict as assert } from "assert";
import type { ConfigValue } from "../infra/config/defaults";
import { ConfigError, parsePlatformConfig } from "../infra/config/load";
import { isDockerHubImage, viaDockerHubCache } from "../infra/lib/images";
import { Evaluation, evaluateStack, Json, named, ofType, readStackConfig, shippedStack, STACKS, StackConfig } from "./stack";

type Obj = Record<string, unknown>;
const o = (v: unknown): Obj => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const CREDENTIAL = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf";
const CACHE = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com";

/** Every container image the stack declares, plus Grafana's from the chart values (the chart default is Docker Hub). */
function images(ev: Evaluation): string[] {
  const out: string[] = [];
  const walk = (v: unknown, key?: string): void => {
    if (Array.isArray(v)) {
      v.forEach((x) => walk(x, key));
    } else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v as Obj)) {
        walk(x, k);
      }
    } else if (key === "image" && typeof v === "string") {
      out.push(v);
    }
  };
  for (const r of ev.resources.filter((x) => x.type.startsWith("kubernetes:") && !x.type.includes("helm.sh"))) {
    walk(r.inputs["spec"]);
  }
  for (const r of ev.resources.filter((x) => x.type === "kubernetes:helm.sh/v3:Release" && x.inputs["chart"] === "kube-prometheus-stack")) {
    const grafanaImage = o(o(o(r.inputs["values"])["grafana"])["image"]);
    // grafana chart 10.2.0 values.yaml: image.registry docker.io, image.repository grafana/grafana.
    out.push(`${String(grafanaImage["registry"] ?? "docker.io")}/${String(grafanaImage["repository"] ?? "grafana/grafana")}:chart-default`);
  }
  return [...new Set(out)].sort();
}

function withCache(createRule: boolean): (c: StackConfig) => void {
  return (c) => {
    const registry = (c["platform:registry"] ??= {}) as { [k: string]: Json };
    registry["dockerHubCache"] = { credentialArn: CREDENTIAL, createRule };
  };
}

describe("Docker Hub images", () => {
  it("(pure) recognises Docker Hub references and rewrites them to the cache's docker-hub/ namespace", () => {
    const table: Array<[string, boolean, string]> = [
      ["fluent/fluentd-kubernetes-daemonset:v1.19.2-debian-opensearch-1.0", true, `${CACHE}/docker-hub/fluent/fluentd-kubernetes-daemonset:v1.19.2-debian-opensearch-1.0`],
      ["docker.io/grafana/grafana:12.3.0", true, `${CACHE}/docker-hub/grafana/grafana:12.3.0`],
      ["busybox:1.37", true, `${CACHE}/docker-hub/library/busybox:1.37`],
      ["registry-1.docker.io/library/redis:7", true, `${CACHE}/docker-hub/library/redis:7`],
      ["quay.io/curl/curl:8.11.1", false, "quay.io/curl/curl:8.11.1"],
      ["public.ecr.aws/aws-observability/aws-sigv4-proxy:1.11.1", false, "public.ecr.aws/aws-observability/aws-sigv4-proxy:1.11.1"],
      ["localhost:5000/x:1", false, "localhost:5000/x:1"],
    ];
    for (const [image, hub, cached] of table) {
      assert.equal(isDockerHubImage(image), hub, image);
      assert.equal(viaDockerHubCache(image, CACHE), cached, image);
    }
  });

  for (const stack of STACKS) {
    it(`${stack}: only the images published nowhere but Docker Hub come from it (Fluentd, Grafana)`, async () => {
      const hub = images(await shippedStack(stack)).filter(isDockerHubImage);
      const expected = stack === "test" ? [] : ["docker.io/grafana/grafana:chart-default", "fluent/fluentd-kubernetes-daemonset:v1.19.2-debian-opensearch-1.0"];
      assert.deepEqual(hub, expected);
    });
  }

  it("the retention Job's curl comes from quay.io, where the curl project pushes the same release build", async () => {
    assert.ok(images(await shippedStack("prod")).includes("quay.io/curl/curl:8.11.1"));
  });

  describe("with a Docker Hub credential configured", () => {
    let ev: Evaluation;
    before(async () => {
      ev = await evaluateStack("prod", withCache(true));
    });

    it("the stack that creates the rule declares the pull-through cache rule with the credential", () => {
      const rule = named(ev, "aws:ecr/pullThroughCacheRule:PullThroughCacheRule", "prod-docker-hub-cache").inputs;
      assert.equal(rule["ecrRepositoryPrefix"], "docker-hub");
      assert.equal(rule["upstreamRegistryUrl"], "registry-1.docker.io");
      assert.equal(rule["credentialArn"], CREDENTIAL);
    });

    it("no image is pulled from Docker Hub any more: Fluentd and Grafana come through the cache", () => {
      const all = images(ev);
      assert.deepEqual(all.filter(isDockerHubImage), []);
      assert.ok(all.includes(`${CACHE}/docker-hub/fluent/fluentd-kubernetes-daemonset:v1.19.2-debian-opensearch-1.0`), all.join("\n"));
      assert.ok(all.includes(`${CACHE}/docker-hub/grafana/grafana:chart-default`), all.join("\n"));
    });

    it("the nodes may create and fill the cache's repositories, and only those", () => {
      const policy = named(ev, "aws:iam/rolePolicy:RolePolicy", "prod-node-pull-through-cache").inputs;
      const [s] = (JSON.parse(String(policy["policy"])) as { Statement: Obj[] }).Statement;
      assert.deepEqual(s["Action"], ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]);
      assert.deepEqual(s["Resource"], ["arn:aws:ecr:ap-northeast-2:123456789012:repository/docker-hub/*"]);
    });

    it("another stack of the account uses the rule without declaring it again", async () => {
      const staging = await evaluateStack("staging", withCache(false));
      assert.deepEqual(ofType(staging, "aws:ecr/pullThroughCacheRule:PullThroughCacheRule"), []);
      assert.deepEqual(images(staging).filter(isDockerHubImage), []);
    });
  });

  const parse = (mutate: (c: StackConfig) => void): void => {
    const config = readStackConfig("prod");
    mutate(config);
    const raw: Record<string, ConfigValue> = {};
    for (const [k, v] of Object.entries(config)) {
      if (k.startsWith("platform:")) {
        raw[k.slice("platform:".length)] = v as ConfigValue;
      }
    }
    parsePlatformConfig("prod", raw, "ap-northeast-2");
  };
  const cases: Array<[string, string, RegExp]> = [
    ["a secret whose name lacks the ecr-pullthroughcache/ prefix", "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:dockerhub-AbCdEf", /must be a Secrets Manager secret named ecr-pullthroughcache\//],
    ["a secret of another region", "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf", /is in us-east-1, but the cache rule and its credential live in the stack's region ap-northeast-2/],
  ];
  for (const [name, arn, message] of cases) {
    it(`rejects ${name}`, () => {
      assert.throws(
        () => parse((c) => ((c["platform:registry"] ??= {}) as { [k: string]: Json })["dockerHubCache"] = { credentialArn: arn, createRule: true }),
        (err: unknown) => err instanceof ConfigError && /platform:registry\.dockerHubCache\.credentialArn: /.test(err.message) && message.test(err.message),
      );
    });
  }
});
