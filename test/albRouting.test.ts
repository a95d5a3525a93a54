import { strict as assert } from "assert";
import { normaliseRoutePath, pathPatterns, planRoutes, routeSlug } from "../infra/lib/albRouting";

describe("routing plan (pure)", () => {
  const cases: Array<{ name: string; input: Array<{ service: string; paths: string[] }>; expect: Array<[string, string, number]> }> = [
    {
      name: "the course-registration routing: specific prefixes before the catch-all",
      input: [
        { service: "student", paths: ["/", "/student", "/admin"] },
        { service: "subject", paths: ["/sugang"] },
      ],
      expect: [
        ["/student", "student", 12100],
        ["/sugang", "subject", 12200],
        ["/admin", "student", 12300],
        ["/", "student", 12800],
      ],
    },
    {
      name: "nested prefixes: the deeper one wins, wildcard and trailing slash forms normalise",
      input: [
        { service: "api", paths: ["/api/*"] },
        { service: "admin-api", paths: ["/api/admin/"] },
      ],
      expect: [
        ["/api/admin", "admin-api", 11900],
        ["/api", "api", 12500],
      ],
    },
    {
      name: "same-length paths rank alphabetically",
      input: [{ service: "a", paths: ["/bb", "/aa", "/cc"] }],
      expect: [
        ["/aa", "a", 12600],
        ["/bb", "a", 12601],
        ["/cc", "a", 12602],
      ],
    },
    { name: "only the catch-all", input: [{ service: "web", paths: ["/*"] }], expect: [["/", "web", 12800]] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(
        planRoutes(c.input).map((r) => [r.path, r.service, r.priority]),
        c.expect,
      );
    });
  }

  it("adding a path of another length leaves every existing priority unchanged", () => {
    const before = planRoutes([{ service: "s", paths: ["/", "/student", "/admin"] }]);
    const after = planRoutes([{ service: "s", paths: ["/", "/student", "/admin", "/api"] }]);
    for (const r of before) {
      assert.equal(after.find((a) => a.path === r.path)?.priority, r.priority, r.path);
    }
  });

  const errors: Array<[string, Array<{ service: string; paths: string[] }>, RegExp]> = [
    ["a path routed to two services", [{ service: "a", paths: ["/x"] }, { service: "b", paths: ["/x/*"] }], /routed to both "a" and "b"/],
    ["a path listed twice", [{ service: "a", paths: ["/x", "/x/"] }], /listed twice for service "a"/],
    ["two paths with one rule name", [{ service: "a", paths: ["/a-b", "/a/b"] }], /same rule name "a-b"/],
    ["a relative path", [{ service: "a", paths: ["x"] }], /must start with "\/"/],
    ["over 100 rules", [{ service: "a", paths: Array.from({ length: 101 }, (_, i) => `/p${i}`) }], /exceed the ALB's 100 rules/],
  ];
  for (const [name, input, message] of errors) {
    it(`rejects ${name}`, () => assert.throws(() => planRoutes(input), message));
  }

  const patterns: Array<[string, string[], string, string]> = [
    ["/", ["/*"], "/", "root"],
    ["/*", ["/*"], "/", "root"],
    ["/student", ["/student", "/student/*"], "/student", "student"],
    ["/student/*", ["/student", "/student/*"], "/student", "student"],
    ["/api/v1/", ["/api/v1", "/api/v1/*"], "/api/v1", "api-v1"],
  ];
  for (const [path, values, normalised, slug] of patterns) {
    it(`${path} -> ${JSON.stringify(values)}`, () => {
      assert.deepEqual(pathPatterns(path), values);
      assert.equal(normaliseRoutePath(path), normalised);
      assert.equal(routeSlug(path), slug);
    });
  }
});
