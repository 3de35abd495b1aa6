// The stand-in: its routes are built one way, so /webhooks answers as /videos does to what the two have in common:
// a body that is not JSON, a method the collection does not take, a malformed escape or an unknown id, and pages.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { setUp } from '../helpers/stand-in.mjs'

const alike = suite('stand-in: /webhooks and /videos answer alike')

const COLLECTIONS = {
  videos: { path: '/videos', payload: (i) => ({ title: `video ${i}` }), id: 'videoId' },
  webhooks: {
    path: '/webhooks',
    payload: (i) => ({ url: `https://${i}.example/hook`, events: ['video.encoding.quality.completed'] }),
    id: 'webhookId',
  },
}

/** A stand-in holding three items of each collection; `on(name)` answers for that collection. */
async function seeded() {
  const { call } = setUp()
  for (const { path, payload } of Object.values(COLLECTIONS)) {
    for (let i = 0; i < 3; i++) assert.is((await call('POST', path, payload(i))).status, 201, path)
  }
  return call
}

/** Runs `ask` on each collection and checks that both answered alike: `view` is what must be equal. */
async function answersAlike(call, ask, view) {
  const answers = {}
  for (const [name, collection] of Object.entries(COLLECTIONS))
    answers[name] = view(await ask(collection), collection)
  assert.equal(answers.webhooks, answers.videos)
  return answers.videos
}

alike('a text/plain POST is a 400 that says the content type is wrong, and creates nothing', async () => {
  const call = await seeded()
  const seen = await answersAlike(
    call,
    ({ path, payload }) => call('POST', path, JSON.stringify(payload(9)), { 'content-type': 'text/plain' }),
    ({ status, body }) => [status, body],
  )
  assert.is(seen[0], 400)
  assert.match(seen[1].title, /content type is wrong/)
  await answersAlike(
    call,
    ({ path }) => call('GET', path),
    ({ body }) => body.pagination.itemsTotal,
  )
})

alike('a PUT on the collection answers alike: the echo of any other method on a resource', async () => {
  const call = await seeded()
  const seen = await answersAlike(
    call,
    ({ path }) => call('PUT', path, {}),
    ({ status, body }, { path }) => [status, { ...body, path: body.path === path ? 'the path' : body.path }],
  )
  assert.equal(seen, [200, { method: 'PUT', path: 'the path' }])
})

alike("a malformed escape and an unknown id are api.video's 404, naming the id", async () => {
  const call = await seeded()
  for (const id of ['%E0%A4%A', 'unknown', '%2F']) {
    for (const method of ['GET', 'DELETE']) {
      const seen = await answersAlike(
        call,
        ({ path }) => call(method, `${path}/${id}`),
        ({ status, body }, collection) => [status, body.type, body.name === collection.id],
      )
      assert.equal(seen, [404, 'https://docs.api.video/reference/resource-not-found', true], `${method} ${id}`)
    }
  }
})

alike('pageSize=1 gives next links: following them reads every item, a page at a time', async () => {
  const call = await seeded()
  const seen = await answersAlike(
    call,
    async ({ path }) => {
      const pages = []
      for (let next = `${path}?pageSize=1`; next;) {
        const { body } = await call('GET', next)
        pages.push(body)
        const uri = body.pagination.links.find((link) => link.rel === 'next')?.uri
        next = uri && uri.replace(/^https:\/\/ws\.api\.video/, '')
      }
      return pages
    },
    (pages) => pages.map(({ data, pagination }) => [data.length, pagination.links.map((link) => link.rel)]),
  )
  assert.equal(seen, [
    [1, ['self', 'first', 'next', 'last']],
    [1, ['self', 'first', 'previous', 'next', 'last']],
    [1, ['self', 'first', 'previous', 'last']],
  ])
})

alike.run()
