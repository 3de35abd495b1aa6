/** One scripted answer: an HTTP reply, a pause before the normal answer, or a dropped connection. */
export type Fault = { status: number; body?: unknown; headers?: HeadersInit } | { delay: number } | { networkError: true }

/** A request as the stand-in saw it: never its body or headers, so never a secret. */
export interface StandInRequest {
  method: string
  path: string
  at: number
}

export interface StandInOptions {
  /** Keys that `/auth/api-key` accepts; `['test-key']` by default. */
  apiKeys?: string[]
  /** Lifetime of the tokens it issues, in seconds; 3600 by default. */
  expiresIn?: number
  /** Its clock, epoch ms; `Date.now` by default. */
  now?: () => number
}

/** An offline api.video: the two auth endpoints, and every other path as a protected resource. */
export interface StandIn {
  handler(request: Request): Promise<Response>
  fetch: typeof fetch
  readonly requests: StandInRequest[]
  fail(path: string, ...faults: Fault[]): void
  revoke(): void
}

const INVALID_CREDENTIALS = {
  type: 'https://docs.api.video/reference/authentication-invalid-user-credentials',
  title: 'The user credentials were incorrect.',
  name: '',
}
const INVALID_TOKEN = {
  type: 'https://docs.api.video/reference/authentication-invalid-access-token',
  title: 'The access token is invalid or expired.',
  name: '',
}

/**
 * Creates an api.video auth stand-in for tests: rotating refresh tokens, api.video's problem
 * bodies, and faults on demand. Zero dependencies; runs wherever `Request` and `Response` do.
 * @example
 * const standIn = createStandIn({ apiKeys: ['test-key'] })
 * const session = createSession({ apiKey: 'test-key', fetch: standIn.fetch })
 * standIn.fail('/auth/refresh', { status: 503 })
 */
export function createStandIn(options: StandInOptions = {}): StandIn {
  const { apiKeys = ['test-key'], expiresIn = 3600, now = Date.now } = options
  if (!Array.isArray(apiKeys)) throw new TypeError('apiKeys must be an array of strings')
  if (typeof expiresIn !== 'number' || !(expiresIn > 0)) throw new TypeError('expiresIn must be a positive number')
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

  async function handler(request: Request): Promise<Response> {
    const { pathname: path } = new URL(request.url)
    requests.push({ method: request.method, path, at: now() })
    const fault = faults.get(path)?.shift()
    if (fault && 'networkError' in fault) throw new TypeError('stand-in: connection reset')
    if (fault && 'delay' in fault) await pause(fault.delay, request.signal)
    if (fault && 'status' in fault) {
      const body = fault.body ?? { type: 'about:blank', title: `Stand-in fault ${fault.status}.`, name: '', status: fault.status }
      return json(fault.status, body, fault.headers)
    }
    if (path === '/auth/api-key' || path === '/auth/refresh') {
      const body = await readJson(request)
      if (request.method !== 'POST' || !body) return json(400, { ...INVALID_CREDENTIALS, status: 400 })
      const accepted = path === '/auth/api-key' ? apiKeys.includes(body.apiKey) : refreshTokens.delete(body.refreshToken)
      return accepted ? issue() : json(400, { ...INVALID_CREDENTIALS, status: 400 })
    }
    const bearer = /^Bearer (\S+)$/.exec(request.headers.get('authorization') ?? '')?.[1]
    const expiresAt = bearer ? accessTokens.get(bearer) : undefined
    if (expiresAt === undefined || expiresAt <= now()) return json(401, { ...INVALID_TOKEN, status: 401 })
    return json(200, { path, method: request.method })
  }

  return {
    handler,
    fetch: (input, init) => handler(new Request(input, init)),
    requests,
    fail: (path, ...more) => void faults.set(path, [...(faults.get(path) ?? []), ...more]),
    revoke: () => accessTokens.clear(),
  }
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
