// The stand-in: the control routes under /_stand-in/, over HTTP, from the CLI and in code.
import { request as httpRequest } from 'node:http'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createStandIn } from '../../dist/testing.js'
import { verifyWebhook } from '../../dist/webhooks.js'
import { exec } from '../../scripts/exec.mjs'
import { KEY, serve } from '../helpers/index.mjs'
import { API, JSON_BODY } from '../helpers/stand-in.mjs'

const control = suite('stand-in: control routes over HTTP')

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname

/** Steers a stand-in served at `url` as a test in another language would: plain HTTP, JSON bodies. */
async function steer(url) {
  const send = (method, path, body, headers = {}) =>
    fetch(url + path, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  const authenticate = () => send('POST', '/auth/api-key', { apiKey: KEY })
  assert.is((await (await authenticate()).json()).expires_in, 120, 'the --expires-in lifetime')
  assert.is((await send('POST', '/_stand-in/expires-in', { expiresIn: 30 })).status, 204)
  const { access_token: token } = await (await authenticate()).json()
  const bearer = { authorization: `Bearer ${token}` }
  assert.is((await send('GET', '/videos', undefined, bearer)).status, 200)

  const faults = [{ status: 503 }, { networkError: true }]
  assert.is((await send('POST', '/_stand-in/fail', { path: '/auth/api-key', faults })).status, 204)
  assert.is((await authenticate()).status, 503)
  assert.instance(await authenticate().catch((error) => error), TypeError, 'a dropped connection')
  assert.is((await (await authenticate()).json()).expires_in, 30)

  assert.is((await send('POST', '/_stand-in/revoke')).status, 204)
  assert.is((await send('GET', '/videos', undefined, bearer)).status, 401)

  const report = await (await send('GET', '/_stand-in/requests')).json()
  assert.equal(
    report.requests.map((r) => `${r.method} ${r.path} ${r.credential}`),
    [
      'POST /auth/api-key api-key',
      'POST /auth/api-key api-key',
      'GET /videos bearer',
      'POST /auth/api-key api-key',
      'POST /auth/api-key api-key',
      'POST /auth/api-key api-key',
      'GET /videos bearer',
    ],
  )
  assert.equal([report.counts.requests, report.counts.auth, report.counts.carriedApiKey], [7, 5, 5])

  const refused = async (response) => [response.status, (await response.json()).title]
  assert.equal(await refused(await send('POST', '/_stand-in/fail', { path: 'videos', faults: [] })), [
    400,
    'path must be a string starting with "/", with no query or hash',
  ])
  assert.is((await send('POST', '/_stand-in/fail', { path: '/videos', faults: [{ status: 99 }] })).status, 400)
  assert.is((await send('POST', '/_stand-in/fail', { path: '/videos' })).status, 400)
  assert.is((await send('POST', '/_stand-in/expires-in', { expiresIn: 0 })).status, 400)
  assert.is((await send('GET', '/_stand-in/unknown')).status, 404)
  const page = await send('POST', '/_stand-in/revoke', undefined, { origin: 'https://attacker.example' })
  assert.equal(await refused(page), [403, 'The control routes answer loopback clients only, never a web page.'])
  assert.is(await rebound(url), 403)
}

/** A request through DNS rebinding: the loopback address, with another site's name in `Host`. */
function rebound(url) {
  return new Promise((resolve, reject) => {
    const { port } = new URL(url)
    const options = {
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/_stand-in/revoke',
      headers: { host: 'evil.example' },
    }
    httpRequest(options, (response) => {
      response.resume()
      resolve(response.statusCode)
    })
      .on('error', reject)
      .end()
  })
}

control(
  'the CLI stand-in takes --expires-in, and is steered over HTTP: lifetime, faults, revoke, requests',
  async () => {
    let scenario
    const result = await exec(process.execPath, [CLI, 'stand-in', '--port', '0', '--expires-in', '120'], {
      env: { APIVIDEO_API_KEY: undefined },
      timeout: 20_000,
      onStdout: (stdout, child) => {
        const found = /^api\.video stand-in: (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout)
        if (found && !scenario) scenario = steer(found[1]).finally(() => child.kill('SIGTERM'))
      },
    })
    await scenario
    assert.is(result.code, 0, result.stderr)
    assert.match(result.stdout, / POST \/_stand-in\/revoke 204\n/)
  },
)

control('--expires-in takes whole seconds, 1 or more', async () => {
  for (const value of ['0', '-5', '1.5', 'soon', '']) {
    const result = await exec(process.execPath, [CLI, 'stand-in', `--expires-in=${value}`], { timeout: 10_000 })
    assert.is(result.code, 2, value)
    assert.match(result.stderr, /--expires-in must be a whole number of seconds/)
  }
})

control('off by default; on, they answer a loopback URL only and never count as requests', async () => {
  const off = createStandIn()
  assert.is((await off.fetch(`${API}/_stand-in/revoke`, { method: 'POST' })).status, 401)
  assert.is(off.counts.requests, 1)
  const on = createStandIn({ controlRoutes: true })
  assert.is((await on.fetch(`${API}/_stand-in/revoke`, { method: 'POST' })).status, 403)
  const server = await serve(on.handler)
  try {
    assert.is((await fetch(`${server.url}/_stand-in/requests`)).status, 200)
    assert.is(on.counts.requests, 0)
  } finally {
    await server.close()
  }
  // Every argument error carries a code, and names the argument, never its value.
  const codeOf = (run) => {
    try {
      run()
    } catch (error) {
      assert.instance(error, TypeError)
      return [error.code, error.message.split(' ')[0]]
    }
    return 'did not throw'
  }
  assert.equal(
    codeOf(() => createStandIn({ controlRoutes: 'yes' })),
    ['ERR_INVALID_ARGUMENT', 'controlRoutes'],
  )
  assert.equal(
    codeOf(() => createStandIn({ expiresIn: -1 })),
    ['ERR_INVALID_ARGUMENT', 'expiresIn'],
  )
  assert.equal(
    codeOf(() => createStandIn({ controlroutes: true })),
    ['ERR_UNKNOWN_OPTION', 'unknown'],
  )
  assert.equal(
    codeOf(() => on.fail('videos')),
    ['ERR_INVALID_ARGUMENT', 'path'],
  )
  assert.equal(
    codeOf(() => on.fail('/videos', { status: 1 })),
    ['ERR_INVALID_ARGUMENT', 'faults'],
  )
})

/** A receiver on 127.0.0.1 that answers each delivery with the next of `statuses` (the last one repeats). */
async function receiver(statuses) {
  const received = []
  const server = await serve(async (request) => {
    received.push({ headers: Object.fromEntries(request.headers), body: await request.text() })
    return new Response(null, { status: statuses[Math.min(received.length - 1, statuses.length - 1)] })
  })
  return { ...server, received }
}

control(
  'POST /_stand-in/deliver sends a signed event to the subscriptions, for a test in another process',
  async () => {
    const standIn = createStandIn({ controlRoutes: true })
    const [server, hook, failing] = [await serve(standIn.handler), await receiver([204]), await receiver([503, 204])]
    const send = (path, body, headers = {}) =>
      fetch(server.url + path, { method: 'POST', headers: { ...JSON_BODY, ...headers }, body: JSON.stringify(body) })
    try {
      const { access_token: token } = await (await send('/auth/api-key', { apiKey: KEY })).json()
      const subscribe = async (url, events) =>
        (await send('/webhooks', { url, events }, { authorization: `Bearer ${token}` })).json()
      const webhook = await subscribe(`${hook.url}/hook`, ['video.encoding.quality.completed'])
      const other = await subscribe(`${failing.url}/hook`, ['video.caption.generated'])
      const event = { type: 'video.encoding.quality.completed', videoId: 'vi1', encoding: 'hls', quality: '720p' }
      const before = standIn.counts.requests

      const answer = await send('/_stand-in/deliver', { event })
      assert.is(answer.status, 200)
      const text = await answer.text()
      const { deliveries } = JSON.parse(text)
      assert.equal(
        deliveries.map(({ webhookId, url, statuses, delivered }) => ({ webhookId, url, statuses, delivered })),
        [{ webhookId: webhook.webhookId, url: `${hook.url}/hook`, statuses: [204], delivered: true }],
      )
      assert.not.ok(text.includes(webhook.signatureSecret), 'the answer holds the secret')
      const [{ headers, body }] = hook.received
      assert.is(body, deliveries[0].body)
      assert.is((await verifyWebhook({ headers, body }, { secret: webhook.signatureSecret })).videoId, 'vi1')

      // With retry, api.video's rule: after the 503, another try 3 s later, with the same body and signature.
      const retried = await (
        await send('/_stand-in/deliver', { event: { type: 'video.caption.generated' }, retry: true })
      ).json()
      assert.equal(
        retried.deliveries.map((d) => [d.webhookId, d.statuses, d.delivered]),
        [[other.webhookId, [503, 204], true]],
      )
      assert.is(new Set(failing.received.map((r) => r.body + r.headers['x-api-video-signature'])).size, 1)
      assert.is(standIn.counts.requests, before, 'the control route is not recorded')

      const refused = async (response) => [response.status, (await response.json()).title]
      assert.equal(await refused(await send('/_stand-in/deliver', {})), [
        400,
        'event must be an object with a string type',
      ])
      assert.equal(await refused(await send('/_stand-in/deliver', { event, retry: 'yes' })), [
        400,
        'retry must be a boolean',
      ])
      assert.equal(await refused(await send('/_stand-in/deliver', { event, retries: true })), [
        400,
        'unknown option retries',
      ])
      const text400 = await fetch(`${server.url}/_stand-in/deliver`, {
        method: 'POST',
        body: JSON.stringify({ event }),
      })
      assert.is(text400.status, 400, 'a body without a JSON content type')
      assert.is((await send('/_stand-in/deliver', { event }, { origin: 'https://attacker.example' })).status, 403)
      const notLoopback = await standIn.fetch(`${API}/_stand-in/deliver`, {
        method: 'POST',
        headers: JSON_BODY,
        body: JSON.stringify({ event }),
      })
      assert.is(notLoopback.status, 403)
      assert.is(hook.received.length, 1, 'no refused request delivered anything')
    } finally {
      await Promise.all([server.close(), hook.close(), failing.close()])
    }
  },
)

control.run()
