import { strict as assert } from "assert";
import { contextPathProblems, healthPathProblem, healthUrl, RoutedHealth, routeOwner } from "../infra/lib/hosts";
import {
  canaryShare,
  colorWeights,
  drainTiming,
  forwardAction,
  idleColor,
  ingressOrder,
  orderedPrefixes,
  prefixOf,
  shadows,
} from "../infra/lib/bluegreen";

describe("blue/green logic", () => {
  it("idle is the other color; weights are 100/0 by the active one", () => {
    assert.equal(idleColor("blue"), "green");
    assert.equal(idleColor("green"), "blue");
    assert.deepEqual(colorWeights("blue"), { blue: 100, green: 0 });
    assert.deepEqual(colorWeights("green"), { blue: 0, green: 100 });
  });

  it("the forward action names both colors' services and differs between colors only in the weights", () => {
    const blue = forwardAction("student", 8080, "blue");
    const green = forwardAction("student", 8080, "green");
    assert.deepEqual(blue, {
      Type: "forward",
      ForwardConfig: {
        TargetGroups: [
          { ServiceName: "student-blue", ServicePort: "8080", Weight: 100 },
          { ServiceName: "student-green", ServicePort: "8080", Weight: 0 },
        ],
        TargetGroupStickinessConfig: { Enabled: false },
      },
    });
    const strip = (a: Record<string, unknown>): string => JSON.stringify(a).replace(/"Weight":\d+/g, "");
    assert.equal(strip(blue), strip(green));
  });

  const prefixCases: Array<[string, string]> = [
    ["/", "/"],
    ["/*", "/"],
    ["/student", "/student"],
    ["/student/", "/student"],
    ["/student/*", "/student"],
  ];
  for (const [input, expected] of prefixCases) {
    it(`prefixOf(${input}) = ${expected}`, () => assert.equal(prefixOf(input), expected));
  }

  const shadowCases: Array<[string, string, boolean]> = [
    ["/", "/sugang", true],
    ["/student", "/student/grades", true],
    ["/student", "/students", false],
    ["/sugang", "/", false],
    ["/a", "/a", false],
  ];
  for (const [outer, inner, expected] of shadowCases) {
    it(`${outer} ${expected ? "shadows" : "does not shadow"} ${inner}`, () => assert.equal(shadows(outer, inner), expected));
  }

  it("orders one service's prefixes longest first, deterministically", () => {
    assert.deepEqual(orderedPrefixes(["/", "/student/*", "/admin"]), ["/student", "/admin", "/"]);
    assert.deepEqual(orderedPrefixes(["/b", "/a", "/a/*"]), ["/a", "/b"]);
  });

  const orderCases: Array<{ name: string; services: Array<{ name: string; paths: string[] }>; expected: Record<string, number> | [string, string] }> = [
    {
      name: "course registration: student owns / so it goes after subject",
      services: [
        { name: "student", paths: ["/", "/student", "/admin"] },
        { name: "subject", paths: ["/sugang"] },
      ],
      expected: { subject: 10, student: 20 },
    },
    {
      name: "independent prefixes: longest first, then by name",
      services: [
        { name: "b", paths: ["/bb"] },
        { name: "a", paths: ["/aaaa"] },
        { name: "c", paths: ["/cc"] },
      ],
      expected: { a: 10, b: 20, c: 30 },
    },
    {
      name: "a chain: /x/y/z before /x/y before /x",
      services: [
        { name: "x", paths: ["/x"] },
        { name: "xy", paths: ["/x/y"] },
        { name: "xyz", paths: ["/x/y/z"] },
      ],
      expected: { xyz: 10, xy: 20, x: 30 },
    },
    {
      name: "interleaved prefixes cannot be ordered",
      services: [
        { name: "a", paths: ["/x", "/y/z"] },
        { name: "b", paths: ["/x/w", "/y"] },
      ],
      expected: ["a", "b"],
    },
  ];
  for (const c of orderCases) {
    it(`ingress order: ${c.name}`, () => {
      const result = ingressOrder(c.services);
      if (Array.isArray(c.expected)) {
        assert.ok("conflict" in result);
        assert.deepEqual(result.conflict, c.expected);
      } else {
        assert.ok("order" in result);
        assert.deepEqual(Object.fromEntries(result.order), c.expected);
      }
    });
  }

  const timingCases = [0, 10, 20, 30, 300];
  for (const delay of timingCases) {
    it(`drain timing for a ${delay}s deregistration delay keeps delay <= preStop < grace`, () => {
      const t = drainTiming(delay);
      assert.equal(t.deregistrationDelaySeconds, delay);
      assert.ok(t.deregistrationDelaySeconds <= t.preStopSleepSeconds);
      assert.ok(t.preStopSleepSeconds < t.terminationGracePeriodSeconds);
    });
  }
});

