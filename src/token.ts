import { number } from './checks.js'
import { ApiVideoAuthError, statusCode } from './errors.js'
import type { AccessToken, ProblemDetails } from './types.js'

/**
 * Reads an answer of `/auth/api-key` or `/auth/refresh` into a token, or throws an
 * `ApiVideoAuthError` with the code for what went wrong.
 * @example
 * const sentAt = Date.now()
 * const token = await readAccessToken(await fetch(authenticateRequest(key)), { sentAt })
 */
export function readAccessToken(response: Response, options?: { sentAt?: number }): Promise<AccessToken> {
  return (async () => {
    if (!(response instanceof Response) && typeof (response as Response | null)?.text !== 'function') {
      throw new TypeError('response must be a Response')
    }
    const { sentAt = Date.now() } = options ?? {}
    number('sentAt', sentAt)
    return read(response, sentAt, /\/auth\/refresh\/?$/.test(response.url.replace(/[?#].*/, '')))
  })()
}

/** Reads a response; `secret` is scrubbed from error bodies in case a proxy echoes it. */
export async function read(response: Response, sentAt: number, refresh: boolean, secret?: string): Promise<AccessToken> {
  const { status, headers } = response
  let text: string
  try {
    text = await response.text()
  } catch (cause) {
    throw new ApiVideoAuthError('NETWORK_ERROR', { status, cause })
  }
  const body = parse(secret ? text.split(secret).join('[redacted]') : text)
  if (status >= 200 && status < 300) return token(body, sentAt, status)
  const code = statusCode(status, refresh)
  throw new ApiVideoAuthError(code, {
    status,
    problem: problem(body),
    retryAfter: code === 'RATE_LIMITED' ? retryAfter(headers.get('x-ratelimit-retry-after') ?? headers.get('retry-after')) : undefined,
  })
}

function token(body: any, sentAt: number, status: number): AccessToken {
  const { access_token: accessToken, refresh_token: refreshToken, expires_in: expiresIn, token_type: type } = body ?? {}
  if (!filled(accessToken) || !filled(refreshToken) || typeof expiresIn !== 'number' || !(expiresIn > 0) || expiresIn === Infinity) {
    throw new ApiVideoAuthError('INVALID_RESPONSE', { status })
  }
  const result = { accessToken, tokenType: filled(type) ? type : 'Bearer', expiresIn, expiresAt: sentAt + expiresIn * 1000 }
  return Object.defineProperty(result, 'refreshToken', { value: refreshToken, writable: true, configurable: true }) as AccessToken
}

function problem(body: any): ProblemDetails | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined
  const result: ProblemDetails = {}
  for (const key of ['type', 'title', 'name'] as const) if (typeof body[key] === 'string') result[key] = body[key]
  if (typeof body.status === 'number') result.status = body.status
  if (Array.isArray(body.problems)) result.problems = body.problems.map(problem).filter(Boolean)
  return result
}

/** Seconds from a `Retry-After`-style header: a number of seconds, or an HTTP date. */
function retryAfter(value: string | null): number | undefined {
  if (value === null) return undefined
  const seconds = /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : (Date.parse(value) - Date.now()) / 1000
  return Number.isFinite(seconds) ? Math.max(0, seconds) : undefined
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const filled = (value: unknown): value is string => typeof value === 'string' && value.length > 0
