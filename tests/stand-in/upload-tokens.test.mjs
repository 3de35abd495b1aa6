// The stand-in: delegated upload tokens, and POST /upload with one.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { violations } from '../helpers/openapi.mjs'
import { API, setUp, upload } from '../helpers/stand-in.mjs'

const tokens = suite('stand-in: delegated upload tokens')

tokens('POST /upload-tokens mints a token; GET reads and lists it; DELETE revokes it', async () => {
  const { call, time } = setUp()
  const minted = await call('POST', '/upload-tokens', { ttl: 3600 })
  assert.is(minted.status, 200)
  assert.equal(violations(minted.body, 'upload-token'), [])
  assert.match(minted.body.token, /^to[A-Za-z0-9]{22}$/)
  assert.equal(minted.body, {
    token: minted.body.token,
    ttl: 3600,
    createdAt: '2026-01-05T08:00:00+00:00',
    expiresAt: '2026-01-05T09:00:00+00:00',
  })
  time.tick(1000)
  const forever = await call('POST', '/upload-tokens', {})
  assert.equal([forever.body.ttl, 'expiresAt' in forever.body], [0, false])
  assert.equal((await call('GET', `/upload-tokens/${minted.body.token}`)).body, minted.body)
  const list = (await call('GET', '/upload-tokens?sortBy=createdAt&sortOrder=desc')).body
  assert.equal(violations(list, 'token-list-response'), [])
  assert.equal(list.data, [forever.body, minted.body])
  assert.equal(await call('DELETE', `/upload-tokens/${minted.body.token}`), { status: 204, body: undefined })
  const gone = await call('GET', `/upload-tokens/${minted.body.token}`)
  assert.equal([gone.status, gone.body.name], [404, 'uploadToken'])
  assert.equal(violations(gone.body, 'not-found'), [])
  assert.is((await call('DELETE', `/upload-tokens/${minted.body.token}`)).status, 404)
  for (const ttl of [-1, 1.5, '60', 2_147_483_648]) {
    const refused = await call('POST', '/upload-tokens', { ttl })
    assert.equal([refused.status, refused.body.name, refused.body.problems.length], [400, 'ttl', 1], String(ttl))
  }
  assert.is((await call('POST', '/upload-tokens', { ttl: 2_147_483_647 })).status, 200)
})

tokens('POST /upload with a token and a multipart file, no Authorization, creates a video', async () => {
  const { standIn, call } = setUp()
  const { token } = (await call('POST', '/upload-tokens', { ttl: 60 })).body
  const response = await upload(standIn, token)
  assert.is(response.status, 201)
  const video = await response.json()
  assert.equal(violations(video, 'video'), [])
  assert.match(video.videoId, /^vi[A-Za-z0-9]{22}$/)
  assert.equal([video.title, video.source.type], ['clip.mp4', 'upload'])
  // A later chunk names its video; the official Node client names the part after the file.
  const chunk = await upload(standIn, token, { field: 'clip.mp4', videoId: video.videoId })
  assert.equal([chunk.status, (await chunk.json()).videoId], [201, video.videoId])
  assert.equal((await call('GET', '/videos')).body.data, [video])
  const uploads = standIn.requests.filter((r) => r.path === '/upload')
  assert.equal(
    uploads.map((r) => [r.method, r.credential, r.carriedApiKey]),
    [
      ['POST', 'none', false],
      ['POST', 'none', false],
    ],
  )
})

tokens(
  'an unknown, expired or deleted token is refused with a 400 naming the token; so is a missing file',
  async () => {
    const { standIn, call, time } = setUp()
    const refusal = async (response) => {
      const body = await response.json()
      assert.equal(violations(body, 'bad-request'), [])
      return [response.status, body.type.split('/').pop(), body.name]
    }
    const invalidToken = [400, 'invalid-attribute', 'token']
    assert.equal(await refusal(await upload(standIn, 'to0000000000000000000000')), invalidToken)
    assert.equal(await refusal(await upload(standIn, undefined)), [400, 'attribute-required', 'token'])
    const short = (await call('POST', '/upload-tokens', { ttl: 60 })).body.token
    const deleted = (await call('POST', '/upload-tokens', { ttl: 0 })).body.token
    assert.is((await upload(standIn, short)).status, 201)
    time.tick(59_999)
    assert.is((await upload(standIn, short)).status, 201)
    time.tick(1)
    assert.equal(await refusal(await upload(standIn, short)), invalidToken)
    assert.is((await call('GET', `/upload-tokens/${short}`)).status, 404)
    await call('DELETE', `/upload-tokens/${deleted}`)
    assert.equal(await refusal(await upload(standIn, deleted)), invalidToken)
    const live = (await call('POST', '/upload-tokens', {})).body.token
    const noFile = await standIn.fetch(`${API}/upload?token=${live}`, { method: 'POST', body: new FormData() })
    assert.equal(await refusal(noFile), [400, 'attribute-required', 'file'])
    const notMultipart = await standIn.fetch(`${API}/upload?token=${live}`, { method: 'POST', body: 'bytes' })
    assert.equal(await refusal(notMultipart), [400, 'attribute-required', 'file'])
    const unknownVideo = await upload(standIn, live, { videoId: 'vi0000000000000000000000' })
    assert.equal([unknownVideo.status, (await unknownVideo.json()).name], [404, 'videoId'])
    assert.is((await call('GET', '/videos')).body.pagination.itemsTotal, 2)
  },
)

tokens.run()
