// Size: minified (esbuild), gzipped (level 9) bundles of ours and the peers' equivalent code paths.
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { minGzip } from '../build.mjs'
import { ROOT } from './lib.mjs'

/** The entries measured; each is what a user's bundle would contain for that job. */
export const ENTRIES = {
  main: { file: 'src/index.ts' },
  builders: `export { authenticateRequest, refreshRequest } from './src/requests.ts'`,
  official: `import ApiVideoClient from '@api.video/nodejs-client'\nexport const getAccessToken = (apiKey) => new ApiVideoClient({ apiKey }).getAccessToken()`,
  oauthWhole: `export * from 'oauth4webapi'`,
  oauthRefresh: `export { refreshTokenGrantRequest, processRefreshTokenResponse } from 'oauth4webapi'`,
}

const gzip = (contents) => gzipSync(contents, { level: 9 }).length

/**
 * Bundles an entry (split at dynamic imports, as dist/ is): min+gzip bytes of the entry file,
 * of each lazily loaded chunk, and the minified bytes each source file put in the entry file.
 */
export async function bundle(source, platform, extra = {}) {
  const name = source.file ? source.file.replace(/.*\/|\.ts$/g, '') : 'stdin'
  const input = source.file ? { entryPoints: [source.file], absWorkingDir: ROOT } : { stdin: { contents: source, resolveDir: ROOT, sourcefile: 'entry.ts', loader: 'ts' } }
  const { outputFiles, metafile } = await build({
    ...input,
    bundle: true, platform, target: 'es2022', format: 'esm', minify: true, splitting: true, outdir: 'out',
    write: false, metafile: true, logLevel: 'silent', ...extra,
  })
  const isEntry = (path) => path.endsWith(`out/${name}.js`)
  const entry = outputFiles.find((f) => isEntry(f.path))
  const chunks = outputFiles.filter((f) => f !== entry)
  const meta = Object.entries(metafile.outputs).find(([file]) => isEntry(file))[1]
  return {
    gzip: gzip(entry.contents),
    min: entry.contents.length,
    chunks: chunks.map((c) => ({ file: c.path.replace(/.*\/out\/|-[A-Z0-9]{8}(?=\.js$)/g, ''), gzip: gzip(c.contents) })),
    inputs: Object.entries(meta.inputs).map(([file, { bytesInOutput }]) => ({ file, bytes: bytesInOutput })).filter((i) => i.bytes),
  }
}

/** Bundles for a platform, or says why it cannot: esbuild's error count and the first distinct messages. */
async function attempt(contents, platform, extra) {
  try {
    return await bundle(contents, platform, extra)
  } catch (error) {
    const texts = [...new Set((error.errors ?? []).map((e) => e.text))]
    return { error: `${error.errors?.length ?? 1} errors: ${(texts.length ? texts : [error.message]).slice(0, 4).join('; ')}` }
  }
}

export async function measureSizes() {
  const main = await bundle(ENTRIES.main, 'neutral')
  const tested = await minGzip('index')
  if (tested !== main.gzip) throw new Error(`size mismatch: build.mjs says ${tested} B, the bench ${main.gzip} B`)
  return {
    main,
    builders: await bundle(ENTRIES.builders, 'neutral'),
    // Neutral with main fields, so that package resolution is not what fails: the Node built-ins axios needs are.
    officialNeutral: await attempt(ENTRIES.official, 'neutral', { mainFields: ['module', 'main'] }),
    official: await bundle(ENTRIES.official, 'node'),
    oauthWhole: await bundle(ENTRIES.oauthWhole, 'neutral'),
    oauthRefresh: await bundle(ENTRIES.oauthRefresh, 'neutral'),
  }
}
