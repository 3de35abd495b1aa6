import { readFileSync } from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parse } from 'yaml'
import { PRODUCTION_URL, SANDBOX_URL, authenticateRequest, refreshRequest } from '../dist/index.js'
import { typeErrorNaming } from './helpers/index.mjs'

const spec = parse(readFileSync(new URL('./fixtures/auth-openapi.yaml', import.meta.url), 'utf8'))

const builders = suite('request builders')

builders('authenticateRequest posts the key as JSON to production', async () => {
  const request = authenticateRequest('my-key')
  assert.is(request.method, 'POST')
  assert.is(request.url, 'https://ws.api.video/auth/api-key')
  assert.is(request.headers.get('content-type'), 'application/json')
  assert.is(request.headers.get('accept'), 'application/json')
  assert.is(request.redirect, 'manual')
  assert.equal(await request.json(), { apiKey: 'my-key' })
})

builders('refreshRequest posts the refresh token', async () => {
  const request = refreshRequest('rt-1', { baseUrl: SANDBOX_URL })
  assert.is(request.url, 'https://sandbox.api.video/auth/refresh')
  assert.equal(await request.json(), { refreshToken: 'rt-1' })
})

builders('exports the two bases', () => {
  assert.is(PRODUCTION_URL, 'https://ws.api.video')
  assert.is(SANDBOX_URL, 'https://sandbox.api.video')
})

builders('a base with a trailing slash, a path prefix or given as a URL works', () => {
  assert.is(authenticateRequest('k', { baseUrl: 'https://ws.api.video/' }).url, 'https://ws.api.video/auth/api-key')
  assert.is(
    authenticateRequest('k', { baseUrl: new URL('https://proxy.example/av//') }).url,
    'https://proxy.example/av/auth/api-key',
  )
  for (const base of ['http://localhost:8080', 'http://127.0.0.1:1', 'http://127.9.9.9', 'http://[::1]:3000']) {
    assert.ok(authenticateRequest('k', { baseUrl: base }).url.startsWith(base.replace(/\/$/, '')), base)
  }
})

builders('extra headers are kept, the content type is not overridable', () => {
  const request = authenticateRequest('k', {
    headers: { 'AV-Origin-App': 'demo:1.0.0', 'Content-Type': 'text/plain' },
  })
  assert.is(request.headers.get('av-origin-app'), 'demo:1.0.0')
  assert.is(request.headers.get('content-type'), 'application/json')
  const fromPairs = refreshRequest('r', { headers: [['x-trace', 'abc']] })
  assert.is(fromPairs.headers.get('x-trace'), 'abc')
})

builders.run()

const input = suite('bad input to the builders')
const SECRET = 'sk_live_SECRETVALUE123'

const badSecrets = [
  undefined,
  42,
  '',
  '   ',
  ` ${SECRET}`,
  `${SECRET}\n`,
  `\t${SECRET}`,
  `${SECRET}\r\nx`,
  `${SECRET}\u0000x`,
  `${SECRET}\u0085x`,
  `${SECRET}${'x'.repeat(8192)}`,
]

for (const [name, build] of [
  ['apiKey', authenticateRequest],
  ['refreshToken', refreshRequest],
]) {
  input(`${name}: each malformed value is a TypeError naming ${name}, never the value`, () => {
    for (const value of badSecrets) {
      try {
        build(value)
        assert.unreachable(`accepted ${JSON.stringify(value)?.slice(0, 40)}`)
      } catch (error) {
        assert.instance(error, TypeError)
        assert.match(error.message, name)
        assert.match(error.message, /1-8192 visible ASCII characters/)
        assert.not.match(`${error.message}\n${error.stack}`, 'SECRETVALUE')
      }
    }
  })
}

input('a key of exactly 8192 characters is accepted', () => {
  assert.ok(authenticateRequest('k'.repeat(8192)))
})

input('insecure or malformed base URLs are TypeErrors naming baseUrl', () => {
  for (const baseUrl of [
    'ws.api.video',
    '/auth',
    'http://ws.api.video',
    'http://10.0.0.1',
    'ftp://ws.api.video',
    'https://user:pw@ws.api.video',
    'https://ws.api.video?x=1',
    'https://ws.api.video#f',
    42,
    null,
  ]) {
    assert.throws(() => authenticateRequest('k', { baseUrl }), typeErrorNaming('baseUrl'), String(baseUrl))
  }
})

input('options and headers must be well formed', () => {
  assert.throws(() => authenticateRequest('k', 'https://ws.api.video'), typeErrorNaming('options'))
  assert.throws(() => refreshRequest('r', null), typeErrorNaming('options'))
  assert.throws(() => authenticateRequest('k', { headers: [['bad header', 'x']] }), typeErrorNaming('headers'))
})

input.run()

const contract = suite('contract with the OpenAPI excerpt')

const resolve = (ref) =>
  ref
    .replace('#/', '')
    .split('/')
    .reduce((node, key) => node[key], spec)

async function checkAgainst(operationPath, request) {
  const operation = spec.paths[operationPath].post
  const media = operation.requestBody.content['application/json']
  assert.ok(operation.requestBody.required)
  assert.is(request.headers.get('content-type'), 'application/json')
  const schema = resolve(media.schema.$ref)
  const body = await request.json()
  for (const key of schema.required) assert.ok(key in body, `${key} is required`)
  for (const key of Object.keys(body)) {
    assert.ok(key in schema.properties, `${key} is in the schema`)
    assert.is(typeof body[key], schema.properties[key].type)
  }
}

contract('the spec names both servers as our constants', () => {
  assert.equal(
    spec.servers.map((s) => s.url),
    [PRODUCTION_URL, SANDBOX_URL],
  )
})

contract('authenticateRequest matches POST /auth/api-key', async () => {
  const request = authenticateRequest(spec.components.schemas['authenticate-payload'].example.apiKey)
  assert.is(new URL(request.url).pathname, '/auth/api-key')
  assert.ok(spec.paths['/auth/api-key'].post)
  await checkAgainst('/auth/api-key', request)
})

contract('refreshRequest matches POST /auth/refresh', async () => {
  const request = refreshRequest(spec.components.schemas['refresh-token-payload'].example.refreshToken)
  assert.is(new URL(request.url).pathname, '/auth/refresh')
  await checkAgainst('/auth/refresh', request)
})

contract.run()
