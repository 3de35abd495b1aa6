import type { CallOptions } from './types.js'

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/

/** Checks an API key or refresh token without ever echoing it. */
export function secret(name: string, value: unknown): string {
  if (typeof value !== 'string' || !value.trim()) throw new TypeError(`${name} must be a non-empty string`)
  if (value.trim() !== value) throw new TypeError(`${name} must not start or end with spaces`)
  if (CONTROL.test(value)) throw new TypeError(`${name} must not contain control characters such as a newline`)
  if (value.length > 8192) throw new TypeError(`${name} must be at most 8192 characters long`)
  return value
}

/** An absolute `https:` base URL (`http:` only on loopback), without its trailing slashes. */
export function baseUrl(value: unknown): string {
  const text = typeof value === 'string' ? value : value instanceof URL ? value.href : undefined
  let url: URL
  try {
    url = new URL(text!)
  } catch {
    throw new TypeError('baseUrl must be an absolute URL')
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) {
    throw new TypeError('baseUrl must use https: (http: only for localhost, 127.* or [::1])')
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new TypeError('baseUrl must not carry credentials, a query or a fragment')
  }
  return url.href.replace(/\/+$/, '')
}

export function headers(value: unknown): Headers {
  try {
    return new Headers(value as HeadersInit | undefined)
  } catch {
    throw new TypeError('headers must be a valid HeadersInit')
  }
}

export function object<T>(name: string, value: T | undefined, required?: boolean): T {
  if (value === undefined && !required) return {} as T
  if (typeof value !== 'object' || value === null) throw new TypeError(`${name} must be an object`)
  return value
}

export function fn(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') throw new TypeError(`${name} must be a function`)
}

export function number(name: string, value: unknown, positive?: boolean, integer?: boolean): void {
  const n = value as number
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || (positive && !n) || (integer && !Number.isInteger(n))) {
    throw new TypeError(`${name} must be a ${positive ? 'positive' : 'non-negative'} ${integer ? 'integer' : 'finite number'}`)
  }
}

export function signal(value: unknown): AbortSignal | undefined {
  const s = value as AbortSignal | undefined
  if (s !== undefined && (typeof s !== 'object' || s === null || typeof s.addEventListener !== 'function' || typeof s.aborted !== 'boolean')) {
    throw new TypeError('signal must be an AbortSignal')
  }
  return s
}

/** Checks the sending options shared by `authenticate`, `refresh` and `createSession`. */
export function callOptions(options: CallOptions): void {
  fn('fetch', options.fetch)
  if (options.timeout !== undefined) number('timeout', options.timeout, true)
}
