/**
 * A switch is verified at the load balancer: the live rule read back through the routing port
 * must forward 100 to the new color before the live gate runs, and the live gate must be answered
 * by the new color and image. The fake load balancer applies an Ingress change only after the
 * controller's lag, or never.
 */
import { strict as assert } from "assert";
import { flip, promote } from "../../automation/commands";
import { ExitCode } from "../../automation/exitCodes";
import { expectationsFor, identityHeadersOf, identityMismatch } from "../../automation/gates/identity";
import { routesTo, routesWithWeights } from "../../automation/gates/routing";
import { HttpHealthProber } from "../../automation/adapters/httpProber";
import { systemClock } from "../../automation/adapters/clock";
import { DEFAULT_IDENTITY_HEADERS } from "../../infra/lib/identityHeaders";

const COLOR_HEADER = DEFAULT_IDENTITY_HEADERS.color;
const IMAGE_HEADER = DEFAULT_IDENTITY_HEADERS.image;
import { Harness, TEST_GATE } from "./harness";
import { image, startServer } from "./loopback";
import { MemoryStack } from "./memoryStack";

const A = image("student", "1.4.0");
const B = image("student", "1.5.0");

describe("automation: switches verified at the load balancer", function () {
  let h: Harness;
  beforeEach(async () => {
    h = await Harness.start();
  });
  afterEach(async () => {
    await h.close();
  });

  function prod(extra: Record<string, unknown> = {}): MemoryStack {
    return h.add(
      new MemoryStack({
        name: "prod",
        environment: "prod",
        baseUrl: h.world.url,
        services: [{ name: "student", active: "blue", blue: A, green: B, extra: extra as never }],
      }),
    );
  }

  it("waits for the controller's lag: polls the live rule until it forwards 100 to the new color, then gates the live host", async () => {
    const stack = prod();
    h.lb.lagMs = 12_000;
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.Ok, out.message);
    assert.ok(h.lb.queries.length >= 4, `polled ${h.lb.queries.length} times`);
    assert.deepEqual(h.clock.sleeps.slice(0, 3), [5_000, 5_000, 5_000], "the routing gate's interval");
    const q = h.lb.queries[0];
    assert.deepEqual(
      [q?.ingressGroup, q?.service, q?.clusterName, q?.namespace, q?.liveHost, q?.colorServices],
      ["prod", "student", "prod-cluster", "apps", "127.0.0.1", { blue: "student-blue", green: "student-green" }],
      "the query names the stack's IngressGroup (its environment), the live host and the color Services",
    );
    assert.ok(h.logs.some((l) => /routing: student: the load balancer forwards blue 0 \/ green 100/.test(l)));
    assert.equal(stack.deployed()[0]?.active, "green");
  });

  it("a controller that never applies the flip fails the routing gate and restores, verified at the rule (exit 3)", async () => {
    const stack = prod();
    const before = structuredClone(stack.deployedServices);
    h.lb.stuck.add("prod/student");
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.RolledBack, out.message);
    assert.match(out.message, /student: the load balancer does not route to green within 60 s: forwards blue 100 \/ green 0/);
    assert.deepEqual(stack.deployedServices, before);
    assert.ok(out.phases.some((p) => p.name === "routing" && !p.ok));
    assert.ok(h.logs.some((l) => /restore-routing: student: the load balancer forwards blue 100 \/ green 0/.test(l)), "the restore is read back at the rule too");
    assert.ok(!h.world.requests.some((r) => r.path.startsWith("/prod/live/")) || out.phases.every((p) => p.name !== "live-health"), "no live gate before the rule moved");
  });

  it("an unreadable rule is a failed gate, never a pass", async () => {
    prod();
    h.lb.unreadable.add("prod/student");
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.notEqual(out.exitCode, ExitCode.Ok);
    assert.match(out.message, /the live rule could not be read: AccessDenied/);
  });

  it("the promotion's switch is verified the same way", async () => {
    h.add(
      new MemoryStack({
        name: "test",
        environment: "test",
        baseUrl: h.world.url,
        services: [{ name: "student", active: "blue", blue: B }],
        releases: { student: { image: B, verifiedAt: "2025-01-01T00:00:00.000Z", source: "release" } },
      }),
    );
    h.add(new MemoryStack({ name: "staging", environment: "staging", baseUrl: h.world.url, services: [{ name: "student", active: "blue", blue: A, green: image("student", "1.3.0") }] }));
    h.lb.stuck.add("staging/student");
    const out = await promote(h.deps(), { from: "test", to: "staging" });
    assert.equal(out.exitCode, ExitCode.RolledBack, out.message);
    assert.match(out.message, /does not route to green/);
  });

  it("a service that sends no identity headers fails the live gate unless its config says so", async () => {
    prod();
    h.world.anonymous.add("student");
    const out = await flip(h.deps(), { stack: "prod", service: "student", force: true });
    // The restore's live gate cannot tell who answers either: unverified, a human looks (exit 4).
    assert.equal(out.exitCode, ExitCode.ManualIntervention, out.message);
    assert.match(out.message, /no x-platform-color header in the response \(the service must send it, or its stack config says healthGate\.colorHeader: none\)/);
  });

  it("healthGate.colorHeader/imageHeader: none skips the identity check and says so", async () => {
    prod({ healthGate: { colorHeader: "none", imageHeader: "none" } });
    h.world.anonymous.add("student");
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.Ok, out.message);
    assert.ok(h.logs.some((l) => /live-health: student: color check skipped: its stack config says healthGate\.colorHeader: none and imageHeader: none/.test(l)));
  });
});

