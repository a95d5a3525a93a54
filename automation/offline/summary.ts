/**
 * A reviewable summary of everything a stack declares: one entry per resource with its type,
 * logical name, provider and inputs (keys sorted, embedded JSON documents expanded), so that
 * every change to a stack shows up as a readable diff of test/golden/<stack>.yaml.
 */
import * as YAML from "yaml";
import { DeclaredResource, isSecretValue } from "./mocks";
import type { Evaluation } from "./evaluate";

function expandJson(value: string): unknown {
  const trimmed = value.trim();
  if ((trimmed.startsWith("{") && trimmed.endsWith("}")) || (trimmed.startsWith("[") && trimmed.endsWith("]"))) {
    try {
      return normalise(JSON.parse(trimmed));
    } catch {
      return value;
    }
  }
  return value;
}

export function normalise(value: unknown): unknown {
  if (isSecretValue(value)) {
    // Golden files are committed: a secret input is shown as such, never by value.
    return "[secret]";
  }
  if (typeof value === "string") {
    return expandJson(value);
  }
  if (Array.isArray(value)) {
    return value.map(normalise);
  }
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      if (key === "__defaults") {
        continue;
      }
      out[key] = normalise((value as Record<string, unknown>)[key]);
    }
    return out;
  }
  return value;
}

function providerName(ref: string | undefined): string | undefined {
  if (ref === undefined || ref === "") {
    return undefined;
  }
  const urn = ref.split("::").slice(0, -1).join("::");
  return urn.split("::").pop();
}

export interface SummaryEntry {
  readonly type: string;
  readonly name: string;
  readonly provider?: string;
  readonly inputs: unknown;
}

export function summarise(resources: readonly DeclaredResource[]): SummaryEntry[] {
  return resources
    .filter((r) => r.type !== "pulumi:pulumi:Stack")
    .map((r) => {
      const provider = providerName(r.provider);
      return { type: r.type, name: r.name, ...(provider !== undefined ? { provider } : {}), inputs: normalise(r.inputs) };
    })
    .sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type.localeCompare(b.type)));
}

export function renderGolden(ev: Evaluation): string {
  const doc = {
    stack: ev.stack,
    resourceCount: ev.resources.length - 1,
    outputs: normalise(ev.outputs),
    resources: summarise(ev.resources),
  };
  return (
    `# Golden summary of what the ${ev.stack} stack declares (generated under mocks by test/golden.test.ts).\n` +
    `# Review every change to this file like a plan: it is exactly what the stack would create.\n` +
    `# Regenerate with: npm run test:golden:update\n` +
    YAML.stringify(doc, { lineWidth: 0, sortMapEntries: false })
  );
}
