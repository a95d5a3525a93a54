/**
 * The test host's containers, as pure functions: host port assignment, the first-boot script
 * (user data) that installs one systemd unit per service, and the checks on service names and
 * environment variables. No Pulumi imports; tested table-driven (test/hostContainers.test.ts).
 */
import { parseEcrImage } from "./ecr";
import { DB_COLLATION, RDS_CA_BUNDLE_PATH } from "./mariadb";

/**
 * Host ports in service order: base, base+1, ... Appending a service keeps every existing port;
 * reordering or removing one renumbers the later ones, which replaces their target groups
 * (create-before-delete, so routing never points at a missing group).
 */
export function assignHostPorts(names: readonly string[], base = 8001): Record<string, number> {
  if (!Number.isInteger(base) || base < 1024 || base + names.length - 1 > 65535) {
    throw new Error(`host ports ${base}-${base + names.length - 1} are outside 1024-65535`);
  }
  const ports: Record<string, number> = {};
  names.forEach((n, i) => {
    if (n in ports) {
      throw new Error(`service "${n}" is listed twice`);
    }
    ports[n] = base + i;
  });
  return ports;
}

/** `host` of `host:port` (RDS `endpoint`) or the address itself. */
export function endpointHost(endpoint: string): string {
  return endpoint.replace(/:\d+$/, "");
}

/** Single-quotes a word for bash. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Variables the host sets itself; a service's own `env` may not redefine them. */
export const RESERVED_ENV = ["AWS_REGION", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USERNAME", "DB_PASSWORD", "DB_SSL_MODE", "DB_SSL_CA", "DB_COLLATION", "IMAGE_BUCKET"] as const;

export interface UserDataService {
  readonly name: string;
  readonly port: number;
  readonly hostPort: number;
  readonly image: string;
  readonly env: Readonly<Record<string, string>>;
  readonly readOnlyRootFilesystem: boolean;
  /** Set when the service gets the images bucket. */
  readonly imageBucket?: string;
}

export interface UserDataParams {
  readonly region: string;
  readonly logGroupName: string;
  readonly services: readonly UserDataService[];
  readonly database?: { readonly host: string; readonly port: number; readonly name: string; readonly secretArn: string };
}

const LIB = "/usr/local/lib/platform";
const EOF = "PLATFORM_EOF";

function file(path: string, mode: string, content: string): string {
  return [`cat > ${path} <<'${EOF}'`, content.trimEnd(), EOF, `chmod ${mode} ${path}`, ""].join("\n");
}

function runScript(s: UserDataService, p: UserDataParams): string {
  const args: string[] = [
    "exec /usr/bin/docker run --rm",
    `--name ${shellQuote(s.name)}`,
    `-p ${s.hostPort}:${s.port}`,
    "--security-opt no-new-privileges",
    ...(s.readOnlyRootFilesystem ? ["--read-only --tmpfs /tmp:rw,nosuid,nodev,size=256m"] : []),
    "--log-driver=awslogs",
    `--log-opt awslogs-region=${shellQuote(p.region)}`,
    `--log-opt awslogs-group=${shellQuote(p.logGroupName)}`,
    `--log-opt awslogs-stream=${shellQuote(s.name)}`,
    `-e AWS_REGION=${shellQuote(p.region)}`,
  ];
  if (p.database !== undefined) {
    args.push(
      "--env-file /run/platform/db.env",
      `-e DB_HOST=${shellQuote(p.database.host)}`,
      `-e DB_PORT=${p.database.port}`,
      `-e DB_NAME=${shellQuote(p.database.name)}`,
      // The same TLS and collation contract as the EKS services (DB_SSL_CA: the image carries the
      // RDS CA bundle there); the server refuses connections without TLS.
      `-e DB_SSL_MODE=${shellQuote("verify-full")}`,
      `-e DB_SSL_CA=${shellQuote(RDS_CA_BUNDLE_PATH)}`,
      `-e DB_COLLATION=${shellQuote(DB_COLLATION)}`,
    );
  }
  if (s.imageBucket !== undefined) {
    args.push(`-e IMAGE_BUCKET=${shellQuote(s.imageBucket)}`);
  }
  for (const [k, v] of Object.entries(s.env)) {
    args.push(`-e ${shellQuote(`${k}=${v}`)}`);
  }
  args.push(shellQuote(s.image));
  return ["#!/bin/bash", "set -euo pipefail", args.join(" \\\n  ")].join("\n");
}

function unit(s: UserDataService, withDatabase: boolean): string {
  return [
    "[Unit]",
    `Description=Platform service ${s.name} (container)`,
    "Requires=docker.service",
    "After=docker.service network-online.target",
    "Wants=network-online.target",
    "",
    "[Service]",
    `ExecStartPre=-/usr/bin/docker rm -f ${s.name}`,
    // Re-read on every start: a restart picks up a rotated password.
    ...(withDatabase ? [`ExecStartPre=${LIB}/db-env.sh`] : []),
    `ExecStart=${LIB}/run-${s.name}.sh`,
    `ExecStop=/usr/bin/docker stop ${s.name}`,
    "Restart=always",
    "RestartSec=5",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
  ].join("\n");
}

/** Throws on names that cannot name a container/unit and on env keys the host owns. */
export function checkServiceNamesAndEnv(services: ReadonlyArray<{ readonly name: string; readonly env?: Readonly<Record<string, string>> }>): void {
  for (const s of services) {
    if (!/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/.test(s.name)) {
      throw new Error(`service name "${s.name}" must be a DNS label (it names a container and a systemd unit)`);
    }
    for (const k of Object.keys(s.env ?? {})) {
      if ((RESERVED_ENV as readonly string[]).includes(k)) {
        throw new Error(`service "${s.name}" sets ${k}, which the test host sets itself; remove it from the service's env`);
      }
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
        throw new Error(`service "${s.name}" has an invalid environment variable name "${k}"`);
      }
    }
  }
}

