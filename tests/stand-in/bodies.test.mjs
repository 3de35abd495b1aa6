// The stand-in: request bodies: the 1 MiB limit, read no further than needed.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createStandIn } from '../../dist/testing.js'
import { KEY } from '../helpers/index.mjs'
import { API } from '../helpers/stand-in.mjs'

const bodies = suite('stand-in: request bodies')

/** A body of `total` bytes in `chunk`-byte pieces that counts what was pulled from it. */
function countedBody(total, chunk = 64 * 1024) {
  const prefix = new TextEncoder().encode(`{"apiKey":"${KEY}","pad":"`)
  let pulled = 0
  const stream = new ReadableStream(
    {
      pull(controller) {
        if (pulled >= total) return controller.close()
        const piece = new Uint8Array(Math.min(chunk, total - pulled)).fill(0x61)
        if (pulled === 0) piece.set(prefix)
        pulled += piece.byteLength
        controller.enqueue(piece)
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, pulled: () => pulled }
}

bodies('handler() refuses a body over 1 MiB with 413, having pulled at most 1 MiB and one chunk of it', async () => {
  const standIn = createStandIn()
  const body = countedBody(64 * 1024 * 1024)
  const request = new Request(`${API}/auth/api-key`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body.stream,
    duplex: 'half',
  })
  const response = await standIn.handler(request)
  assert.equal(
    [response.status, await response.json()],
    [413, { type: 'about:blank', title: 'The request body is over 1 MiB.', status: 413 }],
  )
  assert.ok(body.pulled() <= 1024 * 1024 + 64 * 1024, `pulled ${body.pulled()} bytes`)
  assert.is(standIn.counts.auth, 1)
  assert.is(standIn.counts.carriedApiKey, 0)
})

bodies('a declared length over 1 MiB is refused before a byte is read; 1 MiB exactly is read', async () => {
  const standIn = createStandIn()
  const body = countedBody(2 * 1024 * 1024)
  const declared = new Request(`${API}/videos`, {
    method: 'POST',
    headers: { 'content-length': String(2 * 1024 * 1024) },
    body: body.stream,
    duplex: 'half',
  })
  assert.is((await standIn.handler(declared)).status, 413)
  assert.is(body.pulled(), 0)
  const json = `{"apiKey":"${KEY}","pad":"${'a'.repeat(1024 * 1024 - 22 - KEY.length)}"}`
  assert.is(new TextEncoder().encode(json).byteLength, 1024 * 1024)
  const exact = await standIn.fetch(`${API}/auth/api-key`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: json,
  })
  assert.is(exact.status, 200)
  const over = await standIn.fetch(`${API}/auth/api-key`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: `${json} `,
  })
  assert.is(over.status, 413)
})

bodies.run()
