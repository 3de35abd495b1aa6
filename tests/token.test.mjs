import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ApiVideoAuthError, isApiVideoAuthError, readAccessToken } from '../dist/index.js'
import { failure, tokenBody } from './helpers.mjs'

const reply = (
  status,
  body,
  headers = { 'content-type': 'application/json' },
  url = 'https://ws.api.video/auth/api-key',
) => {
  const response = new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers })
  Object.defineProperty(response, 'url', { value: url })
  return response
}

const read = suite('readAccessToken')

read('reads a token; expiresAt counts from sentAt', async () => {
  const token = await readAccessToken(reply(200, tokenBody(1)), { sentAt: 1_000 })
  assert.equal(
    { ...token },
    { accessToken: 'access-1', tokenType: 'Bearer', expiresIn: 3600, expiresAt: 1_000 + 3_600_000 },
  )
  assert.is(token.refreshToken, 'refresh-1')
})

read('honours the lifetime it is given (3599), never assumes 3600', async () => {
  const token = await readAccessToken(reply(200, tokenBody(1, 3599)), { sentAt: 0 })
  assert.is(token.expiresAt, 3_599_000)
})

read('sentAt defaults to now', async () => {
  const before = Date.now()
  const token = await readAccessToken(reply(200, tokenBody(1, 10)))
  assert.ok(token.expiresAt >= before + 10_000 && token.expiresAt <= Date.now() + 10_000)
})

read('token_type defaults to Bearer when absent', async () => {
  const { token_type, ...body } = tokenBody(2)
  assert.is((await readAccessToken(reply(200, body))).tokenType, 'Bearer')
})

read('the refresh token is readable but not enumerable', async () => {
  const token = await readAccessToken(reply(200, tokenBody(3)))
  assert.is(token.refreshToken, 'refresh-3')
  assert.not.ok(JSON.stringify(token).includes('refresh-3'))
  assert.not.ok(Object.keys(token).includes('refreshToken'))
})

const invalid = {
  'not JSON': 'oops<html>',
  'an array': [],
  'no access_token': { ...tokenBody(), access_token: undefined },
  'an empty access_token': { ...tokenBody(), access_token: '' },
  'no refresh_token': { ...tokenBody(), refresh_token: undefined },
  'expires_in as a string': { ...tokenBody(), expires_in: '3600' },
  'expires_in of 0': { ...tokenBody(), expires_in: 0 },
  'a negative expires_in': { ...tokenBody(), expires_in: -5 },
  'expires_in of null': { ...tokenBody(), expires_in: null },
}
for (const [what, body] of Object.entries(invalid)) {
  read(`a 200 with ${what} is INVALID_RESPONSE, not retryable`, async () => {
    const error = await failure(readAccessToken(reply(200, body)))
    assert.instance(error, ApiVideoAuthError)
    assert.is(error.code, 'INVALID_RESPONSE')
    assert.is(error.retryable, false)
  })
}

read('an infinite expires_in (1e999 in JSON) is INVALID_RESPONSE', async () => {
  const text = JSON.stringify(tokenBody()).replace('3600', '1e999')
  assert.is((await failure(readAccessToken(reply(200, text)))).code, 'INVALID_RESPONSE')
})

read('bad arguments are TypeErrors', async () => {
  assert.instance(await failure(readAccessToken({})), TypeError)
  assert.instance(await failure(readAccessToken(reply(200, tokenBody()), { sentAt: 'now' })), TypeError)
})

read.run()

const mapping = suite('error mapping')

const PROBLEM = {
  type: 'https://docs.api.video/reference/authentication-invalid-user-credentials',
  title: 'The user credentials were incorrect.',
  name: '',
  status: 400,
}
const rows = [
  [400, '/auth/api-key', 'INVALID_CREDENTIALS', false],
  [401, '/auth/api-key', 'INVALID_CREDENTIALS', false],
  [400, '/auth/refresh', 'INVALID_REFRESH_TOKEN', false],
  [401, '/auth/refresh', 'INVALID_REFRESH_TOKEN', false],
  [403, '/auth/api-key', 'ACCESS_DENIED', false],
  [429, '/auth/api-key', 'RATE_LIMITED', true],
  [500, '/auth/api-key', 'SERVER_ERROR', true],
  [503, '/auth/refresh', 'SERVER_ERROR', true],
  [404, '/auth/api-key', 'UNEXPECTED_STATUS', false],
  [302, '/auth/api-key', 'UNEXPECTED_STATUS', false],
]
for (const [status, path, code, retryable] of rows) {
  mapping(`${status} from ${path} is ${code}`, async () => {
    const error = await failure(
      readAccessToken(reply(status, { ...PROBLEM, status }, undefined, `https://ws.api.video${path}`)),
    )
    assert.ok(isApiVideoAuthError(error))
    assert.is(error.code, code)
    assert.is(error.status, status)
    assert.is(error.retryable, retryable)
    assert.is(error.name, 'ApiVideoAuthError')
    assert.match(error.message, `HTTP ${status}`)
  })
}

mapping('the problem body is kept from application/json and application/problem+json', async () => {
  for (const type of ['application/json', 'application/problem+json']) {
    const body = { ...PROBLEM, problems: [{ ...PROBLEM, name: 'apiKey' }] }
    const error = await failure(readAccessToken(reply(400, body, { 'content-type': type })))
    assert.equal(error.problem, body)
    assert.match(error.message, 'The user credentials were incorrect.')
  }
})

mapping('an error without a JSON body has no problem', async () => {
  const error = await failure(
    readAccessToken(reply(502, '<html>bad gateway</html>', { 'content-type': 'text/html' })),
  )
  assert.is(error.code, 'SERVER_ERROR')
  assert.is(error.problem, undefined)
  assert.not.ok('problem' in error)
  const array = await failure(readAccessToken(reply(500, '[1]')))
  assert.not.ok('problem' in array)
  const nothing = await failure(readAccessToken(reply(500, 'null')))
  assert.not.ok('problem' in nothing)
})

mapping('429 takes retryAfter from X-RateLimit-Retry-After, then Retry-After (seconds or a date)', async () => {
  const from = async (headers) => (await failure(readAccessToken(reply(429, {}, headers)))).retryAfter
  assert.is(await from({ 'x-ratelimit-retry-after': '7', 'retry-after': '99' }), 7)
  assert.is(await from({ 'retry-after': '3' }), 3)
  assert.is(await from({ 'retry-after': '0.5' }), 0.5)
  const date = await from({ 'retry-after': new Date(Date.now() + 60_000).toUTCString() })
  assert.ok(date > 50 && date <= 60, String(date))
  assert.is(await from({ 'retry-after': 'soon' }), undefined)
  assert.is(await from({}), undefined)
})

mapping('isApiVideoAuthError works across realms and rejects look-alikes', async () => {
  const { runInNewContext } = await import('node:vm')
  const foreign = runInNewContext(`const e = new Error('x'); e.name = 'ApiVideoAuthError'; e.code = 'TIMEOUT'; e`)
  assert.not.ok(foreign instanceof Error)
  assert.ok(isApiVideoAuthError(foreign))
  assert.not.ok(isApiVideoAuthError({ name: 'ApiVideoAuthError', code: 'TIMEOUT' }))
  assert.not.ok(isApiVideoAuthError(new Error('x')))
  assert.not.ok(isApiVideoAuthError(null))
  assert.ok(isApiVideoAuthError(new ApiVideoAuthError('TIMEOUT')))
})

mapping.run()
