import type { ProblemDetails } from './types.js'

/** Every way an auth call can fail, one code each. */
export type ErrorCode =
  | 'INVALID_CREDENTIALS'
  | 'INVALID_REFRESH_TOKEN'
  | 'ACCESS_DENIED'
  | 'RATE_LIMITED'
  | 'SERVER_ERROR'
  | 'NETWORK_ERROR'
  | 'TIMEOUT'
  | 'INVALID_RESPONSE'
  | 'UNEXPECTED_STATUS'

/** What each code tells a person to do; every message starts with "api.video". */
const MESSAGES: Record<ErrorCode, string> = {
  INVALID_CREDENTIALS: 'refused the API key: check it, and that it is for this environment (production or sandbox)',
  INVALID_REFRESH_TOKEN: 'refused the refresh token: authenticate with the API key again',
  ACCESS_DENIED: 'denied access: the account may be suspended',
  RATE_LIMITED: 'is rate limiting: retry later',
  SERVER_ERROR: 'had a server error: retry later',
  NETWORK_ERROR: 'could not be reached: check the network, then retry',
  TIMEOUT: 'did not answer in time: retry later',
  INVALID_RESPONSE: 'answered without a valid token',
  UNEXPECTED_STATUS: 'answered with an unexpected status',
}

const RETRYABLE = new Set<ErrorCode>(['RATE_LIMITED', 'SERVER_ERROR', 'NETWORK_ERROR', 'TIMEOUT'])

interface Details {
  status?: number
  problem?: ProblemDetails
  retryAfter?: number
  cause?: unknown
}

/**
 * The one error class of this package: `code` says what failed, `retryable` whether trying
 * again may help. Messages name what went wrong, never a key or token.
 * @example
 * try { await authenticate(key) } catch (e) { if (isApiVideoAuthError(e) && e.code === 'INVALID_CREDENTIALS') … }
 */
export class ApiVideoAuthError extends Error {
  declare readonly code: ErrorCode
  declare readonly status?: number
  declare readonly problem?: ProblemDetails
  /** Seconds to wait, from `X-RateLimit-Retry-After` or `Retry-After`. */
  declare readonly retryAfter?: number
  declare readonly retryable: boolean

  constructor(code: ErrorCode, details: Details = {}) {
    const { status, problem, retryAfter, cause } = details
    const why = [status && `HTTP ${status}`, problem?.title, retryAfter !== undefined && `retry after ${retryAfter} s`].filter(Boolean)
    super(`api.video ${MESSAGES[code]}${why.length ? ` (${why.join(', ')})` : ''}.`, cause === undefined ? undefined : { cause })
    this.name = 'ApiVideoAuthError'
    this.code = code
    this.retryable = RETRYABLE.has(code)
    if (status !== undefined) this.status = status
    if (problem !== undefined) this.problem = problem
    if (retryAfter !== undefined) this.retryAfter = retryAfter
  }
}

/**
 * True for an `ApiVideoAuthError`, also one from another realm or another copy of this package.
 * @example
 * if (isApiVideoAuthError(error) && error.retryable) retryLater()
 */
export function isApiVideoAuthError(value: unknown): value is ApiVideoAuthError {
  if (value instanceof ApiVideoAuthError) return true
  const v = value as ApiVideoAuthError | null
  return Object.prototype.toString.call(v) === '[object Error]' && v!.name === 'ApiVideoAuthError' && typeof v!.code === 'string'
}

/** The error mapping: which code an HTTP status means on each endpoint. */
export function statusCode(status: number, refresh: boolean): ErrorCode {
  if (status === 400 || status === 401) return refresh ? 'INVALID_REFRESH_TOKEN' : 'INVALID_CREDENTIALS'
  if (status === 403) return 'ACCESS_DENIED'
  if (status === 429) return 'RATE_LIMITED'
  return status >= 500 && status < 600 ? 'SERVER_ERROR' : 'UNEXPECTED_STATUS'
}
