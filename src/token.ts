import { fail, number, object } from './checks.js'
import { ApiVideoAuthError, statusCode } from './errors.js'
import type { AccessToken } from './types.js'

/**
 * Reads an answer of `/auth/api-key` or `/auth/refresh` into a token, or throws an
 * `ApiVideoAuthError` with the code for what went wrong.
 * @example
 * const sentAt = Date.now()
 * const token = await readAccessToken(await fetch(authenticateRequest(key)), { sentAt })
 */
export async function readAccessToken(response: Response, options?: { sentAt?: number }): Promise<AccessToken> {
  if (typeof response?.text !== 'function') fail('response', 'be a Response')
  const { sentAt = Date.now() } = object('options', options)
  number('sentAt', sentAt)
  return read(response, sentAt, /\/auth\/refresh\/?(\?|$)/.test(response.url))
}

/** Reads a response; `secret` is scrubbed from an error body in case a proxy echoes it. */
export async function read(response: Response, sentAt: number, refresh: boolean, secret?: string): Promise<AccessToken> {
  const { status, headers } = response
  const text = await response.text().catch((cause) => {
    throw new ApiVideoAuthError('NETWORK_ERROR', { status, cause })
  })
  const ok = status > 199 && status < 300
  let body: any
  try {
    body = JSON.parse(secret && !ok ? text.split(secret).join('[redacted]') : text)
  } catch {}
  if (ok) {
    const { access_token: accessToken, refresh_token: refreshToken, expires_in: expiresIn, token_type: type } = body ?? {}
    if (!filled(accessToken) || !filled(refreshToken) || typeof expiresIn !== 'number' || !(expiresIn > 0 && expiresIn < Infinity)) {
      throw new ApiVideoAuthError('INVALID_RESPONSE', { status })
    }
    const token = { accessToken, tokenType: filled(type) ? type : 'Bearer', expiresIn, expiresAt: sentAt + expiresIn * 1000 }
    return Object.defineProperty(token, 'refreshToken', { value: refreshToken, writable: true }) as AccessToken
  }
  const code = statusCode(status, refresh)
  throw new ApiVideoAuthError(code, {
    status,
    problem: typeof body === 'object' && !Array.isArray(body) ? body ?? undefined : undefined,
    retryAfter: code === 'RATE_LIMITED' ? seconds(headers.get('x-ratelimit-retry-after') ?? headers.get('retry-after')) : undefined,
  })
}

/** Seconds from a `Retry-After`-style header: a number of seconds, or an HTTP date. */
function seconds(value: string | null): number | undefined {
  if (value === null) return undefined
  const s = /^\s*\d+(\.\d+)?\s*$/.test(value) ? +value : (Date.parse(value) - Date.now()) / 1000
  return s === s ? Math.max(0, s) : undefined
}

const filled = (value: unknown): value is string => typeof value === 'string' && value.length > 0
