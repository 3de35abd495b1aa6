import { spawn } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createStandIn } from '../dist/testing.js'
import { exec } from '../scripts/exec.mjs'
import { recordingIssuedTokens, serve } from './helpers/index.mjs'

const CLI = new URL('../dist/cli.js', import.meta.url).pathname
const SECRET_KEY = 'sk_live_CLI_SECRET_KEY_0123456789'

/** Every child's home and token cache: a temporary folder, never the real home. */
const HOME = mkdtempSync(join(tmpdir(), 'apivideo-auth-cli-home-'))
process.once('exit', () => rmSync(HOME, { recursive: true, force: true }))

/**
 * The child's environment: this one's without api.video variables (unless `extra` sets them), with HOME and
 * XDG_CACHE_HOME in the temporary home, plus `extra`.
 */
const childEnv = (extra = {}) => ({
  ...process.env,
  APIVIDEO_API_KEY: undefined,
  APIVIDEO_BASE_URL: undefined,
  HOME,
  XDG_CACHE_HOME: join(HOME, 'cache'),
  ...extra,
})

/** Runs the CLI to completion: exit code, stdout, stderr. A watchdog kills a hung child. */
const run = (args, { env = {}, input } = {}) =>
  exec(process.execPath, [CLI, ...args], { env: childEnv(env), input, timeout: 10_000 })

/** A stand-in on 127.0.0.1 that also remembers every refresh token it issued. */
async function recordingServer(apiKeys = [SECRET_KEY]) {
  const standIn = createStandIn({ apiKeys })
  const { record, refreshTokens } = recordingIssuedTokens(standIn.handler)
  const server = await serve(record)
  return { standIn, server, refreshTokens, secrets: () => [SECRET_KEY, ...refreshTokens] }
}

function assertNoSecret(result, secrets) {
  const output = result.stdout + result.stderr
  for (const secret of secrets) assert.not.ok(output.includes(secret), 'a secret was printed')
}

function assertFailure(result, status, code) {
  assert.is(result.code, status, result.stderr)
  assert.is(result.stdout, '')
  assert.match(result.stderr, new RegExp(`^apivideo-auth: ${code}: [^\\n]+\\n$`))
}

const usage = suite('cli: usage')

usage('--help prints the usage and exits 0', async () => {
  for (const args of [['--help'], ['-h'], ['help'], ['token', '--help']]) {
    const result = await run(args)
    assert.is(result.code, 0)
    assert.match(result.stdout, /^Usage: apivideo-auth <command>/)
    for (const word of [
      'token',
      'header',
      'stand-in',
      '--json',
      '--sandbox',
      '--base-url',
      '--api-key-file',
      '--port',
      '--version',
      '--no-cache',
      '--verbose',
      'APIVIDEO_API_KEY',
      'APIVIDEO_BASE_URL',
      'XDG_CACHE_HOME',
      '~/.cache/apivideo-auth',
    ])
      assert.ok(result.stdout.includes(word), word)
    assert.is(result.stderr, '')
  }
})

usage('--help shows the environment variables, how to stop the stand-in, and what bounds its memory', async () => {
  const { stdout } = await run(['--help'])
  assert.match(stdout, /\nEnvironment variables:\n {2}APIVIDEO_API_KEY {2,}\S/)
  assert.match(stdout, /stand-in .*\(Ctrl\+C\)/)
  assert.match(stdout, /last 1,000 requests/)
  assert.match(stdout, /at most\s+10,000 tokens/)
  assert.match(stdout, /expired access tokens/)
})

usage('--version prints the version of package.json and exits 0', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  const result = await run(['--version'])
  assert.equal([result.code, result.stdout, result.stderr], [0, `${version}\n`, ''])
})

