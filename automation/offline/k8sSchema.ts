/**
 * Validates Kubernetes objects against the upstream JSON schemas shipped by `kubernetes-models`
 * (core APIs) and `@kubernetes-models/*` (CRDs such as ArgoCD's). Those packages are ESM-only
 * with an import-only exports map, so the model files are loaded by absolute path through
 * Node's require(esm) (Node >= 20.19), which keeps the driver and the tests CommonJS. They are
 * runtime dependencies: `plan` validates every stack's objects with them.
 */
import * as fs from "fs";
import * as path from "path";
import { unwrapSecrets } from "./mocks";
import { REPO_ROOT } from "./evaluate";

interface Model {
  validate(): void;
}
type ModelClass = new (data: unknown) => Model;

/** Types that are not Kubernetes objects (Helm releases render charts server-side). */
export const NOT_OBJECTS = new Set(["kubernetes:helm.sh/v3:Release", "pulumi:providers:kubernetes"]);

/** CRD groups and the package that ships their schemas. */
const CRD_PACKAGES: Record<string, string> = {
  "argoproj.io": "@kubernetes-models/argo-cd",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

/** `kubernetes:apps/v1:Deployment` -> the model file that validates it, or undefined. */
export function modelFile(type: string): string | undefined {
  const m = /^kubernetes:([^/]+)\/([^:]+):(.+)$/.exec(type);
  if (m === null) {
    return undefined;
  }
  const [, group, version, kind] = m;
  const pkg = CRD_PACKAGES[group];
  const file =
    pkg !== undefined
      ? path.join(REPO_ROOT, "node_modules", pkg, group, version, `${kind}.js`)
      : path.join(REPO_ROOT, "node_modules", "kubernetes-models", group === "core" ? "" : group, version, `${kind}.js`);
  return fs.existsSync(file) ? file : undefined;
}

const cache = new Map<string, ModelClass>();

function modelClass(file: string, kind: string): ModelClass {
  let cls = cache.get(file);
  if (cls === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(file) as Record<string, ModelClass>;
    cls = mod[kind];
    if (cls === undefined) {
      throw new Error(`${file} does not export ${kind}`);
    }
    cache.set(file, cls);
  }
  return cls;
}

/** Throws with the object's kind/name and the schema error when `object` is invalid. */
export function validateObject(type: string, name: string, object: Record<string, unknown>): void {
  const file = modelFile(type);
  if (file === undefined) {
    throw new Error(`no upstream schema for ${type} (${name}): add its model package to automation/offline/k8sSchema.ts`);
  }
  const kind = type.split(":").pop() ?? "";
  try {
    new (modelClass(file, kind))(unwrapSecrets(object)).validate();
  } catch (err) {
    throw new Error(`${type} "${name}" is invalid: ${(err as Error).message}`);
  }
}
