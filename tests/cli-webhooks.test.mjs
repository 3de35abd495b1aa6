import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { verifyWebhook } from '../dist/webhooks.js'
import { exec } from '../scripts/exec.mjs'
import { serve } from './helpers/index.mjs'

const CLI = new URL('../dist/cli.js', import.meta.url).pathname
const SECRET = 'sig_sec_CLI_WEBHOOK_SECRET_0123'

/** Runs the CLI with no api.video variables but those given. */
const run = (args, { env = {}, input } = {}) =>
  exec(process.execPath, [CLI, ...args], {
    env: { APIVIDEO_API_KEY: undefined, APIVIDEO_WEBHOOK_SECRET: undefined, ...env },
    input,
    timeout: 10_000,
  })

/** A receiver on 127.0.0.1 that verifies each delivery with the add-on and answers `status`. */
async function receiver(status = 204) {
  const received = []
  const server = await serve(async (request) => {
    const headers = Object.fromEntries(request.headers)
    const body = await request.text()
    const verified = await verifyWebhook({ headers, body }, { secret: SECRET }).catch((error) => error.code)
    received.push({ headers, body, verified })
    return new Response(null, { status })
  })
  return { ...server, received }
}

function assertNoSecret(result) {
  assert.not.ok((result.stdout + result.stderr).includes(SECRET), 'the secret was printed')
}

const cli = suite('cli: send-webhook')

cli('sends a signed event, as api.video does, with the secret from APIVIDEO_WEBHOOK_SECRET', async () => {
  const hook = await receiver()
  try {
    const result = await run(['send-webhook', '--url', `${hook.url}/hook?token=t0k3n`], {
      env: { APIVIDEO_WEBHOOK_SECRET: SECRET },
    })
    assert.is(result.code, 0, result.stderr)
    assert.is(hook.received.length, 1)
    const [{ headers, body, verified }] = hook.received
    assert.is(headers['x-api-video-signature'], createHmac('sha256', SECRET).update(body).digest('hex'))
    assert.match(headers['x-api-video-webhookid'], /^webhook_\w+$/)
    assert.equal(verified, { ...JSON.parse(body), type: 'video.encoding.quality.completed' })
    assert.equal(Object.keys(verified), ['type', 'emittedAt', 'videoId', 'encoding', 'quality'])
    assert.match(
      result.stdout,
      new RegExp(`^video\\.encoding\\.quality\\.completed to ${hook.url}/hook \\(webhook_\\w+\\), try 1: 204\\n$`),
    )
    assert.not.ok(result.stdout.includes('t0k3n'), 'the query is not printed')
    assertNoSecret(result)
  } finally {
    await hook.close()
  }
})

cli('--type, --webhook-id, and the secret from --webhook-secret-file or standard input', async () => {
  const hook = await receiver()
  const dir = mkdtempSync(join(tmpdir(), 'apivideo-auth-cli-'))
  try {
    writeFileSync(join(dir, 'secret'), `${SECRET}\n`)
    const args = ['send-webhook', '--url', `${hook.url}/hook`, '--type', 'live-stream.broadcast.ended']
    const fromFile = await run(
      [...args, '--webhook-id', 'webhook_abc', '--webhook-secret-file', join(dir, 'secret')],
      {
        env: { APIVIDEO_WEBHOOK_SECRET: 'the file wins' },
      },
    )
    const fromStdin = await run([...args, '--webhook-secret-file', '-'], { input: SECRET })
    for (const result of [fromFile, fromStdin]) {
      assert.is(result.code, 0, result.stderr)
      assertNoSecret(result)
    }
    assert.equal(
      hook.received.map((r) => r.verified.type),
      ['live-stream.broadcast.ended', 'live-stream.broadcast.ended'],
    )
    assert.is(hook.received[0].headers['x-api-video-webhookid'], 'webhook_abc')
    const missing = await run([...args, '--webhook-secret-file', join(dir, 'none')])
    assert.is(missing.code, 1)
    assert.match(missing.stderr, /^apivideo-auth: UNREADABLE_WEBHOOK_SECRET_FILE: .*\(ENOENT\)\n$/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await hook.close()
  }
})

cli('a refusal exits 1 after one try; --retry with a receiver that accepts sends once', async () => {
  const refusing = await receiver(401)
  const accepting = await receiver(204)
  try {
    const env = { APIVIDEO_WEBHOOK_SECRET: SECRET }
    const refused = await run(['send-webhook', '--url', `${refusing.url}/hook`], { env })
    assert.is(refused.code, 1)
    assert.match(refused.stdout, /try 1: 401\n$/)
    assert.is(refused.stderr, 'apivideo-auth: WEBHOOK_NOT_DELIVERED: the receiver answered 401\n')
    assert.is(refusing.received.length, 1)
    const retried = await run(['send-webhook', '--retry', '--url', `${accepting.url}/hook`], { env })
    assert.is(retried.code, 0, retried.stderr)
    assert.is(accepting.received.length, 1)
  } finally {
    await refusing.close()
    await accepting.close()
  }
})

cli('a receiver that is down: "no answer", exit 1', async () => {
  const hook = await receiver()
  await hook.close()
  const result = await run(['send-webhook', '--url', `${hook.url}/hook`], {
    env: { APIVIDEO_WEBHOOK_SECRET: SECRET },
  })
  assert.is(result.code, 1)
  assert.match(result.stdout, /try 1: no answer\n$/)
  assert.match(result.stderr, /WEBHOOK_NOT_DELIVERED: the receiver did not answer\n$/)
})

cli('usage errors: no --url, a bad --url or --type, a secret as an argument (never echoed), no secret', async () => {
  const env = { APIVIDEO_WEBHOOK_SECRET: SECRET }
  const cases = [
    [['send-webhook'], /send-webhook needs --url/],
    [['send-webhook', '--url', 'ftp://127.0.0.1/'], /--url must be an http: or https: URL/],
    [
      ['send-webhook', '--url', 'http://127.0.0.1:9/', '--type', 'video.deleted'],
      /--type must be one of: live-stream/,
    ],
    [['send-webhook', '--url', 'http://127.0.0.1:9/', '--secret', SECRET], /never taken from an argument/],
    [['send-webhook', '--url', 'http://127.0.0.1:9/', `--webhook-secret=${SECRET}`], /never taken from an argument/],
    [['send-webhook', '--url', 'http://127.0.0.1:9/', '--port', '1'], /--port does not apply to send-webhook/],
    [['token', '--url', 'http://127.0.0.1:9/'], /--url does not apply to token/],
  ]
  for (const [args, pattern] of cases) {
    const result = await run(args, { env })
    assert.is(result.code, 2, args.join(' '))
    assert.match(result.stderr, /^apivideo-auth: USAGE: /)
    assert.match(result.stderr, pattern)
    assertNoSecret(result)
  }
  const none = await run(['send-webhook', '--url', 'http://127.0.0.1:9/'])
  assert.is(none.code, 1)
  assert.is(
    none.stderr,
    'apivideo-auth: MISSING_WEBHOOK_SECRET: set APIVIDEO_WEBHOOK_SECRET or use --webhook-secret-file\n',
  )
})

cli('--help describes send-webhook, its options and APIVIDEO_WEBHOOK_SECRET', async () => {
  const { code, stdout } = await run(['--help'])
  assert.is(code, 0)
  for (const word of ['send-webhook', '--url', '--type', '--webhook-id', '--webhook-secret-file', '--retry'])
    assert.ok(stdout.includes(word), word)
  assert.match(stdout, /\n {2}APIVIDEO_WEBHOOK_SECRET\n {10,}send-webhook: /)
})

cli.run()
