/**
 * Which names a DNS-validated ACM certificate can cover and which validation records it needs.
 * No Pulumi imports; tested table-driven (test/certificates.test.ts).
 */

/**
 * The names ACM asks to prove by DNS, one per distinct record: `*.x` is validated by the same
 * CNAME as `x`, so a wildcard and its apex share one record (two Route 53 resources for one
 * record name would fight over it). Order follows `hosts`, duplicates dropped.
 */
export function validationNames(hosts: readonly string[]): string[] {
  const names: string[] = [];
  for (const host of hosts) {
    const name = host.toLowerCase().replace(/^\*\./, "");
    if (!names.includes(name)) {
      names.push(name);
    }
  }
  return names;
}

/** Throws when a host is not inside the zone: ACM could never be validated through it. */
export function checkHostsInZone(domain: string, hosts: readonly string[]): void {
  if (hosts.length === 0) {
    throw new Error("Certificate needs at least one host");
  }
  const zone = domain.toLowerCase();
  for (const host of hosts) {
    const h = host.toLowerCase().replace(/^\*\./, "");
    if (h !== zone && !h.endsWith(`.${zone}`)) {
      throw new Error(`host "${host}" is not in the hosted zone "${domain}"; a DNS-validated certificate can only cover names of its zone`);
    }
  }
  if (new Set(hosts.map((h) => h.toLowerCase())).size !== hosts.length) {
    throw new Error(`Certificate lists a host twice (${hosts.join(", ")})`);
  }
}
