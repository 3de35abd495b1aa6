// The CLI's token cache: a file store for the share add-on (`shareTokens`), so what it writes is what the add-on
// writes to Redis: AES-GCM ciphertext under a key derived from the API key and the base URL, at a name derived from
// them too. Node-only, like the CLI that bundles it.
import { createHash, randomUUID } from 'node:crypto'
import { chmod, link, lstat, mkdir, open, readdir, rename, stat, unlink, utimes } from 'node:fs/promises'
import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import type { TokenStore } from './share.js'

/** A cache file over this is not one of ours (a value is about 1 KB): it is not read. */
const FILE_LIMIT = 64 * 1024
/**
 * How long a renewal's lock outlives the token it wrote: long enough for a process that read the cache just before
 * the write to see the lock, re-read and find the token; short enough not to hold up the next cold start (the
 * cache emptied, or holding a file of another format, names the same lock).
 */
const LOCK_AFTER_WRITE = 1000
/** Files left this long (a token lives an hour, a lease seconds) are removed by the next write. */
const LEFTOVER_AGE = 24 * 60 * 60 * 1000
/**
 * The longest one cache step (a read, a write, a lock, giving the locks back) may take. A local file operation takes
 * milliseconds; one still running after seconds is on a file system that does not answer (on a pseudo file system
 * such as /proc, Node's recursive mkdir never settles), and the command goes on without the cache.
 */
const STEP_LIMIT = 2000

/** A cache failure as the CLI reports it: what went wrong and what happens next, with the system error code. */
export type CacheFailure = (reason: string) => void

/** A `TokenStore` on files, a way to give back the locks it took, and whether a step was left running. */
// No increment: the CLI's calls go one at a time, so it has no budget to share.
export interface FileStore extends Required<Omit<TokenStore, 'increment'>> {
  /**
   * Removes the locks this store created and still holds: after a failed renewal, so that the next command does
   * not wait for them to go stale.
   */
  releaseLocks(): Promise<void>
  /**
   * True once a step ran past STEP_LIMIT: its file operation cannot be cancelled and may never settle, so it would
   * hold the process open; the command ends the process once its output is written.
   */
  stalled(): boolean
  /** When the value the last `get` answered was written (its file's mtime, epoch ms); undefined before one. */
  writtenAt(): number | undefined
}

/**
 * `$XDG_CACHE_HOME/apivideo-auth`, or `~/.cache/apivideo-auth` when XDG_CACHE_HOME is unset or relative (the XDG
 * base directory rules ignore a relative one).
 * @example
 * cacheFolder({ XDG_CACHE_HOME: '/tmp/cache' }) // '/tmp/cache/apivideo-auth'
 */
export function cacheFolder(env: Record<string, string | undefined> = process.env): string {
  const xdg = env.XDG_CACHE_HOME
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'apivideo-auth')
}

/**
 * A `TokenStore` on files in `folder` (created owner-only, 0700; files 0600). `get` and `set` keep one value per
 * key in `<name>.token`, replaced atomically (written aside, then renamed), so a reader never sees half a value;
 * `claim` creates `<name>.lock` with O_EXCL, and takes over a lock older than its ttl (its owner died). A file
 * of another format reads as empty and is replaced by the next write. Every failure goes to `onFailure`; a call
 * that cannot use the folder also rejects, so the share add-on goes on without the store. Each step is bounded by
 * STEP_LIMIT: one that runs past it rejects with ETIMEDOUT, and so does every later call, without touching the files.
 * @example
 * const session = createSession({ share: shareTokens(fileStore(cacheFolder(), console.error)) })
 */
export function fileStore(folder: string, onFailure: CacheFailure): FileStore {
  let ready: Promise<void> | undefined
  /** Set once a step ran past STEP_LIMIT: later calls reject with it at once. */
  let stall: Error | undefined
  let lastWrittenAt: number | undefined
  /** The locks this store created, by path: their inode (so only the very file created is touched) and ttl. */
  const held = new Map<string, { inode: number; ttlMs: number }>()
  const path = (key: string, extension: string) =>
    join(folder, `${createHash('sha256').update(key).digest('base64url')}.${extension}`)

  /** `step`, or a rejection with ETIMEDOUT once it has run STEP_LIMIT ms; no timer is left behind either way. */
  async function bounded<T>(step: () => Promise<T>): Promise<T> {
    if (stall) throw stall
    let timer: ReturnType<typeof setTimeout> | undefined
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        stall = Object.assign(new Error(`no answer within ${STEP_LIMIT} ms`), { code: 'ETIMEDOUT' })
        reject(stall)
      }, STEP_LIMIT)
    })
    try {
      return await Promise.race([step(), timedOut])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Runs `step` once the folder is ready, within STEP_LIMIT; a failure is reported, then rejects the call. */
  async function guarded<T>(doing: string, step: () => Promise<T>): Promise<T> {
    try {
      return await bounded(async () => {
        ready ??= ownFolder(folder)
        await ready
        return step()
      })
    } catch (error) {
      onFailure(`cannot ${doing} the token cache (${systemCode(error)}): going on without it`)
      throw error
    }
  }

  return {
    get: (key) =>
      guarded('read', async () => {
        const file = await readSmall(path(key, 'token'))
        if (file === undefined) return null
        const entry = parseEntry(file.text)
        if (!entry) {
          onFailure('the token cache held a file of another format: it is replaced')
          return null
        }
        if (!(entry.expiresAt > Date.now())) return null
        lastWrittenAt = file.mtimeMs
        return entry.value
      }),
    set: (key, value, ttlMs) =>
      guarded('write', async () => {
        const entry = JSON.stringify({ expiresAt: Date.now() + ttlMs, value })
        await writeAtomically(path(key, 'token'), entry)
        await expireLocksSoon()
        await removeLeftovers(folder)
      }),
    claim: (key, ttlMs) =>
      guarded('lock', async () => {
        const file = path(key, 'lock')
        const inode = await claimLock(file, ttlMs)
        if (inode !== undefined) held.set(file, { inode, ttlMs })
        return inode !== undefined
      }),
    async releaseLocks() {
      const release = async () => {
        for (const [file, { inode }] of held) {
          held.delete(file)
          const info = await stat(file).catch(() => undefined)
          if (info?.ino === inode) await unlink(file).catch(() => {})
        }
      }
      // A lock not given back goes stale by its ttl: nothing to report.
      await bounded(release).catch(() => {})
    },
    stalled: () => stall !== undefined,
    writtenAt: () => lastWrittenAt,
  }

  /** Once the token is written, the locks held go stale LOCK_AFTER_WRITE from now: their mtime is set back. */
  async function expireLocksSoon(): Promise<void> {
    for (const [file, { inode, ttlMs }] of held) {
      held.delete(file)
      const info = await stat(file).catch(() => undefined)
      const staleAt = new Date(Date.now() - Math.max(ttlMs - LOCK_AFTER_WRITE, 0))
      if (info?.ino === inode) await utimes(file, staleAt, staleAt).catch(() => {})
    }
  }
}