usage(
  'the node:http adapter is defined once, in src/node-server.ts: dist/cli.js imports it, scripts reuse it',
  () => {
    const read = (path) => readFileSync(new URL(path, import.meta.url), 'utf8')
    const cli = read('../dist/cli.js')
    assert.is(read('../dist/node-server.js').match(/\bcreateServer\(/g)?.length, 1)
    assert.match(cli, /from "\.\/node-server\.js"/)
    for (const other of [cli, read('../scripts/loopback.mjs'), read('../src/cli.ts')])
      assert.not.match(other, /\bcreateServer\(/, 'a second adapter')
    assert.not.match(cli, /scripts\//, 'the published command reaches into scripts/')
  },
)

usage('usage errors exit 2 with one line naming USAGE', async () => {
  const cases = [
    [],
    ['tokens'],
    ['token', '--jsn'],
    ['token', 'extra'],
    ['header', '--json'],
    ['token', '--port', '80'],
    ['stand-in', '--sandbox'],
    ['token', '--base-url'],
    ['token', '--sandbox', '--base-url', 'http://127.0.0.1:1'],
    ['token', '--base-url', 'ftp://127.0.0.1/'],
    ['token', '--base-url', 'not a url'],
    ['stand-in', '--port', '70000'],
    ['stand-in', '--port=-1'],
    // Names every object inherits are no commands (`toString` ran as `token`, `constructor --json` crashed).
    ['toString'],
    ['constructor', '--json'],
    ['__proto__'],
    ['hasOwnProperty'],
  ]
  for (const args of cases) {
    const result = await run(args, { env: { APIVIDEO_API_KEY: SECRET_KEY } })
    assertFailure(result, 2, 'USAGE')
    assertNoSecret(result, [SECRET_KEY])
  }
})

usage('a reader that closes the pipe early ends the output quietly: no stack trace, exit 0', async () => {
  const child = spawn(process.execPath, [CLI, '--help'], { env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout.destroy()
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const code = await new Promise((resolve) => child.once('close', resolve))
  assert.equal([code, stderr], [0, ''])
})

usage('a key passed as an argument is refused and never echoed', async () => {
  const cases = [
    ['token', '--api-key', SECRET_KEY],
    ['token', `--api-key=${SECRET_KEY}`],
    ['token', `--apiKey=${SECRET_KEY}`],
    ['token', `--key=${SECRET_KEY}`],
    ['token', SECRET_KEY],
    ['token', `--unknown=${SECRET_KEY}`],
  ]
  for (const args of cases) {
    const result = await run(args)
    assertFailure(result, 2, 'USAGE')
    assertNoSecret(result, [SECRET_KEY])
  }
  assert.match((await run(['token', '--api-key', SECRET_KEY])).stderr, /APIVIDEO_API_KEY/)
})

usage.run()

const token = suite('cli: token and header against the stand-in')

token('token prints an access token the API accepts; nothing else is printed', async () => {
  const { server, standIn, secrets } = await recordingServer()
  try {
    const result = await run(['token', '--base-url', server.url], { env: { APIVIDEO_API_KEY: SECRET_KEY } })
    assert.is(result.code, 0, result.stderr)
    assert.is(result.stderr, '')
    assert.match(result.stdout, /^\S+\n$/)
    const check = await fetch(`${server.url}/videos`, {
      headers: { authorization: `Bearer ${result.stdout.trim()}` },
    })
    assert.is(check.status, 200)
    assert.equal(
      standIn.requests.map((r) => r.path),
      ['/auth/api-key', '/videos'],
    )
    assertNoSecret(result, secrets())
  } finally {
    await server.close()
  }
})

token('header prints "Authorization: Bearer …", and --base-url=URL works too', async () => {
  const { server, secrets } = await recordingServer()
  try {
    const result = await run(['header', `--base-url=${server.url}/`], { env: { APIVIDEO_API_KEY: SECRET_KEY } })
    assert.is(result.code, 0, result.stderr)
    const [name, value] = result.stdout.trim().split(': ')
    assert.is(name, 'Authorization')
    assert.match(value, /^Bearer \S+$/)
    assert.is((await fetch(`${server.url}/videos`, { headers: { [name]: value } })).status, 200)
    assertNoSecret(result, secrets())
  } finally {
    await server.close()
  }
})

token('--json prints the token object without the refresh token', async () => {
  const { server, secrets, refreshTokens } = await recordingServer()
  try {
    const before = Date.now()
    const result = await run(['token', '--json', '--base-url', server.url], { env: { APIVIDEO_API_KEY: SECRET_KEY } })
    assert.is(result.code, 0, result.stderr)
    const after = Date.now()
    const token = JSON.parse(result.stdout)
    assert.equal(Object.keys(token).sort(), ['accessToken', 'expiresAt', 'expiresIn', 'tokenType'])
    assert.is(token.tokenType, 'Bearer')
    // Whole epoch ms (the session's clock has fractions of a millisecond), as the seconds left are whole.
    assert.ok(Number.isInteger(token.expiresAt), String(token.expiresAt))
    assert.ok(Number.isInteger(token.expiresIn), String(token.expiresIn))
    assert.ok(token.expiresAt >= before + 3_600_000)
    // The seconds left when it was printed, rounded: a fresh token has its whole hour.
    const printedAt = token.expiresAt - token.expiresIn * 1000
    assert.ok(printedAt >= before - 500 && printedAt <= after + 500, `${token.expiresIn} s`)
    assert.is(refreshTokens.length, 1)
    assertNoSecret(result, secrets())
  } finally {
    await server.close()
  }
})

token('--api-key-file reads a file (trailing newline and all) or standard input with "-"', async () => {
  const { server, secrets } = await recordingServer()
  const dir = mkdtempSync(join(tmpdir(), 'apivideo-auth-cli-'))
  try {
    const file = join(dir, 'key')
    writeFileSync(file, `${SECRET_KEY}\n`)
    const fromFile = await run(['token', '--api-key-file', file, '--base-url', server.url])
    assert.is(fromFile.code, 0, fromFile.stderr)
    const fromStdin = await run(['token', '--api-key-file', '-', '--base-url', server.url], {
      input: `${SECRET_KEY}\r\n`,
    })
    assert.is(fromStdin.code, 0, fromStdin.stderr)
    const fileWins = await run(['token', '--api-key-file', file, '--base-url', server.url], {
      env: { APIVIDEO_API_KEY: 'another-key' },
    })
    assert.is(fileWins.code, 0, fileWins.stderr)
    for (const result of [fromFile, fromStdin, fileWins]) assertNoSecret(result, secrets())
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await server.close()
  }
})

token('APIVIDEO_BASE_URL sets the API base; --base-url and --sandbox win over it', async () => {
  const { server, standIn } = await recordingServer()
  const key = { APIVIDEO_API_KEY: SECRET_KEY }
  try {
    const fromEnv = await run(['token', '--no-cache'], { env: { ...key, APIVIDEO_BASE_URL: server.url } })
    assert.is(fromEnv.code, 0, fromEnv.stderr)
    assert.is(standIn.counts.auth, 1)
    // A closed port in the variable: the flag must win, or the call fails.
    const flagWins = await run(['header', '--no-cache', '--base-url', server.url], {
      env: { ...key, APIVIDEO_BASE_URL: 'http://127.0.0.1:1' },
    })
    assert.is(flagWins.code, 0, flagWins.stderr)
    assert.is(standIn.counts.auth, 2)
    const bad = await run(['token'], { env: { ...key, APIVIDEO_BASE_URL: `https://${SECRET_KEY}@example.com` } })
    assertFailure(bad, 2, 'USAGE')
    assert.match(bad.stderr, /APIVIDEO_BASE_URL/)
    assertNoSecret(bad, [SECRET_KEY])
    // --sandbox does not read the variable: what fails is the missing key, before anything is sent.
    assertFailure(
      await run(['token', '--sandbox'], { env: { APIVIDEO_BASE_URL: 'not a url' } }),
      1,
      'MISSING_API_KEY',
    )
  } finally {
    await server.close()
  }
})

token.run()

const failures = suite('cli: failures exit 1 with one line naming the code, and no secret')

failures('a missing, empty or malformed key is refused before anything is sent', async () => {
  const { server, standIn } = await recordingServer()
  const dir = mkdtempSync(join(tmpdir(), 'apivideo-auth-cli-'))
  try {
    writeFileSync(join(dir, 'empty'), '\n')
    const cases = [
      [[], {}, undefined, 'MISSING_API_KEY'],
      [[], { APIVIDEO_API_KEY: '' }, undefined, 'MISSING_API_KEY'],
      [['--sandbox'], {}, undefined, 'MISSING_API_KEY'],
      [['--api-key-file', join(dir, 'empty')], {}, undefined, 'MISSING_API_KEY'],
      [['--api-key-file', '-'], {}, '', 'MISSING_API_KEY'],
      [['--api-key-file', join(dir, 'absent')], {}, undefined, 'UNREADABLE_API_KEY_FILE'],
      [[], { APIVIDEO_API_KEY: ` ${SECRET_KEY}` }, undefined, 'MALFORMED_API_KEY'],
      [['--api-key-file', '-'], {}, `${SECRET_KEY}\nsecond line`, 'MALFORMED_API_KEY'],
    ]
    for (const [args, env, input, code] of cases) {
      const base = args.includes('--sandbox') ? [] : ['--base-url', server.url]
      const result = await run(['token', ...args, ...base], { env, input })
      assertFailure(result, 1, code)
      assertNoSecret(result, [SECRET_KEY])
    }
    assert.equal(standIn.requests, [])
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await server.close()
  }
})

failures('an --api-key-file over 16 KiB, /dev/zero included, is MALFORMED_API_KEY: one line, exit 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'apivideo-auth-cli-'))
  try {
    const big = 'k'.repeat(16 * 1024 + 1)
    writeFileSync(join(dir, 'big'), big)
    for (const [file, input] of [
      ['/dev/zero', undefined],
      [join(dir, 'big'), undefined],
      ['-', big],
    ]) {
      const result = await run(['token', '--api-key-file', file, '--base-url', 'http://127.0.0.1:1'], { input })
      assertFailure(result, 1, 'MALFORMED_API_KEY')
      assert.match(result.stderr, /over 16 KiB/)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

failures('a wrong key is INVALID_CREDENTIALS, and neither key is printed', async () => {
  const { server, secrets } = await recordingServer(['sk_live_THE_RIGHT_ONE'])
  try {
    const result = await run(['header', '--base-url', server.url], { env: { APIVIDEO_API_KEY: SECRET_KEY } })
    assertFailure(result, 1, 'INVALID_CREDENTIALS')
    assertNoSecret(result, [...secrets(), 'sk_live_THE_RIGHT_ONE'])
  } finally {
    await server.close()
  }
})

failures('server errors, rate limits and odd answers each name their code', async () => {
  const { server, standIn, secrets } = await recordingServer()
  try {
    standIn.fail(
      '/auth/api-key',
      { status: 503 },
      { status: 429, headers: { 'x-ratelimit-retry-after': '30' } },
      { status: 403 },
      { status: 200, body: {} },
    )
    for (const code of ['SERVER_ERROR', 'RATE_LIMITED', 'ACCESS_DENIED', 'INVALID_RESPONSE']) {
      const result = await run(['token', '--base-url', server.url], { env: { APIVIDEO_API_KEY: SECRET_KEY } })
      assertFailure(result, 1, code)
      assertNoSecret(result, secrets())
    }
  } finally {
    await server.close()
  }
})

failures(
  "a server's problem title cannot move the cursor, clear the screen or add a line: " +
    'one line of at most 300 characters',
  async () => {
    const { server, standIn } = await recordingServer()
    try {
      const title =
        '\x1b[2J\x1b[1;1H\x1b]0;pwned\x07cleared\r\napivideo-auth: OK: fake line\u202eevil\x9b31m\x00' +
        'A'.repeat(2000)
      standIn.fail(
        '/auth/api-key',
        { status: 400, body: { type: 'x', title, name: '', status: 400 } },
        { status: 503, body: { title: 'down\x1b[31m red\x1bc' } },
      )
      const result = await run(['token', '--base-url', server.url], { env: { APIVIDEO_API_KEY: SECRET_KEY } })
      assertFailure(result, 1, 'INVALID_CREDENTIALS')
      assert.ok(result.stderr.length <= 301, `${result.stderr.length} characters`)
      assert.not.match(result.stderr.slice(0, -1), /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/)
      const second = await run(['token', '--base-url', server.url], { env: { APIVIDEO_API_KEY: SECRET_KEY } })
      assertFailure(second, 1, 'SERVER_ERROR')
      assert.match(second.stderr, /down/)
      assert.not.match(second.stderr.slice(0, -1), /[\x00-\x1f\x7f-\x9f]/)
    } finally {
      await server.close()
    }
  },
)

failures('a dropped connection and a closed port are NETWORK_ERROR', async () => {
  const { server, standIn } = await recordingServer()
  standIn.fail('/auth/api-key', { networkError: true })
  const dropped = await run(['token', '--base-url', server.url], { env: { APIVIDEO_API_KEY: SECRET_KEY } })
  await server.close()
  const refused = await run(['token', '--base-url', server.url], { env: { APIVIDEO_API_KEY: SECRET_KEY } })
  for (const result of [dropped, refused]) {
    assertFailure(result, 1, 'NETWORK_ERROR')
    assertNoSecret(result, [SECRET_KEY])
  }
  assert.match(refused.stderr, /\(ECONNREFUSED\)/)
  assert.is(refused.stderr.split('ECONNREFUSED').length, 2, 'the code is named once')
})

failures.run()

/** A fresh cache for one test: the environment that points the CLI at it, and the folder the CLI must use. */
function freshCache() {
  const home = mkdtempSync(join(HOME, 'xdg-'))
  return { XDG_CACHE_HOME: home, folder: join(home, 'apivideo-auth') }
}

/**
 * Runs `check` with a stand-in on 127.0.0.1 (`server`, `standIn`, `secrets`), a fresh cache (`folder`) and `env`
 * (the key and the cache) to run the CLI with; the stand-in stops after.
 */
async function withCache(check) {
  const served = await recordingServer()
  const { folder, XDG_CACHE_HOME } = freshCache()
  try {
    await check({ ...served, folder, env: { APIVIDEO_API_KEY: SECRET_KEY, XDG_CACHE_HOME } })
  } finally {
    await served.server.close()
  }
}

/** The files of the cache folder, with their text. */
const cacheFiles = (folder) =>
  readdirSync(folder).map((name) => ({ name, text: readFileSync(join(folder, name), 'utf8') }))

const WARNING = /^apivideo-auth: warning: [^\n]*cache[^\n]*\n$/

const cache = suite('cli: the token cache')

cache(
  "two calls within the token's life make one auth request; the cache is owner-only, nothing in clear",
  async () => {
    await withCache(async ({ server, standIn, secrets, folder, env }) => {
      const first = await run(['token', '--json', '--base-url', server.url], { env })
      const second = await run(['header', '--base-url', server.url], { env })
      const third = await run(['token', '--json', '--base-url', server.url], { env })
      for (const result of [first, second, third]) assert.equal([result.code, result.stderr], [0, ''])
      assert.is(standIn.counts.auth, 1)
      const [one, three] = [JSON.parse(first.stdout), JSON.parse(third.stdout)]
      assert.is(second.stdout, `Authorization: Bearer ${one.accessToken}\n`)
      assert.equal([three.accessToken, three.expiresAt], [one.accessToken, one.expiresAt])
      assert.ok(three.expiresIn <= one.expiresIn)
      assert.ok(Number.isInteger(three.expiresAt), `a cached token's expiresAt: ${three.expiresAt}`)
      assert.is(statSync(folder).mode & 0o777, 0o700)
      const files = cacheFiles(folder)
      assert.is(files.filter(({ name }) => name.endsWith('.token')).length, 1)
      for (const { name, text } of files) {
        assert.is(statSync(join(folder, name)).mode & 0o777, 0o600, name)
        for (const secret of [one.accessToken, ...secrets()])
          assert.not.ok(text.includes(secret), `in clear in ${name}`)
      }
    })
  },
)

cache('another key or another base URL never gets the cached token', async () => {
  const { server, standIn } = await recordingServer([SECRET_KEY, 'sk_live_ANOTHER_KEY'])
  const other = await recordingServer()
  const { XDG_CACHE_HOME } = freshCache()
  const env = { APIVIDEO_API_KEY: SECRET_KEY, XDG_CACHE_HOME }
  try {
    const first = await run(['token', '--base-url', server.url], { env })
    const otherKey = await run(['token', '--base-url', server.url], {
      env: { ...env, APIVIDEO_API_KEY: 'sk_live_ANOTHER_KEY' },
    })
    const otherBase = await run(['token', '--base-url', other.server.url], { env })
    for (const result of [first, otherKey, otherBase]) assert.equal([result.code, result.stderr], [0, ''])
    assert.is(new Set([first.stdout, otherKey.stdout, otherBase.stdout]).size, 3)
    assert.equal([standIn.counts.auth, other.standIn.counts.auth], [2, 1])
  } finally {
    await server.close()
    await other.server.close()
  }
})

cache('eight calls started together from cold make one auth request', async () => {
  await withCache(async ({ server, standIn, env }) => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => run(['token', '--base-url', server.url], { env })),
    )
    for (const result of results) assert.equal([result.code, result.stderr], [0, ''])
    assert.is(new Set(results.map((result) => result.stdout)).size, 1)
    assert.is(standIn.counts.auth, 1)
  })
})

cache('a lock older than its ttl is taken over; a failed renewal leaves no lock behind', async () => {
  await withCache(async ({ server, standIn, folder, env }) => {
    const locks = () => readdirSync(folder).filter((name) => name.endsWith('.lock'))
    assert.is((await run(['token', '--base-url', server.url], { env })).code, 0)
    // As a process that died while renewing from cold leaves it: a lock, no token.
    for (const name of readdirSync(folder)) if (name.endsWith('.token')) rmSync(join(folder, name))
    const [lock] = locks()
    const aMinuteAgo = new Date(Date.now() - 60_000)
    utimesSync(join(folder, lock), aMinuteAgo, aMinuteAgo)
    const result = await run(['token', '--base-url', server.url], { env })
    assert.equal([result.code, result.stderr], [0, ''])
    assert.is(standIn.counts.auth, 2)
    assert.ok(statSync(join(folder, lock)).mtimeMs > aMinuteAgo.getTime(), 'the stale lock is still there')

    rmSync(folder, { recursive: true })
    standIn.fail('/auth/api-key', { status: 503 })
    assertFailure(await run(['token', '--base-url', server.url], { env }), 1, 'SERVER_ERROR')
    assert.equal(locks(), [])
  })
})

cache('a cache that cannot be used never fails the command: one warning line, then as without a cache', async () => {
  const { server, standIn } = await recordingServer()
  const broken = mkdtempSync(join(HOME, 'broken-'))
  writeFileSync(join(broken, 'file'), '')
  mkdirSync(join(broken, 'taken'))
  writeFileSync(join(broken, 'taken', 'apivideo-auth'), 'a file where the folder should be')
  // Tests run as root, whom a read-only mode does not stop: a folder that cannot be made stands for it.
  const homes = [join(broken, 'file'), join(broken, 'file', 'below'), join(broken, 'taken')]
  try {
    for (const XDG_CACHE_HOME of homes) {
      for (const command of ['token', 'header']) {
        const result = await run([command, '--base-url', server.url], {
          env: { APIVIDEO_API_KEY: SECRET_KEY, XDG_CACHE_HOME },
        })
        assert.is(result.code, 0, result.stderr)
        assert.match(result.stdout, /^(Authorization: Bearer )?at\.\S+\n$/)
        assert.match(result.stderr, WARNING)
      }
    }
    assert.is(standIn.counts.auth, homes.length * 2)
  } finally {
    await server.close()
  }
})

cache('a cache folder under /proc, where a recursive mkdir never settles: the token, then exit', async () => {
  // Linux only: there, Node's recursive mkdir of a folder under /proc loops for ever.
  if (!existsSync('/proc/self')) return
  const { server, standIn, secrets } = await recordingServer()
  try {
    for (const XDG_CACHE_HOME of ['/proc', '/proc/self/cache']) {
      // The guard only: the command printed its token after 20 s, then never exited.
      const result = await exec(process.execPath, [CLI, 'token', '--base-url', server.url], {
        env: childEnv({ APIVIDEO_API_KEY: SECRET_KEY, XDG_CACHE_HOME }),
        timeout: 40_000,
      })
      assert.equal([result.code, result.signal], [0, null], `ended by ${result.signal}: ${result.stderr}`)
      assert.match(result.stdout, /^at\.\S+\n$/)
      assert.match(result.stderr, WARNING)
      assertNoSecret(result, secrets())
    }
    assert.is(standIn.counts.auth, 2)
  } finally {
    await server.close()
  }
})

cache('a cache file of another format is one warning line, then replaced by a good one', async () => {
  await withCache(async ({ server, standIn, folder, env }) => {
    assert.is((await run(['token', '--base-url', server.url], { env })).code, 0)
    const [file] = readdirSync(folder).filter((name) => name.endsWith('.token'))
    for (const garbage of ['not json', '{"expiresAt":"soon"}', JSON.stringify({ expiresAt: 9e15, value: 'AAAA' })]) {
      writeFileSync(join(folder, file), garbage)
      const result = await run(['token', '--base-url', server.url], { env })
      assert.is(result.code, 0, result.stderr)
      assert.match(result.stdout, /^at\.\S+\n$/)
      assert.match(result.stderr, WARNING)
      const again = await run(['token', '--base-url', server.url], { env })
      assert.equal([again.code, again.stderr, again.stdout], [0, '', result.stdout])
    }
    assert.is(standIn.counts.auth, 4)
  })
})

cache('--verbose says on stderr where the token came from: a renewal, or the cache and its age', async () => {
  await withCache(async ({ server, standIn, secrets, folder, env }) => {
    const line = (where) => new RegExp(`^apivideo-auth: the token came from ${where}; it expires in \\d+ min\\n$`)
    const first = await run(['token', '--verbose', '--base-url', server.url], { env })
    assert.is(first.code, 0, first.stderr)
    assert.match(first.stderr, line('a renewal: authenticated with the API key'))
    // As if written ten minutes ago: the age is the cache file's.
    const [file] = readdirSync(folder).filter((name) => name.endsWith('.token'))
    const tenMinutesAgo = new Date(Date.now() - 600_000)
    utimesSync(join(folder, file), tenMinutesAgo, tenMinutesAgo)
    const cached = await run(['header', '--verbose', '--base-url', server.url], { env })
    assert.is(cached.code, 0, cached.stderr)
    assert.is(cached.stdout, `Authorization: Bearer ${first.stdout}`)
    const escaped = folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    assert.match(cached.stderr, line(`the token cache in ${escaped}, written 10 min ago`))
    const bypassed = await run(['token', '--verbose', '--no-cache', '--base-url', server.url], { env })
    assert.match(bypassed.stderr, line('a renewal: authenticated with the API key \\(--no-cache: [^)]*\\)'))
    const quiet = await run(['token', '--base-url', server.url], { env })
    assert.equal([quiet.code, quiet.stderr, quiet.stdout], [0, '', first.stdout])
    assert.is(standIn.counts.auth, 2)
    for (const result of [first, cached, bypassed]) {
      assertNoSecret(result, secrets())
      assert.not.ok(result.stderr.includes(result.stdout.trim().split(' ').at(-1)), 'the token on stderr')
    }
  })
})

cache('--no-cache neither reads nor writes the cache: each call authenticates', async () => {
  await withCache(async ({ server, standIn, folder, env }) => {
    for (const command of ['token', 'header']) {
      const result = await run([command, '--no-cache', '--base-url', server.url], { env })
      assert.equal([result.code, result.stderr], [0, ''])
    }
    assert.is(standIn.counts.auth, 2)
    assert.not.ok(existsSync(folder))
  })
})

cache('without XDG_CACHE_HOME, the cache is ~/.cache/apivideo-auth', async () => {
  const { server, standIn } = await recordingServer()
  const home = mkdtempSync(join(HOME, 'home-'))
  const env = { APIVIDEO_API_KEY: SECRET_KEY, HOME: home, XDG_CACHE_HOME: undefined }
  try {
    for (let i = 0; i < 2; i++) assert.is((await run(['token', '--base-url', server.url], { env })).code, 0)
    assert.is(standIn.counts.auth, 1)
    assert.is(readdirSync(join(home, '.cache', 'apivideo-auth')).filter((name) => name.endsWith('.token')).length, 1)
  } finally {
    await server.close()
  }
})

cache.run()

/** Starts `apivideo-auth stand-in`, resolving once it printed its URL. */
function startStandIn(args = ['--port', '0'], env = {}) {
  const child = spawn(process.execPath, [CLI, 'stand-in', ...args], { env: childEnv(env) })
  const output = { stdout: '', stderr: '' }
  child.stdout.on('data', (d) => (output.stdout += d))
  child.stderr.on('data', (d) => (output.stderr += d))
  const watchdog = setTimeout(() => child.kill('SIGKILL'), 20_000)
  const exited = new Promise((resolve) =>
    child.on('close', (code, signal) => (clearTimeout(watchdog), resolve({ code, signal }))),
  )
  const url = new Promise((resolve, reject) => {
    child.stdout.on('data', () => {
      const found = /^api\.video stand-in: (http:\/\/127\.0\.0\.1:\d+)\n(.*\n){3}/.exec(output.stdout)
      if (found) resolve(found[1])
    })
    void exited.then(() => reject(new Error(`stand-in exited: ${output.stderr}`)))
  })
  return { child, output, url, exited }
}

const serveCommand = suite('cli: stand-in')

serveCommand(
  'serves on 127.0.0.1, prints the URL, the key and how to stop it, accepts test-key, stops cleanly on SIGTERM',
  async () => {
    const standIn = startStandIn()
    try {
      const url = await standIn.url
      assert.match(standIn.output.stdout, /^key: test-key$/m)
      assert.match(standIn.output.stdout, /^stop: press Ctrl\+C$/m)
      const basic = await fetch(`${url}/videos`, {
        headers: { authorization: `Basic ${Buffer.from('test-key:').toString('base64')}` },
      })
      assert.equal(
        [basic.status, (await basic.json()).pagination.links[0]],
        [200, { rel: 'self', uri: `${url}/videos?currentPage=1&pageSize=25` }],
      )
      const ok = await run(['token', '--base-url', url], { env: { APIVIDEO_API_KEY: 'test-key' } })
      assert.is(ok.code, 0, ok.stderr)
      assert.is(
        (await fetch(`${url}/videos`, { headers: { authorization: `Bearer ${ok.stdout.trim()}` } })).status,
        200,
      )
      assertFailure(
        await run(['token', '--base-url', url], { env: { APIVIDEO_API_KEY: 'other-key' } }),
        1,
        'INVALID_CREDENTIALS',
      )
    } finally {
      standIn.child.kill('SIGTERM')
    }
    assert.equal(await standIn.exited, { code: 0, signal: null })
    assert.match(standIn.output.stdout, / POST \/auth\/api-key 200\n/)
    assert.match(standIn.output.stdout, / GET \/videos 200\n/)
    assert.match(standIn.output.stdout, / POST \/auth\/api-key 400\n/)
    assert.not.match(standIn.output.stdout, /\bat\.[0-9a-f]{32}\b/)
  },
)

serveCommand("--rate-limits plays production's budgets: every answer of a resource carries them", async () => {
  const standIn = startStandIn(['--port=0', '--rate-limits'])
  try {
    const url = await standIn.url
    const basic = { authorization: `Basic ${Buffer.from('test-key:').toString('base64')}` }
    const read = await fetch(`${url}/videos`, { headers: basic })
    assert.equal(
      [read.status, read.headers.get('x-ratelimit-limit'), read.headers.get('x-ratelimit-remaining')],
      [200, '500', '499'],
    )
    const plain = startStandIn(['--port=0'])
    try {
      const unlimited = await fetch(`${await plain.url}/videos`, { headers: basic })
      assert.is(unlimited.headers.get('x-ratelimit-limit'), null, 'without the flag, no rate limits')
    } finally {
      plain.child.kill('SIGTERM')
    }
    await plain.exited
  } finally {
    standIn.child.kill('SIGTERM')
  }
  assert.equal(await standIn.exited, { code: 0, signal: null })
})

serveCommand('takes its key from APIVIDEO_API_KEY and never prints it', async () => {
  const standIn = startStandIn(['--port=0'], { APIVIDEO_API_KEY: SECRET_KEY })
  try {
    const url = await standIn.url
    assert.match(standIn.output.stdout, /^key: the value of APIVIDEO_API_KEY$/m)
    const ok = await run(['token', '--base-url', url], { env: { APIVIDEO_API_KEY: SECRET_KEY } })
    assert.is(ok.code, 0, ok.stderr)
    assertFailure(
      await run(['token', '--base-url', url], { env: { APIVIDEO_API_KEY: 'test-key' } }),
      1,
      'INVALID_CREDENTIALS',
    )
  } finally {
    standIn.child.kill('SIGINT')
  }
  assert.equal(await standIn.exited, { code: 0, signal: null })
  assertNoSecret(standIn.output, [SECRET_KEY])
})

serveCommand('a port in use is LISTEN_FAILED, exit 1', async () => {
  const busy = await serve(async () => new Response('busy'))
  try {
    const result = await run(['stand-in', '--port', new URL(busy.url).port])
    assertFailure(result, 1, 'LISTEN_FAILED')
    assert.match(result.stderr, /EADDRINUSE/)
  } finally {
    await busy.close()
  }
})

serveCommand.run()
