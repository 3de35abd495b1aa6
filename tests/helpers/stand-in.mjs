// What the stand-in's suites (tests/stand-in/) share: api.video's answers as its OpenAPI excerpts give them,
// requests in the shapes the tests send, and stand-ins set up on a fake clock.
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import * as assert from 'uvu/assert'
import { createSession } from '../../dist/index.js'
import { createStandIn } from '../../dist/testing.js'
import { KEY, clock } from './index.mjs'
import { openapi } from './openapi.mjs'

export const API = 'https://ws.api.video'
/** The fake clock's start in the resource suites: dates in answers are `2026-01-05T08:00:00+00:00`. */
export const START = Date.parse('2026-01-05T08:00:00Z')
const fixture = (name) => parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'))

/** api.video's auth excerpt, and the example of its 400 answer on `path`. */
export const authOpenapi = fixture('auth-openapi.yaml')
export const example = (path) =>
  authOpenapi.paths[path].post.responses['400'].content['application/json'].examples.response.value
/** The webhooks excerpt's schemas, and its signing and retry facts. */
export const schemas = fixture('webhooks-uploads-openapi.yaml').components.schemas
export const FACTS = JSON.parse(readFileSync(new URL('../fixtures/webhooks-facts.json', import.meta.url), 'utf8'))
/** The example of `POST /videos`'s 400. */
export const example400 =
  openapi.paths['/videos'].post.responses['400'].content['application/json'].examples.response.value

export const INVALID_TOKEN = {
  type: 'https://docs.api.video/reference/authentication-invalid-access-token',
  title: 'The access token is invalid or expired.',
  name: '',
  status: 401,
}
export const INVALID_API_KEY = {
  type: 'https://docs.api.video/reference/authentication-invalid-api-key',
  title: 'The API key is invalid.',
  name: '',
  status: 401,
}
export const JSON_BODY = { 'content-type': 'application/json' }

export const basic = (user, password = '') => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

/** api.video's empty first page, for `origin` (the links are absolute URLs, as api.video's are). */
export const emptyPage = (origin, path = '/videos', page = 1, size = 25) => ({
  data: [],
  pagination: {
    currentPage: page,
    pageSize: size,
    pagesTotal: 1,
    itemsTotal: 0,
    currentPageItems: 0,
    links: [
      { rel: 'self', uri: `${origin}${path}?currentPage=${page}&pageSize=${size}` },
      { rel: 'first', uri: `${origin}${path}?currentPage=1&pageSize=${size}` },
      { rel: 'last', uri: `${origin}${path}?currentPage=1&pageSize=${size}` },
    ],
  },
})

export const post = (path, body, headers = JSON_BODY) =>
  new Request(API + path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) })
export const get = (path, token) =>
  new Request(API + path, { headers: token ? { authorization: `Bearer ${token}` } : {} })

/** A stand-in on a fake clock, and a `call(method, path, body?)` that sends JSON with Basic credentials. */
export function setUp(options = {}) {
  const time = clock(START)
  const standIn = createStandIn({ now: time.now, ...options })
  const call = async (method, path, body, headers = {}) => {
    const init = { method, headers: { authorization: basic(KEY), ...headers } }
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body)
      init.headers['content-type'] ??= 'application/json'
    }
    const response = await standIn.fetch(API + path, init)
    const text = await response.text()
    return { status: response.status, body: text ? JSON.parse(text) : undefined }
  }
  return { standIn, time, call }
}

/** A multipart upload with a delegated token and no Authorization, as a browser sends it. */
export function upload(standIn, token, { name = 'clip.mp4', field = 'file', videoId } = {}) {
  const form = new FormData()
  form.append(field, new Blob([new Uint8Array(1000)], { type: 'video/mp4' }), name)
  if (videoId) form.append('videoId', videoId)
  const query = token === undefined ? '' : `?token=${encodeURIComponent(token)}`
  return standIn.fetch(`${API}/upload${query}`, { method: 'POST', body: form })
}

const TYPES = { string: 'string', integer: 'number', array: 'object', object: 'object' }

/** `value` has only the schema's properties, each of its type (`$ref`s followed), and the required ones. */
export function conforms(value, schema, where = 'body') {
  if (schema.$ref) return conforms(value, schemas[schema.$ref.split('/').at(-1)], where)
  assert.is(typeof value, TYPES[schema.type], `${where} is a ${schema.type}`)
  if (schema.type === 'array') return value.forEach((item, i) => conforms(item, schema.items, `${where}[${i}]`))
  if (schema.type !== 'object') {
    if (schema.enum) assert.ok(schema.enum.includes(value), `${where}: ${value} is not in the enum`)
    return undefined
  }
  for (const name of schema.required ?? []) assert.ok(name in value, `${where}.${name} is required`)
  for (const [name, property] of Object.entries(value)) {
    assert.ok(schema.properties[name], `${where}.${name} is not in the schema`)
    conforms(property, schema.properties[name], `${where}.${name}`)
  }
  return undefined
}

/** A stand-in, a session on it, and a JSON call through the session. */
export function api(options) {
  const standIn = createStandIn(options)
  const session = createSession({ apiKey: KEY, fetch: standIn.fetch })
  const call = async (path, init = {}) => {
    const response = await session.fetch(path, init)
    const text = await response.text()
    return { status: response.status, body: text ? JSON.parse(text) : undefined }
  }
  const create = (body) => call('/webhooks', { method: 'POST', headers: JSON_BODY, body: JSON.stringify(body) })
  return { standIn, session, call, create }
}
