// The two auth endpoints: `/auth/api-key` takes a known key, `/auth/refresh` a refresh token once. Under a prefix
// (a base URL with a path, `…/v1`) they are not found, as at api.video.
import type { TokenPair, Tokens } from '../credentials.js'
import { type Json, isJson, json, parseJsonObject } from '../http.js'
import { INVALID_CREDENTIALS, WRONG_CONTENT_TYPE, notFound } from '../problems.js'
import { ANY_METHOD, type Responder, type Route } from '../route.js'

/**
 * The auth endpoints: each answers a JSON POST with a token pair, anything else with api.video's 400. Under a
 * prefix they are api.video's 404, whatever the credentials: a client whose base URL has a path learns that its
 * path is wrong, not that its key is.
 */
export function authRoutes(tokens: Tokens): Route[] {
  const grant =
    (exchange: (body: Json | undefined) => TokenPair | undefined): Responder =>
    ({ request, body }) => {
      if (request.method === 'POST' && !isJson(request)) return json(400, WRONG_CONTENT_TYPE)
      const pair = exchange(request.method === 'POST' ? parseJsonObject(body) : undefined)
      return pair ? json(200, pair) : json(400, INVALID_CREDENTIALS)
    }
  return [
    {
      path: '/auth/api-key',
      access: 'open',
      methods: { [ANY_METHOD]: grant((body) => tokens.forApiKey(body?.apiKey)) },
    },
    {
      path: '/auth/refresh',
      access: 'open',
      methods: { [ANY_METHOD]: grant((body) => tokens.forRefreshToken(body?.refreshToken)) },
    },
    { path: /^\/.+\/auth\/(?:api-key|refresh)$/, access: 'open', methods: { [ANY_METHOD]: () => notFound() } },
  ]
}
