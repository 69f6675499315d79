import { ConfigError } from '../errors.js';

/**
 * `req.agent` / `ctx.agent` read where the middleware did not run (a route
 * mounted before it, another app or router) would be `undefined`, and the
 * first call on it a `Cannot read properties of undefined`. Instead, the
 * framework's request prototype gets an accessor: reading it throws a
 * ConfigError that says to mount the middleware first; the middleware's
 * assignment gives the request an own property that shadows the accessor.
 */
export function guardAgentProperty(prototype: object, name: 'req.agent' | 'ctx.agent', mount: string): void {
  const existing = Object.getOwnPropertyDescriptor(prototype, 'agent');
  if (existing?.get && GUARDED.has(existing.get)) return;
  if (existing && !existing.configurable) return;
  const get = function unmountedAgent(): never {
    throw new ConfigError(
      `${name} was read where agentSession() did not run: the route or middleware is mounted before ${mount}, or on an app or router it is not mounted on. ` +
        `Mount agentSession() first, before every route that uses ${name}.`,
    );
  };
  GUARDED.add(get);
  Object.defineProperty(prototype, 'agent', {
    configurable: true,
    enumerable: false,
    get,
    set(this: object, value: unknown) {
      Object.defineProperty(this, 'agent', { value, writable: true, configurable: true, enumerable: true });
    },
  });
}

const GUARDED = new WeakSet<object>();
