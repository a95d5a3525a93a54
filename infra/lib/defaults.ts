/**
 * `{ ...defaults, ...props }` where a prop explicitly set to `undefined` keeps the default (a
 * plain spread would let an `undefined` from an optional config field erase a pinned default).
 */
export function withDefaults<D extends object, P extends object>(base: D, props: P): D & P {
  const defined = Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined));
  return { ...base, ...defined } as D & P;
}
