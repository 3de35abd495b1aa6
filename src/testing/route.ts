// What a route is: a path, who may call it, and a responder per method. The stand-in dispatches over one list of them.
import type { Authorization } from './credentials.js'
import type { Bytes } from './http.js'

/**
 * Who may call a route: `'api'`, a live `Bearer` token or `Basic` credentials of a known key, as every api.video
 * resource; `'open'`, anyone (the auth endpoints, and `POST /upload`, which takes an upload token in its query);
 * `'control'`, a loopback client only, never recorded nor subject to faults (the stand-in's own routes);
 * `'delivery'`, anyone, as api.video's delivery origins (players, assets, viewer sessions), recorded as delivery.
 */
export type Access = 'api' | 'open' | 'control' | 'delivery'

/** A request as every route sees it, read once before any route answers. */
export interface Call {
  request: Request
  url: URL
  /** The body, whole; empty when it was over the limit (the dispatch answers 413 then, before any route). */
  body: Bytes
  /** True when the body was over the limit and left unread. */
  overLimit: boolean
  /** The path's `{id}` when the route has one, decoded; a malformed escape is kept as sent, so it matches nothing. */
  id: string
  authorization: Authorization
  /**
   * The API key the request's credential belongs to, once an `'api'` route's caller is authorized (for
   * `POST /upload`, the key that minted its upload token).
   */
  apiKey?: string
  /** The rate-limit headers its answer carries, once its budget counted it. */
  rateLimit?: Headers
}

/** How a route responds to one method: its answer to a call. */
export type Responder = (call: Call) => Response | Promise<Response>

/** The method key of a route's responder to every method it does not name. */
export const ANY_METHOD = '*'

export interface Route {
  /** The path it serves: exactly, or by a pattern whose first group is the path's `{id}`. */
  path: string | RegExp
  access: Access
  /** Its responder to each method; a method it does not name goes on to the next route of the list. */
  methods: Record<string, Responder>
}

/**
 * The first route of `routes` that answers this method on this path, with its responder and the path's `{id}`. The
 * stand-in's list ends with a catch-all, a pattern that matches every path with a responder to any method.
 */
export function findRoute(routes: Route[], method: string, path: string): [Route, Responder, string] {
  for (const route of routes) {
    const match = typeof route.path === 'string' ? route.path === path && [path] : route.path.exec(path)
    const respond = match ? (route.methods[method] ?? route.methods[ANY_METHOD]) : undefined
    if (match && respond) return [route, respond, pathParameter(match[1] ?? '')]
  }
  throw new TypeError(`stand-in: no route answers ${method} ${path}`)
}

/** A path parameter, decoded; a malformed escape is kept as sent, so it matches nothing. */
function pathParameter(raw: string): string {
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}
