/**
 * Image references, pure. The driver only ever writes digest-pinned references into a stack:
 * a tag can be re-pushed, a digest cannot, so "what passed the gates" and "what runs" stay
 * the same bytes from test to prod.
 */
import { isImageRef } from "../infra/config/schema";

export interface ImageRef {
  /** `[registry/]repo`, e.g. `123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/student`. */
  readonly repository: string;
  readonly tag?: string;
  /** `sha256:<64 hex>` */
  readonly digest?: string;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Parses `[registry/]repo:tag` or `[registry/]repo@sha256:<hex>`; undefined if it is neither. */
export function parseImageRef(text: string): ImageRef | undefined {
  if (!isImageRef(text)) {
    return undefined;
  }
  const at = text.indexOf("@");
  if (at >= 0) {
    return { repository: text.slice(0, at), digest: text.slice(at + 1) };
  }
  // The tag separator is the last ':' after the last '/'; an earlier ':' is a registry port.
  const colon = text.lastIndexOf(":");
  return { repository: text.slice(0, colon), tag: text.slice(colon + 1) };
}

export function isDigest(text: string): boolean {
  return DIGEST.test(text);
}

export function pinned(repository: string, digest: string): string {
  return `${repository}@${digest}`;
}

/** `repo@sha256:abcdef123456…` for humans; never used as a reference. */
export function shortImage(text: string | undefined): string {
  if (text === undefined || text === "") {
    return "(none)";
  }
  const ref = parseImageRef(text);
  if (ref?.digest === undefined) {
    return text;
  }
  const repo = ref.repository.slice(ref.repository.lastIndexOf("/") + 1);
  return `${repo}@${ref.digest.slice(0, 19)}`;
}

/** True when both are pinned to the same digest of the same repository. */
export function sameDigest(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) {
    return false;
  }
  const x = parseImageRef(a);
  const y = parseImageRef(b);
  return x?.digest !== undefined && y?.digest !== undefined && x.repository === y.repository && x.digest === y.digest;
}
