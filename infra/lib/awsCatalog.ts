/**
 * What AWS offers, as the config may name it: availability zones per region, instance families
 * and sizes, engine versions. Config validation refuses anything outside these lists before a
 * resource is declared, instead of letting CreateCluster, CreateDBInstance or CreateDomain reject
 * it halfway through an `up`. No Pulumi imports; tested table-driven (test/awsCatalog.test.ts).
 *
 * Maintained by hand: reviewed 2026-11-30 from the AWS pages named beside each list (this machine
 * has no AWS access). To extend a list, check the value with the AWS CLI command named there and
 * add it with the date; a value AWS retires should leave the list the same way.
 */

/** The date the lists below were last reviewed. */
export const CATALOG_REVIEWED = "2026-11-30";

/**
 * Zone letters per region. Source: "AWS Availability Zones"
 * (https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html)
 * and `aws ec2 describe-availability-zones --region <region>`. Regions whose zone names are mapped
 * per account (us-east-1, us-west-1, ap-northeast-1, ca-central-1) list every letter any account
 * can see; an account still only sees its own subset.
 */
export const AVAILABILITY_ZONE_LETTERS: Readonly<Record<string, string>> = {
  "us-east-1": "abcdef",
  "us-east-2": "abc",
  "us-west-1": "abc",
  "us-west-2": "abcd",
  "ca-central-1": "abd",
  "eu-west-1": "abc",
  "eu-west-2": "abc",
  "eu-west-3": "abc",
  "eu-central-1": "abc",
  "eu-north-1": "abc",
  "ap-northeast-1": "abcd",
  "ap-northeast-2": "abcd",
  "ap-northeast-3": "abc",
  "ap-southeast-1": "abc",
  "ap-southeast-2": "abc",
  "ap-south-1": "abc",
  "sa-east-1": "abc",
};

/** Why an AZ cannot be used in `region`, or undefined when it can. */
export function availabilityZoneProblem(az: string, region: string): string | undefined {
  const letters = AVAILABILITY_ZONE_LETTERS[region];
  if (!az.startsWith(region) || az.length !== region.length + 1) {
    return `"${az}" is not a zone of ${region} (zones are the region name plus one letter, e.g. ${region}a)`;
  }
  if (letters === undefined) {
    return `region ${region} is not in the maintained zone list (reviewed ${CATALOG_REVIEWED})`;
  }
  const letter = az.slice(region.length);
  return letters.includes(letter) ? undefined : `${az} does not exist: ${region} has zones ${[...letters].map((l) => `${region}${l}`).join(", ")}`;
}

/**
 * EC2 instance families the platform may run (nodes, the test host, the bastion): current x86
 * (Intel, AMD) and Graviton generations of general purpose, compute and memory optimized, and the
 * burstable ones. Source: https://aws.amazon.com/ec2/instance-types/ and
 * `aws ec2 describe-instance-types --instance-types <type>`. Previous generations (m4, c4, r4, t1,
 * m1...) are out: not offered in newer AZs and slower per dollar.
 */
export const EC2_FAMILIES: Readonly<Record<string, "burstable" | "standard">> = {
  t2: "burstable",
  t3: "burstable",
  t3a: "burstable",
  t4g: "burstable",
  ...Object.fromEntries(
    [
      "m5", "m5a", "m5d", "m6i", "m6a", "m6g", "m6gd", "m7i", "m7i-flex", "m7a", "m7g", "m7gd", "m8g",
      "c5", "c5a", "c5d", "c6i", "c6a", "c6g", "c6gd", "c6gn", "c7i", "c7i-flex", "c7a", "c7g", "c7gd", "c8g",
      "r5", "r5a", "r5d", "r6i", "r6a", "r6g", "r6gd", "r7i", "r7a", "r7g", "r7gd", "r8g",
    ].map((f) => [f, "standard" as const]),
  ),
};

const BURSTABLE_SIZES = ["nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"];
const STANDARD_SIZES = ["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge", "48xlarge", "metal"];

/** Why `type` is not an EC2 instance type of the list, or undefined. */
export function ec2InstanceTypeProblem(type: string): string | undefined {
  const [family, size, extra] = type.split(".");
  const kind = EC2_FAMILIES[family ?? ""];
  if (kind === undefined || size === undefined || extra !== undefined) {
    return `"${type}" is not an EC2 instance type of a current family (${Object.keys(EC2_FAMILIES).join(", ")}; list reviewed ${CATALOG_REVIEWED})`;
  }
  const sizes = kind === "burstable" ? BURSTABLE_SIZES : STANDARD_SIZES;
  return sizes.includes(size) ? undefined : `"${type}": ${family} has no size "${size}" (sizes: ${sizes.join(", ")})`;
}

