/**
 * Probes judged against what an image really serves. Each pinned image states its facts beside
 * its pin (`defaults.imageFacts` of the component that pins it; the apps' images state theirs in
 * `platform:services`), and test/probes.test.ts checks every probe of every workload the stacks
 * declare against them. Pure; no Pulumi imports.
 *
 * Why: a probe that can never pass is invisible until a real kubelet runs it. aws-sigv4-proxy
 * 1.11.1 has no health route of its own (every path is signed and forwarded), so an
 * `httpGet /health` on it never succeeds: the retention Job's native sidecar never started its
 * main container and the Dashboards proxy never became Ready.
 */

/** An HTTP endpoint an image answers by itself (2xx while healthy), as a kubelet reaches it. */
export interface HttpEndpoint {
  readonly port: number;
  readonly path: string;
  readonly scheme: "HTTP" | "HTTPS";
}

/** What an image serves to probes: a reviewed fact tied to one image reference. */
export interface ImageProbeFacts {
  /** Ports the image listens on once its process is up (a `tcpSocket` probe there passes). */
  readonly tcpPorts: readonly number[];
  /** Endpoints the image answers itself; a path it only forwards upstream does not count. */
  readonly http: readonly HttpEndpoint[];
  /** Executables an `exec` probe may run; none for an image without a shell (FROM scratch). */
  readonly exec: readonly string[];
  /** Repository, tag or commit, and file:line the facts were read at (or the config that states them). */
  readonly source: string;
}

/** The probe handler fields this module judges (a subset of core/v1 Probe). */
export interface ProbeSpec {
  readonly httpGet?: { readonly path?: string; readonly port: number | string; readonly scheme?: string };
  readonly tcpSocket?: { readonly port: number | string };
  readonly exec?: { readonly command?: readonly string[] };
  readonly grpc?: { readonly port: number };
}

/** A container as declared (a subset of core/v1 Container). */
export interface ProbedContainer {
  readonly name: string;
  readonly image: string;
  readonly ports?: ReadonlyArray<{ readonly name?: string; readonly containerPort: number }>;
  readonly startupProbe?: ProbeSpec;
  readonly readinessProbe?: ProbeSpec;
  readonly livenessProbe?: ProbeSpec;
}

export const PROBE_KINDS = ["startupProbe", "readinessProbe", "livenessProbe"] as const;

function resolvePort(container: ProbedContainer, port: number | string): number | undefined {
  if (typeof port === "number") {
    return port;
  }
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

function describe(facts: ImageProbeFacts): string {
  const served = [
    ...facts.http.map((h) => `${h.scheme} :${h.port}${h.path}`),
    ...facts.tcpPorts.map((p) => `tcp :${p}`),
    ...facts.exec.map((e) => `exec ${e}`),
  ];
  return served.length > 0 ? served.join(", ") : "nothing a probe can use";
}

/** Problems with one probe of `container`, given what its image serves. */
export function probeProblems(where: string, container: ProbedContainer, kind: string, probe: ProbeSpec, facts: ImageProbeFacts): string[] {
  const at = `${where} container "${container.name}" ${kind}`;
  const notServed = (what: string): string => `${at}: ${what} is not served by ${container.image} (it serves ${describe(facts)}; ${facts.source})`;
  const problems: string[] = [];
  if (probe.httpGet !== undefined) {
    const port = resolvePort(container, probe.httpGet.port);
    const path = probe.httpGet.path ?? "/";
    const scheme = (probe.httpGet.scheme ?? "HTTP").toUpperCase();
    if (port === undefined) {
      problems.push(`${at}: port "${String(probe.httpGet.port)}" is not a named port of the container`);
    } else if (!facts.http.some((h) => h.port === port && h.path === path && h.scheme === scheme)) {
      problems.push(notServed(`httpGet ${scheme} :${port}${path}`));
    }
  }
  if (probe.tcpSocket !== undefined) {
    const port = resolvePort(container, probe.tcpSocket.port);
    if (port === undefined) {
      problems.push(`${at}: port "${String(probe.tcpSocket.port)}" is not a named port of the container`);
    } else if (!facts.tcpPorts.includes(port)) {
      problems.push(notServed(`tcpSocket :${port}`));
    }
  }
  if (probe.exec !== undefined) {
    const command = probe.exec.command?.[0] ?? "";
    if (!facts.exec.includes(command)) {
      problems.push(notServed(`exec "${command}"`));
    }
  }
  if (probe.grpc !== undefined) {
    problems.push(notServed(`grpc :${probe.grpc.port}`));
  }
  return problems;
}

/**
 * Problems with every probe of `container`: its image must state its facts (an unknown image
 * fails even without probes, so a new image cannot arrive without them), and each probe must
 * target something the image serves.
 */
export function containerProbeProblems(where: string, container: ProbedContainer, facts: ImageProbeFacts | undefined): string[] {
  if (facts === undefined) {
    return [`${where} container "${container.name}": image ${container.image} states no probe facts; read what it serves at that tag and state it beside its pin`];
  }
  return PROBE_KINDS.flatMap((kind) => {
    const probe = container[kind];
    return probe === undefined ? [] : probeProblems(where, container, kind, probe, facts);
  });
}

/**
 * What an application image serves, as its service's config states it: the port it listens on
 * and its `healthPath` there (the contract every image named in `platform:services` must keep).
 */
export function serviceImageFacts(service: { readonly name: string; readonly port: number; readonly healthPath: string }): ImageProbeFacts {
  return {
    tcpPorts: [service.port],
    http: [{ port: service.port, path: service.healthPath, scheme: "HTTP" }],
    exec: [],
    source: `platform:services "${service.name}" (port, healthPath)`,
  };
}

/** A probe handler found in Helm values, with the dotted path of its probe key (e.g. `server.livenessProbe`). */
export interface ValuesProbe {
  readonly path: string;
  readonly probe: ProbeSpec;
}

/** Every probe with a handler (httpGet, tcpSocket, exec, grpc) a Helm values tree declares. */
export function valuesProbes(values: unknown, path = ""): ValuesProbe[] {
  if (Array.isArray(values)) {
    return values.flatMap((v, i) => valuesProbes(v, `${path}[${i}]`));
  }
  if (values === null || typeof values !== "object") {
    return [];
  }
  return Object.entries(values as Record<string, unknown>).flatMap(([key, v]) => {
    const here = path === "" ? key : `${path}.${key}`;
    const handler =
      /^(startup|readiness|liveness)Probe$/.test(key) &&
      v !== null &&
      typeof v === "object" &&
      ["httpGet", "tcpSocket", "exec", "grpc"].some((h) => (v as Record<string, unknown>)[h] !== undefined);
    return handler ? [{ path: here, probe: v as ProbeSpec }] : valuesProbes(v, here);
  });
}
