import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ImageSettings } from '../src/config/index.js';
import { mediaBinaries } from '../src/media/binaries.js';
import { downloadImage, isPublicAddress } from '../src/media/image-download.js';
import { ClipflowError, FailureType } from '../src/shared/failures.js';
import { corruptPng, makeImage } from './support/images.js';

// A real 1x1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
/** Real 8x8 images of the other formats, made by ffmpeg in beforeAll. */
const SAMPLES = { jpeg: Buffer.alloc(0), gif: Buffer.alloc(0), webp: Buffer.alloc(0), bmp: Buffer.alloc(0) };
const SAMPLE_EXTENSIONS = { jpeg: 'jpg', gif: 'gif', webp: 'webp', bmp: 'bmp' } as const;

const MAX_BYTES = 1000;
const settings: ImageSettings = { allowPrivateHosts: true, maxBytes: MAX_BYTES, connectTimeoutMs: 2000, totalTimeoutMs: 5000 };
const strict: ImageSettings = { ...settings, allowPrivateHosts: false };

const hits = new Map<string, number>();
const hitCount = (route: string) => hits.get(route) ?? 0;

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  hits.set(url.pathname, hitCount(url.pathname) + 1);
  const chain = /^\/chain\/(\d+)$/.exec(url.pathname);
  if (chain) {
    const left = Number(chain[1]);
    res.writeHead(302, { location: left > 1 ? `/chain/${left - 1}` : '/png' }).end();
    return;
  }
  const sample = /^\/sample\/(\w+)$/.exec(url.pathname);
  if (sample) {
    // Deliberately labelled as text: the format must come from the bytes.
    res.writeHead(200, { 'content-type': 'text/plain' }).end(SAMPLES[sample[1] as keyof typeof SAMPLES]);
    return;
  }
  switch (url.pathname) {
    case '/png':
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length }).end(PNG);
      return;
    case '/corrupt-png': // PNG by its bytes, but nothing a decoder can read
      res.writeHead(200, { 'content-type': 'image/png' }).end(corruptPng());
      return;
    case '/html': // Content-Type claims an image; the bytes say otherwise.
      res.writeHead(200, { 'content-type': 'image/png' }).end('<!doctype html><html><body>not an image</body></html>');
      return;
    case '/empty':
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': 0 }).end();
      return;
    case '/big-declared':
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': MAX_BYTES + 1 });
      res.end(Buffer.concat([PNG, Buffer.alloc(MAX_BYTES + 1 - PNG.length)]));
      return;
    case '/endless': {
      // Chunked, no Content-Length, never ends: only the streaming cap can stop it before the timeout.
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(PNG);
      const timer = setInterval(() => res.write(Buffer.alloc(256)), 5);
      res.on('close', () => clearInterval(timer));
      return;
    }
    case '/slow': // headers and the first bytes, then nothing
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(PNG.subarray(0, 20));
      return;
    case '/hang': // not even headers
      return;
    case '/missing':
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    case '/redirect-to':
      res.writeHead(302, { location: url.searchParams.get('location') ?? '/' }).end();
      return;
    default:
      res.writeHead(500).end();
  }
});

let base = '';
let dir = '';

beforeAll(async () => {
  const samples = await mkdtemp(path.join(os.tmpdir(), 'clipflow-image-samples-'));
  for (const [format, ext] of Object.entries(SAMPLE_EXTENSIONS)) {
    await makeImage(mediaBinaries().ffmpeg, path.join(samples, `sample.${ext}`));
    SAMPLES[format as keyof typeof SAMPLES] = await readFile(path.join(samples, `sample.${ext}`));
  }
  await rm(samples, { recursive: true, force: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
});

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'clipflow-image-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every file under dir (directories left out). */
async function filesIn(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? filesIn(path.join(root, e.name)) : [path.join(root, e.name)])));
  return nested.flat();
}

