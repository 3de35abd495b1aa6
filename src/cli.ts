// The `apivideo-auth` command: a token or header for scripts, and the stand-in for local development.
import { createReadStream, readFileSync } from 'node:fs'
import { cacheFolder, fileStore } from './cli-cache.js'
import {
  authenticateRequest,
  createSession,
  isApiVideoAuthError,
  SANDBOX_URL,
  type Session,
  type SessionEvent,
} from './index.js'
import { listen } from './node-server.js'
import { shareTokens } from './share.js'
import { createStandIn, deliverWebhook, WEBHOOK_EVENTS } from './testing.js'
import { HELP } from './cli-help.js'

const FLAGS = new Set([
  '--json',
  '--sandbox',
  '--no-cache',
  '--verbose',
  '--help',
  '-h',
  '--version',
  '--retry',
  '--rate-limits',
])
const VALUED = new Set([
  '--base-url',
  '--api-key-file',
  '--port',
  '--expires-in',
  '--url',
  '--type',
  '--webhook-id',
  '--webhook-secret-file',
])
const ALLOWED: Record<string, string[]> = {
  token: ['--json', '--sandbox', '--base-url', '--api-key-file', '--no-cache', '--verbose'],
  header: ['--sandbox', '--base-url', '--api-key-file', '--no-cache', '--verbose'],
  'stand-in': ['--port', '--expires-in', '--rate-limits'],
  'send-webhook': ['--url', '--type', '--webhook-id', '--webhook-secret-file', '--retry'],
}

/** A failure the user can act on: printed as one line with its code, then exit `status`. */
class Failure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 1,
  ) {
    super(message)
  }
}

const usage = (message: string) => new Failure('USAGE', `${message} (see apivideo-auth --help)`, 2)

interface Args {
  command?: string | undefined
  options: Map<string, string>
}

/** Reads the arguments; a value is never echoed back, since a misplaced one may be a secret. */
function parse(argv: string[]): Args {
  const options = new Map<string, string>()
  const positional: string[] = []
  const rest = [...argv]
  for (let arg = rest.shift(); arg !== undefined; arg = rest.shift()) {
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg)
      continue
    }
    const [name, inline] = splitOption(arg)
    if (/^--?(api-?key|key)$/i.test(name))
      throw usage('the API key is never taken from an argument: set APIVIDEO_API_KEY or use --api-key-file')
    if (/^--?(webhook-?)?secret$/i.test(name))
      throw usage(
        'the secret is never taken from an argument: set APIVIDEO_WEBHOOK_SECRET or use --webhook-secret-file',
      )
    if (FLAGS.has(name) && inline === undefined) options.set(name, '')
    else if (VALUED.has(name)) options.set(name, inline ?? value(rest.shift(), name))
    else throw usage(`unknown option ${name}`)
  }
  if (positional.length > 1) throw usage(`one command expected, got ${positional.length} arguments`)
  return { command: positional[0], options }
}

function splitOption(arg: string): [string, string | undefined] {
  const at = arg.indexOf('=')
  return at < 0 ? [arg, undefined] : [arg.slice(0, at), arg.slice(at + 1)]
}

function value(given: string | undefined, name: string): string {
  if (given === undefined) throw usage(`${name} needs a value`)
  return given
}

function check({ command, options }: Args): string {
  if (command === undefined) throw usage('a command is needed: token, header, stand-in or send-webhook')
  // Own names only: `toString` or `constructor` is no command.
  const allowed = Object.hasOwn(ALLOWED, command) ? ALLOWED[command] : undefined
  if (!allowed) throw usage('unknown command: use token, header, stand-in or send-webhook')
  for (const name of options.keys()) if (!allowed.includes(name)) throw usage(`${name} does not apply to ${command}`)
  if (options.has('--sandbox') && options.has('--base-url')) throw usage('use either --sandbox or --base-url')
  return command
}

/** A key file or standard input over this is no API key (a key is at most 8,192 characters), and is not read on. */
const KEY_FILE_LIMIT = 16 * 1024

/** The key from `--api-key-file` (`-` is standard input) or `APIVIDEO_API_KEY`; the file wins. */
async function apiKey(options: Map<string, string>): Promise<string> {
  const file = options.get('--api-key-file')
  if (file === undefined) {
    const key = process.env.APIVIDEO_API_KEY
    if (!key) throw new Failure('MISSING_API_KEY', 'set APIVIDEO_API_KEY or use --api-key-file')
    return key
  }
  const source = file === '-' ? 'standard input' : 'the --api-key-file'
  const key = (await readKeyFile(file, source)).trim()
  if (!key) throw new Failure('MISSING_API_KEY', `${source} is empty`)
  return key
}

