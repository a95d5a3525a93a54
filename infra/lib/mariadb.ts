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
