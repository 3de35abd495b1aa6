/** One scripted answer: an HTTP reply, a pause before the normal answer, or a dropped connection. */
export type Fault = { status: number; body?: unknown; headers?: ConstructorParameters<typeof Headers>[0] } | { delay: number } | { networkError: true }

/** A request as the stand-in saw it: never its body or headers, so never a secret. */
export interface StandInRequest {
  method: string
  /** The URL's path, without its query. */
  path: string
  /** When it arrived, from the stand-in's clock (epoch ms). */
  at: number
}

export interface StandInOptions {
  /** Keys that `/auth/api-key` accepts; `['test-key']` by default. */
  apiKeys?: string[]
  /** Lifetime of the tokens it issues, in seconds; 3600 by default. */
  expiresIn?: number
  /** Its clock, epoch ms; `Date.now` by default. Share it with the session under test. */
  now?: () => number
}

/** An offline api.video: the two auth endpoints, and every other path as a protected resource. */
export interface StandIn {
  /** Answers one request as api.video would; serve it with `Deno.serve`, `Bun.serve`, a Worker or `node:http`. */
  handler(request: Request): Promise<Response>
  /** A fetch that answers from the stand-in, whatever the URL's origin; pass it as the `fetch` option. */
  fetch: typeof fetch
  /** Every request received, oldest first. */
  readonly requests: StandInRequest[]
  /** Queues faults for a path, one per request, before its normal answers resume. */
  fail(path: string, ...faults: Fault[]): void
  /** Invalidates every access token issued so far; refresh tokens stay valid. */
  revoke(): void
}

const problem = (status: number, type: string, title: string) => ({ type: `https://docs.api.video/reference/${type}`, title, name: '', status })
const INVALID_CREDENTIALS = problem(400, 'authentication-invalid-user-credentials', 'The user credentials were incorrect.')
const INVALID_TOKEN = problem(401, 'authentication-invalid-access-token', 'The access token is invalid or expired.')
const NULL_BODY = [204, 205, 304]

/**
 * Creates an api.video auth stand-in for tests: JSON token pairs, rotating single-use refresh
 * tokens, api.video's problem bodies, a protected resource on every other path, and faults on
 * demand. Zero dependencies; runs wherever `Request` and `Response` do.
 * @example
 * const standIn = createStandIn({ apiKeys: ['test-key'] })
 * const session = createSession({ apiKey: 'test-key', fetch: standIn.fetch })
 * standIn.fail('/auth/refresh', { status: 503 })
 */
export function createStandIn(options: StandInOptions = {}): StandIn {
  const { apiKeys = ['test-key'], expiresIn = 3600, now = Date.now } = options
  if (!Array.isArray(apiKeys) || !apiKeys.every((k) => typeof k === 'string')) throw new TypeError('apiKeys must be an array of strings')
  if (typeof expiresIn !== 'number' || !(expiresIn > 0 && expiresIn < Infinity)) throw new TypeError('expiresIn must be a positive number')
  if (typeof now !== 'function') throw new TypeError('now must be a function')
  const accessTokens = new Map<string, number>()
  const refreshTokens = new Set<string>()
  const faults = new Map<string, Fault[]>()
  const requests: StandInRequest[] = []

  function issue(): Response {
    const accessToken = `at.${nonce()}`
    const refreshToken = `rt.${nonce()}`
    accessTokens.set(accessToken, now() + expiresIn * 1000)
    refreshTokens.add(refreshToken)
    return json(200, { token_type: 'Bearer', expires_in: expiresIn, access_token: accessToken, refresh_token: refreshToken })
  }

  /** `/auth/api-key` takes a known key; `/auth/refresh` takes a refresh token once. */
  async function grant(request: Request, path: string): Promise<Response> {
    const body = request.method === 'POST' ? await readJson(request) : undefined
    const accepted = path === '/auth/api-key' ? apiKeys.includes(body?.apiKey) : refreshTokens.delete(body?.refreshToken)
    return accepted ? issue() : json(400, INVALID_CREDENTIALS)
  }

  function resource(request: Request, path: string): Response {
    const bearer = /^Bearer +(\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1]
    const expiresAt = bearer && accessTokens.get(bearer)
    return expiresAt && expiresAt > now() ? json(200, { method: request.method, path }) : json(401, INVALID_TOKEN)
  }

  async function answer(request: Request): Promise<Response> {
    const { pathname: path } = new URL(request.url)
    requests.push({ method: request.method, path, at: now() })
    const fault = faults.get(path)?.shift()
    if (fault && 'networkError' in fault) throw new TypeError('stand-in: connection reset')
    if (fault && 'delay' in fault) await pause(fault.delay, request.signal)
    if (fault && 'status' in fault) {
      const body = fault.body ?? { type: 'about:blank', title: `Stand-in fault ${fault.status}.`, name: '', status: fault.status }
      return json(fault.status, body, fault.headers)
    }
    return path === '/auth/api-key' || path === '/auth/refresh' ? grant(request, path) : resource(request, path)
  }

  /** Like fetch, the answer carries the request's URL, and an aborted request rejects with the signal's reason. */
  async function handler(request: Request): Promise<Response> {
    if (request.signal.aborted) throw request.signal.reason
    const response = await answer(request)
    return Object.defineProperty(response, 'url', { value: request.url })
  }

  function fail(path: string, ...more: Fault[]): void {
    if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError('path must be a string starting with "/"')
    more.forEach(checkFault)
    faults.set(path, [...(faults.get(path) ?? []), ...more])
  }

  return Object.freeze({
    handler,
    fetch: (input: RequestInfo | URL, init?: RequestInit) => handler(new Request(input, init)),
    requests,
    fail,
    revoke: () => accessTokens.clear(),
  })
}

function checkFault(fault: Fault): void {
  const f = (fault ?? {}) as Record<string, unknown>
  const ok =
    ('status' in f && Number.isInteger(f.status) && (f.status as number) >= 200 && (f.status as number) <= 599) ||
    ('delay' in f && typeof f.delay === 'number' && f.delay >= 0 && f.delay < Infinity) ||
    f.networkError === true
  if (!ok) throw new TypeError('faults must each be { status: 200-599, body?, headers? }, { delay: ms } or { networkError: true }')
}

async function readJson(request: Request): Promise<any> {
  if (!request.headers.get('content-type')?.startsWith('application/json')) return undefined
  try {
    const body = await request.json()
    return typeof body === 'object' && body !== null ? body : undefined
  } catch {
    return undefined
  }
}

function json(status: number, body: unknown, headers?: HeadersInit): Response {
  const h = new Headers(headers)
  if (NULL_BODY.includes(status)) return new Response(null, { status, headers: h })
  if (!h.has('content-type')) h.set('content-type', 'application/json')
  return new Response(JSON.stringify(body), { status, headers: h })
}

/** Waits `ms`, or less if the request is aborted: no timer outlives its request. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      if (signal.aborted) reject(signal.reason)
      else resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done)
  })
}

function nonce(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('')
}