/**
 * RDS instance classes for MariaDB. Source: "Supported DB engines for DB instance classes"
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Support.html)
 * and `aws rds describe-orderable-db-instance-options --engine mariadb --engine-version <v>`.
 * db.t2 and db.m4/r4 are not offered for MariaDB 10.11 and later.
 */
export const RDS_MARIADB_CLASSES: Readonly<Record<string, readonly string[]>> = {
  "db.t3": ["micro", "small", "medium", "large", "xlarge", "2xlarge"],
  "db.t4g": ["micro", "small", "medium", "large", "xlarge", "2xlarge"],
  ...Object.fromEntries(
    ["db.m5", "db.m6g", "db.m6i", "db.m7g", "db.r5", "db.r6g", "db.r6i", "db.r7g"].map((f) => [f, ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"]]),
  ),
};

export function rdsInstanceClassProblem(instanceClass: string): string | undefined {
  const i = instanceClass.lastIndexOf(".");
  const family = instanceClass.slice(0, i);
  const size = instanceClass.slice(i + 1);
  const sizes = RDS_MARIADB_CLASSES[family];
  if (sizes === undefined) {
    return `"${instanceClass}" is not an RDS instance class offered for MariaDB (${Object.keys(RDS_MARIADB_CLASSES).join(", ")}; list reviewed ${CATALOG_REVIEWED})`;
  }
  return sizes.includes(size) ? undefined : `"${instanceClass}": ${family} has no size "${size}" (sizes: ${sizes.join(", ")})`;
}

/**
 * MariaDB major versions in RDS standard support. Source: "MariaDB on Amazon RDS versions" and the
 * RDS release calendar (https://docs.aws.amazon.com/AmazonRDS/latest/MariaDBReleaseNotes/Welcome.html),
 * `aws rds describe-db-engine-versions --engine mariadb`. 10.5 left standard support in 2025 and
 * 10.6 with MariaDB's own end of life in 2026.
 */
export const MARIADB_MAJOR_VERSIONS = ["10.11", "11.4", "11.8"] as const;

export function mariadbVersionProblem(version: string): string | undefined {
  const m = /^(\d+\.\d+)(\.\d+)?$/.exec(version);
  if (m === null) {
    return `"${version}" is not a MariaDB version (major.minor, e.g. 11.4)`;
  }
  return (MARIADB_MAJOR_VERSIONS as readonly string[]).includes(m[1])
    ? undefined
    : `MariaDB ${m[1]} is not a major version RDS supports (${MARIADB_MAJOR_VERSIONS.join(", ")}; list reviewed ${CATALOG_REVIEWED})`;
}

/**
 * OpenSearch Service engine versions. Source: "Supported versions of Elasticsearch and OpenSearch"
 * (https://docs.aws.amazon.com/opensearch-service/latest/developerguide/what-is.html#choosing-version)
 * and `aws opensearch list-versions`.
 */
export const OPENSEARCH_VERSIONS = ["OpenSearch_2.13", "OpenSearch_2.15", "OpenSearch_2.17", "OpenSearch_2.19", "OpenSearch_3.1"] as const;

export function opensearchVersionProblem(version: string): string | undefined {
  return (OPENSEARCH_VERSIONS as readonly string[]).includes(version)
    ? undefined
    : `"${version}" is not an OpenSearch Service version of the list (${OPENSEARCH_VERSIONS.join(", ")}; reviewed ${CATALOG_REVIEWED})`;
}

/**
 * OpenSearch Service instance families (`<family>.<size>.search`). Source: "Supported instance
 * types in Amazon OpenSearch Service"
 * (https://docs.aws.amazon.com/opensearch-service/latest/developerguide/supported-instance-types.html).
 */
export const OPENSEARCH_FAMILIES: Readonly<Record<string, readonly string[]>> = {
  t3: ["small", "medium"],
  ...Object.fromEntries(
    ["m5", "m6g", "m7g", "m7i", "c5", "c6g", "c7g", "c7i", "r5", "r6g", "r6gd", "r7g", "r7gd", "r7i", "or1", "or2", "om2", "im4gn", "i3"].map((f) => [
      f,
      ["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"],
    ]),
  ),
};

export function opensearchInstanceTypeProblem(type: string): string | undefined {
  const m = /^([a-z0-9]+)\.([a-z0-9]+)\.search$/.exec(type);
  const sizes = m === null ? undefined : OPENSEARCH_FAMILIES[m[1]];
  if (m === null || sizes === undefined) {
    return `"${type}" is not an OpenSearch Service instance type of the list (<family>.<size>.search; families ${Object.keys(OPENSEARCH_FAMILIES).join(", ")}; reviewed ${CATALOG_REVIEWED})`;
  }
  return sizes.includes(m[2]) ? undefined : `"${type}": ${m[1]} has no size "${m[2]}" (sizes: ${sizes.join(", ")})`;
}