/** At most KEY_FILE_LIMIT bytes of `file` (`-`: standard input), so `/dev/zero` is refused, not read forever. */
async function readKeyFile(file: string, source: string): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    // Leaving the loop early destroys the stream, so nothing more is read.
    for await (const chunk of file === '-' ? process.stdin : createReadStream(file)) {
      size += (chunk as Buffer).length
      if (size > KEY_FILE_LIMIT) throw new Failure('MALFORMED_API_KEY', `${source} is over 16 KiB: no API key is`)
      chunks.push(chunk as Buffer)
    }
  } catch (error) {
    if (error instanceof Failure) throw error
    throw new Failure(
      'UNREADABLE_API_KEY_FILE',
      `cannot read the --api-key-file (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    )
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * The API base: `--sandbox`, `--base-url`, then `APIVIDEO_BASE_URL`, checked as the library checks it (a bad one is
 * a usage error, its value never echoed); undefined for production.
 */
function baseUrlOf(options: Map<string, string>): string | undefined {
  if (options.has('--sandbox')) return SANDBOX_URL
  const [name, baseUrl] = options.has('--base-url')
    ? ['--base-url', options.get('--base-url')]
    : ['APIVIDEO_BASE_URL', process.env.APIVIDEO_BASE_URL || undefined]
  if (baseUrl === undefined) return undefined
  try {
    // A well-formed key stands in for the real one: a TypeError here can only be about the base URL.
    authenticateRequest('unused', { baseUrl })
  } catch (error) {
    throw usage(`${name}: ${(error as TypeError).message}`)
  }
  return baseUrl
}

/** What the library's TypeErrors about the key mean to a CLI user, by their `code`. */
const KEY_ERRORS: Record<string, string> = {
  ERR_INVALID_ARGUMENT: 'MALFORMED_API_KEY',
  ERR_MISSING_API_KEY: 'MISSING_API_KEY',
}

/**
 * The failure for an error of `createSession`. Every option but the key is the CLI's own and already checked, so
 * an argument error there is about the key; anything else stays an internal error.
 */
function keyFailure(error: unknown): unknown {
  const { code } = (error ?? {}) as { code?: unknown }
  const mapped = typeof code === 'string' && Object.hasOwn(KEY_ERRORS, code) ? KEY_ERRORS[code] : undefined
  return error instanceof TypeError && mapped ? new Failure(mapped, `the ${error.message}`) : error
}

/** The token cache: a file store for the share add-on, and the one warning line a cache failure prints. */
function tokenCache() {
  let warned = false
  const warn = (reason: string) => {
    if (warned) return
    warned = true
    console.error(oneLine(`apivideo-auth: warning: ${reason}`))
  }
  const folder = cacheFolder()
  const store = fileStore(folder, warn)
  return {
    folder,
    share: shareTokens(store),
    /** For each event: the share add-on says when it could not use the cache (a value that does not open too). */
    onEvent: (event: SessionEvent) => {
      if (event.type === 'share-failed') warn('the token cache could not be used: going on without it')
    },
    /** After a failed renewal: the next command must not wait for this one's lock to go stale. */
    release: () => store.releaseLocks(),
    /** True when a cache step was left running: the process must end without waiting for it. */
    stalled: () => store.stalled(),
    /** When the token last read from the cache was written, epoch ms. */
    writtenAt: () => store.writtenAt(),
  }
}

/** A duration for people: seconds under two minutes, whole minutes above. */
function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000))
  return seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`
}

/**
 * `--verbose`: for each token the session gets, one line on standard error saying where it came from, the cache
 * (its folder and the token's age) or a renewal (authenticated with the key, or refreshed), and how long it has
 * left. Times and a folder only: never a token or a key.
 */
function provenance(cache: ReturnType<typeof tokenCache> | undefined): (event: SessionEvent) => void {
  const say = (where: string, expiresAt: number, at: number) =>
    console.error(oneLine(`apivideo-auth: the token came from ${where}; it expires in ${duration(expiresAt - at)}`))
  const unused = cache ? '' : ' (--no-cache: the token cache is not used)'
  return (event) => {
    if (event.type === 'shared-token-used') {
      const writtenAt = cache?.writtenAt()
      const age = writtenAt === undefined ? '' : `, written ${duration(event.at - writtenAt)} ago`
      say(`the token cache in ${cache?.folder ?? 'an unknown folder'}${age}`, event.expiresAt, event.at)
    }
    if (event.type === 'authenticated')
      say(`a renewal: authenticated with the API key${unused}`, event.expiresAt, event.at)
    if (event.type === 'refreshed')
      say(`a renewal: refreshed with the refresh token${unused}`, event.expiresAt, event.at)
  }
}

/** What a command leaves that the process must not wait for. */
interface Leftovers {
  /** A cache step that never settled (a file system that does not answer): its operation holds the process open. */
  stalled?: () => boolean
}

async function token(command: string, options: Map<string, string>, leftovers: Leftovers): Promise<string> {
  const baseUrl = baseUrlOf(options)
  const key = await apiKey(options)
  const cache = options.has('--no-cache') ? undefined : tokenCache()
  if (cache) leftovers.stalled = cache.stalled
  const report = options.has('--verbose') ? provenance(cache) : undefined
  const onEvent = (event: SessionEvent) => {
    cache?.onEvent(event)
    report?.(event)
  }
  let session: Session
  try {
    // One attempt, as documented: a script that wants retries loops itself.
    session = createSession({ apiKey: key, baseUrl, retries: 0, share: cache?.share, onEvent })
  } catch (error) {
    throw keyFailure(error)
  }
  try {
    const { token: accessToken, expiresAt: exactly } = await session
      .tokenWithExpiry()
      .catch(async (error: unknown) => {
        await cache?.release()
        throw error
      })
    // Epoch ms as scripts expect them, whole: the session's clock counts fractions of a millisecond.
    const expiresAt = Math.floor(exactly)
    if (command === 'header') return `Authorization: Bearer ${accessToken}`
    if (!options.has('--json')) return accessToken
    // The seconds left: a whole hour for a fresh token, less for a cached one.
    const expiresIn = Math.round((expiresAt - Date.now()) / 1000)
    return JSON.stringify({ accessToken, tokenType: 'Bearer', expiresIn, expiresAt })
  } finally {
    // The cache write runs in the background: the process must not end before it.
    await session.settled()
  }
}

/** Serves the stand-in on 127.0.0.1, logging each request (method, path, status: never a secret). */
async function standIn(options: Map<string, string>): Promise<void> {
  const raw = options.get('--port') ?? '0'
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN
  if (!(port <= 65535)) throw usage('--port must be an integer from 0 to 65535')
  const lifetime = options.get('--expires-in') ?? '3600'
  const expiresIn = /^\d{1,10}$/.test(lifetime) ? Number(lifetime) : NaN
  if (!(expiresIn >= 1)) throw usage('--expires-in must be a whole number of seconds, 1 or more')
  const fromEnv = Boolean(process.env.APIVIDEO_API_KEY)
  const stand = createStandIn({
    apiKeys: [process.env.APIVIDEO_API_KEY || 'test-key'],
    expiresIn,
    controlRoutes: true,
    rateLimits: options.has('--rate-limits'),
  })
  const logged = async (request: Request): Promise<Response> => {
    const line = `${new Date().toISOString().slice(11, 19)} ${request.method} ${new URL(request.url).pathname}`
    try {
      const response = await stand.handler(request)
      console.log(`${line} ${response.status}`)
      return response
    } catch (error) {
      console.log(`${line} dropped`)
      throw error
    }
  }
  const server = await listen(logged, { port }).catch((error: NodeJS.ErrnoException) => {
    throw new Failure('LISTEN_FAILED', `cannot listen on 127.0.0.1:${port} (${error.code})`)
  })
  const key = fromEnv ? 'the value of APIVIDEO_API_KEY' : 'test-key'
  const example = `${fromEnv ? '' : 'APIVIDEO_API_KEY=test-key '}apivideo-auth token --base-url ${server.url}`
  process.stdout.write(`api.video stand-in: ${server.url}\nkey: ${key}\ntry: ${example}\nstop: press Ctrl+C\n`)
  const stop = () => void server.close().then(() => process.exit(0))
  process.once('SIGINT', stop).once('SIGTERM', stop)
}

/**
 * `send-webhook`: one signed event to `--url`, as api.video sends it, in the spirit of `stripe trigger`. The
 * secret comes from `--webhook-secret-file` or APIVIDEO_WEBHOOK_SECRET, never from an argument, and is never
 * printed. Prints one line per try; exits 1 unless the last try answered 2xx.
 */
async function sendWebhook(options: Map<string, string>): Promise<void> {
  const url = options.get('--url')
  if (url === undefined) throw usage('send-webhook needs --url')
  if (!/^https?:\/\/[^/]/i.test(url) || !URL.canParse(url)) throw usage('--url must be an http: or https: URL')
  const type = options.get('--type') ?? 'video.encoding.quality.completed'
  if (!(WEBHOOK_EVENTS as readonly string[]).includes(type))
    throw usage(`--type must be one of: ${WEBHOOK_EVENTS.join(', ')}`)
  const file = options.get('--webhook-secret-file')
  let secret = process.env.APIVIDEO_WEBHOOK_SECRET ?? ''
  if (file !== undefined) {
    try {
      secret = readFileSync(file === '-' ? 0 : file, 'utf8').trim()
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error'
      throw new Failure('UNREADABLE_WEBHOOK_SECRET_FILE', `cannot read the --webhook-secret-file (${code})`)
    }
  }
  if (!secret) throw new Failure('MISSING_WEBHOOK_SECRET', 'set APIVIDEO_WEBHOOK_SECRET or use --webhook-secret-file')
  // The OpenAPI document's sample fields for the one event it describes; the other events carry only their type.
  const sample =
    type === 'video.encoding.quality.completed' ? { videoId: 'viXXXXXXXX', encoding: 'hls', quality: '720p' } : {}
  const webhookId = options.get('--webhook-id')
  const delivery = await deliverWebhook(
    url,
    { type, ...sample },
    { secret, retry: options.has('--retry'), ...(webhookId === undefined ? {} : { webhookId }) },
  )
  // The origin and path only: a query or user info may carry a token.
  const { origin, pathname } = new URL(url)
  delivery.statuses.forEach((status, i) =>
    console.log(`${type} to ${origin}${pathname} (${delivery.webhookId}), try ${i + 1}: ${status || 'no answer'}`),
  )
  if (!delivery.delivered) {
    const last = delivery.statuses.at(-1)
    throw new Failure('WEBHOOK_NOT_DELIVERED', last ? `the receiver answered ${last}` : 'the receiver did not answer')
  }
}

/**
 * Text made safe for one terminal line: escape sequences and control characters (a server's problem title may
 * carry them) become spaces, whitespace runs one space, and the whole is capped at `max` characters.
 */
function oneLine(text: string, max = 300): string {
  const safe = text
    // CSI (ESC [ … final byte), OSC (ESC ] … BEL or ESC \\), and any other two-character escape
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[\s\S]?/g, ' ')
    // C0 and C1 controls, DEL, line and paragraph separators, bidirectional overrides and isolates
    .replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  return safe.length > max ? `${safe.slice(0, max - 1)}…` : safe
}

