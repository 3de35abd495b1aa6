// The package as published: pack it, check the exact file list, install the tarball into an empty project,
// import it (ESM) and require it (CJS) there, lint it (publint --strict, attw), type-check a consumer under
// three module resolutions with and without the DOM lib, and check jsr.json.
// One line per check; exit 1 on any failure.
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { deepStrictEqual, ok, strictEqual } from 'node:assert/strict'

const root = resolve(import.meta.dirname, '../..')
const here = join(root, 'tests/package')
const bin = (name) => join(root, 'node_modules/.bin', name)
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const node = process.execPath

/** The files of a folder of the repository whose names end in one of `extensions`. */
const filesOf = (folder, extensions) =>
  readdirSync(join(root, folder))
    .filter((name) => extensions.some((ext) => name.endsWith(ext)))
    .map((name) => `${folder}/${name}`)

/**
 * The modules of a folder of src/ (its subfolders' too), as `folder/name` without the extension: the parts of an
 * entry, which tsc builds beside it, four files each, and which no entry of package.json exports.
 */
const partsOf = (folder) =>
  readdirSync(join(root, 'src', folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => `${folder}/${name.replace(/\.ts$/, '')}`)

/**
 * Every file the tarball must hold, and nothing else:
 * a new file in dist/ belongs here on purpose, or not in the package. The docs the README links to ship with it
 * (every user document, the examples but their test runner, the bench's results), so that its relative links resolve
 * inside node_modules/apivideo-auth too.
 */
const FILES = [
  'CHANGELOG.md',
  'CONTRIBUTING.md',
  'LICENSE',
  'README.md',
  'SECURITY.md',
  'bench/chart.svg',
  'bench/results.md',
  'dist/cli.js',
  'dist/node-server.js',
  ...['index', 'private', 'share', 'testing', 'webhooks', ...partsOf('testing'), ...partsOf('internal')].flatMap(
    (module) => ['.cjs', '.d.cts', '.d.ts', '.js'].map((ext) => `dist/${module}${ext}`),
  ),
  ...filesOf('docs', ['.md']),
  ...filesOf('examples', ['.md', '.js', '.mjs', '.ts']).filter((path) => path !== 'examples/run.mjs'),
  ...filesOf('examples/webhooks', ['.mjs']),
  'package.json',
].sort()
const EXPORTS = [
  'ApiVideoAuthError',
  'PRODUCTION_URL',
  'SANDBOX_URL',
  'authenticate',
  'authenticateRequest',
  'createSession',
  'isApiVideoAuthError',
  'readAccessToken',
  'refresh',
  'refreshRequest',
]

const run = (command, args, cwd = root) =>
  execFileSync(command, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  })

/** Runs a command that must exit 0; its output becomes the error message when it does not. */
function clean(command, args, cwd) {
  try {
    return run(command, args, cwd)
  } catch (error) {
    throw new Error(`${[command, ...args].join(' ')} exited ${error.status}:\n${error.stdout}${error.stderr}`)
  }
}

const temp = mkdtempSync(join(tmpdir(), 'apivideo-auth-package-'))
const project = join(temp, 'project')
let tarball
let failed = 0

async function check(name, fn) {
  const started = performance.now()
  try {
    await fn()
    console.log(`ok - ${name} (${((performance.now() - started) / 1000).toFixed(2)} s)`)
  } catch (error) {
    failed++
    console.log(`not ok - ${name}\n${String(error?.message ?? error).replace(/^/gm, '    ')}`)
  }
}

/**
 * Names a .d.ts exports: `export { a, type b } from`, `export type { … }`, `export declare function x`,
 * `export interface X`…
 */
function declaredExports(file) {
  const text = readFileSync(file, 'utf8')
  const lists = [...text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)].flatMap(([, list]) =>
    list.split(',').map((s) =>
      s
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop(),
    ),
  )
  const single = [
    ...text.matchAll(
      /export\s+(?:declare\s+)?(?:abstract\s+)?(?:type|interface|function|const|let|class|enum)\s+(\w+)/g,
    ),
  ].map((m) => m[1])
  return [...new Set([...lists, ...single].filter(Boolean))].sort()
}

/**
 * A tsconfig for the consumer: `lib` 'dom' uses the DOM lib;
 * 'node' uses ES2022 alone plus @types/node for the web globals.
 */
function tsconfig(resolution, lib) {
  const module = resolution === 'bundler' ? 'preserve' : resolution
  return {
    compilerOptions: {
      target: 'ES2022',
      module,
      moduleResolution: resolution,
      lib: lib === 'dom' ? ['ES2022', 'DOM', 'DOM.Iterable'] : ['ES2022'],
      types: lib === 'dom' ? [] : ['node'],
      typeRoots: [join(root, 'node_modules/@types')],
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      rootDir: '.',
    },
    files: ['consumer.ts', 'consumer.cts'],
  }
}

