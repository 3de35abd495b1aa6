// The request log: what each request was and carried (never a secret), and running totals that forget nothing.
import type { Authorization, Credential } from './credentials.js'
import { parseJsonObject } from './http.js'
import type { Call } from './route.js'

/** A request as the stand-in saw it: never its body or headers, so never a secret. */
export interface StandInRequest {
  method: string
  /** The URL's path, without its query. */
  path: string
  /** When it arrived, from the stand-in's clock (epoch ms). */
  at: number
  /** The kind of credential it carried (never the credential itself). */
  credential: Credential
  /** True when it carried an API key, known or not: in an `/auth/api-key` body or as a `Basic` user name. */
  carriedApiKey: boolean
  /**
   * True when it went to a delivery origin (`embed.api.video`, `vod.api.video`, `cdn.api.video`) or a delivery path
   * (`/vod/…`): its `credential` should be `'none'`, since an access token never belongs there.
   */
  delivery: boolean
}

/** Running totals since the stand-in was created; unlike `requests`, they forget nothing. */
export interface StandInCounts {
  /** Every request received. */
  requests: number
  /** Requests to `/auth/api-key` or `/auth/refresh`. */
  auth: number
  /** Requests to any other path, delivery aside. */
  resource: number
  /** Requests to a delivery origin or path (players, assets, viewer sessions). */
  delivery: number
  /** Requests that carried an API key, in an `/auth/api-key` body or a `Basic` header. */
  carriedApiKey: number
  /** Requests answered 429 by the rate limits (`rateLimits`), not processed. */
  rateLimited: number
  /** Requests by the kind of credential they carried. */
  credentials: Record<Credential, number>
}

export const AUTH_PATHS = ['/auth/api-key', '/auth/refresh']
const CREDENTIALS: Credential[] = ['api-key', 'refresh-token', 'basic', 'bearer', 'other', 'none']

/** The latest `keep` requests, and the totals of all of them. */
export function createRequestLog(keep: number, now: () => number) {
  const requests: StandInRequest[] = []
  const counts: StandInCounts = {
    requests: 0,
    auth: 0,
    resource: 0,
    delivery: 0,
    carriedApiKey: 0,
    rateLimited: 0,
    credentials: Object.fromEntries(CREDENTIALS.map((c) => [c, 0])) as Record<Credential, number>,
  }

  /**
   * Records a request: the kind of credential it carried, whether it carried an API key, and whether it went to
   * delivery.
   */
  function record({ request, url, body, authorization }: Call, delivery = false): undefined {
    const path = url.pathname
    // The body is read whatever its content type, so that the record tells which secrets were on the wire.
    const fields = AUTH_PATHS.includes(path) ? parseJsonObject(body) : undefined
    const credential = credentialOf(path, fields, authorization)
    const keyInBody = path === '/auth/api-key' && typeof fields?.apiKey === 'string' && fields.apiKey !== ''
    const carriedApiKey = keyInBody || (authorization.kind === 'basic' && authorization.user !== '')
    counts.requests++
    let kind: 'auth' | 'resource' | 'delivery' = AUTH_PATHS.includes(path) ? 'auth' : 'resource'
    if (delivery) kind = 'delivery'
    counts[kind]++
    counts.credentials[credential]++
    if (carriedApiKey) counts.carriedApiKey++
    if (keep === 0) return undefined
    requests.push({ method: request.method, path, at: now(), credential, carriedApiKey, delivery })
    if (requests.length > keep) requests.shift()
    return undefined
  }

  return {
    requests,
    record,
    /** Counts a request the rate limits answered 429. */
    countRateLimited: (): void => void counts.rateLimited++,
    /** A copy of the totals, so that a caller's change does not reach them. */
    counts: (): StandInCounts => ({ ...counts, credentials: { ...counts.credentials } }),
  }
}

/**
 * The credential a request carried: the JSON body's on the two auth paths (whatever the header says), the
 * `Authorization` header's elsewhere.
 */
function credentialOf(path: string, body: Record<string, unknown> | undefined, authorization: Authorization) {
  if (path === '/auth/api-key') return typeof body?.apiKey === 'string' ? 'api-key' : 'none'
  if (path === '/auth/refresh') return typeof body?.refreshToken === 'string' ? 'refresh-token' : 'none'
  return authorization.kind
}
