// The two auth endpoints: `/auth/api-key` takes a known key, `/auth/refresh` a refresh token once.
import type { TokenPair, Tokens } from '../credentials.js'
import { type Json, isJson, json, parseJsonObject } from '../http.js'
import { INVALID_CREDENTIALS, WRONG_CONTENT_TYPE } from '../problems.js'
import { ANY_METHOD, type Answer, type Route } from '../route.js'

/** The auth endpoints: each answers a JSON POST with a token pair, anything else with api.video's 400. */
export function authRoutes(tokens: Tokens): Route[] {
  const grant =
    (exchange: (body: Json | undefined) => TokenPair | undefined): Answer =>
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
  ]
}