try {
  await check('npm pack: the tarball holds exactly the expected files', () => {
    const [packed] = JSON.parse(clean('npm', ['pack', '--json', '--pack-destination', temp]))
    tarball = join(temp, packed.filename)
    const listed = clean('tar', ['-tzf', tarball])
      .trim()
      .split('\n')
      .map((p) => p.replace(/^package\//, ''))
      .sort()
    const missing = FILES.filter((f) => !listed.includes(f))
    const extra = listed.filter((f) => !FILES.includes(f))
    ok(
      !missing.length && !extra.length,
      `missing: ${missing.join(', ') || 'none'}; unexpected: ${extra.join(', ') || 'none'} ` +
        '(update FILES in tests/package/check.mjs, or "files" in package.json)',
    )
  })

  await check('npm install of the tarball into an empty project', () => {
    clean('mkdir', ['-p', project])
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
    clean('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', tarball], project)
    const installed = JSON.parse(readFileSync(join(project, 'node_modules/apivideo-auth/package.json'), 'utf8'))
    strictEqual(installed.version, pkg.version)
    deepStrictEqual(installed.dependencies, undefined, 'no runtime dependencies')
  })

  await check(
    'every relative link of the installed README, and of the pages it links to, resolves in the package',
    () => {
      const installed = join(project, 'node_modules/apivideo-auth')
      const pages = ['README.md']
      const broken = []
      let links = 0
      // From the README, every Markdown page it reaches by relative links: a missing target is a broken link.
      for (const page of pages) {
        for (const [, href] of readFileSync(join(installed, page), 'utf8').matchAll(/\]\(([^)\s]+)\)/g)) {
          const target = href.split('#')[0]
          if (!target || /^[a-z]+:/i.test(target)) continue
          links++
          const path = join(dirname(page), target)
          if (!existsSync(join(installed, path))) broken.push(`${page} -> ${target}`)
          else if (path.endsWith('.md') && !pages.includes(path)) pages.push(path)
        }
      }
      ok(links >= 15, `relative links found: ${links}`)
      deepStrictEqual(broken, [], 'relative links that do not resolve in node_modules/apivideo-auth')
    },
  )

  await check(
    'ESM import of the installed package (its CJS copy recognised by isApiVideoAuthError, a public video)',
    () => {
      copyFileSync(join(here, 'import.mjs'), join(project, 'import.mjs'))
      const out = JSON.parse(clean(node, ['import.mjs'], project))
      deepStrictEqual(out, {
        exports: EXPORTS,
        testing: ['WEBHOOK_EVENTS', 'createStandIn', 'deliverWebhook', 'signWebhook'],
        webhooks: ['verifyWebhook', 'webhookSecrets'],
        private: ['privateVideo'],
        token: true,
        requests: ['/auth/api-key', '/auth/api-key', '/videos', '/videos/{videoId}'],
        crossCopy: [true, false, 'INVALID_CREDENTIALS'],
        webhookError: [true, 'INVALID_SIGNATURE'],
        privateVideo: [true, null, true, 'ERR_INVALID_ARGUMENT'],
      })
    },
  )

  await check('CJS require of the installed package', () => {
    copyFileSync(join(here, 'require.cjs'), join(project, 'require.cjs'))
    const out = JSON.parse(clean(node, ['require.cjs'], project))
    deepStrictEqual(out, {
      exports: EXPORTS,
      testing: ['WEBHOOK_EVENTS', 'createStandIn', 'deliverWebhook', 'signWebhook'],
      webhooks: ['verifyWebhook', 'webhookSecrets'],
      private: ['privateVideo'],
      version: pkg.version,
      token: true,
      requests: ['/auth/api-key'],
    })
  })

  await check('publint --strict on the tarball', () => {
    const out = clean(bin('publint'), ['run', tarball, '--strict'])
    ok(/All good!/.test(out), out)
  })

  await check('attw on the tarball (every entry point, every resolution)', () => {
    clean(bin('attw'), [tarball, '--no-definitely-typed', '--format', 'ascii', '--no-emoji'])
  })

  await check('the type-test consumer uses every export of every entry point', () => {
    const consumer = readFileSync(join(here, 'consumer.ts'), 'utf8')
    const names = ['index.d.ts', 'private.d.ts', 'share.d.ts', 'testing.d.ts', 'webhooks.d.ts'].flatMap((f) =>
      declaredExports(join(project, 'node_modules/apivideo-auth/dist', f)),
    )
    ok(names.length > EXPORTS.length, `found ${names.length} exports`)
    const unused = names.filter((name) => !new RegExp(`\\b${name}\\b`).test(consumer))
    deepStrictEqual(unused, [], 'exports the consumer does not use (add them to tests/package/consumer.ts)')
  })

  for (const resolution of ['bundler', 'node16', 'nodenext']) {
    for (const lib of ['dom', 'node']) {
      const libraries = lib === 'dom' ? 'DOM lib' : 'no DOM lib, @types/node'
      await check(`tsc --noEmit: moduleResolution ${resolution}, ${libraries} (ESM .ts and CJS .cts)`, () => {
        copyFileSync(join(here, 'consumer.ts'), join(project, 'consumer.ts'))
        copyFileSync(join(here, 'consumer.ts'), join(project, 'consumer.cts'))
        writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig(resolution, lib), null, 2))
        clean(bin('tsc'), ['-p', 'tsconfig.json'], project)
      })
    }
  }

  await check('jsr.json: same version as package.json, exports pointing at the TypeScript sources', () => {
    const jsr = JSON.parse(readFileSync(join(root, 'jsr.json'), 'utf8'))
    ok(/^@[a-z0-9-]+\/[a-z0-9-]+$/.test(jsr.name), jsr.name)
    strictEqual(jsr.version, pkg.version)
    deepStrictEqual(jsr.exports, {
      '.': './src/index.ts',
      './share': './src/share.ts',
      './testing': './src/testing.ts',
      './webhooks': './src/webhooks.ts',
      './private': './src/private.ts',
    })
    for (const file of Object.values(jsr.exports)) ok(existsSync(join(root, file)), file)
  })
} finally {
  rmSync(temp, { recursive: true, force: true })
}

console.log(failed ? `${failed} package checks FAILED` : 'all package checks passed')
process.exitCode = failed ? 1 : 0