describe("automation: identity headers (pure)", () => {
  it("defaults to the shared header names; none turns a check off; names are case-insensitive", () => {
    assert.deepEqual(identityHeadersOf(undefined), { color: COLOR_HEADER, image: IMAGE_HEADER });
    assert.deepEqual(identityHeadersOf({ healthGate: { colorHeader: "X-App-Color", imageHeader: "none" } }), { color: "x-app-color", image: undefined });
  });

  const id = { headers: { color: COLOR_HEADER, image: IMAGE_HEADER }, color: "green" as const, image: B };
  const cases: ReadonlyArray<[string, Record<string, string>, RegExp | undefined]> = [
    ["the new color and image", { [COLOR_HEADER]: "green", [IMAGE_HEADER]: B }, undefined],
    ["the color in another case", { [COLOR_HEADER]: "Green", [IMAGE_HEADER]: B }, undefined],
    ["the old color", { [COLOR_HEADER]: "blue", [IMAGE_HEADER]: A }, /x-platform-color: blue answered, expected green/],
    ["the new color with the old image", { [COLOR_HEADER]: "green", [IMAGE_HEADER]: A }, /x-platform-image: .* answered, expected/],
    ["no headers", {}, /no x-platform-color header/],
  ];
  for (const [name, headers, want] of cases) {
    it(`${name}: ${want === undefined ? "matches" : "does not match"}`, () => {
      const got = identityMismatch(headers, expectationsFor(id));
      if (want === undefined) {
        assert.equal(got, undefined);
      } else {
        assert.match(got ?? "", want);
      }
    });
  }

  it("no image expectation when the color's image is unknown; none of either is an empty check", () => {
    assert.deepEqual(expectationsFor({ ...id, image: undefined }).map((e) => e.kind), ["color"]);
    assert.deepEqual(expectationsFor({ ...id, headers: {} }), []);
  });

  it("a rule routes to a color only when it forwards everything there", () => {
    assert.equal(routesTo({ weights: new Map([["green", 100], ["blue", 0]]) }, "green"), true);
    assert.equal(routesTo({ weights: new Map([["green", 90], ["blue", 10]]) }, "green"), false);
    assert.equal(routesTo({ weights: new Map([["blue", 100]]) }, "green"), false);
    assert.equal(routesTo({ weights: new Map() }, "green"), false);
  });

  it("a canary step's weights must be read back exactly (pure)", () => {
    const step = { blue: 75, green: 25 };
    assert.equal(routesWithWeights({ weights: new Map([["blue", 75], ["green", 25]]) }, step), true);
    assert.equal(routesWithWeights({ weights: new Map([["blue", 100], ["green", 0]]) }, step), false, "not yet applied");
    assert.equal(routesWithWeights({ weights: new Map([["blue", 50], ["green", 50]]) }, step), false, "the next step's, or someone else's");
    assert.equal(routesWithWeights({ weights: new Map([["blue", 75]]) }, step), false, "a rule without the canary's target group");
    assert.equal(routesWithWeights({ weights: new Map([["blue", 100]]) }, { blue: 100, green: 0 }), true, "an absent color forwards 0");
  });

  it("the HTTP prober counts a healthy answer from the wrong color as a failure", async () => {
    let color = "blue";
    const server = await startServer(() => ({ status: 200, headers: { [COLOR_HEADER]: color } }));
    try {
      const prober = new HttpHealthProber(systemClock);
      const expect = [{ header: COLOR_HEADER, value: "green", kind: "color" as const }];
      const wrong = await prober.probe(`${server.url}/h`, { ...TEST_GATE, timeoutMs: 300 }, new AbortController().signal, expect);
      assert.equal(wrong.ok, false);
      assert.match(wrong.reason, /x-platform-color: blue answered, expected green/);
      color = "green";
      const right = await prober.probe(`${server.url}/h`, TEST_GATE, new AbortController().signal, expect);
      assert.equal(right.ok, true, right.reason);
    } finally {
      await server.close();
    }
  });
});