/** Awaits the rejection, checks it is ImageRejected, that nothing was left on disk, and returns it. */
async function rejection(promise: Promise<unknown>): Promise<ClipflowError> {
  const err = await promise.then(
    () => {
      throw new Error('expected downloadImage to reject');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ClipflowError);
  expect((err as ClipflowError).type).toBe(FailureType.ImageRejected);
  expect(await filesIn(dir)).toEqual([]);
  return err as ClipflowError;
}

const dest = () => path.join(dir, 'nested', 'scene');

describe('downloadImage', () => {
  it('downloads a PNG into a new directory, atomically, with the right bytes and format', async () => {
    const image = await downloadImage(`${base}/png`, dest(), settings);
    expect(image).toEqual({ path: `${dest()}.png`, sizeBytes: PNG.length, format: 'png' });
    expect(await readFile(image.path)).toEqual(PNG);
    expect(await filesIn(dir)).toEqual([image.path]); // no temp file left behind
  });

  it.each([
    ['jpeg', 'jpg'],
    ['gif', 'gif'],
    ['webp', 'webp'],
    ['bmp', 'bmp'],
  ] as const)('recognises %s by its content, whatever the Content-Type', async (format, ext) => {
    const image = await downloadImage(`${base}/sample/${format}`, dest(), settings);
    expect(image.format).toBe(format);
    expect(image.path).toBe(`${dest()}.${ext}`);
    expect(await readFile(image.path)).toEqual(SAMPLES[format]);
  });

  it('refuses a body that is not an image even when Content-Type says image/png', async () => {
    const err = await rejection(downloadImage(`${base}/html`, dest(), settings));
    expect(err.message).toContain(`${base}/html`);
    expect(err.message).toMatch(/not an image/);
  });

  it('refuses a 100-byte body with a PNG signature that does not decode, quickly and leaving nothing', async () => {
    const began = Date.now();
    const err = await rejection(downloadImage(`${base}/corrupt-png`, dest(), settings));
    expect(err.message).toBe(`image ${base}/corrupt-png: png data could not be decoded: inflate returned error -3`);
    expect(Date.now() - began).toBeLessThan(5_000);
  });

  it('hands the file to the decoder under the signal of the download', async () => {
    const seen: { format: string; bytes: Buffer; signal?: AbortSignal }[] = [];
    const decode = async (file: string, format: string, signal?: AbortSignal) => {
      seen.push({ format, bytes: await readFile(file), ...(signal ? { signal } : {}) });
      return { width: 1, height: 1 };
    };
    await downloadImage(`${base}/png`, dest(), settings, { decode });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.format).toBe('png');
    expect(seen[0]?.bytes).toEqual(PNG);
    expect(seen[0]?.signal).toBeInstanceOf(AbortSignal);
  });

  it('gives up on a decoder that outlasts the total timeout, leaving nothing', async () => {
    const decode = (_file: string, _format: string, signal?: AbortSignal) =>
      new Promise<never>((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason)));
    const err = await rejection(downloadImage(`${base}/png`, dest(), { ...settings, totalTimeoutMs: 300 }, { decode }));
    expect(err.message).toContain('timed out after 300 ms');
  });

  it('refuses an empty body', async () => {
    const err = await rejection(downloadImage(`${base}/empty`, dest(), settings));
    expect(err.message).toMatch(/not an image: the body is empty/);
  });

  it('refuses a Content-Length over the cap before reading the body', async () => {
    const err = await rejection(downloadImage(`${base}/big-declared`, dest(), settings));
    expect(err.message).toContain(`Content-Length ${MAX_BYTES + 1} bytes exceeds the limit of ${MAX_BYTES} bytes`);
  });

  it('stops a chunked body without Content-Length as soon as it passes the cap', async () => {
    const started = Date.now();
    const err = await rejection(downloadImage(`${base}/endless`, dest(), settings));
    expect(err.message).toContain(`body exceeds the limit of ${MAX_BYTES} bytes`);
    expect(Date.now() - started).toBeLessThan(settings.totalTimeoutMs);
  });

  it.each(['/slow', '/hang'])('gives up on %s after the total timeout', async (route) => {
    const started = Date.now();
    const err = await rejection(downloadImage(`${base}${route}`, dest(), { ...settings, totalTimeoutMs: 300 }));
    expect(err.message).toContain(`${base}${route}`);
    expect(err.message).toContain('timed out after 300 ms');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const err = await rejection(downloadImage(`${base}/slow`, dest(), settings, { signal: controller.signal }));
    expect(err.message).toContain('download cancelled');
  });

  it('refuses a non-2xx status, naming it, without leaking the query string', async () => {
    const err = await rejection(downloadImage(`${base}/missing?sig=topsecret`, dest(), settings));
    expect(err.message).toContain('HTTP 404');
    expect(err.message).toContain(`${base}/missing`);
    expect(err.message).not.toContain('topsecret');
  });

  it.each(['ftp://127.0.0.1/image.png', 'file:///etc/passwd', 'data:image/png;base64,iVBORw0KGgo='])(
    'refuses the scheme of %s',
    async (url) => {
      const err = await rejection(downloadImage(url, dest(), settings));
      expect(err.message).toMatch(/scheme \w+: is not allowed/);
    },
  );

  it('refuses a URL with credentials and keeps them out of the message', async () => {
    const before = hitCount('/png');
    const url = `${base.replace('//', '//user:s3cret@')}/png`;
    const err = await rejection(downloadImage(url, dest(), settings));
    expect(err.message).toContain('credentials');
    expect(err.message).not.toContain('s3cret');
    expect(hitCount('/png')).toBe(before);
  });

  it('refuses an invalid URL', async () => {
    const err = await rejection(downloadImage('not a url', dest(), settings));
    expect(err.message).toContain('not a valid URL');
  });
});