/**
 * Creates `folder` owner-only, or checks the one there: a real folder (not a link) of this user, its mode narrowed
 * to 0700 when it is wider. Someone else's folder could be read or filled by them.
 */
async function ownFolder(folder: string): Promise<void> {
  await mkdir(folder, { recursive: true, mode: 0o700 })
  const info = await lstat(folder)
  if (!info.isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' })
  if (process.getuid && info.uid !== process.getuid()) throw Object.assign(new Error('not ours'), { code: 'EPERM' })
  if ((info.mode & 0o777) !== 0o700) await chmod(folder, 0o700)
}

/**
 * The text of a file of at most FILE_LIMIT bytes ('' (another format) when larger) and when it was last written;
 * undefined when there is none.
 */
async function readSmall(file: string): Promise<{ text: string; mtimeMs: number } | undefined> {
  let handle
  try {
    handle = await open(file, 'r')
  } catch (error) {
    if (systemCode(error) === 'ENOENT') return undefined
    throw error
  }
  try {
    const buffer = Buffer.alloc(FILE_LIMIT + 1)
    let size = 0
    for (let read = 1; read > 0 && size <= FILE_LIMIT; size += read) {
      ;({ bytesRead: read } = await handle.read(buffer, size, buffer.length - size, null))
    }
    const { mtimeMs } = await handle.stat()
    return { text: size > FILE_LIMIT ? '' : buffer.toString('utf8', 0, size), mtimeMs }
  } finally {
    await handle.close()
  }
}

/** The cache entry in `text`, or undefined when it is not one. */
function parseEntry(text: string): { expiresAt: number; value: string } | undefined {
  try {
    const entry: unknown = JSON.parse(text)
    if (typeof entry !== 'object' || entry === null) return undefined
    const { expiresAt, value } = entry as { expiresAt?: unknown; value?: unknown }
    return typeof expiresAt === 'number' && typeof value === 'string' ? { expiresAt, value } : undefined
  } catch {
    return undefined
  }
}

/** Writes a new owner-only file beside `file`, then renames it over `file`: readers see the old or the new. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const aside = `${file}.${randomUUID()}.tmp`
  try {
    const handle = await open(aside, 'wx', 0o600)
    try {
      await handle.writeFile(text)
    } finally {
      await handle.close()
    }
    await rename(aside, file)
  } catch (error) {
    await unlink(aside).catch(() => {})
    throw error
  }
}

/**
 * The inode of the lock for the one process that creates it, else undefined. A lock older than `ttlMs` was left by
 * a process that died while renewing: it is moved aside and claimed again. Should another process have replaced it
 * meanwhile with a fresh lock, that one is put back and this claim fails.
 */
async function claimLock(file: string, ttlMs: number): Promise<number | undefined> {
  const created = await createLock(file)
  if (created !== undefined) return created
  const held = await stat(file).catch(() => undefined)
  if (!held) return createLock(file)
  if (Date.now() - held.mtimeMs <= ttlMs) return undefined
  const aside = `${file}.${randomUUID()}.stale`
  try {
    await rename(file, aside)
  } catch {
    return undefined
  }
  const moved = await stat(aside)
  if (moved.ino !== held.ino) {
    await link(aside, file).catch(() => {})
    await unlink(aside)
    return undefined
  }
  await unlink(aside)
  return createLock(file)
}

/** Creates `file` with O_EXCL: its inode, or undefined when it exists. */
async function createLock(file: string): Promise<number | undefined> {
  let handle
  try {
    handle = await open(file, 'wx', 0o600)
  } catch (error) {
    if (systemCode(error) === 'EEXIST') return undefined
    throw error
  }
  try {
    return (await handle.stat()).ino
  } finally {
    await handle.close()
  }
}

/** Removes the files of this cache not touched for a day: old leases, tokens of keys no longer used, lost writes. */
async function removeLeftovers(folder: string): Promise<void> {
  const horizon = Date.now() - LEFTOVER_AGE
  for (const name of await readdir(folder)) {
    if (!/\.(token|lock|tmp|stale)$/.test(name)) continue
    const file = join(folder, name)
    const info = await lstat(file).catch(() => undefined)
    if (info && info.mtimeMs < horizon) await unlink(file).catch(() => {})
  }
}

/** The system error code (ENOSPC, EACCES…) of a failure, or `error`. */
function systemCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : 'error'
}
