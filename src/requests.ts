import { baseUrl, headers, object, secret } from './checks.js'
import type { RequestOptions } from './types.js'

/** api.video's production API. */
export const PRODUCTION_URL = 'https://ws.api.video'
/** api.video's sandbox API (separate keys; videos are watermarked). */
export const SANDBOX_URL = 'https://sandbox.api.video'

/**
 * Builds `POST /auth/api-key`. Pure: nothing is sent.
 * @example
 * const response = await fetch(authenticateRequest(process.env.APIVIDEO_API_KEY, { baseUrl: SANDBOX_URL }))
 */
export function authenticateRequest(apiKey: string, options?: RequestOptions): Request {
  return post('/auth/api-key', { apiKey: secret('apiKey', apiKey) }, options)
}

/**
 * Builds `POST /auth/refresh`. Pure: nothing is sent. api.video rotates refresh tokens:
 * send the one from the latest response.
 * @example
 * const next = await readAccessToken(await fetch(refreshRequest(token.refreshToken)))
 */
export function refreshRequest(refreshToken: string, options?: RequestOptions): Request {
  return post('/auth/refresh', { refreshToken: secret('refreshToken', refreshToken) }, options)
}

function post(path: string, body: object, options?: RequestOptions): Request {
  const { baseUrl: base = PRODUCTION_URL, headers: extra } = object('options', options)
  const h = headers(extra)
  h.set('content-type', 'application/json')
  h.set('accept', 'application/json')
  return new Request(baseUrl(base) + path, { method: 'POST', headers: h, body: JSON.stringify(body), redirect: 'manual' })
}
