/**
 * Who answered a probe. After a switch the live gate must see the new color (and its image)
 * answering on the live host, not merely a healthy response: the old color stays healthy behind
 * the same host until the load balancer applies the switch. Pure; table-tested.
 */
import { Color } from "../../infra/config/schema";
import { DEFAULT_IDENTITY_HEADERS, NO_HEADER } from "../../infra/lib/identityHeaders";
import { sameDigest } from "../images";
import { ProbeExpectation } from "../ports";
import { ServiceEntry } from "../stackConfig";

/** The headers a service answers with; undefined: the service sends none (`healthGate.<x>Header: none`). */
export interface IdentityHeaders {
  readonly color?: string;
  readonly image?: string;
}

/** What the live host must say for a service: the headers it sends, and the color and image that must answer. */
export interface ServingIdentity {
  readonly headers: IdentityHeaders;
  readonly color: Color;
  readonly image: string | undefined;
}

/** `platform:services[].healthGate.{colorHeader,imageHeader}` over the shared defaults. */
export function identityHeadersOf(entry: Pick<ServiceEntry, "healthGate"> | undefined): IdentityHeaders {
  const setting = (value: string | undefined, dflt: string): string | undefined => {
    const v = value ?? dflt;
    return v.toLowerCase() === NO_HEADER ? undefined : v.toLowerCase();
  };
  return { color: setting(entry?.healthGate?.colorHeader, DEFAULT_IDENTITY_HEADERS.color), image: setting(entry?.healthGate?.imageHeader, DEFAULT_IDENTITY_HEADERS.image) };
}

/** The expectations a probe checks; empty when the service sends neither header (the check is skipped). */
export function expectationsFor(id: ServingIdentity): ProbeExpectation[] {
  const out: ProbeExpectation[] = [];
  if (id.headers.color !== undefined) {
    out.push({ header: id.headers.color, value: id.color, kind: "color" });
  }
  if (id.headers.image !== undefined && id.image !== undefined) {
    out.push({ header: id.headers.image, value: id.image, kind: "image" });
  }
  return out;
}

/** Why a response's headers do not name the expected color/image; undefined when they do. */
export function identityMismatch(headers: Readonly<Record<string, string | string[] | undefined>>, expect: readonly ProbeExpectation[]): string | undefined {
  for (const e of expect) {
    const raw = headers[e.header.toLowerCase()];
    const got = Array.isArray(raw) ? raw[0] : raw;
    if (got === undefined) {
      return `no ${e.header} header in the response (the service must send it, or its stack config says healthGate.${e.kind}Header: none)`;
    }
    const value = got.trim();
    const ok = e.kind === "color" ? value.toLowerCase() === e.value : value === e.value || sameDigest(value, e.value);
    if (!ok) {
      return `${e.header}: ${value} answered, expected ${e.value}`;
    }
  }
  return undefined;
}