describe('downloadImage address checks', () => {
  it.each([
    ['an IPv4 loopback literal', () => `${base}/png`],
    ['an IPv6 loopback literal', () => 'http://[::1]:9/png'],
    ['localhost, through the system resolver', () => `${base.replace('127.0.0.1', 'localhost')}/png`],
  ])('refuses %s when private hosts are not allowed', async (_name, url) => {
    const before = hitCount('/png');
    const err = await rejection(downloadImage(url(), dest(), strict));
    expect(err.message).toMatch(/is not a public address/);
    expect(hitCount('/png')).toBe(before);
  });

  it('refuses a public-looking hostname that resolves to a private address', async () => {
    const lookup = vi.fn(async () => [{ address: '10.0.0.5', family: 4 as const }]);
    const err = await rejection(downloadImage('https://images.example.com/a.png', dest(), strict, { lookup }));
    expect(lookup).toHaveBeenCalledWith('images.example.com');
    expect(err.message).toContain('https://images.example.com/a.png');
    expect(err.message).toContain('host images.example.com resolves to 10.0.0.5, which is not a public address');
  });

  it('refuses a hostname when any one of its addresses is private', async () => {
    const lookup = async () => [
      { address: '8.8.8.8', family: 4 as const },
      { address: 'fd00::1', family: 6 as const },
    ];
    const err = await rejection(downloadImage('https://images.example.com/a.png', dest(), strict, { lookup }));
    expect(err.message).toContain('resolves to fd00::1');
  });

  it('reports a name that does not resolve', async () => {
    const lookup = async () => {
      throw new Error('getaddrinfo ENOTFOUND nowhere.example');
    };
    const err = await rejection(downloadImage('https://nowhere.example/a.png', dest(), strict, { lookup }));
    expect(err.message).toContain('could not resolve host nowhere.example');
  });

  it('connects to the address it vetted instead of resolving the name again', async () => {
    const port = (server.address() as AddressInfo).port;
    const lookup = vi.fn(async () => [{ address: '127.0.0.1', family: 4 as const }]);
    // `images.invalid` cannot resolve anywhere, so success proves the vetted address was used.
    const image = await downloadImage(`http://images.invalid:${port}/png`, dest(), settings, { lookup });
    expect(image.format).toBe('png');
    expect(lookup).toHaveBeenCalledTimes(1);
    expect(lookup).toHaveBeenCalledWith('images.invalid');
  });
});