describe("health paths through the ALB", () => {
  // Seed 004's routing: student owns /, /student and /admin; subject owns /sugang and serves under
  // that context path, so its health endpoint is /sugang/actuator/health inside the container too.
  const student = { name: "student", paths: ["/", "/student", "/admin"], healthPath: "/actuator/health" };
  const subject = { name: "subject", paths: ["/sugang"], healthPath: "/sugang/actuator/health", contextPath: "/sugang" };
  const seed004 = [student, subject];
  const cases: ReadonlyArray<{ name: string; path: string; services?: ReadonlyArray<{ name: string; paths: readonly string[] }>; owner: string | undefined }> = [
    { name: "the catch-all owner gets unclaimed paths", path: "/actuator/health", owner: "student" },
    { name: "a longer prefix wins over /", path: "/sugang/actuator/health", owner: "subject" },
    { name: "a prefix matches itself", path: "/sugang", owner: "subject" },
    { name: "a prefix does not match a longer word", path: "/sugangs/x", owner: "student" },
    { name: "no catch-all: an unclaimed path has no owner", path: "/actuator/health", services: [subject], owner: undefined },
    { name: "/* and / are the same prefix", path: "/x", services: [{ name: "a", paths: ["/*"] }], owner: "a" },
  ];
  for (const c of cases) {
    it(`routeOwner: ${c.name}`, () => assert.equal(routeOwner(c.path, c.services ?? seed004), c.owner));
  }

  it("the gate probes the container's own health path: the ALB forwards the path unchanged", () => {
    assert.equal(healthUrl("preview.staging.example.com", subject), "https://preview.staging.example.com/sugang/actuator/health");
    assert.equal(healthUrl("staging.example.com", student), "https://staging.example.com/actuator/health");
  });

  const problemCases: ReadonlyArray<{ name: string; service: RoutedHealth; all?: readonly RoutedHealth[]; problem: RegExp | undefined }> = [
    { name: "the service owning / at its root health path", service: student, problem: undefined },
    { name: "a service under its context path", service: subject, problem: undefined },
    { name: "a context path left implicit but in the health path", service: { name: "subject", paths: ["/sugang"], healthPath: "/sugang/actuator/health" }, problem: undefined },
    {
      name: "a root health path of a service routed only under /sugang (targets and gate cannot both pass)",
      service: { name: "subject", paths: ["/sugang"], healthPath: "/actuator/health" },
      problem: /the ALB routes "\/actuator\/health" to service "student", not to "subject"/,
    },
    {
      name: "a health path no service is routed",
      service: { name: "subject", paths: ["/sugang"], healthPath: "/health" },
      all: [{ name: "subject", paths: ["/sugang"], healthPath: "/health" }],
      problem: /the ALB routes "\/health" to no service/,
    },
    {
      name: "a health path outside the declared context path",
      service: { name: "subject", paths: ["/sugang", "/api"], healthPath: "/api/health", contextPath: "/sugang" },
      all: [{ name: "subject", paths: ["/sugang", "/api"], healthPath: "/api/health", contextPath: "/sugang" }],
      problem: /does not start with the context path "\/sugang"/,
    },
  ];
  for (const c of problemCases) {
    it(`healthPathProblem: ${c.name}`, () => {
      const problem = healthPathProblem(c.service, c.all ?? [student, c.service]);
      if (c.problem === undefined) {
        assert.equal(problem, undefined);
      } else {
        assert.match(problem?.message ?? "(none)", c.problem);
      }
    });
  }

  it("contextPathProblems: every routed path lies under the declared context path", () => {
    assert.deepEqual(contextPathProblems({ paths: ["/sugang", "/sugang/v2"], contextPath: "/sugang" }), []);
    assert.deepEqual(contextPathProblems({ paths: ["/sugang"] }), []);
    assert.deepEqual(
      contextPathProblems({ paths: ["/sugang", "/api"], contextPath: "/sugang" }).map((p) => p.index),
      [1],
    );
    assert.match(contextPathProblems({ paths: ["/api"], contextPath: "/sugang" })[0]?.message ?? "", /"\/api" is not under the context path "\/sugang"/);
  });

  it("canaryShare: the idle color's live weight only while strictly between 0 and 100", () => {
    const action = (blue: number, green: number): string =>
      JSON.stringify({ type: "forward", ForwardConfig: { TargetGroups: [{ ServiceName: "web-blue", ServicePort: "80", Weight: blue }, { ServiceName: "web-green", ServicePort: "80", Weight: green }] } });
    const cases: Array<[string | undefined, "blue" | "green", { canaryWeight?: number }]> = [
      [action(90, 10), "blue", { canaryWeight: 10 }],
      [action(90, 10), "green", { canaryWeight: 90 }], // the idle color is blue
      [action(50, 50), "green", { canaryWeight: 50 }],
      [action(100, 0), "blue", {}],
      [action(0, 100), "blue", {}],
      [undefined, "blue", {}],
      ["not json", "blue", {}],
    ];
    for (const [forward, active, want] of cases) {
      assert.deepEqual(canaryShare(forward, active, "web-blue", "web-green"), want, `${forward ?? "undefined"} active ${active}`);
    }
  });
});
