// A real client nobody here wrote: the official @api.video/nodejs-client, pointed at the stand-in on 127.0.0.1.
// It sends `Authorization: Basic base64("<key>:")` on every call (and on getAccessToken(), with the key in the
// body too), through axios; the stand-in must answer it as api.video does.
import ApiVideoClient from '@api.video/nodejs-client'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createStandIn } from '../dist/testing.js'
import { KEY, serve } from './helpers/index.mjs'

const official = suite('official @api.video/nodejs-client against the stand-in')

/** The stand-in served on 127.0.0.1, and the official client pointed at it with `baseUri`. */
async function setUp(apiKey = KEY) {
  const standIn = createStandIn({ apiKeys: [KEY] })
  const server = await serve(standIn.handler)
  return { standIn, server, client: new ApiVideoClient({ apiKey, baseUri: server.url }) }
}

official('getAccessToken() gets a token the stand-in accepts as a Bearer token', async () => {
  const { standIn, server, client } = await setUp()
  try {
    const token = await client.getAccessToken()
    assert.is(token.tokenType, 'Bearer')
    assert.is(token.expiresIn, 3600)
    assert.match(token.accessToken, /^\S+$/)
    assert.match(token.refreshToken, /^\S+$/)
    const check = await fetch(`${server.url}/videos`, { headers: { authorization: `Bearer ${token.accessToken}` } })
    assert.is(check.status, 200)
    assert.equal(
      standIn.requests.map((r) => [r.method, r.path, r.credential, r.carriedApiKey]),
      [
        ['POST', '/auth/api-key', 'api-key', true],
        ['GET', '/videos', 'bearer', false],
      ],
    )
  } finally {
    await server.close()
  }
})

official('videos.list() succeeds with its Basic credentials, and reads the list shape', async () => {
  const { standIn, server, client } = await setUp()
  try {
    const page = await client.videos.list()
    assert.equal(page.data, [])
    assert.is(page.pagination.currentPage, 1)
    assert.is(page.pagination.pageSize, 25)
    assert.is(page.pagination.itemsTotal, 0)
    assert.equal(
      page.pagination.links.map((l) => l.rel),
      ['self', 'first', 'last'],
    )
    const second = await client.videos.list({ currentPage: 2, pageSize: 10 })
    assert.equal([second.pagination.currentPage, second.pagination.pageSize], [2, 10])
    assert.equal(
      standIn.requests.map((r) => [r.method, r.path, r.credential, r.carriedApiKey]),
      [
        ['GET', '/videos', 'basic', true],
        ['GET', '/videos', 'basic', true],
      ],
    )
    assert.is(standIn.counts.auth, 0)
  } finally {
    await server.close()
  }
})

official("a wrong key: getAccessToken() and videos.list() are refused, with api.video's status codes", async () => {
  const { server, client } = await setUp('wrong-key')
  try {
    const tokenError = await client.getAccessToken().then(
      () => undefined,
      (e) => e,
    )
    assert.is(tokenError?.response?.status, 400)
    assert.is(tokenError.response.data.title, 'The user credentials were incorrect.')
    const listError = await client.videos.list().then(
      () => undefined,
      (e) => e,
    )
    assert.is(listError?.code, 401)
    assert.is(listError.message, 'The API key is invalid.')
  } finally {
    await server.close()
  }
})

official('videos and delegated upload tokens: create, list, update, upload with a token, delete', async () => {
  const { standIn, server, client } = await setUp()
  const dir = mkdtempSync(join(tmpdir(), 'apivideo-auth-official-'))
  try {
    const created = await client.videos.create({ title: 'Maths', tags: ['a'], _public: false })
    assert.match(created.videoId, /^vi/)
    assert.equal([created.title, created._public, created.tags], ['Maths', false, ['a']])
    const updated = await client.videos.update(created.videoId, { title: 'Physics' })
    assert.is(updated.title, 'Physics')
    const { token } = await client.uploadTokens.createToken({ ttl: 60 })
    assert.match(token, /^to/)
    assert.is((await client.uploadTokens.getToken(token)).ttl, 60)
    const file = join(dir, 'clip.mp4')
    writeFileSync(file, new Uint8Array(4096))
    // The official client names the multipart part after the file, not `file`: the stand-in takes it, as api.video.
    const uploaded = await client.videos.uploadWithUploadToken(token, file)
    assert.equal([uploaded.title, uploaded.source.type], ['clip.mp4', 'upload'])
    const page = await client.videos.list({ sortBy: 'title', sortOrder: 'asc' })
    assert.equal(
      page.data.map((v) => v.title),
      ['Physics', 'clip.mp4'],
    )
    await client.uploadTokens.deleteToken(token)
    const refused = await client.videos.uploadWithUploadToken(token, file).then(
      () => undefined,
      (e) => e,
    )
    assert.is(refused?.code, 400)
    await client.videos.delete(created.videoId)
    const missing = await client.videos.get(created.videoId).then(
      () => undefined,
      (e) => e,
    )
    assert.is(missing?.code, 404)
    // /upload needs no credentials, yet the official client sends its key there too.
    assert.equal(
      standIn.requests.filter((r) => r.path === '/upload').map((r) => [r.credential, r.carriedApiKey]),
      [
        ['basic', true],
        ['basic', true],
      ],
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await server.close()
  }
})

official.run()
