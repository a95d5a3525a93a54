/**
 * What the services get to talk to MariaDB: TLS they can verify (the server requires it), one
 * collation end to end, and credentials of their own (IAM database authentication per service
 * user) instead of the RDS-managed master secret, which rotates every 7 days under running pods.
 */
import { strict as assert } from "assert";
import { DB_COLLATION, RDS_CA_BUNDLE_PATH } from "../infra/lib/mariadb";
import type { DeclaredResource, State } from "../automation/offline/mocks";
import { Evaluation, named, ofType, shippedStack } from "./stack";

type Obj = Record<string, unknown>;
const o = (v: unknown): Obj => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource?: string | string[];
}
const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resources = (s: Statement): string[] => (s.Resource === undefined ? [] : Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

function parameters(ev: Evaluation, stack: string): Map<string, string> {
  const pg = named(ev, "aws:rds/parameterGroup:ParameterGroup", `${stack}-db-params`);
  return new Map(arr(pg.inputs["parameters"]).map((p) => [String(o(p)["name"]), String(o(p)["value"])]));
}

/** The env of a service's container in one color's Deployment, as name -> value. */
function containerEnv(ev: Evaluation, service: string, color: string): Map<string, string> {
  const deployment = named(ev, "kubernetes:apps/v1:Deployment", `${service}-${color}`);
  const container = o(arr(o(o(o(o(deployment.inputs["spec"])["template"])["spec"]))["containers"])[0]);
  return new Map(arr(container["env"]).map((e) => [String(o(e)["name"]), String(o(e)["value"])]));
}

function statementsOf(policy: DeclaredResource): Statement[] {
  const doc = JSON.parse(String(policy.inputs["policy"])) as { Statement: Statement[] };
  return doc.Statement;
}

describe("MariaDB clients: collation, TLS and credentials", () => {
  for (const stack of ["test", "staging", "prod"] as const) {
    it(`${stack}: the parameter group names one collation for utf8mb4, the one the services are told to use`, async () => {
      const params = parameters(await shippedStack(stack), stack);
      const collations = [...params].filter(([name]) => name.startsWith("collation_"));
      assert.deepEqual(collations.map(([name]) => name).sort(), ["collation_connection", "collation_server"]);
      for (const [name, value] of collations) {
        assert.equal(value, DB_COLLATION, name);
      }
      assert.match(DB_COLLATION, /^utf8mb4_/, "a collation of the server's character set");
      for (const [name, value] of [...params].filter(([n]) => n.startsWith("character_set_"))) {
        if (name === "character_set_collations") {
          assert.equal(value, `utf8mb4=${DB_COLLATION}`, "the charset-default override must agree");
        } else {
          assert.equal(value, "utf8mb4", name);
        }
      }
      assert.equal(params.get("require_secure_transport"), "1");
    });
  }

  for (const stack of ["staging", "prod"] as const) {
    describe(`${stack} services`, () => {
      let ev: Evaluation;
      let serviceNames: string[];
      before(async () => {
        ev = await shippedStack(stack);
        serviceNames = arr(ev.outputs["services"]).map((s) => String(o(s)["name"]));
      });

      it("are told to verify the server's certificate against the RDS CA bundle, with the parameter group's collation", () => {
        const collation = parameters(ev, stack).get("collation_server");
        for (const name of serviceNames) {
          for (const color of ["blue", "green"]) {
            const env = containerEnv(ev, name, color);
            assert.equal(env.get("DB_SSL_MODE"), "verify-full", `${name}-${color}`);
            assert.equal(env.get("DB_SSL_CA"), RDS_CA_BUNDLE_PATH);
            assert.equal(env.get("DB_COLLATION"), collation);
            const url = new URL(String(env.get("DB_JDBC_URL")).replace(/^jdbc:/, ""));
            assert.equal(url.protocol, "mariadb:");
            assert.equal(url.host, `${stack}-db-instance.cluster.ap-northeast-2.rds.amazonaws.com:3306`);
            assert.equal(url.pathname, "/sugang");
            assert.equal(url.searchParams.get("sslMode"), "verify-full");
            assert.equal(url.searchParams.get("serverSslCert"), RDS_CA_BUNDLE_PATH);
            assert.equal(url.searchParams.get("connectionCollation"), collation);
            assert.equal(url.searchParams.get("credentialType"), "AWS-IAM");
            assert.equal(url.searchParams.get("user"), name);
          }
        }
      });

      it("connect as their own database user through IAM authentication, never with the master secret", () => {
        const instance = named(ev, "aws:rds/instance:Instance", `${stack}-db-instance`);
        assert.equal(instance.inputs["iamDatabaseAuthenticationEnabled"], true);
        for (const name of serviceNames) {
          for (const color of ["blue", "green"]) {
            const env = containerEnv(ev, name, color);
            assert.equal(env.get("DB_USER"), name);
            assert.equal(env.get("DB_AUTH"), "iam");
            assert.equal(env.has("DB_SECRET_ARN"), false, "the master secret is not handed to services");
          }
          const policies = ofType(ev, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.name.startsWith(`${name}-irsa-`));
          const all = policies.flatMap(statementsOf);
          assert.deepEqual(all.flatMap(actions).filter((a) => a.startsWith("secretsmanager:")), [], `${name} reads no secret`);
          const connect = all.filter((s) => actions(s).includes("rds-db:connect"));
          assert.equal(connect.length, 1, `${name}: one rds-db:connect statement`);
          assert.deepEqual(actions(connect[0]), ["rds-db:connect"]);
          // arn:aws:rds-db:<region>:<account>:dbuser:<DbiResourceId>/<user> (RDS user guide, IAM database access policy).
          const resourceId = `db-${String(instance.inputs["identifier"]).toUpperCase().replace(/[^A-Z0-9]/g, "")}`;
          assert.deepEqual(resources(connect[0]), [`arn:aws:rds-db:ap-northeast-2:123456789012:dbuser:${resourceId}/${name}`]);
        }
      });
    });
  }

  it("the one-time SQL creates each service's IAM user with its grants and pins the database collation", async () => {
    const ev = await shippedStack("prod");
    const sql = String(o(ev.outputs["database"])["appUsersSql"]);
    for (const name of ["student", "subject"]) {
      assert.ok(sql.includes(`CREATE USER IF NOT EXISTS '${name}'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS' REQUIRE SSL;`), sql);
      assert.ok(sql.includes(`GRANT SELECT, INSERT, UPDATE, DELETE ON \`sugang\`.* TO '${name}'@'%';`), sql);
    }
    assert.ok(sql.includes(`ALTER DATABASE \`sugang\` CHARACTER SET utf8mb4 COLLATE ${DB_COLLATION};`), sql);
  });

  it("the test host's containers get the same TLS and collation settings", async () => {
    const ev = await shippedStack("test");
    const instance: State = named(ev, "aws:ec2/instance:Instance", "test-host-instance").inputs;
    const userData = String(instance["userData"]);
    for (const line of [`-e DB_SSL_MODE='verify-full'`, `-e DB_SSL_CA='${RDS_CA_BUNDLE_PATH}'`, `-e DB_COLLATION='${DB_COLLATION}'`]) {
      assert.ok(userData.includes(line), `missing ${line}`);
    }
  });
});
