// A small Upstash REST front over a real Redis, for the tests: Upstash's documented REST protocol, as its own local
// proxy (serverless-redis-http) serves it, so that the real @upstash/redis client runs the docs' recipe against the
// fleet tests' Redis.
// - POST / with a command as a JSON array (`["SET", "k", "v", "PX", 1000]`) answers `{ "result": … }`, or
//   `{ "error": "…" }` with a 400 when Redis refuses the command;
// - POST /pipeline with an array of commands answers an array of `{ result }` or `{ error }`, one per command, in
//   order; POST /multi-exec the same, the commands run in one MULTI/EXEC;
// - every request needs `Authorization: Bearer <token>`, else a 401 `{ "error": "Unauthorized" }`;
// - with `Upstash-Encoding: base64`, which @upstash/redis sends, every string in a result is base64 except "OK".
import { createServer } from 'node:http'
import { createClient } from 'redis'

/**
 * Starts the front on 127.0.0.1, in front of the Redis at `redisUrl`. Answers `{ url, token, counts, close }`:
 * `counts` has the HTTP requests (`requests`, `unauthorized`) and the Redis commands they carried (`commands`).
 * @example
 * const front = await startUpstashRest({ redisUrl: 'redis://127.0.0.1:6379' })
 * // UPSTASH_REDIS_REST_URL=front.url UPSTASH_REDIS_REST_TOKEN=front.token
 */
export async function startUpstashRest({ redisUrl, token = 'upstash-rest-test-token' }) {
  const redis = await createClient({ url: redisUrl })
    .on('error', () => {})
    .connect()
  const counts = { requests: 0, unauthorized: 0, commands: 0 }

  async function answer(path, body, base64) {
    const encode = (result) => encodeResult(result, base64)
    if (path === '/') {
      counts.commands++
      return { result: encode(await redis.sendCommand(commandOf(body))) }
    }
    if (path !== '/pipeline' && path !== '/multi-exec') throw Object.assign(new Error('not found'), { status: 404 })
    if (!Array.isArray(body) || !body.length) throw new Error('ERR the body must be an array of commands')
    const commands = body.map(commandOf)
    counts.commands += commands.length
    if (path === '/pipeline') {
      const settled = await Promise.allSettled(commands.map((command) => redis.sendCommand(command)))
      return settled.map((s) =>
        s.status === 'fulfilled' ? { result: encode(s.value) } : { error: s.reason.message },
      )
    }
    const multi = redis.multi()
    for (const command of commands) multi.addCommand(command)
    const results = await multi.exec()
    return results.map((result) => (result instanceof Error ? { error: result.message } : { result: encode(result) }))
  }

  const server = createServer((request, response) => {
    counts.requests++
    const send = (status, json) => {
      response.writeHead(status, { 'content-type': 'application/json' })
      response.end(JSON.stringify(json))
    }
    if (request.headers.authorization !== `Bearer ${token}`) {
      counts.unauthorized++
      return send(401, { error: 'Unauthorized' })
    }
    if (request.method !== 'POST') return send(405, { error: 'Method Not Allowed' })
    let text = ''
    request.setEncoding('utf8')
    request.on('data', (chunk) => (text += chunk))
    request.on('end', async () => {
      const base64 = String(request.headers['upstash-encoding']).toLowerCase() === 'base64'
      try {
        send(200, await answer(new URL(request.url, 'http://front').pathname, JSON.parse(text), base64))
      } catch (error) {
        send(error.status ?? 400, { error: error.message })
      }
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    token,
    counts,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      redis.destroy()
    },
  }
}

/** A command as Redis takes it: every argument a string. */
function commandOf(body) {
  if (!Array.isArray(body) || !body.length || !body.every((a) => typeof a === 'string' || typeof a === 'number'))
    throw new Error('ERR a command is a non-empty JSON array of strings and numbers')
  return body.map(String)
}

/** A Redis reply as Upstash's JSON has it: strings base64 when asked (but "OK"), arrays element by element. */
function encodeResult(result, base64) {
  if (Array.isArray(result)) return result.map((element) => encodeResult(element, base64))
  if (typeof result === 'string' && base64 && result !== 'OK') return Buffer.from(result).toString('base64')
  return result ?? null
}