/** One line naming the error code; never a key, a token or an argument's value. */
function describe(error: unknown): Failure {
  if (error instanceof Failure) return error
  // The library's message names what failed, a network failure's host and system code (ECONNREFUSED…) included.
  if (isApiVideoAuthError(error)) return new Failure(error.code, error.message)
  return new Failure('INTERNAL_ERROR', `unexpected ${(error as Error)?.name ?? 'error'}`)
}

/** The version in the package's package.json, beside dist/ where this file runs from. */
function version(): string {
  return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version
}

/**
 * Ends the process once standard output and error have taken what was written to them (on a pipe they may still
 * hold some), with the exit status set.
 */
function exitOnceWritten(): void {
  let pending = 2
  const written = () => {
    pending -= 1
    if (pending === 0) process.exit()
  }
  process.stdout.write('', written)
  process.stderr.write('', written)
}

async function main(argv: string[]): Promise<void> {
  const leftovers: Leftovers = {}
  try {
    const args = parse(argv)
    if (args.options.has('--help') || args.options.has('-h') || args.command === 'help') {
      process.stdout.write(HELP)
      return
    }
    if (args.options.has('--version')) {
      console.log(version())
      return
    }
    const command = check(args)
    if (command === 'stand-in') return await standIn(args.options)
    if (command === 'send-webhook') return await sendWebhook(args.options)
    console.log(await token(command, args.options, leftovers))
  } catch (error) {
    const failure = describe(error)
    console.error(oneLine(`apivideo-auth: ${failure.code}: ${failure.message}`))
    process.exitCode = failure.status
  }
  // A cache step left running cannot be cancelled, and may never settle: the command is done without it.
  if (leftovers.stalled?.()) exitOnceWritten()
}

// A reader that closed its end early (`apivideo-auth --help | head -1`) ends the output, not with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error
})
await main(process.argv.slice(2))
