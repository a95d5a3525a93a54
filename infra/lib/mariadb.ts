/**
 * RDS for MariaDB naming and version rules the Database component relies on. No Pulumi imports;
 * tested table-driven (test/database.test.ts).
 */

const MARIADB_VERSION = /^(\d+)\.(\d+)(\.\d+)?$/;

/** Major version of a MariaDB version as RDS counts it: `11.4.5` -> `11.4`. */
export function mariadbMajorVersion(engineVersion: string): string {
  const m = MARIADB_VERSION.exec(engineVersion.trim());
  if (m === null) {
    throw new Error(`MariaDB engine version "${engineVersion}" is not major.minor[.patch], e.g. 11.4`);
  }
  return `${Number(m[1])}.${Number(m[2])}`;
}

/** Parameter group family of a MariaDB version: `11.4` -> `mariadb11.4`. */
export function mariadbParameterGroupFamily(engineVersion: string): string {
  return `mariadb${mariadbMajorVersion(engineVersion)}`;
}

/**
 * Whether Performance Insights (Database Insights) exists for a MariaDB instance class: AWS does
 * not offer it on the smallest burstable classes, and enabling it there fails the API call.
 */
export function supportsPerformanceInsights(instanceClass: string): boolean {
  return !/^db\.(t2|t3|t4g)\.(micro|small)$/.test(instanceClass);
}

const DB_IDENTIFIER = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){0,62}$/;

/** Checks an RDS identifier (letter first, letters/digits/single hyphens, <= 63 chars, lower case). */
export function checkDbIdentifier(identifier: string): string {
  if (!DB_IDENTIFIER.test(identifier)) {
    throw new Error(
      `RDS identifier "${identifier}" is invalid: use 1-63 lower-case letters, digits and single hyphens, starting with a letter and not ending with a hyphen`,
    );
  }
  return identifier;
}

/**
 * The one character set and collation of the platform's databases: the parameter group's server
 * and connection defaults, and what the services are told to request (`DB_COLLATION`, the JDBC
 * URL's `connectionCollation`). `utf8mb4_unicode_ci` (UCA 4.0.0) rather than 11.4's
 * `utf8mb4_uca1400_ai_ci`: it exists on every MariaDB and MySQL version the services or their
 * test databases may run, so a dump restores anywhere with the same ordering.
 *
 * `character_set_collations` (MariaDB 11.2+) is deliberately not set: whether the RDS `mariadb11.4`
 * parameter group family exposes it was not verified (`aws rds describe-engine-default-parameters
 * --db-parameter-group-family mariadb11.4`), and an unknown name fails ModifyDBParameterGroup. A
 * client or DDL that names only `utf8mb4` therefore gets that variable's mapping or utf8mb4's
 * compiled default (`utf8mb4_general_ci`), not `collation_server`; the services avoid that by
 * sending `SET NAMES utf8mb4 COLLATE <DB_COLLATION>` (Connector/J 3.x `connectionCollation`,
 * StandardClient.addCharsetCommand at 3.5.9), and migrations name the COLLATE or no charset at all.
 */
export const DB_CHARSET = "utf8mb4";
export const DB_COLLATION = "utf8mb4_unicode_ci";

/**
 * Where containers find the RDS CA bundle (PEM, every RDS root and intermediate CA); images carry it
 * (`ADD https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /etc/ssl/rds/global-bundle.pem`).
 * The JDK and distribution trust stores do not hold the RDS CAs.
 */
export const RDS_CA_BUNDLE_PATH = "/etc/ssl/rds/global-bundle.pem";
/** The public source of that bundle (RDS user guide, "Using SSL/TLS to encrypt a connection"). */
export const RDS_CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem";

export interface JdbcSettings {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** Database user authenticated with an IAM token (Connector/J's `AWS-IAM` credential plugin). */
  readonly user: string;
}

/**
 * The MariaDB Connector/J 3.x URL a service uses: IAM authentication (`credentialType=AWS-IAM`
 * generates a token per connection from the pod's IRSA credentials; needs
 * `software.amazon.awssdk:rds` and `:sts` on the classpath), TLS verifying the server's certificate
 * and host name against the RDS CA bundle (`sslMode=verify-full`, `serverSslCert`; Connector/J
 * defaults to no TLS, Configuration.java at 3.5.9), and the platform's collation.
 */
export function jdbcUrl(s: JdbcSettings): string {
  const query = new URLSearchParams({
    user: s.user,
    credentialType: "AWS-IAM",
    sslMode: "verify-full",
    serverSslCert: RDS_CA_BUNDLE_PATH,
    connectionCollation: DB_COLLATION,
  });
  return `jdbc:mariadb://${s.host}:${s.port}/${s.database}?${query.toString().replace(/%2F/g, "/")}`;
}

/**
 * The database environment of a service container: where to connect, as which user, with which
 * authentication (`iam`: a 15-minute token from `rds generate-db-auth-token`, in SDKs
 * RdsUtilities / `generate_db_auth_token`, signed with the pod's IRSA credentials), TLS verifying
 * the server against the RDS CA bundle (the server requires TLS), the collation, and the whole
 * as a Connector/J URL for Spring (`spring.datasource.url=${DB_JDBC_URL}`).
 */
export function serviceDatabaseEnv(s: JdbcSettings): Record<string, string> {
  return {
    DB_HOST: s.host,
    DB_PORT: String(s.port),
    DB_NAME: s.database,
    DB_USER: s.user,
    DB_AUTH: "iam",
    DB_SSL_MODE: "verify-full",
    DB_SSL_CA: RDS_CA_BUNDLE_PATH,
    DB_COLLATION,
    DB_JDBC_URL: jdbcUrl(s),
  };
}

/** The variables `serviceDatabaseEnv` sets, so the program can declare each one as its own value. */
export const SERVICE_DATABASE_ENV = ["DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_AUTH", "DB_SSL_MODE", "DB_SSL_CA", "DB_COLLATION", "DB_JDBC_URL"] as const;

/** MariaDB account names the services log in as: the service name (a DNS label, so no quoting issue). */
export function serviceDbUser(service: string): string {
  return service;
}

/**
 * The `rds-db:connect` resource of one database user: `arn:<partition>:rds-db:<region>:<account>:dbuser:<DbiResourceId>/<user>`
 * (RDS user guide, "Creating and using an IAM policy for IAM database access"; the resource id, not
 * the instance identifier).
 */
export function rdsDbUserArn(p: { partition: string; region: string; accountId: string; resourceId: string; user: string }): string {
  return `arn:${p.partition}:rds-db:${p.region}:${p.accountId}:dbuser:${p.resourceId}/${p.user}`;
}

/**
 * The one-time SQL an operator runs as the master user (through the bastion) to create the
 * services' IAM-authenticated users. RDS cannot declare database users, so this is an output to
 * run, idempotent (`IF NOT EXISTS`), and the grants are data only: schema changes (DDL) are
 * for migrations run with the master credentials. `AWSAuthenticationPlugin AS 'RDS'` is the RDS
 * syntax for IAM authentication on MariaDB; `REQUIRE SSL` because tokens must not cross in clear.
 */
export function appUsersSql(database: string, users: readonly string[]): string {
  const db = `\`${database.replace(/`/g, "``")}\``;
  return [
    `ALTER DATABASE ${db} CHARACTER SET ${DB_CHARSET} COLLATE ${DB_COLLATION};`,
    ...users.flatMap((u) => [
      `CREATE USER IF NOT EXISTS '${u}'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS' REQUIRE SSL;`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ${db}.* TO '${u}'@'%';`,
    ]),
  ].join("\n");
}