describe('downloadImage redirects', () => {
  it('follows up to three redirects', async () => {
    const image = await downloadImage(`${base}/chain/3`, dest(), settings);
    expect(image.format).toBe('png');
    expect(await readFile(image.path)).toEqual(PNG);
  });

  it('refuses a fourth redirect', async () => {
    const err = await rejection(downloadImage(`${base}/chain/4`, dest(), settings));
    expect(err.message).toContain('too many redirects (more than 3)');
  });

  it('checks the scheme of a redirect target', async () => {
    const location = encodeURIComponent('file:///etc/passwd');
    const err = await rejection(downloadImage(`${base}/redirect-to?location=${location}`, dest(), settings));
    expect(err.message).toContain('redirect to file:///etc/passwd');
    expect(err.message).toContain('scheme file: is not allowed');
  });

  it.each([
    ['an IP literal', '127.0.0.1', 'host 127.0.0.1 is not a public address'],
    ['a hostname resolving to', 'internal.example', 'host internal.example resolves to 10.0.0.5'],
  ])('vets every hop: refuses a redirect to %s private address', async (_name, host, problem) => {
    const port = (server.address() as AddressInfo).port;
    const lookup = async () => [{ address: '10.0.0.5', family: 4 as const }];
    // The test server is on loopback, so the first hop must be allowed to reach it; from the moment
    // it has answered with the redirect, private hosts are refused, as for a public first hop.
    const redirectsBefore = hitCount('/redirect-to');
    const pngBefore = hitCount('/png');
    const policy: ImageSettings = {
      ...settings,
      get allowPrivateHosts() {
        return hitCount('/redirect-to') === redirectsBefore;
      },
    };
    const location = encodeURIComponent(`http://${host}:${port}/png`);
    const err = await rejection(downloadImage(`${base}/redirect-to?location=${location}`, dest(), policy, { lookup }));
    expect(err.message).toContain(`(redirected to http://${host}:${port}/png)`);
    expect(err.message).toContain(problem);
    expect(hitCount('/redirect-to')).toBe(redirectsBefore + 1);
    expect(hitCount('/png')).toBe(pngBefore);
  });
});

describe('isPublicAddress', () => {
  it.each([
    ['127.0.0.1', false],
    ['127.255.0.9', false],
    ['10.0.0.5', false],
    ['172.16.0.1', false],
    ['172.31.255.255', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['224.0.0.1', false],
    ['255.255.255.255', false],
    ['::', false],
    ['::1', false],
    ['fe80::1', false],
    ['fe80::1%eth0', false],
    ['fc00::1', false],
    ['fd12:3456::1', false],
    ['ff02::1', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:7f00:1', false],
    ['::ffff:10.1.2.3', false],
    ['64:ff9b::a00:5', false],
    ['64:ff9b:1::a00:5', false], // local-use NAT64
    ['::a00:5', false], // IPv4-compatible (deprecated)
    ['::8.8.8.8', false],
    ['fec0::1', false], // site-local (deprecated)
    ['2001:db8::1', false],
    // 6to4 (2002:AABB:CCDD::/48) reaches the IPv4 host AA.BB.CC.DD.
    ['2002:7f00:1::1', false],
    ['2002:a00:5::1', false],
    ['2002:a9fe:a9fe::', false],
    ['2002:c0a8:101:1::1', false],
    ['2002:808:808::1', true],
    // Teredo (2001:0::/32): server IPv4, flags, port, then the client's IPv4 inverted.
    ['2001:0:808:808:0:0:f5ff:fffa', false], // client 10.0.0.5
    ['2001:0:808:808:0:0:80ff:fffe', false], // client 127.0.0.1
    ['2001:0:a00:5:0:0:fefe:fefe', false], // server 10.0.0.5
    ['2001::1', false],
    ['2001:0:808:808:0:0:fefe:fefe', true], // server 8.8.8.8, client 1.1.1.1
    ['not-an-address', false],
    ['8.8.8.8', true],
    ['1.1.1.1', true],
    ['172.32.0.1', true],
    ['100.128.0.1', true],
    ['::ffff:8.8.8.8', true],
    ['2606:4700::1111', true],
    ['2001:4860:4860::8888', true],
  ])('%s -> %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});