/**
 * The scripts and units that keep the database credentials in /run/platform/db.env: fetched with
 * the instance role at every service start, and refreshed when RDS rotates the secret.
 */
function databaseScripts(region: string, secretArn: string): string[] {
  return [
    file(
      `${LIB}/db-env.sh`,
      "0700",
      [
        "#!/bin/bash",
        "set -euo pipefail",
        "umask 077",
        "install -d -m 0700 /run/platform",
        `aws secretsmanager get-secret-value --region ${shellQuote(region)} --secret-id ${shellQuote(secretArn)} --query SecretString --output text \\`,
        `  | jq -r '"DB_USERNAME=\\(.username)", "DB_PASSWORD=\\(.password)"' > /run/platform/db.env.new`,
        "mv /run/platform/db.env.new /run/platform/db.env",
      ].join("\n"),
    ),
    // RDS rotates a managed master secret (every 7 days by default). Pooled connections survive
    // a rotation but new ones fail, so restart the services when the secret changed.
    file(
      `${LIB}/db-refresh.sh`,
      "0700",
      [
        "#!/bin/bash",
        "set -euo pipefail",
        "before=$(sha256sum /run/platform/db.env 2>/dev/null || true)",
        `${LIB}/db-env.sh`,
        "after=$(sha256sum /run/platform/db.env)",
        "if [ \"$before\" != \"$after\" ]; then systemctl restart 'platform-svc-*.service'; fi",
      ].join("\n"),
    ),
    file(
      "/etc/systemd/system/platform-db-refresh.service",
      "0644",
      ["[Unit]", "Description=Restart the platform services when the database secret rotated", "", "[Service]", "Type=oneshot", `ExecStart=${LIB}/db-refresh.sh`].join("\n"),
    ),
    file(
      "/etc/systemd/system/platform-db-refresh.timer",
      "0644",
      ["[Unit]", "Description=Check the database secret for rotation", "", "[Timer]", "OnBootSec=15min", "OnUnitActiveSec=15min", "", "[Install]", "WantedBy=timers.target"].join("\n"),
    ),
  ];
}

/**
 * The instance's first-boot script. It carries no secret: the database password is fetched at
 * runtime with the instance role into /run (tmpfs, root only), so it never reaches the user data
 * (readable through the EC2 API), the disk, or the Pulumi state.
 */
export function renderUserData(p: UserDataParams): string {
  checkServiceNamesAndEnv(p.services);
  const db = p.database;
  const registries = new Map<string, string>();
  for (const s of p.services) {
    const ecr = parseEcrImage(s.image);
    if (ecr !== undefined) {
      registries.set(ecr.registry, ecr.region);
    }
  }
  const units = p.services.map((s) => `platform-svc-${s.name}.service`);

  const parts: string[] = [
    "#!/bin/bash",
    // The text names the file this renderer lived in when the shipped instances were created;
    // any edit of the script replaces the instance (userDataReplaceOnChange), so it stays verbatim.
    "# Rendered by infra/testHost.ts. cloud-init runs it once, on the instance's first boot; the",
    "# systemd units it installs bring the containers back after a reboot. Any change of this",
    "# script replaces the instance (userDataReplaceOnChange).",
    "set -euo pipefail",
    "",
    // The AL2023 repositories are served over HTTPS from S3, so egress 443 suffices.
    "dnf install -y docker jq",
    "systemctl enable --now docker",
    "",
    "retry() { for attempt in 1 2 3 4 5; do \"$@\" && return 0; sleep $((attempt * 10)); done; echo \"failed: $*\" >&2; return 1; }",
    "ecr_login() { aws ecr get-login-password --region \"$2\" | docker login --username AWS --password-stdin \"$1\"; }",
    "",
    `install -d -m 0755 ${LIB}`,
  ];

  if (db !== undefined) {
    parts.push(...databaseScripts(p.region, db.secretArn));
  }

  for (const s of p.services) {
    parts.push(file(`${LIB}/run-${s.name}.sh`, "0700", runScript(s, p)));
    parts.push(file(`/etc/systemd/system/platform-svc-${s.name}.service`, "0644", unit(s, db !== undefined)));
  }

  for (const [registry, region] of registries) {
    parts.push(`retry ecr_login ${shellQuote(registry)} ${shellQuote(region)}`);
  }
  for (const s of p.services) {
    parts.push(`retry docker pull ${shellQuote(s.image)}`);
  }
  // The login token stays valid for 12 hours; nothing needs it after the pulls (restarts reuse
  // the local images), so do not leave it on disk.
  for (const registry of registries.keys()) {
    parts.push(`docker logout ${shellQuote(registry)}`);
  }
  parts.push("", "systemctl daemon-reload");
  if (db !== undefined) {
    parts.push("systemctl enable --now platform-db-refresh.timer");
  }
  if (units.length > 0) {
    // --no-block: a failing first start (e.g. the new instance role not yet usable for Secrets Manager) is
    // retried by Restart=always instead of aborting this script.
    parts.push(`systemctl enable ${units.join(" ")}`, `systemctl start --no-block ${units.join(" ")}`);
  }
  return parts.join("\n") + "\n";
}
